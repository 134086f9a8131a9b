package report

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/steward-dev/steward/internal/policy"
)

// decodeJSON decodes the JSON format's output into generic values, so the
// test sees exactly what a consumer sees.
func decodeJSON(t *testing.T, r *Report) map[string]any {
	t.Helper()
	out := render(t, "json", r, Options{})
	if !strings.HasSuffix(string(out), "}\n") || !strings.HasPrefix(string(out), "{\n  \"tool\"") {
		t.Errorf("JSON output is not indented with a trailing newline:\n%s", out)
	}
	var doc map[string]any
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("decode JSON output: %v\n%s", err, out)
	}
	return doc
}

func TestJSONContract(t *testing.T) {
	r := testReport()
	doc := decodeJSON(t, r)

	if diff := cmp.Diff(map[string]any{"name": "steward", "version": "1.2.3"}, doc["tool"]); diff != "" {
		t.Errorf("tool (-want +got):\n%s", diff)
	}

	findings, ok := doc["findings"].([]any)
	if !ok || len(findings) != len(r.Findings) {
		t.Fatalf("findings = %v, want an array of %d", doc["findings"], len(r.Findings))
	}
	wantSummary := map[string]any{}
	for _, s := range policy.Severities {
		wantSummary[s] = float64(0)
	}
	lastRank := 5
	for i, raw := range findings {
		f := raw.(map[string]any)
		for _, key := range []string{"rule", "severity", "title", "message", "identity", "resource", "controls", "remediation"} {
			if _, ok := f[key]; !ok {
				t.Errorf("finding %d lacks %q: %v", i, key, f)
			}
		}
		if _, ok := f["suppressedBy"]; ok {
			t.Errorf("active finding %d has suppressedBy", i)
		}
		sev := f["severity"].(string)
		wantSummary[sev] = wantSummary[sev].(float64) + 1
		if rank := policy.SeverityRank(sev); rank > lastRank {
			t.Errorf("finding %d (%s) follows a less severe one", i, sev)
		} else {
			lastRank = rank
		}
		res := f["resource"].(map[string]any)
		if res["kind"] == "" || res["name"] == "" {
			t.Errorf("finding %d resource lacks kind or name: %v", i, res)
		}
		if file, ok := res["file"]; ok && file == "" {
			t.Errorf("finding %d has an empty file", i)
		}
		if _, ok := res["line"]; ok && res["file"] == nil {
			t.Errorf("finding %d has a line but no file", i)
		}
		if _, ok := f["controls"].([]any); !ok {
			t.Errorf("finding %d controls = %v, want an array", i, f["controls"])
		}
	}
	if diff := cmp.Diff(wantSummary, doc["summary"]); diff != "" {
		t.Errorf("summary does not count the findings (-want +got):\n%s", diff)
	}

	// Identity is null, not absent, for findings outside the inventory.
	var nulls int
	for _, raw := range findings {
		f := raw.(map[string]any)
		if v, ok := f["identity"]; ok && v == nil {
			nulls++
		}
	}
	if want := countNoIdentity(r.Findings); nulls != want {
		t.Errorf("%d findings have identity null, want %d", nulls, want)
	}

	suppressed := doc["suppressed"].([]any)
	if len(suppressed) != 1 || suppressed[0].(map[string]any)["suppressedBy"] != "marketing-refresh-token" {
		t.Errorf("suppressed = %v, want the one finding with its suppressedBy", suppressed)
	}
	wantErrors := []any{map[string]any{"file": "force-app/main/default/profiles/Broken.profile-meta.xml", "line": float64(7), "message": "XML syntax error: unexpected EOF"}}
	if diff := cmp.Diff(wantErrors, doc["errors"]); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
	if w := doc["warnings"].([]any); len(w) != 2 {
		t.Errorf("warnings = %v, want 2", w)
	}
}

func countNoIdentity(fs []policy.Finding) int {
	n := 0
	for _, f := range fs {
		if f.Identity == nil {
			n++
		}
	}
	return n
}

// TestJSONEmpty checks that an empty report has every array present and
// empty, never null, and a zero summary.
func TestJSONEmpty(t *testing.T) {
	for _, r := range []*Report{nil, {}, {Findings: []policy.Finding{{Rule: "X-01", Severity: "low", Resource: policy.Resource{Kind: "Org", Name: "o"}}}}} {
		doc := decodeJSON(t, r)
		for _, key := range []string{"findings", "suppressed", "errors", "warnings"} {
			if _, ok := doc[key].([]any); !ok {
				t.Errorf("%s = %#v, want an array", key, doc[key])
			}
		}
		if fs := doc["findings"].([]any); len(fs) > 0 {
			f := fs[0].(map[string]any)
			if c, ok := f["controls"].([]any); !ok || len(c) != 0 {
				t.Errorf("controls = %#v, want []", f["controls"])
			}
			if v, ok := f["identity"]; !ok || v != nil {
				t.Errorf("identity = %#v, want null", v)
			}
		}
		if tool := doc["tool"].(map[string]any); tool["name"] != "steward" {
			t.Errorf("tool.name = %v, want steward by default", tool["name"])
		}
		if len(doc["summary"].(map[string]any)) != len(policy.Severities) {
			t.Errorf("summary = %v, want one count per severity", doc["summary"])
		}
	}
}
