package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"
)

var update = flag.Bool("update", false, "rewrite golden files")

const exampleDir = "../../examples/acme"

// exampleSecret is the fake consumer secret committed in the example project.
const exampleSecret = "EXAMPLE0NOT0A0REAL0SECRET0000000000000000000000000000000000000000"

// run executes the command line with a fixed clock and captured output.
func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return runWithEnv(t, nil, args...)
}

// runWithEnv runs the CLI with the given environment variables.
func runWithEnv(t *testing.T, vars map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := Env{
		Stdin:      strings.NewReader(""),
		Stdout:     &out,
		Stderr:     &errb,
		Getenv:     func(k string) string { return vars[k] },
		Now:        func() time.Time { return time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC) },
		IsTerminal: func(io.Writer) bool { return false },
	}
	code = Main(context.Background(), args, env)
	return code, out.String(), errb.String()
}

type jsonReport struct {
	Tool     struct{ Name, Version string } `json:"tool"`
	Findings []struct {
		Rule     string  `json:"rule"`
		Severity string  `json:"severity"`
		Message  string  `json:"message"`
		Identity *string `json:"identity"`
		Resource struct {
			Kind, Name, File string
			Line             int
		} `json:"resource"`
	} `json:"findings"`
	Suppressed []struct {
		Rule         string `json:"rule"`
		SuppressedBy string `json:"suppressedBy"`
	} `json:"suppressed"`
	Errors []struct {
		File    string `json:"file"`
		Line    int    `json:"line"`
		Message string `json:"message"`
	} `json:"errors"`
	Summary map[string]int `json:"summary"`
}

func decode(t *testing.T, s string) jsonReport {
	t.Helper()
	var r jsonReport
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		t.Fatalf("output is not the findings JSON: %v\n%s", err, s)
	}
	return r
}

// TestCheckExample runs the example project end to end and checks that every
// planted failure is found, the well-governed integration is clean, and the
// current exception suppresses its finding while the expired one does not.
func TestCheckExample(t *testing.T) {
	code, stdout, stderr := run(t, "check", exampleDir, "-o", "json", "--now", "2026-11-25")
	if code != ExitFindings {
		t.Fatalf("exit code = %d, want %d (high findings); stderr:\n%s", code, ExitFindings, stderr)
	}
	r := decode(t, stdout)

	type key struct{ rule, subject string }
	got := map[key]bool{}
	for _, f := range r.Findings {
		subject := f.Resource.Name
		if f.Identity != nil {
			subject = *f.Identity
		}
		got[key{f.Rule, subject}] = true
		if f.Identity != nil && *f.Identity == "billing-sync-prod" {
			t.Errorf("the well-governed integration has a finding: %s %s", f.Rule, f.Message)
		}
	}
	want := []key{
		{"NHI-APP-02", "marketing-sync-prod"},    // full, refresh_token
		{"NHI-APP-05", "marketing-sync-prod"},    // BYPASS
		{"NHI-APP-06", "marketing-sync-prod"},    // infinite refresh tokens
		{"NHI-APP-04", "marketing-sync-prod"},    // not admin approved
		{"NHI-RUN-01", "marketing-sync-prod"},    // System Administrator run-as
		{"NHI-RUN-02", "marketing-sync-prod"},    // ModifyAllData; the exception expired
		{"NHI-REV-01", "marketing-sync-prod"},    // review overdue
		{"NHI-SEC-02", "marketing-sync-prod"},    // rotation overdue
		{"NHI-REV-03", "marketing-sync-prod"},    // expired exception
		{"NHI-ENV-01", "Erp_Connector"},          // one app in production and sandbox
		{"NHI-INV-01", "Legacy_Reporting"},       // unowned app
		{"NHI-SEC-01", "Legacy_Reporting"},       // consumer secret committed
		{"NHI-SEC-01", "case-triage-agent-prod"}, // global OAuth settings committed
		{"NHI-AGT-01", "case-triage-agent-prod"}, // agent shares the run-as user
	}
	for _, k := range want {
		if !got[k] {
			t.Errorf("missing finding %s for %s", k.rule, k.subject)
		}
	}
	var sharedRunAs bool
	for _, f := range r.Findings {
		if f.Rule == "NHI-APP-01" && strings.Contains(f.Message, "integration@acme.example") {
			sharedRunAs = true
		}
	}
	if !sharedRunAs {
		t.Error("missing NHI-APP-01 for the run-as user shared by several apps")
	}
	if len(r.Suppressed) != 1 || r.Suppressed[0].SuppressedBy != "warehouse-connected-app-2027q1" {
		t.Errorf("suppressed = %+v, want the warehouse exception's NHI-APP-07 finding", r.Suppressed)
	}
	total := 0
	for _, n := range r.Summary {
		total += n
	}
	if total != len(r.Findings) {
		t.Errorf("summary counts %d findings, report lists %d", total, len(r.Findings))
	}
}

