package audit_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/steward-dev/steward/internal/audit"
	"github.com/steward-dev/steward/internal/store"
	"github.com/steward-dev/steward/internal/store/storetest"
)

// backend is one store under test plus raw SQL access for tampering.
type backend struct {
	name string
	open storetest.Opener
	raw  func(t *testing.T) *sql.DB
}

func backends(t *testing.T) []backend {
	open, dir := storetest.SQLite(t)
	bs := []backend{{"sqlite", open, func(t *testing.T) *sql.DB { return rawDB(t, "sqlite", filepath.Join(dir, store.SQLiteFile)) }}}
	if storetest.PostgresAvailable(t) {
		dsn := storetest.PostgresDSN(t)
		bs = append(bs, backend{"postgres", func() store.Store {
			s, err := store.OpenPostgres(context.Background(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}, func(t *testing.T) *sql.DB { return rawDB(t, "pgx", dsn) }})
	}
	return bs
}

func rawDB(t *testing.T, driver, dsn string) *sql.DB {
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func newKey(t testing.TB) ed25519.PrivateKey {
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newLog(t testing.TB, s audit.Appender, key ed25519.PrivateKey, every int64) *audit.Log {
	t.Helper()
	// A generous timeout: these tests are about the chain, and a busy
	// machine (or the race detector) must not make them fail closed.
	l, err := audit.New(audit.Config{Store: s, Signer: key, CheckpointEvery: every, CheckpointInterval: time.Hour, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func event(i int) audit.Event {
	return audit.Event{
		Actor:    audit.Actor{Kind: audit.ActorWorkload, ID: "spiffe://acme.org/billing"},
		Action:   "secret.read",
		Resource: fmt.Sprintf("secret/app-%d", i%7),
		Outcome:  audit.OutcomeSuccess,
		Details:  map[string]string{"version": fmt.Sprint(i % 3)},
	}
}

func appendN(t testing.TB, l *audit.Log, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		if _, err := l.Append(context.Background(), event(i)); err != nil {
			t.Fatal(err)
		}
	}
}

func TestAppendVerifyAndCheckpoints(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			s := b.open()
			key := newKey(t)
			l := newLog(t, s, key, 10)
			rec, err := l.Append(context.Background(), event(0))
			if err != nil || rec.Seq != 1 {
				t.Fatalf("first Append = %+v, %v", rec, err)
			}
			appendN(t, l, 34)
			rep, err := audit.Verify(context.Background(), s, key.Public().(ed25519.PublicKey), nil)
			if err != nil {
				t.Fatal(err)
			}
			if !rep.OK() || rep.Records != 35 || rep.Head != 35 {
				t.Fatalf("Verify = %+v; want 35 good records", rep)
			}
			// The first append checkpoints (none before), then every 10.
			cps, _ := s.Checkpoints(context.Background())
			var seqs []int64
			for _, c := range cps {
				seqs = append(seqs, c.Seq)
			}
			if fmt.Sprint(seqs) != "[1 10 20 30]" || rep.Checkpoints != 4 || rep.LastCheckpoint != 30 {
				t.Fatalf("checkpoints at %v (report %+v), want [1 10 20 30]", seqs, rep)
			}
			// Another key does not verify the checkpoints.
			rep, _ = audit.Verify(context.Background(), s, newKey(t).Public().(ed25519.PublicKey), nil)
			if rep.OK() || !strings.Contains(rep.Problem, "signed by key") {
				t.Fatalf("Verify with the wrong public key = %+v", rep)
			}
		})
	}
}

func TestCheckpointInterval(t *testing.T) {
	open, _ := storetest.SQLite(t)
	s := open()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	l, err := audit.New(audit.Config{Store: s, Signer: newKey(t), CheckpointEvery: 1000, CheckpointInterval: 30 * time.Second, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	appendN(t, l, 3) // checkpoint at 1 (first), none at 2, 3
	mu.Lock()
	now = now.Add(31 * time.Second)
	mu.Unlock()
	appendN(t, l, 2) // checkpoint at 4, none at 5
	cps, _ := s.Checkpoints(context.Background())
	if len(cps) != 2 || cps[0].Seq != 1 || cps[1].Seq != 4 {
		t.Fatalf("checkpoints = %+v, want at 1 and 4", cps)
	}
}

// blocking is an Appender that never finishes, or fails at once.
type blocking struct{ err error }

func (b blocking) AppendAudit(ctx context.Context, _ store.Seal) error {
	if b.err != nil {
		return b.err
	}
	<-ctx.Done()
	return ctx.Err()
}

func TestFailClosed(t *testing.T) {
	for _, tc := range []struct {
		name  string
		store audit.Appender
	}{
		{"hangs", blocking{}},
		{"fails", blocking{err: errors.New("disk full")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := audit.New(audit.Config{Store: tc.store, Signer: newKey(t), Timeout: 50 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			rec, err := l.Append(context.Background(), event(1))
			if !errors.Is(err, audit.ErrUnavailable) || rec.Seq != 0 {
				t.Fatalf("Append = %+v, %v; want nothing and ErrUnavailable", rec, err)
			}
		})
	}
	l, _ := audit.New(audit.Config{Store: blocking{}, Signer: newKey(t)})
	if _, err := l.Append(context.Background(), audit.Event{Action: "x", Outcome: "success"}); err == nil {
		t.Fatal("Append accepted an event without an actor")
	}
	l.Close()
	if _, err := l.Append(context.Background(), event(1)); !errors.Is(err, audit.ErrUnavailable) {
		t.Fatalf("Append after Close: %v", err)
	}
}

// TestConcurrentWriters runs several logs (replicas) on one database, each
// with several goroutines appending; the result must be one valid chain.
func TestConcurrentWriters(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			const replicas, goroutines, each = 3, 8, 40
			key := newKey(t)
			var wg sync.WaitGroup
			errs := make(chan error, replicas*goroutines)
			seqs := make(chan int64, replicas*goroutines*each)
			for r := 0; r < replicas; r++ {
				s := b.open()
				l := newLog(t, s, key, 50)
				for g := 0; g < goroutines; g++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for i := 0; i < each; i++ {
							rec, err := l.Append(context.Background(), event(i))
							if err != nil {
								errs <- err
								return
							}
							seqs <- rec.Seq
						}
					}()
				}
			}
			wg.Wait()
			close(errs)
			close(seqs)
			for err := range errs {
				t.Fatal(err)
			}
			seen := map[int64]bool{}
			for s := range seqs {
				if seen[s] {
					t.Fatalf("sequence %d acknowledged twice", s)
				}
				seen[s] = true
			}
			rep, err := audit.Verify(context.Background(), b.open(), key.Public().(ed25519.PublicKey), nil)
			if err != nil {
				t.Fatal(err)
			}
			if !rep.OK() || rep.Records != replicas*goroutines*each {
				t.Fatalf("Verify = %+v; want %d good records", rep, replicas*goroutines*each)
			}
		})
	}
}

func TestSinks(t *testing.T) {
	open, _ := storetest.SQLite(t)
	s := open()
	key := newKey(t)
	var sink bytes.Buffer
	l, err := audit.New(audit.Config{Store: s, Signer: key, Sinks: []io.Writer{&sink}})
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, l, 5)
	l.Close()
	// The sink's lines are export record lines: with a header they verify.
	var buf bytes.Buffer
	if err := audit.Export(context.Background(), s, key.Public().(ed25519.PublicKey), &buf, true); err != nil {
		t.Fatal(err)
	}
	header, _, _ := strings.Cut(buf.String(), "\n")
	exp, err := audit.ParseExport(strings.NewReader(header+"\n"+sink.String()), "sink")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := audit.Verify(context.Background(), exp, key.Public().(ed25519.PublicKey), nil)
	if err != nil || !rep.OK() || rep.Records != 5 {
		t.Fatalf("sink verify = %+v, %v", rep, err)
	}
	if !strings.Contains(sink.String(), `"action":"secret.read"`) {
		t.Fatalf("sink lines lack the event: %s", sink.String())
	}
}

func TestTail(t *testing.T) {
	open, _ := storetest.SQLite(t)
	s := open()
	l := newLog(t, s, newKey(t), 10)
	appendN(t, l, 12)
	recs, err := audit.Tail(context.Background(), s, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 || recs[0].Seq != 10 || recs[2].Seq != 12 || recs[2].Action != "secret.read" {
		t.Fatalf("Tail = %+v", recs)
	}
	if recs, _ := audit.Tail(context.Background(), s, 50); len(recs) != 12 || recs[0].Seq != 1 {
		t.Fatalf("Tail beyond the log = %d records", len(recs))
	}
}
