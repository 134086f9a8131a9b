package workload

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

const (
	testIssuer   = "https://issuer.test"
	testAudience = "steward"
)

// signingKey is a key pair made for one test.
type signingKey struct {
	kid  string
	alg  jose.SignatureAlgorithm
	priv crypto.Signer
}

func newKey(t testing.TB, kid string, alg jose.SignatureAlgorithm) signingKey {
	t.Helper()
	var priv crypto.Signer
	var err error
	switch alg {
	case jose.RS256:
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	case jose.ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case jose.EdDSA:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	default:
		t.Fatalf("no key type for %s", alg)
	}
	if err != nil {
		t.Fatal(err)
	}
	return signingKey{kid: kid, alg: alg, priv: priv}
}

// jwk is the public half as a JWK.
func (k signingKey) jwk() jose.JSONWebKey {
	return jose.JSONWebKey{Key: k.priv.Public(), KeyID: k.kid, Algorithm: string(k.alg), Use: "sig"}
}

// sign makes a token with the given claims.
func (k signingKey) sign(t testing.TB, claims map[string]any) string {
	t.Helper()
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: jose.JSONWebKey{Key: k.priv, KeyID: k.kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(sig).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// claimsAt are valid claims for a token issued at now.
func claimsAt(now time.Time) map[string]any {
	return map[string]any{
		"iss":         testIssuer,
		"sub":         "repo:acme/billing:environment:prod",
		"aud":         testAudience,
		"iat":         now.Unix(),
		"nbf":         now.Unix(),
		"exp":         now.Add(5 * time.Minute).Unix(),
		"environment": "production",
	}
}

// jwksServer serves a JWK Set on loopback that a test can change or break.
type jwksServer struct {
	*httptest.Server
	mu    sync.Mutex
	keys  []jose.JSONWebKey
	down  bool
	hits  atomic.Int64
	delay time.Duration
}

func newJWKSServer(t testing.TB, keys ...signingKey) *jwksServer {
	s := &jwksServer{}
	s.setKeys(keys...)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		s.mu.Lock()
		down, delay := s.down, s.delay
		set := jose.JSONWebKeySet{Keys: s.keys}
		s.mu.Unlock()
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
				return
			}
		}
		if down {
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(set)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) setKeys(keys ...signingKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = nil
	for _, k := range keys {
		s.keys = append(s.keys, k.jwk())
	}
}

func (s *jwksServer) setDown(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newVerifier(t testing.TB, cfg IssuerConfig, opts OIDCOptions) *OIDCVerifier {
	t.Helper()
	if cfg.Issuer == "" {
		cfg.Issuer = testIssuer
	}
	if cfg.Audiences == nil {
		cfg.Audiences = []string{testAudience}
	}
	v, err := NewOIDCVerifier([]IssuerConfig{cfg}, opts)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestVerifyAcceptsEachAlgorithm(t *testing.T) {
	for _, alg := range []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA} {
		t.Run(string(alg), func(t *testing.T) {
			key := newKey(t, "k1", alg)
			srv := newJWKSServer(t, key)
			v := newVerifier(t, IssuerConfig{JWKSURL: srv.URL, EnvironmentClaim: "environment", Environment: "staging"}, OIDCOptions{})
			w, err := v.Verify(context.Background(), key.sign(t, claimsAt(time.Now())))
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if w.Method != MethodOIDC || w.Issuer != testIssuer || w.Subject != "repo:acme/billing:environment:prod" {
				t.Errorf("workload = %+v", w)
			}
			if w.Environment != "production" {
				t.Errorf("Environment = %q, want the claim's production", w.Environment)
			}
			if got := w.Claims["environment"]; got != "production" {
				t.Errorf("Claims[environment] = %v", got)
			}
			if len(w.Audience) != 1 || w.Audience[0] != testAudience {
				t.Errorf("Audience = %v", w.Audience)
			}
		})
	}
}

func TestVerifyEnvironmentValues(t *testing.T) {
	key := newKey(t, "k1", jose.ES256)
	v := newVerifier(t, IssuerConfig{JWKSURL: newJWKSServer(t, key).URL, EnvironmentClaim: "environment",
		EnvironmentValues: map[string]string{"prod": "production"}}, OIDCOptions{})
	for claim, want := range map[string]string{"prod": "production", "production": "", "qa": ""} {
		c := claimsAt(time.Now())
		c["environment"] = claim
		w, err := v.Verify(context.Background(), key.sign(t, c))
		if err != nil {
			t.Fatal(err)
		}
		if w.Environment != want {
			t.Errorf("claim %q: Environment = %q, want %q", claim, w.Environment, want)
		}
	}
}

func TestVerifyEnvironmentFallsBackToIssuer(t *testing.T) {
	key := newKey(t, "k1", jose.ES256)
	v := newVerifier(t, IssuerConfig{JWKSURL: newJWKSServer(t, key).URL, EnvironmentClaim: "deployment", Environment: "staging"}, OIDCOptions{})
	w, err := v.Verify(context.Background(), key.sign(t, claimsAt(time.Now())))
	if err != nil {
		t.Fatal(err)
	}
	if w.Environment != "staging" {
		t.Errorf("Environment = %q, want the issuer's staging", w.Environment)
	}
}

// unsigned builds a token by hand with the given header and claims.
func unsigned(header, claims map[string]any, sig string) string {
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	return enc(header) + "." + enc(claims) + "." + sig
}

func TestVerifyRefuses(t *testing.T) {
	now := time.Now()
	rsaKey := newKey(t, "rsa1", jose.RS256)
	ecKey := newKey(t, "ec1", jose.ES256)
	srv := newJWKSServer(t, rsaKey, ecKey)
	v := newVerifier(t, IssuerConfig{JWKSURL: srv.URL}, OIDCOptions{})
	ecOnly := newVerifier(t, IssuerConfig{JWKSURL: srv.URL, Algorithms: []string{"ES256"}}, OIDCOptions{})

	with := func(edit func(c map[string]any)) map[string]any {
		c := claimsAt(now)
		edit(c)
		return c
	}
	forger := newKey(t, "rsa1", jose.RS256) // same kid, other key

	// HS256 keyed with the issuer's public key, the classic confusion.
	der, err := x509.MarshalPKIXPublicKey(rsaKey.priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	hsSigner, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: jose.JSONWebKey{Key: pubPEM, KeyID: "rsa1"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	hsToken, err := jwt.Signed(hsSigner).Claims(claimsAt(now)).Serialize()
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name     string
		verifier *OIDCVerifier
		token    string
		want     string
	}{
		{"forged signature", v, forger.sign(t, claimsAt(now)), "signature does not verify"},
		{"tampered payload", v, tamper(t, rsaKey.sign(t, claimsAt(now))), "signature does not verify"},
		{"expired beyond skew", v, rsaKey.sign(t, with(func(c map[string]any) { c["exp"] = now.Add(-2 * time.Minute).Unix() })), "expired"},
		{"not yet valid", v, rsaKey.sign(t, with(func(c map[string]any) { c["nbf"] = now.Add(5 * time.Minute).Unix() })), "not valid yet"},
		{"issued in the future", v, rsaKey.sign(t, with(func(c map[string]any) { c["iat"] = now.Add(5 * time.Minute).Unix() })), "issued in the future"},
		{"wrong audience", v, rsaKey.sign(t, with(func(c map[string]any) { c["aud"] = "vault" })), "audience is not one of steward"},
		{"untrusted issuer", v, rsaKey.sign(t, with(func(c map[string]any) { c["iss"] = "https://evil.test" })), `issuer "https://evil.test" is not trusted`},
		{"issuer with trailing slash", v, rsaKey.sign(t, with(func(c map[string]any) { c["iss"] = testIssuer + "/" })), "is not trusted"},
		{"no exp", v, rsaKey.sign(t, with(func(c map[string]any) { delete(c, "exp") })), "no exp claim"},
		{"jti not a string", v, rsaKey.sign(t, with(func(c map[string]any) { c["jti"] = 7 })), "claims: json"},
		{"aud not a string", v, rsaKey.sign(t, with(func(c map[string]any) { c["aud"] = 7 })), "claims:"},
		{"no sub", v, rsaKey.sign(t, with(func(c map[string]any) { delete(c, "sub") })), "no sub claim"},
		{"alg none", v, unsigned(map[string]any{"alg": "none", "typ": "JWT"}, claimsAt(now), ""), "unexpected signature algorithm"},
		{"HS256 with the public key", v, hsToken, "unexpected signature algorithm"},
		{"algorithm not allowed for issuer", ecOnly, rsaKey.sign(t, claimsAt(now)), "algorithm RS256 is not allowed"},
		{"unknown kid", v, newKey(t, "other", jose.ES256).sign(t, claimsAt(now)), `no key with id "other"`},
		{"oversized", v, strings.Repeat("a", maxTokenBytes+1), "more than"},
		{"garbage", v, "not a token", "compact JWS format must have three parts"},
		{"empty", v, "", "empty input"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := tt.verifier.Verify(context.Background(), tt.token)
			if err == nil {
				t.Fatalf("Verify accepted the token: %+v", w)
			}
			if !errors.Is(err, ErrInvalidCredential) {
				t.Errorf("error %v does not wrap ErrInvalidCredential", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q, want it to mention %q", err, tt.want)
			}
			if len(tt.token) > 20 && strings.Contains(err.Error(), tt.token) {
				t.Errorf("error carries the token")
			}
		})
	}
}

// tamper changes the subject of a signed token, keeping the signature.
func tamper(t *testing.T, tok string) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	body, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	body = []byte(strings.Replace(string(body), "acme/billing", "acme/payroll", 1))
	parts[1] = base64.RawURLEncoding.EncodeToString(body)
	return strings.Join(parts, ".")
}

func TestVerifySkewIsBounded(t *testing.T) {
	key := newKey(t, "k1", jose.ES256)
	clk := &clock{t: time.Unix(1_800_000_000, 0)}
	v := newVerifier(t, IssuerConfig{JWKSURL: newJWKSServer(t, key).URL}, OIDCOptions{Skew: 30 * time.Second, Now: clk.now})
	c := claimsAt(clk.now())
	c["exp"] = clk.now().Add(-20 * time.Second).Unix() // expired, within skew
	if _, err := v.Verify(context.Background(), key.sign(t, c)); err != nil {
		t.Errorf("token 20 s past exp with 30 s skew: %v", err)
	}
	c["exp"] = clk.now().Add(-40 * time.Second).Unix()
	if _, err := v.Verify(context.Background(), key.sign(t, c)); err == nil {
		t.Error("token 40 s past exp with 30 s skew was accepted")
	}
}

func TestJWKSRotationAndRateLimit(t *testing.T) {
	a, b := newKey(t, "a", jose.ES256), newKey(t, "b", jose.ES256)
	srv := newJWKSServer(t, a)
	clk := &clock{t: time.Now()}
	v := newVerifier(t, IssuerConfig{JWKSURL: srv.URL}, OIDCOptions{MinRefresh: time.Minute, Now: clk.now})
	ctx := context.Background()

	if _, err := v.Verify(ctx, a.sign(t, claimsAt(clk.now()))); err != nil {
		t.Fatalf("key a: %v", err)
	}
	if got := srv.hits.Load(); got != 1 {
		t.Fatalf("fetches after first token = %d, want 1", got)
	}
	// Tokens naming unknown key ids fetch at most once per MinRefresh.
	srv.setKeys(a, b)
	stranger := newKey(t, "stranger", jose.ES256)
	for range 20 {
		if _, err := v.Verify(ctx, stranger.sign(t, claimsAt(clk.now()))); err == nil {
			t.Fatal("unknown key accepted")
		}
	}
	if got := srv.hits.Load(); got != 1 {
		t.Fatalf("fetches within MinRefresh = %d, want 1 (rate limited)", got)
	}
	// Once MinRefresh has passed, an unknown kid fetches the rotated set.
	clk.advance(2 * time.Minute)
	if _, err := v.Verify(ctx, b.sign(t, claimsAt(clk.now()))); err != nil {
		t.Fatalf("rotated key b: %v", err)
	}
	if got := srv.hits.Load(); got != 2 {
		t.Fatalf("fetches after rotation = %d, want 2", got)
	}
}

func TestJWKSConcurrentColdStartFetchesOnce(t *testing.T) {
	key := newKey(t, "k1", jose.ES256)
	srv := newJWKSServer(t, key)
	srv.delay = 50 * time.Millisecond
	v := newVerifier(t, IssuerConfig{JWKSURL: srv.URL}, OIDCOptions{})
	tok := key.sign(t, claimsAt(time.Now()))
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Go(func() {
			if _, err := v.Verify(context.Background(), tok); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Verify: %v", err)
	}
	if got := srv.hits.Load(); got != 1 {
		t.Errorf("fetches = %d, want 1", got)
	}
}

func TestJWKSOutage(t *testing.T) {
	key := newKey(t, "k1", jose.RS256)
	ctx := context.Background()

	t.Run("cached keys keep working", func(t *testing.T) {
		srv := newJWKSServer(t, key)
		clk := &clock{t: time.Now()}
		v := newVerifier(t, IssuerConfig{JWKSURL: srv.URL}, OIDCOptions{MaxKeyAge: time.Minute, Now: clk.now})
		if _, err := v.Verify(ctx, key.sign(t, claimsAt(clk.now()))); err != nil {
			t.Fatal(err)
		}
		srv.setDown(true)
		clk.advance(time.Hour) // the set is stale: a background fetch fails
		for range 3 {
			if _, err := v.Verify(ctx, key.sign(t, claimsAt(clk.now()))); err != nil {
				t.Fatalf("cached key during outage: %v", err)
			}
		}
	})
	t.Run("cold start fails closed", func(t *testing.T) {
		srv := newJWKSServer(t, key)
		srv.setDown(true)
		v := newVerifier(t, IssuerConfig{JWKSURL: srv.URL}, OIDCOptions{})
		_, err := v.Verify(ctx, key.sign(t, claimsAt(time.Now())))
		if err == nil {
			t.Fatal("token accepted with no keys")
		}
		for _, want := range []string{"no keys for this issuer yet", "fetch JWKS", "503"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error = %q, want it to mention %q", err, want)
			}
		}
		// The failure is remembered: no fetch storm while it lasts.
		_, err = v.Verify(ctx, key.sign(t, claimsAt(time.Now())))
		if err == nil || !strings.Contains(err.Error(), "unavailable, next fetch after") {
			t.Errorf("second error = %v, want the remembered failure", err)
		}
		if got := srv.hits.Load(); got != 1 {
			t.Errorf("fetches = %d, want 1", got)
		}
	})
	t.Run("unreachable", func(t *testing.T) {
		srv := newJWKSServer(t, key)
		url := srv.URL
		srv.Close()
		v := newVerifier(t, IssuerConfig{JWKSURL: url}, OIDCOptions{})
		if _, err := v.Verify(ctx, key.sign(t, claimsAt(time.Now()))); err == nil || !strings.Contains(err.Error(), "connection refused") {
			t.Errorf("error = %v, want connection refused", err)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		srv := newJWKSServer(t, key)
		srv.delay = 5 * time.Second
		v := newVerifier(t, IssuerConfig{JWKSURL: srv.URL}, OIDCOptions{FetchTimeout: 50 * time.Millisecond})
		if _, err := v.Verify(ctx, key.sign(t, claimsAt(time.Now()))); err == nil || !strings.Contains(err.Error(), "Timeout") {
			t.Errorf("error = %v, want a timeout", err)
		}
	})
}

func TestJWKSRefusesBadSets(t *testing.T) {
	key := newKey(t, "k1", jose.ES256)
	tests := []struct {
		name, body, want string
	}{
		{"symmetric key", `{"keys":[{"kty":"oct","kid":"k1","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0"}]}`, "private or symmetric"},
		{"not JSON", `<html>`, "parse JWK"},
		{"empty set", `{"keys":[]}`, "no public signing key"},
		{"too large", `{"keys":[],"pad":"` + strings.Repeat("x", maxJWKSBytes) + `"}`, "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				_, _ = w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			v := newVerifier(t, IssuerConfig{JWKSURL: srv.URL}, OIDCOptions{})
			_, err := v.Verify(context.Background(), key.sign(t, claimsAt(time.Now())))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestStaticKeys(t *testing.T) {
	dir := t.TempDir()
	rsaKey, edKey := newKey(t, "", jose.RS256), newKey(t, "ed", jose.EdDSA)
	der, err := x509.MarshalPKIXPublicKey(rsaKey.priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	pemFile := filepath.Join(dir, "keys.pem")
	writeFile(t, pemFile, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	set, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{edKey.jwk()}})
	if err != nil {
		t.Fatal(err)
	}
	jwksFile := filepath.Join(dir, "jwks.json")
	writeFile(t, jwksFile, set)

	for _, tc := range []struct {
		file string
		key  signingKey
	}{{pemFile, rsaKey}, {jwksFile, edKey}} {
		v := newVerifier(t, IssuerConfig{KeysFile: tc.file, Environment: "production"}, OIDCOptions{})
		w, err := v.Verify(context.Background(), tc.key.sign(t, claimsAt(time.Now())))
		if err != nil {
			t.Errorf("%s: %v", filepath.Base(tc.file), err)
			continue
		}
		if w.Environment != "production" {
			t.Errorf("%s: Environment = %q", filepath.Base(tc.file), w.Environment)
		}
	}
}

func writeFile(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestParseKeysRefuses(t *testing.T) {
	ec := newKey(t, "", jose.ES256)
	der, err := x509.MarshalPKCS8PrivateKey(ec.priv)
	if err != nil {
		t.Fatal(err)
	}
	privJWK, err := json.Marshal(jose.JSONWebKey{Key: ec.priv, KeyID: "p"})
	if err != nil {
		t.Fatal(err)
	}
	pub, err := json.Marshal(jose.JSONWebKey{Key: ec.priv.Public(), KeyID: "x", Algorithm: "HS256"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, data, want string
	}{
		{"private PEM", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), `type "PRIVATE KEY" is not a public key`},
		{"private JWK", string(privJWK), "private or symmetric"},
		{"HS alg on a key", string(pub), `algorithm "HS256" is not allowed`},
		{"broken PEM body", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "PEM block 1"},
		{"nothing", "hello", "no JWK or PEM public key"},
		{"bad JSON", "{", "parse JWK"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseKeys([]byte(tt.data))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestIssuerConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  IssuerConfig
		want string
	}{
		{"no audience", IssuerConfig{Issuer: testIssuer, JWKSURL: "https://x.test/jwks"}, "audiences must list"},
		{"HS256", IssuerConfig{Issuer: testIssuer, JWKSURL: "https://x.test/jwks", Audiences: []string{"a"}, Algorithms: []string{"HS256"}}, `algorithm "HS256" is not allowed`},
		{"none", IssuerConfig{Issuer: testIssuer, JWKSURL: "https://x.test/jwks", Audiences: []string{"a"}, Algorithms: []string{"none"}}, `algorithm "none" is not allowed`},
		{"both sources", IssuerConfig{Issuer: testIssuer, JWKSURL: "https://x.test/jwks", KeysFile: "k.pem", Audiences: []string{"a"}}, "not both"},
		{"no source", IssuerConfig{Issuer: testIssuer, Audiences: []string{"a"}}, "set jwksURL or keysFile"},
		{"plain http", IssuerConfig{Issuer: testIssuer, JWKSURL: "http://idp.test/jwks", Audiences: []string{"a"}}, "use https"},
		{"missing keys file", IssuerConfig{Issuer: testIssuer, KeysFile: "/nonexistent/k.pem", Audiences: []string{"a"}}, "read keys"},
		{"no issuer", IssuerConfig{JWKSURL: "https://x.test/jwks", Audiences: []string{"a"}}, "issuer is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewOIDCVerifier([]IssuerConfig{tt.cfg}, OIDCOptions{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to mention %q", err, tt.want)
			}
		})
	}
	dup := IssuerConfig{Issuer: testIssuer, JWKSURL: "https://x.test/jwks", Audiences: []string{"a"}}
	if _, err := NewOIDCVerifier([]IssuerConfig{dup, dup}, OIDCOptions{}); err == nil || !strings.Contains(err.Error(), "configured twice") {
		t.Errorf("duplicate issuer: error = %v", err)
	}
}

func TestVerifiedCache(t *testing.T) {
	ctx := context.Background()
	t.Run("credential digest with and without the cache", func(t *testing.T) {
		key := newKey(t, "k1", jose.ES256)
		url := newJWKSServer(t, key).URL
		cached := newVerifier(t, IssuerConfig{JWKSURL: url}, OIDCOptions{})
		uncached := newVerifier(t, IssuerConfig{JWKSURL: url}, OIDCOptions{CacheSize: -1})
		tok, other := key.sign(t, claimsAt(time.Now())), key.sign(t, claimsAt(time.Now().Add(time.Second)))
		want := sha256.Sum256([]byte(tok))
		for name, v := range map[string]*OIDCVerifier{"cached": cached, "uncached": uncached} {
			for i := range 2 {
				w, err := v.Verify(ctx, tok)
				if err != nil {
					t.Fatal(err)
				}
				if w.Credential != want {
					t.Errorf("%s, use %d: Credential is not the token's digest", name, i+1)
				}
			}
			w, err := v.Verify(ctx, other)
			if err != nil {
				t.Fatal(err)
			}
			if w.Credential == want {
				t.Errorf("%s: another token has the same Credential", name)
			}
		}
	})
	t.Run("time claims checked on every use", func(t *testing.T) {
		key := newKey(t, "k1", jose.ES256)
		clk := &clock{t: time.Now()}
		v := newVerifier(t, IssuerConfig{JWKSURL: newJWKSServer(t, key).URL}, OIDCOptions{Now: clk.now})
		tok := key.sign(t, claimsAt(clk.now()))
		for range 2 {
			if _, err := v.Verify(ctx, tok); err != nil {
				t.Fatal(err)
			}
		}
		clk.advance(10 * time.Minute)
		if _, err := v.Verify(ctx, tok); err == nil || !strings.Contains(err.Error(), "expired") {
			t.Errorf("cached token past exp: error = %v, want expired", err)
		}
	})
	t.Run("withdrawn key stops cached tokens", func(t *testing.T) {
		a, b := newKey(t, "a", jose.ES256), newKey(t, "b", jose.ES256)
		srv := newJWKSServer(t, a)
		clk := &clock{t: time.Now()}
		v := newVerifier(t, IssuerConfig{JWKSURL: srv.URL}, OIDCOptions{MinRefresh: time.Second, Now: clk.now})
		tokA := a.sign(t, claimsAt(clk.now()))
		if _, err := v.Verify(ctx, tokA); err != nil {
			t.Fatal(err)
		}
		srv.setKeys(b) // the issuer withdraws a
		clk.advance(2 * time.Second)
		if _, err := v.Verify(ctx, b.sign(t, claimsAt(clk.now()))); err != nil {
			t.Fatalf("new key b: %v", err)
		}
		if _, err := v.Verify(ctx, tokA); err == nil {
			t.Error("token of the withdrawn key a still accepted from the cache")
		}
	})
	t.Run("bounded", func(t *testing.T) {
		key := newKey(t, "k1", jose.ES256)
		v := newVerifier(t, IssuerConfig{JWKSURL: newJWKSServer(t, key).URL}, OIDCOptions{CacheSize: 4})
		for i := range 10 {
			c := claimsAt(time.Now())
			c["jti"] = fmt.Sprint(i)
			if _, err := v.Verify(ctx, key.sign(t, c)); err != nil {
				t.Fatal(err)
			}
		}
		if n := len(v.cache.m); n > 4 {
			t.Errorf("cache holds %d entries, want at most 4", n)
		}
	})
}
