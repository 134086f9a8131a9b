package salesforce

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// OAuth endpoint paths.
const (
	tokenPath      = "/services/oauth2/token"
	revokePath     = "/services/oauth2/revoke"
	introspectPath = "/services/oauth2/introspect"
)

// mintTimeout bounds one token exchange, which runs on behalf of every caller
// waiting for it and so is not cancelled with any single caller's context.
const mintTimeout = 2 * time.Minute

// Token is an access token from the client-credentials exchange. Its String,
// GoString and LogValue hide AccessToken, and it marshals to JSON without it.
type Token struct {
	AccessToken    string    `json:"-"`
	InstanceURL    string    `json:"instance_url"`
	ID             string    `json:"id"`         // identity URL of the run-as user
	TokenType      string    `json:"token_type"` // "Bearer"
	Scope          string    `json:"scope,omitempty"`
	TokenFormat    string    `json:"token_format,omitempty"` // "opaque" or "jwt", when reported
	APIInstanceURL string    `json:"api_instance_url,omitempty"`
	IssuedAt       time.Time `json:"issued_at"`
}

// String describes the token without its value.
func (t Token) String() string {
	return fmt.Sprintf("salesforce.Token{AccessToken:%s InstanceURL:%q ID:%q Scope:%q IssuedAt:%s}",
		hidden(t.AccessToken), t.InstanceURL, t.ID, t.Scope, t.IssuedAt.UTC().Format(time.RFC3339))
}

// GoString is String, so that %#v hides the value too.
func (t Token) GoString() string { return t.String() }

// LogValue logs the token without its value.
func (t Token) LogValue() slog.Value {
	return slog.GroupValue(slog.String("instance_url", t.InstanceURL), slog.String("id", t.ID), slog.Time("issued_at", t.IssuedAt))
}

// tokenResponse is the JSON of a successful exchange.
type tokenResponse struct {
	AccessToken    string `json:"access_token"`
	InstanceURL    string `json:"instance_url"`
	ID             string `json:"id"`
	TokenType      string `json:"token_type"`
	IssuedAt       string `json:"issued_at"`
	Scope          string `json:"scope"`
	TokenFormat    string `json:"token_format"`
	APIInstanceURL string `json:"api_instance_url"`
}

// Sentinels for the token endpoint's common error codes; an *OAuthError
// matches the one for its Code.
var (
	// ErrInvalidGrant: the org refused the grant — wrong domain, no Run As
	// user, no usable scope, or a generic authentication failure.
	ErrInvalidGrant = errors.New("invalid_grant")
	// ErrInvalidClientID: the consumer key is unknown to the org.
	ErrInvalidClientID = errors.New("invalid_client_id")
	// ErrInvalidClient: the consumer secret is wrong, or the app does not
	// allow the flow.
	ErrInvalidClient = errors.New("invalid_client")
	// ErrUnsupportedGrantType: grant_type was missing or the body was not
	// form-encoded.
	ErrUnsupportedGrantType = errors.New("unsupported_grant_type")
	// ErrInvalidRequest: a parameter the flow does not take, such as scope.
	ErrInvalidRequest = errors.New("invalid_request")
	// ErrInvalidToken: revocation of a token the org does not know.
	ErrInvalidToken = errors.New("invalid_token")
	// ErrUnsupportedTokenType: revocation of a token of a type the org
	// cannot revoke.
	ErrUnsupportedTokenType = errors.New("unsupported_token_type")
)

var oauthSentinels = map[string]error{
	"invalid_grant":          ErrInvalidGrant,
	"invalid_client_id":      ErrInvalidClientID,
	"invalid_client":         ErrInvalidClient,
	"unsupported_grant_type": ErrUnsupportedGrantType,
	"invalid_request":        ErrInvalidRequest,
	"invalid_token":          ErrInvalidToken,
	"unsupported_token_type": ErrUnsupportedTokenType,
}

// OAuthError is an error from the token, revoke or introspect endpoint in
// its {"error","error_description"} form.
type OAuthError struct {
	Code        string // error, such as invalid_client
	Description string // error_description
	Status      int    // HTTP status, 400 for the documented errors
	Endpoint    string // method and path
}

