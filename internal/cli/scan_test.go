package cli

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/steward-dev/steward/internal/salesforce/fakeorg"
)

const acmeScenario = "../../examples/acme/org/scenario.yaml"

// serveOrg serves a scenario on loopback with the tests' clock and returns
// its URL and the scanner's credentials as environment variables.
func serveOrg(t *testing.T, sc *fakeorg.Scenario) (url string, vars map[string]string) {
	t.Helper()
	srv, err := fakeorg.New(sc, fakeorg.Options{Clock: func() time.Time { return time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	id, secret, ok := sc.Credentials(fakeorg.ScannerApp)
	if !ok {
		t.Fatal("scenario has no scanner app")
	}
	return ts.URL, map[string]string{envClientID: id, envClientSecret: secret}
}

func loadAcmeScenario(t *testing.T) *fakeorg.Scenario {
	t.Helper()
	sc, err := fakeorg.LoadScenario(acmeScenario)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// scanArgs are the arguments of a scan of the emulated Acme org.
func scanArgs(url string, more ...string) []string {
	return append([]string{"scan", "--url", url, "--org-url", "https://acme.my.salesforce.com",
		"--inventory", filepath.Join(exampleDir, "inventory"), "--now", "2026-11-25"}, more...)
}

func TestScanGolden(t *testing.T) {
	old := version
	version = "test"
	t.Cleanup(func() { version = old })
	url, vars := serveOrg(t, loadAcmeScenario(t))
	for _, format := range []string{"json", "table"} {
		t.Run(format, func(t *testing.T) {
			code, stdout, stderr := runWithEnv(t, vars, scanArgs(url, "-o", format)...)
			if code != ExitFindings {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, ExitFindings, stderr)
			}
			golden := filepath.Join("testdata", "acme-scan."+format)
			if *update {
				if err := os.WriteFile(golden, []byte(stdout), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./internal/cli -run TestScanGolden -update and review the file)", err)
			}
			if diff := cmp.Diff(string(want), stdout); diff != "" {
				t.Errorf("output differs from %s (-want +got):\n%s", golden, diff)
			}
		})
	}
}

// TestScanFindsLiveProblems checks the problems seeded in the Acme org
// scenario, rule by rule, and that the well-governed identity stays clean.
func TestScanFindsLiveProblems(t *testing.T) {
	url, vars := serveOrg(t, loadAcmeScenario(t))
	_, stdout, stderr := runWithEnv(t, vars, scanArgs(url, "-o", "json")...)
	r := decode(t, stdout)
	got := map[string]bool{}
	for _, f := range r.Findings {
		got[f.Rule+" "+f.Resource.Name] = true
		if f.Identity != nil && *f.Identity == "billing-sync-prod" {
			t.Errorf("well-governed billing-sync-prod has %s: %s", f.Rule, f.Message)
		}
	}
	for _, want := range []string{
		"NHI-INV-05 Warehouse_Feed",                     // dormant
		"NHI-INV-06 support-bridge-prod",                // retired, still logging in
		"NHI-RUN-04 marketing.integration@acme.example", // UI login by a run-as user
		"NHI-MON-03 Legacy Reporting",                   // tokens, no identity
		"NHI-REV-02 erp-connector-prod",                 // audit trail: permission set assigned
		"NHI-RUN-02 erp.integration@acme.example",       // the assigned set holds Modify All Data
		"NHI-APP-05 Marketing_Sync",                     // IP relaxation read from the org
		"NHI-INV-01 Legacy_Reporting",                   // client credentials, no identity
		"NHI-APP-01 integration@acme.example",           // shared run-as user
		"NHI-RUN-01 marketing.integration@acme.example", // System Administrator run-as
		"NHI-ORG-01 https://acme.my.salesforce.com",     // bypass permissions outside the admins
		"NHI-ORG-02 Standard User",                      // API Enabled on the general profile
	} {
		if !got[want] {
			t.Errorf("missing finding %q", want)
		}
	}
	if !strings.Contains(stdout, "erp-connector-uat is bound to https://acme--uat.sandbox.my.salesforce.com") {
		t.Errorf("the sandbox identity is not reported as left out; stderr:\n%s", stderr)
	}
}

func TestScanSaveAndBaseline(t *testing.T) {
	dir := t.TempDir()
	saved := filepath.Join(dir, "before.json")
	url, vars := serveOrg(t, loadAcmeScenario(t))
	if code, _, stderr := runWithEnv(t, vars, scanArgs(url, "--save", saved, "-o", "json")...); code == ExitUsage {
		t.Fatalf("scan --save failed:\n%s", stderr)
	}
	if _, err := os.Stat(saved); err != nil {
		t.Fatal(err)
	}

	// The billing run-as user gains a permission set between the scans.
	sc := loadAcmeScenario(t)
	sc.Assignments = append(sc.Assignments, fakeorg.Assignment{User: "billing.integration@acme.example", PermissionSet: "Reporting_Export"})
	url2, vars2 := serveOrg(t, sc)
	_, stdout, stderr := runWithEnv(t, vars2, scanArgs(url2, "--baseline", saved, "-o", "json")...)
	r := decode(t, stdout)
	found := false
	for _, f := range r.Findings {
		if f.Rule == "NHI-REV-02" && f.Identity != nil && *f.Identity == "billing-sync-prod" {
			found = strings.Contains(f.Message, "Reporting_Export")
		}
	}
	if !found {
		t.Errorf("no NHI-REV-02 finding naming the new permission set for billing-sync-prod; stderr:\n%s\nstdout:\n%s", stderr, stdout)
	}

	// steward diff shows the same expansion.
	after := filepath.Join(dir, "after.json")
	runWithEnv(t, vars2, scanArgs(url2, "--save", after, "-o", "json")...)
	code, out, _ := run(t, "diff", saved, after)
	if code != ExitFindings || !strings.Contains(out, "Reporting_Export") {
		t.Errorf("diff exit %d, output:\n%s\nwant exit 1 naming Reporting_Export", code, out)
	}
}

func TestScanBadInput(t *testing.T) {
	url, vars := serveOrg(t, loadAcmeScenario(t))
	wrong := map[string]string{envClientID: vars[envClientID], envClientSecret: "not-the-secret-0000000000000000"}
	tests := []struct {
		name string
		vars map[string]string
		args []string
		want string // in stderr
	}{
		{"no credentials", nil, scanArgs(url), "STEWARD_SF_CLIENT_ID and STEWARD_SF_CLIENT_SECRET must be set"},
		{"no url", vars, []string{"scan"}, "--url is required"},
		{"not https", vars, []string{"scan", "--url", "http://acme.my.salesforce.com"}, "https"},
		{"wrong secret", wrong, scanArgs(url), "invalid_client"},
		{"bad baseline", vars, scanArgs(url, "--baseline", "scan_test.go"), "scan_test.go"},
		{"bad format", vars, scanArgs(url, "-o", "yaml"), "unknown output format"},
		{"unreachable org", vars, []string{"scan", "--url", "http://127.0.0.1:1"}, "127.0.0.1:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runWithEnv(t, tt.vars, tt.args...)
			if code != ExitUsage {
				t.Errorf("exit %d, want %d", code, ExitUsage)
			}
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr = %q, want it to contain %q", stderr, tt.want)
			}
			for _, secret := range []string{vars[envClientSecret], wrong[envClientSecret]} {
				if strings.Contains(stdout+stderr, secret) {
					t.Error("a client secret was printed")
				}
			}
		})
	}
}

// An Exception naming an OAuth app as its resource accepts NHI-MON-03 for
// an app people use on purpose.
func TestScanExceptionForOAuthApp(t *testing.T) {
	inv := t.TempDir()
	files, err := filepath.Glob(filepath.Join(exampleDir, "inventory", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("inventory files: %v", err)
	}
	for _, f := range files {
		copyTree(t, f, inv)
	}
	writeFile(t, filepath.Join(inv, "oauth-apps.yaml"), `apiVersion: steward.dev/v1alpha1
kind: Exception
metadata: {name: legacy-reporting-human-use}
spec:
  resource: Legacy Reporting
  rule: NHI-MON-03
  reason: Finance analysts use it interactively until the report moves to the data warehouse
  approvedBy: ciso@acme.example
  expires: 2027-01-31
  compensatingControls: [named-users-only, quarterly-review]
`)
	url, vars := serveOrg(t, loadAcmeScenario(t))
	_, stdout, stderr := runWithEnv(t, vars, "scan", "--url", url, "--org-url", "https://acme.my.salesforce.com",
		"--inventory", inv, "--now", "2026-11-25", "-o", "json")
	r := decode(t, stdout)
	for _, f := range r.Findings {
		if f.Rule == "NHI-MON-03" && f.Resource.Name == "Legacy Reporting" {
			t.Errorf("NHI-MON-03 on Legacy Reporting not suppressed; stderr:\n%s", stderr)
		}
	}
	suppressed := false
	for _, f := range r.Suppressed {
		suppressed = suppressed || (f.Rule == "NHI-MON-03" && f.SuppressedBy == "legacy-reporting-human-use")
	}
	if !suppressed {
		t.Errorf("the exception suppressed nothing: %+v", r.Suppressed)
	}
}
