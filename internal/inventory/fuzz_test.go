package inventory

import (
	"os"
	"strings"
	"testing"
)

// FuzzLoad feeds arbitrary file contents to the loader. It checks that the
// loader does not panic (a panic inside the YAML library is caught and
// reported as "internal YAML parser failure", which also fails here), that
// every error names the file and a line, and that the returned Inventory
// keeps its promises. The one error without a line is the documented
// whole-file "no Steward manifest" error.
func FuzzLoad(f *testing.F) {
	for _, file := range testdataFiles(f, "testdata") {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, true)
		f.Add(data, false)
	}
	for _, s := range []string{
		"", "---", "--- |\n  x\n", "a: &x [*x]\n", "*x", "&a a: b\n", "? [a]\n: b\n", "%YAML 1.2\n---\n",
		"apiVersion: steward.dev/v1alpha1\nkind: Team\nmetadata: &m {name: t}\nspec: *m\n",
		"apiVersion: steward.dev/v1alpha1\nkind: Identity\nmetadata: {name: i}\nspec: {access: {objects: {? [a]: [read]}}}\n",
		"apiVersion: !!str steward.dev/v1alpha1\nkind: Team\n",
		"apiVersion: steward.dev/v1alpha1\r\nkind: Team\r\nmetadata: {name: t}\r\nspec: {}\r\n",
		"\xef\xbb\xbfapiVersion: steward.dev/v1alpha1\nkind: Team\nmetadata: {name: t}\nspec: {}\n",
	} {
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, data []byte, require bool) {
		l := &loader{opts: Options{RequireManifests: require}, seen: map[string]bool{}}
		l.loadSource("fuzz.yaml", data, require)
		inv, err := l.finish()
		errs := Errors(err)
		if (err == nil) != (len(errs) == 0) {
			t.Fatalf("error %v holds %d entries", err, len(errs))
		}
		for _, e := range errs {
			if e.File != "fuzz.yaml" {
				t.Errorf("error without the file: %v", e)
			}
			if e.Line <= 0 && !strings.HasPrefix(e.Msg, "no Steward manifest") {
				t.Errorf("error without a line: %v", e)
			}
			if strings.Contains(e.Msg, "internal YAML parser failure") {
				t.Errorf("YAML library panicked: %v", e)
			}
		}
		teams, identities, exceptions := map[string]bool{}, map[string]bool{}, map[string]bool{}
		for _, tm := range inv.Teams {
			if teams[tm.Metadata.Name] {
				t.Errorf("two teams named %q", tm.Metadata.Name)
			}
			teams[tm.Metadata.Name] = true
		}
		for _, id := range inv.Identities {
			if identities[id.Metadata.Name] {
				t.Errorf("two identities named %q", id.Metadata.Name)
			}
			identities[id.Metadata.Name] = true
			if id.Spec.Owner != "" && !teams[id.Spec.Owner] {
				t.Errorf("identity %q: owner not loaded", id.Metadata.Name)
			}
			if id.Location.File != "fuzz.yaml" || id.Location.Line <= 0 {
				t.Errorf("identity %q: location %v", id.Metadata.Name, id.Location)
			}
		}
		for _, ex := range inv.Exceptions {
			if exceptions[ex.Metadata.Name] {
				t.Errorf("two exceptions named %q", ex.Metadata.Name)
			}
			exceptions[ex.Metadata.Name] = true
			if !identities[ex.Spec.Identity] {
				t.Errorf("exception %q: identity not loaded", ex.Metadata.Name)
			}
		}
	})
}