// Error renders the error with a hint on what to do when one is known.
func (e *OAuthError) Error() string {
	msg := fmt.Sprintf("salesforce: %s: HTTP %d %s: %s", e.Endpoint, e.Status, e.Code, e.Description)
	if h := oauthHint(e.Code, e.Description); h != "" {
		msg += " (" + h + ")"
	}
	return msg
}

// Is matches the sentinel for the error's code.
func (e *OAuthError) Is(target error) bool {
	s, ok := oauthSentinels[e.Code]
	return ok && s == target
}

// oauthHint suggests a fix for a token-endpoint error. The descriptions are
// from issue threads and third-party reports, not Salesforce's own reference,
// so they are matched here alone; a code still maps to its sentinel whatever
// the wording.
func oauthHint(code, desc string) string {
	d := strings.ToLower(desc)
	switch {
	case code == "invalid_grant" && strings.Contains(d, "not supported on this domain"):
		return "call the org's My Domain URL, not login.salesforce.com or test.salesforce.com"
	case code == "invalid_grant" && strings.Contains(d, "no client credentials user"):
		return "set a Run As user for the client-credentials flow on the app"
	case code == "invalid_grant" && strings.Contains(d, "no valid scopes"):
		return "give the app a scope the client-credentials flow keeps, such as api"
	case code == "invalid_client_id":
		return "the consumer key is unknown to this org"
	case code == "invalid_client" && strings.Contains(d, "client credentials"):
		return "check the consumer secret and that the app enables the client-credentials flow"
	case code == "unsupported_grant_type":
		return "the request must be form-encoded with grant_type=client_credentials"
	}
	return ""
}

// oauthErrorBody is the JSON of an OAuth endpoint error.
type oauthErrorBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// decodeOAuthError turns a failed OAuth endpoint response into an
// *OAuthError, or a *ResponseError when the body is not the documented JSON.
func decodeOAuthError(endpoint string, status int, contentType string, body []byte) error {
	var b oauthErrorBody
	if json.Unmarshal(bytes.TrimSpace(body), &b) == nil && b.Error != "" {
		return &OAuthError{Code: b.Error, Description: b.Description, Status: status, Endpoint: endpoint}
	}
	return &ResponseError{Endpoint: endpoint, Status: status, Reason: describeBody(contentType, body)}
}

// Token returns the client's access token, minting one with the
// client-credentials exchange when there is none yet. Concurrent callers
// share one exchange.
func (c *Client) Token(ctx context.Context) (*Token, error) {
	c.mu.Lock()
	t := c.token
	c.mu.Unlock()
	if t != nil {
		return t, nil
	}
	return c.renew(ctx, nil)
}

// renew mints a new token unless the current one is no longer stale (another
// caller renewed it already). stale is the token a call was rejected with, or
// nil when there was none.
func (c *Client) renew(ctx context.Context, stale *Token) (*Token, error) {
	ch := c.mint.DoChan("token", func() (any, error) {
		c.mu.Lock()
		cur := c.token
		c.mu.Unlock()
		if cur != nil && cur != stale {
			return cur, nil
		}
		mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), mintTimeout)
		defer cancel()
		t, err := c.exchange(mctx)
		if err != nil {
			return nil, err
		}
		c.mu.Lock()
		c.token = t
		c.mu.Unlock()
		return t, nil
	})
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*Token), nil
	}
}

// authenticate adds the client's credentials to an OAuth request: as an
// HTTP Basic header it returns, or as form fields.
func (c *Client) authenticate(form url.Values) http.Header {
	if c.basicAuth {
		return http.Header{"Authorization": {basicAuth(c.clientID, c.clientSecret)}}
	}
	form.Set("client_id", c.clientID)
	form.Set("client_secret", c.clientSecret)
	return nil
}

