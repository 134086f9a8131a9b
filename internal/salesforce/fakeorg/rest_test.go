package fakeorg

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/steward-dev/steward/internal/salesforce/fakeorg/soql"
)

func TestVersions(t *testing.T) {
	t.Parallel()
	o := startBasic(t)
	r := o.do(t, http.MethodGet, "/services/data/", "", nil, nil)
	if r.status != 200 || r.header.Get("Sforce-Limit-Info") != "" {
		t.Fatalf("versions: %d, limit header %q", r.status, r.header.Get("Sforce-Limit-Info"))
	}
	var versions []map[string]string
	if err := json.Unmarshal(r.body, &versions); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"62.0": "Winter '25", "67.0": "Summer '26", "66.0": "Spring '26", "31.0": "Summer '14"}
	for _, v := range versions {
		if label, ok := want[v["version"]]; ok {
			if v["label"] != label || v["url"] != "/services/data/v"+v["version"] {
				t.Errorf("version %v", v)
			}
			delete(want, v["version"])
		}
	}
	if len(want) > 0 {
		t.Errorf("missing versions %v", want)
	}
	if used, _ := o.srv.APIUsage(); used != 10 {
		t.Errorf("the versions call was counted: %d", used)
	}
}

func TestQuery(t *testing.T) {
	t.Parallel()
	o := startBasic(t)
	tok := o.login(t, scannerKey, scannerSecret)
	tests := []struct {
		name string
		soql string
		want string // JSON of the records with attributes removed, or the errorCode
	}{
		{"relationship paths", "SELECT Username, Profile.Name, Profile.UserLicense.Name FROM User WHERE Username = 'ERP@test.example'",
			`[{"Username":"erp@test.example","Profile":{"Name":"Integration","UserLicense":{"Name":"Salesforce Integration"}}}]`},
		{"null lookup", "SELECT PermissionSet.Name, PermissionSetGroup.DeveloperName FROM PermissionSetAssignment WHERE PermissionSet.Name = 'Erp_PS'",
			`[{"PermissionSet":{"Name":"Erp_PS"},"PermissionSetGroup":null}]`},
		{"datetime format", "SELECT LastLoginDate FROM User WHERE Username = 'erp@test.example'",
			`[{"LastLoginDate":"2026-01-02T03:04:05.000+0000"}]`},
		{"semi-join", "SELECT Name FROM PermissionSet WHERE IsOwnedByProfile = false AND Id IN (SELECT PermissionSetId FROM PermissionSetAssignment WHERE Assignee.Username = 'scanner@test.example')",
			`[{"Name":"Scanner_PS"}]`},
		{"IN list and ORDER BY DESC", "SELECT Username FROM User WHERE Username IN ('erp@test.example', 'gone@test.example') ORDER BY Username DESC",
			`[{"Username":"gone@test.example"},{"Username":"erp@test.example"}]`},
		{"NOT IN, OR, NOT, parentheses", "SELECT Username FROM User WHERE NOT (Username NOT IN ('admin@test.example') OR IsActive = false) ORDER BY Username",
			`[{"Username":"admin@test.example"}]`},
		{"LIKE", "SELECT Username FROM User WHERE Username LIKE 'b_lling%' ", `[{"Username":"billing@test.example"}]`},
		{"null comparison", "SELECT Username FROM User WHERE LastLoginDate = null ORDER BY Username LIMIT 1", `[{"Username":"billing@test.example"}]`},
		{"LIMIT OFFSET", "SELECT Username FROM User ORDER BY Username LIMIT 1 OFFSET 2", `[{"Username":"erp@test.example"}]`},
		{"NULLS LAST", "SELECT Username FROM User ORDER BY LastLoginDate ASC NULLS LAST LIMIT 1", `[{"Username":"erp@test.example"}]`},
		{"datetime literal", "SELECT Username FROM User WHERE LastLoginDate < 2026-06-01T00:00:00Z", `[{"Username":"erp@test.example"}]`},
		{"LAST_N_DAYS", "SELECT count() FROM LoginHistory WHERE LoginTime = LAST_N_DAYS:1 AND Application = 'ERP Sync'", `count 1`},
		{"object prefix", "SELECT User.Username FROM User WHERE User.Username = 'erp@test.example'", `[{"Username":"erp@test.example"}]`},
		{"permission fields", "SELECT Name, PermissionsModifyAllData, PermissionsCustomThing FROM PermissionSet WHERE Name = 'Risky'",
			`[{"Name":"Risky","PermissionsModifyAllData":true,"PermissionsCustomThing":true}]`},
		{"group aggregate", "SELECT Type, PermissionsModifyAllData FROM PermissionSet WHERE PermissionSetGroup.DeveloperName = 'Bundle'",
			`[{"Type":"Group","PermissionsModifyAllData":true}]`},
		{"expired assignment", "SELECT IsActive, ExpirationDate FROM PermissionSetAssignment WHERE PermissionSetGroupId != null",
			`[{"IsActive":false,"ExpirationDate":"2020-01-01T00:00:00.000+0000"}]`},
		{"setup entity access", "SELECT Parent.Name, SetupEntityType FROM SetupEntityAccess WHERE SetupEntityType IN ('ConnectedApplication', 'ExternalClientApplication') ORDER BY SetupEntityType",
			`[{"Parent":{"Name":"Erp_PS"},"SetupEntityType":"ConnectedApplication"},{"Parent":{"Name":"X0PSAk0000000002"},"SetupEntityType":"ExternalClientApplication"}]`},
		{"ECA policy", "SELECT ExternalClientApplication.DeveloperName, ClientCredentialsFlowUser, IsClientCredentialsFlowEnabled, SessionTimeoutInMinutes FROM ExtlClntAppOauthPlcyCnfg WHERE ExternalClientApplication.DeveloperName = 'Billing'",
			`[{"ExternalClientApplication":{"DeveloperName":"Billing"},"ClientCredentialsFlowUser":"billing@test.example","IsClientCredentialsFlowEnabled":true,"SessionTimeoutInMinutes":30}]`},
		{"ECA scopes", "SELECT OauthScopesAPI, OauthScopesPROFILE, OauthScopesFULL FROM ExtlClntAppOauthSettings WHERE DeveloperName = 'Billing_oauth'",
			`[{"OauthScopesAPI":true,"OauthScopesPROFILE":true,"OauthScopesFULL":false}]`},
		{"audit trail", "SELECT Action, Section, Display, CreatedBy.Username FROM SetupAuditTrail ORDER BY CreatedDate DESC",
			`[{"Action":"PermSetAssign","Section":"Manage Users","Display":"Assigned Risky to erp","CreatedBy":{"Username":"admin@test.example"}}]`},
		{"count", "SELECT count() FROM User WHERE IsActive = true", `count 4`},
		{"unknown field", "SELECT Foo FROM User", "INVALID_FIELD"},
		{"unknown relationship", "SELECT Boss.Name FROM User", "INVALID_FIELD"},
		{"tooling-only field on REST", "SELECT DeveloperName FROM ConnectedApplication", "INVALID_FIELD"},
		{"unknown object", "SELECT Id FROM Account", "INVALID_TYPE"},
		{"unfilterable field", "SELECT Id FROM SetupAuditTrail WHERE Display = 'x'", "INVALID_FIELD"},
		{"syntax", "SELECT Id FROM User WHERE", "MALFORMED_QUERY"},
		{"aggregate", "SELECT count(Id) FROM SetupAuditTrail", "MALFORMED_QUERY"},
		{"GROUP BY", "SELECT Id FROM User GROUP BY Id", "MALFORMED_QUERY"},
		{"duplicate field", "SELECT Id, id FROM User", "MALFORMED_QUERY"},
		{"quoted boolean", "SELECT Id FROM User WHERE IsActive = 'true'", "INVALID_QUERY_FILTER_OPERATOR"},
		{"date literal on text", "SELECT Id FROM User WHERE Username = TODAY", "INVALID_QUERY_FILTER_OPERATOR"},
		{"semi-join on text", "SELECT Id FROM User WHERE Username IN (SELECT AssigneeId FROM PermissionSetAssignment)", "INVALID_FIELD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := o.query(t, tok, tt.soql)
			if !strings.HasPrefix(tt.want, "[") && !strings.HasPrefix(tt.want, "count") {
				if r.status != 400 || r.errorCode(t) != tt.want {
					t.Errorf("got %d %s, want 400 %s", r.status, r.body, tt.want)
				}
				return
			}
			if r.status != 200 {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			v := r.json(t)
			if n, ok := strings.CutPrefix(tt.want, "count "); ok {
				if fmt.Sprint(v["totalSize"]) != n || v["done"] != true || len(v["records"].([]any)) != 0 {
					t.Errorf("count: %s", r.body)
				}
				return
			}
			var want any
			if err := json.Unmarshal([]byte(tt.want), &want); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, stripAttributes(t, v["records"])); diff != "" {
				t.Errorf("records (-want +got):\n%s", diff)
			}
		})
	}
}

