package audit

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/steward-dev/steward/internal/store"
)

func TestHoldFor(t *testing.T) {
	const ms = time.Millisecond
	for _, tc := range []struct {
		lastSize                int
		lastTook, prevTook, max time.Duration
		want                    time.Duration
		why                     string
	}{
		{0, 0, 0, DefaultMaxDelay, 0, "first commit"},
		{1, 5 * ms, 5 * ms, DefaultMaxDelay, 0, "a lone append is not held"},
		{2, ms / 2, ms / 2, DefaultMaxDelay, ms / 2, "as long as the last commits took"},
		{2, ms / 2, ms, DefaultMaxDelay, ms / 2, "a faster last commit shortens the hold at once"},
		{9, 4 * ms, ms / 4, DefaultMaxDelay, ms / 4, "one slow commit does not lengthen it"},
		{9, 4 * ms, 3 * ms, DefaultMaxDelay, DefaultMaxDelay, "two slow ones do, up to MaxDelay"},
		{64, 30 * ms, 30 * ms, DefaultMaxDelay, DefaultMaxDelay, "at most MaxDelay"},
		{64, 30 * ms, 30 * ms, -1, 0, "holding disabled"},
	} {
		if got := holdFor(tc.lastSize, tc.lastTook, tc.prevTook, tc.max); got != tc.want {
			t.Errorf("%s: holdFor(%d, %s, %s, %s) = %s, want %s", tc.why, tc.lastSize, tc.lastTook, tc.prevTook, tc.max, got, tc.want)
		}
	}
}

// slowStore is a chain store whose commits take delay each and which
// remembers the size of every commit.
type slowStore struct {
	mu    sync.Mutex
	delay time.Duration
	head  store.AuditHead
	sizes []int
}

func (s *slowStore) AppendAudit(_ context.Context, seal store.Seal) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	time.Sleep(s.delay)
	if s.head.Hash == nil {
		s.head.Hash = Genesis
	}
	recs, _, err := seal(s.head)
	if err != nil || len(recs) == 0 {
		return err
	}
	last := recs[len(recs)-1]
	s.head.Seq, s.head.Hash = last.Seq, last.Hash
	s.sizes = append(s.sizes, len(recs))
	return nil
}

func (s *slowStore) seq() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.head.Seq
}

func (s *slowStore) commits() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int(nil), s.sizes...)
}

// TestGroupCommitHolds: after commits of several records that took a
// while, the writer holds the next commit open for as long, so appends
// arriving one after another within that time share one commit; every
// append still returns only once its record is committed.
func TestGroupCommitHolds(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	s := &slowStore{delay: 300 * time.Millisecond}
	l, err := New(Config{Store: s, Signer: key, Timeout: time.Minute, MaxDelay: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ev := func(i int) Event {
		return Event{Actor: Actor{Kind: ActorWorkload, ID: "w"}, Action: "broker.token", Resource: fmt.Sprint(i), Outcome: OutcomeSuccess}
	}
	appendAll := func(n int, gap time.Duration) []Record {
		t.Helper()
		recs := make([]Record, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { recs[i], errs[i] = l.Append(context.Background(), ev(i)) })
			time.Sleep(gap)
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		return recs
	}
	// A lone append, then a burst queued behind it: the burst is one
	// commit because it waited for the first.
	appendAll(1, 0)
	appendAll(6, 0)
	// Now a commit of several records took 300 ms: four appends 20 ms
	// apart are held for one commit.
	recs := appendAll(4, 20*time.Millisecond)
	sizes := s.commits()
	if last := sizes[len(sizes)-1]; last != 4 {
		t.Fatalf("commit sizes %v: the four staggered appends were not held for one commit", sizes)
	}
	seen := map[int64]bool{}
	for _, r := range recs {
		if r.Seq == 0 || seen[r.Seq] {
			t.Fatalf("records %+v: a missing or repeated sequence number", recs)
		}
		seen[r.Seq] = true
	}
	if seq := s.seq(); seq != 11 {
		t.Fatalf("head at %d after 11 appends", seq)
	}
}

// TestCloseWhileHolding: Close during a hold commits the held records
// before it returns, and their appends succeed.
func TestCloseWhileHolding(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	s := &slowStore{delay: 500 * time.Millisecond}
	l, err := New(Config{Store: s, Signer: key, Timeout: time.Minute, MaxDelay: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	ev := Event{Actor: Actor{Kind: ActorWorkload, ID: "w"}, Action: "broker.token", Outcome: OutcomeSuccess}
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			if _, err := l.Append(context.Background(), ev); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait() // the last commit carried several records and took 500 ms: the next is held as long
	s.mu.Lock()
	s.delay = 0
	s.mu.Unlock()
	done := make(chan error, 1)
	go func() {
		_, err := l.Append(context.Background(), ev)
		done <- err
	}()
	time.Sleep(100 * time.Millisecond)
	l.Close()
	if err := <-done; err != nil {
		t.Fatalf("Append held at Close: %v", err)
	}
	if got := s.commits(); sum(got) != 4 {
		t.Fatalf("commits %v, want 4 records", got)
	}
}

func sum(xs []int) int {
	n := 0
	for _, x := range xs {
		n += x
	}
	return n
}