// exchange performs the client-credentials grant.
func (c *Client) exchange(ctx context.Context) (*Token, error) {
	form := url.Values{"grant_type": {"client_credentials"}}
	hdr := c.authenticate(form)
	resp, err := c.do(ctx, &call{
		method: http.MethodPost, path: tokenPath, kind: oauthCall,
		contentType: "application/x-www-form-urlencoded", header: hdr,
		body: func(*Token) ([]byte, error) { return []byte(form.Encode()), nil },
	})
	if err != nil {
		return nil, err
	}
	var tr tokenResponse
	if err := decodeJSON(resp, &tr); err != nil {
		return nil, err
	}
	if tr.AccessToken == "" {
		return nil, &ResponseError{Endpoint: resp.endpoint, Reason: "the token response has no access_token"}
	}
	issued, err := parseIssuedAt(tr.IssuedAt)
	if err != nil {
		return nil, &ResponseError{Endpoint: resp.endpoint, Reason: err.Error()}
	}
	t := &Token{AccessToken: tr.AccessToken, InstanceURL: tr.InstanceURL, ID: tr.ID, TokenType: tr.TokenType,
		Scope: tr.Scope, TokenFormat: tr.TokenFormat, APIInstanceURL: tr.APIInstanceURL, IssuedAt: issued}
	c.log.Debug("salesforce token minted", "token", t)
	return t, nil
}

// basicAuth builds an HTTP Basic header value. The key and secret are
// form-encoded first, as RFC 6749 §2.3.1 asks; generated consumer keys and
// secrets contain no character this changes.
func basicAuth(id, secret string) string {
	req := http.Request{Header: http.Header{}}
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	return req.Header.Get("Authorization")
}

// parseIssuedAt reads issued_at: a string of epoch milliseconds in every
// current example; older documentation said seconds, so a 10-digit value is
// read as seconds. An absent value gives the zero time.
func parseIssuedAt(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return time.Time{}, fmt.Errorf("issued_at %s is not an epoch timestamp", quoteStart([]byte(s)))
	}
	if len(s) <= 10 {
		return time.Unix(n, 0).UTC(), nil
	}
	return time.UnixMilli(n).UTC(), nil
}

// Revoke revokes an access token, ending its session. When it is the
// client's current token, the next call mints a new one.
func (c *Client) Revoke(ctx context.Context, token string) error {
	form := url.Values{"token": {token}}
	_, err := c.do(ctx, &call{
		method: http.MethodPost, path: revokePath, kind: oauthCall,
		contentType: "application/x-www-form-urlencoded",
		body:        func(*Token) ([]byte, error) { return []byte(form.Encode()), nil },
		secrets:     []string{token},
	})
	if err != nil {
		return err
	}
	c.mu.Lock()
	if c.token != nil && c.token.AccessToken == token {
		c.token = nil
	}
	c.mu.Unlock()
	return nil
}

// Introspection is the introspection endpoint's answer about a token.
type Introspection struct {
	Active    bool   `json:"active"`
	Scope     string `json:"scope"`
	ClientID  string `json:"client_id"`
	Username  string `json:"username"`
	Subject   string `json:"sub"`
	TokenType string `json:"token_type"`
	Expiry    int64  `json:"exp"` // epoch seconds
	IssuedAt  int64  `json:"iat"`
	NotBefore int64  `json:"nbf"`
}

// Expires returns Expiry as a time, or the zero time when it is not set.
func (i *Introspection) Expires() time.Time {
	if i.Expiry == 0 {
		return time.Time{}
	}
	return time.Unix(i.Expiry, 0).UTC()
}

// Introspect asks the introspection endpoint about a token, authenticating
// as the client. An app can introspect only its own tokens unless it is
// allowed to introspect all.
func (c *Client) Introspect(ctx context.Context, token string) (*Introspection, error) {
	form := url.Values{"token": {token}, "token_type_hint": {"access_token"}}
	hdr := c.authenticate(form)
	resp, err := c.do(ctx, &call{
		method: http.MethodPost, path: introspectPath, kind: oauthCall,
		contentType: "application/x-www-form-urlencoded", header: hdr,
		body:    func(*Token) ([]byte, error) { return []byte(form.Encode()), nil },
		secrets: []string{token},
	})
	if err != nil {
		return nil, err
	}
	var in Introspection
	if err := decodeJSON(resp, &in); err != nil {
		return nil, err
	}
	return &in, nil
}
