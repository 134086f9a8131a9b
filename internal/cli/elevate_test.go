package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/steward-dev/steward/internal/httpapi"
	"github.com/steward-dev/steward/internal/salesforce"
	"github.com/steward-dev/steward/internal/salesforce/fakeorg"
)

// elevateScenario is an org with the integration's run-as user, a
// break-glass permission set and the governance app Steward assigns with.
const elevateScenario = `
org: {name: Acme, myDomain: acme, id: 00D000000000001EAA}
connectedApps:
  - name: Steward_Governance
    consumerKey: 3MVG9governanceKEY
    consumerSecret: GOVERNANCESECRET01
    clientCredentials: true
    runAs: steward@acme.example
    scopes: [Api]
users:
  - {username: steward@acme.example, profile: System Administrator}
  - {username: billing@acme.example, profile: Integration}
profiles:
  - {name: System Administrator, license: Salesforce, permissions: [ApiEnabled, AssignPermissionSets]}
  - {name: Integration, license: Salesforce Integration, permissions: [ApiEnabled]}
permissionSets:
  - {name: Billing_Breakglass, label: Billing break-glass, permissions: [ViewAllData]}
`

const elevateManifest = `apiVersion: steward.dev/v1alpha1
kind: Team
metadata: {name: finance}
spec:
  members: [lee@acme.example]
---
apiVersion: steward.dev/v1alpha1
kind: Identity
metadata:
  name: billing-sync-prod
spec:
  service: billing-sync
  owner: finance
  environment: production
  criticality: high
  purpose: Push invoice status to Opportunity
  salesforce:
    url: %s
    app: Billing_Sync
    runAs: billing@acme.example
`

// settable is a clock the test moves.
type settable struct {
	mu sync.Mutex
	t  time.Time
}

