package audit_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/steward-dev/steward/internal/audit"
	"github.com/steward-dev/steward/internal/store"
	"github.com/steward-dev/steward/internal/store/storetest"
)

// benchStores opens a fresh SQLite database and, when configured, a fresh
// PostgreSQL one.
func benchStores(b *testing.B) map[string]func() store.Store {
	open, _ := storetest.SQLite(b)
	m := map[string]func() store.Store{"sqlite": open}
	if storetest.PostgresAvailable(b) {
		m["postgres"] = storetest.Postgres(b)
	}
	return m
}

// BenchmarkAppend measures durable appends from 64 concurrent callers;
// each Append returns only once its record is committed (group commit).
func BenchmarkAppend(b *testing.B) {
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			open, ok := benchStores(b)[name]
			if !ok {
				b.Skip("not configured")
			}
			l := newLog(b, open(), newKey(b), audit.DefaultCheckpointEvery)
			ev := event(1)
			b.SetParallelism(128) // × GOMAXPROCS callers
			b.ResetTimer()
			cpu := cpuTime()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := l.Append(context.Background(), ev); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
			reportCPU(b, cpu)
		})
	}
}

// BenchmarkAppendHeld models the token broker on SQLite: 32 callers that
// each spend a fixed amount of CPU on a request (hashing 64 KiB), then wait
// for its durable record. It compares group commits that take only what is
// queued ("no-hold") with the default, which holds a commit open under
// concurrent load, each with SQLite's own sync at every commit
// ("sync-commit", the path of stores without deferred flushes) and with
// the sync overlapping the next commit ("flush-overlap", what the log does
// on SQLite). cpu-ns/op includes the modelled request work, the same in
// all, and records/commit shows the batching.
func BenchmarkAppendHeld(b *testing.B) {
	for _, bc := range []struct {
		name     string
		delay    time.Duration
		deferred bool
	}{
		{"sync-commit/no-hold", -1, false}, {"sync-commit/hold", 0, false},
		{"flush-overlap/no-hold", -1, true}, {"flush-overlap/hold", 0, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			open, _ := storetest.SQLite(b)
			db := open()
			s := &countingStore{Appender: db}
			var appender audit.Appender = s
			if bc.deferred {
				appender = deferredCountingStore{s, db.(audit.DeferredAppender)}
			}
			l, err := audit.New(audit.Config{Store: appender, Signer: newKey(b), CheckpointInterval: time.Hour, Timeout: time.Minute, MaxDelay: bc.delay})
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			ev := event(1)
			var next atomic.Int64
			b.ResetTimer()
			cpu := cpuTime()
			var wg sync.WaitGroup
			for range 32 {
				wg.Go(func() {
					for next.Add(1) <= int64(b.N) {
						work()
						if _, err := l.Append(context.Background(), ev); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			reportCPU(b, cpu)
			b.ReportMetric(float64(b.N)/float64(s.n.Load()), "records/commit")
		})
	}
}

// work is a fixed amount of CPU work: hashing 64 KiB, about 50 µs here.
func work() {
	var buf [64 << 10]byte
	sink = sha256.Sum256(buf[:])
}

var sink [32]byte

// countingStore counts commits.
type countingStore struct {
	audit.Appender
	n atomic.Int64
}

func (c *countingStore) AppendAudit(ctx context.Context, seal store.Seal) error {
	c.n.Add(1)
	return c.Appender.AppendAudit(ctx, seal)
}

// deferredCountingStore is a countingStore over a store that commits
// before it flushes.
type deferredCountingStore struct {
	*countingStore
	d audit.DeferredAppender
}

func (c deferredCountingStore) AppendAuditDeferred(ctx context.Context, seal store.Seal) (func() error, error) {
	c.n.Add(1)
	return c.d.AppendAuditDeferred(ctx, seal)
}

// BenchmarkVerify measures verifying a 50,000-record log read from the store.
func BenchmarkVerify(b *testing.B) {
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			open, ok := benchStores(b)[name]
			if !ok {
				b.Skip("not configured")
			}
			s := open()
			key := newKey(b)
			l := newLog(b, s, key, audit.DefaultCheckpointEvery)
			fill(b, l, 50_000)
			l.Close()
			pub := key.Public().(ed25519.PublicKey)
			b.ResetTimer()
			cpu := cpuTime()
			var rep audit.Report
			for b.Loop() {
				var err error
				rep, err = audit.Verify(context.Background(), s, pub, nil)
				if err != nil || !rep.OK() {
					b.Fatalf("%+v %v", rep, err)
				}
			}
			b.SetBytes(rep.Bytes)
			reportCPU(b, cpu)
		})
	}
}

// fill appends n records from many goroutines so group commit keeps it fast.
func fill(b *testing.B, l *audit.Log, n int) {
	const workers = 64
	done := make(chan error, workers)
	for w := 0; w < workers; w++ {
		go func() {
			for i := w; i < n; i += workers {
				if _, err := l.Append(context.Background(), event(i)); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for w := 0; w < workers; w++ {
		if err := <-done; err != nil {
			b.Fatal(err)
		}
	}
}

// cpuTime is the process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU adds CPU time per operation, which a busy shared machine
// distorts far less than wall time.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64((cpuTime()-start).Nanoseconds())/float64(b.N), "cpu-ns/op")
}

// BenchmarkVerifyExport measures `audit verify --file`: parsing an export
// of 50,000 records and verifying it. SetBytes is the export's size.
func BenchmarkVerifyExport(b *testing.B) {
	s := &memStore{}
	key := newKey(b)
	l := newLog(b, s, key, audit.DefaultCheckpointEvery)
	fill(b, l, 50_000)
	l.Close()
	var buf bytes.Buffer
	if err := audit.Export(context.Background(), s, key.Public().(ed25519.PublicKey), &buf, false); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(buf.Len()))
	cpu := cpuTime()
	for b.Loop() {
		exp, err := audit.ParseExport(bytes.NewReader(buf.Bytes()), "export.jsonl")
		if err != nil {
			b.Fatal(err)
		}
		if rep, err := audit.Verify(context.Background(), exp, exp.PublicKey, nil); err != nil || !rep.OK() {
			b.Fatalf("%+v %v", rep, err)
		}
	}
	reportCPU(b, cpu)
}
