package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/steward-dev/steward/internal/report"
	"github.com/steward-dev/steward/internal/store"
)

// reportFormats maps each compliance report format to its golden file
// extension.
var reportFormats = map[string]string{"markdown": "md", "html": "html", "json": "json"}

// TestReportGolden renders the example project's compliance reports for
// two frameworks in every format and compares them with the golden files.
func TestReportGolden(t *testing.T) {
	old := version
	version = "test"
	t.Cleanup(func() { version = old })
	for _, fw := range []string{"owasp-nhi", "nist-csf"} {
		for format, ext := range reportFormats {
			t.Run(fw+"/"+format, func(t *testing.T) {
				code, stdout, stderr := run(t, "report", "--framework", fw, exampleDir, "-o", format, "--now", "2026-11-25")
				if code != ExitOK {
					t.Fatalf("exit %d, want 0 (findings do not fail a report without --fail-on); stderr:\n%s", code, stderr)
				}
				golden := filepath.Join("testdata", "report", "acme-"+fw+"."+ext)
				if *update {
					if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(golden, []byte(stdout), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run go test ./internal/cli -run TestReportGolden -update and review the file)", err)
				}
				if diff := cmp.Diff(string(want), stdout); diff != "" {
					t.Errorf("output differs from %s (-want +got):\n%s", golden, diff)
				}
			})
		}
	}
}

// decodeCompliance reads a JSON compliance report.
func decodeCompliance(t *testing.T, s string) report.Compliance {
	t.Helper()
	var c report.Compliance
	if err := json.Unmarshal([]byte(s), &c); err != nil {
		t.Fatalf("output is not a compliance report: %v\n%s", err, s)
	}
	return c
}

func controlByID(t *testing.T, c report.Compliance, id string) report.ControlCheck {
	t.Helper()
	for _, cc := range c.Controls {
		if cc.ID == id {
			return cc
		}
	}
	t.Fatalf("no control %s in the report", id)
	return report.ControlCheck{}
}

// TestReportExample checks what the example project's report says, control
// by control: the planted failures fail the controls their rules map to,
// the current exception is shown with its reason and expiry, and controls
// whose rules need a live org are not assessed offline.
func TestReportExample(t *testing.T) {
	code, stdout, stderr := run(t, "report", "--framework", "owasp-nhi", exampleDir, "-o", "json", "--now", "2026-11-25")
	if code != ExitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	c := decodeCompliance(t, stdout)
	if c.Summary.Identities != 7 || len(c.Cards) != 7 {
		t.Errorf("identities = %d, cards = %d, want 7", c.Summary.Identities, len(c.Cards))
	}
	nhi3 := controlByID(t, c, "NHI3:2025")
	if len(nhi3.Exceptions) != 1 || nhi3.Exceptions[0].Exception.Name != "warehouse-connected-app-2027q1" ||
		nhi3.Exceptions[0].Exception.Expires != "2027-03-31" || !strings.Contains(nhi3.Exceptions[0].Exception.Reason, "Migration") {
		t.Errorf("NHI3 exceptions = %+v, want the warehouse exception with its reason and expiry", nhi3.Exceptions)
	}
	if !cmp.Equal(nhi3.Excepted, []string{"warehouse-feed-prod"}) {
		t.Errorf("NHI3 excepted = %v", nhi3.Excepted)
	}
	// The ERP app serves production and the sandbox: a finding on the app
	// that counts against both identities declaring it.
	nhi8 := controlByID(t, c, "NHI8:2025")
	if !cmp.Equal(nhi8.NotSatisfied, []string{"erp-connector-prod", "erp-connector-uat"}) {
		t.Errorf("NHI8 not satisfied = %v, want both ERP identities", nhi8.NotSatisfied)
	}
	for _, cc := range c.Controls {
		if contains(cc.Satisfied, "marketing-sync-prod") && (cc.ID == "NHI5:2025" || cc.ID == "NHI4:2025") {
			t.Errorf("%s: the over-privileged marketing sync satisfies it", cc.ID)
		}
		for _, r := range cc.Rules {
			if r.ID == "NHI-INV-05" && (r.Ran || !strings.Contains(r.NotRun, "live org")) {
				t.Errorf("NHI-INV-05 offline: ran=%v notRun=%q", r.Ran, r.NotRun)
			}
		}
	}
	for _, card := range c.Cards {
		if card.Name == "billing-sync-prod" && (len(card.Findings) != 0 || card.Team == nil || card.Reviews != nil || card.Elevations != nil) {
			t.Errorf("billing card: findings %d, team %v, reviews %v, elevations %v; want a clean card with its team and no review data",
				len(card.Findings), card.Team, card.Reviews, card.Elevations)
		}
	}

	// The same report as HTML and Markdown says "no data" for reviews.
	for _, format := range []string{"markdown", "html"} {
		_, out, _ := run(t, "report", "--framework", "owasp-nhi", exampleDir, "-o", format, "--now", "2026-11-25")
		if !strings.Contains(strings.ToLower(out), "no data") {
			t.Errorf("%s report does not say there is no review data", format)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestReportExitCodes covers the exit codes and the usage errors.
func TestReportExitCodes(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		want     int
		inStderr []string
	}{
		{"report with findings", []string{"--framework", "cis", exampleDir}, ExitOK, nil},
		{"fail on high", []string{"--framework", "cis", exampleDir, "--fail-on", "high"}, ExitFindings, nil},
		{"unknown framework", []string{"--framework", "iso27001", exampleDir}, ExitUsage,
			[]string{`unknown framework "iso27001"`, "cis, nist-800-53, nist-csf, owasp-nhi"}},
		{"no framework", []string{exampleDir}, ExitUsage, []string{"--framework is required", "--framework owasp-nhi"}},
		{"table is not a report format", []string{"--framework", "cis", exampleDir, "-o", "table"}, ExitUsage, []string{`unknown output format "table"`, "-o html"}},
		{"bad fail-on", []string{"--framework", "cis", exampleDir, "--fail-on", "urgent"}, ExitUsage, []string{"invalid --fail-on"}},
		{"nothing to read", []string{"--framework", "cis", t.TempDir()}, ExitUsage, []string{"no Salesforce metadata files or Steward manifests", "point report at"}},
		{"snapshot and paths", []string{"--framework", "cis", "--snapshot", "x.json", exampleDir}, ExitUsage, []string{"exclusive"}},
		{"missing snapshot", []string{"--framework", "cis", "--snapshot", filepath.Join(t.TempDir(), "none.json")}, ExitUsage, []string{"none.json"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := run(t, append([]string{"report", "--now", "2026-11-25"}, tt.args...)...)
			if code != tt.want {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tt.want, stderr)
			}
			for _, s := range tt.inStderr {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, stderr)
				}
			}
		})
	}
}

