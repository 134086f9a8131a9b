package salesforce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// queryPage is one batch of a SOQL query result.
type queryPage struct {
	TotalSize      int               `json:"totalSize"`
	Done           bool              `json:"done"`
	NextRecordsURL string            `json:"nextRecordsUrl"`
	Records        []json.RawMessage `json:"records"`
}

// decodeQueryPage decodes and checks one query batch: done must be a
// boolean, records an array, and a batch that is not done must name the next.
func decodeQueryPage(resp *response) (*queryPage, error) {
	var p struct {
		queryPage
		Done *bool `json:"done"`
	}
	if err := decodeJSON(resp, &p); err != nil {
		return nil, err
	}
	if p.Done == nil {
		return nil, &ResponseError{Endpoint: resp.endpoint, Reason: "query result has no done member"}
	}
	p.queryPage.Done = *p.Done
	if !p.queryPage.Done {
		if p.NextRecordsURL == "" {
			return nil, &ResponseError{Endpoint: resp.endpoint, Reason: "query result is not done but has no nextRecordsUrl"}
		}
		if err := checkNextURL(p.NextRecordsURL); err != nil {
			return nil, &ResponseError{Endpoint: resp.endpoint, Reason: err.Error()}
		}
	}
	return &p.queryPage, nil
}

// checkNextURL accepts only a path under /services/data/ on the org's own
// host, so that a response cannot send the token elsewhere.
func checkNextURL(next string) error {
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(u.Path, "/services/data/") || strings.Contains(u.Path, "..") {
		return fmt.Errorf("nextRecordsUrl %s is not a /services/data/ path", quoteStart([]byte(next)))
	}
	return nil
}

// Query runs a SOQL query through the REST API and calls each with every
// record, following nextRecordsUrl until the result is done. Each batch is
// one API call. An error from each stops the query and is returned as is.
func (c *Client) Query(ctx context.Context, soql string, each func(json.RawMessage) error) error {
	return c.query(ctx, "query", soql, each)
}

// ToolingQuery is Query through the Tooling API.
func (c *Client) ToolingQuery(ctx context.Context, soql string, each func(json.RawMessage) error) error {
	return c.query(ctx, "tooling/query", soql, each)
}

func (c *Client) query(ctx context.Context, resource, soql string, each func(json.RawMessage) error) error {
	cl := &call{method: http.MethodGet, path: c.DataPath(resource), query: url.Values{"q": {soql}}, kind: restCall}
	seen := map[string]bool{}
	for {
		resp, err := c.do(ctx, cl)
		if err != nil {
			return err
		}
		page, err := decodeQueryPage(resp)
		if err != nil {
			return err
		}
		for _, r := range page.Records {
			if err := each(r); err != nil {
				return err
			}
		}
		if page.Done {
			return nil
		}
		if seen[page.NextRecordsURL] {
			return &ResponseError{Endpoint: resp.endpoint, Reason: "nextRecordsUrl repeats an earlier batch"}
		}
		seen[page.NextRecordsURL] = true
		next, _ := url.Parse(page.NextRecordsURL)
		cl = &call{method: http.MethodGet, path: next.Path, query: next.Query(), kind: restCall}
	}
}

// QueryAll runs a REST SOQL query and decodes every record into a T.
func QueryAll[T any](ctx context.Context, c *Client, soql string) ([]T, error) {
	return collect[T](ctx, soql, c.Query)
}

// ToolingQueryAll runs a Tooling SOQL query and decodes every record into a T.
func ToolingQueryAll[T any](ctx context.Context, c *Client, soql string) ([]T, error) {
	return collect[T](ctx, soql, c.ToolingQuery)
}

