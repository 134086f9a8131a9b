package salesforce

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestTokenExchange(t *testing.T) {
	t.Parallel()
	for _, basic := range []bool{false, true} {
		t.Run(map[bool]string{false: "form", true: "basic"}[basic], func(t *testing.T) {
			t.Parallel()
			o := newFakeOrg(t)
			var gotBasic bool
			var gotForm []string
			o.tokenHook = func(w http.ResponseWriter, r *http.Request) {
				_, _, gotBasic = r.BasicAuth()
				r.ParseForm()
				for k := range r.PostForm {
					gotForm = append(gotForm, k)
				}
				o.token(w, r)
			}
			c, _, logBuf := testClient(t, o, func(cfg *Config) { cfg.BasicAuth = basic })
			tok, err := c.Token(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if gotBasic != basic {
				t.Errorf("Basic header sent = %v, want %v", gotBasic, basic)
			}
			wantFields := 3
			if basic {
				wantFields = 1
			}
			if len(gotForm) != wantFields {
				t.Errorf("form fields %v, want %d", gotForm, wantFields)
			}
			if !strings.HasPrefix(tok.AccessToken, "00DS7000000oxzo!AR8AQ.minted-1") {
				t.Errorf("AccessToken = %q", tok.AccessToken)
			}
			if got, want := tok.IssuedAt, time.UnixMilli(1678833535086).UTC(); !got.Equal(want) {
				t.Errorf("IssuedAt = %v, want %v", got, want)
			}
			if tok.TokenFormat != "opaque" || tok.TokenType != "Bearer" || tok.InstanceURL != "https://instance_name.my.salesforce.com" ||
				tok.ID != "https://login.salesforce.com/id/00Dd000000XXXXXXX/005d000000XXXXX" {
				t.Errorf("token fields: %+v", *tok)
			}
			again, err := c.Token(context.Background())
			if err != nil || again != tok || o.mintCount() != 1 {
				t.Errorf("second Token() minted again: %v, mints %d", err, o.mintCount())
			}
			js, _ := json.Marshal(tok)
			assertNoSecret(t, "token JSON", string(js))
			assertNoSecret(t, "log", logBuf.String())
		})
	}
}

func TestParseIssuedAt(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    time.Time
		wantErr bool
	}{
		{"1678833535086", time.UnixMilli(1678833535086).UTC(), false},
		{"1678833535", time.Unix(1678833535, 0).UTC(), false},
		{"", time.Time{}, false},
		{"soon", time.Time{}, true},
		{"-5", time.Time{}, true},
	}
	for _, tt := range tests {
		got, err := parseIssuedAt(tt.in)
		if (err != nil) != tt.wantErr || !got.Equal(tt.want) {
			t.Errorf("parseIssuedAt(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

// TestTokenErrors replays every token-endpoint error of the reference.
func TestTokenErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file     string
		code     string
		sentinel error
		hint     string
	}{
		{"wrong-domain", "invalid_grant", ErrInvalidGrant, "My Domain"},
		{"no-run-as", "invalid_grant", ErrInvalidGrant, "Run As user"},
		{"unknown-client", "invalid_client_id", ErrInvalidClientID, "consumer key is unknown"},
		{"wrong-secret", "invalid_client", ErrInvalidClient, "consumer secret"},
		{"no-scopes", "invalid_grant", ErrInvalidGrant, "scope"},
		{"unsupported-grant", "unsupported_grant_type", ErrUnsupportedGrantType, "form-encoded"},
		{"auth-failure", "invalid_grant", ErrInvalidGrant, ""},
		{"scope-param", "invalid_request", ErrInvalidRequest, ""},
		{"cc-disabled", "invalid_client", ErrInvalidClient, "client-credentials flow"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			o := newFakeOrg(t)
			o.tokenHook = serveFixture(t, http.StatusBadRequest, "token/"+tt.file+".json")
			c, s, logBuf := testClient(t, o)
			_, err := c.Token(context.Background())
			var oe *OAuthError
			if !errors.As(err, &oe) {
				t.Fatalf("error %v (%T), want *OAuthError", err, err)
			}
			if oe.Code != tt.code || oe.Status != http.StatusBadRequest || oe.Description == "" {
				t.Errorf("OAuthError = %+v", *oe)
			}
			if !errors.Is(err, tt.sentinel) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.sentinel)
			}
			for _, other := range []error{ErrInvalidGrant, ErrInvalidClient, ErrInvalidClientID, ErrUnsupportedGrantType, ErrInvalidRequest} {
				if other != tt.sentinel && errors.Is(err, other) {
					t.Errorf("errors.Is(%v, %v) = true", err, other)
				}
			}
			if !strings.Contains(err.Error(), "POST /services/oauth2/token") || (tt.hint != "" && !strings.Contains(err.Error(), tt.hint)) {
				t.Errorf("error %q lacks the endpoint or hint %q", err, tt.hint)
			}
			if len(s.waits()) != 0 {
				t.Errorf("a 400 was retried: %v", s.waits())
			}
			assertNoSecret(t, "error", err.Error())
			assertNoSecret(t, "log", logBuf.String())
		})
	}
}

// TestTokenRealCredentialChecks runs the fake's own credential checks.
func TestTokenRealCredentialChecks(t *testing.T) {
	t.Parallel()
	o := newFakeOrg(t)
	for _, basic := range []bool{false, true} {
		c, _, _ := testClient(t, o, func(cfg *Config) { cfg.ClientSecret = "wrong-secret-value"; cfg.BasicAuth = basic })
		_, err := c.Token(context.Background())
		if !errors.Is(err, ErrInvalidClient) {
			t.Errorf("basic=%v: error %v, want invalid_client", basic, err)
		}
		if err != nil && strings.Contains(err.Error(), "wrong-secret-value") {
			t.Errorf("error holds the secret: %v", err)
		}
	}
}

