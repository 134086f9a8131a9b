// Package httpapi is the broker's HTTP API: the RFC 8693 token endpoint that
// workloads call, read-only operator routes, health and readiness probes and
// Prometheus metrics. Every route carries an explicit authorisation rule,
// enforced before its handler runs.
package httpapi

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/steward-dev/steward/internal/audit"
	"github.com/steward-dev/steward/internal/broker"
	"github.com/steward-dev/steward/internal/snapshot"
	"github.com/steward-dev/steward/internal/workload"
)

// Authenticator verifies a workload's credential. *workload.Authenticator is
// one.
type Authenticator interface {
	Authenticate(ctx context.Context, r *http.Request) (*workload.Workload, error)
}

// Decider makes the runtime decision. *broker.Decider is one.
type Decider interface {
	Decide(ctx context.Context, in broker.Input) (broker.Decision, error)
}

// Auditor makes an audit record durable. *audit.Log is one.
type Auditor interface {
	Append(ctx context.Context, ev audit.Event) (audit.Record, error)
}

// Tokens hands out cached Salesforce tokens. *broker.Cache is one.
type Tokens interface {
	Token(ctx context.Context, identity string, lifetime time.Duration) (broker.Grant, error)
	Cached(identity string) bool
	Drop(identity string)
	Revoke(ctx context.Context, identity string) (int, error)
}

// KillSwitches persist which identities are killed, so that a restart does
// not lift a kill.
type KillSwitches interface {
	Killed(ctx context.Context) ([]string, error)
	SetKilled(ctx context.Context, identity string, killed bool) error
}

// Role is an operator's role.
type Role string

// Operator roles. An admin may do what an auditor may, and change state.
// An owner acts only on the identities its teams own; an approver approves
// what another person requested; an auditor only reads. See admin.go.
const (
	RoleAdmin    Role = "admin"
	RoleOwner    Role = "owner"
	RoleApprover Role = "approver"
	RoleAuditor  Role = "auditor"
)

// Operator is an operator credential: a bearer token, its role and, for an
// owner, the teams it acts for.
type Operator struct {
	Name  string
	Role  Role
	Token string
	Teams []string
}

