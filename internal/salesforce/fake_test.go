package salesforce

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Credentials the fake org accepts. The secret and the tokens are long and
// distinctive so that tests can search every output for them.
const (
	testClientID = "3MVG9OhbVrpoiVgRV5IfLBcbfnoGMbJmTPSIAoCLrZ3aWZkSBvrjn9Wvgfygw2wMqZcUDIh7yfJs1ON43xK.x"
	testSecret   = "SECRETa81f0c2e7d4b4f9bb3c1d0e5f6a7b8c9"
	// fixtureToken is the access_token value in testdata/token/success.json;
	// the fake swaps in a fresh value per mint.
	fixtureToken = "00DS7000000oxzo!AR8AQ.fake-token-value-for-tests-1"
)

// fakeOrg is a loopback server replaying the reference's wire shapes from
// testdata. Tests add API routes; the OAuth endpoints and bearer checks are
// built in.
type fakeOrg struct {
	t   testing.TB
	srv *httptest.Server

	mu        sync.Mutex
	mints     int
	valid     map[string]bool // access tokens currently accepted
	hits      map[string]int  // requests by "METHOD /path"
	limitInfo string          // Sforce-Limit-Info on API responses, when set
	routes    map[string]http.HandlerFunc
	// tokenHook, when set, answers the token endpoint instead.
	tokenHook http.HandlerFunc
	// mintGate, when set, is waited on before a token is issued.
	mintGate chan struct{}
}

func newFakeOrg(t testing.TB) *fakeOrg {
	t.Helper()
	o := &fakeOrg{t: t, valid: map[string]bool{}, hits: map[string]int{}, routes: map[string]http.HandlerFunc{}}
	o.srv = httptest.NewServer(http.HandlerFunc(o.serve))
	t.Cleanup(o.srv.Close)
	return o
}

// route registers a handler for "METHOD /path" that runs after the bearer
// check.
func (o *fakeOrg) route(key string, h http.HandlerFunc) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.routes[key] = h
}

func (o *fakeOrg) hit(key string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.hits[key]
}

func (o *fakeOrg) mintCount() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.mints
}

// expireAll makes every issued token invalid, as a session timeout would.
func (o *fakeOrg) expireAll() {
	o.mu.Lock()
	defer o.mu.Unlock()
	clear(o.valid)
}

func (o *fakeOrg) serve(w http.ResponseWriter, r *http.Request) {
	key := r.Method + " " + r.URL.Path
	o.mu.Lock()
	o.hits[key]++
	h := o.routes[key]
	hook := o.tokenHook
	o.mu.Unlock()
	switch r.URL.Path {
	case tokenPath:
		if hook != nil {
			hook(w, r)
			return
		}
		o.token(w, r)
		return
	case revokePath, introspectPath, "/services/data/":
		if h == nil {
			http.NotFound(w, r)
			return
		}
		h(w, r)
		return
	}
	if !o.authorized(r) {
		o.sendAuthFailure(w, r)
		return
	}
	o.mu.Lock()
	if o.limitInfo != "" {
		w.Header().Set("Sforce-Limit-Info", o.limitInfo)
	}
	o.mu.Unlock()
	if h == nil {
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `[{"message":"The requested resource does not exist","errorCode":"NOT_FOUND"}]`)
		return
	}
	h(w, r)
}

// authorized checks the bearer token, or the SOAP session ID.
func (o *fakeOrg) authorized(r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if strings.HasPrefix(r.URL.Path, "/services/Soap/m/") {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		env, err := parseEnvelope(body)
		if err != nil {
			return false
		}
		tok, ok = env.Session, true
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	return ok && o.valid[tok]
}

func (o *fakeOrg) sendAuthFailure(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/services/Soap/m/") {
		w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
		w.WriteHeader(http.StatusInternalServerError)
		w.Write(fixture(o.t, "soap/fault-invalid-session.xml"))
		return
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Header().Set("WWW-Authenticate", "Token")
	w.WriteHeader(http.StatusUnauthorized)
	w.Write(fixture(o.t, "rest/invalid-session.json"))
}

// token implements the client-credentials grant over the fixture response.
func (o *fakeOrg) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		writeFixture(o.t, w, http.StatusBadRequest, "token/unsupported-grant.json")
		return
	}
	if r.PostForm.Get("grant_type") != "client_credentials" {
		writeFixture(o.t, w, http.StatusBadRequest, "token/unsupported-grant.json")
		return
	}
	id, secret, basic := r.BasicAuth()
	if !basic {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	} else if r.PostForm.Has("client_secret") {
		o.t.Errorf("token request sent the secret in both the header and the body")
	}
	switch {
	case id != testClientID:
		writeFixture(o.t, w, http.StatusBadRequest, "token/unknown-client.json")
		return
	case secret != testSecret:
		writeFixture(o.t, w, http.StatusBadRequest, "token/wrong-secret.json")
		return
	}
	o.mu.Lock()
	gate := o.mintGate
	o.mu.Unlock()
	if gate != nil {
		<-gate
	}
	o.mu.Lock()
	o.mints++
	tok := fmt.Sprintf("00DS7000000oxzo!AR8AQ.minted-%d-%s", o.mints, strings.Repeat("x", 20))
	o.valid[tok] = true
	o.mu.Unlock()
	body := bytes.Replace(fixture(o.t, "token/success.json"), []byte(fixtureToken), []byte(tok), 1)
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Write(body)
}

// fixture reads a file under testdata.
func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// writeFixture answers with a testdata file and the content type its
// extension implies.
func writeFixture(t testing.TB, w http.ResponseWriter, status int, name string) {
	ct := "application/json;charset=UTF-8"
	switch filepath.Ext(name) {
	case ".xml":
		ct = "text/xml;charset=UTF-8"
	case ".html":
		ct = "text/html;charset=UTF-8"
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(status)
	w.Write(fixture(t, name))
}

// serveFixture returns a handler answering with a testdata file.
func serveFixture(t testing.TB, status int, name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { writeFixture(t, w, status, name) }
}

// sleeps records the waits a client would have slept.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) waits() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

// testClient returns a client for the fake org whose retry waits are
// recorded, never slept, and whose log goes to logBuf.
func testClient(t testing.TB, o *fakeOrg, mutate ...func(*Config)) (*Client, *sleeps, *bytes.Buffer) {
	t.Helper()
	var logBuf bytes.Buffer
	cfg := Config{
		URL: o.srv.URL, ClientID: testClientID, ClientSecret: testSecret,
		HTTPClient: o.srv.Client(),
		Logger:     slog.New(slog.NewTextHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	for _, m := range mutate {
		m(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := &sleeps{}
	c.sleep = s.sleep
	return c, s, &logBuf
}

// assertNoSecret fails when s holds the consumer secret or an access token.
func assertNoSecret(t testing.TB, what, s string) {
	t.Helper()
	for _, bad := range []string{testSecret, "AR8AQ.minted-", fixtureToken} {
		if strings.Contains(s, bad) {
			t.Errorf("%s contains a secret (%q): %s", what, bad, s)
		}
	}
}
