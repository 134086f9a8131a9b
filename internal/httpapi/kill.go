package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/steward-dev/steward/internal/audit"
)

// Audit actions of the kill switch.
const (
	ActionKill = "broker.kill"
	ActionLift = "broker.kill.lift"
)

// DefaultKillSync is how often SyncKills reads the persisted kill switches
// by default: a kill applied by one replica stops issuance on the others
// within this interval plus one store read.
const DefaultKillSync = time.Second

// SyncKills reads the persisted kill switches every interval (default
// DefaultKillSync) until ctx ends, so that kills and lifts applied by other
// replicas on the same store take effect here; the cached token of an
// identity killed elsewhere is dropped. Without Kills it returns at once.
func (a *API) SyncKills(ctx context.Context, every time.Duration) {
	if a.cfg.Kills == nil {
		return
	}
	if every <= 0 {
		every = DefaultKillSync
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		a.syncKills(ctx)
	}
}

// syncKills replaces the kill switches in memory with the persisted ones,
// unless this process changed one meanwhile (the next round reads it).
func (a *API) syncKills(ctx context.Context) {
	a.killMu.RLock()
	gen := a.killGen
	a.killMu.RUnlock()
	names, err := a.cfg.Kills.Killed(ctx)
	if err != nil {
		if ctx.Err() == nil {
			a.cfg.Logger.Warn("read the kill switches; keeping the last known ones", "error", err)
		}
		return
	}
	next := make(map[string]bool, len(names))
	for _, n := range names {
		next[n] = true
	}
	var newly []string
	a.killMu.Lock()
	if gen != a.killGen {
		a.killMu.Unlock()
		return
	}
	for n := range next {
		if !a.killed[n] {
			newly = append(newly, n)
		}
	}
	a.killed = next
	a.killMu.Unlock()
	for _, n := range newly {
		a.cfg.Tokens.Drop(n)
		a.cfg.Logger.Warn("kill switch applied by another replica", "identity", n)
	}
}

// isKilled tells whether identity's kill switch is on.
func (a *API) isKilled(identity string) bool {
	a.killMu.RLock()
	defer a.killMu.RUnlock()
	return a.killed[identity]
}

// killResult is the answer of the kill routes: the switch's state and
// what became of each step.
type killResult struct {
	Identity string     `json:"identity"`
	Killed   bool       `json:"killed"`
	Revoked  int        `json:"revoked"`
	Steps    []KillStep `json:"steps"`
	Warning  string     `json:"warning,omitempty"`
}

// KillStep is the result of one step of a kill: block (issuance stopped
// and the switch persisted), revoke (tokens handed out revoked at the
// org), and, from the command line, rotate or destroy.
type KillStep struct {
	Step string `json:"step"`
	// OK is false when the step failed; Next then says what to do.
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
	Next   string `json:"next,omitempty"`
}

// kill is POST /v1/identities/{name}/kill: record it, block issuance at
// once, persist it, then revoke at the org every token handed out that is
// still valid, and record the revocation's outcome.
func (a *API) kill(w http.ResponseWriter, r *http.Request, op *Operator) {
	a.setKill(w, r, op, true)
}

// lift is DELETE /v1/identities/{name}/kill.
func (a *API) lift(w http.ResponseWriter, r *http.Request, op *Operator) {
	a.setKill(w, r, op, false)
}

func (a *API) setKill(w http.ResponseWriter, r *http.Request, op *Operator, on bool) {
	name := r.PathValue("name")
	if a.identities[name] == nil {
		writeProblem(w, http.StatusNotFound, "no identity named "+name)
		return
	}
	action := ActionLift
	if on {
		action = ActionKill
	}
	actor := audit.Actor{Kind: audit.ActorHuman, ID: op.Name}
	ev := audit.Event{
		Time: a.cfg.Now(), Actor: actor, Action: action,
		Resource: name, Outcome: audit.OutcomeSuccess, RequestID: reqID(r),
	}
	if err := a.appendAudit(r.Context(), ev); err != nil {
		writeProblem(w, http.StatusServiceUnavailable, "audit log unavailable; nothing was changed")
		return
	}
	a.killMu.Lock()
	a.killGen++
	if on {
		a.killed[name] = true
	} else {
		delete(a.killed, name)
	}
	a.killMu.Unlock()
	res := killResult{Identity: name, Killed: on}
	status := http.StatusOK
	block := KillStep{Step: "block", OK: true, Detail: "issuance blocked on every replica"}
	if !on {
		block = KillStep{Step: "lift", OK: true, Detail: "tokens are issued again"}
	}
	if a.cfg.Kills != nil {
		err := a.cfg.Kills.SetKilled(r.Context(), name, on)
		// A sync that read the store before this change was persisted
		// must not undo it here.
		a.killMu.Lock()
		a.killGen++
		a.killMu.Unlock()
		if err != nil {
			a.cfg.Logger.Error("persist the kill switch", "identity", name, "killed", on, "error", err)
			res.Warning = "applied in this process but not persisted: a restart would undo it; retry"
			block.OK, block.Detail, block.Next = false, "applied in this replica only: not persisted, so other replicas and a restart do not see it", "retry the same command once the store is reachable"
			status = http.StatusInternalServerError
		}
	} else if on {
		block.Detail = "issuance blocked in this broker (no store: a restart lifts it)"
	}
	res.Steps = append(res.Steps, block)
	if on {
		step, n := a.revoke(r, actor, name)
		res.Revoked = n
		if !step.OK {
			res.Warning = "issuance is blocked, but revoking the tokens already handed out failed: revoke them in the org"
			if status == http.StatusOK {
				status = http.StatusBadGateway
			}
		}
		res.Steps = append(res.Steps, step)
	}
	a.cfg.Logger.Warn("kill switch", "identity", name, "killed", on, "by", op.Name, "revoked", res.Revoked)
	writeJSON(w, status, res)
}

// ActionKillRevoke is the audit action recording a kill's revocation.
const ActionKillRevoke = "broker.kill.revoke"

// revoke revokes at the org the tokens handed out for name that are still
// valid, and records how that went. It returns the step and how many were
// revoked. The cache forgets them either way, so a failure is for the
// operator to finish in the org.
func (a *API) revoke(r *http.Request, actor audit.Actor, name string) (KillStep, int) {
	n, err := a.cfg.Tokens.Revoke(r.Context(), name)
	step := KillStep{Step: "revoke", OK: err == nil, Detail: fmt.Sprintf("%d token(s) revoked at the org", n)}
	ev := audit.Event{
		Time: a.cfg.Now(), Actor: actor, Action: ActionKillRevoke, Resource: name,
		Outcome: audit.OutcomeSuccess, RequestID: reqID(r), Details: map[string]string{"revoked": strconv.Itoa(n)},
	}
	if err != nil {
		a.cfg.Logger.Error("revoke tokens", "identity", name, "error", err)
		// The error's text stays in the log: the record says what failed.
		ev.Outcome, ev.Details["error"] = audit.OutcomeFailure, "upstream revocation failed"
		step.Detail = fmt.Sprintf("%d token(s) revoked; the others could not be: %v", n, err)
		step.Next = "revoke the app's OAuth sessions in the org (Setup > Connected Apps OAuth Usage); the kill stays in force meanwhile"
	}
	if err := a.appendAudit(r.Context(), ev); err != nil {
		step.Detail += " (its audit record could not be written; see the broker's log)"
	}
	return step, n
}
