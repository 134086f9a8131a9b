package policy

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/open-policy-agent/opa/v1/rego"
)

// TestSharedCacheMatchesOwnCache evaluates every built-in rule on violating
// integrations through Evaluate, whose queries share one cache, and each
// rule alone with OPA's own cache; the findings must be the same.
func TestSharedCacheMatchesOwnCache(t *testing.T) {
	e := testEngine(t)
	s := integrations(200, true)
	res, err := e.Evaluate(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	input, err := inputValue(s)
	if err != nil {
		t.Fatal(err)
	}
	var alone []Finding
	for i, r := range e.rules {
		if !r.runs(s.Capabilities) {
			continue
		}
		rs, err := e.queries[i].Eval(context.Background(), rego.EvalParsedInput(input), rego.EvalGenerateJSON(resultTerm))
		if err != nil {
			t.Fatal(err)
		}
		set, err := findingTerms(rs[0].Bindings["x"])
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range set {
			f, err := decodeFinding(v)
			if err != nil {
				t.Fatal(err)
			}
			alone = append(alone, r.finding(f))
		}
	}
	got := append(slices.Clone(res.Findings), res.Suppressed...)
	if len(got) == 0 {
		t.Fatal("no findings on violating integrations")
	}
	key := func(f Finding) string { return f.Rule + "\x00" + f.Message + "\x00" + f.Resource.File }
	gotKeys, wantKeys := make([]string, 0, len(got)), make([]string, 0, len(alone))
	for _, f := range got {
		gotKeys = append(gotKeys, key(f))
	}
	for _, f := range alone {
		wantKeys = append(wantKeys, key(f))
	}
	slices.Sort(gotKeys)
	slices.Sort(wantKeys)
	if !slices.Equal(gotKeys, wantKeys) {
		t.Errorf("shared cache: %d findings, each rule alone: %d", len(gotKeys), len(wantKeys))
	}
}

// TestSharedCacheKeepsWithScoped checks that a value computed under a `with`
// statement stays with it: one rule counts the app names of a replaced
// input, the others of the real one, and all run concurrently on one cache.
func TestSharedCacheKeepsWithScoped(t *testing.T) {
	dir := t.TempDir()
	rule := func(id, pkg, body string) string {
		return `# METADATA
# title: Acme rule
# custom:
#   id: ` + id + `
#   severity: low
#   controls: [CIS 5.5]
#   remediation: Fix it.
package steward.rules.` + pkg + `

import data.steward.lib

finding contains f if {
	` + body + `
	f := {"message": sprintf("%d apps", [n]), "resource": {"kind": "Org", "name": "acme"}}
}
`
	}
	for name, src := range map[string]string{
		"a.rego": rule("ACME-A", "acme_a", `n := count(lib.app_names) with input as {"apps": [{"name": "Only"}]}`),
		"b.rego": rule("ACME-B", "acme_b", `n := count(lib.app_names)`),
		"c.rego": rule("ACME-C", "acme_c", `n := count(lib.app_names) with input.apps as []`),
		"d.rego": rule("ACME-D", "acme_d", `n := count(lib.app_names)`),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	e, err := New(context.Background(), Options{Dirs: []string{dir}, NoBuiltin: true})
	if err != nil {
		t.Fatal(err)
	}
	s := integrations(3, false)
	want := map[string]string{"ACME-A": "1 apps", "ACME-B": "3 apps", "ACME-C": "0 apps", "ACME-D": "3 apps"}
	for range 20 {
		res, err := e.Evaluate(context.Background(), s)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, f := range res.Findings {
			got[f.Rule] = f.Message
		}
		for id, msg := range want {
			if got[id] != msg {
				t.Fatalf("%s: %q, want %q (all: %v)", id, got[id], msg, got)
			}
		}
	}
}
