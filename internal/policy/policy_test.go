package policy

import (
	"context"
	"testing"
)

// TestRegoUnitTests runs the built-in pack's Rego unit tests.
func TestRegoUnitTests(t *testing.T) {
	results, err := RunTests(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(results) == 0 {
		t.Fatal("no Rego tests found in the built-in pack")
	}
	for _, r := range results {
		if !r.Passed && !r.Skipped {
			t.Errorf("%s:%d %s.%s failed %s", r.File, r.Line, r.Package, r.Name, r.Error)
		}
	}
}
