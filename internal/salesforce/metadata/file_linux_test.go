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
	_, ok, err := readFileFast(p, true, DefaultMaxFileSize)
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
	if _, ok, _ := readFileFast(p, false, 100); ok {
		t.Errorf("readFileFast handled a file not listed as regular")
	}
	data, ok, err := readFileFast(p, true, 10)
	if !ok || err != nil || string(data) != "0123456789" {
		t.Errorf("readFileFast = %q, %v, %v", data, err, ok)
	}
	if _, _, err := readFileFast(p, true, 9); !errors.Is(err, ErrTooLarge) {
		t.Errorf("readFileFast over the limit: %v, want ErrTooLarge", err)
	}
	if _, _, err := readFileFast(filepath.Join(dir, "missing"), true, 10); !errors.Is(err, fs.ErrNotExist) || strings.Contains(err.Error(), dir) {
		t.Errorf("readFileFast(missing) = %v, want fs.ErrNotExist without the path", err)
	}
	if _, _, err := readFileFast(dir, true, 10); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("readFileFast(directory) = %v", err)
	}
}
