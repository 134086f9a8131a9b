package inventory

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLoadLargeFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "big.yaml")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(11 << 20); err != nil { // 11 MiB, sparse
		t.Fatal(err)
	}
	f.Close()
	_, err = Load([]string{dir}, Options{})
	want := []*Error{{File: p, Msg: "file is larger than 10 MiB"}}
	if diff := cmp.Diff(want, Errors(err)); diff != "" {
		t.Errorf("errors mismatch (-want +got):\n%s", diff)
	}
}

func TestLoadInvalidUTF8(t *testing.T) {
	t.Parallel()
	src := "apiVersion: steward.dev/v1alpha1\nkind: Team\nmetadata: {name: t}\nspec:\n  backup: caf\xe9@acme.com\n"
	dir := writeFiles(t, map[string]string{"t.yaml": src})
	inv, err := Load([]string{dir}, Options{})
	want := []*Error{{File: filepath.Join(dir, "t.yaml"), Line: 5, Column: 14, Msg: "invalid UTF-8"}}
	if diff := cmp.Diff(want, Errors(err)); diff != "" {
		t.Errorf("errors mismatch (-want +got):\n%s", diff)
	}
	if len(inv.Teams) != 0 {
		t.Errorf("loaded %d teams from a file that is not UTF-8", len(inv.Teams))
	}
}

func TestLoadAliasBomb(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("apiVersion: steward.dev/v1alpha1\nkind: Identity\nmetadata: {name: bomb}\nspec:\n  access:\n    objects:\n")
	b.WriteString("      A0: &a [" + strings.Repeat("read, ", 999) + "read]\n")
	for i := 1; i <= 1000; i++ {
		fmt.Fprintf(&b, "      A%d: *a\n", i)
	}
	dir := writeFiles(t, map[string]string{"bomb.yaml": b.String()})
	_, err := Load([]string{dir}, Options{RequireManifests: true})
	errs := Errors(err)
	if len(errs) != 1 || !strings.Contains(errs[0].Msg, "document too large") {
		t.Errorf("errors = %v, want one 'document too large'", err)
	}
}

func TestLoadDeepNesting(t *testing.T) {
	t.Parallel()
	src := "apiVersion: steward.dev/v1alpha1\nkind: Team\nmetadata: {name: t}\nspec: {members: " + strings.Repeat("[", 100000) + "}\n"
	dir := writeFiles(t, map[string]string{"deep.yaml": src})
	_, err := Load([]string{dir}, Options{RequireManifests: true})
	want := []*Error{{File: filepath.Join(dir, "deep.yaml"), Line: 4, Column: 80, Msg: "malformed YAML: collections nested more than 64 deep"}}
	if diff := cmp.Diff(want, Errors(err)); diff != "" {
		t.Errorf("errors mismatch (-want +got):\n%s", diff)
	}
}

