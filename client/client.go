// Package client obtains Salesforce access tokens from a Steward broker with
// the workload's own identity: it exchanges the workload's JWT (a Kubernetes
// projected service-account token, a GitHub Actions OIDC token, …) at the
// broker's RFC 8693 token endpoint and returns the result as an
// oauth2.TokenSource, so any code that takes one (oauth2.NewClient, a
// Salesforce SDK) gets short-lived tokens without ever holding the consumer
// secret.
package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// RFC 8693 identifiers the broker speaks.
const (
	grantTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
	tokenTypeJWT       = "urn:ietf:params:oauth:token-type:jwt"
)

// Config says where the broker is, which Identity to ask for and how to get
// the workload's credential.
type Config struct {
	// BrokerURL is the broker's base URL, such as
	// https://steward.acme.internal.
	BrokerURL string
	// Identity names the Steward Identity whose tokens the workload wants.
	Identity string
	// SubjectToken returns the workload's current JWT; it is called for
	// every exchange, so a token that the platform rotates on disk is
	// picked up (see FileSubjectToken). Nil with a SPIFFE client
	// certificate in HTTPClient.
	SubjectToken func(ctx context.Context) (string, error)
	// HTTPClient calls the broker (default http.DefaultClient). Configure
	// its TLS roots for the broker's certificate, and its client
	// certificate for SPIFFE.
	HTTPClient *http.Client
	// EarlyExpiry makes the token source fetch a new token this long before
	// the broker's expiry (default 10 s).
	EarlyExpiry time.Duration
}

// FileSubjectToken reads the JWT from a file at every exchange, as
// Kubernetes projected service-account tokens are rotated in place.
func FileSubjectToken(path string) func(context.Context) (string, error) {
	return func(context.Context) (string, error) {
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("read the subject token: %w", err)
		}
		return strings.TrimSpace(string(b)), nil
	}
}

// Error is an error the broker answered with (RFC 6749 §5.2).
type Error struct {
	// Status is the HTTP status.
	Status int
	// Code is the OAuth error code, such as unauthorized_client.
	Code string
	// Description says why.
	Description string
}

// Error renders the broker's answer.
func (e *Error) Error() string {
	return fmt.Sprintf("steward broker: %d %s: %s", e.Status, e.Code, e.Description)
}

// Temporary tells whether retrying later may succeed (the org or the
// audit log is unavailable).
func (e *Error) Temporary() bool { return e.Status == http.StatusServiceUnavailable }

// TokenSource returns a token source that asks the broker for a token
// when it has none or its token is about to expire; it is safe for
// concurrent use. The tokens carry the org's instance URL (see
// InstanceURL). ctx is used for every exchange.
func (c Config) TokenSource(ctx context.Context) oauth2.TokenSource {
	early := c.EarlyExpiry
	if early <= 0 {
		early = 10 * time.Second
	}
	return oauth2.ReuseTokenSourceWithExpiry(nil, &source{ctx: ctx, cfg: c}, early)
}

// InstanceURL is the org instance a token from a TokenSource is for.
func InstanceURL(t *oauth2.Token) string {
	s, _ := t.Extra("instance_url").(string)
	return s
}

type source struct {
	ctx context.Context
	cfg Config
}

type response struct {
	AccessToken     string `json:"access_token"`
	IssuedTokenType string `json:"issued_token_type"`
	TokenType       string `json:"token_type"`
	ExpiresIn       int64  `json:"expires_in"`
	InstanceURL     string `json:"instance_url"`
	Error           string `json:"error"`
	Description     string `json:"error_description"`
}

// Token performs one exchange.
func (s *source) Token() (*oauth2.Token, error) {
	form := url.Values{"grant_type": {grantTokenExchange}, "audience": {s.cfg.Identity}}
	if s.cfg.SubjectToken != nil {
		jwt, err := s.cfg.SubjectToken(s.ctx)
		if err != nil {
			return nil, err
		}
		form.Set("subject_token", jwt)
		form.Set("subject_token_type", tokenTypeJWT)
	}
	endpoint := strings.TrimRight(s.cfg.BrokerURL, "/") + "/v1/token"
	req, err := http.NewRequestWithContext(s.ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("steward broker: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	hc := s.cfg.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("steward broker: %w", err)
	}
	defer resp.Body.Close()
	var r response
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&r); err != nil {
		return nil, fmt.Errorf("steward broker: %d response is not JSON: %w", resp.StatusCode, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, &Error{Status: resp.StatusCode, Code: r.Error, Description: r.Description}
	}
	if r.AccessToken == "" {
		return nil, errors.New("steward broker: response has no access_token")
	}
	t := &oauth2.Token{AccessToken: r.AccessToken, TokenType: r.TokenType}
	if r.ExpiresIn > 0 {
		t.Expiry = time.Now().Add(time.Duration(r.ExpiresIn) * time.Second)
	}
	return t.WithExtra(map[string]any{"instance_url": r.InstanceURL, "issued_token_type": r.IssuedTokenType}), nil
}
