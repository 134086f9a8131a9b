package cli

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/steward-dev/steward/internal/repotest"
	"github.com/steward-dev/steward/internal/salesforce/fakeorg"
	"github.com/steward-dev/steward/internal/store"
	"github.com/steward-dev/steward/internal/store/storetest"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// served is a 'steward serve' run by a test.
type served struct {
	url            string
	stdout, stderr *syncBuffer
	stopOnce       sync.Once
	stopServe      func()
}

// stop stops serve and waits for it, reporting an exit code other than 0.
// Calls after the first do nothing.
func (s *served) stop() { s.stopOnce.Do(s.stopServe) }

// startServe runs 'steward serve' with config in e's store, on the real
// clock, until the test ends or stop is called, and returns once it
// listens.
func startServe(t *testing.T, e *storeEnv, config string) *served {
	t.Helper()
	s := &served{stdout: &syncBuffer{}, stderr: &syncBuffer{}}
	env := Env{
		Stdin: strings.NewReader(""), Stdout: s.stdout, Stderr: s.stderr,
		Getenv: func(k string) string { return e.vars[k] }, Now: time.Now, IsTerminal: func(io.Writer) bool { return false },
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- Main(ctx, []string{"serve", "--config", config}, env) }()
	s.stopServe = func() {
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("serve exited %d:\n%s", code, s.stderr.String())
			}
		case <-time.After(30 * time.Second):
			t.Error("serve did not stop")
		}
	}
	t.Cleanup(s.stop)
	addr := regexp.MustCompile(`listening on (https://\S+)`)
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if m := addr.FindStringSubmatch(s.stdout.String()); m != nil {
			s.url = m[1]
			return s
		}
		select {
		case code := <-done:
			done <- code // for stop
			t.Fatalf("serve exited %d:\n%s", code, s.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start:\n%s", s.stderr.String())
		}
	}
}

// testIssuer is a local OIDC issuer for workload tokens: an ES256 key and a
// JWKS server publishing it, on loopback until the test ends.
type testIssuer struct {
	key *ecdsa.PrivateKey
	url string
}

func newTestIssuer(t *testing.T) *testIssuer {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: "k1", Algorithm: "ES256", Use: "sig"}}})
	}))
	t.Cleanup(jwks.Close)
	return &testIssuer{key: key, url: jwks.URL}
}

// jwt signs a token for the ERP workload of serveManifest, audience
// steward, valid for ttl from now.
func (i *testIssuer) jwt(t *testing.T, ttl time.Duration) string {
	t.Helper()
	now := time.Now()
	jwt, err := signJWT(i.key, "k1", map[string]any{"iss": i.url, "sub": "repo:acme/erp:environment:prod", "aud": "steward", "iat": now.Unix(), "exp": now.Add(ttl).Unix()})
	if err != nil {
		t.Fatal(err)
	}
	return jwt
}

const serveManifest = `apiVersion: steward.dev/v1alpha1
kind: Team
metadata: {name: erp}
spec:
  members: [kim@acme.example]
---
apiVersion: steward.dev/v1alpha1
kind: Identity
metadata:
  name: erp-connector-prod
spec:
  service: erp-connector
  owner: erp
  environment: production
  criticality: high
  purpose: Post orders from the ERP
  salesforce:
    url: https://acme.my.salesforce.com
    app: Erp_Connector
    runAs: erp.integration@acme.example
  credential:
    secret: erp-connector-prod
  consumers:
    - oidc: {issuer: %s, subject: "repo:acme/erp:environment:prod"}
`

// TestServe runs 'steward serve' against an emulated org, a local issuer and
// a store filled by 'steward secret put', and exchanges a JWT for a token.
// TestServe runs the broker on SQLite and, when a server is available, on
// PostgreSQL, where it shares its tokens sealed in the database.
func TestServe(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testServe(t, "") })
	t.Run("postgres", func(t *testing.T) { testServe(t, storetest.PostgresDSN(t)) })
}