// Config configures the API.
type Config struct {
	Auth    Authenticator
	Decider Decider
	Audit   Auditor
	Tokens  Tokens
	// Snapshot holds the Identities tokens may be asked for, and the apps
	// whose session timeouts give token lifetimes.
	Snapshot *snapshot.Snapshot
	// SessionTimeout is the token lifetime for an identity whose app names
	// none (default broker.DefaultSessionTimeout).
	SessionTimeout time.Duration
	// Operators are the operator credentials.
	Operators []Operator
	// Reviews runs access reviews; nil answers the review routes with 503.
	Reviews Reviews
	// Elevations runs break-glass elevation; nil answers its routes with 503.
	Elevations Elevations
	// Kills persists the kill switches; nil keeps them in memory only.
	Kills KillSwitches
	// Facts give the decision each identity's secret state, review status
	// and open findings; nil uses the manifests' declared dates alone.
	Facts Facts
	// Ready reports whether the server can serve (store reachable); nil
	// means always.
	Ready func(ctx context.Context) error
	// Metrics receives the API's measurements; nil records none.
	Metrics *Metrics
	// Logger receives one JSON record per request; nil discards them.
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Route is one route of the API and who may call it.
type Route struct {
	Method, Pattern string
	// Rule says who may call it (see rule.String).
	Rule string
}

type route struct {
	method, pattern string
	rule            rule
	handle          func(w http.ResponseWriter, r *http.Request, op *Operator)
}

// API serves the broker's routes.
type API struct {
	cfg        Config
	identities map[string]*snapshot.Identity
	operators  []operatorHash
	routes     []route
	subjects   map[string]subjectResolver
	mux        *http.ServeMux
	killMu     sync.RWMutex
	killed     map[string]bool
	killGen    uint64 // counts this process's kill changes
}

type operatorHash struct {
	op   Operator
	hash [sha256.Size]byte
}

// New builds the API. It reads the persisted kill switches.
func New(ctx context.Context, cfg Config) (*API, error) {
	if cfg.Auth == nil || cfg.Decider == nil || cfg.Audit == nil || cfg.Tokens == nil || cfg.Snapshot == nil {
		return nil, errors.New("http API: authenticator, decider, audit log, token cache and snapshot are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	a := &API{cfg: cfg, identities: map[string]*snapshot.Identity{}, mux: http.NewServeMux(), killed: map[string]bool{}}
	if cfg.Kills != nil {
		names, err := cfg.Kills.Killed(ctx)
		if err != nil {
			return nil, fmt.Errorf("read the kill switches: %w", err)
		}
		for _, n := range names {
			a.killed[n] = true
		}
	}
	for i := range cfg.Snapshot.Identities {
		id := &cfg.Snapshot.Identities[i]
		a.identities[id.Name] = id
	}
	for _, op := range cfg.Operators {
		if err := op.validate(); err != nil {
			return nil, fmt.Errorf("http API: operator %s: %w", op.Name, err)
		}
		a.operators = append(a.operators, operatorHash{op: Operator{Name: op.Name, Role: op.Role, Teams: op.Teams}, hash: sha256.Sum256([]byte(op.Token))})
	}
	a.subjects = a.subjectResolvers()
	a.routes = []route{
		{http.MethodGet, "/healthz", rulePublic, a.health},
		{http.MethodGet, "/readyz", rulePublic, a.ready},
		{http.MethodPost, "/v1/token", ruleWorkload, a.token},
		{http.MethodGet, "/v1/identities", ruleReader, a.listIdentities},
		{http.MethodDelete, "/v1/identities/{name}/token", ruleAdmin, a.dropToken},
		{http.MethodPost, "/v1/identities/{name}/kill", ruleAdmin, a.kill},
		{http.MethodDelete, "/v1/identities/{name}/kill", ruleAdmin, a.lift},
		// Access reviews (reviews.go).
		{http.MethodGet, "/v1/identities/{name}/review", ruleOwnerRead, a.identityReview},
		{http.MethodGet, "/v1/reviews", ruleOperator, a.listReviews},
		{http.MethodGet, "/v1/reviews/{review}", ruleOwnerRead, a.getReview},
		{http.MethodPost, "/v1/reviews/{review}/attest", ruleOwner, a.attest},
		{http.MethodPost, "/v1/reviews/campaigns", ruleAdmin, a.campaign},
		{http.MethodPost, "/v1/reviews/expansions", ruleAdmin, a.openExpansions},
	}
	a.routes = append(a.routes, a.elevationRoutes()...) // break-glass elevation (elevate.go)
	if cfg.Metrics != nil {
		a.routes = append(a.routes, route{http.MethodGet, "/metrics", ruleReader, func(w http.ResponseWriter, r *http.Request, _ *Operator) {
			cfg.Metrics.handler.ServeHTTP(w, r)
		}})
	}
	for _, rt := range a.routes {
		a.mux.Handle(rt.method+" "+rt.pattern, a.guard(rt))
	}
	return a, nil
}

// Routes lists every route with its authorisation rule.
func (a *API) Routes() []Route {
	out := make([]Route, len(a.routes))
	for i, rt := range a.routes {
		out[i] = Route{Method: rt.method, Pattern: rt.pattern, Rule: rt.rule.String()}
	}
	return out
}

// ServeHTTP routes a request.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	begin := time.Now()
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	reqID := requestID()
	rec.Header().Set("X-Request-Id", reqID)
	req := r.WithContext(context.WithValue(r.Context(), requestIDKey{}, reqID))
	a.mux.ServeHTTP(rec, req)
	pattern := req.Pattern // set by the mux
	if pattern == "" {
		pattern = "unmatched"
	}
	a.cfg.Metrics.request(pattern, rec.status, time.Since(begin))
	a.cfg.Logger.LogAttrs(r.Context(), slog.LevelInfo, "request",
		slog.String("request_id", reqID), slog.String("method", r.Method), slog.String("route", pattern),
		slog.Int("status", rec.status), slog.Duration("duration", time.Since(begin)), slog.String("remote", r.RemoteAddr))
}

// guard enforces a route's rule, then calls its handler. A refused
// operator on a route that changes state is audited (see authorize).
func (a *API) guard(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch rt.rule {
		case rulePublic, ruleWorkload:
			// The token handler authenticates the workload itself: its
			// errors are OAuth errors.
			rt.handle(w, r, nil)
			return
		}
		op := a.operator(r)
		if op == nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="steward"`)
			writeProblem(w, http.StatusUnauthorized, "operator credentials required: send an operator token as Authorization: Bearer")
			return
		}
		if !a.authorize(w, r, rt, op) {
			return
		}
		rt.handle(w, r, op)
	})
}

// operator returns the operator whose token the request bears, or nil.
func (a *API) operator(r *http.Request) *Operator {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return nil
	}
	h := sha256.Sum256([]byte(strings.TrimSpace(tok)))
	var found *Operator
	for i := range a.operators {
		if subtle.ConstantTimeCompare(h[:], a.operators[i].hash[:]) == 1 {
			found = &a.operators[i].op
		}
	}
	return found
}

func (a *API) health(w http.ResponseWriter, _ *http.Request, _ *Operator) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (a *API) ready(w http.ResponseWriter, r *http.Request, _ *Operator) {
	if a.cfg.Ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := a.cfg.Ready(ctx); err != nil {
			a.cfg.Logger.Warn("not ready", "error", err)
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// identityView is what operators see of an Identity.
type identityView struct {
	Name           string `json:"name"`
	Environment    string `json:"environment"`
	Lifecycle      string `json:"lifecycle"`
	App            string `json:"app"`
	Consumers      int    `json:"consumers"`
	SessionTimeout string `json:"sessionTimeout"`
	TokenCached    bool   `json:"tokenCached"`
	Killed         bool   `json:"killed"`
}

func (a *API) listIdentities(w http.ResponseWriter, _ *http.Request, _ *Operator) {
	out := make([]identityView, 0, len(a.cfg.Snapshot.Identities))
	for i := range a.cfg.Snapshot.Identities {
		id := &a.cfg.Snapshot.Identities[i]
		out = append(out, identityView{
			Name: id.Name, Environment: id.Environment, Lifecycle: id.Lifecycle, App: id.Salesforce.App,
			Consumers: len(id.Consumers), SessionTimeout: a.lifetime(id).String(), TokenCached: a.cfg.Tokens.Cached(id.Name),
			Killed: a.isKilled(id.Name),
		})
	}
	writeJSON(w, http.StatusOK, map[string]any{"identities": out})
}

func (a *API) dropToken(w http.ResponseWriter, r *http.Request, op *Operator) {
	name := r.PathValue("name")
	if a.identities[name] == nil {
		writeProblem(w, http.StatusNotFound, "no identity named "+name)
		return
	}
	ev := audit.Event{
		Time: a.cfg.Now(), Actor: audit.Actor{Kind: audit.ActorHuman, ID: op.Name}, Action: "broker.token.drop",
		Resource: name, Outcome: audit.OutcomeSuccess, RequestID: reqID(r),
	}
	if err := a.appendAudit(r.Context(), ev); err != nil {
		writeProblem(w, http.StatusServiceUnavailable, "audit log unavailable; nothing was changed")
		return
	}
	a.cfg.Tokens.Drop(name)
	w.WriteHeader(http.StatusNoContent)
}

// lifetime is an identity's token lifetime.
func (a *API) lifetime(id *snapshot.Identity) time.Duration {
	return broker.SessionTimeout(a.cfg.Snapshot, id, a.cfg.SessionTimeout)
}

// appendAudit appends ev and measures it.
func (a *API) appendAudit(ctx context.Context, ev audit.Event) error {
	begin := time.Now()
	_, err := a.cfg.Audit.Append(ctx, ev)
	a.cfg.Metrics.auditDone(time.Since(begin), err)
	if err != nil {
		a.cfg.Logger.Error("audit append failed", "action", ev.Action, "resource", ev.Resource, "error", err)
	}
	return err
}

type requestIDKey struct{}

func reqID(r *http.Request) string {
	s, _ := r.Context().Value(requestIDKey{}).(string)
	return s
}

func requestID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// writeProblem answers an operator route's error.
func writeProblem(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}
