package salesforce

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"strings"
	"unicode/utf8"
)

// Sentinel errors for the cases callers branch on. The typed errors below
// match them with errors.Is.
var (
	// ErrSessionInvalid: Salesforce rejected the access token
	// (INVALID_SESSION_ID), even after a fresh one was minted.
	ErrSessionInvalid = errors.New("session expired or invalid")
	// ErrRequestLimit: the org is over an API request limit
	// (REQUEST_LIMIT_EXCEEDED).
	ErrRequestLimit = errors.New("API request limit exceeded")
	// ErrBudget: the call would use more of the daily API limit than
	// Config.MaxAPIShare allows. Nothing was sent.
	ErrBudget = errors.New("API budget reached")
	// ErrUnexpectedResponse: the response was not what the endpoint
	// documents (an HTML page, truncated or mistyped JSON, a redirect).
	ErrUnexpectedResponse = errors.New("unexpected response")
)

// APIError is an error a REST endpoint reported in its documented
// [{"message","errorCode","fields"}] form.
type APIError struct {
	Status   int      // HTTP status
	Code     string   // errorCode of the first entry, such as INVALID_FIELD
	Message  string   // message of the first entry, and of any further ones after "; "
	Fields   []string // fields of the first entry
	Endpoint string   // method and path, such as "GET /services/data/v67.0/query"
}

// Error renders the error with its endpoint.
func (e *APIError) Error() string {
	msg := fmt.Sprintf("salesforce: %s: HTTP %d %s: %s", e.Endpoint, e.Status, e.Code, e.Message)
	if len(e.Fields) > 0 {
		msg += " (fields: " + strings.Join(e.Fields, ", ") + ")"
	}
	return msg
}

// Is matches ErrSessionInvalid, ErrRequestLimit and the record-write
// sentinels (ErrDuplicate, …) by error code.
func (e *APIError) Is(target error) bool {
	return codeIs(e.Code, target) || writeErrorIs(e.Code, target)
}

// codeIs maps Salesforce error codes, REST or SOAP, onto the sentinels.
func codeIs(code string, target error) bool {
	switch target {
	case ErrSessionInvalid:
		return code == "INVALID_SESSION_ID"
	case ErrRequestLimit:
		return code == "REQUEST_LIMIT_EXCEEDED"
	}
	return false
}

// ResponseError is a response the client could not use: a status or body
// the endpoint does not document. It matches ErrUnexpectedResponse.
type ResponseError struct {
	Endpoint string // method and path
	Status   int    // HTTP status, 0 when the body failed after a 2xx
	Reason   string // what was wrong, in words
}

// Error renders the error with its endpoint.
func (e *ResponseError) Error() string {
	if e.Status == 0 {
		return fmt.Sprintf("salesforce: %s: %s", e.Endpoint, e.Reason)
	}
	return fmt.Sprintf("salesforce: %s: HTTP %d: %s", e.Endpoint, e.Status, e.Reason)
}

// Is matches ErrUnexpectedResponse.
func (e *ResponseError) Is(target error) bool { return target == ErrUnexpectedResponse }

// BudgetError is returned instead of sending a call that would take the
// org's daily API usage past the configured share. It matches ErrBudget.
type BudgetError struct {
	Endpoint string
	Used     int64   // requests used today, as last reported
	Max      int64   // the daily maximum
	Share    float64 // Config.MaxAPIShare
}

// Error renders the error with the figures and what to do next.
func (e *BudgetError) Error() string {
	return fmt.Sprintf("salesforce: %s: not sent: the org has used %d of %d daily API requests and this call would pass the %.0f%% budget; raise the budget or run again tomorrow",
		e.Endpoint, e.Used, e.Max, e.Share*100)
}

// Is matches ErrBudget.
func (e *BudgetError) Is(target error) bool { return target == ErrBudget }

// apiErrorEntry is one element of a REST error body.
type apiErrorEntry struct {
	Message   string   `json:"message"`
	ErrorCode string   `json:"errorCode"`
	Fields    []string `json:"fields"`
}

// decodeAPIError turns a non-2xx REST response into an error: an *APIError
// when the body is the documented JSON array, else a *ResponseError that
// says what the body was.
func decodeAPIError(endpoint string, status int, contentType string, body []byte) error {
	var entries []apiErrorEntry
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 && trimmed[0] == '[' && json.Unmarshal(trimmed, &entries) == nil && len(entries) > 0 && entries[0].ErrorCode != "" {
		e := &APIError{Status: status, Endpoint: endpoint, Code: entries[0].ErrorCode, Message: entries[0].Message, Fields: entries[0].Fields}
		for _, x := range entries[1:] {
			e.Message += "; " + x.ErrorCode + ": " + x.Message
		}
		return e
	}
	return &ResponseError{Endpoint: endpoint, Status: status, Reason: describeBody(contentType, body)}
}

// describeBody says what an unusable body was, quoting at most its start.
func describeBody(contentType string, body []byte) string {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return "empty body"
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	if mt == "" {
		mt = "no content type"
	}
	if mt == "text/html" || bytes.HasPrefix(trimmed, []byte("<!")) || bytes.HasPrefix(asciiLower(trimmed), []byte("<html")) {
		return fmt.Sprintf("got an HTML page (%s) instead of JSON%s", mt, htmlTitle(trimmed))
	}
	return fmt.Sprintf("body is not the documented JSON (%s, %d bytes, starting %s)", mt, len(body), quoteStart(trimmed))
}

// htmlTitle returns ` titled "..."` for a page with a <title>.
func htmlTitle(page []byte) string {
	lower := asciiLower(page)
	i := bytes.Index(lower, []byte("<title>"))
	if i < 0 {
		return ""
	}
	i += len("<title>")
	j := bytes.Index(lower[i:], []byte("</title>"))
	if j < 0 {
		return ""
	}
	return " titled " + quoteStart(bytes.TrimSpace(page[i:i+j]))
}

// asciiLower lower-cases ASCII letters only, so that offsets into the
// result are offsets into b (bytes.ToLower may change the length of text
// that is not valid UTF-8).
func asciiLower(b []byte) []byte {
	out := make([]byte, len(b))
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		out[i] = c
	}
	return out
}

// quoteStart quotes the first 60 bytes of b, cut at a rune boundary.
func quoteStart(b []byte) string {
	const n = 60
	if len(b) <= n {
		return fmt.Sprintf("%q", b)
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(b[cut]) {
		cut--
	}
	return fmt.Sprintf("%q…", b[:cut])
}
