package salesforce

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// maxBody is the largest response body the client reads.
const maxBody = 64 << 20

// callKind says how a call authenticates, whether it counts against the
// daily API limit and how its errors look.
type callKind int

const (
	oauthCall  callKind = iota // OAuth endpoints: client credentials, {"error"} bodies, not counted
	restCall                   // REST API: bearer token, [{"errorCode"}] bodies, counted
	soapCall                   // Metadata API: session ID in the envelope, SOAP faults, counted
	publicCall                 // unauthenticated REST (versions), not counted
)

// call is one logical API call, which may take several attempts.
type call struct {
	method      string
	path        string     // absolute path on the org's host
	query       url.Values // nil for none
	kind        callKind
	contentType string
	header      http.Header
	// body builds the request body for an attempt; nil sends none. It gets
	// the token of that attempt (nil for calls without one).
	body func(tok *Token) ([]byte, error)
	// secrets are values the call sends that must not reach an error.
	secrets []string
	// once: the call is not idempotent, so only a rejected session is retried.
	once bool
}

// endpoint names the call in errors: method and path, never the query.
func (cl *call) endpoint() string { return cl.method + " " + cl.path }

// response is a read response.
type response struct {
	endpoint    string
	status      int
	header      http.Header
	contentType string
	body        []byte
}

// do runs a call: it attaches the token, checks the budget, sends, counts,
// records the limit header and maps error responses to typed errors. It
// mints a new token and retries once on INVALID_SESSION_ID, and retries
// server errors, network timeouts and REQUEST_LIMIT_EXCEEDED with backoff.
func (c *Client) do(ctx context.Context, cl *call) (*response, error) {
	endpoint := cl.endpoint()
	bo := backoff.ExponentialBackOff{
		InitialInterval:     c.backoff,
		RandomizationFactor: 0.5,
		Multiplier:          2,
		MaxInterval:         c.maxRetryWait,
	}
	bo.Reset()
	var (
		tok      *Token
		reminted bool
		retries  int
		waited   time.Duration
	)
	for {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("salesforce: %s: %w", endpoint, err)
		}
		if cl.kind == restCall || cl.kind == soapCall {
			if tok == nil {
				t, err := c.Token(ctx)
				if err != nil {
					return nil, err
				}
				tok = t
			}
			if err := c.checkBudget(endpoint); err != nil {
				return nil, err
			}
		}
		resp, err := c.send(ctx, cl, tok)
		retryable := false
		if err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("salesforce: %s: %w", endpoint, ctx.Err())
			}
			retryable = temporary(err)
			err = fmt.Errorf("salesforce: %s: %w", endpoint, err)
		} else {
			err = c.check(cl, resp, tok)
			if err == nil {
				return resp, nil
			}
			if errors.Is(err, ErrSessionInvalid) && tok != nil {
				if reminted {
					return nil, fmt.Errorf("%w; a newly minted token was rejected too: check that the app's Run As user is active and may use the API", err)
				}
				reminted = true
				c.log.Debug("salesforce session rejected; minting a new token", "endpoint", endpoint)
				t, rerr := c.renew(ctx, tok)
				if rerr != nil {
					return nil, fmt.Errorf("mint a new token after %w: %w", err, rerr)
				}
				tok = t
				continue
			}
			var fault *SOAPFault
			retryable = errors.Is(err, ErrRequestLimit) || (resp.status >= 500 && !errors.As(err, &fault))
		}
		if !retryable || retries >= c.maxRetries || cl.once {
			if retries > 0 {
				return nil, fmt.Errorf("%w (after %d attempts)", err, retries+1)
			}
			return nil, err
		}
		wait := bo.NextBackOff()
		if waited+wait > c.maxRetryWait {
			return nil, fmt.Errorf("%w (after %d attempts; gave up to stay within %s of retry waits)", err, retries+1, c.maxRetryWait)
		}
		c.log.Debug("salesforce call retried", "endpoint", endpoint, "attempt", retries+1, "wait", wait, "error", err.Error())
		if serr := c.sleep(ctx, wait); serr != nil {
			return nil, fmt.Errorf("salesforce: %s: %w (while waiting to retry after: %v)", endpoint, serr, err)
		}
		waited += wait
		retries++
	}
}

