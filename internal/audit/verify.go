package audit

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/steward-dev/steward/internal/store"
)

// Report is the outcome of Verify.
type Report struct {
	// Records is how many records were read and Bytes the size of their bodies.
	Records int64
	Bytes   int64
	// Head is the last sequence number that verified.
	Head int64
	// Checkpoints counts the source's checkpoints that verified, Trusted
	// the separately kept ones.
	Checkpoints int
	Trusted     int
	// LastCheckpoint is the highest verified checkpoint's sequence number.
	LastCheckpoint int64
	// FirstBad is the first sequence number that cannot be trusted (0 when
	// the log verified), and Problem says why.
	FirstBad int64
	Problem  string
}

// OK reports whether the log verified.
func (r Report) OK() bool { return r.FirstBad == 0 }

// errStop ends the record scan once a problem is found.
var errStop = errors.New("stop")

// chainReader is the optional fast path a Source may offer.
type chainReader interface {
	AuditChain(ctx context.Context, from int64, fn func(seq int64, body, hash []byte) error) error
}

// Verify recomputes the chain from the first record, checks every
// checkpoint's signature with pub and that it signs the chain's hash at its
// sequence number, and checks trusted (exported, kept elsewhere)
// checkpoints the same way; a trusted checkpoint beyond the end of the log
// means the tail was truncated. Problems go in the report; the error is
// for failures to read.
func Verify(ctx context.Context, src Source, pub ed25519.PublicKey, trusted []store.Checkpoint) (Report, error) {
	var rep Report
	cps, err := src.Checkpoints(ctx)
	if err != nil {
		return rep, err
	}
	type check struct {
		cp      store.Checkpoint
		trusted bool
	}
	at := map[int64][]check{}
	var all []check
	for _, c := range cps {
		all = append(all, check{c, false})
	}
	for _, c := range trusted {
		all = append(all, check{c, true})
	}
	for _, c := range all {
		if err := checkSignature(pub, c.cp); err != nil {
			rep.FirstBad, rep.Problem = max(c.cp.Seq, 1), describe(c.trusted, err.Error())
			return rep, nil
		}
		at[c.cp.Seq] = append(at[c.cp.Seq], c)
	}
	prev := append([]byte(nil), Genesis...)
	expected := int64(1)
	var lastGood int64
	h := sha256.New()
	sum := make([]byte, 0, sha256.Size)
	visit := func(seq int64, body, hash []byte) error {
		switch {
		case seq > expected:
			rep.FirstBad, rep.Problem = expected, fmt.Sprintf("record %d is missing (the next record is %d)", expected, seq)
			return errStop
		case seq < expected:
			rep.FirstBad, rep.Problem = seq, fmt.Sprintf("record %d appears again or out of order after record %d", seq, expected-1)
			return errStop
		}
		h.Reset()
		h.Write(prev)
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], uint64(seq))
		h.Write(b[:])
		h.Write(body)
		sum = h.Sum(sum[:0])
		if !bytes.Equal(sum, hash) {
			rep.FirstBad, rep.Problem = seq, fmt.Sprintf("record %d does not match its hash: it was edited, or records before it were removed or reordered", seq)
			return errStop
		}
		for _, c := range at[seq] {
			if !bytes.Equal(c.cp.Hash, sum) {
				rep.FirstBad = lastGood + 1
				rep.Problem = describe(c.trusted, fmt.Sprintf("checkpoint %d does not match the chain: records %d to %d were rewritten", seq, lastGood+1, seq))
				return errStop
			}
			if c.trusted {
				rep.Trusted++
			} else {
				rep.Checkpoints++
			}
			lastGood = seq
		}
		rep.Records++
		rep.Bytes += int64(len(body))
		rep.Head = seq
		prev = append(prev[:0], sum...)
		expected++
		return nil
	}
	if cr, ok := src.(chainReader); ok {
		err = cr.AuditChain(ctx, 1, visit)
	} else {
		err = src.AuditRecords(ctx, 1, func(r store.AuditRecord) error { return visit(r.Seq, r.Body, r.Hash) })
	}
	if err != nil && !errors.Is(err, errStop) {
		return rep, err
	}
	rep.LastCheckpoint = lastGood
	if rep.FirstBad != 0 {
		return rep, nil
	}
	for _, c := range all {
		if c.cp.Seq > rep.Head {
			rep.FirstBad = rep.Head + 1
			rep.Problem = describe(c.trusted, fmt.Sprintf("the log ends at record %d but checkpoint %d covers up to %d: the tail was truncated", rep.Head, c.cp.Seq, c.cp.Seq))
			return rep, nil
		}
	}
	return rep, nil
}

func describe(trusted bool, msg string) string {
	if trusted {
		return "exported " + msg
	}
	return msg
}

// Tail returns the last n records, decoded.
func Tail(ctx context.Context, src Source, n int) ([]Record, error) {
	if n <= 0 {
		return nil, nil
	}
	ring := make([]store.AuditRecord, 0, n)
	next := 0
	err := src.AuditRecords(ctx, 1, func(r store.AuditRecord) error {
		if len(ring) < n {
			ring = append(ring, r)
		} else {
			ring[next] = r
			next = (next + 1) % n
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	ordered := append(ring[next:len(ring):len(ring)], ring[:next]...)
	out := make([]Record, 0, len(ordered))
	for _, r := range ordered {
		ev, err := ParseEvent(r.Body)
		if err != nil {
			return nil, fmt.Errorf("record %d: %w", r.Seq, err)
		}
		out = append(out, Record{Seq: r.Seq, Hash: r.Hash, Event: ev})
	}
	return out, nil
}