func testServe(t *testing.T, dsn string) {
	e := newStoreEnv(t)
	if dsn != "" {
		e.vars[envPostgresDSN] = dsn
	}
	sc, err := fakeorg.LoadScenario(filepath.Join(repotest.Root(t), "examples/acme/org/scenario.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	org, err := fakeorg.New(sc, fakeorg.Options{})
	if err != nil {
		t.Fatal(err)
	}
	orgTS := httptest.NewTLSServer(org)
	defer orgTS.Close()
	caFile := filepath.Join(e.dir, "org-ca.pem")
	os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: orgTS.Certificate().Raw}), 0o600)
	id, secret, _ := sc.Credentials("Erp_Connector")
	e.must(fmt.Sprintf(`{"url": %q, "consumerKey": %q, "consumerSecret": %q}`, orgTS.URL, id, secret), "secret", "put", "erp-connector-prod")

	issuer := newTestIssuer(t)
	inv := filepath.Join(e.dir, "inventory")
	os.MkdirAll(inv, 0o755)
	os.WriteFile(filepath.Join(inv, "erp.yaml"), []byte(fmt.Sprintf(serveManifest, issuer.url)), 0o600)
	config := filepath.Join(e.dir, "steward.yaml")
	os.WriteFile(config, []byte(fmt.Sprintf(`listen: 127.0.0.1:0
inventory: [%s]
upstream: {caFile: %s, maxRetries: -1}
issuers:
  - {issuer: %s, jwksURL: %s, audiences: [steward], environment: production}
`, inv, caFile, issuer.url, issuer.url)), 0o600)
	e.vars["STEWARD_DEV"] = "true"
	e.vars["STEWARD_ADMIN_TOKEN"] = strings.Repeat("a1", 20)

	srv := startServe(t, e, config)
	base := srv.url
	jwt := issuer.jwt(t, 5*time.Minute)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err := client.PostForm(base+"/v1/token", url.Values{
		"grant_type": {"urn:ietf:params:oauth:grant-type:token-exchange"}, "subject_token": {jwt}, "audience": {"erp-connector-prod"},
	})
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
		Error       string `json:"error_description"`
	}
	json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || out.AccessToken == "" {
		t.Errorf("token: %d %+v\n%s", resp.StatusCode, out, srv.stderr.String())
	}

	if dsn != "" {
		// Replicas on PostgreSQL share the token, sealed.
		db, err := store.OpenPostgres(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		st, err := db.SharedToken(context.Background(), "erp-connector-prod")
		db.Close()
		if err != nil || len(st.Ciphertext) == 0 || bytes.Contains(st.Ciphertext, []byte(out.AccessToken)) {
			t.Errorf("shared token: %v; want one stored sealed", err)
		}
	}

	// steward kill: issuance stops, the token handed out is revoked.
	code, killOut, killErr := e.run("", "kill", "erp-connector-prod", "--broker", base, "--insecure")
	if code != 0 || !strings.Contains(killOut, "killed erp-connector-prod: issuance blocked, 1 token(s) revoked") {
		t.Errorf("kill: exit %d\n%s%s", code, killOut, killErr)
	}
	resp, err = client.PostForm(base+"/v1/token", url.Values{
		"grant_type": {"urn:ietf:params:oauth:grant-type:token-exchange"}, "subject_token": {jwt}, "audience": {"erp-connector-prod"},
	})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("token after kill: %d, want 403", resp.StatusCode)
	}
	if code, out, _ := e.run("", "kill", "erp-connector-prod", "--lift", "--broker", base, "--insecure", "-o", "json"); code != 0 || !strings.Contains(out, `"killed":false`) {
		t.Errorf("lift: exit %d %s", code, out)
	}
	if code, _, errOut := e.run("", "kill", "nobody", "--broker", base, "--insecure"); code != 2 || !strings.Contains(errOut, "no identity named nobody") {
		t.Errorf("kill of an unknown identity: exit %d %s", code, errOut)
	}
	wrong := filepath.Join(e.dir, "wrong.token")
	os.WriteFile(wrong, []byte(strings.Repeat("b2", 20)), 0o600)
	if code, _, errOut := e.run("", "kill", "erp-connector-prod", "--broker", base, "--insecure", "--token-file", wrong); code != 2 || !strings.Contains(errOut, "admin token") {
		t.Errorf("kill with a wrong token: exit %d %s, want 2", code, errOut)
	}

	srv.stop()
	logs := srv.stderr.String()
	for _, leak := range []string{secret, out.AccessToken, jwt, strings.Repeat("a1", 20)} {
		if leak != "" && strings.Contains(logs+srv.stdout.String(), leak) {
			t.Error("serve's output holds a secret, token or JWT")
		}
	}
}
