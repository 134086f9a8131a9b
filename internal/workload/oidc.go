package workload

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// IssuerConfig is one trusted OIDC issuer. Exactly one of JWKSURL and
// KeysFile gives its signing keys.
type IssuerConfig struct {
	// Issuer is the exact iss value its tokens carry, e.g.
	// https://token.actions.githubusercontent.com. No normalisation: a
	// trailing slash makes a different issuer.
	Issuer string `json:"issuer" yaml:"issuer"`
	// JWKSURL is where the issuer publishes its JSON Web Key Set
	// (https, or http on a loopback address).
	JWKSURL string `json:"jwksURL,omitempty" yaml:"jwksURL,omitempty"`
	// CAFile holds PEM certificates to trust when fetching JWKSURL, in place
	// of the system roots (e.g. a Kubernetes cluster CA).
	CAFile string `json:"caFile,omitempty" yaml:"caFile,omitempty"`
	// KeysFile holds the issuer's public keys: a JWK Set, a single JWK, or
	// PEM public keys or certificates.
	KeysFile string `json:"keysFile,omitempty" yaml:"keysFile,omitempty"`
	// Audiences are the aud values the broker accepts; a token must name at
	// least one. Required.
	Audiences []string `json:"audiences" yaml:"audiences"`
	// Algorithms are the accepted signature algorithms; empty means
	// DefaultAlgorithms. Symmetric (HS*) algorithms and "none" are refused.
	Algorithms []string `json:"algorithms,omitempty" yaml:"algorithms,omitempty"`
	// Environment is the environment every workload of this issuer runs in
	// (e.g. the cluster's). EnvironmentClaim, when set and present in a
	// token as a string, takes precedence.
	Environment string `json:"environment,omitempty" yaml:"environment,omitempty"`
	// EnvironmentClaim names a string claim holding the workload's
	// environment, e.g. "environment" for GitHub Actions.
	EnvironmentClaim string `json:"environmentClaim,omitempty" yaml:"environmentClaim,omitempty"`
	// EnvironmentValues, when set, maps the claim's values to Steward
	// environments (e.g. GitHub's "prod" to "production"); a value it does
	// not list asserts no environment.
	EnvironmentValues map[string]string `json:"environmentValues,omitempty" yaml:"environmentValues,omitempty"`
}

