package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/steward-dev/steward/internal/audit"
	"github.com/steward-dev/steward/internal/review"
	"github.com/steward-dev/steward/internal/snapshot"
	"github.com/steward-dev/steward/internal/store"
)

// Reviews runs access reviews. *review.Service is one.
type Reviews interface {
	Item(ctx context.Context, id int64) (store.ReviewItem, error)
	Items(ctx context.Context, f store.ReviewFilter) ([]store.ReviewItem, error)
	Status(ctx context.Context, identity string) (review.Status, error)
	Attest(ctx context.Context, actor audit.Actor, requestID string, id int64, decision, comment string) (store.ReviewItem, error)
	Campaign(ctx context.Context, actor audit.Actor, requestID string) ([]store.ReviewItem, error)
	OpenExpansions(ctx context.Context, actor audit.Actor, requestID string, changes []snapshot.Change, setup []snapshot.SetupChange) ([]review.Opened, error)
}

// Request body limits.
const (
	maxAttestBody    = 64 << 10
	maxExpansionBody = 16 << 20
)

// ReviewView is a review item as the API shows it; the review commands
// decode it.
type ReviewView struct {
	ID       int64           `json:"id"`
	Identity string          `json:"identity"`
	Owner    string          `json:"owner"`
	Kind     string          `json:"kind"`
	Campaign string          `json:"campaign"`
	Status   string          `json:"status"`
	OpenedAt time.Time       `json:"openedAt"`
	OpenedBy string          `json:"openedBy"`
	DueAt    time.Time       `json:"dueAt"`
	Overdue  bool            `json:"overdue"`
	Evidence json.RawMessage `json:"evidence"`
	Decision string          `json:"decision,omitempty"`
	Comment  string          `json:"comment,omitempty"`
	ClosedAt time.Time       `json:"closedAt,omitzero"`
	ClosedBy string          `json:"closedBy,omitempty"`
	// Created is set by the routes that open items: whether this call
	// created the item (false: it was open or closed already).
	Created *bool `json:"created,omitempty"`
}

func (a *API) reviewView(it store.ReviewItem) ReviewView {
	v := ReviewView{
		ID: it.ID, Identity: it.Identity, Kind: it.Kind, Campaign: it.Campaign, Status: it.Status,
		OpenedAt: it.OpenedAt, OpenedBy: it.OpenedBy, DueAt: it.DueAt, Evidence: json.RawMessage(it.Evidence),
		Overdue:  it.Status == store.ReviewOpen && a.cfg.Now().After(it.DueAt),
		Decision: it.Decision, Comment: it.Comment, ClosedAt: it.ClosedAt, ClosedBy: it.ClosedBy,
	}
	if !json.Valid(v.Evidence) {
		v.Evidence = json.RawMessage("{}")
	}
	if id := a.identities[it.Identity]; id != nil {
		v.Owner = id.Owner
	}
	return v
}

// reviews returns the review service, or answers 503 without one.
func (a *API) reviews(w http.ResponseWriter) Reviews {
	if a.cfg.Reviews == nil {
		writeProblem(w, http.StatusServiceUnavailable, "access reviews need a store; this server runs without one")
	}
	return a.cfg.Reviews
}

// reviewError answers an error of the review service.
func (a *API) reviewError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, review.ErrNotFound):
		writeProblem(w, http.StatusNotFound, err.Error())
	case errors.Is(err, review.ErrInvalid):
		writeProblem(w, http.StatusBadRequest, err.Error())
	case errors.Is(err, review.ErrClosed):
		writeProblem(w, http.StatusConflict, err.Error())
	case errors.Is(err, review.ErrAudit):
		writeProblem(w, http.StatusServiceUnavailable, err.Error())
	default:
		a.cfg.Logger.Error("access review", "error", err)
		writeProblem(w, http.StatusInternalServerError, "access review failed; see the server's log")
	}
}

// listReviews is GET /v1/reviews?identity=&status=: an owner sees its
// teams' identities only.
func (a *API) listReviews(w http.ResponseWriter, r *http.Request, op *Operator) {
	rv := a.reviews(w)
	if rv == nil {
		return
	}
	q := r.URL.Query()
	f := store.ReviewFilter{Identity: q.Get("identity"), Status: q.Get("status")}
	if f.Status != "" && f.Status != store.ReviewOpen && f.Status != store.ReviewClosed {
		writeProblem(w, http.StatusBadRequest, fmt.Sprintf("status %q is not open or closed", f.Status))
		return
	}
	items, err := rv.Items(r.Context(), f)
	if err != nil {
		a.reviewError(w, err)
		return
	}
	out := make([]ReviewView, 0, len(items))
	for _, it := range items {
		if op.Role == RoleOwner && !a.owns(op, it.Identity) {
			continue
		}
		out = append(out, a.reviewView(it))
	}
	writeJSON(w, http.StatusOK, map[string]any{"reviews": out})
}

// reviewID parses the {review} wildcard.
func reviewID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("review"), 10, 64)
	if err != nil || id <= 0 {
		writeProblem(w, http.StatusBadRequest, fmt.Sprintf("review item %q is not a positive number", r.PathValue("review")))
		return 0, false
	}
	return id, true
}

// getReview is GET /v1/reviews/{review}.
func (a *API) getReview(w http.ResponseWriter, r *http.Request, _ *Operator) {
	rv := a.reviews(w)
	if rv == nil {
		return
	}
	id, ok := reviewID(w, r)
	if !ok {
		return
	}
	it, err := rv.Item(r.Context(), id)
	if err != nil {
		a.reviewError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, a.reviewView(it))
}

