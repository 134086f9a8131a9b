package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/steward-dev/steward/internal/httpapi"
	"github.com/steward-dev/steward/internal/salesforce/fakeorg"
)

// ruleMessages returns the messages of rule's findings by identity.
func ruleMessages(r jsonReport, rule string) map[string]string {
	out := map[string]string{}
	for _, f := range r.Findings {
		if f.Rule == rule && f.Identity != nil {
			out[*f.Identity] = f.Message
		}
	}
	return out
}

// TestReviewEndToEnd walks an expansion and a periodic review through a
// real server on loopback and the emulated org: a scan against a baseline
// finds the new permission set, 'review open-expansions' opens an item
// with the evidence, an owner of another team is refused, the owning team
// attests, and the next scan with the store no longer reports NHI-REV-02;
// a campaign opens the overdue review of another identity, whose
// attestation clears NHI-REV-01.
func TestReviewEndToEnd(t *testing.T) {
	e := newStoreEnv(t)
	dir := e.dir

	// Two scans of the org, the billing run-as user gaining a permission
	// set in between.
	base, current := filepath.Join(dir, "base.json"), filepath.Join(dir, "current.json")
	url1, vars := serveOrg(t, loadAcmeScenario(t))
	if code, _, stderr := runWithEnv(t, vars, scanArgs(url1, "--save", base, "-o", "json")...); code == ExitUsage {
		t.Fatalf("scan: %s", stderr)
	}
	sc := loadAcmeScenario(t)
	sc.Assignments = append(sc.Assignments, fakeorg.Assignment{User: "billing.integration@acme.example", PermissionSet: "Reporting_Export"})
	url2, vars2 := serveOrg(t, sc)
	if code, _, stderr := runWithEnv(t, vars2, scanArgs(url2, "--save", current, "-o", "json")...); code == ExitUsage {
		t.Fatalf("scan: %s", stderr)
	}

	// The server, with an admin and two owners.
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, `{"keys":[]}`) }))
	defer jwks.Close()
	config := filepath.Join(dir, "steward.yaml")
	inventory, _ := filepath.Abs(filepath.Join(exampleDir, "inventory"))
	os.WriteFile(config, []byte(fmt.Sprintf(`listen: 127.0.0.1:0
dev: true
inventory: [%s]
issuers:
  - {issuer: %s, jwksURL: %s, audiences: [steward]}
operators:
  - {name: fin, role: owner, teams: [finance-platform], tokenEnv: FIN_TOKEN}
  - {name: mo, role: owner, teams: [marketing-ops], tokenEnv: MO_TOKEN}
`, inventory, jwks.URL, jwks.URL)), 0o600)
	admin, fin, mo := strings.Repeat("a1", 20), strings.Repeat("f2", 20), strings.Repeat("m3", 20)
	e.vars["STEWARD_ADMIN_TOKEN"], e.vars["FIN_TOKEN"], e.vars["MO_TOKEN"] = admin, fin, mo
	brokerURL := startServe(t, e, config).url
	as := func(token string, args ...string) (int, string, string) {
		t.Helper()
		e.vars[envOperatorToken] = token
		return e.run("", append(args, "--broker", brokerURL, "--insecure")...)
	}
	scanWithStore := func() jsonReport {
		t.Helper()
		for k, v := range vars2 {
			e.vars[k] = v
		}
		code, stdout, stderr := e.run("", scanArgs(url2, "--baseline", base, "-o", "json")...)
		if code == ExitUsage {
			t.Fatalf("scan with the store: %s", stderr)
		}
		return decode(t, stdout)
	}

	before := scanWithStore()
	if msg := ruleMessages(before, "NHI-REV-02")["billing-sync-prod"]; !strings.Contains(msg, "Reporting_Export") {
		t.Fatalf("before the review, NHI-REV-02 of billing-sync-prod is %q", msg)
	}
	if msg := ruleMessages(before, "NHI-REV-01")["marketing-sync-prod"]; msg == "" {
		t.Fatalf("marketing-sync-prod's review (2025-09-01) is not reported overdue")
	}

	// The expansion opens one item, once.
	code, out, errOut := as(admin, "review", "open-expansions", "--baseline", base, "--snapshot", current, "-o", "json")
	if code != 0 {
		t.Fatalf("open-expansions: exit %d\n%s%s", code, out, errOut)
	}
	var opened struct {
		Opened []httpapi.ReviewView `json:"opened"`
	}
	json.Unmarshal([]byte(out), &opened)
	evidence := map[string]string{}
	item := ""
	for _, it := range opened.Opened {
		evidence[it.Identity] = string(it.Evidence)
		if it.Identity == "billing-sync-prod" {
			item = fmt.Sprint(it.ID)
		}
	}
	// The diff's new permission set for billing; the Setup Audit Trail's
	// permission-set assignment (after its last review) for erp.
	if len(evidence) != 2 || !strings.Contains(evidence["billing-sync-prod"], `"after":"Reporting_Export"`) ||
		!strings.Contains(evidence["erp-connector-prod"], `"action":"PermSetAssign"`) {
		t.Fatalf("opened %s, want billing-sync-prod's new permission set and erp-connector-prod's Setup change", out)
	}
	if code, out, _ := as(admin, "review", "open-expansions", "--baseline", base, "--snapshot", current); code != 0 || !strings.Contains(out, "0 review item(s) opened") {
		t.Errorf("second open-expansions: exit %d\n%s", code, out)
	}
	if code, out, _ := as(fin, "review", "show", item); code != 0 || !strings.Contains(out, "Reporting_Export") {
		t.Errorf("show as the owner: exit %d\n%s", code, out)
	}

	// Marketing's owner may not attest finance's item; bad input is refused.
	if code, _, errOut := as(mo, "review", "attest", item, "--decision", "keep", "--comment", "fine"); code != ExitUsage || !strings.Contains(errOut, "marketing-ops may not act on it") {
		t.Errorf("attest by another team's owner: exit %d %s", code, errOut)
	}
	if code, _, errOut := as(fin, "review", "attest", item, "--decision", "approve", "--comment", "fine"); code != ExitUsage || !strings.Contains(errOut, `decision "approve" is not one of keep, modify, revoke`) {
		t.Errorf("attest with an unknown decision: exit %d %s", code, errOut)
	}
	e.vars[envOperatorToken], e.vars["STEWARD_ADMIN_TOKEN"] = "", ""
	if code, _, errOut := e.run("", "review", "list", "--broker", brokerURL, "--insecure"); code != ExitUsage || !strings.Contains(errOut, envOperatorToken) {
		t.Errorf("review without a token: exit %d %s", code, errOut)
	}
	e.vars["STEWARD_ADMIN_TOKEN"] = admin

	// The owning team attests: the item closes, NHI-REV-02 is satisfied.
	if code, out, errOut := as(fin, "review", "attest", item, "--decision", "keep", "--comment", "Reporting export approved in CHG-1234"); code != 0 || !strings.Contains(out, "closed: keep") {
		t.Fatalf("attest: exit %d\n%s%s", code, out, errOut)
	}
	if code, _, errOut := as(fin, "review", "attest", item, "--decision", "revoke", "--comment", "again"); code != ExitUsage || !strings.Contains(errOut, "already closed") {
		t.Errorf("attesting twice: exit %d %s", code, errOut)
	}
	if code, out, _ := as(fin, "review", "status", "billing-sync-prod"); code != 0 || !strings.Contains(out, "(store)") {
		t.Errorf("status after the attestation: exit %d\n%s", code, out)
	}

	// A campaign opens the overdue periodic review of marketing-sync-prod;
	// its owner attests it.
	code, out, errOut = as(admin, "review", "campaign", "-o", "json")
	if code != 0 {
		t.Fatalf("campaign: exit %d %s", code, errOut)
	}
	json.Unmarshal([]byte(out), &opened)
	periodic := ""
	for _, it := range opened.Opened {
		if it.Identity == "marketing-sync-prod" && it.Kind == "periodic" && it.Overdue {
			periodic = fmt.Sprint(it.ID)
		}
	}
	if periodic == "" {
		t.Fatalf("campaign opened no overdue periodic review of marketing-sync-prod:\n%s", out)
	}
	if code, out, _ := as(mo, "review", "status", "marketing-sync-prod"); code != ExitFindings || !strings.Contains(out, "2025-09-01 (manifest)") {
		t.Errorf("status of an overdue identity: exit %d\n%s", code, out)
	}
	if code, out, errOut := as(mo, "review", "attest", periodic, "--decision", "modify", "--comment", "Drop the Campaign object"); code != 0 {
		t.Fatalf("attest the periodic review: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, _ := as(fin, "review", "list", "--status", "closed"); code != 0 || strings.Contains(out, "marketing-sync-prod") || !strings.Contains(out, "billing-sync-prod") {
		t.Errorf("finance's owner lists:\n%s", out)
	}

	after := scanWithStore()
	if msg, ok := ruleMessages(after, "NHI-REV-02")["billing-sync-prod"]; ok {
		t.Errorf("after the attestation NHI-REV-02 still reports billing-sync-prod: %s", msg)
	}
	if msg, ok := ruleMessages(after, "NHI-REV-01")["marketing-sync-prod"]; ok && strings.Contains(msg, "overdue") {
		t.Errorf("after the attestation NHI-REV-01 still reports marketing-sync-prod overdue: %s", msg)
	}

	// The audit log verifies and holds each step.
	if code, out, errOut := e.run("", "audit", "verify"); code != 0 {
		t.Errorf("audit verify: exit %d\n%s%s", code, out, errOut)
	}
}