// TestCheckGolden pins the example's table and JSON output.
func TestCheckGolden(t *testing.T) {
	old := version
	version = "test"
	t.Cleanup(func() { version = old })
	for _, format := range []string{"json", "table"} {
		t.Run(format, func(t *testing.T) {
			_, stdout, _ := run(t, "check", exampleDir, "-o", format, "--now", "2026-11-25")
			golden := filepath.Join("testdata", "acme."+format)
			if *update {
				if err := os.WriteFile(golden, []byte(stdout), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./internal/cli -run TestCheckGolden -update and review the file)", err)
			}
			if diff := cmp.Diff(string(want), stdout); diff != "" {
				t.Errorf("output differs from %s (-want +got):\n%s", golden, diff)
			}
		})
	}
}

// TestSecretNeverPrinted checks every output form for the committed secret.
func TestSecretNeverPrinted(t *testing.T) {
	for _, args := range [][]string{
		{"check", exampleDir, "-o", "json"},
		{"check", exampleDir, "-o", "table"},
		{"check", exampleDir, "-o", "sarif"},
		{"check", exampleDir, "-o", "markdown"},
		{"check", exampleDir, "--dump-snapshot"},
		{"check", exampleDir, "-v"},
	} {
		_, stdout, stderr := run(t, args...)
		if strings.Contains(stdout+stderr, exampleSecret) || strings.Contains(stdout+stderr, "EXAMPLE0NOT0A0REAL") {
			t.Errorf("steward %s printed the consumer secret", strings.Join(args, " "))
		}
	}
}

func TestFailOn(t *testing.T) {
	tests := []struct {
		failOn string
		want   int
	}{
		{"critical", ExitFindings},
		{"high", ExitFindings},
		{"info", ExitFindings},
		{"none", ExitOK},
		{"bogus", ExitUsage},
	}
	for _, tt := range tests {
		t.Run(tt.failOn, func(t *testing.T) {
			code, _, stderr := run(t, "check", exampleDir, "-o", "json", "--fail-on", tt.failOn)
			if code != tt.want {
				t.Errorf("exit = %d, want %d; stderr: %s", code, tt.want, stderr)
			}
		})
	}
}