// send makes one attempt and reads the whole response.
func (c *Client) send(ctx context.Context, cl *call, tok *Token) (*response, error) {
	target := c.base + cl.path
	if len(cl.query) > 0 {
		target += "?" + cl.query.Encode()
	}
	var body io.Reader
	if cl.body != nil {
		b, err := cl.body(tok)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, target, body)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", errors.Unwrap(err))
	}
	for k, v := range cl.header {
		req.Header[k] = v
	}
	if cl.contentType != "" {
		req.Header.Set("Content-Type", cl.contentType)
	}
	switch cl.kind {
	case soapCall:
		req.Header.Set("SOAPAction", `""`)
		req.Header.Set("Accept", "text/xml")
	case restCall:
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		req.Header.Set("Accept", "application/json")
	default:
		req.Header.Set("Accept", "application/json")
	}
	if cl.kind == restCall || cl.kind == soapCall {
		c.calls.Add(1)
	}
	res, err := c.http.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // its message repeats the URL with the query
		}
		return nil, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("read response (HTTP %d): %w", res.StatusCode, err)
	}
	if len(data) > maxBody {
		return nil, &ResponseError{Endpoint: cl.endpoint(), Status: res.StatusCode, Reason: fmt.Sprintf("body over the %d MiB limit", maxBody>>20)}
	}
	if cl.kind == restCall || cl.kind == soapCall {
		c.recordUsage(res.Header)
	}
	return &response{endpoint: cl.endpoint(), status: res.StatusCode, header: res.Header, contentType: res.Header.Get("Content-Type"), body: data}, nil
}

// check maps a response to nil (2xx) or an error. Server-supplied text is
// scrubbed of every secret the call involves before it reaches an error.
func (c *Client) check(cl *call, resp *response, tok *Token) error {
	if resp.status >= 200 && resp.status < 300 {
		return nil
	}
	body := c.scrub(resp.body, cl.secrets, tok)
	if resp.status >= 300 && resp.status < 400 {
		loc := "an unnamed location"
		if u, err := url.Parse(resp.header.Get("Location")); err == nil && u.Host != "" {
			loc = u.Scheme + "://" + u.Host + u.Path
		}
		return &ResponseError{Endpoint: resp.endpoint, Status: resp.status,
			Reason: fmt.Sprintf("redirected to %s; the URL may not be the org's My Domain, or the request was not accepted as an API call", loc)}
	}
	switch cl.kind {
	case oauthCall:
		return decodeOAuthError(resp.endpoint, resp.status, resp.contentType, body)
	case soapCall:
		if f, err := decodeSOAPFault(body); err == nil {
			f.Endpoint = resp.endpoint
			f.Status = resp.status
			return f
		}
	}
	return decodeAPIError(resp.endpoint, resp.status, resp.contentType, body)
}

// scrub replaces the client's secret, the call's token and extra secrets in b.
func (c *Client) scrub(b []byte, extra []string, tok *Token) []byte {
	secrets := append([]string{c.clientSecret}, extra...)
	if tok != nil {
		secrets = append(secrets, tok.AccessToken)
	}
	c.mu.Lock()
	if c.token != nil {
		secrets = append(secrets, c.token.AccessToken)
	}
	c.mu.Unlock()
	for _, s := range secrets {
		if len(s) >= 6 {
			b = bytes.ReplaceAll(b, []byte(s), []byte(redacted))
		}
	}
	return b
}

// temporary reports whether a transport error is worth retrying: timeouts,
// refused or reset connections, and connections closed mid-response.
func temporary(err error) bool {
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		return true
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return true
	}
	return false
}

// sleepCtx waits for d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// decodeJSON decodes a 2xx JSON body into v, with an error naming the
// endpoint when the body is not JSON, is cut short or has the wrong types.
func decodeJSON(resp *response, v any) error {
	trimmed := bytes.TrimSpace(resp.body)
	if len(trimmed) == 0 || (trimmed[0] != '{' && trimmed[0] != '[') {
		return &ResponseError{Endpoint: resp.endpoint, Status: resp.status, Reason: describeBody(resp.contentType, resp.body)}
	}
	if err := json.Unmarshal(trimmed, v); err != nil {
		return &ResponseError{Endpoint: resp.endpoint, Status: resp.status, Reason: "malformed JSON: " + jsonReason(err)}
	}
	return nil
}

// jsonReason words a JSON decoding error without quoting the input.
func jsonReason(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		if strings.Contains(se.Error(), "unexpected end") {
			return fmt.Sprintf("the body is cut short (%d bytes)", se.Offset)
		}
		return fmt.Sprintf("syntax error at byte %d", se.Offset)
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "the top level"
		}
		return fmt.Sprintf("%s is a JSON %s, expected %s", field, te.Value, te.Type)
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}
