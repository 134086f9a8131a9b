package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/steward-dev/steward/internal/audit"
	"github.com/steward-dev/steward/internal/broker"
	"github.com/steward-dev/steward/internal/elevation"
	"github.com/steward-dev/steward/internal/httpapi"
	"github.com/steward-dev/steward/internal/snapshot"
	"github.com/steward-dev/steward/internal/store"
	"github.com/steward-dev/steward/internal/workload"
)

// fakeElevations answers with a fixed error, or with elevations built
// from what it was asked, and remembers the last actor.
type fakeElevations struct {
	err   error
	actor elevation.Actor
	all   []store.Elevation
}

func (f *fakeElevations) answer(actor elevation.Actor, e store.Elevation) (store.Elevation, error) {
	f.actor = actor
	return e, f.err
}

func (f *fakeElevations) Request(_ context.Context, a elevation.Actor, r elevation.Request) (store.Elevation, error) {
	return f.answer(a, store.Elevation{ID: "el-000000000001", Identity: r.Identity, PermissionSet: r.PermissionSet, Duration: r.Duration, State: store.ElevationRequested})
}
func (f *fakeElevations) Approve(_ context.Context, a elevation.Actor, id, _ string, seen bool) (store.Elevation, error) {
	return f.answer(a, store.Elevation{ID: id, State: store.ElevationActive, SecretSeen: seen})
}
func (f *fakeElevations) Deny(_ context.Context, a elevation.Actor, id, _ string) (store.Elevation, error) {
	return f.answer(a, store.Elevation{ID: id, State: store.ElevationDenied})
}
func (f *fakeElevations) Revoke(_ context.Context, a elevation.Actor, id, _ string) (store.Elevation, error) {
	return f.answer(a, store.Elevation{ID: id, State: store.ElevationRevoked})
}
func (f *fakeElevations) Close(_ context.Context, a elevation.Actor, id, _ string, _ bool) (store.Elevation, error) {
	return f.answer(a, store.Elevation{ID: id, State: store.ElevationClosed})
}
func (f *fakeElevations) Get(_ context.Context, id string) (store.Elevation, error) {
	for _, e := range f.all {
		if e.ID == id {
			return e, nil
		}
	}
	return store.Elevation{}, &elevation.Refusal{Kind: elevation.ErrNotFound, Reason: "no elevation " + id}
}
func (f *fakeElevations) List(context.Context, store.ElevationFilter) ([]store.Elevation, error) {
	return f.all, f.err
}

type noAuth struct{}

func (noAuth) Authenticate(context.Context, *http.Request) (*workload.Workload, error) {
	return nil, errors.New("no workloads here")
}

type noDecider struct{}

func (noDecider) Decide(context.Context, broker.Input) (broker.Decision, error) {
	return broker.Decision{}, errors.New("no decisions here")
}

type noTokens struct{}

func (noTokens) Token(context.Context, string, time.Duration) (broker.Grant, error) {
	return broker.Grant{}, errors.New("no tokens here")
}
func (noTokens) Cached(string) bool                          { return false }
func (noTokens) Drop(string)                                 {}
func (noTokens) Revoke(context.Context, string) (int, error) { return 0, nil }

type memAudit struct{ events []audit.Event }

func (m *memAudit) Append(_ context.Context, ev audit.Event) (audit.Record, error) {
	m.events = append(m.events, ev)
	return audit.Record{Event: ev}, nil
}

const (
	elevOwner    = "elev-owner-token-0123456789abcdef0123456789"
	elevApprover = "elev-approver-token-0123456789abcdef012345"
	elevAdmin    = "elev-admin-token-0123456789abcdef0123456789"
)

