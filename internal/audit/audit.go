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
	"time"
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
func encode(ev Event) ([]byte, error) {
	ev.Time = ev.Time.UTC()
	b, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("encode audit event %s: %w", ev.Action, err)
	}
	return b, nil
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
