package workload

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/bundle/spiffebundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
)

// testCA is a SPIFFE CA made for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newCA(t testing.TB, trustDomain string) *testCA {
	t.Helper()
	key := genKey(t)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{Organization: []string{"test"}, CommonName: trustDomain + " CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		URIs:                  []*url.URL{{Scheme: "spiffe", Host: trustDomain}},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key}
}

func genKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// svid issues a leaf certificate with the given SPIFFE ID (none when id is
// empty), valid from notBefore to notAfter.
func (ca *testCA) svid(t testing.TB, id string, notBefore, notAfter time.Time) tls.Certificate {
	t.Helper()
	key := genKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{Organization: []string{"test"}},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if id != "" {
		u, err := url.Parse(id)
		if err != nil {
			t.Fatal(err)
		}
		tmpl.URIs = []*url.URL{u}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

func (ca *testCA) pem() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.cert.Raw})
}

const billingID = "spiffe://acme.org/ns/billing/sa/sync"

func newSPIFFE(t testing.TB, ca *testCA) *SPIFFEVerifier {
	t.Helper()
	path := filepath.Join(t.TempDir(), "bundle.pem")
	writeFile(t, path, ca.pem())
	v, err := NewSPIFFEVerifier([]TrustDomainConfig{{TrustDomain: "acme.org", BundleFile: path, Environment: "production"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestVerifyPeer(t *testing.T) {
	ca := newCA(t, "acme.org")
	v := newSPIFFE(t, ca)
	now := time.Now()
	valid := ca.svid(t, billingID, now.Add(-time.Minute), now.Add(time.Hour))

	w, err := v.VerifyPeer([]*x509.Certificate{valid.Leaf})
	if err != nil {
		t.Fatalf("VerifyPeer: %v", err)
	}
	if w.Method != MethodSPIFFE || w.SPIFFEID != billingID || w.Environment != "production" {
		t.Errorf("workload = %+v", w)
	}
	if !w.ExpiresAt.Equal(valid.Leaf.NotAfter) {
		t.Errorf("ExpiresAt = %v, want %v", w.ExpiresAt, valid.Leaf.NotAfter)
	}
	if w.Credential != sha256.Sum256(valid.Leaf.Raw) {
		t.Error("Credential is not the digest of the leaf certificate")
	}

	other := newCA(t, "acme.org") // same name, different key
	tests := []struct {
		name  string
		certs []*x509.Certificate
		want  string
	}{
		{"other CA", []*x509.Certificate{other.svid(t, billingID, now.Add(-time.Minute), now.Add(time.Hour)).Leaf}, "certificate signed by unknown authority"},
		{"expired", []*x509.Certificate{ca.svid(t, billingID, now.Add(-2*time.Hour), now.Add(-time.Hour)).Leaf}, "expired"},
		{"not yet valid", []*x509.Certificate{ca.svid(t, billingID, now.Add(time.Hour), now.Add(2*time.Hour)).Leaf}, "not yet valid"},
		{"untrusted trust domain", []*x509.Certificate{ca.svid(t, "spiffe://evil.org/x", now.Add(-time.Minute), now.Add(time.Hour)).Leaf}, `no X.509 bundle for trust domain "evil.org"`},
		{"no SPIFFE ID", []*x509.Certificate{ca.svid(t, "", now.Add(-time.Minute), now.Add(time.Hour)).Leaf}, "no URI SAN"},
		{"CA as leaf", []*x509.Certificate{ca.cert}, "leaf certificate"},
		{"no certificate", nil, "no client certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := v.VerifyPeer(tt.certs)
			if err == nil {
				t.Fatalf("VerifyPeer accepted: %+v", w)
			}
			if !errors.Is(err, ErrInvalidCredential) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q, want ErrInvalidCredential mentioning %q", err, tt.want)
			}
		})
	}
}

func TestSPIFFEBundleJSONAndReload(t *testing.T) {
	ca, next := newCA(t, "acme.org"), newCA(t, "acme.org")
	td := spiffeid.RequireTrustDomainFromString("acme.org")
	path := filepath.Join(t.TempDir(), "bundle.json")
	writeBundle := func(ca *testCA) {
		data, err := spiffebundle.FromX509Authorities(td, []*x509.Certificate{ca.cert}).Marshal()
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, path, data)
	}
	writeBundle(ca)
	v, err := NewSPIFFEVerifier([]TrustDomainConfig{{TrustDomain: "acme.org", BundleFile: path}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	oldSVID := ca.svid(t, billingID, now.Add(-time.Minute), now.Add(time.Hour)).Leaf
	newSVID := next.svid(t, billingID, now.Add(-time.Minute), now.Add(time.Hour)).Leaf
	if _, err := v.VerifyPeer([]*x509.Certificate{oldSVID}); err != nil {
		t.Fatalf("SVID of the JSON bundle's CA: %v", err)
	}
	if _, err := v.VerifyPeer([]*x509.Certificate{newSVID}); err == nil {
		t.Fatal("SVID of a CA not yet in the bundle accepted")
	}
	writeBundle(next)
	if err := v.Reload(); err != nil {
		t.Fatal(err)
	}
	if _, err := v.VerifyPeer([]*x509.Certificate{newSVID}); err != nil {
		t.Errorf("after Reload, new CA's SVID: %v", err)
	}
	if _, err := v.VerifyPeer([]*x509.Certificate{oldSVID}); err == nil {
		t.Error("after Reload, the dropped CA's SVID is still accepted")
	}
	// A broken file on reload keeps the bundle in force.
	writeFile(t, path, []byte("{"))
	if err := v.Reload(); err == nil {
		t.Error("Reload of a broken bundle succeeded")
	}
	if _, err := v.VerifyPeer([]*x509.Certificate{newSVID}); err != nil {
		t.Errorf("after a failed Reload: %v", err)
	}
}

func TestSPIFFEConfigErrors(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.pem")
	writeFile(t, empty, []byte("no certificates here\n"))
	tests := []struct {
		name string
		cfg  TrustDomainConfig
		want string
	}{
		{"bad trust domain", TrustDomainConfig{TrustDomain: "Acme Org", BundleFile: empty}, "trust domain 1 (Acme Org)"},
		{"missing file", TrustDomainConfig{TrustDomain: "acme.org", BundleFile: filepath.Join(dir, "nope.pem")}, "read bundle"},
		{"empty bundle", TrustDomainConfig{TrustDomain: "acme.org", BundleFile: empty}, "empty.pem"},
		{"no file", TrustDomainConfig{TrustDomain: "acme.org"}, "bundleFile is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewSPIFFEVerifier([]TrustDomainConfig{tt.cfg}, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

// TestAuthenticateOverTLS runs a real TLS listener configured by
// ServerTLSConfig and authenticates clients by SVID and by bearer JWT.
func TestAuthenticateOverTLS(t *testing.T) {
	ca := newCA(t, "acme.org")
	sv := newSPIFFE(t, ca)
	key := newKey(t, "k1", "ES256")
	ov := newVerifier(t, IssuerConfig{JWKSURL: newJWKSServer(t, key).URL}, OIDCOptions{})
	auth := &Authenticator{OIDC: ov, SPIFFE: sv}

	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		wl, err := auth.Authenticate(r.Context(), r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		_, _ = io.WriteString(w, wl.String())
	}))
	srv.TLS = sv.ServerTLSConfig(nil)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the rogue handshake below fails on purpose
	srv.StartTLS()
	defer srv.Close()

	client := func(cert *tls.Certificate) *http.Client {
		tr := srv.Client().Transport.(*http.Transport).Clone()
		if cert != nil {
			tr.TLSClientConfig.Certificates = []tls.Certificate{*cert}
		}
		return &http.Client{Transport: tr}
	}
	get := func(c *http.Client, bearer string) (int, string, error) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := c.Do(req)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, strings.TrimSpace(string(body)), nil
	}
	now := time.Now()
	svid := ca.svid(t, billingID, now.Add(-time.Minute), now.Add(time.Hour))

	if code, body, err := get(client(&svid), ""); err != nil || code != 200 || body != billingID {
		t.Errorf("SVID client: %d %q %v, want 200 %s", code, body, err, billingID)
	}
	tok := key.sign(t, claimsAt(now))
	if code, body, err := get(client(nil), tok); err != nil || code != 200 || body != testIssuer+"#repo:acme/billing:environment:prod" {
		t.Errorf("JWT client: %d %q %v", code, body, err)
	}
	if code, body, err := get(client(&svid), tok); err != nil || code != 401 || !strings.Contains(body, "both a JWT and a client certificate") {
		t.Errorf("both credentials: %d %q %v, want 401", code, body, err)
	}
	if code, body, err := get(client(nil), ""); err != nil || code != 401 || !strings.Contains(body, "no workload credential") {
		t.Errorf("no credential: %d %q %v, want 401", code, body, err)
	}
	rogue := newCA(t, "acme.org").svid(t, billingID, now.Add(-time.Minute), now.Add(time.Hour))
	if _, _, err := get(client(&rogue), ""); err == nil {
		t.Error("handshake with an SVID of an untrusted CA succeeded")
	}
}

func TestAuthenticateRequests(t *testing.T) {
	key := newKey(t, "k1", "ES256")
	ov := newVerifier(t, IssuerConfig{JWKSURL: newJWKSServer(t, key).URL}, OIDCOptions{})
	tok := key.sign(t, claimsAt(time.Now()))
	other := key.sign(t, map[string]any{"iss": testIssuer, "sub": "x", "aud": testAudience, "exp": time.Now().Add(time.Minute).Unix()})
	form := func(v url.Values) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/v1/token", strings.NewReader(v.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return r
	}
	header := func(h string) *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Authorization", h)
		return r
	}
	both := form(url.Values{"subject_token": {tok}})
	both.Header.Set("Authorization", "Bearer "+other)

	tests := []struct {
		name string
		auth *Authenticator
		req  *http.Request
		want string // "" for success
	}{
		{"bearer", &Authenticator{OIDC: ov}, header("Bearer " + tok), ""},
		{"bearer lower case", &Authenticator{OIDC: ov}, header("bearer " + tok), ""},
		{"subject_token", &Authenticator{OIDC: ov}, form(url.Values{"subject_token": {tok}, "subject_token_type": {"urn:ietf:params:oauth:token-type:jwt"}}), ""},
		{"subject_token wrong type", &Authenticator{OIDC: ov}, form(url.Values{"subject_token": {tok}, "subject_token_type": {"urn:ietf:params:oauth:token-type:access_token"}}), "is not a JWT type"},
		{"two different tokens", &Authenticator{OIDC: ov}, both, "differ"},
		{"basic auth", &Authenticator{OIDC: ov}, header("Basic dXNlcjpwYXNz"), "not a bearer token"},
		{"empty bearer", &Authenticator{OIDC: ov}, header("Bearer "), "not a bearer token"},
		{"JWT not configured", &Authenticator{}, header("Bearer " + tok), "JWT authentication is not configured"},
		{"nothing", &Authenticator{OIDC: ov}, httptest.NewRequest(http.MethodGet, "/", nil), "no workload credential"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := tt.auth.Authenticate(context.Background(), tt.req)
			if tt.want == "" {
				if err != nil || w.Subject != "repo:acme/billing:environment:prod" {
					t.Errorf("Authenticate = %+v, %v", w, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestNewAuthenticator(t *testing.T) {
	ca := newCA(t, "acme.org")
	bundle := filepath.Join(t.TempDir(), "bundle.pem")
	writeFile(t, bundle, ca.pem())
	key := newKey(t, "k1", "ES256")
	cfg := Config{
		Issuers:      []IssuerConfig{{Issuer: testIssuer, JWKSURL: newJWKSServer(t, key).URL, Audiences: []string{testAudience}}},
		TrustDomains: []TrustDomainConfig{{TrustDomain: "acme.org", BundleFile: bundle}},
	}
	a, err := NewAuthenticator(cfg, OIDCOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if a.OIDC == nil || a.SPIFFE == nil {
		t.Fatalf("Authenticator = %+v, want both verifiers", a)
	}
	if _, err := NewAuthenticator(Config{}, OIDCOptions{}); err == nil || !strings.Contains(err.Error(), "at least one") {
		t.Errorf("empty config: error = %v", err)
	}
	cfg.Issuers[0].Audiences = nil
	cfg.TrustDomains[0].BundleFile = filepath.Join(t.TempDir(), "missing.pem")
	_, err = NewAuthenticator(cfg, OIDCOptions{})
	if err == nil || !strings.Contains(err.Error(), "audiences") || !strings.Contains(err.Error(), "missing.pem") {
		t.Errorf("two bad sections: error = %v, want both named", err)
	}
}
