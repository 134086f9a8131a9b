package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/steward-dev/steward/internal/elevation"
	"github.com/steward-dev/steward/internal/store"
)

// Elevations runs break-glass elevation. *elevation.Service is one.
type Elevations interface {
	Request(ctx context.Context, actor elevation.Actor, r elevation.Request) (store.Elevation, error)
	Approve(ctx context.Context, actor elevation.Actor, id, note string, secretSeen bool) (store.Elevation, error)
	Deny(ctx context.Context, actor elevation.Actor, id, note string) (store.Elevation, error)
	Revoke(ctx context.Context, actor elevation.Actor, id, note string) (store.Elevation, error)
	Close(ctx context.Context, actor elevation.Actor, id, note string, secretSeen bool) (store.Elevation, error)
	Get(ctx context.Context, id string) (store.Elevation, error)
	List(ctx context.Context, f store.ElevationFilter) ([]store.Elevation, error)
}

const maxElevationBody = 64 << 10

// elevationRoutes are the break-glass routes. Requesting is for an admin
// or an owner of the identity; deciding and closing the post-use review
// for an approver; revoking for the requester, an approver or an admin.
func (a *API) elevationRoutes() []route {
	return []route{
		{http.MethodPost, "/v1/identities/{name}/elevations", ruleOwner, a.requestElevation},
		{http.MethodGet, "/v1/elevations", ruleOperator, a.listElevations},
		{http.MethodGet, "/v1/elevations/{elevation}", ruleOperator, a.getElevation},
		{http.MethodPost, "/v1/elevations/{elevation}/approve", ruleApprover, a.decideElevation("approve")},
		{http.MethodPost, "/v1/elevations/{elevation}/deny", ruleApprover, a.decideElevation("deny")},
		{http.MethodPost, "/v1/elevations/{elevation}/revoke", ruleOperator, a.decideElevation("revoke")},
		{http.MethodPost, "/v1/elevations/{elevation}/close", ruleApprover, a.decideElevation("close")},
	}
}

// ElevationView is an elevation as the API shows it.
type ElevationView struct {
	ID               string    `json:"id"`
	Identity         string    `json:"identity"`
	PermissionSet    string    `json:"permissionSet"`
	Reason           string    `json:"reason"`
	Reference        string    `json:"reference"`
	Requester        string    `json:"requester"`
	Duration         string    `json:"duration"`
	MaxDuration      string    `json:"maxDuration"`
	State            string    `json:"state"`
	RequestedAt      time.Time `json:"requestedAt"`
	RequestExpiresAt time.Time `json:"requestExpiresAt"`
	Approver         string    `json:"approver,omitempty"`
	DecidedAt        time.Time `json:"decidedAt,omitzero"`
	DecisionNote     string    `json:"decisionNote,omitempty"`
	AssignmentID     string    `json:"assignmentId,omitempty"`
	AppliedAt        time.Time `json:"appliedAt,omitzero"`
	ExpiresAt        time.Time `json:"expiresAt,omitzero"`
	ApplyError       string    `json:"applyError,omitempty"`
	RemovedAt        time.Time `json:"removedAt,omitzero"`
	RemovedBy        string    `json:"removedBy,omitempty"`
	SecretSeen       bool      `json:"secretSeen"`
	ReviewDueAt      time.Time `json:"reviewDueAt,omitzero"`
	ClosedAt         time.Time `json:"closedAt,omitzero"`
	ClosedBy         string    `json:"closedBy,omitempty"`
	ReviewNote       string    `json:"reviewNote,omitempty"`
}

// NewElevationView turns a stored elevation into its API form.
func NewElevationView(e store.Elevation) ElevationView {
	return ElevationView{
		ID: e.ID, Identity: e.Identity, PermissionSet: e.PermissionSet, Reason: e.Reason, Reference: e.Reference,
		Requester: e.Requester, Duration: e.Duration.String(), MaxDuration: e.MaxDuration.String(), State: e.State,
		RequestedAt: e.RequestedAt, RequestExpiresAt: e.RequestExpiresAt, Approver: e.Approver, DecidedAt: e.DecidedAt,
		DecisionNote: e.DecisionNote, AssignmentID: e.AssignmentID, AppliedAt: e.AppliedAt, ExpiresAt: e.ExpiresAt,
		ApplyError: e.ApplyError, RemovedAt: e.RemovedAt, RemovedBy: e.RemovedBy, SecretSeen: e.SecretSeen,
		ReviewDueAt: e.ReviewDueAt, ClosedAt: e.ClosedAt, ClosedBy: e.ClosedBy, ReviewNote: e.ReviewNote,
	}
}

// ElevationRequest is the body of POST /v1/identities/{name}/elevations.
type ElevationRequest struct {
	PermissionSet string `json:"permissionSet"`
	Reason        string `json:"reason"`
	Reference     string `json:"reference"`
	// Duration is a Go duration such as "2h"; empty for the default.
	Duration string `json:"duration,omitempty"`
}

