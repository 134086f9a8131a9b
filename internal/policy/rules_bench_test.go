package policy

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/steward-dev/steward/internal/inventory"
	"github.com/steward-dev/steward/internal/salesforce/metadata"
	"github.com/steward-dev/steward/internal/snapshot"
)

// BenchmarkRules evaluates the built-in rules one after another on one
// goroutine, sharing one cache as Evaluate does, and reports the time and
// allocations of each rule (<rule>-ns/op, <rule>-allocs/op) besides the
// total. The indexes of data.steward.lib are counted to the first rule that
// needs them. The snapshots are the 10,000-integration fixtures (governed
// and violating) and the project bench/gen writes with
// `go run ./bench/gen -n 10000 -out bench/out/project-10000` (skipped when
// absent; STEWARD_BENCH_PROJECT names another one). Run it alone, e.g.
//
//	go test ./internal/policy -run '^$' -bench BenchmarkRules -benchtime 3x
func BenchmarkRules(b *testing.B) {
	e, err := New(context.Background(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("governed", func(b *testing.B) { benchmarkRules(b, e, integrations(10000, false)) })
	b.Run("violating", func(b *testing.B) { benchmarkRules(b, e, integrations(10000, true)) })
	b.Run("project", func(b *testing.B) { benchmarkRules(b, e, benchProject(b)) })
}

func benchmarkRules(b *testing.B, e *Engine, snap *snapshot.Snapshot) {
	ctx := context.Background()
	input, err := inputValue(snap)
	if err != nil {
		b.Fatal(err)
	}
	elapsed := make([]time.Duration, len(e.rules))
	allocs := make([]uint64, len(e.rules))
	findings := 0
	var ms runtime.MemStats
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		cache := newSharedCache()
		findings = 0
		for i := range e.rules {
			if !e.rules[i].runs(snap.Capabilities) {
				continue
			}
			runtime.ReadMemStats(&ms)
			before, start := ms.Mallocs, time.Now()
			found, err := e.eval(ctx, i, input, cache)
			elapsed[i] += time.Since(start)
			runtime.ReadMemStats(&ms)
			allocs[i] += ms.Mallocs - before
			if err != nil {
				b.Fatal(err)
			}
			findings += len(found)
		}
	}
	b.StopTimer()
	for i, r := range e.rules {
		if elapsed[i] > 0 {
			b.ReportMetric(float64(elapsed[i].Nanoseconds())/float64(b.N), r.ID+"-ns/op")
			b.ReportMetric(float64(allocs[i])/float64(b.N), r.ID+"-allocs/op")
		}
	}
	b.ReportMetric(float64(findings), "findings")
}

// benchProject loads the bench/gen project as `steward check` does.
func benchProject(b *testing.B) *snapshot.Snapshot {
	dir := os.Getenv("STEWARD_BENCH_PROJECT")
	if dir == "" {
		root, err := filepath.Abs(".")
		if err != nil {
			b.Fatal(err)
		}
		for ; ; root = filepath.Dir(root) {
			if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
				break
			}
			if filepath.Dir(root) == root {
				b.Fatal("no go.mod above the package directory")
			}
		}
		dir = filepath.Join(root, "bench", "out", "project-10000")
	}
	if _, err := os.Stat(dir); err != nil {
		b.Skipf("no bench project (%v); write it with go run ./bench/gen -n 10000 -out bench/out/project-10000", err)
	}
	inv, err := inventory.Load([]string{dir}, inventory.Options{})
	if err != nil {
		b.Fatal(err)
	}
	md, err := metadata.Load(context.Background(), []string{dir}, metadata.Options{})
	if err != nil {
		b.Fatal(err)
	}
	return snapshot.Build(snapshot.Sources{Inventory: inv, Metadata: md, Now: time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)})
}