func TestTokenUnusableResponses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		handler http.HandlerFunc
		want    string
	}{
		{"html 403", serveFixture(t, http.StatusForbidden, "rest/error-page.html"), `HTTP 403: got an HTML page (text/html) instead of JSON titled "Service Unavailable"`},
		{"redirect", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "https://login.salesforce.com/?startURL=%2Fsecret&ec=302", http.StatusFound)
		}, "HTTP 302: redirected to https://login.salesforce.com/"},
		{"no access token", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"token_type":"Bearer"}`)) }, "no access_token"},
		{"truncated", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"access_token":"00Dx!abc`)) }, "cut short"},
		{"wrong type", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"access_token":42}`)) }, "access_token is a JSON number"},
		{"bad issued_at", func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"access_token":"00Dx!abcdefgh","issued_at":"yesterday"}`))
		}, "issued_at"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := newFakeOrg(t)
			o.tokenHook = tt.handler
			c, _, _ := testClient(t, o)
			_, err := c.Token(context.Background())
			if !errors.Is(err, ErrUnexpectedResponse) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want ErrUnexpectedResponse containing %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "startURL") {
				t.Errorf("error quotes the redirect's query: %v", err)
			}
		})
	}
}

// TestTokenSingleFlight makes many concurrent first calls and checks that
// they share one exchange.
func TestTokenSingleFlight(t *testing.T) {
	t.Parallel()
	o := newFakeOrg(t)
	o.mintGate = make(chan struct{})
	o.route("GET /services/data/v67.0/limits", serveFixture(t, http.StatusOK, "rest/limits.json"))
	c, _, _ := testClient(t, o)
	const n = 16
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			_, err := c.Limits(context.Background())
			errs <- err
		})
	}
	// Let the callers pile up on the one exchange, then release it.
	for o.hit("POST "+tokenPath) == 0 {
		time.Sleep(time.Millisecond)
	}
	close(o.mintGate)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if got := o.mintCount(); got != 1 {
		t.Errorf("%d token exchanges, want 1", got)
	}
}

func TestRevokeAndIntrospect(t *testing.T) {
	t.Parallel()
	o := newFakeOrg(t)
	o.route("GET /services/data/v67.0/limits", serveFixture(t, http.StatusOK, "rest/limits.json"))
	var introspectAuth bool
	o.route("POST "+introspectPath, func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		introspectAuth = r.PostForm.Get("client_secret") == testSecret && r.PostForm.Get("token_type_hint") == "access_token"
		o.mu.Lock()
		active := o.valid[r.PostForm.Get("token")]
		o.mu.Unlock()
		if active {
			writeFixture(t, w, http.StatusOK, "token/introspect-active.json")
			return
		}
		writeFixture(t, w, http.StatusOK, "token/introspect-inactive.json")
	})
	o.route("POST "+revokePath, func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		tok := r.PostForm.Get("token")
		o.mu.Lock()
		ok := o.valid[tok]
		delete(o.valid, tok)
		o.mu.Unlock()
		if !ok {
			writeFixture(t, w, http.StatusBadRequest, "token/revoke-invalid.json")
		}
	})
	c, _, logBuf := testClient(t, o)
	ctx := context.Background()
	tok, err := c.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	in, err := c.Introspect(ctx, tok.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if !introspectAuth || !in.Active || in.Username != "integration@example.com" || in.Expires().Unix() != 1528502109 {
		t.Errorf("introspection = %+v (client authenticated: %v)", *in, introspectAuth)
	}
	if err := c.Revoke(ctx, tok.AccessToken); err != nil {
		t.Fatal(err)
	}
	if in, err := c.Introspect(ctx, tok.AccessToken); err != nil || in.Active {
		t.Errorf("after revoke: %+v, %v; want inactive", in, err)
	}
	err = c.Revoke(ctx, tok.AccessToken)
	if !errors.Is(err, ErrInvalidToken) {
		t.Errorf("second revoke: %v, want invalid_token", err)
	}
	assertNoSecret(t, "error", err.Error())
	// The revoked token was the client's: the next call mints a new one
	// without a rejected request first.
	if _, err := c.Limits(ctx); err != nil {
		t.Fatal(err)
	}
	if o.mintCount() != 2 || o.hit("GET /services/data/v67.0/limits") != 1 {
		t.Errorf("mints %d, limits calls %d; want 2 and 1", o.mintCount(), o.hit("GET /services/data/v67.0/limits"))
	}
	assertNoSecret(t, "log", logBuf.String())
}

// TestConcurrentRemint expires the session under many concurrent callers:
// they share one new token.
func TestConcurrentRemint(t *testing.T) {
	t.Parallel()
	o := newFakeOrg(t)
	o.route("GET /services/data/v67.0/limits", serveFixture(t, http.StatusOK, "rest/limits.json"))
	c, _, _ := testClient(t, o)
	ctx := context.Background()
	if _, err := c.Limits(ctx); err != nil {
		t.Fatal(err)
	}
	o.expireAll()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := c.Limits(ctx); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := o.mintCount(); got != 2 {
		t.Errorf("%d token exchanges, want 2 (the first and one shared re-mint)", got)
	}
}