// DefaultAlgorithms are the signature algorithms accepted when an issuer
// names none: the asymmetric ones go-jose implements.
var DefaultAlgorithms = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// OIDCOptions tune an OIDCVerifier; the zero value gives the defaults.
type OIDCOptions struct {
	// Skew is the clock skew allowed on exp, nbf and iat (default 60 s).
	Skew time.Duration
	// FetchTimeout bounds one JWKS fetch (default 5 s).
	FetchTimeout time.Duration
	// MinRefresh is the least time between two JWKS fetches of an issuer,
	// whatever unknown key ids tokens name (default 30 s).
	MinRefresh time.Duration
	// MaxKeyAge is how old a fetched key set may grow before it is fetched
	// again in the background (default 1 h). While the issuer is
	// unreachable the cached keys keep being used.
	MaxKeyAge time.Duration
	// HTTPClient fetches JWKS URLs; nil builds one per issuer (honouring
	// CAFile and FetchTimeout).
	HTTPClient *http.Client
	// CacheSize is how many verified tokens are remembered, so that a
	// token used again skips the signature check (default
	// DefaultCacheSize; negative turns the cache off). Time claims are
	// checked on every use.
	CacheSize int
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Option defaults.
const (
	DefaultSkew         = 60 * time.Second
	DefaultFetchTimeout = 5 * time.Second
	DefaultMinRefresh   = 30 * time.Second
	DefaultMaxKeyAge    = time.Hour
	// maxTokenBytes bounds a token before any parsing.
	maxTokenBytes = 16 << 10
)

// OIDCVerifier verifies JWTs from the configured issuers. It is safe for
// concurrent use.
type OIDCVerifier struct {
	issuers map[string]*issuer
	skew    time.Duration
	now     func() time.Time
	cache   *verifiedCache // nil when off
}

// issuer is one configured issuer, ready to verify.
type issuer struct {
	cfg  IssuerConfig
	algs []jose.SignatureAlgorithm
	keys keySource
}

// keySource yields the keys that may have signed a token with key id kid
// ("" when the token names none), and the version of the key set they come
// from.
type keySource interface {
	keys(ctx context.Context, kid string) ([]jose.JSONWebKey, uint64, error)
	// version is the current key set's version; it changes whenever the
	// set is replaced.
	version() uint64
}

// NewOIDCVerifier checks the issuer configurations and loads static keys.
// JWKS URLs are fetched on first use, so a broker starts while an issuer is
// down; tokens of that issuer fail until its keys can be fetched.
func NewOIDCVerifier(issuers []IssuerConfig, opts OIDCOptions) (*OIDCVerifier, error) {
	opts = opts.withDefaults()
	v := &OIDCVerifier{issuers: map[string]*issuer{}, skew: opts.Skew, now: opts.Now, cache: newVerifiedCache(opts.CacheSize)}
	var errs []error
	for i, cfg := range issuers {
		is, err := newIssuer(cfg, opts)
		if err != nil {
			errs = append(errs, fmt.Errorf("issuer %d (%s): %w", i+1, cfg.Issuer, err))
			continue
		}
		if _, dup := v.issuers[cfg.Issuer]; dup {
			errs = append(errs, fmt.Errorf("issuer %d (%s): configured twice", i+1, cfg.Issuer))
			continue
		}
		v.issuers[cfg.Issuer] = is
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return v, nil
}

func (o OIDCOptions) withDefaults() OIDCOptions {
	if o.Skew <= 0 {
		o.Skew = DefaultSkew
	}
	if o.FetchTimeout <= 0 {
		o.FetchTimeout = DefaultFetchTimeout
	}
	if o.MinRefresh <= 0 {
		o.MinRefresh = DefaultMinRefresh
	}
	if o.MaxKeyAge <= 0 {
		o.MaxKeyAge = DefaultMaxKeyAge
	}
	if o.CacheSize == 0 {
		o.CacheSize = DefaultCacheSize
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// newIssuer checks one issuer configuration.
func newIssuer(cfg IssuerConfig, opts OIDCOptions) (*issuer, error) {
	if cfg.Issuer == "" {
		return nil, errors.New("issuer is empty")
	}
	if len(cfg.Audiences) == 0 || slices.Contains(cfg.Audiences, "") {
		return nil, errors.New("audiences must list at least one non-empty audience, the one workloads request tokens for")
	}
	algs, err := signatureAlgorithms(cfg.Algorithms)
	if err != nil {
		return nil, err
	}
	is := &issuer{cfg: cfg, algs: algs}
	switch {
	case cfg.JWKSURL != "" && cfg.KeysFile != "":
		return nil, errors.New("set either jwksURL or keysFile, not both")
	case cfg.KeysFile != "":
		data, err := os.ReadFile(cfg.KeysFile)
		if err != nil {
			return nil, fmt.Errorf("read keys: %w", err)
		}
		keys, err := ParseKeys(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", cfg.KeysFile, err)
		}
		is.keys = staticKeys(keys)
	case cfg.JWKSURL != "":
		if err := checkJWKSURL(cfg.JWKSURL); err != nil {
			return nil, err
		}
		client := opts.HTTPClient
		if client == nil {
			client, err = fetchClient(cfg.CAFile, opts.FetchTimeout)
			if err != nil {
				return nil, err
			}
		}
		is.keys = newRemoteKeys(cfg.JWKSURL, client, opts)
	default:
		return nil, errors.New("set jwksURL or keysFile")
	}
	return is, nil
}

// signatureAlgorithms checks an issuer's algorithm list.
func signatureAlgorithms(names []string) ([]jose.SignatureAlgorithm, error) {
	if len(names) == 0 {
		names = DefaultAlgorithms
	}
	var algs []jose.SignatureAlgorithm
	for _, n := range names {
		if !slices.Contains(DefaultAlgorithms, n) {
			return nil, fmt.Errorf("algorithm %q is not allowed: use asymmetric ones (%s)", n, strings.Join(DefaultAlgorithms, ", "))
		}
		algs = append(algs, jose.SignatureAlgorithm(n))
	}
	return algs, nil
}

// checkJWKSURL refuses a JWKS URL that is not https, except on loopback.
func checkJWKSURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("jwksURL: %w", err)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if ip := net.ParseIP(u.Hostname()); (ip != nil && ip.IsLoopback()) || u.Hostname() == "localhost" {
			return nil
		}
	}
	return fmt.Errorf("jwksURL %s: use https (http only on a loopback address)", raw)
}

// fetchClient builds the HTTP client that fetches one issuer's keys.
func fetchClient(caFile string, timeout time.Duration) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("read caFile: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("caFile %s: no PEM certificate in it", caFile)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: tr, Timeout: timeout}, nil
}

// Verify checks a JWT: size, an allowed algorithm, a configured issuer, a
// signature by one of that issuer's keys, an accepted audience, a subject,
// and exp (required), nbf and iat within the allowed skew. It returns the
// workload with all the token's claims; the Claims map is shared with the
// verifier's cache and must not be modified.
func (v *OIDCVerifier) Verify(ctx context.Context, raw string) (*Workload, error) {
	if len(raw) > maxTokenBytes {
		return nil, fmt.Errorf("%w: token is %d bytes, more than %d", ErrInvalidCredential, len(raw), maxTokenBytes)
	}
	now := v.now()
	sum := sha256.Sum256([]byte(raw))
	if v.cache == nil {
		e, err := v.verify(ctx, raw, now)
		if err != nil {
			return nil, err
		}
		e.w.Credential = sum
		return e.w, nil
	}
	e := v.cache.get(sum)
	if e != nil {
		if err := e.claims.ValidateWithLeeway(jwt.Expected{Time: now}, v.skew); err != nil {
			return nil, fmt.Errorf("%w: %s", ErrInvalidCredential, claimError(err, e.issuer.cfg))
		}
	} else {
		var err error
		if e, err = v.verify(ctx, raw, now); err != nil {
			return nil, err
		}
		v.cache.put(sum, e, now)
	}
	w := *e.w
	w.Credential = sum
	return &w, nil
}

// verify checks a token that is not in the cache.
func (v *OIDCVerifier) verify(ctx context.Context, raw string, now time.Time) (*verifiedToken, error) {
	// Parse with every allowed algorithm, then hold the token to its
	// issuer's own list once the issuer is known.
	tok, err := jwt.ParseSigned(raw, allAlgorithms)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidCredential, errText(err))
	}
	if len(tok.Headers) != 1 {
		return nil, fmt.Errorf("%w: token has %d signatures, want 1", ErrInvalidCredential, len(tok.Headers))
	}
	hdr := tok.Headers[0]
	// The registered claims are read before the signature is checked, to
	// find the issuer; they are trusted only once the signature over these
	// same payload bytes verifies below.
	var claims jwt.Claims
	if err := tok.UnsafeClaimsWithoutVerification(&claims); err != nil {
		return nil, fmt.Errorf("%w: claims: %v", ErrInvalidCredential, errText(err))
	}
	is, ok := v.issuers[claims.Issuer]
	if !ok {
		return nil, fmt.Errorf("%w: issuer %q is not trusted", ErrInvalidCredential, clip(claims.Issuer))
	}
	if !slices.Contains(is.algs, jose.SignatureAlgorithm(hdr.Algorithm)) {
		return nil, fmt.Errorf("%w: algorithm %s is not allowed for issuer %s", ErrInvalidCredential, hdr.Algorithm, is.cfg.Issuer)
	}
	keys, version, err := is.keys.keys(ctx, hdr.KeyID)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidCredential, err)
	}
	var all map[string]any
	verified := false
	for i := range keys {
		k := &keys[i]
		if k.Algorithm != "" && k.Algorithm != hdr.Algorithm {
			continue
		}
		if err := tok.Claims(k, &all); err == nil {
			verified = true
			break
		}
	}
	if !verified {
		return nil, fmt.Errorf("%w: signature does not verify with any key of issuer %s", ErrInvalidCredential, is.cfg.Issuer)
	}
	if claims.Expiry == nil {
		return nil, fmt.Errorf("%w: token has no exp claim", ErrInvalidCredential)
	}
	if claims.Subject == "" {
		return nil, fmt.Errorf("%w: token has no sub claim", ErrInvalidCredential)
	}
	want := jwt.Expected{Issuer: is.cfg.Issuer, AnyAudience: is.cfg.Audiences, Time: now}
	if err := claims.ValidateWithLeeway(want, v.skew); err != nil {
		return nil, fmt.Errorf("%w: %s", ErrInvalidCredential, claimError(err, is.cfg))
	}
	w := &Workload{
		Method:      MethodOIDC,
		Issuer:      claims.Issuer,
		Subject:     claims.Subject,
		Audience:    []string(claims.Audience),
		Environment: is.cfg.Environment,
		ExpiresAt:   claims.Expiry.Time(),
		Claims:      all,
	}
	if is.cfg.EnvironmentClaim != "" {
		if env, ok := all[is.cfg.EnvironmentClaim].(string); ok && env != "" {
			w.Environment = env
			if is.cfg.EnvironmentValues != nil {
				w.Environment = is.cfg.EnvironmentValues[env]
			}
		}
	}
	return &verifiedToken{issuer: is, version: version, claims: claims, w: w}, nil
}

