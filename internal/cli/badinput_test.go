package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const billionLaughs = `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<ConnectedApp xmlns="http://soap.sforce.com/2006/04/metadata"><label>&lol3;</label></ConnectedApp>
`

// TestCheckBadInput gives check one bad file beside a good app: without
// --keep-going it exits 2 naming the file and line; with it, the good app is
// still checked and the error is reported alongside the findings.
func TestCheckBadInput(t *testing.T) {
	good, err := os.ReadFile(filepath.Join(exampleDir, "force-app/main/default/connectedApps/Legacy_Reporting.connectedApp-meta.xml"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		file     string
		content  func(path string) // writes the bad file
		wantLine string            // "file:line" fragment expected in the error
	}{
		{
			name: "malformed YAML", file: "inventory/bad.yaml",
			content:  text("apiVersion: steward.dev/v1alpha1\nkind: Identity\nmetadata: {name: a\nspec: {}\n"),
			wantLine: "bad.yaml:",
		},
		{
			name: "unknown kind", file: "inventory/robot.yaml",
			content:  text("apiVersion: steward.dev/v1alpha1\nkind: Robot\nmetadata: {name: r2}\nspec: {}\n"),
			wantLine: "robot.yaml:2",
		},
		{
			name: "missing team", file: "inventory/orphan.yaml",
			content:  text("apiVersion: steward.dev/v1alpha1\nkind: Identity\nmetadata: {name: orphan}\nspec:\n  owner: ghosts\n  salesforce: {app: X}\n"),
			wantLine: "orphan.yaml:5",
		},
		{
			name: "unknown field", file: "inventory/typo.yaml",
			content:  text("apiVersion: steward.dev/v1alpha1\nkind: Team\nmetadata: {name: t}\nspec:\n  memebers: [a@b.c]\n"),
			wantLine: "typo.yaml:5",
		},
		{
			name: "malformed XML", file: "connectedApps/Broken.connectedApp-meta.xml",
			content:  text("<?xml version=\"1.0\"?>\n<ConnectedApp>\n  <label>x</labl>\n</ConnectedApp>\n"),
			wantLine: "Broken.connectedApp-meta.xml:3",
		},
		{
			name: "billion laughs", file: "connectedApps/Lol.connectedApp-meta.xml",
			content:  text(billionLaughs),
			wantLine: "Lol.connectedApp-meta.xml:2",
		},
		{
			name: "invalid UTF-8", file: "permissionsets/Bad.permissionset-meta.xml",
			content:  text("<?xml version=\"1.0\"?>\n<PermissionSet>\n<label>\xff\xfe</label>\n</PermissionSet>\n"),
			wantLine: "Bad.permissionset-meta.xml:3",
		},
		{
			name: "50 MiB file", file: "permissionsets/Huge.permissionset-meta.xml",
			content: func(path string) {
				f, err := os.Create(path)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				if err := f.Truncate(50 << 20); err != nil {
					t.Fatal(err)
				}
			},
			wantLine: "Huge.permissionset-meta.xml",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "connectedApps", "Legacy_Reporting.connectedApp-meta.xml"), string(good))
			bad := filepath.Join(dir, filepath.FromSlash(tt.file))
			if err := os.MkdirAll(filepath.Dir(bad), 0o755); err != nil {
				t.Fatal(err)
			}
			tt.content(bad)

			code, stdout, stderr := run(t, "check", dir, "-o", "json")
			if code != ExitUsage {
				t.Fatalf("exit = %d, want 2\nstderr:\n%s", code, stderr)
			}
			if !strings.Contains(stderr, tt.wantLine) {
				t.Errorf("stderr does not name %q:\n%s", tt.wantLine, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout should be empty on invalid input, got:\n%s", stdout)
			}

			code, stdout, stderr = run(t, "check", dir, "-o", "json", "--keep-going")
			if code != ExitFindings {
				t.Fatalf("--keep-going: exit = %d, want 1 (the good app's findings)\nstderr:\n%s", code, stderr)
			}
			r := decode(t, stdout)
			var named, legacy bool
			for _, e := range r.Errors {
				named = named || strings.Contains(e.File, filepath.Base(bad))
			}
			for _, f := range r.Findings {
				legacy = legacy || f.Resource.Name == "Legacy_Reporting"
			}
			if !named {
				t.Errorf("--keep-going: errors do not name %s: %+v", filepath.Base(bad), r.Errors)
			}
			if !legacy {
				t.Error("--keep-going: the good app was not checked")
			}
		})
	}
}

func text(s string) func(string) {
	return func(path string) {
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			panic(err)
		}
	}
}

func TestCheckEmptyDirectory(t *testing.T) {
	code, _, stderr := run(t, "check", t.TempDir())
	if code != ExitUsage || !strings.Contains(stderr, "no Salesforce metadata files or Steward manifests") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr)
	}
}

func TestCheckMissingPath(t *testing.T) {
	code, _, stderr := run(t, "check", filepath.Join(t.TempDir(), "nope"))
	if code != ExitUsage || !strings.Contains(stderr, "nope") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr)
	}
}
