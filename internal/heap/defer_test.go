package heap

import (
	"errors"
	"math"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"
)

// sink keeps allocations from being optimised away.
var sink []byte

// allocate makes n MiB of garbage, one MiB at a time.
func allocate(n int) {
	for range n {
		sink = make([]byte, 1<<20)
	}
}

func numGC() uint32 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.NumGC
}

// TestDeferCollection runs its scenario in a process of its own, since the
// collector's settings are global.
func TestDeferCollection(t *testing.T) {
	if os.Getenv("STEWARD_HEAP_TEST_CHILD") == "1" {
		deferCollectionChild(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestDeferCollection$", "-test.v")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GOGC=") && !strings.HasPrefix(kv, "GOMEMLIMIT=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "STEWARD_HEAP_TEST_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestDeferCollection") {
		t.Fatalf("child process: %v\n%s", err, out)
	}
}

func deferCollectionChild(t *testing.T) {
	const size = 64 << 20
	if !DeferCollection(size, func(string) string { return "" }) {
		t.Fatal("DeferCollection did not take effect with GOGC and GOMEMLIMIT unset")
	}
	before := numGC()
	allocate(16)
	if n := numGC() - before; n != 0 {
		t.Fatalf("%d collections while the heap stayed under %d bytes, want none", n, size)
	}
	allocate(256)
	if numGC() == before {
		t.Fatalf("no collection after allocating past %d bytes", size)
	}
	// The finalizer restores the settings on a goroutine of the runtime's.
	for range 1000 {
		if debug.SetMemoryLimit(-1) == math.MaxInt64 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if limit := debug.SetMemoryLimit(-1); limit != math.MaxInt64 {
		t.Errorf("memory limit after the first collection = %d, want none", limit)
	}
	if percent := debug.SetGCPercent(100); percent != 100 {
		t.Errorf("GC percent after the first collection = %d, want 100", percent)
	}
}

func TestFirstCollection(t *testing.T) {
	const size = 320 << 20
	noLimit := func() (uint64, error) { return 0, errors.New("memory is not limited") }
	limit := func(n uint64) func() (uint64, error) { return func() (uint64, error) { return n, nil } }
	for _, tc := range []struct {
		name  string
		limit func() (uint64, error)
		want  int64
	}{
		{"no limit", noLimit, size},
		{"large limit", limit(8 << 30), size},
		{"limit of twice the size", limit(640 << 20), size},
		{"small limit", limit(256 << 20), 128 << 20},
		{"zero reported", limit(0), size},
	} {
		if got := firstCollection(size, tc.limit); got != tc.want {
			t.Errorf("%s: firstCollection = %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestDeferCollectionYieldsToEnvironment(t *testing.T) {
	for _, name := range []string{"GOGC", "GOMEMLIMIT"} {
		getenv := func(k string) string {
			if k == name {
				return "200"
			}
			return ""
		}
		if DeferCollection(64<<20, getenv) {
			t.Errorf("DeferCollection took effect with %s set", name)
		}
	}
	if DeferCollection(0, func(string) string { return "" }) {
		t.Error("DeferCollection took effect with size 0")
	}
}
