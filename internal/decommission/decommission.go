// Package decommission runs the checklist that retires an integration for
// good (control NHI-INV-06): block token issuance, revoke the tokens the org
// holds, freeze the run-as user, destroy the secret and mark the identity
// decommissioned. Each step is idempotent; its outcome and evidence go to
// the audit log and the store, so that a run that stopped at a failed step
// resumes there and the steps done before are not repeated.
package decommission

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"time"

	"github.com/steward-dev/steward/internal/audit"
	"github.com/steward-dev/steward/internal/store"
)

// The checklist's steps, in the order they run.
const (
	StepBlock   = "block-issuance"
	StepRevoke  = "revoke-tokens"
	StepFreeze  = "freeze-user"
	StepDestroy = "destroy-secret"
	StepMark    = "mark-decommissioned"
)

// Steps lists the step names in order.
var Steps = []string{StepBlock, StepRevoke, StepFreeze, StepDestroy, StepMark}

// Step statuses.
const (
	StatusDone    = "done"
	StatusFailed  = "failed"
	StatusPending = "pending" // not run yet, or not reached after a failure
)

// ActionPrefix starts the audit action of each step: decommission.<step>.
const ActionPrefix = "decommission."

// Evidence is what a step did: a sentence for people and facts (counts,
// record IDs, never a secret) for the audit log.
type Evidence struct {
	Detail string            `json:"detail"`
	Facts  map[string]string `json:"facts,omitempty"`
}

// Action performs a step. It must be safe to repeat: a run after a failure
// (or after evidence could not be recorded) calls it again.
type Action func(ctx context.Context) (Evidence, error)

// Step is one step of the checklist.
type Step struct {
	Name string
	Do   Action
	// Next says what the operator should do when the step fails.
	Next string
}

// Result is a step's outcome as a run reports it.
type Result struct {
	Step   string            `json:"step"`
	Status string            `json:"status"`
	At     time.Time         `json:"at,omitzero"`
	Detail string            `json:"detail,omitempty"`
	Facts  map[string]string `json:"facts,omitempty"`
	Next   string            `json:"next,omitempty"`
	// Earlier is true for a step an earlier run completed; it was not
	// repeated.
	Earlier bool `json:"earlier,omitempty"`
}

// Report is the outcome of every step of one identity's checklist.
type Report struct {
	Identity string   `json:"identity"`
	Complete bool     `json:"complete"`
	Steps    []Result `json:"steps"`
}

// Failed returns the failed step, or nil.
func (r *Report) Failed() *Result {
	for i := range r.Steps {
		if r.Steps[i].Status == StatusFailed {
			return &r.Steps[i]
		}
	}
	return nil
}

// Store keeps the progress of decommissionings. store.Store is one.
type Store interface {
	PutDecommissionStep(ctx context.Context, s store.DecommissionStep) error
	DecommissionSteps(ctx context.Context, identity string) ([]store.DecommissionStep, error)
}

// Auditor makes an audit record durable. *audit.Log is one.
type Auditor interface {
	Append(ctx context.Context, ev audit.Event) (audit.Record, error)
}

// Runner runs checklists.
type Runner struct {
	Store Store
	Audit Auditor
	Actor audit.Actor
	// Now is the clock (default time.Now).
	Now func() time.Time
}

func (r *Runner) now() time.Time {
	if r.Now == nil {
		return time.Now().UTC()
	}
	return r.Now().UTC()
}

// Run runs the steps of identity's checklist in order. A step an earlier
// run completed is reported and skipped. The first step that fails stops
// the run: it is recorded as failed with its error, and the steps after it
// stay pending. A step counts as done only once its evidence is in the
// audit log and the store. The error is for a store that cannot be read;
// step failures are in the report.
func (r *Runner) Run(ctx context.Context, identity string, steps []Step) (Report, error) {
	done, err := r.recorded(ctx, identity)
	if err != nil {
		return Report{}, err
	}
	rep := Report{Identity: identity}
	stopped := false
	for _, st := range steps {
		if rec, ok := done[st.Name]; ok && rec.Status == StatusDone {
			res := resultOf(rec)
			res.Earlier = true
			rep.Steps = append(rep.Steps, res)
			continue
		}
		if stopped {
			rep.Steps = append(rep.Steps, Result{Step: st.Name, Status: StatusPending})
			continue
		}
		res := r.runStep(ctx, identity, st)
		rep.Steps = append(rep.Steps, res)
		stopped = res.Status != StatusDone
	}
	rep.Complete = !stopped
	return rep, nil
}

