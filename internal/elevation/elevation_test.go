package elevation_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/steward-dev/steward/internal/audit"
	"github.com/steward-dev/steward/internal/elevation"
	"github.com/steward-dev/steward/internal/salesforce"
	"github.com/steward-dev/steward/internal/salesforce/fakeorg"
	"github.com/steward-dev/steward/internal/store"
	"github.com/steward-dev/steward/internal/store/storetest"
)

// scenario is an org with an integration user, a break-glass permission
// set, and the governance app Steward connects with.
const scenario = `
org: {name: Acme, myDomain: acme, id: 00D000000000001EAA}
connectedApps:
  - name: Steward_Governance
    consumerKey: 3MVG9stewardKEY
    consumerSecret: STEWARDSECRET0001
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
  - {name: Billing_Base, label: Billing}
assignments:
  - {user: billing@acme.example, permissionSet: Billing_Base}
`

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type env struct {
	svc   *elevation.Service
	db    store.Store
	clock *clock
	org   *httptest.Server
	sf    *salesforce.Client
	tasks *taskList
}

// taskList is a ReviewTasks that keeps what it was given.
type taskList struct {
	mu  sync.Mutex
	ids []string
}

func (l *taskList) OpenPostUseReview(_ context.Context, e store.Elevation) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ids = append(l.ids, e.ID)
	return nil
}

