// Package heap prepares the Go heap for Steward's batch commands, such as
// `steward check` on a large project, which read their inputs, build a few
// hundred MiB of policy input and evaluation state once, and exit.
//
// Two of the runtime's defaults make such a heap costly. The collector runs
// each time the heap doubles, from a few MiB up, so while the inputs are
// read — most of which stays live — it marks the same growing data a dozen
// times: DeferCollection waits for the heap to reach the size the command
// needs. And the first touch of each 4 KiB page costs a page fault, which on
// virtual machines takes microseconds — at 10,000 integrations the faults
// were about a quarter of the command's CPU time: ReserveHugePages lets the
// heap fault in 2 MiB at a time where Linux grants huge pages only on
// request.
//
// Long-running processes should use neither: a server's heap is small and
// steady, and wants frequent collections and fine-grained memory.
package heap

import (
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/KimMachineGun/automemlimit/memlimit"
)

// sentinel is the object whose finalizer ends DeferCollection. It holds a
// pointer so that it is not placed in a tiny-allocation block, whose
// objects may be finalized late.
type sentinel struct{ _ *byte }

// DeferCollection turns the collector off until the heap reaches size
// bytes, then restores the pacing in effect before (Go's default, GOGC=100).
// A command whose heap grows to about size then collects once instead of
// each time its heap doubles on the way, and one whose heap stays smaller
// never collects. In a container whose memory limit is less than twice
// size, the first collection comes at half the limit instead, so that the
// garbage left uncollected cannot exhaust it. It does nothing when $GOGC or
// $GOMEMLIMIT is set (getenv reads the environment): the operator's
// settings rule. It reports whether it took effect.
func DeferCollection(size int64, getenv func(string) string) bool {
	if getenv("GOGC") != "" || getenv("GOMEMLIMIT") != "" {
		return false
	}
	size = firstCollection(size, memlimit.FromCgroup)
	if size <= 0 {
		return false
	}
	percent := debug.SetGCPercent(-1)
	limit := debug.SetMemoryLimit(size)
	// A finalizer runs once a collection has found its object unreachable:
	// after the first collection, the one the memory limit starts.
	runtime.SetFinalizer(&sentinel{}, func(*sentinel) {
		debug.SetMemoryLimit(limit)
		debug.SetGCPercent(percent)
	})
	return true
}

// selectedMode returns the mode a THP setting file such as
// /sys/kernel/mm/transparent_hugepage/enabled selects: the word in
// brackets, as in "always [madvise] never". It returns "" when no word is
// selected.
func selectedMode(setting string) string {
	for _, w := range strings.Fields(setting) {
		if len(w) > 2 && strings.HasPrefix(w, "[") && strings.HasSuffix(w, "]") {
			return w[1 : len(w)-1]
		}
	}
	return ""
}

// reservable is how much of size ReserveHugePages may reserve on a machine
// with ram bytes of memory: at most a quarter of it.
func reservable(size int64, ram uint64) int64 {
	return int64(min(uint64(size), ram/4))
}

// firstCollection is the heap size DeferCollection waits for: size, or half
// the memory limit cgroupLimit reports when that is lower. An error means
// no limit is known (none is set, or the process is in no cgroup).
func firstCollection(size int64, cgroupLimit func() (uint64, error)) int64 {
	limit, err := cgroupLimit()
	if err != nil || limit == 0 {
		return size
	}
	return int64(min(uint64(max(size, 0)), limit/2))
}
