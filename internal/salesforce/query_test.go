package salesforce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

const (
	queryPath   = "GET /services/data/v67.0/query"
	contactSOQL = "SELECT Id, Name FROM Contact WHERE Name != 'x&y'"
)

// pagedQuery serves the three query fixtures, checking the SOQL text.
func pagedQuery(t testing.TB, o *fakeOrg) {
	o.route(queryPath, func(w http.ResponseWriter, r *http.Request) {
		if got := r.URL.Query().Get("q"); got != contactSOQL {
			t.Errorf("q = %q, want %q", got, contactSOQL)
		}
		writeFixture(t, w, http.StatusOK, "query/page1.json")
	})
	o.route(queryPath+"/01gRO0000016PIAYA2-2", serveFixture(t, http.StatusOK, "query/page2.json"))
	o.route(queryPath+"/01gRO0000016PIAYA2-4", serveFixture(t, http.StatusOK, "query/page3.json"))
}

type contact struct {
	ID   string  `json:"Id"`
	Name *string `json:"Name"`
}

func TestQueryPaging(t *testing.T) {
	t.Parallel()
	o := newFakeOrg(t)
	pagedQuery(t, o)
	c, _, _ := testClient(t, o)
	got, err := QueryAll[contact](context.Background(), c, contactSOQL)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range got {
		ids = append(ids, r.ID)
	}
	want := "003RO0000035WQgYAM 003RO0000035WQhYAM 003RO0000035WQiYAM 003RO0000035WQjYAM 003RO0000035WQkYAM"
	if strings.Join(ids, " ") != want {
		t.Errorf("ids %v, want %s", ids, want)
	}
	if got[3].Name != nil || got[0].Name == nil || *got[0].Name != "John Smith" {
		t.Errorf("names: %v %v", got[0].Name, got[3].Name)
	}
	if c.Calls() != 3 || o.mintCount() != 1 {
		t.Errorf("calls %d, mints %d; want 3 and 1", c.Calls(), o.mintCount())
	}
}

func TestQueryCallbackErrorStops(t *testing.T) {
	t.Parallel()
	o := newFakeOrg(t)
	pagedQuery(t, o)
	c, _, _ := testClient(t, o)
	stop := errors.New("stop")
	n := 0
	err := c.Query(context.Background(), contactSOQL, func(json.RawMessage) error {
		n++
		if n == 3 {
			return stop
		}
		return nil
	})
	if err != stop || c.Calls() != 2 {
		t.Errorf("error %v after %d calls; want the callback's error after 2", err, c.Calls())
	}
}

func TestToolingQuery(t *testing.T) {
	t.Parallel()
	o := newFakeOrg(t)
	o.route("GET /services/data/v67.0/tooling/query", serveFixture(t, http.StatusOK, "query/tooling.json"))
	o.route(queryPath, serveFixture(t, http.StatusOK, "query/count.json"))
	c, _, _ := testClient(t, o)
	type app struct{ DeveloperName string }
	apps, err := ToolingQueryAll[app](context.Background(), c, "SELECT Id, DeveloperName FROM ConnectedApplication")
	if err != nil {
		t.Fatal(err)
	}
	if len(apps) != 1 || apps[0].DeveloperName != "ERP_Sync" {
		t.Errorf("apps %+v", apps)
	}
	n, err := QueryAll[app](context.Background(), c, "SELECT count() FROM SetupAuditTrail")
	if err != nil || len(n) != 0 {
		t.Errorf("count query: %v, %v", n, err)
	}
}

