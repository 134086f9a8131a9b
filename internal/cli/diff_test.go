package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const (
	diffOld = "testdata/diff/old.json" // the example's snapshot
	diffNew = "testdata/diff/new.json" // the same with access widened, narrowed and removed
)

// TestDiffGolden pins the three output forms of a diff with expansions.
func TestDiffGolden(t *testing.T) {
	for _, format := range []string{"table", "json", "markdown"} {
		t.Run(format, func(t *testing.T) {
			code, stdout, stderr := run(t, "diff", diffOld, diffNew, "-o", format)
			if code != ExitFindings {
				t.Errorf("exit %d, want %d (access expanded): %s", code, ExitFindings, stderr)
			}
			golden := filepath.Join("testdata", "diff", "diff."+format)
			if *update {
				if err := os.WriteFile(golden, []byte(stdout), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./internal/cli -run TestDiffGolden -update and review the file)", err)
			}
			if diff := cmp.Diff(string(want), stdout); diff != "" {
				t.Errorf("output differs from %s (-want +got):\n%s", golden, diff)
			}
		})
	}
}

func TestDiffJSONCounts(t *testing.T) {
	_, stdout, _ := run(t, "diff", diffOld, diffNew, "-o", "json")
	var r struct {
		Changes []struct {
			Kind, Resource, Subject, Field, Before, After string
		} `json:"changes"`
		Summary    map[string]int `json:"summary"`
		Expansions int            `json:"expansions"`
	}
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, n := range r.Summary {
		total += n
	}
	if total != len(r.Changes) || r.Expansions != r.Summary["added"]+r.Summary["widened"]+r.Summary["changed"] {
		t.Errorf("summary %v and %d expansions do not match %d changes", r.Summary, r.Expansions, len(r.Changes))
	}
	found := false
	for _, c := range r.Changes {
		if c.Kind == "widened" && c.Subject == "billing.integration@acme.example" && c.Field == "objects.Account" && c.After == "viewAll" {
			found = true
		}
	}
	if !found {
		t.Errorf("viewAll on Account is not reported as widened: %+v", r.Changes)
	}
}

func TestDiffExitCodes(t *testing.T) {
	dir := t.TempDir()
	old, err := os.ReadFile(diffOld)
	if err != nil {
		t.Fatal(err)
	}
	// Only narrowing: the reverse of widening a scope.
	var snap map[string]any
	if err := json.Unmarshal(old, &snap); err != nil {
		t.Fatal(err)
	}
	apps := snap["apps"].([]any)
	snap["apps"] = apps[1:]
	narrowed, err := json.Marshal(snap)
	if err != nil {
		t.Fatal(err)
	}
	narrowedFile := filepath.Join(dir, "narrowed.json")
	writeFile(t, narrowedFile, string(narrowed))

	cases := []struct {
		name     string
		args     []string
		code     int
		stdout   string
		stderrIn []string
	}{
		{"identical", []string{diffOld, diffOld}, ExitOK, "No changes.\n", nil},
		{"only removed", []string{diffOld, narrowedFile}, ExitOK, "", nil},
		{"added is an expansion", []string{narrowedFile, diffOld}, ExitFindings, "", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := run(t, append([]string{"diff"}, tc.args...)...)
			if code != tc.code {
				t.Errorf("exit %d, want %d: %s", code, tc.code, stderr)
			}
			if tc.stdout != "" && stdout != tc.stdout {
				t.Errorf("stdout = %q, want %q", stdout, tc.stdout)
			}
		})
	}
}

func TestDiffBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := func(name, content string) string {
		p := filepath.Join(dir, name)
		writeFile(t, p, content)
		return p
	}
	syntax := bad("syntax.json", "{\n  \"format\": \"steward.dev/snapshot/v1alpha1\",\n  \"apps\": [}\n")
	report := bad("report.json", `{"tool": {"name": "steward"}, "findings": []}`)
	format := bad("format.json", `{"format": "steward.dev/snapshot/v0"}`)
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"missing file", []string{diffOld, filepath.Join(dir, "nope.json")}, []string{"nope.json", "no such file"}},
		{"syntax error", []string{syntax, diffOld}, []string{"syntax.json: line 3"}},
		{"findings report, not a snapshot", []string{diffOld, report}, []string{"report.json", `unknown field "tool"`}},
		{"wrong format", []string{format, diffOld}, []string{"format.json", `format "steward.dev/snapshot/v0" is not a snapshot`}},
		{"one argument", []string{diffOld}, []string{"accepts 2 arg(s)"}},
		{"bad output format", []string{diffOld, diffNew, "-o", "sarif"}, []string{`unknown output format "sarif"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := run(t, append([]string{"diff"}, tc.args...)...)
			if code != ExitUsage {
				t.Errorf("exit %d, want %d", code, ExitUsage)
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want nothing", stdout)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q does not say %q", stderr, w)
				}
			}
		})
	}
}

// TestDiffOfDumpedSnapshots checks that check --dump-snapshot writes what
// diff reads.
func TestDiffOfDumpedSnapshots(t *testing.T) {
	code, stdout, stderr := run(t, "check", exampleDir, "--dump-snapshot", "--now", "2026-11-25")
	if code != ExitOK {
		t.Fatalf("check: exit %d: %s", code, stderr)
	}
	path := filepath.Join(t.TempDir(), "snap.json")
	writeFile(t, path, stdout)
	code, out, stderr := run(t, "diff", path, path)
	if code != ExitOK || out != "No changes.\n" {
		t.Errorf("diff of a dumped snapshot with itself: exit %d, %q, %s", code, out, stderr)
	}
}
