package fakeorg

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

const psaURL = "/services/data/v62.0/sobjects/PermissionSetAssignment/"

// recordID runs a one-row query and returns the row's Id.
func (o *testOrg) recordID(t *testing.T, token, soql string) string {
	t.Helper()
	r := o.query(t, token, soql)
	recs, _ := r.json(t)["records"].([]any)
	if len(recs) != 1 {
		t.Fatalf("%s: %d records: %s", soql, len(recs), r.body)
	}
	return recs[0].(map[string]any)["Id"].(string)
}

func (o *testOrg) assignments(t *testing.T, token, userID string) []map[string]any {
	t.Helper()
	r := o.query(t, token, "SELECT Id, PermissionSet.Name, ExpirationDate, IsActive FROM PermissionSetAssignment WHERE AssigneeId = '"+userID+"'")
	if r.status != 200 {
		t.Fatalf("query: %d %s", r.status, r.body)
	}
	var out []map[string]any
	for _, x := range r.json(t)["records"].([]any) {
		out = append(out, x.(map[string]any))
	}
	return out
}

func TestCreateAndDeleteAssignment(t *testing.T) {
	o := startBasic(t)
	tok := o.login(t, scannerKey, scannerSecret)
	user := o.recordID(t, tok, "SELECT Id FROM User WHERE Username = 'billing@test.example'")
	set := o.recordID(t, tok, "SELECT Id FROM PermissionSet WHERE Name = 'Risky'")
	before := len(o.assignments(t, tok, user))
	body := `{"AssigneeId":"` + user + `","PermissionSetId":"` + set + `","ExpirationDate":"2026-11-20T14:00:00.000+0000"}`
	r := o.do(t, http.MethodPost, psaURL, tok, strings.NewReader(body), map[string]string{"Content-Type": "application/json"})
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	var res struct {
		ID      string `json:"id"`
		Success bool   `json:"success"`
		Errors  []any  `json:"errors"`
	}
	if err := json.Unmarshal(r.body, &res); err != nil || !res.Success || res.Errors == nil || !strings.HasPrefix(res.ID, "0Pa") || len(res.ID) != 18 {
		t.Fatalf("create result %s", r.body)
	}
	if !strings.HasPrefix(string(r.body), `{"id":`) {
		t.Errorf("members out of the documented order: %s", r.body)
	}
	as := o.assignments(t, tok, user)
	if len(as) != before+1 {
		t.Fatalf("assignments after create: %v", as)
	}
	var mine map[string]any
	for _, a := range as {
		if a["Id"] == res.ID {
			mine = a
		}
	}
	if mine == nil || mine["ExpirationDate"] != "2026-11-20T14:00:00.000+0000" || mine["IsActive"] != true ||
		mine["PermissionSet"].(map[string]any)["Name"] != "Risky" {
		t.Fatalf("created assignment reads %v", mine)
	}

	// The same assignment again is a duplicate.
	r = o.do(t, http.MethodPost, psaURL, tok, strings.NewReader(body), map[string]string{"Content-Type": "application/json"})
	if r.status != 400 || r.errorCode(t) != "DUPLICATE_VALUE" || !strings.Contains(string(r.body), res.ID) {
		t.Fatalf("duplicate: %d %s", r.status, r.body)
	}

	// Past its expiry the assignment reads inactive and stays in place.
	o.clock.Advance(3 * time.Hour)
	tok = o.login(t, scannerKey, scannerSecret)
	for _, a := range o.assignments(t, tok, user) {
		if a["Id"] == res.ID && a["IsActive"] != false {
			t.Fatalf("expired assignment reads %v", a)
		}
	}

	r = o.do(t, http.MethodDelete, psaURL+res.ID, tok, nil, nil)
	if r.status != 204 || len(r.body) != 0 {
		t.Fatalf("delete: %d %q", r.status, r.body)
	}
	if as := o.assignments(t, tok, user); len(as) != before {
		t.Fatalf("assignments after delete: %v", as)
	}
	r = o.do(t, http.MethodDelete, psaURL+res.ID, tok, nil, nil)
	if r.status != 404 || r.errorCode(t) != "ENTITY_IS_DELETED" {
		t.Fatalf("second delete: %d %s", r.status, r.body)
	}
	r = o.do(t, http.MethodDelete, psaURL+"0PaAk00000000ZZAAA", tok, nil, nil)
	if r.status != 404 || r.errorCode(t) != "NOT_FOUND" {
		t.Fatalf("delete of an unknown ID: %d %s", r.status, r.body)
	}
}