func TestFailOnCleanProject(t *testing.T) {
	// The well-governed integration alone: metadata and its own manifests.
	dir := t.TempDir()
	copyTree(t, filepath.Join(exampleDir, "force-app", "main", "default", "externalClientApps", "Billing_Sync.eca-meta.xml"), dir)
	for _, rel := range []string{
		"extlClntAppOauthSettings/Billing_Sync_oauth.ecaOauth-meta.xml",
		"extlClntAppOauthPolicies/Billing_Sync_plcy.ecaOauthPlcy-meta.xml",
		"extlClntAppPolicies/Billing_Sync_plcy.ecaPlcy-meta.xml",
		"permissionsets/Billing_Integration.permissionset-meta.xml",
		"profiles/Minimum Access - API Only Integrations.profile-meta.xml",
	} {
		copyTree(t, filepath.Join(exampleDir, "force-app", "main", "default", rel), dir)
	}
	copyTree(t, filepath.Join(exampleDir, "inventory", "billing-sync.yaml"), dir)
	writeFile(t, filepath.Join(dir, "team.yaml"), `apiVersion: steward.dev/v1alpha1
kind: Team
metadata: {name: finance-platform}
spec:
  members: [ana@acme.example]
  backup: sec-oncall@acme.example
`)
	code, stdout, stderr := run(t, "check", dir, "--now", "2026-11-25", "--fail-on", "info")
	if code != ExitOK {
		t.Fatalf("exit = %d, want 0 for the well-governed integration alone\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "No findings") {
		t.Errorf("table output does not say there are no findings:\n%s", stdout)
	}
}

func TestEveryCommandHasHelpWithExample(t *testing.T) {
	var missing []string
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if !c.Hidden && c.Name() != "help" && strings.TrimSpace(c.Example) == "" {
			missing = append(missing, c.CommandPath())
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRoot(Env{}))
	if len(missing) > 0 {
		t.Errorf("commands without an --help example: %s", strings.Join(missing, ", "))
	}
	code, stdout, _ := run(t, "check", "--help")
	if code != ExitOK || !strings.Contains(stdout, "Examples:") {
		t.Errorf("check --help: exit %d, output:\n%s", code, stdout)
	}
}

func TestVersion(t *testing.T) {
	code, stdout, _ := run(t, "version")
	if code != ExitOK || !strings.HasPrefix(stdout, "steward ") {
		t.Errorf("version: exit %d, output %q", code, stdout)
	}
}

func TestUnknownCommandIsUsageError(t *testing.T) {
	code, _, stderr := run(t, "chek")
	if code != ExitUsage || !strings.Contains(stderr, "Error:") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

// TestRulesDocUpToDate keeps docs/rules.md equal to the rule metadata.
func TestRulesDocUpToDate(t *testing.T) {
	code, stdout, stderr := run(t, "policy", "list", "-o", "markdown")
	if code != ExitOK {
		t.Fatalf("policy list: exit %d: %s", code, stderr)
	}
	path := filepath.Join("..", "..", "docs", "rules.md")
	if *update {
		if err := os.WriteFile(path, []byte(stdout), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), stdout); diff != "" {
		t.Errorf("docs/rules.md is stale; run go test ./internal/cli -run TestRulesDocUpToDate -update (-want +got):\n%s", diff)
	}
}

func TestPolicyList(t *testing.T) {
	code, stdout, _ := run(t, "policy", "list")
	if code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	for _, id := range []string{"NHI-INV-01", "NHI-APP-02", "NHI-RUN-02", "NHI-SEC-01", "NHI-AGT-01"} {
		if !strings.Contains(stdout, id) {
			t.Errorf("policy list does not list %s", id)
		}
	}
}

const userRule = `# METADATA
# title: Apps must name a contact
# custom:
#   id: ACME-001
#   severity: low
#   controls: [ACME internal 4.2]
#   remediation: Set contactEmail on the app.
package steward.rules.acme_001

finding contains f if {
	some app in input.apps
	app.contactEmail == ""
	f := {"message": sprintf("%s has no contact", [app.name]), "identity": null,
		"resource": {"kind": app.kind, "name": app.name}}
}
`

func TestPolicyTestCommand(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "acme_001.rego"), userRule)
	writeFile(t, filepath.Join(dir, "acme_001_test.rego"), `package steward.rules.acme_001_test

import data.steward.rules.acme_001

test_fires if {
	count(acme_001.finding) == 1 with input as {"apps": [{"name": "X", "kind": "ConnectedApp", "contactEmail": ""}]}
}

test_silent if {
	count(acme_001.finding) == 0 with input as {"apps": [{"name": "X", "kind": "ConnectedApp", "contactEmail": "a@b.c"}]}
}
`)
	code, stdout, stderr := run(t, "policy", "test", dir)
	if code != ExitOK || !strings.Contains(stdout, "2 passed, 0 failed") {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}

	writeFile(t, filepath.Join(dir, "broken_test.rego"), `package steward.rules.acme_001_more_test

import data.steward.rules.acme_001

test_wrong if {
	count(acme_001.finding) == 5 with input as {"apps": []}
}
`)
	code, stdout, _ = run(t, "policy", "test", dir)
	if code != ExitFindings || !strings.Contains(stdout, "FAIL") {
		t.Errorf("a failing test: exit %d, output:\n%s", code, stdout)
	}

	writeFile(t, filepath.Join(dir, "syntax.rego"), "package steward.rules.bad\nfinding contains f if {")
	code, _, stderr = run(t, "policy", "test", dir)
	if code != ExitUsage || !strings.Contains(stderr, "syntax.rego") {
		t.Errorf("a Rego syntax error: exit %d, stderr:\n%s", code, stderr)
	}
}

func TestCheckWithUserPolicy(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "acme_001.rego"), userRule)
	app := t.TempDir()
	writeFile(t, filepath.Join(app, "NoContact.connectedApp-meta.xml"), `<?xml version="1.0" encoding="UTF-8"?>
<ConnectedApp xmlns="http://soap.sforce.com/2006/04/metadata">
    <label>No Contact</label>
</ConnectedApp>
`)
	code, stdout, stderr := run(t, "check", app, "--policy", dir, "-o", "json", "--fail-on", "low")
	if code != ExitFindings {
		t.Fatalf("exit %d, stderr %s", code, stderr)
	}
	r := decode(t, stdout)
	found := false
	for _, f := range r.Findings {
		found = found || f.Rule == "ACME-001"
	}
	if !found {
		t.Errorf("the user rule did not run:\n%s", stdout)
	}
}