// ElevationDecision is the body of the approve, deny, revoke and close
// routes (all optional except a close's note).
type ElevationDecision struct {
	Note       string `json:"note,omitempty"`
	SecretSeen bool   `json:"secretSeen,omitempty"`
}

func (a *API) elevations(w http.ResponseWriter) Elevations {
	if a.cfg.Elevations == nil {
		writeProblem(w, http.StatusServiceUnavailable, "break-glass elevation is not configured on this server: set elevation in its configuration (see docs/configuration.md)")
	}
	return a.cfg.Elevations
}

func actorOf(op *Operator, r *http.Request) elevation.Actor {
	return elevation.Actor{Name: op.Name, Approver: op.Role == RoleApprover, RequestID: reqID(r)}
}

func (a *API) requestElevation(w http.ResponseWriter, r *http.Request, op *Operator) {
	svc := a.elevations(w)
	if svc == nil {
		return
	}
	var body ElevationRequest
	if !decodeBody(w, r, maxElevationBody, &body) {
		return
	}
	var d time.Duration
	if body.Duration != "" {
		var err error
		if d, err = time.ParseDuration(body.Duration); err != nil {
			writeProblem(w, http.StatusBadRequest, fmt.Sprintf("duration %q is not a duration such as 90m or 2h", body.Duration))
			return
		}
	}
	e, err := svc.Request(r.Context(), actorOf(op, r), elevation.Request{
		Identity: r.PathValue("name"), PermissionSet: body.PermissionSet, Reason: body.Reason, Reference: body.Reference, Duration: d,
	})
	if err != nil {
		a.elevationError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, NewElevationView(e))
}

func (a *API) listElevations(w http.ResponseWriter, r *http.Request, op *Operator) {
	svc := a.elevations(w)
	if svc == nil {
		return
	}
	q := r.URL.Query()
	f := store.ElevationFilter{Identity: q.Get("identity")}
	if s := q.Get("state"); s != "" {
		f.States = []string{s}
	}
	es, err := svc.List(r.Context(), f)
	if err != nil {
		a.elevationError(w, err)
		return
	}
	out := make([]ElevationView, 0, len(es))
	for _, e := range es {
		if op.Role == RoleOwner && !a.owns(op, e.Identity) {
			continue
		}
		out = append(out, NewElevationView(e))
	}
	writeJSON(w, http.StatusOK, map[string]any{"elevations": out})
}

func (a *API) getElevation(w http.ResponseWriter, r *http.Request, op *Operator) {
	svc := a.elevations(w)
	if svc == nil {
		return
	}
	e, err := svc.Get(r.Context(), r.PathValue("elevation"))
	if err == nil && op.Role == RoleOwner && !a.owns(op, e.Identity) {
		err = &elevation.Refusal{Kind: elevation.ErrNotFound, Reason: "no elevation " + r.PathValue("elevation")}
	}
	if err != nil {
		a.elevationError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, NewElevationView(e))
}

// decideElevation serves approve, deny, revoke and close. The requester
// may revoke their own elevation; an admin may revoke any, as an approver
// may.
func (a *API) decideElevation(action string) func(w http.ResponseWriter, r *http.Request, op *Operator) {
	return func(w http.ResponseWriter, r *http.Request, op *Operator) {
		svc := a.elevations(w)
		if svc == nil {
			return
		}
		var body ElevationDecision
		if r.ContentLength != 0 && !decodeBody(w, r, maxElevationBody, &body) {
			return
		}
		ctx, id, actor := r.Context(), r.PathValue("elevation"), actorOf(op, r)
		var e store.Elevation
		var err error
		switch action {
		case "approve":
			e, err = svc.Approve(ctx, actor, id, body.Note, body.SecretSeen)
		case "deny":
			e, err = svc.Deny(ctx, actor, id, body.Note)
		case "revoke":
			actor.Approver = actor.Approver || op.Role == RoleAdmin
			e, err = svc.Revoke(ctx, actor, id, body.Note)
		case "close":
			e, err = svc.Close(ctx, actor, id, body.Note, body.SecretSeen)
		}
		if err != nil {
			a.elevationError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, NewElevationView(e))
	}
}

// elevationError answers an error of the elevation service: a refusal with
// its reason and a status for its kind.
func (a *API) elevationError(w http.ResponseWriter, err error) {
	var ref *elevation.Refusal
	if !errors.As(err, &ref) {
		a.cfg.Logger.Error("elevation", "error", err)
		writeProblem(w, http.StatusInternalServerError, "elevation failed; see the server's log")
		return
	}
	status := http.StatusBadRequest
	switch ref.Kind {
	case elevation.ErrNotFound, elevation.ErrUnknownIdentity:
		status = http.StatusNotFound
	case elevation.ErrSelfApproval, elevation.ErrNotApprover:
		status = http.StatusForbidden
	case elevation.ErrRequestExpired, elevation.ErrState:
		status = http.StatusConflict
	case elevation.ErrOrgRefused, elevation.ErrOrgUnavailable:
		status = http.StatusBadGateway
	case elevation.ErrAuditUnavailable:
		status = http.StatusServiceUnavailable
	}
	writeProblem(w, status, ref.Reason)
}
