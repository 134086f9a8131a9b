package storetest

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/steward-dev/steward/internal/store"
)

func testRosters(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open()
	empty, err := s.Roster(ctx)
	if err != nil || len(empty.Members) != 0 || !empty.Imported.IsZero() {
		t.Fatalf("roster of a new store = %+v, %v; want empty", empty, err)
	}
	first := store.Roster{Source: "hr-2026-11.csv", Imported: t0, Members: []store.RosterMember{
		{Team: "payments", Member: "raj", Role: "owner", Status: "active", Email: "raj@acme.com"},
		{Team: "finance-platform", Member: "ana", Role: "owner", Status: "departed", Email: "ana@acme.com", Since: "2026-11-01"},
		{Team: "finance-platform", Member: "sec-oncall", Role: "backup", Status: "active"},
	}}
	if err := s.ReplaceRoster(ctx, first); err != nil {
		t.Fatal(err)
	}
	got, err := open().Roster(ctx) // another replica sees it
	if err != nil {
		t.Fatal(err)
	}
	want := store.Roster{Source: first.Source, Imported: t0, Members: []store.RosterMember{first.Members[1], first.Members[2], first.Members[0]}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("roster = %+v\nwant     %+v", got, want)
	}

	// A duplicate row refuses the whole replacement: the first roster stays.
	dup := store.Roster{Source: "bad.csv", Imported: t0.Add(time.Hour), Members: []store.RosterMember{
		{Team: "payments", Member: "lee", Role: "member", Status: "active"},
		{Team: "payments", Member: "lee", Role: "backup", Status: "active"},
	}}
	if err := s.ReplaceRoster(ctx, dup); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate member: err = %v, want ErrConflict", err)
	}
	if got, _ := s.Roster(ctx); !reflect.DeepEqual(got, want) {
		t.Fatalf("after a refused import the roster = %+v, want the earlier one", got)
	}

	second := store.Roster{Source: "hr-2026-12.json", Imported: t0.Add(24 * time.Hour), Members: []store.RosterMember{
		{Team: "payments", Member: "lee", Role: "backup", Status: "active"},
	}}
	if err := s.ReplaceRoster(ctx, second); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Roster(ctx); !reflect.DeepEqual(got, second) {
		t.Fatalf("replaced roster = %+v, want %+v", got, second)
	}
}

func testDecommissionSteps(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open()
	if steps, err := s.DecommissionSteps(ctx, "billing-sync-prod"); err != nil || len(steps) != 0 {
		t.Fatalf("steps of a new store = %v, %v", steps, err)
	}
	put := func(step, status string, at time.Time, detail string) {
		t.Helper()
		err := s.PutDecommissionStep(ctx, store.DecommissionStep{Identity: "billing-sync-prod", Step: step, Status: status, At: at, Actor: "human:ana", Detail: detail})
		if err != nil {
			t.Fatal(err)
		}
	}
	put("block-issuance", "done", t0, `{"killed":true}`)
	put("revoke-tokens", "failed", t0.Add(time.Minute), `{"error":"org unreachable"}`)
	put("revoke-tokens", "done", t0.Add(time.Hour), `{"revoked":2}`) // the retry replaces the failure
	if err := s.PutDecommissionStep(ctx, store.DecommissionStep{Identity: "other", Step: "block-issuance", Status: "done", At: t0, Actor: "human:raj"}); err != nil {
		t.Fatal(err)
	}
	got, err := open().DecommissionSteps(ctx, "billing-sync-prod")
	if err != nil {
		t.Fatal(err)
	}
	want := []store.DecommissionStep{
		{Identity: "billing-sync-prod", Step: "block-issuance", Status: "done", At: t0, Actor: "human:ana", Detail: `{"killed":true}`},
		{Identity: "billing-sync-prod", Step: "revoke-tokens", Status: "done", At: t0.Add(time.Hour), Actor: "human:ana", Detail: `{"revoked":2}`},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("steps = %+v\nwant    %+v", got, want)
	}
}
