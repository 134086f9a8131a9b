package httpapi

import (
	"net/http"

	"github.com/steward-dev/steward/internal/audit"
)

// Audit actions of the kill switch.
const (
	ActionKill = "broker.kill"
	ActionLift = "broker.kill.lift"
)

// isKilled tells whether identity's kill switch is on.
func (a *API) isKilled(identity string) bool {
	a.killMu.RLock()
	defer a.killMu.RUnlock()
	return a.killed[identity]
}

// killResult is the answer of the kill routes.
type killResult struct {
	Identity string `json:"identity"`
	Killed   bool   `json:"killed"`
	Revoked  int    `json:"revoked"`
	Warning  string `json:"warning,omitempty"`
}

// kill is POST /v1/identities/{name}/kill: record it, block issuance at
// once, persist it, then revoke at the org every token handed out that is
// still valid.
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
	ev := audit.Event{
		Time: a.cfg.Now(), Actor: audit.Actor{Kind: audit.ActorHuman, ID: op.Name}, Action: action,
		Resource: name, Outcome: audit.OutcomeSuccess, RequestID: reqID(r),
	}
	if err := a.appendAudit(r.Context(), ev); err != nil {
		writeProblem(w, http.StatusServiceUnavailable, "audit log unavailable; nothing was changed")
		return
	}
	a.killMu.Lock()
	if on {
		a.killed[name] = true
	} else {
		delete(a.killed, name)
	}
	a.killMu.Unlock()
	res := killResult{Identity: name, Killed: on}
	status := http.StatusOK
	if a.cfg.Kills != nil {
		if err := a.cfg.Kills.SetKilled(r.Context(), name, on); err != nil {
			a.cfg.Logger.Error("persist the kill switch", "identity", name, "killed", on, "error", err)
			res.Warning = "applied in this process but not persisted: a restart would undo it; retry"
			status = http.StatusInternalServerError
		}
	}
	if on {
		n, err := a.cfg.Tokens.Revoke(r.Context(), name)
		res.Revoked = n
		if err != nil {
			a.cfg.Logger.Error("revoke tokens", "identity", name, "error", err)
			res.Warning = "issuance is blocked, but revoking the tokens already handed out failed: revoke them in the org"
			status = http.StatusBadGateway
		}
	}
	a.cfg.Logger.Warn("kill switch", "identity", name, "killed", on, "by", op.Name, "revoked", res.Revoked)
	writeJSON(w, status, res)
}