func setup(t *testing.T, cfg elevation.Config) *env {
	t.Helper()
	c := &clock{t: time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)} // a Thursday
	sc, err := fakeorg.ParseScenario("scenario", []byte(scenario))
	if err != nil {
		t.Fatal(err)
	}
	fo, err := fakeorg.New(sc, fakeorg.Options{Clock: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(fo)
	t.Cleanup(ts.Close)
	connect := func(url string) (*salesforce.Client, error) {
		return salesforce.New(salesforce.Config{URL: url, ClientID: "3MVG9stewardKEY", ClientSecret: "STEWARDSECRET0001", HTTPClient: ts.Client(), MaxRetries: -1})
	}
	sf, err := connect(ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	open, _ := storetest.SQLite(t)
	db := open()
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	log, err := audit.New(audit.Config{Store: db, Signer: key, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	tasks := &taskList{}
	svc, err := elevation.New(elevation.Options{
		Config: cfg, Store: db, Org: &elevation.SalesforceOrgs{Connect: connect}, Audit: log, Now: c.Now, Reviews: tasks,
		Targets: func(name string) (elevation.Target, bool) {
			if name != "billing-sync-prod" {
				return elevation.Target{}, false
			}
			return elevation.Target{OrgURL: ts.URL, RunAs: "billing@acme.example"}, true
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return &env{svc: svc, db: db, clock: c, org: ts, sf: sf, tasks: tasks}
}

var (
	ana = elevation.Actor{Name: "ana@acme.com", Approver: true}
	raj = elevation.Actor{Name: "raj@acme.com", Approver: true}
	lee = elevation.Actor{Name: "lee@acme.com"}
)

func request(d time.Duration) elevation.Request {
	return elevation.Request{Identity: "billing-sync-prod", PermissionSet: "Billing_Breakglass", Reason: "Repair invoices stuck after the ERP outage", Reference: "INC-4711", Duration: d}
}

type assignment struct {
	ID             string `json:"Id"`
	ExpirationDate string `json:"ExpirationDate"`
	PermissionSet  struct {
		Name string `json:"Name"`
	} `json:"PermissionSet"`
}

// assignments reads the integration user's assignments from the org, as a
// scan would.
func (e *env) assignments(t *testing.T) map[string]assignment {
	t.Helper()
	rows, err := salesforce.QueryAll[assignment](context.Background(), e.sf,
		"SELECT Id, PermissionSet.Name, ExpirationDate FROM PermissionSetAssignment WHERE Assignee.Username = 'billing@acme.example'")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]assignment{}
	for _, r := range rows {
		out[r.PermissionSet.Name] = r
	}
	return out
}

// actions lists the audit log's actions with their outcomes.
func (e *env) actions(t *testing.T) []string {
	t.Helper()
	var out []string
	err := e.db.AuditRecords(context.Background(), 1, func(r store.AuditRecord) error {
		ev, err := audit.ParseEvent(r.Body)
		if err != nil {
			return err
		}
		out = append(out, ev.Action+":"+ev.Outcome)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestLifecycle(t *testing.T) {
	e := setup(t, elevation.Config{})
	ctx := context.Background()
	req, err := e.svc.Request(ctx, lee, request(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if req.State != store.ElevationRequested || req.MaxDuration != elevation.DefaultMaxDuration || req.Requester != lee.Name {
		t.Fatalf("request stored as %+v", req)
	}
	if _, ok := e.assignments(t)["Billing_Breakglass"]; ok {
		t.Fatal("assigned before approval")
	}
	e.clock.Advance(10 * time.Minute)
	got, err := e.svc.Approve(ctx, ana, req.ID, "approved on the bridge call", false)
	if err != nil {
		t.Fatal(err)
	}
	wantExpiry := e.clock.Now().Add(2 * time.Hour)
	if got.State != store.ElevationActive || got.Approver != ana.Name || !got.ExpiresAt.Equal(wantExpiry) || got.AssignmentID == "" {
		t.Fatalf("approved elevation %+v", got)
	}
	a, ok := e.assignments(t)["Billing_Breakglass"]
	if !ok || a.ID != got.AssignmentID || a.ExpirationDate != "2026-11-26T11:10:00.000+0000" {
		t.Fatalf("org assignment %+v; want %s expiring 11:10Z", a, got.AssignmentID)
	}

	// Not yet due: the sweep leaves it.
	e.clock.Advance(time.Hour)
	if res, err := e.svc.Sweep(ctx); err != nil || res != (elevation.SweepResult{}) {
		t.Fatalf("early sweep: %+v, %v", res, err)
	}
	// Due: removed by Steward (the emulator leaves expired assignments in place).
	e.clock.Advance(time.Hour)
	if res, err := e.svc.Sweep(ctx); err != nil || res.Removed != 1 {
		t.Fatalf("sweep at expiry: %+v, %v", res, err)
	}
	as := e.assignments(t)
	if _, ok := as["Billing_Breakglass"]; ok || as["Billing_Base"].ID == "" {
		t.Fatalf("after expiry the org still has %v", as)
	}
	done, _ := e.svc.Get(ctx, req.ID)
	// Removed on Thursday 11:10; two business days later is Monday.
	if done.State != store.ElevationPostReviewDue || done.RemovedBy != elevation.SystemActor ||
		!done.ReviewDueAt.Equal(time.Date(2026, 11, 30, 11, 10, 0, 0, time.UTC)) {
		t.Fatalf("after expiry: %+v", done)
	}
	if len(e.tasks.ids) != 1 || e.tasks.ids[0] != req.ID {
		t.Fatalf("review tasks opened: %v", e.tasks.ids)
	}
	if res, err := e.svc.Sweep(ctx); err != nil || res != (elevation.SweepResult{}) {
		t.Fatalf("second sweep: %+v, %v", res, err)
	}
	if _, err := e.svc.Close(ctx, lee, req.ID, "fixed the invoices", false); !errors.Is(err, elevation.ErrNotApprover) {
		t.Fatalf("close by a non-approver: %v", err)
	}
	closed, err := e.svc.Close(ctx, raj, req.ID, "checked the setup audit trail: only invoice fixes", true)
	if err != nil || closed.State != store.ElevationClosed || !closed.SecretSeen || closed.ClosedBy != raj.Name {
		t.Fatalf("close: %+v, %v", closed, err)
	}
	want := []string{"elevation.request:success", "elevation.approve:success", "elevation.apply:success", "elevation.expire:success",
		"elevation.review.close:denied", "elevation.review.close:success"}
	if got := e.actions(t); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("audit trail\n got %v\nwant %v", got, want)
	}
}

func TestRefusals(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, e *env) error
		kind error
		want string
	}{
		{"over the cap", func(t *testing.T, e *env) error {
			_, err := e.svc.Request(ctx, lee, request(5*time.Hour))
			return err
		}, elevation.ErrOverCap, "5h0m0s is over the cap of 4h0m0s"},
		{"over a configured cap", nil, elevation.ErrOverCap, "over the cap of 1h0m0s"},
		{"unknown permission set", func(t *testing.T, e *env) error {
			r := request(time.Hour)
			r.PermissionSet = "No_Such_Set"
			_, err := e.svc.Request(ctx, lee, r)
			return err
		}, elevation.ErrUnknownPermSet, "no permission set named No_Such_Set"},
		{"unknown identity", func(t *testing.T, e *env) error {
			r := request(time.Hour)
			r.Identity = "ghost"
			_, err := e.svc.Request(ctx, lee, r)
			return err
		}, elevation.ErrUnknownIdentity, "no identity named ghost"},
		{"no reference", func(t *testing.T, e *env) error {
			r := request(time.Hour)
			r.Reference = ""
			_, err := e.svc.Request(ctx, lee, r)
			return err
		}, elevation.ErrInvalid, "incident or change reference"},
		{"self approval", func(t *testing.T, e *env) error {
			req, err := e.svc.Request(ctx, ana, request(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			_, err = e.svc.Approve(ctx, ana, req.ID, "", false)
			return err
		}, elevation.ErrSelfApproval, "may not approve it"},
		{"approver role", func(t *testing.T, e *env) error {
			req, err := e.svc.Request(ctx, ana, request(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			_, err = e.svc.Approve(ctx, lee, req.ID, "", false)
			return err
		}, elevation.ErrNotApprover, "approver role"},
		{"expired request", func(t *testing.T, e *env) error {
			req, err := e.svc.Request(ctx, lee, request(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			e.clock.Advance(elevation.DefaultRequestTTL)
			_, err = e.svc.Approve(ctx, ana, req.ID, "", false)
			if got, _ := e.svc.Get(ctx, req.ID); got.State != store.ElevationExpired {
				t.Errorf("expired request is %s", got.State)
			}
			return err
		}, elevation.ErrRequestExpired, "expired at"},
		{"denied then approved", func(t *testing.T, e *env) error {
			req, err := e.svc.Request(ctx, lee, request(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.svc.Deny(ctx, raj, req.ID, "use the runbook instead"); err != nil {
				t.Fatal(err)
			}
			_, err = e.svc.Approve(ctx, ana, req.ID, "", false)
			return err
		}, elevation.ErrState, "is denied"},
		{"org refuses", func(t *testing.T, e *env) error {
			// The user holds Billing_Base already: the org answers DUPLICATE_VALUE.
			r := request(time.Hour)
			r.PermissionSet = "Billing_Base"
			req, err := e.svc.Request(ctx, lee, r)
			if err != nil {
				t.Fatal(err)
			}
			_, err = e.svc.Approve(ctx, ana, req.ID, "", false)
			got, _ := e.svc.Get(ctx, req.ID)
			if got.State != store.ElevationApproved || got.AssignmentID != "" || !strings.Contains(got.ApplyError, "DUPLICATE_VALUE") {
				t.Errorf("after the refusal: %+v", got)
			}
			return err
		}, elevation.ErrOrgRefused, "approved, but not applied"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := elevation.Config{}
			run := tc.run
			if run == nil {
				cfg.MaxDuration = time.Hour
				run = func(t *testing.T, e *env) error {
					_, err := e.svc.Request(ctx, lee, request(90*time.Minute))
					return err
				}
			}
			e := setup(t, cfg)
			before := e.assignments(t)
			err := run(t, e)
			if !errors.Is(err, tc.kind) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v; want %v saying %q", err, tc.kind, tc.want)
			}
			if after := e.assignments(t); len(after) != len(before) {
				t.Fatalf("a refusal changed the org: %v → %v", before, after)
			}
			acts := e.actions(t)
			last := acts[len(acts)-1]
			if !strings.HasSuffix(last, ":denied") && !strings.HasSuffix(last, ":failure") {
				t.Fatalf("refusal not audited; last record %s", last)
			}
		})
	}
}

// Removal happens even when the org removed the assignment itself, and
// is retried while the org cannot be reached.
func TestSweepOrgAlreadyRemoved(t *testing.T) {
	e := setup(t, elevation.Config{})
	ctx := context.Background()
	req, err := e.svc.Request(ctx, lee, request(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.svc.Approve(ctx, ana, req.ID, "", false)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.sf.DeleteRecord(ctx, "PermissionSetAssignment", got.AssignmentID); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Hour)
	if res, err := e.svc.Sweep(ctx); err != nil || res.Removed != 1 {
		t.Fatalf("sweep: %+v, %v", res, err)
	}
}

func TestSweepRetriesWhenOrgDown(t *testing.T) {
	e := setup(t, elevation.Config{})
	ctx := context.Background()
	req, _ := e.svc.Request(ctx, lee, request(time.Hour))
	if _, err := e.svc.Approve(ctx, ana, req.ID, "", false); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Hour)
	e.org.Close()
	if res, err := e.svc.Sweep(ctx); err != nil || res.Failed != 1 || res.Removed != 0 {
		t.Fatalf("sweep with the org down: %+v, %v", res, err)
	}
	if got, _ := e.svc.Get(ctx, req.ID); got.State != store.ElevationActive {
		t.Fatalf("state after a failed removal: %s", got.State)
	}
}

func TestRevoke(t *testing.T) {
	e := setup(t, elevation.Config{})
	ctx := context.Background()
	req, _ := e.svc.Request(ctx, lee, request(time.Hour))
	if _, err := e.svc.Approve(ctx, ana, req.ID, "", false); err != nil {
		t.Fatal(err)
	}
	got, err := e.svc.Revoke(ctx, lee, req.ID, "done early")
	if err != nil || got.State != store.ElevationPostReviewDue || got.RemovedBy != lee.Name {
		t.Fatalf("revoke: %+v, %v", got, err)
	}
	if _, ok := e.assignments(t)["Billing_Breakglass"]; ok {
		t.Fatal("revoked assignment still in the org")
	}
	pending, _ := e.svc.Request(ctx, lee, request(time.Hour))
	if _, err := e.svc.Revoke(ctx, elevation.Actor{Name: "mallory@acme.com"}, pending.ID, ""); !errors.Is(err, elevation.ErrNotApprover) {
		t.Fatalf("revoke by a stranger: %v", err)
	}
	if got, err := e.svc.Revoke(ctx, lee, pending.ID, ""); err != nil || got.State != store.ElevationRevoked {
		t.Fatalf("withdraw: %+v, %v", got, err)
	}
}

func TestConfigLimits(t *testing.T) {
	for _, tc := range []struct {
		cfg  elevation.Config
		want string
	}{
		{elevation.Config{MaxDuration: 25 * time.Hour}, "maxDuration 25h0m0s: it must be positive and at most the hard cap of 24h0m0s"},
		{elevation.Config{MaxDuration: time.Hour, DefaultDuration: 2 * time.Hour}, "defaultDuration 2h0m0s"},
		{elevation.Config{RequestTTL: -1}, "requestTTL"},
	} {
		if _, err := elevation.New(elevation.Options{Config: tc.cfg}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("config %+v: err = %v; want %q", tc.cfg, err, tc.want)
		}
	}
}

// Run sweeps at once when it starts, so that an elevation that expired
// while the server was down is removed without waiting for the interval.
func TestRunSweepsAtStart(t *testing.T) {
	e := setup(t, elevation.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := e.svc.Request(ctx, lee, request(time.Hour))
	if _, err := e.svc.Approve(ctx, ana, req.ID, "", false); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(3 * time.Hour) // "down" past the expiry
	done := make(chan struct{})
	go func() { e.svc.Run(ctx, time.Hour); close(done) }()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if got, _ := e.svc.Get(ctx, req.ID); got.State == store.ElevationPostReviewDue {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Run did not sweep at start")
		}
	}
	cancel()
	<-done
}