// TestQuerySessionExpiresMidPaging expires the session between batches.
func TestQuerySessionExpiresMidPaging(t *testing.T) {
	t.Parallel()
	t.Run("re-minted once", func(t *testing.T) {
		t.Parallel()
		o := newFakeOrg(t)
		pagedQuery(t, o)
		page2 := serveFixture(t, http.StatusOK, "query/page2.json")
		o.route(queryPath+"/01gRO0000016PIAYA2-2", func(w http.ResponseWriter, r *http.Request) {
			if o.hit(queryPath+"/01gRO0000016PIAYA2-2") == 1 {
				o.expireAll()
				o.sendAuthFailure(w, r)
				return
			}
			page2(w, r)
		})
		c, s, logBuf := testClient(t, o)
		got, err := QueryAll[contact](context.Background(), c, contactSOQL)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 5 || o.mintCount() != 2 || len(s.waits()) != 0 {
			t.Errorf("%d records, %d mints, waits %v; want 5, 2, none", len(got), o.mintCount(), s.waits())
		}
		assertNoSecret(t, "log", logBuf.String())
	})
	t.Run("rejected again", func(t *testing.T) {
		t.Parallel()
		o := newFakeOrg(t)
		pagedQuery(t, o)
		o.route(queryPath+"/01gRO0000016PIAYA2-2", func(w http.ResponseWriter, r *http.Request) {
			o.expireAll()
			o.sendAuthFailure(w, r)
		})
		c, _, _ := testClient(t, o)
		_, err := QueryAll[contact](context.Background(), c, contactSOQL)
		var ae *APIError
		if !errors.As(err, &ae) || ae.Status != 401 || ae.Code != "INVALID_SESSION_ID" || !errors.Is(err, ErrSessionInvalid) {
			t.Fatalf("error %v, want a 401 INVALID_SESSION_ID", err)
		}
		want := "GET /services/data/v67.0/query/01gRO0000016PIAYA2-2: HTTP 401 INVALID_SESSION_ID: Session expired or invalid; a newly minted token was rejected too"
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q\nwant it to contain %q", err, want)
		}
		if o.mintCount() != 2 {
			t.Errorf("%d mints, want 2", o.mintCount())
		}
		assertNoSecret(t, "error", err.Error())
	})
}