func TestValidate(t *testing.T) {
	code, stdout, stderr := run(t, "validate", filepath.Join(exampleDir, "inventory"))
	if code != ExitOK || !strings.Contains(stdout, "valid: 7 identities, 4 teams, 2 exceptions") {
		t.Errorf("exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
}

func TestDumpSnapshot(t *testing.T) {
	code, stdout, _ := run(t, "check", exampleDir, "--dump-snapshot", "--now", "2026-11-25")
	if code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	var snap struct {
		Now   string                  `json:"now"`
		Apps  []struct{ Name string } `json:"apps"`
		Users []struct {
			Username  string `json:"username"`
			Effective struct {
				User map[string][]string `json:"user"`
			} `json:"effective"`
		} `json:"users"`
	}
	if err := json.Unmarshal([]byte(stdout), &snap); err != nil {
		t.Fatal(err)
	}
	if snap.Now != "2026-11-25T00:00:00Z" || len(snap.Apps) != 7 {
		t.Errorf("now %s, %d apps; want 2026-11-25T00:00:00Z and 7", snap.Now, len(snap.Apps))
	}
	for _, u := range snap.Users {
		if u.Username == "marketing.integration@acme.example" {
			if got := u.Effective.User["ModifyAllData"]; len(got) != 1 || got[0] != "profile System Administrator" {
				t.Errorf("ModifyAllData granted by %v, want the System Administrator profile", got)
			}
		}
	}
}

func copyTree(t *testing.T, src, dstDir string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dstDir, filepath.Base(src)), string(data))
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestColourOnlyOnTerminalWithoutNoColor(t *testing.T) {
	for _, tt := range []struct {
		name    string
		tty     bool
		noColor string
		want    bool
	}{
		{"terminal", true, "", true},
		{"terminal with NO_COLOR", true, "1", false},
		{"pipe", false, "", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			env := Env{
				Stdin: strings.NewReader(""), Stdout: &out, Stderr: io.Discard,
				Getenv: func(k string) string {
					if k == "NO_COLOR" {
						return tt.noColor
					}
					return ""
				},
				Now:        time.Now,
				IsTerminal: func(io.Writer) bool { return tt.tty },
			}
			Main(context.Background(), []string{"check", exampleDir}, env)
			if got := strings.Contains(out.String(), "\x1b["); got != tt.want {
				t.Errorf("ANSI colour in output = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestCheckCorpus runs check on the real-world metadata corpus beside the
// repository and checks the findings its known contents must produce.
func TestCheckCorpus(t *testing.T) {
	const corpus = "../../../shared/corpus"
	if _, err := os.Stat(corpus); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("corpus not present in CI: %v", err)
		}
		t.Skipf("corpus not present: %v", err)
	}
	code, stdout, stderr := run(t, "check", corpus, "-o", "json", "--now", "2026-11-25")
	if code != ExitFindings {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	r := decode(t, stdout)
	got := map[string]bool{}
	for _, f := range r.Findings {
		got[f.Rule+" "+f.Resource.Name] = true
	}
	for _, want := range []string{
		"NHI-INV-01 Ohm_Self_CC",           // client credentials on, not inventoried
		"NHI-APP-02 Ohm_Self_CC",           // RefreshToken scope
		"NHI-APP-04 Ohm_Self_CC",           // System Administrator pre-authorised
		"NHI-APP-03 Ohm_Self_CC",           // run-as only set in the org
		"NHI-INV-01 Agent_Assist_LWC_Auth", // External Client App with client credentials
		"NHI-SEC-01 Agent_Assist_LWC_Auth", // global OAuth settings committed
		"NHI-APP-02 Agent_Assist_LWC_Auth", // Basic, RefreshToken, Web
	} {
		if !got[want] {
			t.Errorf("missing finding %s", want)
		}
	}
	for k := range got {
		if strings.Contains(k, "OAppS_Omni_Channel") || strings.Contains(k, "Postman") {
			t.Errorf("finding on an app without client credentials: %s", k)
		}
	}
}
