package httpapi_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/steward-dev/steward/client"
	"github.com/steward-dev/steward/internal/audit"
	"github.com/steward-dev/steward/internal/broker"
	"github.com/steward-dev/steward/internal/httpapi"
	"github.com/steward-dev/steward/internal/repotest"
	"github.com/steward-dev/steward/internal/review"
	"github.com/steward-dev/steward/internal/salesforce/fakeorg"
	"github.com/steward-dev/steward/internal/secrets"
	"github.com/steward-dev/steward/internal/snapshot"
	"github.com/steward-dev/steward/internal/store"
	"github.com/steward-dev/steward/internal/store/storetest"
	"github.com/steward-dev/steward/internal/workload"
)

const (
	audience   = "https://steward.test"
	prodSub    = "repo:acme/erp:environment:prod"
	otherSub   = "repo:acme/other:environment:prod"
	adminTok   = "admin-token-0123456789abcdef0123456789abcdef"
	auditorTok = "auditor-token-0123456789abcdef0123456789abcd"
	ownerTok   = "owner-token-0123456789abcdef0123456789abcdef"
	otherTok   = "other-owner-token-0123456789abcdef0123456789"
	approveTok = "approver-token-0123456789abcdef0123456789abc"
)

// issuer is a local OIDC issuer: an EC key and its JWKS on loopback.
type issuer struct {
	url string
	key *ecdsa.PrivateKey
}

func newIssuer(t testing.TB) *issuer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	iss := &issuer{key: key}
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: "k1", Algorithm: "ES256", Use: "sig"}}}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(set)
	}))
	t.Cleanup(ts.Close)
	iss.url = ts.URL
	return iss
}

// token signs claims for sub in env, with changes applied.
func (i *issuer) token(t testing.TB, sub, env string, change func(map[string]any)) string {
	t.Helper()
	now := time.Now()
	claims := map[string]any{
		"iss": i.url, "sub": sub, "aud": audience, "environment": env,
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(10 * time.Minute).Unix(),
	}
	if change != nil {
		change(claims)
	}
	return sign(t, i.key, "k1", claims)
}

func sign(t testing.TB, key *ecdsa.PrivateKey, kid string, claims map[string]any) string {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key, KeyID: kid}}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	obj, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// fixture is a running API with its org, store and issuer.
type fixture struct {
	srv       *httptest.Server
	client    *http.Client
	org       *fakeorg.Server
	orgSecret string
	orgURL    string
	orgClient *http.Client
	exchanges *atomic.Int64
	issuer    *issuer
	db        store.Store
	logs      *bytes.Buffer
	logMu     *sync.Mutex
	auditor   *flakyAuditor
	kills     *memKills
	reviews   *review.Service
	api       func() (*httpapi.API, error)
	// frozen, when not zero, is the API's clock (Unix nanoseconds).
	frozen atomic.Int64
}

// memKills keeps kill switches in memory, as a store would across restarts.
type memKills struct {
	mu     sync.Mutex
	killed map[string]bool
}

func (m *memKills) Killed(context.Context) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for n := range m.killed {
		out = append(out, n)
	}
	return out, nil
}

func (m *memKills) SetKilled(_ context.Context, name string, on bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if on {
		m.killed[name] = true
	} else {
		delete(m.killed, name)
	}
	return nil
}

// flakyAuditor is the real audit log that can be made to fail.
type flakyAuditor struct {
	log  *audit.Log
	fail atomic.Bool
}