// stripAttributes removes every "attributes" member after checking it.
func stripAttributes(t testing.TB, v any) any {
	switch v := v.(type) {
	case []any:
		for i := range v {
			v[i] = stripAttributes(t, v[i])
		}
	case map[string]any:
		if a, ok := v["attributes"].(map[string]any); ok {
			if !strings.HasPrefix(a["url"].(string), "/services/data/v62.0/") || !strings.Contains(a["url"].(string), "/sobjects/"+a["type"].(string)+"/") {
				t.Errorf("bad attributes %v", a)
			}
		}
		delete(v, "attributes")
		for k := range v {
			v[k] = stripAttributes(t, v[k])
		}
	}
	return v
}

func TestQueryFieldOrderAndAttributes(t *testing.T) {
	t.Parallel()
	o := startBasic(t)
	tok := o.login(t, scannerKey, scannerSecret)
	r := o.query(t, tok, "SELECT Username, Id FROM User WHERE Username = 'admin@test.example'")
	want := `{"totalSize":1,"done":true,"records":[{"attributes":{"type":"User","url":"/services/data/v62.0/sobjects/User/005Ak0000000001IAA"},"Username":"admin@test.example","Id":"005Ak0000000001IAA"}]}`
	if string(r.body) != want {
		t.Errorf("got  %s\nwant %s", r.body, want)
	}
	if got := r.header.Get("Sforce-Limit-Info"); got != "api-usage=11/1000" {
		t.Errorf("Sforce-Limit-Info = %q", got)
	}
}