// TestQueryBadResponses feeds responses the query decoder must refuse with
// an error naming the endpoint, never a panic.
func TestQueryBadResponses(t *testing.T) {
	t.Parallel()
	text := func(status int, ct, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", ct)
			w.WriteHeader(status)
			io.WriteString(w, body)
		}
	}
	const jsonCT = "application/json;charset=UTF-8"
	tests := []struct {
		name     string
		handler  http.HandlerFunc
		want     string
		sentinel error
	}{
		{"malformed query", serveFixture(t, 400, "rest/malformed-query.json"), "HTTP 400 MALFORMED_QUERY: unexpected token: FORM", nil},
		{"invalid field", serveFixture(t, 400, "rest/invalid-field.json"), "INVALID_FIELD: No such column 'Foo' on entity 'Account'", nil},
		{"html page", serveFixture(t, 500, "rest/error-page.html"), `HTTP 500: got an HTML page (text/html) instead of JSON titled "Service Unavailable"`, ErrUnexpectedResponse},
		{"html with 200", serveFixture(t, 200, "rest/error-page.html"), "got an HTML page", ErrUnexpectedResponse},
		{"truncated", text(200, jsonCT, `{"totalSize": 3, "done": true, "records": [{"Id":`), "malformed JSON: the body is cut short", ErrUnexpectedResponse},
		{"records not an array", text(200, jsonCT, `{"totalSize": 1, "done": true, "records": "x"}`), "records is a JSON string", ErrUnexpectedResponse},
		{"done not a boolean", text(200, jsonCT, `{"done": "yes", "records": []}`), "done is a JSON string", ErrUnexpectedResponse},
		{"no done", text(200, jsonCT, `{"records": []}`), "no done member", ErrUnexpectedResponse},
		{"top level array", text(200, jsonCT, `[1,2]`), "the top level is a JSON array", ErrUnexpectedResponse},
		{"not done without next", text(200, jsonCT, `{"done": false, "records": []}`), "no nextRecordsUrl", ErrUnexpectedResponse},
		{"next on another host", text(200, jsonCT, `{"done": false, "nextRecordsUrl": "https://evil.example/services/data/v67.0/query/x", "records": []}`), "is not a /services/data/ path", ErrUnexpectedResponse},
		{"next escapes", text(200, jsonCT, `{"done": false, "nextRecordsUrl": "/services/data/../../x", "records": []}`), "is not a /services/data/ path", ErrUnexpectedResponse},
		{"next loops", text(200, jsonCT, `{"done": false, "nextRecordsUrl": "/services/data/v67.0/query", "records": []}`), "repeats an earlier batch", ErrUnexpectedResponse},
		{"empty body", text(200, jsonCT, ``), "empty body", ErrUnexpectedResponse},
		{"error not an array", text(400, jsonCT, `{"message":"x"}`), "HTTP 400: body is not the documented JSON", ErrUnexpectedResponse},
		{"redirect to login", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "https://login.salesforce.com/?startURL=%2Fservices%2Fdata&sid=abc", http.StatusFound)
		}, "HTTP 302: redirected to https://login.salesforce.com/;", ErrUnexpectedResponse},
		{"forbidden", text(403, jsonCT, `[{"message":"The REST API is not enabled for this Organization.","errorCode":"API_DISABLED_FOR_ORG"}]`), "HTTP 403 API_DISABLED_FOR_ORG", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := newFakeOrg(t)
			o.route(queryPath, tt.handler)
			o.route(queryPath+"/x", tt.handler)
			c, _, _ := testClient(t, o, func(cfg *Config) { cfg.MaxRetries = -1 })
			_, err := QueryAll[contact](context.Background(), c, "SELECT Id FROM Contact WHERE Secret__c = 'q-token-xyz'")
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "GET /services/data/v67.0/query") {
				t.Errorf("error %q\nwant it to name the endpoint and contain %q", err, tt.want)
			}
			if tt.sentinel != nil && !errors.Is(err, tt.sentinel) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.sentinel)
			}
			if tt.sentinel == nil {
				var ae *APIError
				if !errors.As(err, &ae) {
					t.Errorf("error %T, want *APIError", err)
				}
			}
			for _, leak := range []string{"q-token-xyz", "startURL", "sid=abc"} {
				if strings.Contains(err.Error(), leak) {
					t.Errorf("error quotes the query string (%s): %v", leak, err)
				}
			}
		})
	}
}

func TestQueryRecordDecodeError(t *testing.T) {
	t.Parallel()
	o := newFakeOrg(t)
	pagedQuery(t, o)
	c, _, _ := testClient(t, o)
	type wrong struct {
		ID int `json:"Id"`
	}
	_, err := QueryAll[wrong](context.Background(), c, contactSOQL)
	if err == nil || !strings.Contains(err.Error(), "query record 1: Id is a JSON string, expected int") {
		t.Errorf("error %v", err)
	}
}

func TestComposite(t *testing.T) {
	t.Parallel()
	o := newFakeOrg(t)
	var sent struct {
		AllOrNone bool         `json:"allOrNone"`
		Requests  []Subrequest `json:"compositeRequest"`
	}
	o.route("POST /services/data/v67.0/composite", func(w http.ResponseWriter, r *http.Request) {
		if err := json.NewDecoder(r.Body).Decode(&sent); err != nil {
			t.Error(err)
		}
		writeFixture(t, w, http.StatusOK, "rest/composite.json")
	})
	c, _, _ := testClient(t, o)
	subs := []Subrequest{
		{Method: "GET", URL: c.QueryPath("SELECT Id FROM User LIMIT 1"), ReferenceID: "users"},
		{Method: "GET", URL: c.DataPath("sobjects/User/@{users.records[0].Id}"), ReferenceID: "user0"},
	}
	res, err := c.Composite(context.Background(), subs)
	if err != nil {
		t.Fatal(err)
	}
	if sent.AllOrNone || len(sent.Requests) != 2 || sent.Requests[0].URL != "/services/data/v67.0/query?q=SELECT+Id+FROM+User+LIMIT+1" {
		t.Errorf("sent %+v", sent)
	}
	if res[0].Status != 200 || res[0].Err != nil || !strings.Contains(string(res[0].Body), "005xx0000012345AAA") {
		t.Errorf("result 0: %+v", res[0])
	}
	var ae *APIError
	if res[1].Status != 404 || !errors.As(res[1].Err, &ae) || ae.Code != "NOT_FOUND" || !strings.Contains(ae.Endpoint, "subrequest user0") {
		t.Errorf("result 1: %+v", res[1])
	}
	if c.Calls() != 1 {
		t.Errorf("%d calls, want 1", c.Calls())
	}
}

