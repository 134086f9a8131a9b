// Package repotest locates the repository from a test, so that tests can
// read the example projects and the shared SFDX corpus beside it whatever
// package directory they run in.
package repotest

import (
	"os"
	"path/filepath"
	"testing"
)

// Root returns the repository's root: the nearest directory above the
// test's working directory that holds go.mod.
func Root(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("go.mod not found above the test's directory")
		}
		dir = parent
	}
}
