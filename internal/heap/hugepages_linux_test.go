package heap

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
)

// advised sums the size and resident memory of this process's mappings
// that carry the MADV_HUGEPAGE flag ("hg" in /proc/self/smaps).
func advised(t *testing.T) (size, rss int) {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skipf("no smaps: %v", err)
	}
	defer f.Close()
	var curSize, curRSS int
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fields := strings.Fields(v)
		switch k {
		case "Size", "Rss":
			n, err := strconv.Atoi(fields[0])
			if err != nil {
				t.Fatalf("smaps %s: %v", k, err)
			}
			if k == "Size" {
				curSize = n << 10
			} else {
				curRSS = n << 10
			}
		case "VmFlags":
			for _, fl := range fields {
				if fl == "hg" {
					size += curSize
					rss += curRSS
				}
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return size, rss
}

func TestReserveHugePages(t *testing.T) {
	const size = 64 << 20
	before, _ := advised(t)
	got := int(ReserveHugePages(size))
	after, rss := advised(t)
	if selectedMode(readTrimmed(thpEnabled, "")) != "madvise" || readTrimmed(overcommit, "") == strictCommit {
		if got != 0 {
			t.Fatalf("ReserveHugePages advised %d bytes on a host that does not need it", got)
		}
		t.Skip("THP mode is not madvise here; ReserveHugePages rightly did nothing")
	}
	if got < size-4<<20 || got > size {
		t.Fatalf("ReserveHugePages advised %d bytes, want nearly %d", got, size)
	}
	if after-before < got {
		t.Errorf("mappings advised MADV_HUGEPAGE grew by %d bytes, want at least %d", after-before, got)
	}
	if rss > got/2 {
		t.Errorf("advised mappings hold %d resident bytes right after ReserveHugePages; the reserved pages should not be touched", rss)
	}
}
