package inventory

import (
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// benchTeam and benchIdentity are documents in the shape bench/gen writes.
const (
	benchTeam = `apiVersion: steward.dev/v1alpha1
kind: Team
metadata: {name: team-00001}
spec:
  members: [owner00001@bench.example]
  backup: sec-oncall@bench.example
`
	benchIdentity = `apiVersion: steward.dev/v1alpha1
kind: Identity
metadata:
  name: integration-00001
  labels: {tier: "gold", cost-centre: '42'}
spec:
  service: service-00001
  owner: team-00001
  environment: production
  criticality: medium
  agent: false
  purpose: Synthetic integration 1
  vendor: Acme Corp
  salesforce:
    url: https://bench.my.salesforce.com
    app: Integration_00001
    runAs: int00001@bench.example
    runAsProfile: Minimum Access - API Only Integrations
    runAsPermissionSets: [Integration_00001]
  access:
    scopes: [api]
    objects:
      Account: [read, edit]
  credential:
    secret: integration-00001
    rotationDays: 90
    rotatedAt: 2026-10-01
  consumers:
    - spiffe: spiffe://acme.org/ns/billing/sa/sync
    - oidc: {issuer: "https://token.actions.githubusercontent.com", subject: "repo:acme/sync:ref:refs/heads/main", audience: steward}
  review:
    intervalDays: 90
    lastReviewed: "2026-10-01"
`
	benchException = `# comment before the document
---
apiVersion: steward.dev/v1alpha1
kind: Exception
metadata: {name: legacy}
spec:
  identity: integration-00001
  rule: NHI-APP-01
  reason: Vendor needs it
  approvedBy: ciso@acme.com
  expires: 2027-01-31
  compensatingControls: []
`
)

// checkFastPath fails the test when the fast path accepts ch and the goccy
// path disagrees about it; it reports whether the fast path accepted ch.
func checkFastPath(t *testing.T, ch chunk) bool {
	t.Helper()
	fast, ok := fastDocument("f.yaml", ch, &plainReader{})
	if !ok {
		return false
	}
	var fr fileResult
	slow := (&loader{}).parseChunk("f.yaml", ch, &fr)
	if len(fr.errs) > 0 || len(fr.others) > 0 || fr.manifests != 1 || len(slow) != 1 {
		t.Fatalf("fast path accepted %q; goccy path: %d manifests, errors %v, other documents at %v", ch.data, fr.manifests, fr.errs, fr.others)
	}
	if diff := cmp.Diff(slow[0], fast, cmp.AllowUnexported(loadedDoc{}, position{})); diff != "" {
		t.Fatalf("fast path decoded %q differently (-goccy +fast):\n%s", ch.data, diff)
	}
	return true
}

func TestFastDocument(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		doc  string
		fast bool
	}{
		{"team", benchTeam, true},
		{"identity", benchIdentity, true},
		{"exception after a comment", benchException, true},
		{"flow document", `{apiVersion: steward.dev/v1alpha1, kind: Team, metadata: {name: t}, spec: {}}`, true},
		{"plain legacy boolean is a string", "apiVersion: steward.dev/v1alpha1\nkind: Team\nmetadata: {name: t, labels: {a: yes}}\nspec: {}\n", true},
		{"unknown field", "apiVersion: steward.dev/v1alpha1\nkind: Team\nmetadata: {name: t}\nspec: {x: 1}\n", false},
		{"repeated field", "apiVersion: steward.dev/v1alpha1\nkind: Team\nmetadata: {name: t}\nspec: {}\nspec: {}\n", false},
		{"repeated label", "apiVersion: steward.dev/v1alpha1\nkind: Team\nmetadata: {name: t, labels: {a: b, a: c}}\nspec: {}\n", false},
		{"anchor and alias", "apiVersion: steward.dev/v1alpha1\nkind: Team\nmetadata: {name: &n t}\nspec: {backup: *n}\n", false},
		{"tag", "apiVersion: steward.dev/v1alpha1\nkind: Team\nmetadata: {name: !!str t}\nspec: {}\n", false},
		{"null", "apiVersion: steward.dev/v1alpha1\nkind: Identity\nmetadata: {name: i}\nspec: {vendor: null}\n", false},
		{"octal-looking integer", "apiVersion: steward.dev/v1alpha1\nkind: Identity\nmetadata: {name: i}\nspec: {credential: {rotationDays: 090}}\n", false},
		{"integer for a string", "apiVersion: steward.dev/v1alpha1\nkind: Team\nmetadata: {name: t}\nspec: {backup: 42}\n", false},
		{"block scalar", "apiVersion: steward.dev/v1alpha1\nkind: Team\nmetadata: {name: t}\nspec:\n  backup: |\n    x\n", false},
		{"non-ASCII", "apiVersion: steward.dev/v1alpha1\nkind: Team\nmetadata: {name: t}\nspec: {backup: caf\u00e9}\n", false},
		{"carriage returns", "apiVersion: steward.dev/v1alpha1\r\nkind: Team\r\nmetadata: {name: t}\r\nspec: {}\r\n", false},
		{"two documents", "apiVersion: steward.dev/v1alpha1\nkind: Team\nmetadata: {name: t}\nspec: {}\n...\napiVersion: v1\n", false},
		{"not a manifest", "apiVersion: v1\nkind: ConfigMap\n", false},
		{"syntax error", "apiVersion: steward.dev/v1alpha1\nkind: Team\nmetadata: {name: t\n", false},
		{"flow key ending in a colon", "apiVersion: steward.dev/v1alpha1\nkind: Team\nmetadata:\n  labels: {a:: b}\n  name: t\nspec: {}\n", false},
		{"trailing space before a comment", "apiVersion: steward.dev/v1alpha1\nkind: Identity\nmetadata: {name: i}\nspec:\n  owner: t \n# note\n", false},
		{"exception without identity", "apiVersion: steward.dev/v1alpha1\nkind: Exception\nmetadata: {name: e}\nspec: {rule: NHI-APP-01, reason: r, approvedBy: a@b.c, expires: 2027-01-01}\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			chunks := splitDocuments([]byte(tt.doc))
			if got := checkFastPath(t, chunks[len(chunks)-1]); got != tt.fast {
				t.Errorf("fast path taken = %v, want %v", got, tt.fast)
			}
		})
	}
}

// FuzzFastDocument checks that the fast path never accepts a document the
// goccy path rejects and decodes what it accepts to the same manifest, at
// the same positions.
func FuzzFastDocument(f *testing.F) {
	for _, file := range testdataFiles(f, "testdata") {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{benchTeam, benchIdentity, benchException, benchTeam + "---\n" + benchIdentity} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, ch := range splitDocuments(data) {
			checkFastPath(t, ch)
		}
	})
}
