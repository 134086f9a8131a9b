package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	legacyrouter "github.com/getkin/kin-openapi/routers/legacy"

	"github.com/steward-dev/steward/internal/httpapi"
	"github.com/steward-dev/steward/internal/repotest"
	"github.com/steward-dev/steward/internal/store"
)

// loadOpenAPI loads and validates the API description.
func loadOpenAPI(t *testing.T) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(filepath.Join(repotest.Root(t), "api", "openapi.yaml"))
	if err != nil {
		t.Fatalf("load api/openapi.yaml: %v", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("api/openapi.yaml is not a valid OpenAPI 3 document: %v", err)
	}
	return doc
}

// TestOpenAPIMatchesRoutes checks that the API description and the running
// server have the same routes, both ways, with the same rule.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	doc := loadOpenAPI(t)
	f := newFixture(t)
	served := map[string]string{}
	for _, rt := range f.srv.Config.Handler.(*httpapi.API).Routes() {
		served[rt.Method+" "+rt.Pattern] = rt.Rule
	}
	described := map[string]string{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			rule, _ := op.Extensions["x-steward-rule"].(string)
			described[method+" "+path] = rule
		}
	}
	for key, rule := range served {
		got, ok := described[key]
		switch {
		case !ok:
			t.Errorf("route %s is served but not in api/openapi.yaml", key)
		case got != rule:
			t.Errorf("route %s: api/openapi.yaml says x-steward-rule %q, the server enforces %q", key, got, rule)
		}
	}
	for key := range described {
		if _, ok := served[key]; !ok {
			t.Errorf("api/openapi.yaml describes %s, which the server does not serve", key)
		}
	}
}

// apiClient calls the API as one operator and checks every request and
// response against the API description.
type apiClient struct {
	t      *testing.T
	f      *fixture
	router routers.Router
}

func newAPIClient(t *testing.T, f *fixture) *apiClient {
	doc := loadOpenAPI(t)
	doc.Servers = openapi3.Servers{{URL: f.srv.URL}}
	router, err := legacyrouter.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return &apiClient{t: t, f: f, router: router}
}

// call sends a request with token and returns the status and the decoded
// body, after validating both against the description.
func (c *apiClient) call(token, method, path, body string) (int, map[string]any) {
	c.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, c.f.srv.URL+path, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+token)
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		c.t.Fatalf("%s %s: not in the description: %v", method, path, err)
	}
	in := &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, IncludeResponseStatus: true},
	}
	reqErr := openapi3filter.ValidateRequest(context.Background(), in)
	if body != "" {
		req.Body = io.NopCloser(strings.NewReader(body))
	}
	resp, err := c.f.client.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	// A request the description rejects must be one the server rejects.
	if reqErr != nil && resp.StatusCode < 400 {
		c.t.Errorf("%s %s: the description rejects the request (%v) but the server answered %d", method, path, reqErr, resp.StatusCode)
	}
	if err := openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header, Body: io.NopCloser(bytes.NewReader(raw)),
	}); err != nil {
		c.t.Errorf("%s %s: response %d does not match the description: %v\n%s", method, path, resp.StatusCode, err, raw)
	}
	var out map[string]any
	json.Unmarshal(raw, &out)
	return resp.StatusCode, out
}