func (c *settable) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *settable) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// TestElevateEndToEnd walks a break-glass elevation through steward serve
// and the steward elevate commands against the org emulator: request →
// refusals → approval → assignment with expiry in the org → removal by the
// sweeper once the clock passes the expiry → post-use review → closed.
func TestElevateEndToEnd(t *testing.T) {
	clock := &settable{t: time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)}
	sc, err := fakeorg.ParseScenario("elevate", []byte(elevateScenario))
	if err != nil {
		t.Fatal(err)
	}
	org, err := fakeorg.New(sc, fakeorg.Options{Clock: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	orgTS := httptest.NewServer(org)
	defer orgTS.Close()

	e := newStoreEnv(t)
	inv := filepath.Join(e.dir, "inventory")
	os.MkdirAll(inv, 0o755)
	os.WriteFile(filepath.Join(inv, "billing.yaml"), []byte(fmt.Sprintf(elevateManifest, orgTS.URL)), 0o600)
	config := filepath.Join(e.dir, "steward.yaml")
	os.WriteFile(config, []byte(fmt.Sprintf(`listen: 127.0.0.1:0
dev: true
inventory: [%s]
upstream: {maxRetries: -1}
issuers:
  - {issuer: https://issuer.acme.example, jwksURL: https://issuer.acme.example/jwks, audiences: [steward], environment: production}
operators:
  - {name: lee@acme.example, role: owner, teams: [finance], tokenEnv: LEE_TOKEN}
  - {name: ana@acme.example, role: approver, tokenEnv: ANA_TOKEN}
  - {name: raj@acme.example, role: approver, tokenEnv: RAJ_TOKEN}
elevation:
  enabled: true
  maxDuration: 4h
  sweepInterval: 20ms
`, inv)), 0o600)
	tokens := map[string]string{"lee": strings.Repeat("1e", 20), "ana": strings.Repeat("a7", 20), "raj": strings.Repeat("3a", 20)}
	e.vars["LEE_TOKEN"], e.vars["ANA_TOKEN"], e.vars["RAJ_TOKEN"] = tokens["lee"], tokens["ana"], tokens["raj"]
	e.vars["STEWARD_SF_CLIENT_ID"], e.vars["STEWARD_SF_CLIENT_SECRET"] = "3MVG9governanceKEY", "GOVERNANCESECRET01"

	var stdout, stderr syncBuffer
	serveVars := maps.Clone(e.vars)
	serveEnv := Env{
		Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr,
		Getenv: func(k string) string { return serveVars[k] }, Now: clock.Now, IsTerminal: func(io.Writer) bool { return false },
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- Main(ctx, []string{"serve", "--config", config}, serveEnv) }()
	defer func() {
		stop()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("serve did not stop")
		}
		if strings.Contains(stderr.String()+stdout.String(), "GOVERNANCESECRET01") {
			t.Error("serve's output holds the governance app's secret")
		}
	}()
	addr := regexp.MustCompile(`listening on (https://\S+)`)
	var base string
	for deadline := time.Now().Add(20 * time.Second); base == ""; time.Sleep(20 * time.Millisecond) {
		if m := addr.FindStringSubmatch(stdout.String()); m != nil {
			base = m[1]
		}
		select {
		case code := <-done:
			done <- code
			t.Fatalf("serve exited %d:\n%s", code, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start:\n%s", stderr.String())
		}
	}

	as := func(who string, args ...string) (int, string, string) {
		t.Helper()
		e.vars[envOperatorToken] = tokens[who]
		return e.run("", append(append([]string{"elevate"}, args...), "--broker", base, "--insecure")...)
	}
	view := func(out string) httpapi.ElevationView {
		t.Helper()
		var v httpapi.ElevationView
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Fatalf("decode %q: %v", out, err)
		}
		return v
	}
	request := func(duration string) []string {
		return []string{"request", "billing-sync-prod", "--permission-set", "Billing_Breakglass", "--reason", "Repair invoices stuck after the ERP outage",
			"--reference", "INC-4711", "--duration", duration}
	}

	// Bad input: each refused with its reason, exit 2.
	for _, tc := range []struct {
		who  string
		args []string
		want string
	}{
		{"lee", request("5h"), "over the cap of 4h0m0s"},
		{"lee", []string{"request", "billing-sync-prod", "--permission-set", "No_Such_Set", "--reason", "Repair invoices stuck after the ERP outage", "--reference", "INC-4711"}, "no permission set named No_Such_Set"},
		{"ana", request("1h"), "admin role or an owner role"},
	} {
		if code, out, errOut := as(tc.who, tc.args...); code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%s %v: exit %d\n%s%s; want 2 saying %q", tc.who, tc.args, code, out, errOut, tc.want)
		}
	}

	code, out, errOut := as("lee", append(request("2h"), "-o", "json")...)
	if code != 0 {
		t.Fatalf("request: exit %d\n%s%s", code, out, errOut)
	}
	req := view(out)
	if req.State != "requested" || req.Requester != "lee@acme.example" {
		t.Fatalf("request: %+v", req)
	}
	// The owner holds no approver role; an approver may not approve their own request
	// (covered in package elevation); here: the owner is refused by role.
	if code, _, errOut := as("lee", "approve", req.ID); code != 2 || !strings.Contains(errOut, "approver role") {
		t.Errorf("owner approving: exit %d %s", code, errOut)
	}

	clock.Add(5 * time.Minute)
	code, out, errOut = as("ana", "approve", req.ID, "--note", "Confirmed on the incident bridge")
	if code != 0 || !strings.Contains(out, "now active") || !strings.Contains(out, "until 2026-11-26T11:05:00Z") {
		t.Fatalf("approve: exit %d\n%s%s", code, out, errOut)
	}

	// The org holds the assignment with its expiry, as a scan would read it.
	sf, err := salesforce.New(salesforce.Config{URL: orgTS.URL, ClientID: "3MVG9governanceKEY", ClientSecret: "GOVERNANCESECRET01", MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	type psa struct {
		ID             string `json:"Id"`
		ExpirationDate string `json:"ExpirationDate"`
	}
	breakGlass := func() []psa {
		t.Helper()
		rows, err := salesforce.QueryAll[psa](context.Background(), sf,
			"SELECT Id, ExpirationDate FROM PermissionSetAssignment WHERE Assignee.Username = 'billing@acme.example' AND PermissionSet.Name = 'Billing_Breakglass'")
		if err != nil {
			t.Fatal(err)
		}
		return rows
	}
	if rows := breakGlass(); len(rows) != 1 || rows[0].ExpirationDate != "2026-11-26T11:05:00.000+0000" {
		t.Fatalf("org assignments after approval: %+v", rows)
	}

	// The clock passes the expiry: the sweeper removes the assignment.
	clock.Add(2*time.Hour + time.Minute)
	var cur httpapi.ElevationView
	for deadline := time.Now().Add(20 * time.Second); cur.State != "post_review_due"; time.Sleep(20 * time.Millisecond) {
		code, out, errOut := as("raj", "list", "--identity", "billing-sync-prod", "-o", "json")
		if code != 0 {
			t.Fatalf("list: exit %d %s", code, errOut)
		}
		var l struct {
			Elevations []httpapi.ElevationView `json:"elevations"`
		}
		json.Unmarshal([]byte(out), &l)
		if len(l.Elevations) != 1 {
			t.Fatalf("list: %s", out)
		}
		cur = l.Elevations[0]
		if time.Now().After(deadline) {
			t.Fatalf("not removed at expiry: %+v\n%s", cur, stderr.String())
		}
	}
	if cur.RemovedBy != "steward" || cur.ReviewDueAt.IsZero() {
		t.Errorf("after expiry: %+v", cur)
	}
	if rows := breakGlass(); len(rows) != 0 {
		t.Fatalf("org still holds the break-glass assignment: %+v", rows)
	}

	// The post-use review: not by the requester; then closed by an approver.
	if code, _, errOut := as("raj", "close", req.ID); code != 2 || !strings.Contains(errOut, "--note is required") {
		t.Errorf("close without a note: exit %d %s", code, errOut)
	}
	code, out, errOut = as("raj", "close", req.ID, "--note", "Only invoice fixes in the setup audit trail", "--secret-seen")
	if code != 0 || !strings.Contains(out, "now closed") || !strings.Contains(out, "rotate it now") {
		t.Fatalf("close: exit %d\n%s%s", code, out, errOut)
	}
	code, out, _ = as("raj", "list")
	if code != 0 || !regexp.MustCompile(req.ID+`\s+billing-sync-prod\s+Billing_Breakglass\s+closed\s+lee@acme.example\s+ana@acme.example\s+2h0m0s`).MatchString(out) {
		t.Errorf("list table:\n%s", out)
	}
	if code, _, errOut := as("ana", "approve", req.ID); code != 2 || !strings.Contains(errOut, "is closed") {
		t.Errorf("approving a closed elevation: exit %d %s", code, errOut)
	}
}