func TestPaging(t *testing.T) {
	t.Parallel()
	o := startScenario(t, Generate(10, 450, 1))
	key, secret, _ := o.srv.org.sc.Credentials(ScannerApp)
	tok := o.login(t, key, secret)
	soql := "SELECT Id, Username FROM User ORDER BY Username"
	var all []string
	r := o.do(t, http.MethodGet, "/services/data/v62.0/query?q="+url.QueryEscape(soql), tok, nil, map[string]string{"Sforce-Query-Options": "batchSize=200"})
	var sizes []int
	for {
		if r.status != 200 {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
		v := r.json(t)
		recs := v["records"].([]any)
		sizes = append(sizes, len(recs))
		for _, rec := range recs {
			all = append(all, rec.(map[string]any)["Username"].(string))
		}
		if v["totalSize"] != float64(452) {
			t.Fatalf("totalSize %v", v["totalSize"])
		}
		if v["done"] == true {
			if _, ok := v["nextRecordsUrl"]; ok {
				t.Error("nextRecordsUrl on the last batch")
			}
			break
		}
		next := v["nextRecordsUrl"].(string)
		if !strings.HasPrefix(next, "/services/data/v62.0/query/01g") {
			t.Fatalf("nextRecordsUrl %q", next)
		}
		r = o.do(t, http.MethodGet, next, tok, nil, nil)
	}
	if diff := cmp.Diff([]int{200, 200, 52}, sizes); diff != "" {
		t.Errorf("batch sizes (-want +got):\n%s", diff)
	}
	if len(all) != 452 || all[0] != "admin@bench.example" || all[451] != "scanner@bench.example" {
		t.Errorf("records: %d, first %q, last %q", len(all), all[0], all[len(all)-1])
	}
	// The locator is gone once read to the end, and unknown ones fail.
	for _, path := range []string{"/services/data/v62.0/query/01gnope-200", "/services/data/v62.0/query/garbage"} {
		if r := o.do(t, http.MethodGet, path, tok, nil, nil); r.status != 400 || r.errorCode(t) != "INVALID_QUERY_LOCATOR" {
			t.Errorf("%s: %d %s", path, r.status, r.body)
		}
	}
	// Default batch is 2000; a batchSize below 200 is raised to 200.
	r = o.do(t, http.MethodGet, "/services/data/v62.0/query?q="+url.QueryEscape(soql), tok, nil, map[string]string{"Sforce-Query-Options": "batchSize=5"})
	if n := len(r.json(t)["records"].([]any)); n != 200 {
		t.Errorf("batchSize=5 gave %d records, want 200", n)
	}
	if n := len(o.query(t, tok, soql).json(t)["records"].([]any)); n != 452 {
		t.Errorf("default batch gave %d records, want all 452", n)
	}
}

func TestLocatorExpiry(t *testing.T) {
	t.Parallel()
	o := startBasic(t) // api.batchSize: 2
	tok := o.login(t, scannerKey, scannerSecret)
	next := o.query(t, tok, "SELECT Id FROM User").json(t)["nextRecordsUrl"].(string)
	o.clock.Advance(16 * time.Minute)
	tok = o.login(t, scannerKey, scannerSecret)
	if r := o.do(t, http.MethodGet, next, tok, nil, nil); r.status != 400 || r.errorCode(t) != "INVALID_QUERY_LOCATOR" {
		t.Errorf("stale locator: %d %s", r.status, r.body)
	}
}

func TestTooling(t *testing.T) {
	t.Parallel()
	o := startBasic(t)
	tok := o.login(t, scannerKey, scannerSecret)
	r := o.do(t, http.MethodGet, "/services/data/v62.0/tooling/query?q="+url.QueryEscape("SELECT DeveloperName, Name, SessionTimeout, ContactEmail FROM ConnectedApplication ORDER BY DeveloperName"), tok, nil, nil)
	v := r.json(t)
	if r.status != 200 || v["size"] != float64(6) || v["entityTypeName"] != "ConnectedApplication" || v["queryLocator"] == nil {
		t.Fatalf("tooling: %d %s", r.status, r.body)
	}
	if !strings.HasPrefix(string(r.body), `{"size":6,"totalSize":6,"done":false,"queryLocator":"01g`) {
		t.Errorf("member order: %.80s", r.body)
	}
	first := v["records"].([]any)[0].(map[string]any)
	if first["DeveloperName"] != "Erp_Sync" || first["Name"] != "ERP Sync" || first["SessionTimeout"] != nil ||
		!strings.HasPrefix(first["attributes"].(map[string]any)["url"].(string), "/services/data/v62.0/tooling/sobjects/ConnectedApplication/0H4") {
		t.Errorf("first record %v", first)
	}
	next := v["nextRecordsUrl"].(string)
	if !strings.HasPrefix(next, "/services/data/v62.0/tooling/query/01g") {
		t.Fatalf("nextRecordsUrl %q", next)
	}
	if r := o.do(t, http.MethodGet, next, tok, nil, nil); r.status != 200 || r.json(t)["entityTypeName"] != "ConnectedApplication" {
		t.Errorf("tooling queryMore: %d %s", r.status, r.body)
	}
}

func TestAuthFailures(t *testing.T) {
	t.Parallel()
	o := startBasic(t)
	for _, tc := range []struct{ name, token string }{{"none", ""}, {"garbage", "00D000000000001!nope"}} {
		for _, path := range []string{"/services/data/v62.0/query?q=SELECT+Id+FROM+User", "/services/data/v62.0/limits", "/services/data/v62.0/composite"} {
			r := o.do(t, http.MethodGet, path, tc.token, nil, nil)
			if r.status != 401 || r.errorCode(t) != "INVALID_SESSION_ID" || !strings.Contains(string(r.body), `"message":"Session expired or invalid"`) {
				t.Errorf("%s %s: %d %s", tc.name, path, r.status, r.body)
			}
		}
	}
	if used, _ := o.srv.APIUsage(); used != 10 {
		t.Errorf("unauthenticated calls were counted: %d", used)
	}
	tok := o.login(t, scannerKey, scannerSecret)
	for _, path := range []string{"/services/data/v99.0/limits", "/services/data/v62.0/sobjects/Account", "/services/apexrest/x"} {
		if r := o.do(t, http.MethodGet, path, tok, nil, nil); r.status != 404 || r.errorCode(t) != "NOT_FOUND" {
			t.Errorf("%s: %d %s", path, r.status, r.body)
		}
	}
}

func TestDailyLimit(t *testing.T) {
	t.Parallel()
	sc, err := LoadScenario("testdata/basic.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sc.Org.APIUsed = 998
	o := startScenario(t, sc)
	tok := o.login(t, scannerKey, scannerSecret)
	for i, want := range []int{200, 200, 403, 403} {
		r := o.do(t, http.MethodGet, "/services/data/v62.0/limits", tok, nil, nil)
		if r.status != want {
			t.Fatalf("call %d: %d %s", i, r.status, r.body)
		}
		if want == 403 && (r.errorCode(t) != "REQUEST_LIMIT_EXCEEDED" || r.header.Get("Sforce-Limit-Info") != "api-usage=1000/1000") {
			t.Errorf("call %d: %s, header %q", i, r.body, r.header.Get("Sforce-Limit-Info"))
		}
	}
}

func TestLimits(t *testing.T) {
	t.Parallel()
	o := startBasic(t)
	tok := o.login(t, scannerKey, scannerSecret)
	o.query(t, tok, "SELECT Id FROM User")
	r := o.do(t, http.MethodGet, "/services/data/v62.0/limits", tok, nil, nil)
	daily := r.json(t)["DailyApiRequests"].(map[string]any)
	want := map[string]any{"Max": float64(1000), "Remaining": float64(988), "Scanner App": map[string]any{"Max": float64(0), "Remaining": float64(0)}}
	if diff := cmp.Diff(want, daily); diff != "" {
		t.Errorf("DailyApiRequests (-want +got):\n%s", diff)
	}
}

func TestOAuthUsage(t *testing.T) {
	t.Parallel()
	o := startBasic(t)
	tok := o.login(t, scannerKey, scannerSecret)
	r := o.do(t, http.MethodGet, "/services/data/v62.0/apps/oauth/usage?page=0&pageSize=1", tok, nil, nil)
	v := r.json(t)
	apps := v["apps"].([]any)
	if r.status != 200 || len(apps) != 1 || v["nextPageUrl"] != "/services/data/v62.0/apps/oauth/usage?page=1&pageSize=1" {
		t.Fatalf("usage: %d %s", r.status, r.body)
	}
	first := apps[0].(map[string]any)
	if first["developerName"] != "Erp_Sync" || first["isFromPackage"] != false {
		t.Errorf("first app %v", first)
	}
	r = o.do(t, http.MethodGet, "/services/data/v62.0/apps/oauth/usage?page=1&pageSize=1", tok, nil, nil)
	if second := r.json(t)["apps"].([]any)[0].(map[string]any); second["developerName"] != "Scanner" || r.json(t)["nextPageUrl"] != nil {
		t.Errorf("second page %s", r.body)
	}
	r = o.do(t, http.MethodGet, first["usageDetailsUrl"].(string), tok, nil, nil)
	users := r.json(t)["users"].([]any)
	if r.status != 200 || len(users) != 1 {
		t.Fatalf("users: %d %s", r.status, r.body)
	}
	u := users[0].(map[string]any)
	if u["username"] != "erp@test.example" || u["useCount"] != float64(12) || u["lastUsedAt"] != "2026-11-19T12:00:00.000Z" || u["initialConnectionAt"] != "2026-10-21T12:00:00.000Z" {
		t.Errorf("user usage %v", u)
	}
	if r := o.do(t, http.MethodGet, "/services/data/v62.0/apps/oauth/usage/0H4nope/users", tok, nil, nil); r.status != 404 {
		t.Errorf("unknown app: %d", r.status)
	}
}

// FuzzQuery runs arbitrary SOQL through the parser, the schema checks and
// the evaluator of a small org: every outcome must be a result or an API
// error, never a panic.
func FuzzQuery(f *testing.F) {
	sc, err := LoadScenario("testdata/basic.yaml")
	if err != nil {
		f.Fatal(err)
	}
	o := buildOrg(sc, func() time.Time { return time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC) })
	for _, seed := range []string{
		"SELECT Id, Profile.UserLicense.Name FROM User WHERE Username LIKE '%a_%' ORDER BY LastLoginDate DESC NULLS LAST",
		"SELECT Name FROM PermissionSet WHERE Id IN (SELECT PermissionSetId FROM PermissionSetAssignment WHERE Assignee.IsActive = true)",
		"SELECT count() FROM LoginHistory WHERE LoginTime = LAST_N_DAYS:3 OR LoginTime > 2026-01-01T00:00:00Z",
		"SELECT Parent.Profile.Name FROM SetupEntityAccess WHERE SetupEntityType NOT IN ('ApexClass') LIMIT 1 OFFSET 1",
		"SELECT Section FROM SetupAuditTrail WHERE Section = 'x'",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, q string) {
		parsed, err := soql.Parse(q)
		if err != nil {
			return
		}
		c, err := o.compile(o.rest, parsed)
		if err != nil {
			if _, ok := err.(*apiError); !ok {
				t.Fatalf("compile(%q) returned %T", q, err)
			}
			return
		}
		for _, r := range o.run(c) {
			o.renderRow(r, c.fields, "/services/data/v62.0")
		}
	})
}

func TestAuditFields(t *testing.T) {
	t.Parallel()
	o := startBasic(t)
	tok := o.login(t, scannerKey, scannerSecret)
	for _, obj := range []string{"UserLicense", "Profile", "User", "PermissionSet", "ConnectedApplication", "ExternalClientApplication"} {
		r := o.query(t, tok, "SELECT CreatedBy.Username, LastModifiedBy.Username FROM "+obj)
		for _, rec := range r.json(t)["records"].([]any) {
			m := rec.(map[string]any)
			for _, k := range []string{"CreatedBy", "LastModifiedBy"} {
				if by, ok := m[k].(map[string]any); !ok || by["Username"] != "admin@test.example" {
					t.Errorf("%s.%s = %v", obj, k, m[k])
				}
			}
		}
	}
}