func collect[T any](ctx context.Context, soql string, run func(context.Context, string, func(json.RawMessage) error) error) ([]T, error) {
	var out []T
	err := run(ctx, soql, func(raw json.RawMessage) error {
		var v T
		if err := json.Unmarshal(raw, &v); err != nil {
			return fmt.Errorf("salesforce: query record %d: %s", len(out)+1, jsonReason(err))
		}
		out = append(out, v)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Composite limits: subrequests per call, and how many of them may be
// queries or sObject Collections operations.
const (
	MaxSubrequests      = 25
	MaxCompositeQueries = 5
)

// ErrCompositeLimit: a composite request breaks the subrequest limits; it
// was not sent.
var ErrCompositeLimit = errors.New("composite request over its limits")

// Subrequest is one request of a composite call.
type Subrequest struct {
	Method      string          `json:"method"`
	URL         string          `json:"url"` // full path, /services/data/vNN.0/...
	ReferenceID string          `json:"referenceId"`
	Body        json.RawMessage `json:"body,omitempty"`
}

// SubResponse is the result of one subrequest.
type SubResponse struct {
	ReferenceID string
	Status      int
	Headers     map[string]string
	Body        json.RawMessage
	// Err is the subrequest's error for a status of 400 or more: an
	// *APIError when the body is the documented error array.
	Err error
}

var referenceIDRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_]*$`)

// isQueryRequest reports whether a subrequest counts against the query
// limit: query, queryAll and sObject Collections resources.
func isQueryRequest(u string) bool {
	path, _, _ := strings.Cut(u, "?")
	for _, seg := range []string{"/query", "/queryAll", "/composite/sobjects"} {
		if i := strings.Index(path, seg); i >= 0 {
			rest := path[i+len(seg):]
			if rest == "" || rest[0] == '/' {
				return true
			}
		}
	}
	return false
}

// checkComposite validates subrequests before anything is sent.
func checkComposite(subs []Subrequest) error {
	if len(subs) == 0 {
		return fmt.Errorf("%w: no subrequests", ErrCompositeLimit)
	}
	if len(subs) > MaxSubrequests {
		return fmt.Errorf("%w: %d subrequests, at most %d", ErrCompositeLimit, len(subs), MaxSubrequests)
	}
	queries := 0
	ids := map[string]bool{}
	for i, s := range subs {
		if !referenceIDRE.MatchString(s.ReferenceID) {
			return fmt.Errorf("%w: subrequest %d: referenceId %q must be letters, digits and _, starting with a letter or digit", ErrCompositeLimit, i+1, s.ReferenceID)
		}
		if ids[s.ReferenceID] {
			return fmt.Errorf("%w: subrequest %d: referenceId %q repeats", ErrCompositeLimit, i+1, s.ReferenceID)
		}
		ids[s.ReferenceID] = true
		if !strings.HasPrefix(s.URL, "/services/data/v") {
			return fmt.Errorf("%w: subrequest %q: url must be a full /services/data/vNN.0/ path", ErrCompositeLimit, s.ReferenceID)
		}
		if s.Method == "" {
			return fmt.Errorf("%w: subrequest %q has no method", ErrCompositeLimit, s.ReferenceID)
		}
		if isQueryRequest(s.URL) {
			queries++
		}
	}
	if queries > MaxCompositeQueries {
		return fmt.Errorf("%w: %d query or collection subrequests, at most %d", ErrCompositeLimit, queries, MaxCompositeQueries)
	}
	return nil
}

// Composite sends up to MaxSubrequests subrequests (of which at most
// MaxCompositeQueries queries) as one API call, with allOrNone false, and
// returns one SubResponse per subrequest in order. A request over the
// limits fails with ErrCompositeLimit before anything is sent.
func (c *Client) Composite(ctx context.Context, subs []Subrequest) ([]SubResponse, error) {
	if err := checkComposite(subs); err != nil {
		return nil, fmt.Errorf("salesforce: %w", err)
	}
	body, err := json.Marshal(struct {
		AllOrNone bool         `json:"allOrNone"`
		Requests  []Subrequest `json:"compositeRequest"`
	}{false, subs})
	if err != nil {
		return nil, fmt.Errorf("salesforce: encode composite request: %w", err)
	}
	resp, err := c.do(ctx, &call{
		method: http.MethodPost, path: c.DataPath("composite"), kind: restCall,
		contentType: "application/json",
		body:        func(*Token) ([]byte, error) { return body, nil },
	})
	if err != nil {
		return nil, err
	}
	return decodeComposite(resp, subs)
}

// decodeComposite decodes a composite response and matches it to the
// subrequests by referenceId.
func decodeComposite(resp *response, subs []Subrequest) ([]SubResponse, error) {
	var r struct {
		CompositeResponse *[]struct {
			Body           json.RawMessage   `json:"body"`
			HTTPHeaders    map[string]string `json:"httpHeaders"`
			HTTPStatusCode int               `json:"httpStatusCode"`
			ReferenceID    string            `json:"referenceId"`
		} `json:"compositeResponse"`
	}
	if err := decodeJSON(resp, &r); err != nil {
		return nil, err
	}
	if r.CompositeResponse == nil {
		return nil, &ResponseError{Endpoint: resp.endpoint, Reason: "no compositeResponse member"}
	}
	byRef := make(map[string]int, len(subs))
	for i, s := range subs {
		byRef[s.ReferenceID] = i
	}
	out := make([]SubResponse, len(subs))
	got := make([]bool, len(subs))
	for _, sr := range *r.CompositeResponse {
		i, ok := byRef[sr.ReferenceID]
		if !ok || got[i] {
			return nil, &ResponseError{Endpoint: resp.endpoint, Reason: fmt.Sprintf("unexpected referenceId %q in the response", sr.ReferenceID)}
		}
		got[i] = true
		out[i] = SubResponse{ReferenceID: sr.ReferenceID, Status: sr.HTTPStatusCode, Headers: sr.HTTPHeaders, Body: sr.Body}
		if sr.HTTPStatusCode >= 400 || sr.HTTPStatusCode < 100 {
			out[i].Err = decodeAPIError(resp.endpoint+" subrequest "+sr.ReferenceID, sr.HTTPStatusCode, "application/json", sr.Body)
		}
	}
	for i, ok := range got {
		if !ok {
			return nil, &ResponseError{Endpoint: resp.endpoint, Reason: fmt.Sprintf("no result for subrequest %q", subs[i].ReferenceID)}
		}
	}
	return out, nil
}