func elevationAPI(t *testing.T, svc httpapi.Elevations) *httptest.Server {
	t.Helper()
	snap := &snapshot.Snapshot{Identities: []snapshot.Identity{{Name: "billing-sync-prod", Owner: "finance"}, {Name: "erp-sync-prod", Owner: "erp"}}}
	api, err := httpapi.New(context.Background(), httpapi.Config{
		Auth: noAuth{}, Decider: noDecider{}, Audit: &memAudit{}, Tokens: noTokens{}, Snapshot: snap, Elevations: svc,
		Operators: []httpapi.Operator{
			{Name: "lee", Role: httpapi.RoleOwner, Token: elevOwner, Teams: []string{"finance"}},
			{Name: "ana", Role: httpapi.RoleApprover, Token: elevApprover},
			{Name: "root", Role: httpapi.RoleAdmin, Token: elevAdmin},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(api)
	t.Cleanup(ts.Close)
	return ts
}

func call(t *testing.T, ts *httptest.Server, token, method, path, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// Each refusal kind gets its status and its reason in the body.
func TestElevationErrorStatus(t *testing.T) {
	for _, tc := range []struct {
		kind error
		want int
	}{
		{elevation.ErrNotFound, 404}, {elevation.ErrUnknownIdentity, 404}, {elevation.ErrUnknownPermSet, 400},
		{elevation.ErrInvalid, 400}, {elevation.ErrOverCap, 400}, {elevation.ErrSelfApproval, 403},
		{elevation.ErrNotApprover, 403}, {elevation.ErrRequestExpired, 409}, {elevation.ErrState, 409},
		{elevation.ErrOrgRefused, 502}, {elevation.ErrOrgUnavailable, 502}, {elevation.ErrAuditUnavailable, 503},
		{errors.New("disk on fire"), 500},
	} {
		svc := &fakeElevations{err: &elevation.Refusal{Kind: tc.kind, Reason: "because " + tc.kind.Error()}}
		if tc.want == 500 {
			svc.err = tc.kind
		}
		ts := elevationAPI(t, svc)
		status, body := call(t, ts, elevApprover, http.MethodPost, "/v1/elevations/el-000000000001/approve", `{"note":"ok"}`)
		if status != tc.want {
			t.Errorf("%v: status %d, want %d: %s", tc.kind, status, tc.want, body)
		}
		if tc.want != 500 && !strings.Contains(body, "because "+tc.kind.Error()) {
			t.Errorf("%v: body %s does not carry the reason", tc.kind, body)
		}
		if tc.want == 500 && strings.Contains(body, "disk on fire") {
			t.Errorf("internal error leaked: %s", body)
		}
	}
}

func TestElevationRoutes(t *testing.T) {
	svc := &fakeElevations{all: []store.Elevation{
		{ID: "el-000000000001", Identity: "billing-sync-prod", Requester: "lee", State: store.ElevationActive},
		{ID: "el-000000000002", Identity: "erp-sync-prod", Requester: "kim", State: store.ElevationRequested},
	}}
	ts := elevationAPI(t, svc)

	status, body := call(t, ts, elevOwner, http.MethodPost, "/v1/identities/billing-sync-prod/elevations",
		`{"permissionSet":"Billing_Breakglass","reason":"Repair invoices","reference":"INC-1","duration":"90m"}`)
	var v httpapi.ElevationView
	json.Unmarshal([]byte(body), &v)
	if status != 201 || v.Duration != "1h30m0s" || svc.actor.Name != "lee" || svc.actor.Approver {
		t.Fatalf("request: %d %s (actor %+v)", status, body, svc.actor)
	}
	for _, bad := range []string{`{"permissionSet":"X","duration":"soon"}`, `{"permissionSet":"X","extra":1}`, `not json`} {
		if status, body := call(t, ts, elevOwner, http.MethodPost, "/v1/identities/billing-sync-prod/elevations", bad); status != 400 {
			t.Errorf("request %s: %d %s, want 400", bad, status, body)
		}
	}
	if status, _ := call(t, ts, elevOwner, http.MethodPost, "/v1/identities/erp-sync-prod/elevations", `{}`); status != 403 {
		t.Errorf("request for another team's identity: %d, want 403", status)
	}

	// An owner lists and reads its teams' elevations only.
	status, body = call(t, ts, elevOwner, http.MethodGet, "/v1/elevations", "")
	if status != 200 || !strings.Contains(body, "el-000000000001") || strings.Contains(body, "el-000000000002") {
		t.Errorf("owner list: %d %s", status, body)
	}
	if status, _ := call(t, ts, elevOwner, http.MethodGet, "/v1/elevations/el-000000000002", ""); status != 404 {
		t.Errorf("owner reading another team's elevation: %d, want 404", status)
	}
	if status, body := call(t, ts, elevApprover, http.MethodGet, "/v1/elevations", ""); status != 200 || !strings.Contains(body, "el-000000000002") {
		t.Errorf("approver list: %d %s", status, body)
	}

	// Approve passes the approver and --secret-seen through; an admin revokes as an approver.
	status, body = call(t, ts, elevApprover, http.MethodPost, "/v1/elevations/el-000000000002/approve", `{"secretSeen":true}`)
	if status != 200 || !svc.actor.Approver || !strings.Contains(body, `"secretSeen":true`) {
		t.Errorf("approve: %d %s (actor %+v)", status, body, svc.actor)
	}
	if status, _ := call(t, ts, elevApprover, http.MethodPost, "/v1/elevations/el-000000000002/deny", ""); status != 200 {
		t.Errorf("deny without a body: %d", status)
	}
	if status, _ := call(t, ts, elevAdmin, http.MethodPost, "/v1/elevations/el-000000000001/revoke", ""); status != 200 || !svc.actor.Approver {
		t.Errorf("admin revoke: %d (actor %+v)", status, svc.actor)
	}
	if status, _ := call(t, ts, elevOwner, http.MethodPost, "/v1/elevations/el-000000000001/revoke", ""); status != 200 || svc.actor.Approver {
		t.Errorf("owner revoke: %d (actor %+v)", status, svc.actor)
	}
}

// Without an elevation service the routes say how to turn it on.
func TestElevationNotConfigured(t *testing.T) {
	ts := elevationAPI(t, nil)
	status, body := call(t, ts, elevApprover, http.MethodGet, "/v1/elevations", "")
	if status != 503 || !strings.Contains(body, "elevation") {
		t.Fatalf("%d %s", status, body)
	}
}