func TestCompositeLimits(t *testing.T) {
	t.Parallel()
	o := newFakeOrg(t)
	c, _, _ := testClient(t, o)
	ref := 0
	get := func(n int, url string) []Subrequest {
		var s []Subrequest
		for range n {
			ref++
			s = append(s, Subrequest{Method: "GET", URL: url, ReferenceID: fmt.Sprintf("r%d", ref)})
		}
		return s
	}
	sobject := c.DataPath("sobjects/User/005xx0000012345AAA")
	query := c.QueryPath("SELECT Id FROM User")
	tests := []struct {
		name string
		subs []Subrequest
		want string
	}{
		{"none", nil, "no subrequests"},
		{"26 subrequests", get(26, sobject), "26 subrequests, at most 25"},
		{"6 queries", append(get(6, query), get(1, sobject)[0]), "6 query or collection subrequests, at most 5"},
		{"6 queryAll", get(6, c.DataPath("queryAll?q=x")), "6 query or collection subrequests"},
		{"6 tooling queries", get(6, c.DataPath("tooling/query?q=x")), "6 query or collection subrequests"},
		{"6 collections", get(6, c.DataPath("composite/sobjects/User?ids=1")), "6 query or collection subrequests"},
		{"bad reference", []Subrequest{{Method: "GET", URL: sobject, ReferenceID: "_x"}}, "referenceId"},
		{"repeated reference", []Subrequest{{Method: "GET", URL: sobject, ReferenceID: "a"}, {Method: "GET", URL: sobject, ReferenceID: "a"}}, "repeats"},
		{"relative url", []Subrequest{{Method: "GET", URL: "sobjects/User", ReferenceID: "a"}}, "full /services/data/vNN.0/ path"},
		{"no method", []Subrequest{{URL: sobject, ReferenceID: "a"}}, "no method"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Composite(context.Background(), tt.subs)
			if !errors.Is(err, ErrCompositeLimit) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want ErrCompositeLimit containing %q", err, tt.want)
			}
		})
	}
	if _, err := c.Composite(context.Background(), append(get(5, query), get(20, sobject)...)); errors.Is(err, ErrCompositeLimit) {
		t.Errorf("25 subrequests with 5 queries refused: %v", err)
	}
	if n := o.hit("POST /services/data/v67.0/composite"); n != 1 {
		t.Errorf("%d composite requests reached the server, want only the valid one", n)
	}
}

func TestCompositeResponseMismatch(t *testing.T) {
	t.Parallel()
	o := newFakeOrg(t)
	o.route("POST /services/data/v67.0/composite", serveFixture(t, http.StatusOK, "rest/composite.json"))
	c, _, _ := testClient(t, o)
	_, err := c.Composite(context.Background(), []Subrequest{{Method: "GET", URL: c.DataPath("limits"), ReferenceID: "other"}})
	if !errors.Is(err, ErrUnexpectedResponse) || !strings.Contains(err.Error(), `unexpected referenceId "users"`) {
		t.Errorf("error %v", err)
	}
}
