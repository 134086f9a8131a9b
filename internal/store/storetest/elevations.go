package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/steward-dev/steward/internal/store"
)

func elevation(id, identity string, at time.Time) store.Elevation {
	return store.Elevation{
		ID: id, Identity: identity, PermissionSet: "Billing_Breakglass", Reason: "month-end fix", Reference: "INC-42",
		Requester: "ana@acme.com", Duration: 2 * time.Hour, MaxDuration: 4 * time.Hour, State: store.ElevationRequested,
		RequestedAt: at, RequestExpiresAt: at.Add(time.Hour),
	}
}

func testElevations(t *testing.T, open Opener) {
	ctx := context.Background()
	a, b := open(), open()
	if _, err := a.Elevation(ctx, "el-none"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Elevation of none: %v; want ErrNotFound", err)
	}
	first := elevation("el-1", "billing-sync-prod", t0)
	if err := a.InsertElevation(ctx, first); err != nil {
		t.Fatal(err)
	}
	if err := b.InsertElevation(ctx, first); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("insert the same ID twice: %v; want ErrConflict", err)
	}
	got, err := b.Elevation(ctx, "el-1")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(first, got); d != "" {
		t.Fatalf("round trip (-stored +read):\n%s", d)
	}

	// Every field survives an update, and the state is check-and-set.
	active := first
	active.State, active.Approver, active.DecidedAt, active.DecisionNote = store.ElevationActive, "raj@acme.com", t0.Add(time.Minute), "ok"
	active.AssignmentID, active.AppliedAt, active.ExpiresAt = "0PaAk0000000001AAA", t0.Add(2*time.Minute), t0.Add(2*time.Hour+2*time.Minute)
	active.SecretSeen = true
	if err := a.UpdateElevation(ctx, active, store.ElevationRequested); err != nil {
		t.Fatal(err)
	}
	if err := b.UpdateElevation(ctx, active, store.ElevationRequested); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("update from a state it left: %v; want ErrConflict", err)
	}
	if err := b.UpdateElevation(ctx, elevation("el-missing", "x", t0), store.ElevationRequested); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("update of a missing elevation: %v; want ErrNotFound", err)
	}
	closed := active
	closed.State, closed.RemovedAt, closed.RemovedBy = store.ElevationClosed, t0.Add(3*time.Hour), "steward"
	closed.ReviewDueAt, closed.ClosedAt, closed.ClosedBy, closed.ReviewNote = t0.Add(51*time.Hour), t0.Add(5*time.Hour), "lee@acme.com", "used as described"
	closed.ApplyError = "earlier attempt: DUPLICATE_VALUE"
	if err := b.UpdateElevation(ctx, closed, store.ElevationActive); err != nil {
		t.Fatal(err)
	}
	if got, err := a.Elevation(ctx, "el-1"); err != nil || !cmp.Equal(got, closed) {
		t.Fatalf("after updates (-want +got):\n%s (err %v)", cmp.Diff(closed, got), err)
	}

	// Filters: identity, states, expiry; order by request time.
	second := elevation("el-2", "billing-sync-prod", t0.Add(time.Hour))
	second.State, second.ExpiresAt = store.ElevationActive, t0.Add(90*time.Minute)
	third := elevation("el-0", "crm-sync", t0.Add(30*time.Minute))
	third.State, third.ExpiresAt = store.ElevationActive, t0.Add(4*time.Hour)
	for _, e := range []store.Elevation{second, third} {
		if err := a.InsertElevation(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	ids := func(f store.ElevationFilter) []string {
		t.Helper()
		es, err := b.ListElevations(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		out := []string{}
		for _, e := range es {
			out = append(out, e.ID)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		f    store.ElevationFilter
		want []string
	}{
		{"all", store.ElevationFilter{}, []string{"el-1", "el-0", "el-2"}},
		{"identity", store.ElevationFilter{Identity: "billing-sync-prod"}, []string{"el-1", "el-2"}},
		{"states", store.ElevationFilter{States: []string{store.ElevationActive, store.ElevationDenied}}, []string{"el-0", "el-2"}},
		{"expired by", store.ElevationFilter{States: []string{store.ElevationActive}, ExpiresBefore: t0.Add(2 * time.Hour)}, []string{"el-2"}},
		{"none", store.ElevationFilter{Identity: "nobody"}, []string{}},
	} {
		if got := ids(tc.f); !cmp.Equal(got, tc.want) {
			t.Errorf("%s: ListElevations = %v, want %v", tc.name, got, tc.want)
		}
	}

	// Two replicas sweeping the same elevation: exactly one wins.
	var wg sync.WaitGroup
	wins := make(chan error, 2)
	for _, s := range []store.Store{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			done := second
			done.State, done.RemovedAt = store.ElevationPostReviewDue, t0.Add(2*time.Hour)
			wins <- s.UpdateElevation(ctx, done, store.ElevationActive)
		}()
	}
	wg.Wait()
	close(wins)
	ok, conflicts := 0, 0
	for err := range wins {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, store.ErrConflict):
			conflicts++
		default:
			t.Fatalf("concurrent update: %v", err)
		}
	}
	if ok != 1 || conflicts != 1 {
		t.Fatalf("concurrent updates: %d succeeded, %d conflicted; want 1 and 1", ok, conflicts)
	}
}
