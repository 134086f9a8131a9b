package discovery_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/steward-dev/steward/internal/discovery"
	"github.com/steward-dev/steward/internal/inventory"
	"github.com/steward-dev/steward/internal/policy"
	"github.com/steward-dev/steward/internal/repotest"
	"github.com/steward-dev/steward/internal/salesforce"
	"github.com/steward-dev/steward/internal/salesforce/fakeorg"
	"github.com/steward-dev/steward/internal/snapshot"
)

// now is the emulator's clock and the snapshot's time in these tests.
var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// startOrg serves a scenario on loopback and returns a client signed in
// with the scenario's scanner app, and the server for fault injection.
func startOrg(t testing.TB, sc *fakeorg.Scenario) (*salesforce.Client, *fakeorg.Server) {
	t.Helper()
	srv, err := fakeorg.New(sc, fakeorg.Options{Clock: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	id, secret, ok := sc.Credentials(fakeorg.ScannerApp)
	if !ok {
		t.Fatalf("scenario has no %s app", fakeorg.ScannerApp)
	}
	c, err := salesforce.New(salesforce.Config{URL: ts.URL, ClientID: id, ClientSecret: secret, MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	return c, srv
}

func acmeScenario(t testing.TB) *fakeorg.Scenario {
	t.Helper()
	sc, err := fakeorg.LoadScenario(filepath.Join(repotest.Root(t), "examples/acme/org/scenario.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// scanAcme discovers the Acme example org and evaluates the policy pack on
// it joined to the Acme inventory.
func scanAcme(t *testing.T) (*snapshot.Snapshot, *policy.Result) {
	t.Helper()
	c, _ := startOrg(t, acmeScenario(t))
	inv, err := inventory.Load([]string{filepath.Join(repotest.Root(t), "examples/acme/inventory")}, inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var usernames []string
	for _, id := range inv.Identities {
		usernames = append(usernames, id.Spec.Salesforce.RunAs)
	}
	res, err := discovery.Discover(context.Background(), c, discovery.Options{Now: now, Usernames: usernames})
	if err != nil {
		t.Fatal(err)
	}
	snap := snapshot.Build(snapshot.Sources{Inventory: inv, Metadata: res.Metadata, Org: res.Org, Now: now})
	engine, err := policy.New(context.Background(), policy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	result, err := engine.Evaluate(context.Background(), snap)
	if err != nil {
		t.Fatal(err)
	}
	return snap, result
}

func TestDiscoverAcmeSnapshot(t *testing.T) {
	snap, _ := scanAcme(t)
	if !snap.Capabilities.Live || !snap.Capabilities.LoginHistory || snap.Source != "org" {
		t.Errorf("capabilities = %+v, source %q; want a live snapshot with login history", snap.Capabilities, snap.Source)
	}
	if snap.Org == nil || snap.Org.ID != "00D5g000004AcMeEAA" {
		t.Fatalf("org = %+v, want the scenario's org id", snap.Org)
	}

	apps := map[string]snapshot.App{}
	for _, a := range snap.Apps {
		apps[a.Name] = a
	}
	erp, ok := apps["Erp_Connector"]
	if !ok {
		t.Fatalf("Erp_Connector not discovered; apps: %v", keys(apps))
	}
	if !erp.Flows.ClientCredentials || erp.RunAs != "erp.integration@acme.example" || erp.Kind != snapshot.KindConnectedApp {
		t.Errorf("Erp_Connector = flows %+v run-as %q kind %s", erp.Flows, erp.RunAs, erp.Kind)
	}
	if erp.Live == nil || !erp.Live.InOrg || erp.Live.ClientCredentialsLogins == 0 {
		t.Errorf("Erp_Connector live = %+v, want logins from the org", erp.Live)
	}
	billing, ok := apps["Billing_Sync"]
	if !ok || billing.Kind != snapshot.KindExternalClientApp || !billing.Flows.ClientCredentials {
		t.Errorf("Billing_Sync = %+v, want an External Client App with client credentials", billing)
	}
	if !slices.Equal(billing.Scopes, []string{"api"}) {
		t.Errorf("Billing_Sync scopes = %v, want [api] from ExtlClntAppOauthSettings", billing.Scopes)
	}

	users := map[string]snapshot.User{}
	for _, u := range snap.Users {
		users[u.Username] = u
	}
	erpUser := users["erp.integration@acme.example"]
	if erpUser.Live == nil || !erpUser.Live.Active {
		t.Fatalf("erp run-as user = %+v, want it read from the org", erpUser)
	}
	if got := erpUser.Effective.User["ModifyAllData"]; len(got) == 0 {
		t.Errorf("erp run-as user effective ModifyAllData = %v, want the Incident_Elevation grant", got)
	}
	if !slices.Contains(erpUser.PermissionSets, "Incident_Elevation") {
		t.Errorf("erp run-as permission sets = %v, want Incident_Elevation", erpUser.PermissionSets)
	}

	var legacy *snapshot.OAuthApp
	for i := range snap.OAuthApps {
		if strings.EqualFold(snap.OAuthApps[i].App, "Legacy_Reporting") {
			legacy = &snap.OAuthApps[i]
		}
	}
	if legacy == nil || legacy.Tokens == 0 || len(legacy.Identities) != 0 {
		t.Errorf("Legacy_Reporting OAuth app = %+v, want tokens and no identity", legacy)
	}
	if len(snap.SetupChanges) == 0 {
		t.Error("no Setup changes matched an app or run-as user")
	}
	for _, a := range snap.Apps {
		if a.Live != nil && a.Live.InOrg && a.Location.Line != 0 {
			t.Errorf("app %s from the org has a line number %d", a.Name, a.Location.Line)
		}
	}
}

func TestDiscoverAcmeFindings(t *testing.T) {
	_, res := scanAcme(t)
	type hit struct{ rule, resource string }
	got := map[hit]bool{}
	for _, f := range res.Findings {
		got[hit{f.Rule, f.Resource.Name}] = true
		if f.Identity != nil && *f.Identity == "billing-sync-prod" {
			t.Errorf("well-governed identity billing-sync-prod has finding %s: %s", f.Rule, f.Message)
		}
	}
	for _, want := range []hit{
		{"NHI-INV-05", "Warehouse_Feed"},
		{"NHI-RUN-04", "marketing.integration@acme.example"},
		{"NHI-MON-03", "Legacy Reporting"},
		{"NHI-REV-02", "erp-connector-prod"},
		{"NHI-RUN-02", "erp.integration@acme.example"},
	} {
		if !got[want] {
			t.Errorf("no %s finding on %s; findings: %v", want.rule, want.resource, got)
		}
	}
}

func TestDiscoverFailures(t *testing.T) {
	tests := []struct {
		name  string
		fault fakeorg.Fault
		want  string // in the error
		is    error
	}{
		{"html error page", fakeorg.Fault{Kind: fakeorg.FaultHTMLError, Path: "/services/data/", Count: 1}, "/services/data/", nil},
		{"truncated body", fakeorg.Fault{Kind: fakeorg.FaultTruncate, Path: "/services/data/", Count: 1}, "/services/data/", nil},
		{"soap fault", fakeorg.Fault{Kind: fakeorg.FaultRequestLimit, Path: "/services/Soap/", Count: 1}, "REQUEST_LIMIT_EXCEEDED", nil},
		{"login redirect", fakeorg.Fault{Kind: fakeorg.FaultLoginRedirect, Path: "/services/data/", Count: 1}, "/services/data/", nil},
		{"session expired twice", fakeorg.Fault{Kind: fakeorg.FaultInvalidSession, Path: "/services/data/", Count: 2}, "INVALID_SESSION_ID", salesforce.ErrSessionInvalid},
		{"server error", fakeorg.Fault{Kind: fakeorg.FaultServerError, Path: "/services/data/", Count: 1}, "503", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, srv := startOrg(t, acmeScenario(t))
			srv.Inject(tt.fault)
			res, err := discovery.Discover(context.Background(), c, discovery.Options{Now: now})
			if err == nil {
				t.Fatalf("Discover succeeded (%d apps) despite the fault", len(res.Metadata.ConnectedApps))
			}
			if res != nil {
				t.Error("a failed discovery returned a result")
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "discovery: ") {
				t.Errorf("error = %q, want it to name the step and contain %q", err, tt.want)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v is not %v", err, tt.is)
			}
		})
	}
}

// Small batches page every query; the result is the same as in one batch.
func TestDiscoverPagesEveryQuery(t *testing.T) {
	one, _ := startOrg(t, acmeScenario(t))
	whole, err := discovery.Discover(context.Background(), one, discovery.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	sc := acmeScenario(t)
	sc.API.BatchSize = 2
	c, _ := startOrg(t, sc)
	paged, err := discovery.Discover(context.Background(), c, discovery.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if paged.Calls <= whole.Calls {
		t.Errorf("batches of 2 took %d calls, one batch %d: the queries did not page", paged.Calls, whole.Calls)
	}
	// The two orgs differ only in their address and the API calls counted.
	ignore := cmpopts.IgnoreFields(snapshot.Org{}, "URL", "APIUsage")
	if diff := cmp.Diff(whole.Org, paged.Org, ignore); diff != "" {
		t.Errorf("paged result differs (-one batch +paged):\n%s", diff)
	}
}

// An expired session is re-minted once, transparently.
func TestDiscoverRecoversFromOneExpiredSession(t *testing.T) {
	c, srv := startOrg(t, acmeScenario(t))
	srv.Inject(fakeorg.Fault{Kind: fakeorg.FaultInvalidSession, Path: "/services/Soap/", Count: 1})
	res, err := discovery.Discover(context.Background(), c, discovery.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Metadata.ConnectedApps) == 0 {
		t.Error("no connected apps after recovering the session")
	}
}

// An org with no app but the scanner's gives a complete, nearly empty
// result.
func TestDiscoverEmptyOrg(t *testing.T) {
	sc := fakeorg.Generate(0, 1, 1)
	c, _ := startOrg(t, sc)
	var steps []string
	res, err := discovery.Discover(context.Background(), c, discovery.Options{Now: now, Progress: func(s string) { steps = append(steps, s) }})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(res.Metadata.ConnectedApps) + len(res.Metadata.ECAs); n != 1 {
		t.Errorf("apps = %d, want only the scanner's", n)
	}
	if len(steps) != discovery.Steps {
		t.Errorf("progress reported %d steps, discovery.Steps says %d: %v", len(steps), discovery.Steps, steps)
	}
}

// BenchmarkDiscover scans a generated org of 1,000 client-credentials apps
// and 1,000 integration users on loopback and reports the API calls one
// scan makes.
func BenchmarkDiscover(b *testing.B) {
	sc := fakeorg.Generate(1000, 1000, 1)
	for b.Loop() {
		c, _ := startOrg(b, sc)
		res, err := discovery.Discover(context.Background(), c, discovery.Options{Now: now})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(res.Calls), "calls/scan")
		b.ReportMetric(float64(len(res.Metadata.ConnectedApps)+len(res.Metadata.ECAs)), "apps/scan")
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestDiscoverCallBudget counts the API calls of a scan of 1,000
// client-credentials apps and 1,000 integration users: the count is
// deterministic, and it must stay far below one call per app.
func TestDiscoverCallBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 1,000-app org")
	}
	c, srv := startOrg(t, fakeorg.Generate(1000, 1000, 1))
	before, _ := srv.APIUsage()
	res, err := discovery.Discover(context.Background(), c, discovery.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	after, _ := srv.APIUsage()
	if apps := len(res.Metadata.ConnectedApps) + len(res.Metadata.ECAs); apps != 1001 {
		t.Errorf("discovered %d apps, want 1001", apps)
	}
	if after-before != res.Calls {
		t.Errorf("the org counted %d calls, the client %d", after-before, res.Calls)
	}
	if res.Calls > 150 {
		t.Errorf("scan took %d API calls, budget 150", res.Calls)
	}
	t.Logf("%d API calls", res.Calls)
}

// A query locator that expires between two pages of a result fails
// the scan with the error Salesforce gives, naming the endpoint.
func TestDiscoverExpiredQueryLocator(t *testing.T) {
	sc := acmeScenario(t)
	sc.API.BatchSize = 2 // every query of more than two rows pages
	c, srv := startOrg(t, sc)
	srv.Inject(fakeorg.Fault{Kind: fakeorg.FaultExpireLocator, Count: 1})
	_, err := discovery.Discover(context.Background(), c, discovery.Options{Now: now})
	if err == nil {
		t.Fatal("Discover succeeded although a query locator expired")
	}
	if !strings.Contains(err.Error(), "INVALID_QUERY_LOCATOR") || !strings.Contains(err.Error(), "/query/") {
		t.Errorf("error = %q, want INVALID_QUERY_LOCATOR naming the query endpoint", err)
	}
}
