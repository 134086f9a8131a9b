package cli

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/steward-dev/steward/internal/audit"
	"github.com/steward-dev/steward/internal/decommission"
	"github.com/steward-dev/steward/internal/repotest"
	"github.com/steward-dev/steward/internal/salesforce/fakeorg"
	"github.com/steward-dev/steward/internal/server"
	"github.com/steward-dev/steward/internal/store"
)

const decommissionOrg = `
org: {name: Acme, myDomain: acme, id: 00D000000000001EAA}
connectedApps:
  - {name: Steward_Admin, consumerKey: 3MVG9adminKEY, consumerSecret: ADMINSECRET000001, clientCredentials: true, runAs: admin@acme.example, scopes: [Api]}
  - {name: Billing_Sync, label: Billing Sync, consumerKey: 3MVG9billingKEY, consumerSecret: BILLINGSECRET0001, clientCredentials: true, runAs: billing.integration@acme.example, scopes: [Api]}
  - {name: Erp_Sync, consumerKey: 3MVG9erpKEY, consumerSecret: ERPSECRET00000001, clientCredentials: true, runAs: erp@acme.example, scopes: [Api]}
users:
  - {username: admin@acme.example, profile: System Administrator}
  - {username: billing.integration@acme.example, profile: Integration}
  - {username: erp@acme.example, profile: Integration}
profiles:
  - {name: System Administrator, license: Salesforce, permissions: [ApiEnabled, ManageUsers, FreezeUsers]}
  - {name: Integration, license: Salesforce Integration, permissions: [ApiEnabled, ApiUserOnly]}
oauthTokens:
  - {app: Billing_Sync, user: billing.integration@acme.example, created: -20d}
  - {app: Billing_Sync, user: billing.integration@acme.example, created: -3d}
  - {app: Erp_Sync, user: erp@acme.example, created: -3d}
`

const decommissionManifest = `apiVersion: steward.dev/v1alpha1
kind: Identity
metadata: {name: billing-sync-prod}
spec:
  service: billing-sync
  owner: finance-platform
  environment: production
  criticality: high
  lifecycle: active
  purpose: Push invoice status to Opportunity
  salesforce: {url: "https://acme.my.salesforce.com", app: Billing_Sync, runAs: billing.integration@acme.example}
  credential: {secret: billing-sync-prod, rotationDays: 90}
---
apiVersion: steward.dev/v1alpha1
kind: Team
metadata: {name: finance-platform}
spec: {members: [ana@acme.com], backup: sec-oncall@acme.com}
`

// mint asks the org for a client-credentials token and returns the status
// and error code.
func mint(t *testing.T, orgURL, key, secret string) (int, string) {
	t.Helper()
	resp, err := http.PostForm(orgURL+"/services/oauth2/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {key}, "client_secret": {secret}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Error string `json:"error"`
	}
	json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body.Error
}

