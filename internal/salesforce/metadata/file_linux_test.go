package metadata

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestReadFileFastFIFO checks that a FIFO that replaced a file listed as
// regular is refused without blocking on the open.
func TestReadFileFastFIFO(t *testing.T) {
	p := filepath.Join(t.TempDir(), "A.connectedApp-meta.xml")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	_, ok, err := readFileFast(p, true, DefaultMaxFileSize, make([]byte, readBlock))
	if !ok || err == nil || !strings.Contains(err.Error(), "not a regular file (p---------)") {
		t.Errorf("readFileFast(FIFO) = %v, %v; want a not-a-regular-file error", err, ok)
	}
}

func TestReadFileFast(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "A.connectedApp-meta.xml")
	if err := os.WriteFile(p, []byte("0123456789"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "E.connectedApp-meta.xml")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := readFileFast(p, false, 100, make([]byte, 64)); ok {
		t.Errorf("readFileFast handled a file not listed as regular")
	}
	// Scratch sizes around the file's size: one read, a full first block,
	// and several blocks.
	for _, size := range []int{64, 11, 10, 3, 1} {
		scratch := make([]byte, size)
		data, ok, err := readFileFast(p, true, 10, scratch)
		if !ok || err != nil || string(data) != "0123456789" {
			t.Errorf("scratch of %d: readFileFast = %q, %v, %v", size, data, err, ok)
		}
		scratch[0] = 'x'
		if string(data) != "0123456789" {
			t.Errorf("scratch of %d: the data shares memory with scratch", size)
		}
		// Over the limit: the size is named whether the first read saw the
		// end of the file or fstat had to tell.
		if _, _, err := readFileFast(p, true, 9, scratch); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "file is 10 bytes, over the 9 bytes limit") {
			t.Errorf("scratch of %d: readFileFast over the limit: %v, want ErrTooLarge with the size", size, err)
		}
	}
	if data, ok, err := readFileFast(empty, true, 10, make([]byte, 64)); !ok || err != nil || len(data) != 0 {
		t.Errorf("readFileFast(empty) = %q, %v, %v", data, err, ok)
	}
	if _, _, err := readFileFast(filepath.Join(dir, "missing"), true, 10, make([]byte, 64)); !errors.Is(err, fs.ErrNotExist) || strings.Contains(err.Error(), dir) {
		t.Errorf("readFileFast(missing) = %v, want fs.ErrNotExist without the path", err)
	}
	if _, _, err := readFileFast(dir, true, 10, make([]byte, 64)); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("readFileFast(directory) = %v", err)
	}
}
