package policy

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFindingShapes evaluates user rules whose finding values take every
// shape the engine reads from OPA's result directly: well-formed sets, an
// array, and the malformed values that must be reported with the rule's id
// and the value as JSON.
func TestFindingShapes(t *testing.T) {
	rule := func(body string) string {
		return `# METADATA
# title: Acme rule
# custom:
#   id: ACME-1
#   severity: low
#   controls: [CIS 5.5]
#   remediation: Fix it.
package steward.rules.acme

` + body + "\n"
	}
	for _, tc := range []struct {
		name, body string
		want       []Finding // compared on message, severity, identity and resource
		wantErr    string
	}{
		{
			name: "set",
			body: `finding contains {"message": "m", "severity": "high", "identity": "id-1",
	"resource": {"kind": "App", "name": "A", "file": "a.xml", "line": 7}}`,
			want: []Finding{{Message: "m", Severity: "high", Identity: strPtr("id-1"), Resource: Resource{Kind: "App", Name: "A", File: "a.xml", Line: 7}}},
		},
		{
			name: "array, null identity, unknown severity, fractional line",
			body: `finding := [{"message": "m", "severity": "loud", "identity": null, "resource": {"name": "A", "line": 1.5}}]`,
			want: []Finding{{Message: "m", Severity: "low", Resource: Resource{Name: "A"}}},
		},
		{
			name: "empty identity",
			body: `finding contains {"message": "m", "identity": "", "resource": {}}`,
			want: []Finding{{Message: "m", Severity: "low"}},
		},
		{name: "not a set", body: `finding := {"message": "m"}`, wantErr: "rule ACME-1: finding is not a set"},
		{name: "not an object", body: `finding contains "m"`, wantErr: "rule ACME-1: finding m is not an object"},
		{
			name:    "no resource",
			body:    `finding contains {"message": "m", "resource": "A"}`,
			wantErr: "rule ACME-1: finding map[message:m resource:A] lacks a message or a resource object",
		},
		{
			name:    "no message",
			body:    `finding contains {"resource": {"name": "A"}}`,
			wantErr: "rule ACME-1: finding map[resource:map[name:A]] lacks a message",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "acme.rego"), []byte(rule(tc.body)), 0o600); err != nil {
				t.Fatal(err)
			}
			e, err := New(context.Background(), Options{Dirs: []string{dir}, NoBuiltin: true})
			if err != nil {
				t.Fatal(err)
			}
			res, err := e.Evaluate(context.Background(), integrations(1, false))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want it to contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Findings) != len(tc.want) {
				t.Fatalf("%d findings, want %d: %+v", len(res.Findings), len(tc.want), res.Findings)
			}
			for i, w := range tc.want {
				g := res.Findings[i]
				if g.Rule != "ACME-1" || g.Message != w.Message || g.Severity != w.Severity || g.Resource != w.Resource ||
					(g.Identity == nil) != (w.Identity == nil) || (g.Identity != nil && *g.Identity != *w.Identity) {
					t.Errorf("finding %d: %+v, want %+v", i, g, w)
				}
			}
		})
	}
}

func strPtr(s string) *string { return &s }
