package fakeorg

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// userLoginOf reads the UserLogin record of a user by SOQL.
func userLoginOf(t *testing.T, o *testOrg, token, username string) (id string, frozen bool) {
	t.Helper()
	u := o.query(t, token, "SELECT Id FROM User WHERE Username = '"+username+"'").json(t)["records"].([]any)[0].(map[string]any)["Id"].(string)
	r := o.query(t, token, "SELECT Id, UserId, IsFrozen FROM UserLogin WHERE UserId = '"+u+"'")
	if r.status != 200 {
		t.Fatalf("query UserLogin: %d %s", r.status, r.body)
	}
	recs := r.json(t)["records"].([]any)
	if len(recs) != 1 {
		t.Fatalf("UserLogin of %s: %s", username, r.body)
	}
	rec := recs[0].(map[string]any)
	if rec["UserId"] != u || !strings.HasPrefix(rec["Id"].(string), "060") {
		t.Fatalf("UserLogin record %v", rec)
	}
	return rec["Id"].(string), rec["IsFrozen"].(bool)
}

func TestFreezeUserStopsClientCredentials(t *testing.T) {
	o := startBasic(t)
	admin := o.login(t, "3MVG9scannerKEY", "SCANNERSECRET0001")
	o.login(t, "3MVG9erpKEY", "ERPSECRET00000001") // the run-as erp@ may mint
	id, frozen := userLoginOf(t, o, admin, "erp@test.example")
	if frozen {
		t.Fatal("a scenario user starts frozen")
	}
	patch := func(body string) response {
		return o.do(t, http.MethodPatch, "/services/data/v62.0/sobjects/UserLogin/"+id, admin, strings.NewReader(body), map[string]string{"Content-Type": "application/json"})
	}
	for range 2 { // setting it twice is the same as once
		if r := patch(`{"IsFrozen": true}`); r.status != http.StatusNoContent || len(r.body) != 0 {
			t.Fatalf("freeze: %d %s", r.status, r.body)
		}
	}
	if _, frozen := userLoginOf(t, o, admin, "erp@test.example"); !frozen {
		t.Fatal("IsFrozen still false after the update")
	}
	r := o.form(t, "/services/oauth2/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {"3MVG9erpKEY"}, "client_secret": {"ERPSECRET00000001"}}, nil)
	var oe struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if err := json.Unmarshal(r.body, &oe); err != nil || r.status != 400 || oe.Error != "invalid_grant" || oe.Description != "authentication failure" {
		t.Fatalf("token for a frozen run-as user: %d %s", r.status, r.body)
	}
	// Other apps' run-as users are untouched.
	o.login(t, "3MVG9scannerKEY", "SCANNERSECRET0001")

	if r := patch(`{"IsFrozen": false}`); r.status != http.StatusNoContent {
		t.Fatalf("unfreeze: %d %s", r.status, r.body)
	}
	o.login(t, "3MVG9erpKEY", "ERPSECRET00000001")
}

func TestPatchUserLoginRefusals(t *testing.T) {
	o := startBasic(t)
	admin := o.login(t, "3MVG9scannerKEY", "SCANNERSECRET0001")
	id, _ := userLoginOf(t, o, admin, "erp@test.example")
	for _, tc := range []struct {
		name, id, body, code string
		status               int
	}{
		{"unknown record", "060Ak000000ZZZZAAA", `{"IsFrozen": true}`, "NOT_FOUND", 404},
		{"not a UserLogin", "", `{"IsFrozen": true}`, "NOT_FOUND", 404},
		{"read-only field", id, `{"UserId": "005Ak0000000001IAA"}`, "INVALID_FIELD_FOR_INSERT_UPDATE", 400},
		{"unknown field", id, `{"IsDeleted": true}`, "INVALID_FIELD", 400},
		{"not a boolean", id, `{"IsFrozen": "yes"}`, "JSON_PARSER_ERROR", 400},
		{"not JSON", id, `IsFrozen=true`, "JSON_PARSER_ERROR", 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			target := tc.id
			if target == "" {
				target = o.query(t, admin, "SELECT Id FROM User WHERE Username = 'erp@test.example'").json(t)["records"].([]any)[0].(map[string]any)["Id"].(string)
			}
			r := o.do(t, http.MethodPatch, "/services/data/v62.0/sobjects/UserLogin/"+target, admin, strings.NewReader(tc.body), map[string]string{"Content-Type": "application/json"})
			if r.status != tc.status || r.errorCode(t) != tc.code {
				t.Fatalf("got %d %s, want %d %s", r.status, r.body, tc.status, tc.code)
			}
		})
	}
	if _, frozen := userLoginOf(t, o, admin, "erp@test.example"); frozen {
		t.Fatal("a refused update froze the user")
	}
	if r := o.do(t, http.MethodPatch, "/services/data/v62.0/sobjects/UserLogin/"+id, "", strings.NewReader(`{"IsFrozen": true}`), nil); r.status != 401 {
		t.Fatalf("unauthenticated update: %d", r.status)
	}
}
