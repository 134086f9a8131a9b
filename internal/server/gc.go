package server

import "runtime/debug"

// GCPercent is the garbage collector's target percentage the broker runs
// with unless $GOGC says otherwise. Its live heap is small — the
// configuration, the compiled policy and caches bounded by the identities
// and workloads, a few MiB — while every grant allocates about 20 KiB, so
// at Go's default of 100 it collects dozens of times a second under load.
// At 400 the heap grows to five times the live heap between collections,
// still a few tens of MiB, and the collector's share of the CPU drops by
// about three quarters.
const GCPercent = 400

// TuneGC sets the collector's target to GCPercent unless $GOGC is set
// (getenv reads the environment), and returns the target in effect.
func TuneGC(getenv func(string) string) int {
	if getenv("GOGC") != "" {
		old := debug.SetGCPercent(100)
		debug.SetGCPercent(old)
		return old
	}
	debug.SetGCPercent(GCPercent)
	return GCPercent
}
