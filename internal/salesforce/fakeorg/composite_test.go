package fakeorg

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

type compositeResult struct {
	CompositeResponse []struct {
		Body           json.RawMessage   `json:"body"`
		HTTPHeaders    map[string]string `json:"httpHeaders"`
		HTTPStatusCode int               `json:"httpStatusCode"`
		ReferenceID    string            `json:"referenceId"`
	} `json:"compositeResponse"`
}

func sub(ref, soql string) map[string]string {
	return map[string]string{"method": "GET", "referenceId": ref, "url": "/services/data/v62.0/query?q=" + url.QueryEscape(soql)}
}

func (o *testOrg) composite(t *testing.T, token string, allOrNone bool, subs ...map[string]string) response {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"allOrNone": allOrNone, "collateSubrequests": true, "compositeRequest": subs})
	return o.do(t, http.MethodPost, "/services/data/v62.0/composite", token, strings.NewReader(string(body)), map[string]string{"Content-Type": "application/json"})
}

func TestComposite(t *testing.T) {
	t.Parallel()
	o := startBasic(t)
	tok := o.login(t, scannerKey, scannerSecret)
	before, _ := o.srv.APIUsage()

	r := o.composite(t, tok, false,
		sub("users", "SELECT Id, Username FROM User WHERE Username = 'erp@test.example'"),
		map[string]string{"method": "GET", "referenceId": "psa", "url": "/services/data/v62.0/query?q=SELECT+PermissionSet.Name+FROM+PermissionSetAssignment+WHERE+AssigneeId+=+'@{users.records[0].Id}'+AND+PermissionSet.IsOwnedByProfile+=+false+AND+PermissionSetGroupId+=+null"},
		map[string]string{"method": "GET", "referenceId": "limits", "url": "/services/data/v62.0/limits"},
		sub("bad", "SELECT Nope FROM User"),
		map[string]string{"method": "GET", "referenceId": "dependent", "url": "/services/data/v62.0/query?q=SELECT+Id+FROM+User+WHERE+Id+=+'@{bad.records[0].Id}'"},
		map[string]string{"method": "PATCH", "referenceId": "write", "url": "/services/data/v62.0/sobjects/User/005Ak0000000001IAA"},
	)
	if r.status != 200 {
		t.Fatalf("composite: %d %s", r.status, r.body)
	}
	var got compositeResult
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, c := range got.CompositeResponse {
		codes = append(codes, fmt.Sprintf("%s:%d", c.ReferenceID, c.HTTPStatusCode))
	}
	if want := "users:200 psa:200 limits:200 bad:400 dependent:400 write:405"; strings.Join(codes, " ") != want {
		t.Errorf("statuses %v, want %s", codes, want)
	}
	if !strings.Contains(string(got.CompositeResponse[1].Body), `"Name":"Erp_PS"`) {
		t.Errorf("reference not resolved: %s", got.CompositeResponse[1].Body)
	}
	if !strings.Contains(string(got.CompositeResponse[4].Body), "PROCESSING_HALTED") {
		t.Errorf("dependent on a failure: %s", got.CompositeResponse[4].Body)
	}
	if after, _ := o.srv.APIUsage(); after != before+1 {
		t.Errorf("composite counted %d calls, want 1", after-before)
	}

	// allOrNone: every other subrequest reports PROCESSING_HALTED.
	r = o.composite(t, tok, true, sub("a", "SELECT Id FROM User"), sub("b", "SELECT Nope FROM User"), sub("c", "SELECT Id FROM User"))
	got = compositeResult{}
	json.Unmarshal(r.body, &got)
	for i, want := range []string{"PROCESSING_HALTED", "INVALID_FIELD", "PROCESSING_HALTED"} {
		c := got.CompositeResponse[i]
		if c.HTTPStatusCode != 400 || !strings.Contains(string(c.Body), want) {
			t.Errorf("allOrNone subrequest %d: %d %s, want %s", i, c.HTTPStatusCode, c.Body, want)
		}
	}
}

func TestCompositeLimits(t *testing.T) {
	t.Parallel()
	o := startBasic(t)
	tok := o.login(t, scannerKey, scannerSecret)
	many := func(n int, query bool) []map[string]string {
		var subs []map[string]string
		for i := range n {
			s := map[string]string{"method": "GET", "referenceId": fmt.Sprintf("r%d", i), "url": "/services/data/v62.0/limits"}
			if query {
				s = sub(fmt.Sprintf("q%d", i), "SELECT Id FROM User LIMIT 1")
			}
			subs = append(subs, s)
		}
		return subs
	}
	tests := []struct {
		name string
		subs []map[string]string
		want int
		code string
	}{
		{"25 subrequests", many(25, false), 200, ""},
		{"26 subrequests", many(26, false), 400, "LIMIT_EXCEEDED"},
		{"5 queries", many(5, true), 200, ""},
		{"6 queries", many(6, true), 400, "LIMIT_EXCEEDED"},
		{"empty", nil, 400, "INVALID_INPUT"},
		{"bad reference id", []map[string]string{{"method": "GET", "referenceId": "_x", "url": "/services/data/v62.0/limits"}}, 400, "INVALID_INPUT"},
		{"duplicate reference id", append(many(1, false), many(1, false)...), 400, "INVALID_INPUT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := o.composite(t, tok, false, tt.subs...)
			if r.status != tt.want {
				t.Fatalf("status %d, want %d: %.200s", r.status, tt.want, r.body)
			}
			if tt.code != "" && r.errorCode(t) != tt.code {
				t.Errorf("errorCode %s, want %s", r.errorCode(t), tt.code)
			}
		})
	}
	if r := o.do(t, http.MethodPost, "/services/data/v62.0/composite", tok, strings.NewReader("{not json"), nil); r.status != 400 || r.errorCode(t) != "JSON_PARSER_ERROR" {
		t.Errorf("malformed body: %d %s", r.status, r.body)
	}
}

func TestLookupReference(t *testing.T) {
	t.Parallel()
	results := map[string]any{"q": map[string]any{"totalSize": float64(2), "records": []any{
		map[string]any{"Id": "005A", "Profile": map[string]any{"Name": "Admin"}, "IsActive": true},
	}}}
	tests := []struct{ expr, want string }{
		{"q.totalSize", "2"},
		{"q.records[0].Id", "005A"},
		{"q.records[0].Profile.Name", "Admin"},
		{"q.records[0].IsActive", "true"},
		{"q.records[1].Id", ""},
		{"q.records", ""},
		{"nope.x", ""},
		{"q.", ""},
	}
	for _, tt := range tests {
		got, err := lookupReference(tt.expr, results)
		if (err != nil) != (tt.want == "") || got != tt.want {
			t.Errorf("%s = %q, %v; want %q", tt.expr, got, err, tt.want)
		}
	}
}
