package decommission_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/steward-dev/steward/internal/audit"
	"github.com/steward-dev/steward/internal/decommission"
	"github.com/steward-dev/steward/internal/store"
	"github.com/steward-dev/steward/internal/store/storetest"
)

// fixture is a runner on a real store and audit log, with steps that count
// their calls and fail while told to.
type fixture struct {
	db     store.Store
	runner *decommission.Runner
	calls  map[string]int
	fail   map[string]error
}

func newFixture(t *testing.T, db store.Store) *fixture {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	log, err := audit.New(audit.Config{Store: db, Signer: key, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	clock := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	return &fixture{
		db: db, calls: map[string]int{}, fail: map[string]error{},
		runner: &decommission.Runner{Store: db, Audit: log, Actor: audit.Actor{Kind: audit.ActorHuman, ID: "ana"}, Now: func() time.Time {
			clock = clock.Add(time.Second)
			return clock
		}},
	}
}

func (f *fixture) steps() []decommission.Step {
	var out []decommission.Step
	for _, name := range decommission.Steps {
		out = append(out, decommission.Step{Name: name, Next: "fix " + name, Do: func(context.Context) (decommission.Evidence, error) {
			f.calls[name]++
			if err := f.fail[name]; err != nil {
				return decommission.Evidence{}, err
			}
			return decommission.Evidence{Detail: name + " ok", Facts: map[string]string{"n": "1"}}, nil
		}})
	}
	return out
}

func statuses(rep decommission.Report) []string {
	var out []string
	for _, s := range rep.Steps {
		st := s.Status
		if s.Earlier {
			st += "*"
		}
		out = append(out, st)
	}
	return out
}

func auditActions(t *testing.T, db store.Store) []string {
	t.Helper()
	var out []string
	err := db.AuditRecords(context.Background(), 1, func(r store.AuditRecord) error {
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

func TestRunResumesAfterAFailedStep(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			var db store.Store
			if backend == "sqlite" {
				open, _ := storetest.SQLite(t)
				db = open()
			} else {
				db = storetest.Postgres(t)()
			}
			ctx := context.Background()
			f := newFixture(t, db)
			f.fail[decommission.StepFreeze] = errors.New("salesforce: dial tcp: connection refused")

			rep, err := f.runner.Run(ctx, "billing-sync-prod", f.steps())
			if err != nil {
				t.Fatal(err)
			}
			if want := []string{"done", "done", "failed", "pending", "pending"}; !slices.Equal(statuses(rep), want) || rep.Complete {
				t.Fatalf("first run = %v complete=%v, want %v", statuses(rep), rep.Complete, want)
			}
			failed := rep.Failed()
			if failed.Step != decommission.StepFreeze || failed.Next != "fix freeze-user" || failed.Detail != "salesforce: dial tcp: connection refused" {
				t.Fatalf("failed step = %+v", failed)
			}
			st, err := f.runner.Status(ctx, "billing-sync-prod", decommission.Steps)
			if err != nil || !slices.Equal(statuses(st), []string{"done*", "done*", "failed", "pending", "pending"}) || st.Steps[2].Next != "fix freeze-user" {
				t.Fatalf("status = %v %+v, %v", statuses(st), st.Steps, err)
			}

			delete(f.fail, decommission.StepFreeze)
			rep, err = f.runner.Run(ctx, "billing-sync-prod", f.steps())
			if err != nil {
				t.Fatal(err)
			}
			if want := []string{"done*", "done*", "done", "done", "done"}; !slices.Equal(statuses(rep), want) || !rep.Complete {
				t.Fatalf("second run = %v, want %v", statuses(rep), want)
			}
			if rep.Steps[0].Detail != "block-issuance ok" || rep.Steps[0].Facts["n"] != "1" {
				t.Errorf("an earlier step lost its evidence: %+v", rep.Steps[0])
			}
			want := map[string]int{"block-issuance": 1, "revoke-tokens": 1, "freeze-user": 2, "destroy-secret": 1, "mark-decommissioned": 1}
			for k, v := range want {
				if f.calls[k] != v {
					t.Errorf("%s ran %d times, want %d", k, f.calls[k], v)
				}
			}

			// A third run repeats nothing.
			rep, _ = f.runner.Run(ctx, "billing-sync-prod", f.steps())
			if !rep.Complete || f.calls["block-issuance"] != 1 || f.calls["mark-decommissioned"] != 1 {
				t.Fatalf("third run repeated steps: %v %v", statuses(rep), f.calls)
			}
			got := auditActions(t, db)
			wantAudit := []string{
				"decommission.block-issuance:success", "decommission.revoke-tokens:success", "decommission.freeze-user:failure",
				"decommission.freeze-user:success", "decommission.destroy-secret:success", "decommission.mark-decommissioned:success",
			}
			if !slices.Equal(got, wantAudit) {
				t.Fatalf("audit = %v\nwant    %v", got, wantAudit)
			}
		})
	}
}

// refusingAudit wraps an audit log and refuses one action.
type refusingAudit struct {
	decommission.Auditor
	refuse string
}

func (r refusingAudit) Append(ctx context.Context, ev audit.Event) (audit.Record, error) {
	if ev.Action == r.refuse {
		return audit.Record{}, errors.New("audit store unavailable")
	}
	return r.Auditor.Append(ctx, ev)
}

func TestStepWithoutEvidenceIsNotDone(t *testing.T) {
	open, _ := storetest.SQLite(t)
	db := open()
	ctx := context.Background()
	f := newFixture(t, db)
	f.runner.Audit = refusingAudit{f.runner.Audit, decommission.ActionPrefix + decommission.StepRevoke}
	rep, err := f.runner.Run(ctx, "x", f.steps())
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"done", "failed", "pending", "pending", "pending"}; !slices.Equal(statuses(rep), want) {
		t.Fatalf("run = %v, want %v", statuses(rep), want)
	}
	if d := rep.Steps[1].Detail; d != "revoke-tokens ok, but its evidence could not be recorded in the audit log: audit store unavailable" {
		t.Fatalf("detail = %q", d)
	}
	steps, _ := db.DecommissionSteps(ctx, "x")
	if len(steps) != 1 || steps[0].Step != decommission.StepBlock {
		t.Fatalf("stored steps = %+v; the unrecorded step must not be stored as done", steps)
	}
}