// Status reports the recorded progress of identity's checklist without
// running anything.
func (r *Runner) Status(ctx context.Context, identity string, steps []string) (Report, error) {
	done, err := r.recorded(ctx, identity)
	if err != nil {
		return Report{}, err
	}
	rep := Report{Identity: identity, Complete: true}
	for _, name := range steps {
		rec, ok := done[name]
		if !ok {
			rep.Steps = append(rep.Steps, Result{Step: name, Status: StatusPending})
			rep.Complete = false
			continue
		}
		res := resultOf(rec)
		res.Earlier = res.Status == StatusDone
		rep.Complete = rep.Complete && res.Status == StatusDone
		rep.Steps = append(rep.Steps, res)
	}
	return rep, nil
}

func (r *Runner) recorded(ctx context.Context, identity string) (map[string]store.DecommissionStep, error) {
	recs, err := r.Store.DecommissionSteps(ctx, identity)
	if err != nil {
		return nil, err
	}
	out := make(map[string]store.DecommissionStep, len(recs))
	for _, rec := range recs {
		out[rec.Step] = rec
	}
	return out, nil
}

// runStep performs one step and records its outcome.
func (r *Runner) runStep(ctx context.Context, identity string, st Step) Result {
	ev, err := st.Do(ctx)
	at := r.now()
	event := audit.Event{Time: at, Actor: r.Actor, Action: ActionPrefix + st.Name, Resource: identity, Details: map[string]string{}}
	if err != nil {
		res := Result{Step: st.Name, Status: StatusFailed, At: at, Detail: err.Error(), Next: st.Next}
		event.Outcome = audit.OutcomeFailure
		event.Details["error"] = err.Error()
		if _, aerr := r.Audit.Append(ctx, event); aerr != nil {
			res.Detail += fmt.Sprintf(" (the failure could not be recorded in the audit log either: %v)", aerr)
		}
		r.put(ctx, identity, res) // best effort: the report says it failed either way
		return res
	}
	res := Result{Step: st.Name, Status: StatusDone, At: at, Detail: ev.Detail, Facts: ev.Facts}
	event.Outcome = audit.OutcomeSuccess
	maps.Copy(event.Details, ev.Facts)
	event.Details["detail"] = ev.Detail
	if _, err := r.Audit.Append(ctx, event); err != nil {
		return Result{Step: st.Name, Status: StatusFailed, At: at,
			Detail: fmt.Sprintf("%s, but its evidence could not be recorded in the audit log: %v", ev.Detail, err),
			Next:   "make the audit log writable (check the store), then run the command again: the step is repeated and recorded"}
	}
	if err := r.put(ctx, identity, res); err != nil {
		res.Status = StatusFailed
		res.Detail = fmt.Sprintf("%s and recorded in the audit log, but the store could not record the step: %v", ev.Detail, err)
		res.Next = "check the store, then run the command again: the step is repeated"
	}
	return res
}

func (r *Runner) put(ctx context.Context, identity string, res Result) error {
	detail, err := json.Marshal(Evidence{Detail: res.Detail, Facts: res.Facts})
	if err != nil {
		return err
	}
	rec := store.DecommissionStep{Identity: identity, Step: res.Step, Status: res.Status, At: res.At, Actor: r.Actor.String(), Detail: string(detail)}
	if res.Status == StatusFailed {
		next, _ := json.Marshal(struct {
			Evidence
			Next string `json:"next"`
		}{Evidence{Detail: res.Detail}, res.Next})
		rec.Detail = string(next)
	}
	return r.Store.PutDecommissionStep(ctx, rec)
}

// resultOf turns a stored step back into a result.
func resultOf(rec store.DecommissionStep) Result {
	var d struct {
		Evidence
		Next string `json:"next"`
	}
	res := Result{Step: rec.Step, Status: rec.Status, At: rec.At}
	if err := json.Unmarshal([]byte(rec.Detail), &d); err != nil {
		res.Detail = rec.Detail
		return res
	}
	res.Detail, res.Facts, res.Next = d.Detail, d.Facts, d.Next
	return res
}