func TestCreateAssignmentRefused(t *testing.T) {
	o := startBasic(t)
	tok := o.login(t, scannerKey, scannerSecret)
	user := o.recordID(t, tok, "SELECT Id FROM User WHERE Username = 'billing@test.example'")
	gone := o.recordID(t, tok, "SELECT Id FROM User WHERE Username = 'gone@test.example'")
	set := o.recordID(t, tok, "SELECT Id FROM PermissionSet WHERE Name = 'Risky'")
	profileSet := o.recordID(t, tok, "SELECT Id FROM PermissionSet WHERE IsOwnedByProfile = true AND Profile.Name = 'Integration'")
	for _, tc := range []struct {
		name, body, code, field string
		status                  int
	}{
		{"not JSON", `AssigneeId=1`, "JSON_PARSER_ERROR", "", 400},
		{"missing assignee", `{"PermissionSetId":"` + set + `"}`, "REQUIRED_FIELD_MISSING", "AssigneeId", 400},
		{"missing set", `{"AssigneeId":"` + user + `"}`, "REQUIRED_FIELD_MISSING", "PermissionSetId", 400},
		{"Id given", `{"Id":"0PaAk0000000001AAA","AssigneeId":"` + user + `"}`, "INVALID_FIELD", "", 400},
		{"unknown field", `{"Foo__c":1,"AssigneeId":"` + user + `"}`, "INVALID_FIELD", "", 400},
		{"read-only field", `{"IsActive":true,"AssigneeId":"` + user + `","PermissionSetId":"` + set + `"}`, "INVALID_FIELD_FOR_INSERT_UPDATE", "IsActive", 400},
		{"set as assignee", `{"AssigneeId":"` + set + `","PermissionSetId":"` + set + `"}`, "FIELD_INTEGRITY_EXCEPTION", "AssigneeId", 400},
		{"profile set", `{"AssigneeId":"` + user + `","PermissionSetId":"` + profileSet + `"}`, "FIELD_INTEGRITY_EXCEPTION", "PermissionSetId", 400},
		{"inactive user", `{"AssigneeId":"` + gone + `","PermissionSetId":"` + set + `"}`, "FIELD_INTEGRITY_EXCEPTION", "AssigneeId", 400},
		{"past expiry", `{"AssigneeId":"` + user + `","PermissionSetId":"` + set + `","ExpirationDate":"2026-11-20T11:00:00Z"}`, "FIELD_INTEGRITY_EXCEPTION", "ExpirationDate", 400},
		{"bad expiry", `{"AssigneeId":"` + user + `","PermissionSetId":"` + set + `","ExpirationDate":"tomorrow"}`, "JSON_PARSER_ERROR", "ExpirationDate", 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := o.do(t, http.MethodPost, psaURL, tok, strings.NewReader(tc.body), map[string]string{"Content-Type": "application/json"})
			if r.status != tc.status || r.errorCode(t) != tc.code {
				t.Fatalf("%d %s; want %d %s", r.status, r.body, tc.status, tc.code)
			}
			if tc.field != "" && !strings.Contains(string(r.body), `"fields":["`+tc.field+`"]`) {
				t.Errorf("error does not name field %s: %s", tc.field, r.body)
			}
		})
	}
	r := o.do(t, http.MethodPost, "/services/data/v62.0/sobjects/LoginHistory/", tok, strings.NewReader(`{}`), nil)
	if r.status != 400 || r.errorCode(t) != "INVALID_TYPE_FOR_OPERATION" {
		t.Fatalf("create of a read-only type: %d %s", r.status, r.body)
	}
	r = o.do(t, http.MethodPost, "/services/data/v62.0/sobjects/Nope__c/", tok, strings.NewReader(`{}`), nil)
	if r.status != 404 || r.errorCode(t) != "NOT_FOUND" {
		t.Fatalf("create of an unknown type: %d %s", r.status, r.body)
	}
	r = o.do(t, http.MethodPost, psaURL, "bogus", strings.NewReader(`{}`), nil)
	if r.status != 401 || r.errorCode(t) != "INVALID_SESSION_ID" {
		t.Fatalf("create without a session: %d %s", r.status, r.body)
	}
	if as := o.assignments(t, tok, user); len(as) != 1 {
		t.Fatalf("refused creates left assignments: %v", as)
	}
}

// FuzzCreateAssignment posts arbitrary bodies: the emulator answers 201 or
// a documented error array, never panics, and a 201 names a new record.
func FuzzCreateAssignment(f *testing.F) {
	for _, s := range []string{
		`{"AssigneeId":"005Ak0000000001AAA","PermissionSetId":"0PSAk0000000001AAA"}`,
		`{"AssigneeId":1}`, `[]`, `null`, `{"ExpirationDate":"2026-11-20T14:00:00.000+0000"}`, `{"Id":"x"}`, `{`,
	} {
		f.Add([]byte(s))
	}
	sc, err := LoadScenario("testdata/basic.yaml")
	if err != nil {
		f.Fatal(err)
	}
	sc.Org.APIDailyMax = 1 << 30 // the scenario's small daily limit would end the run
	o := startScenario(f, sc)
	tok := o.login(f, scannerKey, scannerSecret)
	f.Fuzz(func(t *testing.T, body []byte) {
		r := o.do(t, http.MethodPost, psaURL, tok, strings.NewReader(string(body)), map[string]string{"Content-Type": "application/json"})
		switch r.status {
		case 201:
			var res struct{ ID string }
			if json.Unmarshal(r.body, &res) != nil || !strings.HasPrefix(res.ID, "0Pa") {
				t.Fatalf("201 without a record id: %s", r.body)
			}
		case 400:
			r.errorCode(t)
		default:
			t.Fatalf("status %d: %s", r.status, r.body)
		}
	})
}