// auditActions returns the audit records' actions and outcomes for an
// identity, as "action/outcome".
func (f *fixture) auditActions(t *testing.T, resource string) []string {
	t.Helper()
	var out []string
	err := f.db.AuditRecords(context.Background(), 1, func(r store.AuditRecord) error {
		if r.Resource != resource {
			return nil
		}
		var ev struct{ Action, Outcome string }
		json.Unmarshal(r.Body, &ev)
		out = append(out, ev.Action+"/"+ev.Outcome)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

const expansionBody = `{"changes":[
	{"kind":"widened","resource":"App","subject":"Erp_Connector","field":"scopes","before":"","after":"full"},
	{"kind":"narrowed","resource":"App","subject":"Erp_Connector","field":"ipRanges","before":"10.0.0.1-10.0.0.9","after":""},
	{"kind":"widened","resource":"App","subject":"Unrelated_App","field":"scopes","before":"","after":"api"}
]}`

func TestReviewWorkflow(t *testing.T) {
	f := newFixture(t)
	c := newAPIClient(t, f)

	// An expansion of the app both identities use opens one item each,
	// holding only the widening.
	status, out := c.call(adminTok, http.MethodPost, "/v1/reviews/expansions", expansionBody)
	if status != http.StatusOK {
		t.Fatalf("open expansions: %d %v", status, out)
	}
	opened := out["opened"].([]any)
	if len(opened) != 2 {
		t.Fatalf("opened %d items, want one per identity on Erp_Connector: %v", len(opened), out)
	}
	item := opened[0].(map[string]any)
	changes := item["evidence"].(map[string]any)["changes"].([]any)
	if item["identity"] != "erp-connector-cold" || item["created"] != true || item["owner"] != "erp" || len(changes) != 1 ||
		changes[0].(map[string]any)["after"] != "full" {
		t.Errorf("first item %v", item)
	}
	// Again: nothing new.
	_, again := c.call(adminTok, http.MethodPost, "/v1/reviews/expansions", expansionBody)
	if len(again["opened"].([]any)) != 0 {
		t.Errorf("the same expansion opened again: %v", again)
	}
	id := int64(opened[1].(map[string]any)["id"].(float64))
	path := fmt.Sprintf("/v1/reviews/%d", id)

	// The owner sees its team's items; an owner of another team sees none
	// and cannot read or attest it.
	if _, out := c.call(ownerTok, http.MethodGet, "/v1/reviews?status=open", ""); len(out["reviews"].([]any)) != 2 {
		t.Errorf("owner's open items: %v", out)
	}
	if _, out := c.call(otherTok, http.MethodGet, "/v1/reviews", ""); len(out["reviews"].([]any)) != 0 {
		t.Errorf("another team's owner sees %v", out)
	}
	if status, _ := c.call(otherTok, http.MethodGet, path, ""); status != http.StatusForbidden {
		t.Errorf("another team's owner reads the item: %d", status)
	}
	status, out = c.call(otherTok, http.MethodPost, path+"/attest", `{"decision":"keep","comment":"looks fine"}`)
	if status != http.StatusForbidden || !strings.Contains(out["error"].(string), "billing, crm may not act on it") {
		t.Errorf("another team's owner attests: %d %v", status, out)
	}

	// Bad input: refused, audited, nothing changed.
	for _, tc := range []struct {
		body   string
		status int
		want   string
	}{
		{`{"decision":"approve","comment":"x"}`, 400, `decision "approve" is not one of keep, modify, revoke`},
		{`{"decision":"keep","comment":"  "}`, 400, "needs a comment"},
		{`{"decision":"keep","comment":"x","extra":1}`, 400, "unknown field"},
		{`{"decision":"keep"`, 400, "request body"},
	} {
		status, out := c.call(ownerTok, http.MethodPost, path+"/attest", tc.body)
		if status != tc.status || !strings.Contains(fmt.Sprint(out["error"]), tc.want) {
			t.Errorf("attest %s: %d %v, want %d naming %q", tc.body, status, out, tc.status, tc.want)
		}
	}
	if _, out := c.call(adminTok, http.MethodGet, path, ""); out["status"] != "open" {
		t.Errorf("after refused attestations the item is %v", out["status"])
	}

	// The audit log being down: refused, nothing changed.
	f.auditor.fail.Store(true)
	if status, _ := c.call(ownerTok, http.MethodPost, path+"/attest", `{"decision":"keep","comment":"still needed"}`); status != http.StatusServiceUnavailable {
		t.Errorf("attest with the audit log down: %d, want 503", status)
	}
	f.auditor.fail.Store(false)
	if _, out := c.call(adminTok, http.MethodGet, path, ""); out["status"] != "open" {
		t.Errorf("an unaudited attestation closed the item: %v", out)
	}

	// The owner attests: closed, and the review standing comes from the store.
	status, out = c.call(ownerTok, http.MethodPost, path+"/attest", `{"decision":"modify","comment":"drop the full scope again"}`)
	if status != http.StatusOK || out["status"] != "closed" || out["decision"] != "modify" || out["closedBy"] != "human:kim" {
		t.Fatalf("attest: %d %v", status, out)
	}
	status, out = c.call(ownerTok, http.MethodPost, path+"/attest", `{"decision":"keep","comment":"again"}`)
	if status != http.StatusConflict || !strings.Contains(out["error"].(string), "already closed") {
		t.Errorf("attesting a closed item: %d %v", status, out)
	}
	status, out = c.call(ownerTok, http.MethodGet, "/v1/identities/erp-connector-prod/review", "")
	if status != http.StatusOK || out["source"] != "store" || out["overdue"] != false || len(out["open"].([]any)) != 0 {
		t.Errorf("review standing after the attestation: %d %v", status, out)
	}

	// Every step is in the audit log, refusals included.
	got := f.auditActions(t, "erp-connector-prod")
	want := []string{
		"review.open/success", httpapi.ActionDenied + "/denied",
		"review.attest/denied", "review.attest/denied", // unknown decision, empty comment
		"review.attest/success", "review.attest/denied", // the attestation, then the second one
	}
	if !slices.Equal(got, want) {
		t.Errorf("audit records of erp-connector-prod:\n got %v\nwant %v", got, want)
	}

	// A campaign opens the periodic reviews falling due: none here (both
	// identities were reviewed today), and unknown items are 404.
	if status, out := c.call(adminTok, http.MethodPost, "/v1/reviews/campaigns", ""); status != http.StatusOK || len(out["opened"].([]any)) != 0 {
		t.Errorf("campaign: %d %v", status, out)
	}
	if status, _ := c.call(adminTok, http.MethodGet, "/v1/reviews/999", ""); status != http.StatusNotFound {
		t.Errorf("unknown item: %d", status)
	}
	if status, _ := c.call(ownerTok, http.MethodGet, "/v1/reviews/999", ""); status != http.StatusForbidden {
		t.Errorf("unknown item as an owner: %d, want 403 (an owner learns nothing of other teams)", status)
	}
	if status, _ := c.call(adminTok, http.MethodGet, "/v1/reviews?status=maybe", ""); status != http.StatusBadRequest {
		t.Errorf("bad status filter: %d", status)
	}
}
