package review_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/steward-dev/steward/internal/audit"
	"github.com/steward-dev/steward/internal/broker"
	"github.com/steward-dev/steward/internal/review"
	"github.com/steward-dev/steward/internal/snapshot"
	"github.com/steward-dev/steward/internal/store"
	"github.com/steward-dev/steward/internal/store/storetest"
)

// The broker's runtime decision reads review standings from a Service.
var _ broker.ReviewSource = (*review.Service)(nil)

// recorder is an audit log in memory that can be made to fail.
type recorder struct {
	mu     sync.Mutex
	events []audit.Event
	fail   bool
}

func (r *recorder) Append(_ context.Context, ev audit.Event) (audit.Record, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail {
		return audit.Record{}, audit.ErrUnavailable
	}
	r.events = append(r.events, ev)
	return audit.Record{Seq: int64(len(r.events)), Event: ev}, nil
}

func (r *recorder) actions() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, ev := range r.events {
		out = append(out, ev.Action+"/"+ev.Outcome+"/"+ev.Resource)
	}
	return out
}

var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

var ana = audit.Actor{Kind: audit.ActorHuman, ID: "ana"}

func identity(name, criticality string, interval int, last string) snapshot.Identity {
	return snapshot.Identity{
		Name: name, Owner: "erp", Criticality: criticality, Lifecycle: "active",
		Salesforce: snapshot.Binding{App: "Erp_Connector", RunAs: "erp.integration@acme.example"},
		Review:     snapshot.Review{IntervalDays: interval, LastReviewed: last},
	}
}

type env struct {
	svc   *review.Service
	db    store.Store
	audit *recorder
	clock *time.Time
}

func newEnv(t *testing.T, ids ...snapshot.Identity) *env {
	t.Helper()
	open, _ := storetest.SQLite(t)
	e := &env{db: open(), audit: &recorder{}, clock: new(time.Time)}
	*e.clock = now
	svc, err := review.New(review.Config{Store: e.db, Audit: e.audit, Identities: ids, Now: func() time.Time { return *e.clock }})
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	return e
}

func TestIntervalDays(t *testing.T) {
	tests := []struct {
		criticality string
		declared    int
		want        int
	}{
		{"high", 0, 90}, {"high", 30, 30}, {"critical", 180, 90}, {"medium", 180, 180}, {"low", 400, 365}, {"", 0, 90},
	}
	for _, tt := range tests {
		id := identity("x", tt.criticality, tt.declared, "")
		if got := review.IntervalDays(&id); got != tt.want {
			t.Errorf("%s identity declaring %d days: %d, want %d", tt.criticality, tt.declared, got, tt.want)
		}
	}
}