func (f *flakyAuditor) Append(ctx context.Context, ev audit.Event) (audit.Record, error) {
	if f.fail.Load() {
		return audit.Record{}, audit.ErrUnavailable
	}
	return f.log.Append(ctx, ev)
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{exchanges: &atomic.Int64{}, logs: &bytes.Buffer{}, logMu: &sync.Mutex{}}

	sc, err := fakeorg.LoadScenario(filepath.Join(repotest.Root(t), "examples/acme/org/scenario.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	f.org, err = fakeorg.New(sc, fakeorg.Options{})
	if err != nil {
		t.Fatal(err)
	}
	orgTS := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/services/oauth2/token" {
			f.exchanges.Add(1)
		}
		f.org.ServeHTTP(w, r)
	}))
	t.Cleanup(orgTS.Close)
	clientID, secret, _ := sc.Credentials("Erp_Connector")
	f.orgSecret, f.orgURL, f.orgClient = secret, orgTS.URL, orgTS.Client()

	open, _ := storetest.SQLite(t)
	f.db = open()
	kek := make([]byte, 32)
	rand.Read(kek)
	keys, err := secrets.ParseKeyring("k1:"+base64.StdEncoding.EncodeToString(kek), "test")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := secrets.SigningKey(ctx, f.db, keys)
	if err != nil {
		t.Fatal(err)
	}
	log, err := audit.New(audit.Config{Store: f.db, Signer: signer, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	f.auditor = &flakyAuditor{log: log}
	ss, err := secrets.New(ctx, secrets.Config{DB: f.db, Keys: keys, Audit: log})
	if err != nil {
		t.Fatal(err)
	}
	ana := audit.Actor{Kind: audit.ActorHuman, ID: "ana"}
	for _, name := range []string{"erp-connector-prod", "erp-connector-cold"} {
		if _, err := ss.Put(ctx, ana, name, secrets.Bundle{URL: orgTS.URL, ConsumerKey: clientID, ConsumerSecret: secret}, 0, time.Hour); err != nil {
			t.Fatal(err)
		}
	}

	f.issuer = newIssuer(t)
	auth, err := workload.NewAuthenticator(workload.Config{Issuers: []workload.IssuerConfig{{
		Issuer: f.issuer.url, JWKSURL: f.issuer.url, Audiences: []string{audience}, EnvironmentClaim: "environment",
	}}}, workload.OIDCOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dec, err := broker.NewDecider(ctx, broker.DecisionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	metrics := httpapi.NewMetrics()
	logger := slog.New(slog.NewJSONHandler(lockedWriter{f.logMu, f.logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	x, err := broker.NewExchanger(broker.ExchangeConfig{Secrets: ss, HTTPClient: orgTS.Client(), MaxRetries: -1, BreakerFailures: 100, OnExchange: metrics.Exchange, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	cache, err := broker.NewCache(broker.CacheConfig{Minter: x, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	today := time.Now().UTC().Format(time.DateOnly)
	ident := func(name, env, sub string) snapshot.Identity {
		return snapshot.Identity{
			Name: name, Owner: "erp", Environment: env, Lifecycle: "active", Criticality: "high",
			Salesforce: snapshot.Binding{URL: orgTS.URL, App: "Erp_Connector"},
			Consumers:  []snapshot.Consumer{{OIDCIssuer: f.issuer.url, OIDCSubject: sub}},
			Credential: snapshot.Credential{SecretRef: name, RotationDays: 90, RotatedAt: today},
			Review:     snapshot.Review{IntervalDays: 90, LastReviewed: today},
		}
	}
	snap := &snapshot.Snapshot{
		Identities: []snapshot.Identity{
			ident("erp-connector-prod", "production", prodSub),
			ident("erp-connector-cold", "production", prodSub),
		},
		Apps: []snapshot.App{{Name: "Erp_Connector", SessionTimeoutMinutes: 15}},
	}
	f.kills = &memKills{killed: map[string]bool{}}
	f.reviews, err = review.New(review.Config{Store: f.db, Audit: f.auditor, Identities: snap.Identities})
	if err != nil {
		t.Fatal(err)
	}
	// The decision facts as the server prepares them, so that decisions
	// are remembered within their second as in production.
	facts, err := broker.NewFacts(ctx, broker.FactsConfig{Snapshot: snap, Secrets: ss, Decider: dec})
	if err != nil {
		t.Fatal(err)
	}
	clock := func() time.Time {
		if n := f.frozen.Load(); n != 0 {
			return time.Unix(0, n)
		}
		return time.Now()
	}
	f.api = func() (*httpapi.API, error) {
		return httpapi.New(context.Background(), httpapi.Config{
			Auth: auth, Decider: dec, Facts: facts, Now: clock,
			Audit: f.auditor, Tokens: cache, Snapshot: snap, Kills: f.kills, Reviews: f.reviews,
			Operators: []httpapi.Operator{
				{Name: "ana", Role: httpapi.RoleAdmin, Token: adminTok}, {Name: "ivo", Role: httpapi.RoleAuditor, Token: auditorTok},
				{Name: "kim", Role: httpapi.RoleOwner, Teams: []string{"erp"}, Token: ownerTok},
				{Name: "raj", Role: httpapi.RoleOwner, Teams: []string{"billing", "crm"}, Token: otherTok},
				{Name: "eve", Role: httpapi.RoleApprover, Token: approveTok},
			},
			Metrics: metrics, Logger: logger,
		})
	}
	api, err := f.api()
	if err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewUnstartedServer(api)
	f.srv.StartTLS()
	t.Cleanup(f.srv.Close)
	f.client = f.srv.Client()
	return f
}

// tokenForm is a token-exchange request for identity with subject token.
func tokenForm(identity, subject string) url.Values {
	v := url.Values{"grant_type": {httpapi.GrantTokenExchange}, "resource": {identity}}
	if subject != "" {
		v.Set("subject_token", subject)
		v.Set("subject_token_type", httpapi.TokenTypeJWT)
	}
	return v
}

type oauthResponse struct {
	AccessToken     string `json:"access_token"`
	IssuedTokenType string `json:"issued_token_type"`
	TokenType       string `json:"token_type"`
	ExpiresIn       int64  `json:"expires_in"`
	InstanceURL     string `json:"instance_url"`
	Error           string `json:"error"`
	Description     string `json:"error_description"`
}

func (f *fixture) postToken(t testing.TB, form url.Values) (int, oauthResponse, http.Header) {
	t.Helper()
	resp, err := f.client.PostForm(f.srv.URL+"/v1/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out oauthResponse
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("decode token response: %v", err)
	}
	return resp.StatusCode, out, resp.Header
}

func TestTokenExchange(t *testing.T) {
	f := newFixture(t)
	status, out, h := f.postToken(t, tokenForm("erp-connector-prod", f.issuer.token(t, prodSub, "production", nil)))
	if status != http.StatusOK {
		t.Fatalf("status %d: %+v", status, out)
	}
	if out.AccessToken == "" || out.IssuedTokenType != httpapi.TokenTypeAccess || out.TokenType != "Bearer" || out.InstanceURL == "" {
		t.Errorf("response = %+v", out)
	}
	// 15-minute session timeout less the 2-minute margin.
	if out.ExpiresIn <= 12*60-30 || out.ExpiresIn > 13*60 {
		t.Errorf("expires_in = %d, want about 780", out.ExpiresIn)
	}
	if h.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control = %q", h.Get("Cache-Control"))
	}
	// The second request is served from the cache.
	_, out2, _ := f.postToken(t, tokenForm("erp-connector-prod", f.issuer.token(t, prodSub, "production", nil)))
	if out2.AccessToken != out.AccessToken || f.exchanges.Load() != 1 {
		t.Errorf("second grant: same token %t, %d exchanges; want the cached token and 1 exchange", out2.AccessToken == out.AccessToken, f.exchanges.Load())
	}
	// The Salesforce token works against the org.
	req, _ := http.NewRequest(http.MethodGet, f.orgURL+"/services/data/v67.0/limits", nil)
	req.Header.Set("Authorization", "Bearer "+out.AccessToken)
	resp, err := f.orgClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("the granted token gets %d from the org, want 200", resp.StatusCode)
	}

	// Each decision is audited with its reasons; no record holds the token or secret.
	var decisions int
	f.db.AuditRecords(context.Background(), 0, func(r store.AuditRecord) error {
		body := string(r.Body)
		if strings.Contains(body, httpapi.ActionToken) {
			decisions++
			if !strings.Contains(body, "allowed") {
				t.Errorf("decision record lacks its reason: %s", body)
			}
		}
		if strings.Contains(body, out.AccessToken) || strings.Contains(body, f.orgSecret) {
			t.Errorf("audit record holds a token or secret: %s", body)
		}
		return nil
	})
	if decisions != 2 {
		t.Errorf("%d audited decisions, want 2", decisions)
	}
	f.logMu.Lock()
	logs := f.logs.String()
	f.logMu.Unlock()
	if strings.Contains(logs, out.AccessToken) || strings.Contains(logs, f.orgSecret) {
		t.Errorf("logs hold a token or secret:\n%s", logs)
	}
	if !strings.Contains(logs, `"route":"POST /v1/token"`) {
		t.Errorf("no request log record:\n%s", logs)
	}
}

func TestTokenErrors(t *testing.T) {
	f := newFixture(t)
	good := f.issuer.token(t, prodSub, "production", nil)
	otherKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Now()
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." +
		base64.RawURLEncoding.EncodeToString(must(json.Marshal(map[string]any{"iss": f.issuer.url, "sub": prodSub, "aud": audience, "exp": now.Add(time.Hour).Unix()}))) + "."
	tests := []struct {
		name   string
		form   url.Values
		status int
		code   string
	}{
		{"wrong grant type", url.Values{"grant_type": {"client_credentials"}, "resource": {"erp-connector-prod"}, "subject_token": {good}}, 400, "unsupported_grant_type"},
		{"no target", url.Values{"grant_type": {httpapi.GrantTokenExchange}, "subject_token": {good}}, 400, "invalid_request"},
		{"bad token type", func() url.Values {
			v := tokenForm("erp-connector-prod", good)
			v.Set("subject_token_type", "urn:ietf:params:oauth:token-type:saml2")
			return v
		}(), 400, "invalid_request"},
		{"no credential", tokenForm("erp-connector-prod", ""), 401, "invalid_client"},
		{"unknown identity", tokenForm("nobody", good), 400, "invalid_target"},
		{"forged", tokenForm("erp-connector-prod", sign(t, otherKey, "k1", map[string]any{"iss": f.issuer.url, "sub": prodSub, "aud": audience, "exp": now.Add(time.Hour).Unix()})), 400, "invalid_grant"},
		{"expired", tokenForm("erp-connector-prod", f.issuer.token(t, prodSub, "production", func(c map[string]any) {
			c["exp"] = now.Add(-time.Hour).Unix()
			c["iat"] = now.Add(-2 * time.Hour).Unix()
			c["nbf"] = now.Add(-2 * time.Hour).Unix()
		})), 400, "invalid_grant"},
		{"wrong audience", tokenForm("erp-connector-prod", f.issuer.token(t, prodSub, "production", func(c map[string]any) { c["aud"] = "someone-else" })), 400, "invalid_grant"},
		{"alg none", tokenForm("erp-connector-prod", none), 400, "invalid_grant"},
		{"wrong workload", tokenForm("erp-connector-prod", f.issuer.token(t, otherSub, "production", nil)), 403, "unauthorized_client"},
		{"wrong environment", tokenForm("erp-connector-prod", f.issuer.token(t, prodSub, "staging", nil)), 403, "unauthorized_client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, out, h := f.postToken(t, tt.form)
			if status != tt.status || out.Error != tt.code {
				t.Errorf("status %d error %q (%s), want %d %q", status, out.Error, out.Description, tt.status, tt.code)
			}
			if out.AccessToken != "" {
				t.Error("an error response carries a token")
			}
			if h.Get("Cache-Control") != "no-store" || h.Get("Content-Type") != "application/json" {
				t.Errorf("headers %v", h)
			}
		})
	}
	if n := f.exchanges.Load(); n != 0 {
		t.Errorf("refused requests caused %d exchanges", n)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestAuditFailClosed(t *testing.T) {
	f := newFixture(t)
	f.auditor.fail.Store(true)
	status, out, _ := f.postToken(t, tokenForm("erp-connector-prod", f.issuer.token(t, prodSub, "production", nil)))
	if status != http.StatusServiceUnavailable || out.Error != "temporarily_unavailable" || out.AccessToken != "" {
		t.Errorf("with the audit log down: %d %+v, want 503 and no token", status, out)
	}
	if f.exchanges.Load() != 0 {
		t.Error("an unaudited request reached the org")
	}
}

func TestOrgOutage(t *testing.T) {
	f := newFixture(t)
	jwt := f.issuer.token(t, prodSub, "production", nil)
	status, warm, _ := f.postToken(t, tokenForm("erp-connector-prod", jwt))
	if status != http.StatusOK {
		t.Fatalf("warm-up: %d %+v", status, warm)
	}
	f.org.Inject(fakeorg.Fault{Kind: fakeorg.FaultServerError, Status: http.StatusServiceUnavailable})
	for range 5 {
		status, out, _ := f.postToken(t, tokenForm("erp-connector-prod", jwt))
		if status != http.StatusOK || out.AccessToken != warm.AccessToken {
			t.Fatalf("cached identity during the outage: %d %+v", status, out.Error)
		}
	}
	status, out, h := f.postToken(t, tokenForm("erp-connector-cold", jwt))
	if status != http.StatusServiceUnavailable || out.Error != "temporarily_unavailable" || h.Get("Retry-After") == "" {
		t.Errorf("cold identity during the outage: %d %+v %v, want 503 temporarily_unavailable with Retry-After", status, out, h)
	}
	if !strings.Contains(out.Description, "erp-connector-cold") {
		t.Errorf("description %q does not name the identity", out.Description)
	}
}

// callerKinds are the credentials the authorisation matrix tries on every
// route.
var callerKinds = []string{
	"none", "wrong workload", "right workload wrong env", "right workload",
	"admin", "owner of the team", "owner of another team", "approver", "auditor",
}

// matrixRow is the status each kind of caller gets from one route. request,
// when set, makes the path and JSON body of one call (a fresh review item
// for a route that closes one); otherwise {name} is erp-connector-prod and
// a POST sends a token-exchange form.
type matrixRow struct {
	want    map[string]int
	request func(t *testing.T, f *fixture) (path, body string)
}

// status builds a row's statuses: operator routes answer 401 to every
// workload credential, so only the operators' statuses are listed.
func operatorRow(admin, owner, otherOwner, approver, auditor int) map[string]int {
	return map[string]int{
		"none": 401, "wrong workload": 401, "right workload wrong env": 401, "right workload": 401,
		"admin": admin, "owner of the team": owner, "owner of another team": otherOwner, "approver": approver, "auditor": auditor,
	}
}

// freshReview opens a new review item of erp-connector-prod (owned by
// team erp) and returns the route's path for it.
func freshReview(suffix string) func(t *testing.T, f *fixture) (string, string) {
	return func(t *testing.T, f *fixture) (string, string) {
		t.Helper()
		it, _, err := f.db.OpenReview(context.Background(), store.ReviewItem{
			Identity: "erp-connector-prod", Kind: review.KindExpansion, Key: fmt.Sprintf("matrix-%d", time.Now().UnixNano()),
			OpenedAt: time.Now(), OpenedBy: "human:ana", DueAt: time.Now().Add(time.Hour), Evidence: []byte(`{"changes":[],"setupChanges":[]}`),
		})
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("/v1/reviews/%d%s", it.ID, suffix), `{"decision":"keep","comment":"still needed"}`
	}
}

// TestAuthorizationMatrix calls every route as every kind of caller. A route
// without a row fails the test; so does a row naming no route.
func TestAuthorizationMatrix(t *testing.T) {
	f := newFixture(t)
	right := f.issuer.token(t, prodSub, "production", nil)
	bearer := func(tok string) func(r *http.Request) {
		return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
	}
	callers := map[string]func(r *http.Request){
		"none":                     func(*http.Request) {},
		"wrong workload":           bearer(f.issuer.token(t, otherSub, "production", nil)),
		"right workload wrong env": bearer(f.issuer.token(t, prodSub, "staging", nil)),
		"right workload":           bearer(right),
		"admin":                    bearer(adminTok),
		"owner of the team":        bearer(ownerTok),
		"owner of another team":    bearer(otherTok),
		"approver":                 bearer(approveTok),
		"auditor":                  bearer(auditorTok),
	}
	public := map[string]int{}
	for _, c := range callerKinds {
		public[c] = 200
	}
	want := map[string]matrixRow{
		"GET /healthz": {want: public},
		"GET /readyz":  {want: public},
		// Operator tokens are not workload credentials: they fail JWT verification.
		"POST /v1/token": {want: map[string]int{
			"none": 401, "wrong workload": 403, "right workload wrong env": 403, "right workload": 200,
			"admin": 400, "owner of the team": 400, "owner of another team": 400, "approver": 400, "auditor": 400,
		}},
		"GET /v1/identities":                 {want: operatorRow(200, 403, 403, 403, 200)},
		"DELETE /v1/identities/{name}/token": {want: operatorRow(204, 403, 403, 403, 403)},
		"POST /v1/identities/{name}/kill":    {want: operatorRow(200, 403, 403, 403, 403)},
		"DELETE /v1/identities/{name}/kill":  {want: operatorRow(200, 403, 403, 403, 403)},
		"GET /metrics":                       {want: operatorRow(200, 403, 403, 403, 200)},
		"GET /v1/identities/{name}/review":   {want: operatorRow(200, 200, 403, 403, 200)},
		"GET /v1/reviews":                    {want: operatorRow(200, 200, 200, 200, 200)},
		"GET /v1/reviews/{review}":           {want: operatorRow(200, 200, 403, 403, 200), request: freshReview("")},
		"POST /v1/reviews/{review}/attest":   {want: operatorRow(200, 200, 403, 403, 403), request: freshReview("/attest")},
		"POST /v1/reviews/campaigns":         {want: operatorRow(200, 403, 403, 403, 403)},
		// Break-glass routes; this fixture has no elevation service, so an
		// authorised caller gets 503 (elevate_test.go covers the workflow).
		"POST /v1/identities/{name}/elevations":   {want: operatorRow(503, 503, 403, 403, 403)},
		"GET /v1/elevations":                      {want: operatorRow(503, 503, 503, 503, 503)},
		"GET /v1/elevations/{elevation}":          {want: operatorRow(503, 503, 503, 503, 503)},
		"POST /v1/elevations/{elevation}/approve": {want: operatorRow(403, 403, 403, 503, 403)},
		"POST /v1/elevations/{elevation}/deny":    {want: operatorRow(403, 403, 403, 503, 403)},
		"POST /v1/elevations/{elevation}/revoke":  {want: operatorRow(503, 503, 503, 503, 503)},
		"POST /v1/elevations/{elevation}/close":   {want: operatorRow(403, 403, 403, 503, 403)},
		"POST /v1/reviews/expansions": {want: operatorRow(200, 403, 403, 403, 403), request: func(*testing.T, *fixture) (string, string) {
			return "/v1/reviews/expansions", `{"changes":[{"kind":"widened","resource":"App","subject":"Erp_Connector","field":"scopes","after":"full"}]}`
		}},
	}
	api := f.srv.Config.Handler.(*httpapi.API)
	for _, rt := range api.Routes() {
		key := rt.Method + " " + rt.Pattern
		row, ok := want[key]
		if !ok {
			t.Errorf("route %s (%s) has no row in the matrix", key, rt.Rule)
			continue
		}
		delete(want, key)
		for _, caller := range callerKinds {
			if _, ok := row.want[caller]; !ok {
				t.Errorf("%s: no status for caller %q", key, caller)
				continue
			}
			path := strings.Replace(rt.Pattern, "{name}", "erp-connector-prod", 1)
			var body io.Reader
			contentType := "application/json"
			if row.request != nil {
				p, b := row.request(t, f)
				path, body = p, strings.NewReader(b)
			} else if rt.Method == http.MethodPost {
				body = strings.NewReader(url.Values{"grant_type": {httpapi.GrantTokenExchange}, "audience": {"erp-connector-prod"}}.Encode())
				contentType = "application/x-www-form-urlencoded"
			}
			req, _ := http.NewRequest(rt.Method, f.srv.URL+path, body)
			if body != nil {
				req.Header.Set("Content-Type", contentType)
			}
			callers[caller](req)
			resp, err := f.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			msg, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != row.want[caller] {
				t.Errorf("%s as %s: status %d, want %d: %s", key, caller, resp.StatusCode, row.want[caller], msg)
			}
		}
	}
	for key := range want {
		t.Errorf("matrix row %s names no route", key)
	}
}

func TestMetrics(t *testing.T) {
	f := newFixture(t)
	f.postToken(t, tokenForm("erp-connector-prod", f.issuer.token(t, prodSub, "production", nil)))
	f.postToken(t, tokenForm("erp-connector-prod", f.issuer.token(t, prodSub, "production", nil)))
	f.postToken(t, tokenForm("erp-connector-prod", f.issuer.token(t, otherSub, "production", nil)))
	req, _ := http.NewRequest(http.MethodGet, f.srv.URL+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+auditorTok)
	resp, err := f.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`steward_broker_decisions_total{outcome="allowed"} 2`,
		`steward_broker_decisions_total{outcome="denied"} 1`,
		`steward_broker_cache_requests_total{result="hit"} 1`,
		`steward_broker_cache_requests_total{result="miss"} 1`,
		`steward_broker_upstream_exchange_duration_seconds_count 1`,
		`steward_audit_append_duration_seconds_count 3`,
		`steward_http_requests_total{code="200",route="POST /v1/token"} 2`,
	} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// TestClientTokenSource uses the public client package against the real
// API and queries the org with the token it gets.
func TestClientTokenSource(t *testing.T) {
	f := newFixture(t)
	src := client.Config{
		BrokerURL: f.srv.URL, Identity: "erp-connector-prod", HTTPClient: f.client,
		SubjectToken: func(context.Context) (string, error) { return f.issuer.token(t, prodSub, "production", nil), nil },
	}.TokenSource(context.Background())
	tok, err := src.Token()
	if err != nil {
		t.Fatal(err)
	}
	if client.InstanceURL(tok) == "" || time.Until(tok.Expiry) < 10*time.Minute {
		t.Errorf("token instance %q, expiry in %s", client.InstanceURL(tok), time.Until(tok.Expiry))
	}
	orgClient := &http.Client{Transport: &oauth2.Transport{Source: src, Base: f.orgClient.Transport}}
	resp, err := orgClient.Get(f.orgURL + "/services/data/v67.0/limits")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("org answered %d to the brokered token", resp.StatusCode)
	}
	_, err = client.Config{
		BrokerURL: f.srv.URL, Identity: "erp-connector-prod", HTTPClient: f.client,
		SubjectToken: func(context.Context) (string, error) { return f.issuer.token(t, otherSub, "production", nil), nil },
	}.TokenSource(context.Background()).Token()
	var be *client.Error
	if !errors.As(err, &be) || be.Code != "unauthorized_client" {
		t.Errorf("wrong workload through the client: %v", err)
	}
}

func (f *fixture) admin(t *testing.T, method, path string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, f.srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+adminTok)
	resp, err := f.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func TestKillSwitch(t *testing.T) {
	f := newFixture(t)
	// Every request in the same second of the API's clock: the decision
	// remembered for a grant must not outlive a kill, nor a kill its lift.
	f.frozen.Store(time.Now().UnixNano())
	jwt := f.issuer.token(t, prodSub, "production", nil)
	status, granted, _ := f.postToken(t, tokenForm("erp-connector-prod", jwt))
	if status != http.StatusOK {
		t.Fatalf("grant: %d %+v", status, granted)
	}
	orgStatus := func(tok string) int {
		req, _ := http.NewRequest(http.MethodGet, f.orgURL+"/services/data/v67.0/limits", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := f.orgClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if orgStatus(granted.AccessToken) != http.StatusOK {
		t.Fatal("the granted token does not work")
	}

	code, res := f.admin(t, http.MethodPost, "/v1/identities/erp-connector-prod/kill")
	if code != http.StatusOK || res["killed"] != true || res["revoked"] != float64(1) {
		t.Fatalf("kill: %d %v", code, res)
	}
	// Issuance is blocked, and the token handed out no longer works.
	status, out, _ := f.postToken(t, tokenForm("erp-connector-prod", jwt))
	if status != http.StatusForbidden || !strings.Contains(out.Description, "identity_killed") {
		t.Errorf("after the kill: %d %+v, want 403 identity_killed", status, out)
	}
	if s := orgStatus(granted.AccessToken); s != http.StatusUnauthorized {
		t.Errorf("the org answers %d to the token handed out before the kill, want 401", s)
	}
	// The kill survives a restart.
	api, err := f.api()
	if err != nil {
		t.Fatal(err)
	}
	f.srv.Config.Handler = api
	status, _, _ = f.postToken(t, tokenForm("erp-connector-prod", jwt))
	if status != http.StatusForbidden {
		t.Errorf("after a restart: %d, want the kill to hold", status)
	}
	// Lifting it lets tokens out again, freshly exchanged.
	if code, res := f.admin(t, http.MethodDelete, "/v1/identities/erp-connector-prod/kill"); code != http.StatusOK || res["killed"] != false {
		t.Fatalf("lift: %d %v", code, res)
	}
	status, again, _ := f.postToken(t, tokenForm("erp-connector-prod", jwt))
	if status != http.StatusOK || again.AccessToken == granted.AccessToken {
		t.Errorf("after the lift: %d, new token %t", status, again.AccessToken != granted.AccessToken)
	}
	// All of it is in the audit log.
	var actions []string
	f.db.AuditRecords(context.Background(), 0, func(r store.AuditRecord) error {
		for _, a := range []string{`"broker.kill"`, `"broker.kill.lift"`} {
			if strings.Contains(string(r.Body), a) {
				actions = append(actions, a)
			}
		}
		return nil
	})
	if len(actions) != 2 {
		t.Errorf("audited kill actions %v, want the kill and the lift", actions)
	}
}

// TestKillReachesOtherReplica kills on one replica and checks that another
// replica on the same kill switches, which read none at start, stops
// issuing within its sync interval, and lets tokens out again after a lift.
func TestKillReachesOtherReplica(t *testing.T) {
	f := newFixture(t)
	a := f.srv.Config.Handler
	b, err := f.api()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const every = 20 * time.Millisecond
	go b.SyncKills(ctx, every)
	jwt := f.issuer.token(t, prodSub, "production", nil)
	// waitFor asks replica b for a token until it answers want.
	waitFor := func(want int) {
		t.Helper()
		deadline := time.Now().Add(every + 10*time.Second)
		for {
			f.srv.Config.Handler = b
			status, _, _ := f.postToken(t, tokenForm("erp-connector-prod", jwt))
			f.srv.Config.Handler = a
			if status == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("replica b still answers %d, want %d", status, want)
			}
			time.Sleep(every / 4)
		}
	}
	waitFor(http.StatusOK)
	if code, res := f.admin(t, http.MethodPost, "/v1/identities/erp-connector-prod/kill"); code != http.StatusOK {
		t.Fatalf("kill on replica a: %d %v", code, res)
	}
	waitFor(http.StatusForbidden)
	if code, res := f.admin(t, http.MethodDelete, "/v1/identities/erp-connector-prod/kill"); code != http.StatusOK {
		t.Fatalf("lift on replica a: %d %v", code, res)
	}
	waitFor(http.StatusOK)
}
