package secrets_test

import (
	"context"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/steward-dev/steward/internal/secrets"
	"github.com/steward-dev/steward/internal/store"
	"github.com/steward-dev/steward/internal/store/storetest"
)

// BenchmarkRead measures Read of the active version (fetch, unwrap the
// data key, decrypt) from 8 goroutines. "audited" includes making the
// read's audit record durable first, as every read does; "decrypt-only"
// replaces the audit log with one that keeps nothing, to show the store and
// crypto share of the cost.
func BenchmarkRead(b *testing.B) {
	for _, backend := range []string{"sqlite", "postgres"} {
		for _, mode := range []string{"audited", "decrypt-only"} {
			b.Run(backend+"/"+mode, func(b *testing.B) {
				var db store.Store
				switch backend {
				case "sqlite":
					open, _ := storetest.SQLite(b)
					db = open()
				default:
					if !storetest.PostgresAvailable(b) {
						b.Skip("not configured")
					}
					db = storetest.Postgres(b)()
				}
				e := newEnv(b, db, keyring(b, newKEK("k1")))
				s := e.s
				if mode == "decrypt-only" {
					var err error
					if s, err = secrets.New(context.Background(), secrets.Config{DB: db, Keys: e.keys, Audit: discard{}}); err != nil {
						b.Fatal(err)
					}
				}
				if _, err := s.Put(context.Background(), ana, "billing", bundle(knownSecret), 0, 0); err != nil {
					b.Fatal(err)
				}
				b.SetParallelism(8 / runtime.GOMAXPROCS(0))
				b.ResetTimer()
				cpu := cpuTime()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, _, err := s.Read(context.Background(), billing, "billing", 0); err != nil {
							b.Error(err)
							return
						}
					}
				})
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reads/s")
				reportCPU(b, cpu)
			})
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