// TestErrorsNeverEchoValues pastes credentials into every kind of wrong place
// and checks that no error message repeats any part of them.
func TestErrorsNeverEchoValues(t *testing.T) {
	t.Parallel()
	secrets := []string{
		"3MVG9n_HvETGhr3CogbDQGHDGFobOBZPY5Gu7qQbYPYWxSpTn8dMHEnTvMw3FU6mrpfmUPPcD2yyz74UNNFTE",
		"A1B2C3D4E5F60718293A4B5C6D7E8F90A1B2C3D4E5F60718293A4B5C6D7E8F90",
		"1955279925675241571",
		"sk7Qm2Xp9Lr4Tz8Vn3Wb6Yc1",
	}
	templates := []string{
		// As a value of the wrong type, an unknown field, a bad enum, a bad
		// date, a bad name, a bad reference, a bad apiVersion and kind.
		"apiVersion: steward.dev/v1alpha1\nkind: Identity\nmetadata: {name: i}\nspec:\n  credential: {secret: [%[1]s]}\n",
		"apiVersion: steward.dev/v1alpha1\nkind: Identity\nmetadata: {name: i}\nspec:\n  credential: {rotationDays: %[1]s}\n",
		"apiVersion: steward.dev/v1alpha1\nkind: Identity\nmetadata: {name: i}\nspec:\n  credential: {consumerSecret: %[1]s}\n",
		"apiVersion: steward.dev/v1alpha1\nkind: Identity\nmetadata: {name: i}\nspec:\n  credential: {%[1]s: x}\n",
		"apiVersion: steward.dev/v1alpha1\nkind: Identity\nmetadata: {name: i}\nspec:\n  environment: %[1]s\n",
		"apiVersion: steward.dev/v1alpha1\nkind: Identity\nmetadata: {name: i}\nspec:\n  credential: {rotatedAt: %[1]s}\n",
		"apiVersion: steward.dev/v1alpha1\nkind: Identity\nmetadata: {name: '%[1]s'}\nspec: {}\n",
		"apiVersion: steward.dev/v1alpha1\nkind: Identity\nmetadata: {name: i}\nspec: {owner: '%[1]s'}\n",
		"apiVersion: steward.dev/v1alpha1\nkind: Exception\nmetadata: {name: e}\nspec: {identity: '%[1]s', rule: '%[1]s'}\n",
		"apiVersion: steward.dev/%[1]s\nkind: Team\n",
		"apiVersion: steward.dev/v1alpha1\nkind: %[1]s\n",
		"apiVersion: steward.dev/v1alpha1\nkind: Team\nmetadata: {name: t}\nspec: {labels: {%[1]s: x}}\n",
		"apiVersion: steward.dev/v1alpha1\nkind: Identity\nmetadata: {name: i, labels: {%[1]s: [x]}}\nspec: {}\n",
		"apiVersion: steward.dev/v1alpha1\nkind: Identity\nmetadata: {name: i}\nspec: {access: {objects: {%[1]s: [fly]}}}\n",
		// Malformed YAML around the value.
		"apiVersion: steward.dev/v1alpha1\nkind: Team\nmetadata: {name: t}\nspec: {backup: \"%[1]s\n",
		"apiVersion: steward.dev/v1alpha1\nkind: Team\nmetadata: {name: t}\nspec: {backup: %[1]s, backup: %[1]s}\n",
		"apiVersion: steward.dev/v1alpha1\nkind: Team\nmetadata: {name: t}\nspec: {\"%[1]s\": 1, \"%[1]s\": 2}\n",
		"apiVersion: steward.dev/v1alpha1\nkind: Team\nmetadata: {name: t}\nspec: {backup: \"%[1]s\\q\"}\n",
		"apiVersion: steward.dev/v1alpha1\nkind: Team\nmetadata: {name: t}\nspec: {backup: !%[1]s x}\n",
		"%%YAML %[1]s\n---\napiVersion: steward.dev/v1alpha1\n",
		"apiVersion: steward.dev/v1alpha1\nkind: Team\nmetadata: {name: t}\nspec:\n  members: |%[1]s\n    x\n",
	}
	var files = map[string]string{}
	for i, tmpl := range templates {
		for j, s := range secrets {
			files[fmt.Sprintf("t%02d-s%d.yaml", i, j)] = fmt.Sprintf(tmpl, s)
		}
	}
	dir := writeFiles(t, files)
	_, err := Load([]string{dir}, Options{RequireManifests: true})
	errs := Errors(err)
	if len(errs) < len(files)*9/10 {
		t.Fatalf("got %d errors for %d files, nearly all bad", len(errs), len(files))
	}
	for _, e := range errs {
		for _, s := range secrets {
			for k := 0; k+8 <= len(s); k++ {
				if strings.Contains(e.Error(), s[k:k+8]) {
					t.Errorf("error echoes part of a secret: %s", strings.ReplaceAll(e.Error(), s[k:k+8], "<SECRET>"))
					break
				}
			}
		}
	}
	if strings.Contains(err.Error(), secrets[0][:8]) {
		t.Error("ErrorList.Error echoes a secret")
	}
}

func TestErrorFormat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  *Error
		want string
	}{
		{&Error{File: "a.yaml", Line: 3, Column: 7, Msg: "bad"}, "a.yaml:3:7: bad"},
		{&Error{File: "a.yaml", Line: 3, Msg: "bad"}, "a.yaml:3: bad"},
		{&Error{File: "a.yaml", Msg: "bad"}, "a.yaml: bad"},
		{&Error{Msg: "bad"}, "bad"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
	list := ErrorList{tests[0].err, tests[1].err}
	wrapped := fmt.Errorf("load inventory: %w", list)
	if got := Errors(wrapped); len(got) != 2 || got[0] != tests[0].err {
		t.Errorf("Errors(wrapped list) = %v", got)
	}
	var e *Error
	if !errors.As(wrapped, &e) || e != tests[0].err {
		t.Errorf("errors.As did not find the first *Error")
	}
	if got := Errors(tests[2].err); len(got) != 1 {
		t.Errorf("Errors(*Error) = %v", got)
	}
	if Errors(errors.New("other")) != nil || Errors(nil) != nil {
		t.Errorf("Errors of a foreign error is not nil")
	}
	if got, want := list.Error(), "a.yaml:3:7: bad\na.yaml:3: bad"; got != want {
		t.Errorf("ErrorList.Error() = %q, want %q", got, want)
	}
}

func TestSplitDocuments(t *testing.T) {
	t.Parallel()
	src := "%YAML 1.2\n# comment\n---\na: 1\n--- # two\nb: 2\n---x: 3\n----\n---\n"
	var got []string
	for _, c := range splitDocuments([]byte(src)) {
		got = append(got, fmt.Sprintf("%d:%q", c.line, c.data))
	}
	want := []string{
		`1:"%YAML 1.2\n# comment\n---\na: 1\n"`,
		`5:"--- # two\nb: 2\n---x: 3\n----\n"`,
		`9:"---\n"`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("chunks (-want +got):\n%s", diff)
	}
}

// BenchmarkLoad loads a 1 MiB file of Team manifests.
func BenchmarkLoad(b *testing.B) {
	var src strings.Builder
	for i := 0; src.Len() < 1<<20; i++ {
		fmt.Fprintf(&src, "apiVersion: steward.dev/v1alpha1\nkind: Team\nmetadata:\n  name: team-%d\nspec:\n  members: [a@acme.com, b@acme.com]\n  backup: c@acme.com\n---\n", i)
	}
	dir := b.TempDir()
	p := filepath.Join(dir, "teams.yaml")
	if err := os.WriteFile(p, []byte(src.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(src.Len()))
	for b.Loop() {
		if _, err := Load([]string{p}, Options{RequireManifests: true}); err != nil {
			b.Fatal(err)
		}
	}
}