func TestDecommissionAgainstTheEmulator(t *testing.T) {
	sc, err := fakeorg.ParseScenario("decommission.yaml", []byte(decommissionOrg))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := fakeorg.New(sc, fakeorg.Options{})
	if err != nil {
		t.Fatal(err)
	}
	org := httptest.NewServer(srv)
	defer org.Close()
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close() // an org that cannot be reached

	e := newStoreEnv(t)
	inv := filepath.Join(e.dir, "inventory")
	if err := os.MkdirAll(inv, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(inv, "billing.yaml"), []byte(decommissionManifest), 0o644); err != nil {
		t.Fatal(err)
	}
	e.vars["STEWARD_SF_CLIENT_ID"], e.vars["STEWARD_SF_CLIENT_SECRET"] = "3MVG9adminKEY", "ADMINSECRET000001"
	e.must(storeBundle, "secret", "put", "billing-sync-prod")
	if code, _ := mint(t, org.URL, "3MVG9billingKEY", "BILLINGSECRET0001"); code != 200 {
		t.Fatalf("the integration cannot mint before decommissioning: %d", code)
	}

	// The org is unreachable: the kill switch is set, then revocation fails.
	code, out, errOut := e.run("", "decommission", "billing-sync-prod", "--inventory", inv, "--url", down.URL)
	if code != 1 {
		t.Fatalf("unreachable org: exit %d, want 1\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"block-issuance       done", "revoke-tokens        failed", "freeze-user          pending", "next: check that the org at " + down.URL + " is reachable"} {
		if !strings.Contains(out, want) {
			t.Fatalf("first run output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, "step revoke-tokens of decommissioning billing-sync-prod failed") || !strings.Contains(errOut, "run steward decommission billing-sync-prod again to resume") {
		t.Fatalf("first run stderr:\n%s", errOut)
	}

	// The org is back: the run resumes at revoke-tokens.
	out = e.must("", "decommission", "billing-sync-prod", "--inventory", inv, "--url", org.URL)
	for _, want := range []string{
		"block-issuance       done (earlier)", "revoke-tokens        done",
		"2 OAuth token grant(s) of app Billing_Sync revoked at the org",
		"run-as user billing.integration@acme.example frozen", "destroy-secret       done", "mark-decommissioned  done",
		"billing-sync-prod is decommissioned.",
	} {
		if !strings.Contains(out, want) {
			t.Fatalf("second run output lacks %q:\n%s", want, out)
		}
	}

	// What the org and the store say now.
	if code, errCode := mint(t, org.URL, "3MVG9billingKEY", "BILLINGSECRET0001"); code != 400 || errCode != "invalid_grant" {
		t.Errorf("the frozen run-as user's app minted: %d %s", code, errCode)
	}
	if code, _ := mint(t, org.URL, "3MVG9erpKEY", "ERPSECRET00000001"); code != 200 {
		t.Errorf("another integration was affected: %d", code)
	}
	ctx := context.Background()
	db, err := store.OpenSQLite(ctx, e.vars["STEWARD_DATA_DIR"])
	if err != nil {
		t.Fatal(err)
	}
	killed, err := server.StoreKills{DB: db}.Killed(ctx)
	if err != nil || !slices.Contains(killed, "billing-sync-prod") {
		t.Errorf("kill switches = %v, %v", killed, err)
	}
	vs, err := db.Versions(ctx, "billing-sync-prod")
	if err != nil || len(vs) == 0 {
		t.Fatal(vs, err)
	}
	for _, v := range vs {
		if v.DestroyedAt.IsZero() || v.Ciphertext != nil {
			t.Errorf("version %d not destroyed: %+v", v.Version, v.DestroyedAt)
		}
	}
	var actions []string
	db.AuditRecords(ctx, 1, func(r store.AuditRecord) error {
		ev, _ := audit.ParseEvent(r.Body)
		if strings.HasPrefix(ev.Action, decommission.ActionPrefix) {
			actions = append(actions, ev.Action+":"+ev.Outcome+":"+ev.Details["userLoginId"])
		}
		return nil
	})
	db.Close()
	if len(actions) != 6 || actions[1] != "decommission.revoke-tokens:failure:" || !strings.HasPrefix(actions[3], "decommission.freeze-user:success:060") {
		t.Errorf("audit evidence = %v", actions)
	}

	// A third run changes nothing and reports every step as done earlier.
	out = e.must("", "decommission", "billing-sync-prod", "--inventory", inv, "--url", org.URL, "-o", "json")
	var rep decommission.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if !rep.Complete || len(rep.Steps) != 5 || slices.ContainsFunc(rep.Steps, func(s decommission.Result) bool { return !s.Earlier }) {
		t.Fatalf("third run = %+v", rep)
	}
	status := e.must("", "decommission", "billing-sync-prod", "--status")
	if !strings.Contains(status, "mark-decommissioned  done (earlier)") {
		t.Fatalf("status:\n%s", status)
	}
	for _, o := range e.outputs {
		if strings.Contains(o, storeSecret) || strings.Contains(o, "ADMINSECRET000001") {
			t.Fatalf("a secret reached the output:\n%s", o)
		}
	}
}

func TestDecommissionRefusesBadInvocations(t *testing.T) {
	e := newStoreEnv(t)
	inv := filepath.Join(e.dir, "inventory")
	os.MkdirAll(inv, 0o755)
	os.WriteFile(filepath.Join(inv, "billing.yaml"), []byte(decommissionManifest), 0o644)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"decommission", "nobody", "--inventory", inv}, "no Identity named nobody"},
		{[]string{"decommission", "billing-sync-prod", "--inventory", inv}, "STEWARD_SF_CLIENT_ID and STEWARD_SF_CLIENT_SECRET must be set"},
		{[]string{"decommission", "billing-sync-prod", "--inventory", inv, "-o", "yaml"}, `unknown format "yaml"`},
	} {
		code, _, errOut := e.run("", tc.args...)
		if code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, errOut, tc.want)
		}
	}
	// Nothing was started.
	out := e.must("", "decommission", "billing-sync-prod", "--status", "-o", "json")
	if !strings.Contains(out, `"complete": false`) || strings.Contains(out, `"done"`) {
		t.Fatalf("a refused invocation changed something:\n%s", out)
	}
}

func TestDecommissionThroughTheBroker(t *testing.T) {
	r := newKillRig(t, "", "")
	if code := r.token(t); code != http.StatusOK {
		t.Fatalf("token before decommissioning: %d", code)
	}
	sc, err := fakeorg.LoadScenario(filepath.Join(repotest.Root(t), "examples/acme/org/scenario.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	adminKey, adminSecret, _ := sc.Credentials("Steward_Scanner")
	appKey, appSecret, _ := sc.Credentials("Erp_Connector")
	r.e.vars["STEWARD_SF_CLIENT_ID"], r.e.vars["STEWARD_SF_CLIENT_SECRET"] = adminKey, adminSecret
	r.secrets = append(r.secrets, adminSecret)

	out := r.e.must("", "decommission", "erp-connector-prod", "--inventory", filepath.Join(r.e.dir, "inventory"),
		"--broker", r.serve.url, "--insecure", "--url", r.orgURL, "--org-ca-file", r.caFile)
	for _, want := range []string{
		"kill switch on in the broker; 1 token(s) it handed out revoked at the org",
		"run-as user erp.integration@acme.example frozen", "erp-connector-prod is decommissioned.",
	} {
		if !strings.Contains(out, want) {
			t.Fatalf("output lacks %q:\n%s", want, out)
		}
	}
	if code, desc := r.tokenError(t); code == http.StatusOK || !strings.Contains(desc, "kill") {
		t.Errorf("the broker still issues: %d %q", code, desc)
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err := hc.PostForm(r.orgURL+"/services/oauth2/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {appKey}, "client_secret": {appSecret}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("the app still mints at the org around the broker: %d", resp.StatusCode)
	}
	acts := strings.Join(r.auditActions(t, 1), " ")
	for _, want := range []string{"broker.kill", "decommission.block-issuance", "decommission.freeze-user", "decommission.mark-decommissioned"} {
		if !strings.Contains(acts, want) {
			t.Errorf("audit lacks %s: %s", want, acts)
		}
	}
}
