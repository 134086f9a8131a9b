package audit

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/steward-dev/steward/internal/store"
)

// deferredStore is a chain store that commits at once and makes records
// durable only in the flushes it returns: a flush waits for gate when gate
// is set, fails with flushErr when that is set, and else marks every
// record up to its commit's last one durable.
type deferredStore struct {
	mu       sync.Mutex
	head     store.AuditHead
	commits  int
	records  int64
	durable  int64
	flushErr error
	gate     chan struct{}
}

func (s *deferredStore) AppendAudit(context.Context, store.Seal) error {
	return errors.New("AppendAudit called on a store that defers its flushes")
}

func (s *deferredStore) AppendAuditDeferred(_ context.Context, seal store.Seal) (func() error, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.head.Hash == nil {
		s.head.Hash = Genesis
	}
	recs, cp, err := seal(s.head)
	if err != nil {
		return nil, err
	}
	for i, r := range recs {
		prev := s.head.Hash
		if i > 0 {
			prev = recs[i-1].Hash
		}
		if r.Seq != s.head.Seq+int64(i)+1 || string(Link(prev, r.Seq, r.Body)) != string(r.Hash) {
			return nil, fmt.Errorf("record %d does not chain", r.Seq)
		}
	}
	last := recs[len(recs)-1]
	s.head.Seq, s.head.Hash = last.Seq, last.Hash
	if cp != nil {
		s.head.Checkpoint = *cp
	}
	s.commits++
	s.records += int64(len(recs))
	upTo := last.Seq
	gate := s.gate
	return func() error {
		if gate != nil {
			<-gate
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.flushErr != nil {
			return s.flushErr
		}
		s.durable = max(s.durable, upTo)
		return nil
	}, nil
}

func (s *deferredStore) state() (commits int, records, durable int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.commits, s.records, s.durable
}

func newDeferredLog(t *testing.T, s *deferredStore) *Log {
	t.Helper()
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	l, err := New(Config{Store: s, Signer: key, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func tokenEvent(i int) Event {
	return Event{Actor: Actor{Kind: ActorWorkload, ID: fmt.Sprintf("w%d", i)}, Action: "token", Resource: "erp", Outcome: OutcomeSuccess}
}

// waitFor polls cond until it holds, failing the test after a minute.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestDeferredAppendWaitsForFlush: with a store that commits before it
// flushes, an append is committed at once but returns only after the
// flush that covers it.
func TestDeferredAppendWaitsForFlush(t *testing.T) {
	s := &deferredStore{gate: make(chan struct{})}
	l := newDeferredLog(t, s)
	defer l.Close()

	type result struct {
		rec Record
		err error
	}
	done := make(chan result, 1)
	go func() {
		rec, err := l.Append(context.Background(), tokenEvent(0))
		done <- result{rec, err}
	}()
	waitFor(t, "the commit", func() bool { c, _, _ := s.state(); return c == 1 })
	select {
	case r := <-done:
		t.Fatalf("Append returned before its flush: %+v", r)
	default:
	}
	close(s.gate)
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if _, _, durable := s.state(); r.rec.Seq != 1 || durable != 1 {
		t.Fatalf("record %d returned with records up to %d durable, want 1 and 1", r.rec.Seq, durable)
	}
}

// TestDeferredConcurrentAppends: under concurrent appends every record
// returned is already durable, and the chain has each of them once.
func TestDeferredConcurrentAppends(t *testing.T) {
	s := &deferredStore{}
	l := newDeferredLog(t, s)
	defer l.Close()
	const workers, each = 16, 50
	seen := make(map[int64]bool)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for range each {
				rec, err := l.Append(context.Background(), tokenEvent(w))
				if err != nil {
					t.Error(err)
					return
				}
				_, _, durable := s.state()
				mu.Lock()
				if rec.Seq > durable {
					t.Errorf("record %d returned while only %d are durable", rec.Seq, durable)
				}
				if seen[rec.Seq] {
					t.Errorf("record %d returned twice", rec.Seq)
				}
				seen[rec.Seq] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if commits, records, durable := s.state(); records != workers*each || durable != records || len(seen) != workers*each {
		t.Fatalf("%d records in %d commits, %d durable, %d returned; want %d of each", records, commits, durable, len(seen), workers*each)
	}
}

// TestDeferredFlushFailureIsFinal: a failed flush fails its appends, and
// nothing more is committed afterwards, even once the disk would work
// again, since what was committed since the last good flush may be lost.
func TestDeferredFlushFailureIsFinal(t *testing.T) {
	s := &deferredStore{flushErr: errors.New("input/output error")}
	l := newDeferredLog(t, s)
	defer l.Close()
	if err := l.Err(); err != nil {
		t.Fatalf("Err before any append = %v", err)
	}
	_, err := l.Append(context.Background(), tokenEvent(0))
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "input/output error") {
		t.Fatalf("Append after a failed flush = %v, want ErrUnavailable naming the failure", err)
	}
	if err := l.Err(); err == nil || !strings.Contains(err.Error(), "input/output error") {
		t.Fatalf("Err after a failed flush = %v, want the failure", err)
	}
	s.mu.Lock()
	s.flushErr = nil
	s.mu.Unlock()
	_, err = l.Append(context.Background(), tokenEvent(1))
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "no more records") {
		t.Fatalf("Append after the disk recovered = %v, want the log to stay closed to records", err)
	}
	if commits, _, durable := s.state(); commits != 1 || durable != 0 {
		t.Fatalf("%d commits, %d durable records after the failure; want 1 and 0", commits, durable)
	}
}

// TestDeferredCloseFlushesQueued: Close waits for every queued record to
// be committed and flushed.
func TestDeferredCloseFlushesQueued(t *testing.T) {
	s := &deferredStore{gate: make(chan struct{})}
	l := newDeferredLog(t, s)
	const n = 10
	errs := make(chan error, n)
	for i := range n {
		go func() {
			_, err := l.Append(context.Background(), tokenEvent(i))
			errs <- err
		}()
	}
	waitFor(t, "every append to be queued or committed", func() bool {
		_, records, _ := s.state()
		return records+int64(len(l.reqs)) == n
	})
	closed := make(chan error)
	go func() { closed <- l.Close() }()
	close(s.gate)
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if _, records, durable := s.state(); records != n || durable != n {
		t.Fatalf("after Close: %d records, %d durable; want %d", records, durable, n)
	}
}
