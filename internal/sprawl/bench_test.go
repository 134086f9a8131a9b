package sprawl

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/steward-dev/steward/internal/sprawl/sprawltest"
)

// benchSource is the Go distribution's source text, about 100 MiB of
// mixed code and data, with one of every credential format planted.
func benchSource(b *testing.B) [][]byte {
	b.Helper()
	var files [][]byte
	err := filepath.WalkDir(filepath.Join(runtime.GOROOT(), "src"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		data, err := os.ReadFile(p)
		if err == nil && !isBinary(data) {
			files = append(files, data)
		}
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	for _, s := range sprawltest.New(1).Samples() {
		files = append(files, []byte(s.Text))
	}
	return files
}

// BenchmarkDetect measures the detectors alone, on one CPU, over text
// already in memory.
func BenchmarkDetect(b *testing.B) {
	files := benchSource(b)
	var total int64
	for _, f := range files {
		total += int64(len(f))
	}
	b.SetBytes(total)
	b.ResetTimer()
	for b.Loop() {
		n := 0
		for _, f := range files {
			scanLayers(f, 0, func(hit, int) { n++ }, func(int) {})
		}
		if n == 0 {
			b.Fatal("nothing found")
		}
	}
}

// BenchmarkBase64Runs measures the base64 sampling alone.
func BenchmarkBase64Runs(b *testing.B) {
	files := benchSource(b)
	var total int64
	for _, f := range files {
		total += int64(len(f))
	}
	b.SetBytes(total)
	b.ResetTimer()
	for b.Loop() {
		for _, f := range files {
			forEachBase64Run(f, func(s, e int) { _ = bytes.Count(f[s:e], newline) })
		}
	}
}