func TestCampaign(t *testing.T) {
	e := newEnv(t,
		identity("never", "high", 90, ""),                 // never reviewed: due now
		identity("overdue", "medium", 90, "2026-06-01"),   // due 2026-08-30
		identity("soon", "high", 90, "2026-09-05"),        // due 2026-12-04, within 14 days
		identity("later", "high", 90, "2026-10-01"),       // due 2026-12-30
		identity("capped", "critical", 180, "2026-08-20"), // 90 days at most: due 2026-11-18
		func() snapshot.Identity {
			id := identity("retired", "high", 90, "")
			id.Lifecycle = "retired"
			return id
		}(),
	)
	ctx := context.Background()
	items, err := e.svc.Campaign(ctx, ana, "req-1")
	if err != nil {
		t.Fatal(err)
	}
	due := map[string]string{}
	for _, it := range items {
		due[it.Identity] = it.DueAt.Format(time.DateOnly)
		if it.Kind != review.KindPeriodic || it.Status != store.ReviewOpen || it.OpenedBy != "human:ana" {
			t.Errorf("item %+v", it)
		}
	}
	want := map[string]string{"never": "2026-11-25", "overdue": "2026-08-30", "soon": "2026-12-04", "capped": "2026-11-18"}
	if !mapsEqual(due, want) {
		t.Errorf("campaign opened %v, want %v", due, want)
	}
	if n := len(e.audit.actions()); n != 4 {
		t.Errorf("%d audit records, want one per opened item", n)
	}
	// Again: nothing new, nothing audited.
	again, err := e.svc.Campaign(ctx, ana, "req-2")
	if err != nil || len(again) != 0 || len(e.audit.actions()) != 4 {
		t.Errorf("second campaign opened %d items (%v), %d records", len(again), err, len(e.audit.actions()))
	}
	// Attesting moves the due date: the next campaign plans from the
	// attestation, so nothing opens until it falls due again.
	if _, err := e.svc.Attest(ctx, ana, "req-3", items[0].ID, review.DecisionKeep, "still needed"); err != nil {
		t.Fatal(err)
	}
	*e.clock = now.AddDate(0, 0, 80) // 10 days before the new due date
	third, err := e.svc.Campaign(ctx, ana, "req-4")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, it := range third {
		names = append(names, it.Identity)
	}
	if !slices.Contains(names, items[0].Identity) || !slices.Contains(names, "later") {
		t.Errorf("80 days later the campaign opened %v; want the attested identity again and 'later'", names)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestAttest(t *testing.T) {
	e := newEnv(t, identity("erp-prod", "high", 90, "2026-10-01"))
	ctx := context.Background()
	opened, err := e.svc.OpenExpansions(ctx, ana, "r", []snapshot.Change{{Kind: snapshot.ChangeWidened, Resource: "App", Subject: "Erp_Connector", Field: "scopes", After: "full"}}, nil)
	if err != nil || len(opened) != 1 {
		t.Fatalf("open: %v %v", opened, err)
	}
	id := opened[0].Item.ID
	kim := audit.Actor{Kind: audit.ActorHuman, ID: "kim"}
	for _, tc := range []struct {
		decision, comment string
		want              error
	}{
		{"approve", "ok", review.ErrInvalid},
		{"keep", " ", review.ErrInvalid},
		{"keep", strings.Repeat("x", 4001), review.ErrInvalid},
	} {
		if _, err := e.svc.Attest(ctx, kim, "r", id, tc.decision, tc.comment); !errors.Is(err, tc.want) {
			t.Errorf("attest %q %q: %v, want %v", tc.decision, tc.comment[:min(len(tc.comment), 10)], err, tc.want)
		}
	}
	if _, err := e.svc.Attest(ctx, kim, "r", 999, "keep", "ok"); !errors.Is(err, review.ErrNotFound) {
		t.Errorf("unknown item: %v", err)
	}
	// The audit log down: nothing changes.
	e.audit.fail = true
	if _, err := e.svc.Attest(ctx, kim, "r", id, "keep", "ok"); !errors.Is(err, review.ErrAudit) {
		t.Errorf("with the audit log down: %v, want ErrAudit", err)
	}
	e.audit.fail = false
	if it, _ := e.svc.Item(ctx, id); it.Status != store.ReviewOpen {
		t.Fatalf("an unaudited attestation changed the item: %+v", it)
	}
	closed, err := e.svc.Attest(ctx, kim, "r", id, review.DecisionRevoke, "vendor contract ended")
	if err != nil || closed.Status != store.ReviewClosed || closed.ClosedBy != "human:kim" || !closed.ClosedAt.Equal(now) {
		t.Fatalf("attest: %+v %v", closed, err)
	}
	if _, err := e.svc.Attest(ctx, kim, "r", id, review.DecisionKeep, "again"); !errors.Is(err, review.ErrClosed) {
		t.Errorf("attesting a closed item: %v, want ErrClosed", err)
	}
	want := []string{
		"review.open/success/erp-prod",
		"review.attest/denied/erp-prod", "review.attest/denied/erp-prod", "review.attest/denied/erp-prod",
		"review.attest/success/erp-prod", "review.attest/denied/erp-prod",
	}
	if got := e.audit.actions(); !slices.Equal(got, want) {
		t.Errorf("audit records\n got %v\nwant %v", got, want)
	}
	for _, ev := range e.audit.events {
		if ev.Action == review.ActionAttest && ev.Outcome == audit.OutcomeSuccess && ev.Details["comment"] != "vendor contract ended" {
			t.Errorf("the attestation record lacks its comment: %v", ev.Details)
		}
	}
}

func TestOpenExpansions(t *testing.T) {
	other := identity("crm-prod", "high", 90, "2026-10-01")
	other.Owner, other.Salesforce = "crm", snapshot.Binding{App: "Crm_Sync", RunAs: "crm@acme.example"}
	retired := identity("old-prod", "high", 90, "")
	retired.Lifecycle = "retired"
	e := newEnv(t, identity("erp-prod", "high", 90, "2026-10-01"), other, retired)
	ctx := context.Background()
	changes := []snapshot.Change{
		{Kind: snapshot.ChangeWidened, Resource: "App", Subject: "Erp_Connector", Field: "ipRelaxation", Before: "ENFORCE", After: "BYPASS"},
		{Kind: snapshot.ChangeWidened, Resource: "User", Subject: "ERP.Integration@acme.example", Field: "permissionSets", After: "Reporting"},
		{Kind: snapshot.ChangeNarrowed, Resource: "App", Subject: "Erp_Connector", Field: "scopes", Before: "full"},
		{Kind: snapshot.ChangeChanged, Resource: "Identity", Subject: "crm-prod", Field: "salesforce.runAs", Before: "crm@acme.example", After: "admin@acme.example"},
		{Kind: snapshot.ChangeWidened, Resource: "App", Subject: "Unknown_App", Field: "scopes", After: "api"},
	}
	setup := []snapshot.SetupChange{
		{Time: time.Date(2026, 9, 20, 0, 0, 0, 0, time.UTC), Action: "changedScopes", App: "Crm_Sync", By: "admin@acme.example"},           // before the review
		{Time: time.Date(2026, 10, 12, 0, 0, 0, 0, time.UTC), Action: "PermSetAssign", User: "crm@acme.example", By: "admin@acme.example"}, // after it
	}
	opened, err := e.svc.OpenExpansions(ctx, ana, "r", changes, setup)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]review.Evidence{}
	for _, o := range opened {
		if !o.Created {
			t.Errorf("%s: not created", o.Item.Identity)
		}
		ev, err := review.ParseEvidence(o.Item)
		if err != nil {
			t.Fatal(err)
		}
		got[o.Item.Identity] = ev
	}
	if len(got) != 2 || len(got["erp-prod"].Changes) != 2 || len(got["erp-prod"].SetupChanges) != 0 ||
		len(got["crm-prod"].Changes) != 1 || len(got["crm-prod"].SetupChanges) != 1 || got["crm-prod"].SetupChanges[0].Action != "PermSetAssign" {
		t.Fatalf("evidence %+v", got)
	}
	if c := got["erp-prod"].Changes[0]; c.Before != "ENFORCE" || c.After != "BYPASS" {
		t.Errorf("the evidence lost the before/after: %+v", c)
	}

	// The same changes again: nothing new. One more change: an item with
	// only that change.
	again, err := e.svc.OpenExpansions(ctx, ana, "r", changes, setup)
	if err != nil || len(again) != 0 {
		t.Errorf("second run opened %+v (%v)", again, err)
	}
	more := append(slices.Clone(changes), snapshot.Change{Kind: snapshot.ChangeAdded, Resource: "App", Subject: "Erp_Connector", Field: "flows", After: "jwtBearer"})
	third, err := e.svc.OpenExpansions(ctx, ana, "r", more, setup)
	if err != nil || len(third) != 1 {
		t.Fatalf("third run: %+v %v", third, err)
	}
	if ev, _ := review.ParseEvidence(third[0].Item); len(ev.Changes) != 1 || ev.Changes[0].After != "jwtBearer" {
		t.Errorf("third item's evidence %+v, want the new flow only", ev)
	}

	// The snapshot joins: open counts, and after an attestation the covered
	// changes and the date.
	if _, err := e.svc.Attest(ctx, ana, "r", third[0].Item.ID, review.DecisionKeep, "needed"); err != nil {
		t.Fatal(err)
	}
	snap := &snapshot.Snapshot{}
	if err := review.AddToSnapshot(ctx, e.db, snap); err != nil {
		t.Fatal(err)
	}
	rs := snap.ReviewStore
	if rs.LastAttested["erp-prod"] != "2026-11-25" || rs.Open["erp-prod"] != 1 || rs.Open["crm-prod"] != 1 ||
		!slices.Equal(rs.AttestedChanges["erp-prod"], []string{"App|Erp_Connector|flows|added||jwtBearer"}) {
		t.Errorf("review store in the snapshot %+v", rs)
	}
}

func TestReviewStatus(t *testing.T) {
	declared := identity("declared", "high", 90, "2026-10-01")
	never := identity("never", "low", 0, "")
	attested := identity("attested", "critical", 180, "2025-01-01")
	e := newEnv(t, declared, never, attested)
	ctx := context.Background()

	st, err := e.svc.Review(ctx, &declared)
	if err != nil || st.Due.Format(time.DateOnly) != "2026-12-30" {
		t.Errorf("declared: %+v %v", st, err)
	}
	if st, _ := e.svc.Review(ctx, &never); !st.Due.IsZero() {
		t.Errorf("never reviewed: %+v, want no due date", st)
	}
	if st, _ := e.svc.Review(ctx, &attested); st.Due.Format(time.DateOnly) != "2025-04-01" {
		t.Errorf("before the attestation: %+v", st)
	}
	items, _ := e.svc.Campaign(ctx, ana, "r")
	for _, it := range items {
		if it.Identity == "attested" {
			*e.clock = now.Add(time.Hour)
			if _, err := e.svc.Attest(ctx, ana, "r", it.ID, review.DecisionKeep, "ok"); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The attestation wins over the declared date, with the critical
	// identity's 90-day maximum.
	st, _ = e.svc.Review(ctx, &attested)
	if !st.LastReviewed.Equal(now.Add(time.Hour)) || st.Due.Format(time.DateOnly) != "2027-02-23" {
		t.Errorf("after the attestation: %+v", st)
	}
	full, err := e.svc.Status(ctx, "attested")
	if err != nil || full.Source != review.SourceStore || len(full.Open) != 0 || full.Overdue(now) {
		t.Errorf("status %+v %v", full, err)
	}
	if _, err := e.svc.Status(ctx, "nobody"); !errors.Is(err, review.ErrNotFound) {
		t.Errorf("unknown identity: %v", err)
	}
}

func TestNewNeedsStoreAndAudit(t *testing.T) {
	if _, err := review.New(review.Config{}); err == nil {
		t.Error("a service without a store and an audit log was built")
	}
}

// TestReviewSeesOtherReplicas attests through a second service on the same
// store: the first sees it once its cached dates are older than 30 seconds.
func TestReviewSeesOtherReplicas(t *testing.T) {
	id := identity("erp-prod", "high", 90, "2026-01-01")
	e := newEnv(t, id)
	ctx := context.Background()
	other, err := review.New(review.Config{Store: e.db, Audit: e.audit, Identities: []snapshot.Identity{id}, Now: func() time.Time { return *e.clock }})
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := e.svc.Review(ctx, &id); st.LastReviewed.Format(time.DateOnly) != "2026-01-01" {
		t.Fatalf("declared: %+v", st)
	}
	items, _ := other.Campaign(ctx, ana, "r")
	if len(items) != 1 {
		t.Fatalf("campaign opened %d items", len(items))
	}
	if _, err := other.Attest(ctx, ana, "r", items[0].ID, review.DecisionKeep, "ok"); err != nil {
		t.Fatal(err)
	}
	if st, _ := e.svc.Review(ctx, &id); st.LastReviewed.Format(time.DateOnly) != "2026-01-01" {
		t.Errorf("within 30 seconds the cached date should hold: %+v", st)
	}
	*e.clock = now.Add(31 * time.Second)
	if st, _ := e.svc.Review(ctx, &id); !st.LastReviewed.Equal(now) {
		t.Errorf("after 30 seconds the other replica's attestation should show: %+v", st)
	}
}
