package cli

import (
	"sync"

	"github.com/steward-dev/steward/internal/heap"
)

// The heap check and report prepare for (see package heap). `steward check`
// on 10,000 integrations maps about 350 MiB of heap, about 170 MiB of it
// live while the rules run; on 50,000, about 1.6 GiB.
const (
	// hugePageHeap is how much heap is backed by transparent huge pages,
	// unless $STEWARD_HUGEPAGES is "off" (at most a quarter of the
	// machine's memory); past it the heap grows in ordinary pages.
	hugePageHeap = 2 << 30
	// firstCollection is the heap size at which the collector first runs,
	// unless $GOGC or $GOMEMLIMIT is set; Go's default pacing follows.
	firstCollection = 320 << 20
)

var heapOnce sync.Once

// prepareHeap readies the heap, once per process, for a command that reads
// a whole project and evaluates it.
func prepareHeap(env Env) {
	heapOnce.Do(func() {
		if env.Getenv("STEWARD_HUGEPAGES") != "off" {
			heap.ReserveHugePages(hugePageHeap)
		}
		heap.DeferCollection(firstCollection, env.Getenv)
	})
}
