package httpapi

import (
	"errors"
	"fmt"
	"mime"
	"net/http"
	"sort"
	"strings"

	"github.com/steward-dev/steward/internal/audit"
	"github.com/steward-dev/steward/internal/broker"
	"github.com/steward-dev/steward/internal/store"
	"github.com/steward-dev/steward/internal/workload"
)

// RFC 8693 identifiers.
const (
	GrantTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
	TokenTypeJWT       = "urn:ietf:params:oauth:token-type:jwt"
	TokenTypeIDToken   = "urn:ietf:params:oauth:token-type:id_token"
	TokenTypeAccess    = "urn:ietf:params:oauth:token-type:access_token"
)

// ActionToken is the audit action of a token decision.
const ActionToken = store.AuditActionToken

// maxForm bounds a token request's body.
const maxForm = 64 << 10

// tokenResponse is the RFC 8693 §2.2.1 response, plus Salesforce's
// instance_url.
type tokenResponse struct {
	AccessToken     string `json:"access_token"`
	IssuedTokenType string `json:"issued_token_type"`
	TokenType       string `json:"token_type"`
	ExpiresIn       int64  `json:"expires_in"`
	InstanceURL     string `json:"instance_url"`
}

// oauthError is an RFC 6749 §5.2 error response.
type oauthError struct {
	status      int
	Code        string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

func writeOAuthError(w http.ResponseWriter, e oauthError) {
	if e.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="steward"`)
	}
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, e.status, e)
}

// token is POST /v1/token: authenticate, decide, audit, exchange, respond.
func (a *API) token(w http.ResponseWriter, r *http.Request, _ *Operator) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/x-www-form-urlencoded" {
		writeOAuthError(w, oauthError{http.StatusBadRequest, "invalid_request", "the body must be application/x-www-form-urlencoded"})
		return
	}
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, oauthError{http.StatusBadRequest, "invalid_request", "the form could not be read"})
		return
	}
	form := r.PostForm
	if g := form.Get("grant_type"); g != GrantTokenExchange {
		writeOAuthError(w, oauthError{http.StatusBadRequest, "unsupported_grant_type", "grant_type must be " + GrantTokenExchange})
		return
	}
	switch form.Get("subject_token_type") {
	case "", TokenTypeJWT, TokenTypeIDToken:
	default:
		writeOAuthError(w, oauthError{http.StatusBadRequest, "invalid_request", "subject_token_type must be " + TokenTypeJWT + " or " + TokenTypeIDToken})
		return
	}
	if rt := form.Get("requested_token_type"); rt != "" && rt != TokenTypeAccess {
		writeOAuthError(w, oauthError{http.StatusBadRequest, "invalid_request", "requested_token_type must be " + TokenTypeAccess})
		return
	}
	name, err := target(form.Get("resource"), form.Get("audience"))
	if err != nil {
		writeOAuthError(w, oauthError{http.StatusBadRequest, "invalid_request", err.Error()})
		return
	}

	wl, err := a.cfg.Auth.Authenticate(r.Context(), r)
	switch {
	case errors.Is(err, workload.ErrNoCredential):
		writeOAuthError(w, oauthError{http.StatusUnauthorized, "invalid_client", err.Error()})
		return
	case err != nil:
		writeOAuthError(w, oauthError{http.StatusBadRequest, "invalid_grant", err.Error()})
		return
	}
	id := a.identities[name]
	if id == nil {
		writeOAuthError(w, oauthError{http.StatusBadRequest, "invalid_target", fmt.Sprintf("no identity named %q", name)})
		return
	}

	now := a.cfg.Now()
	dec, err := a.cfg.Decider.Decide(r.Context(), a.decisionInput(wl, id, now))
	if err != nil {
		a.cfg.Metrics.decision("error")
		a.cfg.Logger.Error("decision failed", "identity", name, "workload", wl.String(), "error", err)
		writeOAuthError(w, oauthError{http.StatusInternalServerError, "server_error", "the runtime policy could not be evaluated"})
		return
	}
	outcome := audit.OutcomeSuccess
	if !dec.Allow {
		outcome = audit.OutcomeDenied
	}
	ev := audit.Event{
		Time: now, Actor: audit.Actor{Kind: audit.ActorWorkload, ID: wl.String()}, Action: ActionToken,
		Resource: name, Outcome: outcome, RequestID: reqID(r), Details: reasonDetails(dec),
	}
	if err := a.appendAudit(r.Context(), ev); err != nil {
		a.cfg.Metrics.decision("audit_failed")
		writeOAuthError(w, oauthError{http.StatusServiceUnavailable, "temporarily_unavailable", "the audit log is unavailable, so no token is issued; retry later"})
		return
	}
	if !dec.Allow {
		a.cfg.Metrics.decision("denied")
		writeOAuthError(w, oauthError{http.StatusForbidden, "unauthorized_client", "denied by policy: " + reasonCodes(dec)})
		return
	}
	a.cfg.Metrics.decision("allowed")

	g, err := a.cfg.Tokens.Token(r.Context(), name, a.lifetime(id))
	if err != nil {
		a.cfg.Logger.Warn("no token", "identity", name, "error", err)
		switch {
		case errors.Is(err, broker.ErrUnavailable):
			w.Header().Set("Retry-After", "30")
			writeOAuthError(w, oauthError{http.StatusServiceUnavailable, "temporarily_unavailable", "the Salesforce org is unavailable and no token for " + name + " is cached; retry later"})
		case errors.Is(err, broker.ErrRefused):
			writeOAuthError(w, oauthError{http.StatusBadGateway, "server_error", "the Salesforce org refused the stored credentials of " + name + "; an operator must check its secret and app"})
		default:
			writeOAuthError(w, oauthError{http.StatusInternalServerError, "server_error", "no token could be obtained for " + name})
		}
		return
	}
	a.cfg.Metrics.cache(g.Cached)
	expires := int64(g.ExpiresAt.Sub(a.cfg.Now()).Seconds())
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, tokenResponse{
		AccessToken: g.AccessToken, IssuedTokenType: TokenTypeAccess, TokenType: "Bearer",
		ExpiresIn: max(expires, 0), InstanceURL: g.InstanceURL,
	})
}

// target is the Identity a request names with resource or audience (a
// bare name, or a steward:identity:NAME URI). Both may be given if they
// agree.
func target(resource, aud string) (string, error) {
	norm := func(s string) string { return strings.TrimPrefix(s, "steward:identity:") }
	switch {
	case resource == "" && aud == "":
		return "", errors.New("name the Identity with resource or audience")
	case resource != "" && aud != "" && norm(resource) != norm(aud):
		return "", errors.New("resource and audience name different Identities")
	case aud != "":
		return norm(aud), nil
	}
	return norm(resource), nil
}

// reasonDetails are a decision's reasons for its audit record.
func reasonDetails(d broker.Decision) map[string]string {
	m := map[string]string{"reasons": reasonCodes(d)}
	var msgs []string
	for _, r := range d.Reasons {
		msgs = append(msgs, r.Code+": "+r.Message)
	}
	m["messages"] = strings.Join(msgs, "; ")
	return m
}

func reasonCodes(d broker.Decision) string {
	codes := make([]string, 0, len(d.Reasons))
	for _, r := range d.Reasons {
		codes = append(codes, r.Code)
	}
	sort.Strings(codes)
	return strings.Join(codes, ",")
}
