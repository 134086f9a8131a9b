// Package workload authenticates the workloads that ask the broker for
// tokens, with no secret handed to them beforehand: a JWT from an OIDC
// issuer the operator trusts (Kubernetes service-account tokens, GitHub
// Actions, any OIDC provider), or an X.509 SVID presented over mutual TLS and
// verified against a SPIFFE trust bundle. It also matches an authenticated
// workload to the consumers an Identity declares.
package workload

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"time"
)

// Method says how a workload proved who it is.
type Method string

// Authentication methods.
const (
	MethodOIDC   Method = "oidc"
	MethodSPIFFE Method = "spiffe"
)

// Workload is an authenticated caller. Every field comes from a verified
// credential; the credential itself is not kept.
type Workload struct {
	Method Method `json:"method"`
	// Issuer and Subject are the token's iss and sub (OIDC only).
	Issuer  string `json:"issuer,omitempty"`
	Subject string `json:"subject,omitempty"`
	// SPIFFEID is the SVID's SPIFFE ID (SPIFFE only).
	SPIFFEID string `json:"spiffeId,omitempty"`
	// Audience is the token's aud (OIDC only).
	Audience []string `json:"audience,omitempty"`
	// Environment is the environment the workload runs in, as its issuer or
	// trust domain configuration asserts it; empty when none is configured.
	Environment string `json:"environment,omitempty"`
	// ExpiresAt is when the credential stops being valid.
	ExpiresAt time.Time `json:"expiresAt"`
	// Claims are all the token's verified claims (OIDC only).
	Claims map[string]any `json:"claims,omitempty"`
	// Credential is the SHA-256 of the credential that was verified: the
	// whole JWT, or the DER of the leaf certificate. A verifier gives equal
	// Workloads for equal credentials, so it keys what is derived from one
	// (the runtime decision's memo). Zero when unknown. It is never
	// written out.
	Credential [sha256.Size]byte `json:"-"`
}

// String names the workload for logs and audit records.
func (w *Workload) String() string {
	if w.Method == MethodSPIFFE {
		return w.SPIFFEID
	}
	return w.Issuer + "#" + w.Subject
}

// Errors returned by Authenticate. Every failure to verify a presented
// credential wraps ErrInvalidCredential; the message says why, and never
// carries the credential.
var (
	ErrNoCredential      = errors.New("no workload credential: send a JWT as subject_token or bearer token, or a SPIFFE client certificate")
	ErrInvalidCredential = errors.New("invalid workload credential")
	ErrAmbiguous         = errors.New("request carries both a JWT and a client certificate: present one workload credential")
)

// subjectTokenTypes are the RFC 8693 token types accepted for a JWT.
var subjectTokenTypes = map[string]bool{
	"":                                     true,
	"urn:ietf:params:oauth:token-type:jwt": true,
	"urn:ietf:params:oauth:token-type:id_token": true,
}

// Authenticator authenticates a request with whichever workload credential
// it carries. Either verifier may be nil to turn that method off. It is safe
// for concurrent use.
type Authenticator struct {
	OIDC   *OIDCVerifier
	SPIFFE *SPIFFEVerifier
}

// Authenticate verifies the request's workload credential: a JWT in the
// RFC 8693 subject_token form field (for an urlencoded POST) or in an
// Authorization: Bearer header, or the client certificate of a mutual TLS
// connection. A request with no credential gets ErrNoCredential; one with
// both a JWT and a client certificate gets ErrAmbiguous.
func (a *Authenticator) Authenticate(ctx context.Context, r *http.Request) (*Workload, error) {
	token, err := requestToken(r)
	if err != nil {
		return nil, err
	}
	hasCert := r.TLS != nil && len(r.TLS.PeerCertificates) > 0
	switch {
	case token != "" && hasCert:
		return nil, ErrAmbiguous
	case token != "":
		if a.OIDC == nil {
			return nil, fmt.Errorf("%w: JWT authentication is not configured", ErrInvalidCredential)
		}
		return a.OIDC.Verify(ctx, token)
	case hasCert:
		if a.SPIFFE == nil {
			return nil, fmt.Errorf("%w: SPIFFE authentication is not configured", ErrInvalidCredential)
		}
		return a.SPIFFE.VerifyPeer(r.TLS.PeerCertificates)
	}
	return nil, ErrNoCredential
}

// requestToken returns the JWT a request carries, or "". A token in both the
// form and the header must be the same token.
func requestToken(r *http.Request) (string, error) {
	var header string
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, rest, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(rest) == "" {
			return "", fmt.Errorf("%w: Authorization header is not a bearer token", ErrInvalidCredential)
		}
		header = strings.TrimSpace(rest)
	}
	var form string
	if r.Method == http.MethodPost {
		if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct == "application/x-www-form-urlencoded" {
			if err := r.ParseForm(); err != nil {
				return "", fmt.Errorf("%w: read form: %v", ErrInvalidCredential, err)
			}
			form = r.PostForm.Get("subject_token")
			if typ := r.PostForm.Get("subject_token_type"); form != "" && !subjectTokenTypes[typ] {
				return "", fmt.Errorf("%w: subject_token_type %q is not a JWT type (use urn:ietf:params:oauth:token-type:jwt)", ErrInvalidCredential, typ)
			}
		}
	}
	if header != "" && form != "" && header != form {
		return "", fmt.Errorf("%w: the bearer token and the subject_token differ", ErrInvalidCredential)
	}
	if form != "" {
		return form, nil
	}
	return header, nil
}

// Config lists the issuers and trust domains workloads may authenticate
// with, as the server's configuration file holds them.
type Config struct {
	Issuers      []IssuerConfig      `json:"issuers,omitempty" yaml:"issuers,omitempty"`
	TrustDomains []TrustDomainConfig `json:"trustDomains,omitempty" yaml:"trustDomains,omitempty"`
}

// NewAuthenticator builds the verifiers cfg asks for. At least one issuer
// or trust domain is required: a broker nobody can authenticate to is a
// configuration mistake.
func NewAuthenticator(cfg Config, opts OIDCOptions) (*Authenticator, error) {
	if len(cfg.Issuers) == 0 && len(cfg.TrustDomains) == 0 {
		return nil, errors.New("workload authentication: configure at least one OIDC issuer or SPIFFE trust domain")
	}
	a := &Authenticator{}
	var errs []error
	if len(cfg.Issuers) > 0 {
		v, err := NewOIDCVerifier(cfg.Issuers, opts)
		if err != nil {
			errs = append(errs, fmt.Errorf("workload authentication: %w", err))
		}
		a.OIDC = v
	}
	if len(cfg.TrustDomains) > 0 {
		v, err := NewSPIFFEVerifier(cfg.TrustDomains, opts.Now)
		if err != nil {
			errs = append(errs, fmt.Errorf("workload authentication: %w", err))
		}
		a.SPIFFE = v
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return a, nil
}