// attestRequest is the body of POST /v1/reviews/{review}/attest.
type attestRequest struct {
	Decision string `json:"decision"`
	Comment  string `json:"comment"`
}

// attest is POST /v1/reviews/{review}/attest: the owning team's decision.
func (a *API) attest(w http.ResponseWriter, r *http.Request, op *Operator) {
	rv := a.reviews(w)
	if rv == nil {
		return
	}
	id, ok := reviewID(w, r)
	if !ok {
		return
	}
	var req attestRequest
	if !decodeBody(w, r, maxAttestBody, &req) {
		return
	}
	it, err := rv.Attest(r.Context(), audit.Actor{Kind: audit.ActorHuman, ID: op.Name}, reqID(r), id, req.Decision, req.Comment)
	if err != nil {
		a.reviewError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, a.reviewView(it))
}

// campaign is POST /v1/reviews/campaigns: open the periodic items due.
func (a *API) campaign(w http.ResponseWriter, r *http.Request, op *Operator) {
	rv := a.reviews(w)
	if rv == nil {
		return
	}
	items, err := rv.Campaign(r.Context(), audit.Actor{Kind: audit.ActorHuman, ID: op.Name}, reqID(r))
	out := make([]ReviewView, 0, len(items))
	created := true
	for _, it := range items {
		v := a.reviewView(it)
		v.Created = &created
		out = append(out, v)
	}
	a.writeOpened(w, "review campaign", out, err)
}

// writeOpened answers a route that opens review items. Items opened
// before an error stay open, so the answer lists them with the error.
func (a *API) writeOpened(w http.ResponseWriter, what string, out []ReviewView, err error) {
	if err != nil {
		a.cfg.Logger.Error(what, "opened", len(out), "error", err)
		writeJSON(w, statusOf(err), map[string]any{"error": err.Error(), "opened": out})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"opened": out})
}

// expansionRequest is the body of POST /v1/reviews/expansions.
type expansionRequest struct {
	Changes      []snapshot.Change      `json:"changes"`
	SetupChanges []snapshot.SetupChange `json:"setupChanges"`
}

// openExpansions is POST /v1/reviews/expansions: open an item per
// identity whose access the changes widen.
func (a *API) openExpansions(w http.ResponseWriter, r *http.Request, op *Operator) {
	rv := a.reviews(w)
	if rv == nil {
		return
	}
	var req expansionRequest
	if !decodeBody(w, r, maxExpansionBody, &req) {
		return
	}
	for i, c := range req.Changes {
		if c.Kind == "" || c.Resource == "" || c.Subject == "" {
			writeProblem(w, http.StatusBadRequest, fmt.Sprintf("changes[%d]: kind, resource and subject are required", i))
			return
		}
	}
	for i, c := range req.SetupChanges {
		if c.Time.IsZero() || (c.App == "" && c.User == "") {
			writeProblem(w, http.StatusBadRequest, fmt.Sprintf("setupChanges[%d]: time and an app or user are required", i))
			return
		}
	}
	opened, err := rv.OpenExpansions(r.Context(), audit.Actor{Kind: audit.ActorHuman, ID: op.Name}, reqID(r), req.Changes, req.SetupChanges)
	out := make([]ReviewView, 0, len(opened))
	for _, o := range opened {
		v := a.reviewView(o.Item)
		v.Created = &o.Created
		out = append(out, v)
	}
	a.writeOpened(w, "open expansion reviews", out, err)
}

// ReviewStatusView is the answer of GET /v1/identities/{name}/review.
type ReviewStatusView struct {
	Identity     string       `json:"identity"`
	Owner        string       `json:"owner"`
	IntervalDays int          `json:"intervalDays"`
	LastReviewed string       `json:"lastReviewed"`
	Source       string       `json:"source"`
	Due          string       `json:"due"`
	Overdue      bool         `json:"overdue"`
	Open         []ReviewView `json:"open"`
}

// identityReview is GET /v1/identities/{name}/review.
func (a *API) identityReview(w http.ResponseWriter, r *http.Request, _ *Operator) {
	rv := a.reviews(w)
	if rv == nil {
		return
	}
	st, err := rv.Status(r.Context(), r.PathValue("name"))
	if err != nil {
		a.reviewError(w, err)
		return
	}
	v := ReviewStatusView{
		Identity: st.Identity, IntervalDays: st.IntervalDays, Source: st.Source, Overdue: st.Overdue(a.cfg.Now()),
		LastReviewed: dateOf(st.LastReviewed), Due: dateOf(st.Due), Open: make([]ReviewView, 0, len(st.Open)),
	}
	if id := a.identities[st.Identity]; id != nil {
		v.Owner = id.Owner
	}
	for _, it := range st.Open {
		v.Open = append(v.Open, a.reviewView(it))
	}
	writeJSON(w, http.StatusOK, v)
}

func dateOf(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.DateOnly)
}

// statusOf is the HTTP status of a review service error.
func statusOf(err error) int {
	switch {
	case errors.Is(err, review.ErrAudit):
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// decodeBody decodes a JSON request body strictly, answering 400 (or 413)
// when it cannot.
func decodeBody(w http.ResponseWriter, r *http.Request, limit int64, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, more := dec.Token(); !errors.Is(more, io.EOF) {
			err = errors.New("unexpected data after the JSON object")
		}
	}
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeProblem(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body larger than %d bytes", limit))
			return false
		}
		writeProblem(w, http.StatusBadRequest, "request body: "+err.Error())
		return false
	}
	return true
}