// allAlgorithms is every algorithm any issuer may allow.
var allAlgorithms = func() []jose.SignatureAlgorithm {
	algs, _ := signatureAlgorithms(nil)
	return algs
}()

// claimError explains a failed claim check.
func claimError(err error, cfg IssuerConfig) string {
	switch {
	case errors.Is(err, jwt.ErrExpired):
		return "token is expired"
	case errors.Is(err, jwt.ErrNotValidYet):
		return "token is not valid yet (nbf)"
	case errors.Is(err, jwt.ErrIssuedInTheFuture):
		return "token is issued in the future (iat)"
	case errors.Is(err, jwt.ErrInvalidAudience):
		return fmt.Sprintf("token audience is not one of %s", strings.Join(cfg.Audiences, ", "))
	}
	return errText(err)
}

// clip shortens a value taken from an untrusted token for an error message.
func clip(s string) string {
	const limit = 120
	if len(s) <= limit {
		return s
	}
	return s[:limit] + "…"
}

// errText drops go-jose's package prefix from an error message.
func errText(err error) string {
	s := err.Error()
	s = strings.TrimPrefix(s, "go-jose/go-jose/jwt: ")
	return strings.TrimPrefix(s, "go-jose/go-jose: ")
}

// staticKeys are keys read from a file at start.
type staticKeys []jose.JSONWebKey

