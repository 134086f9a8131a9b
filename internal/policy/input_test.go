package policy

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
)

// TestInputMatchesJSON checks that the direct conversion gives the value the
// JSON encoding of the snapshot would, on compliant and violating snapshots,
// small and large enough to be converted in parallel.
func TestInputMatchesJSON(t *testing.T) {
	for _, tc := range []struct {
		n         int
		violating bool
	}{{50, false}, {50, true}, {parallelMin + 500, true}} {
		violating := tc.violating
		s := integrations(tc.n, violating)
		got, err := inputValue(s)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		want, err := ast.ValueFromReader(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		if got.Compare(want) != 0 {
			t.Errorf("%d integrations, violating=%v: direct conversion differs from the JSON encoding", tc.n, violating)
		}
	}
}
