package heap

import (
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

const (
	thpEnabled   = "/sys/kernel/mm/transparent_hugepage/enabled"
	thpPageSize  = "/sys/kernel/mm/transparent_hugepage/hpage_pmd_size"
	overcommit   = "/proc/sys/vm/overcommit_memory"
	strictCommit = "2"
)

// ReserveHugePages maps size bytes of heap address space, advises the
// kernel to back it with transparent huge pages, and frees it for the heap
// to use, so that the heap's next size bytes fault in 2 MiB at a time. The
// pages are not touched, so resident memory does not grow until the heap
// fills them; past size, the heap grows in ordinary pages.
//
// It reserves at most a quarter of the machine's memory: an address range
// larger than the memory a host has may be refused, which the runtime
// cannot survive.
//
// It returns how many bytes were advised: 0 when the host grants huge pages
// anyway (mode "always"), never (mode "never", or no THP support), or
// counts every mapped byte against a commit limit (vm.overcommit_memory=2),
// where reserving ahead could make a later allocation fail. Call it once, at
// the start of the command, before the heap grows.
func ReserveHugePages(size int64) int64 {
	// A 32-bit address space has no room to reserve ahead.
	if strconv.IntSize < 64 || selectedMode(readTrimmed(thpEnabled, "")) != "madvise" || readTrimmed(overcommit, "") == strictCommit {
		return 0
	}
	var info unix.Sysinfo_t
	if err := unix.Sysinfo(&info); err != nil {
		return 0
	}
	size = reservable(size, uint64(info.Totalram)*uint64(info.Unit))
	huge, err := strconv.Atoi(readTrimmed(thpPageSize, "2097152"))
	if err != nil || huge <= 0 || huge&(huge-1) != 0 || size < 2*int64(huge) {
		return 0
	}
	// A large allocation takes fresh spans the runtime maps for it and
	// does not write to: the kernel zeroes fresh memory, so Go does not.
	b := make([]byte, int(size))
	start := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	lo := int(alignUp(start, uintptr(huge)) - start)
	hi := int(alignDown(start+uintptr(len(b)), uintptr(huge)) - start)
	if hi <= lo || unix.Madvise(b[lo:hi], unix.MADV_HUGEPAGE) != nil {
		return 0
	}
	// The advice belongs to the mapping and outlives the slice, which is
	// not used past this point. Collect it and return its pages to the
	// system: they are free for the spans the command allocates next, and
	// released pages do not count against a memory limit (DeferCollection).
	debug.FreeOSMemory()
	return int64(hi - lo)
}

// readTrimmed returns the contents of a small system file without
// surrounding space, or def when it cannot be read.
func readTrimmed(path, def string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return def
	}
	return strings.TrimSpace(string(b))
}

func alignUp(p, n uintptr) uintptr   { return (p + n - 1) &^ (n - 1) }
func alignDown(p, n uintptr) uintptr { return p &^ (n - 1) }