func (s staticKeys) keys(_ context.Context, kid string) ([]jose.JSONWebKey, uint64, error) {
	keys, err := selectKeys(s, kid)
	return keys, 0, err
}

func (staticKeys) version() uint64 { return 0 }

// selectKeys returns the keys a token with key id kid may be signed with:
// the keys with that id, or every key when the token names none.
func selectKeys(all []jose.JSONWebKey, kid string) ([]jose.JSONWebKey, error) {
	if kid == "" {
		return all, nil
	}
	var out []jose.JSONWebKey
	for _, k := range all {
		if k.KeyID == kid || k.KeyID == "" {
			out = append(out, k)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no key with id %q", kid)
	}
	return out, nil
}

// ParseKeys reads public verification keys: a JWK Set, a single JWK, or one
// or more PEM blocks (PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE). Private and
// symmetric keys are refused, so that a file can never enable HMAC
// verification with a public key.
func ParseKeys(data []byte) ([]jose.JSONWebKey, error) {
	trimmed := strings.TrimSpace(string(data))
	if strings.HasPrefix(trimmed, "{") {
		return parseJWKs([]byte(trimmed))
	}
	return parsePEMKeys([]byte(trimmed))
}

// parseJWKs reads a JWK Set or a single JWK.
func parseJWKs(data []byte) ([]jose.JSONWebKey, error) {
	var probe struct {
		Keys json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("parse JWK: %w", err)
	}
	var keys []jose.JSONWebKey
	if probe.Keys != nil {
		var set jose.JSONWebKeySet
		if err := json.Unmarshal(data, &set); err != nil {
			return nil, fmt.Errorf("parse JWK Set: %w", err)
		}
		keys = set.Keys
	} else {
		var k jose.JSONWebKey
		if err := json.Unmarshal(data, &k); err != nil {
			return nil, fmt.Errorf("parse JWK: %w", err)
		}
		keys = []jose.JSONWebKey{k}
	}
	return publicKeys(keys)
}

// publicKeys keeps the asymmetric public keys meant for signatures, and
// refuses private and symmetric ones.
func publicKeys(keys []jose.JSONWebKey) ([]jose.JSONWebKey, error) {
	var out []jose.JSONWebKey
	for i, k := range keys {
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		if !k.IsPublic() {
			return nil, fmt.Errorf("key %d (kid %q) is a private or symmetric key: publish only public keys", i+1, k.KeyID)
		}
		if k.Algorithm != "" && !slices.Contains(DefaultAlgorithms, k.Algorithm) {
			return nil, fmt.Errorf("key %d (kid %q): algorithm %q is not allowed", i+1, k.KeyID, k.Algorithm)
		}
		out = append(out, k)
	}
	if len(out) == 0 {
		return nil, errors.New("no public signing key")
	}
	return out, nil
}