// TestReportInvalidInput reports what can be read with --keep-going and
// lists the invalid file, and stops without it.
func TestReportInvalidInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("apiVersion: steward.dev/v1alpha1\nkind: Identity\nmetadata: {name: x}\nspec: {colour: blue}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := run(t, "report", "--framework", "owasp-nhi", exampleDir, "--inventory", dir)
	if code != ExitUsage || !strings.Contains(stderr, "bad.yaml") || !strings.Contains(stderr, "--keep-going to report the rest") {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	code, stdout, stderr := run(t, "report", "--framework", "owasp-nhi", exampleDir, "--inventory", dir, "--keep-going", "-o", "json")
	if code != ExitOK {
		t.Fatalf("--keep-going: exit %d, stderr:\n%s", code, stderr)
	}
	c := decodeCompliance(t, stdout)
	if len(c.Errors) == 0 || !strings.Contains(c.Errors[0].File, "bad.yaml") || len(c.Cards) != 7 {
		t.Errorf("errors %+v, %d cards; want bad.yaml reported and the example's 7 identities", c.Errors, len(c.Cards))
	}
}

// TestReportSecretsNeverShown renders every framework in every format for
// the example project (which commits a placeholder consumer secret) with a
// store that holds a real secret, and looks for either secret in the
// output.
func TestReportSecretsNeverShown(t *testing.T) {
	e := newStoreEnv(t)
	e.must(storeBundle, "secret", "put", "billing-sync-prod")
	readSecret(t, e, "human:ana@acme.com", "billing-sync-prod")
	for _, fw := range report.Frameworks() {
		for format := range reportFormats {
			code, out, errOut := e.run("", "report", "--framework", fw, exampleDir, "-o", format, "--now", "2026-11-25")
			if code != ExitOK {
				t.Fatalf("%s %s: exit %d\n%s", fw, format, code, errOut)
			}
			if strings.Contains(out, exampleSecret) || strings.Contains(out, exampleSecret[8:40]) {
				t.Errorf("%s %s: the example's committed secret appears in the report", fw, format)
			}
		}
	}
	// The store's view is in the report: the secret's version and reader.
	_, out, _ := e.run("", "report", "--framework", "nist-csf", exampleDir, "-o", "json", "--now", "2026-11-25")
	c := decodeCompliance(t, out)
	for _, card := range c.Cards {
		if card.Name != "billing-sync-prod" {
			continue
		}
		if card.Secret.Store == nil || card.Secret.Store.Version != 1 || len(card.Secret.Store.Readers) != 1 || card.Secret.Store.Readers[0].ID != "ana@acme.com" {
			t.Errorf("billing secret from the store = %+v, want version 1 read by ana", card.Secret.Store)
		}
		if card.LastUse.SecretRead.IsZero() {
			t.Error("the store's read is not the identity's last use")
		}
	}
	if cc := controlByID(t, c, "PR.AA-05"); !contains(cc.NotSatisfied, "billing-sync-prod") {
		t.Errorf("PR.AA-05 does not fail billing-sync-prod for a person's read of its secret (NHI-SEC-03): %v", cc.NotSatisfied)
	}
	leakCheck(t, e)
}

// TestReportFromLiveSnapshot reports on a snapshot 'steward scan --save'
// wrote from the emulated org: rules that need live data now run, and the
// identity cards show the last use the org recorded.
func TestReportFromLiveSnapshot(t *testing.T) {
	url, vars := serveOrg(t, loadAcmeScenario(t))
	saved := filepath.Join(t.TempDir(), "scan.json")
	if code, _, stderr := runWithEnv(t, vars, scanArgs(url, "--save", saved, "-o", "json")...); code == ExitUsage {
		t.Fatalf("scan --save: %s", stderr)
	}
	code, out, stderr := run(t, "report", "--framework", "owasp-nhi", "--snapshot", saved, "-o", "json")
	if code != ExitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	c := decodeCompliance(t, out)
	if c.Source != "org" {
		t.Errorf("source = %q, want org", c.Source)
	}
	used := 0
	for _, card := range c.Cards {
		if !card.LastUse.Live {
			t.Errorf("%s: lastUse.live is false on a live snapshot", card.Name)
		}
		if !card.LastUse.Latest().IsZero() {
			used++
		}
	}
	if used == 0 {
		t.Error("no identity card shows a last use from the org")
	}
	for _, r := range controlByID(t, c, "NHI1:2025").Rules {
		if r.ID == "NHI-INV-05" && !r.Ran {
			t.Errorf("NHI-INV-05 did not run on a live snapshot: %s", r.NotRun)
		}
	}
}

// TestReportFrameworkCompletion checks that shell completion offers the
// framework names.
func TestReportFrameworkCompletion(t *testing.T) {
	_, stdout, _ := run(t, "__complete", "report", "--framework", "")
	for _, fw := range report.Frameworks() {
		if !strings.Contains(stdout, fw+"\n") {
			t.Errorf("completion lacks %s:\n%s", fw, stdout)
		}
	}
}

// TestReportShowsReviewsAndElevations puts a closed review and a
// break-glass elevation into the store and finds both on the identity's
// card; without a store the cards say there is no data.
func TestReportShowsReviewsAndElevations(t *testing.T) {
	e := newStoreEnv(t)
	e.must(storeBundle, "secret", "put", "billing-sync-prod")
	ctx := context.Background()
	db, err := store.OpenSQLite(ctx, e.vars["STEWARD_DATA_DIR"])
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	it, _, err := db.OpenReview(ctx, store.ReviewItem{
		Identity: "billing-sync-prod", Kind: "periodic", Key: "periodic:2026-11-30", Campaign: "periodic/2026-11",
		OpenedAt: at, OpenedBy: "human:ana", DueAt: at.AddDate(0, 0, 10), Evidence: []byte(`{}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CloseReview(ctx, it.ID, store.Attestation{Decision: "keep", Comment: "still needed for invoicing", At: at.Add(time.Hour), By: "human:bo"}); err != nil {
		t.Fatal(err)
	}
	if err := db.InsertElevation(ctx, store.Elevation{
		ID: "el-1", Identity: "billing-sync-prod", PermissionSet: "Incident_Elevation", Reason: "month-end fix", Reference: "INC-42",
		Requester: "ana", Approver: "bo", Duration: time.Hour, MaxDuration: 4 * time.Hour, State: "closed",
		RequestedAt: at, RequestExpiresAt: at.Add(time.Hour), DecidedAt: at.Add(time.Minute),
		AppliedAt: at.Add(2 * time.Minute), ExpiresAt: at.Add(62 * time.Minute), RemovedAt: at.Add(62 * time.Minute),
		ReviewDueAt: at.AddDate(0, 0, 2), ClosedAt: at.AddDate(0, 0, 1),
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	_, out, errOut := e.run("", "report", "--framework", "owasp-nhi", exampleDir, "-o", "json", "--now", "2026-11-25")
	c := decodeCompliance(t, out)
	var card *report.IdentityCard
	for i := range c.Cards {
		if c.Cards[i].Name == "billing-sync-prod" {
			card = &c.Cards[i]
		}
	}
	if card == nil {
		t.Fatalf("no card for billing-sync-prod\n%s", errOut)
	}
	if len(card.Reviews) != 1 || card.Reviews[0].Decision != "keep" || card.Reviews[0].By != "human:bo" || card.Reviews[0].Trigger != "periodic" {
		t.Errorf("reviews on the card = %+v, want the keep attestation by bo", card.Reviews)
	}
	if len(card.Elevations) != 1 || card.Elevations[0].Grant != "Incident_Elevation" || card.Elevations[0].PostUseReview != "done" || card.Elevations[0].ApprovedBy != "bo" {
		t.Errorf("elevations on the card = %+v, want Incident_Elevation approved by bo, review done", card.Elevations)
	}

	_, out, _ = run(t, "report", "--framework", "owasp-nhi", exampleDir, "-o", "json", "--now", "2026-11-25")
	for _, cd := range decodeCompliance(t, out).Cards {
		if cd.Reviews != nil || cd.Elevations != nil {
			t.Errorf("%s: reviews %v, elevations %v without a store; want no data", cd.Name, cd.Reviews, cd.Elevations)
		}
	}
}
