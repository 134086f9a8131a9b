package inventory

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func ptr[T any](v T) *T { return &v }

func TestLoadValidTree(t *testing.T) {
	t.Parallel()
	got, err := Load([]string{"testdata/valid"}, Options{RequireManifests: true})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	acme := "testdata/valid/acme.yaml"
	want := &Inventory{
		Identities: []*Identity{
			{
				Metadata: Metadata{Name: "billing-sync-prod"},
				Spec: IdentitySpec{
					Service:     "billing-sync",
					Owner:       "finance-platform",
					Environment: "production",
					Criticality: "high",
					Lifecycle:   "active",
					Purpose:     "Push invoice status from the billing system to Opportunity",
					Salesforce: SalesforceBinding{
						URL:                 "https://acme.my.salesforce.com",
						App:                 "Billing_Sync",
						RunAs:               "billing.integration@acme.com",
						RunAsProfile:        "Minimum Access - API Only Integrations",
						RunAsPermissionSets: []string{"Billing_Integration"},
					},
					Access: Access{
						Scopes: []string{"api"},
						Objects: map[string][]string{
							"Opportunity": {"read", "edit"},
							"Invoice__c":  {"read", "create"},
						},
					},
					Credential: Credential{Secret: "billing-sync-prod", RotationDays: 90, RotatedAt: Date{2026, 10, 1}},
					Consumers: []Consumer{
						{OIDC: &OIDCConsumer{Issuer: "https://token.actions.githubusercontent.com", Subject: "repo:acme/billing:environment:prod"}},
						{SPIFFE: "spiffe://acme.org/ns/billing/sa/sync"},
					},
					Review: Review{IntervalDays: 90, LastReviewed: Date{2026, 9, 30}},
				},
				Location: Location{File: acme, Line: 1},
			},
			{
				Metadata: Metadata{Name: "legacy-export", Labels: map[string]string{"tier": "3"}},
				Spec: IdentitySpec{
					Service:     "legacy-export",
					Owner:       "sales-ops",
					Environment: "production",
					Criticality: "low",
					Lifecycle:   "retired",
					Agent:       true,
					Salesforce:  SalesforceBinding{URL: "https://acme.my.salesforce.com", App: "Legacy_Export"},
					Credential:  Credential{Secret: strings.Repeat("0123456789abcdef", 4)},
					Consumers:   []Consumer{{SPIFFE: "spiffe://acme.org/ns/legacy/sa/export"}},
				},
				Location: Location{File: "testdata/valid/identities/legacy-export.yaml", Line: 1},
			},
			{
				Metadata: Metadata{Name: "erp-sync-uat"},
				Spec: IdentitySpec{
					Service:     "erp-sync",
					Owner:       "data.platform",
					Environment: "sandbox",
					Criticality: "medium",
					Lifecycle:   "active",
					Vendor:      ptr("Northwind Integrations"),
					Purpose:     "Nightly account sync from the ERP into the UAT sandbox.\n",
					Salesforce: SalesforceBinding{
						URL:   "https://acme--uat.sandbox.my.salesforce.com",
						App:   "ERP_Sync_UAT",
						RunAs: "erp.integration@acme.com.uat",
					},
					Access: Access{
						Scopes: []string{"api"},
						Objects: map[string][]string{
							"Account": {"read", "create", "edit"},
							"Contact": {"read", "create", "edit"},
						},
					},
					Credential: Credential{Secret: "salesforce/uat/erp-sync", RotationDays: 30, RotatedAt: Date{2026, 9, 15}},
					Consumers: []Consumer{
						{OIDC: &OIDCConsumer{Issuer: "https://login.northwind.example/", Subject: "svc-erp-sync", Audience: "steward"}},
					},
					Review: Review{IntervalDays: 180},
				},
				Location: Location{File: "testdata/valid/identities/sandbox/erp-sync.yaml", Line: 2},
			},
		},
		Teams: []*Team{
			{
				Metadata: Metadata{Name: "finance-platform"},
				Spec:     TeamSpec{Members: []string{"ana@acme.com", "raj@acme.com"}, Backup: "sec-oncall@acme.com"},
				Location: Location{File: acme, Line: 36},
			},
			{
				Metadata: Metadata{Name: "sales-ops", Labels: map[string]string{"org": "revenue"}},
				Spec:     TeamSpec{Members: []string{"lee@acme.com"}, Backup: "sec-oncall@acme.com"},
				Location: Location{File: "testdata/valid/teams/platform.yml", Line: 5},
			},
			{
				Metadata: Metadata{Name: "data.platform", Annotations: map[string]string{"wiki": "https://wiki.acme.com/data-platform"}},
				Location: Location{File: "testdata/valid/teams/platform.yml", Line: 16},
			},
		},
		Exceptions: []*Exception{
			{
				Metadata: Metadata{Name: "billing-viewall-2026q4"},
				Spec: ExceptionSpec{
					Identity:             "billing-sync-prod",
					Rule:                 "NHI-RUN-02",
					Reason:               "Month-end reconciliation needs View All on Invoice__c until the sharing model is fixed",
					ApprovedBy:           "ciso@acme.com",
					Expires:              Date{2026, 12, 31},
					CompensatingControls: []string{"ip-restriction", "30-day-rotation"},
				},
				Location: Location{File: acme, Line: 43},
			},
			{
				Metadata: Metadata{Name: "legacy-export-data-01"},
				Spec: ExceptionSpec{
					Identity:   "legacy-export",
					Rule:       "ACME-DATA-01",
					Reason:     "Export job is being decommissioned",
					ApprovedBy: "ciso@acme.com",
					Expires:    Date{2027, 1, 31},
				},
				Location: Location{File: "testdata/valid/exceptions/legacy.yaml", Line: 1},
			},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Load mismatch (-want +got):\n%s", diff)
	}
	if got.Identity("legacy-export") == nil || !got.Identity("legacy-export").Spec.Credential.InlineValue() {
		t.Errorf("legacy-export: inline secret value not flagged")
	}
	if got.Identity("billing-sync-prod").Spec.Credential.SecretRef() != "billing-sync-prod" {
		t.Errorf("billing-sync-prod: SecretRef() is not the reference")
	}
	if got.Team("sales-ops") == nil || got.Team("nobody") != nil || got.Identity("nobody") != nil {
		t.Errorf("lookups by name are wrong")
	}
}

// wantedErrors reads the "# want: LINE:COL: MESSAGE" lines of a test file.
func wantedErrors(t *testing.T, file string) []*Error {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var want []*Error
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "# want: ")
		if !ok {
			continue
		}
		var line, col int
		parts := strings.SplitN(rest, ":", 3)
		if len(parts) != 3 {
			t.Fatalf("%s: bad want line %q", file, sc.Text())
		}
		line, _ = strconv.Atoi(parts[0])
		col, _ = strconv.Atoi(parts[1])
		want = append(want, &Error{File: file, Line: line, Column: col, Msg: strings.TrimSpace(parts[2])})
	}
	return want
}

