package policy

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/steward-dev/steward/internal/snapshot"
)

// TestInputMatchesJSON checks that the direct conversion gives the value the
// JSON encoding of the snapshot would, on compliant and violating snapshots,
// small and large enough to be converted in parallel, and with empty and
// nil maps and slices side by side.
func TestInputMatchesJSON(t *testing.T) {
	for _, tc := range []struct {
		n         int
		violating bool
		empties   bool
	}{{50, false, false}, {50, true, false}, {parallelMin + 500, true, false}, {3, true, true}} {
		violating := tc.violating
		s := integrations(tc.n, violating)
		if tc.empties {
			s.Users[0].Effective.User, s.Users[1].Effective.User = map[string][]string{}, nil
			s.Users[0].Effective.Objects, s.Users[1].Effective.Objects = map[string]snapshot.ObjectAccess{}, nil
			s.Users[0].PermissionSets, s.Users[1].PermissionSets = []string{}, nil
		}
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
