// Package audit is Steward's tamper-evident audit log. Every governance
// action and every secret access appends a record whose SHA-256 hash covers
// the previous record's hash, its sequence number and its content, so an
// edit, deletion or reordering breaks the chain. Ed25519-signed checkpoints,
// written every N records or T seconds and exportable to somewhere else,
// make truncation of the tail detectable too.
//
// Appends are fail-closed: Append returns only once the record is durable in
// the store, and fails when that does not happen within a bounded time, so
// the operation that needed the record can fail without returning anything.
// Concurrent appends are group-committed in one transaction.
package audit

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"
)

// ErrUnavailable means a record could not be made durable in time; the
// operation that needed it must fail.
var ErrUnavailable = errors.New("audit log unavailable")

// Actor kinds.
const (
	ActorHuman    = "human"
	ActorWorkload = "workload"
	ActorSystem   = "system"
)

// Outcomes.
const (
	OutcomeSuccess = "success"
	OutcomeFailure = "failure"
	OutcomeDenied  = "denied"
)

// Actor is who acted: a person or a workload identity.
type Actor struct {
	Kind string `json:"kind"`
	ID   string `json:"id"`
}

// String renders the actor as kind:id.
func (a Actor) String() string { return a.Kind + ":" + a.ID }

// Event is what happened. Details must never hold a secret value; use a
// keyed fingerprint (an HMAC) for anything sensitive.
type Event struct {
	Time      time.Time         `json:"time"`
	Actor     Actor             `json:"actor"`
	Action    string            `json:"action"`
	Resource  string            `json:"resource"`
	Outcome   string            `json:"outcome"`
	RequestID string            `json:"requestId,omitempty"`
	Details   map[string]string `json:"details,omitempty"`
}

// Record is an event placed in the chain.
type Record struct {
	Seq  int64
	Hash []byte
	Event
}

// encode is the canonical body of an event: struct fields in declaration
// order, map keys sorted, time in UTC. The hash covers these exact bytes.
// They are what encoding/json writes for the Event (FuzzEncode holds the
// two to the same bytes), written without reflection: an append is on the
// path of every token request.
func encode(ev Event) ([]byte, error) {
	ev.Time = ev.Time.UTC()
	if y := ev.Time.Year(); y < 0 || y > 9999 {
		// Not RFC 3339: encoding/json says why.
		_, err := json.Marshal(ev)
		return nil, fmt.Errorf("encode audit event %s: %w", ev.Action, err)
	}
	size := 160 + len(ev.Actor.Kind) + len(ev.Actor.ID) + len(ev.Action) + len(ev.Resource) + len(ev.Outcome) + len(ev.RequestID)
	var stack [8]string
	keys := stack[:0]
	for k, v := range ev.Details {
		keys = append(keys, k)
		size += len(k) + len(v) + 6
	}
	slices.Sort(keys)
	b := make([]byte, 0, size)
	b = append(b, `{"time":"`...)
	b = ev.Time.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","actor":{"kind":`...)
	b = appendString(b, ev.Actor.Kind)
	b = append(b, `,"id":`...)
	b = appendString(b, ev.Actor.ID)
	b = append(b, `},"action":`...)
	b = appendString(b, ev.Action)
	b = append(b, `,"resource":`...)
	b = appendString(b, ev.Resource)
	b = append(b, `,"outcome":`...)
	b = appendString(b, ev.Outcome)
	if ev.RequestID != "" {
		b = append(b, `,"requestId":`...)
		b = appendString(b, ev.RequestID)
	}
	if len(ev.Details) > 0 {
		b = append(b, `,"details":{`...)
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, k)
			b = append(b, ':')
			b = appendString(b, ev.Details[k])
		}
		b = append(b, '}')
	}
	return append(b, '}'), nil
}

// appendString appends s as a JSON string the way encoding/json writes
// one: HTML-safe, invalid UTF-8 as U+FFFD, U+2028 and U+2029 escaped.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// ParseEvent parses a record's stored body.
func ParseEvent(body []byte) (Event, error) {
	var ev Event
	if err := json.Unmarshal(body, &ev); err != nil {
		return Event{}, fmt.Errorf("decode audit event: %w", err)
	}
	return ev, nil
}

// Link is the chain's hash function: SHA-256 over the previous hash, the
// big-endian sequence number and the canonical body.
func Link(prev []byte, seq int64, body []byte) []byte {
	h := sha256.New()
	h.Write(prev)
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(seq))
	h.Write(b[:])
	h.Write(body)
	return h.Sum(nil)
}

// Genesis is the hash the first record chains to.
var Genesis = make([]byte, sha256.Size)

func (ev Event) validate() error {
	switch {
	case ev.Action == "":
		return errors.New("audit event without an action")
	case ev.Actor.Kind == "" || ev.Actor.ID == "":
		return fmt.Errorf("audit event %s without an actor", ev.Action)
	case ev.Outcome == "":
		return fmt.Errorf("audit event %s without an outcome", ev.Action)
	}
	return nil
}