// TestLoadInvalid loads each file under testdata/invalid on its own and
// checks that the errors are exactly the ones its "# want:" lines list, at
// the file, line and column given.
func TestLoadInvalid(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/invalid/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			want := wantedErrors(t, file)
			if len(want) == 0 {
				t.Fatalf("%s has no # want: line", file)
			}
			_, err := Load([]string{file}, Options{RequireManifests: true})
			if diff := cmp.Diff(want, Errors(err)); diff != "" {
				t.Errorf("errors mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestLoadInvalidTogether loads every invalid file in one call: one bad file
// does not stop the others, so each file's own errors are all reported
// (names shared between the files add a few), sorted by file and line.
func TestLoadInvalidTogether(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob("testdata/invalid/*.yaml")
	inv, err := Load(files, Options{RequireManifests: true})
	got := Errors(err)
	seen := map[Error]bool{}
	for _, e := range got {
		seen[*e] = true
	}
	for _, f := range files {
		for _, w := range wantedErrors(t, f) {
			if !seen[*w] {
				t.Errorf("missing error %v", w)
			}
		}
	}
	sorted := append([]*Error(nil), got...)
	sortErrors(sorted)
	if diff := cmp.Diff(sorted, got); diff != "" {
		t.Errorf("errors not sorted (-sorted +got):\n%s", diff)
	}
	if len(inv.Teams) == 0 {
		t.Errorf("valid documents of invalid files were not loaded")
	}
}

func TestLoadPartial(t *testing.T) {
	t.Parallel()
	inv, err := Load([]string{"testdata/invalid/partial.yaml"}, Options{RequireManifests: true})
	if err == nil {
		t.Fatal("want an error")
	}
	var names []string
	for _, tm := range inv.Teams {
		names = append(names, tm.Metadata.Name)
	}
	if diff := cmp.Diff([]string{"first", "third"}, names); diff != "" {
		t.Errorf("teams loaded (-want +got):\n%s", diff)
	}
}

// writeFiles creates files under a new temporary directory and returns it.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const teamDoc = "apiVersion: steward.dev/v1alpha1\nkind: Team\nmetadata: {name: %s}\nspec: {}\n"

func TestLoadCases(t *testing.T) {
	t.Parallel()
	workflow := "name: ci\non: [push]\njobs:\n  test: {runs-on: ubuntu-latest}\n"
	tests := []struct {
		name      string
		files     map[string]string
		paths     []string // relative to the directory; "." when empty
		require   bool
		requireIn []string // relative to the directory
		want      []*Error // File relative to the directory
		teams     []string
	}{
		{
			name:    "no paths",
			paths:   []string{},
			require: true,
			want:    []*Error{{Msg: "no manifests found: no paths given"}},
		},
		{
			name:  "no paths, manifests optional",
			paths: []string{},
		},
		{
			name:    "directory without YAML",
			files:   map[string]string{"README.md": "# inventory\n"},
			require: true,
			want:    []*Error{{File: ".", Msg: "no manifests found in directory"}},
		},
		{
			name:  "only other YAML, manifests optional",
			files: map[string]string{".github/workflows/ci.yml": workflow, "config/project-scratch-def.yaml": "orgName: acme\n"},
		},
		{
			name:    "only other YAML, manifests required",
			files:   map[string]string{".github/workflows/ci.yml": workflow},
			require: true,
			want:    []*Error{{File: ".github/workflows/ci.yml", Msg: "no Steward manifest (apiVersion steward.dev/...) in file"}},
		},
		{
			name:  "malformed other YAML skipped when manifests optional",
			files: map[string]string{"chart/templates/deploy.yaml": "metadata:\n  name: {{ .Release.Name }\n", "team.yaml": fmt.Sprintf(teamDoc, "a")},
			teams: []string{"a"},
		},
		{
			name:    "malformed other YAML reported when manifests required",
			files:   map[string]string{"broken.yaml": "a: [\n"},
			require: true,
			want:    []*Error{{File: "broken.yaml", Line: 1, Column: 4, Msg: "malformed YAML: sequence end token ']' not found"}},
		},
		{
			name:  "manifest found among other YAML",
			files: map[string]string{".github/workflows/ci.yml": workflow, "steward/teams.yaml": fmt.Sprintf(teamDoc, "a")},
			teams: []string{"a"},
		},
		{
			name: ".git and node_modules are skipped",
			files: map[string]string{
				".git/teams.yaml":             "bogus: [",
				"node_modules/pkg/teams.yaml": "bogus: [",
				"teams.YML":                   fmt.Sprintf(teamDoc, "a"),
				"teams.txt":                   "bogus: [",
			},
			require: true,
			teams:   []string{"a"},
		},
		{
			name:    "explicit file read whatever its name",
			files:   map[string]string{"teams.txt": fmt.Sprintf(teamDoc, "a")},
			paths:   []string{"teams.txt"},
			require: true,
			teams:   []string{"a"},
		},
		{
			name:    "same file twice is read once",
			files:   map[string]string{"t/teams.yaml": fmt.Sprintf(teamDoc, "a")},
			paths:   []string{"t", "t/teams.yaml", "./t/../t/teams.yaml"},
			require: true,
			teams:   []string{"a"},
		},
		{
			name:    "missing path",
			paths:   []string{"nope.yaml"},
			require: true,
			want:    []*Error{{File: "nope.yaml", Msg: "no such file or directory"}},
		},
		{
			name: "duplicate across files names the first",
			files: map[string]string{
				"a.yaml": fmt.Sprintf(teamDoc, "x"),
				"b.yaml": "# another copy\n" + fmt.Sprintf(teamDoc, "x"),
			},
			require: true,
			want:    []*Error{{File: "b.yaml", Line: 4, Column: 18, Msg: "metadata.name: duplicate Team name, first defined at DIR/a.yaml:1"}},
			teams:   []string{"x"},
		},
		{
			name: "errors in several files are all reported, sorted",
			files: map[string]string{
				"b.yaml": "apiVersion: steward.dev/v1alpha1\nkind: Team\nmetadata: {name: b}\nspec: {x: 1}\n---\n" + fmt.Sprintf(teamDoc, "c"),
				"a.yaml": "apiVersion: steward.dev/v1alpha1\nkind: Team\nmetadata: {name: A}\nspec: {}\n",
			},
			require: true,
			want: []*Error{
				{File: "a.yaml", Line: 3, Column: 18, Msg: "metadata.name: must match ^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"},
				{File: "b.yaml", Line: 4, Column: 8, Msg: `spec: unknown field "x" (valid fields: members, backup)`},
			},
			teams: []string{"c"},
		},
		{
			name: "positions count from the file start in later documents",
			files: map[string]string{
				"t.yaml": fmt.Sprintf(teamDoc, "a") + "---\n" + fmt.Sprintf(teamDoc, "b") + "---\n\n" +
					"apiVersion: steward.dev/v1alpha1\nkind: Team\nmetadata: {name: c}\nspec: {members: [x, y}\n" +
					"---\napiVersion: steward.dev/v1alpha1\nkind: Team\nmetadata: {name: d, name: e}\nspec: {}\n",
			},
			require: true,
			want: []*Error{
				{File: "t.yaml", Line: 15, Column: 22, Msg: "malformed YAML: ',' or ']' must be specified"},
				{File: "t.yaml", Line: 19, Column: 21, Msg: "malformed YAML: mapping key already defined at line 19"},
			},
			teams: []string{"a", "b"},
		},
		{
			name: "strict paths among optional ones",
			files: map[string]string{
				"project/.github/workflows/ci.yml":   workflow,
				"project/steward/billing.yaml":       "apiVersion: steward.dev/v1alpha1\nkind: Identity\nmetadata: {name: i}\nspec: {owner: a}\n",
				"inventory/teams.yaml":               fmt.Sprintf(teamDoc, "a"),
				"inventory/ci.yml":                   workflow,
				"inventory/empty/README.md":          "nothing here\n",
				"other/notes.yaml":                   "not: steward\n",
				"project/inventory-inside/teams.yml": workflow,
			},
			paths:     []string{"project", "inventory", "inventory/empty", "other"},
			requireIn: []string{"inventory", "inventory/empty", "project/inventory-inside"},
			want: []*Error{
				{File: "inventory/ci.yml", Msg: "no Steward manifest (apiVersion steward.dev/...) in file"},
				{File: "inventory/empty", Msg: "no manifests found in directory"},
				{File: "project/inventory-inside/teams.yml", Msg: "no Steward manifest (apiVersion steward.dev/...) in file"},
			},
			teams: []string{"a"},
		},
		{
			name: "exception of an identity left out is left out",
			files: map[string]string{"i.yaml": "apiVersion: steward.dev/v1alpha1\nkind: Identity\nmetadata: {name: i}\nspec: {owner: nobody}\n" +
				"---\napiVersion: steward.dev/v1alpha1\nkind: Exception\nmetadata: {name: e}\nspec: {identity: i, rule: NHI-RUN-02}\n"},
			require: true,
			want:    []*Error{{File: "i.yaml", Line: 4, Column: 15, Msg: "spec.owner: no Team with this name is defined"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := writeFiles(t, tt.files)
			paths := []string{dir}
			if tt.paths != nil {
				paths = nil
				for _, p := range tt.paths {
					paths = append(paths, filepath.Join(dir, p))
				}
			}
			var requireIn []string
			for _, p := range tt.requireIn {
				requireIn = append(requireIn, filepath.Join(dir, p))
			}
			inv, err := Load(paths, Options{RequireManifests: tt.require, RequireManifestsIn: requireIn})
			var want []*Error
			for _, e := range tt.want {
				e := *e
				switch e.File {
				case "":
				case ".":
					e.File = dir
				default:
					e.File = filepath.Join(dir, e.File)
				}
				e.Msg = strings.ReplaceAll(e.Msg, "DIR", dir)
				want = append(want, &e)
			}
			if diff := cmp.Diff(want, Errors(err)); diff != "" {
				t.Errorf("errors mismatch (-want +got):\n%s", diff)
			}
			if (err == nil) != (len(want) == 0) {
				t.Errorf("err = %v, want an error: %v", err, len(want) > 0)
			}
			var teams []string
			for _, tm := range inv.Teams {
				teams = append(teams, tm.Metadata.Name)
			}
			if diff := cmp.Diff(tt.teams, teams); diff != "" {
				t.Errorf("teams (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadSymlinkedFileReadOnce(t *testing.T) {
	t.Parallel()
	dir := writeFiles(t, map[string]string{"teams.yaml": fmt.Sprintf(teamDoc, "a")})
	if err := os.Symlink(filepath.Join(dir, "teams.yaml"), filepath.Join(dir, "link.yaml")); err != nil {
		t.Skip("no symbolic links:", err)
	}
	inv, err := Load([]string{dir}, Options{RequireManifests: true})
	if err != nil || len(inv.Teams) != 1 {
		t.Errorf("Load = %d teams, %v; want the file read once", len(inv.Teams), err)
	}
}
