package fakeorg

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestGenerateDeterministicAndValid(t *testing.T) {
	t.Parallel()
	a, b := Generate(30, 20, 7), Generate(30, 20, 7)
	if diff := cmp.Diff(a, b, cmp.AllowUnexported(When{})); diff != "" {
		t.Fatalf("same seed, different scenarios:\n%s", diff)
	}
	if err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(a.ConnectedApps)-1+len(a.ExternalClientApps) != 30 || len(a.ExternalClientApps) != 10 || len(a.Users) != 22 {
		t.Errorf("apps %d+%d, users %d", len(a.ConnectedApps), len(a.ExternalClientApps), len(a.Users))
	}
	c := Generate(30, 20, 8)
	if cmp.Equal(a, c, cmp.AllowUnexported(When{})) {
		t.Error("different seeds gave the same scenario")
	}
	for _, app := range a.ConnectedApps {
		if len(app.ConsumerKey) != 85 || !strings.HasPrefix(app.ConsumerKey, "3MVG9") || len(app.ConsumerSecret) != 64 {
			t.Errorf("%s: key %q, secret length %d", app.Name, app.ConsumerKey, len(app.ConsumerSecret))
		}
	}
}

// scan plays a discovery pass the way a scanner would, batching with IN
// lists and paging, and returns how many apps and users it resolved.
func scan(t testing.TB, o *testOrg, token string) (apps, users int) {
	t.Helper()
	get := func(path string) map[string]any {
		r := o.do(t, http.MethodGet, path, token, nil, nil)
		if r.status != 200 {
			t.Fatalf("%s: %d %.300s", path, r.status, r.body)
		}
		return r.json(t)
	}
	queryAll := func(soql string) []map[string]any {
		var out []map[string]any
		v := get("/services/data/v62.0/query?q=" + url.QueryEscape(soql))
		for {
			for _, r := range v["records"].([]any) {
				out = append(out, r.(map[string]any))
			}
			if v["done"] == true {
				return out
			}
			v = get(v["nextRecordsUrl"].(string))
		}
	}
	soap := func(body string) []byte {
		r := o.soap(t, envelope(token, body))
		if r.status != 200 {
			t.Fatalf("soap: %d %.300s", r.status, r.body)
		}
		return r.body
	}
	var listed struct {
		Body struct {
			Resp struct {
				Result []struct {
					FullName string `xml:"fullName"`
				} `xml:"result"`
			} `xml:"listMetadataResponse"`
		} `xml:"Body"`
	}
	if err := xml.Unmarshal(soap(`<listMetadata><queries><type>ConnectedApp</type></queries></listMetadata>`), &listed); err != nil {
		t.Fatal(err)
	}
	runAs := map[string]bool{}
	names := listed.Body.Resp.Result
	for i := 0; i < len(names); i += maxReadNames {
		var b strings.Builder
		b.WriteString("<readMetadata><type>ConnectedApp</type>")
		for _, n := range names[i:min(i+maxReadNames, len(names))] {
			fmt.Fprintf(&b, "<fullNames>%s</fullNames>", n.FullName)
		}
		b.WriteString("</readMetadata>")
		var read struct {
			Body struct {
				Resp struct {
					Records []struct {
						User string `xml:"oauthConfig>oauthClientCredentialUser"`
					} `xml:"result>records"`
				} `xml:"readMetadataResponse"`
			} `xml:"Body"`
		}
		if err := xml.Unmarshal(soap(b.String()), &read); err != nil {
			t.Fatal(err)
		}
		for _, r := range read.Body.Resp.Records {
			apps++
			runAs[r.User] = true
		}
	}
	for _, p := range queryAll("SELECT ExternalClientApplication.DeveloperName, ClientCredentialsFlowUser FROM ExtlClntAppOauthPlcyCnfg WHERE IsClientCredentialsFlowEnabled = true") {
		apps++
		runAs[p["ClientCredentialsFlowUser"].(string)] = true
	}
	var list []string
	for u := range runAs {
		list = append(list, "'"+u+"'")
	}
	for i := 0; i < len(list); i += 300 {
		in := strings.Join(list[i:min(i+300, len(list))], ",")
		users += len(queryAll("SELECT Id, Username, IsActive, Profile.Name, Profile.UserLicense.Name, LastLoginDate FROM User WHERE Username IN (" + in + ")"))
		queryAll("SELECT Assignee.Username, PermissionSet.Name, PermissionSetGroupId, ExpirationDate FROM PermissionSetAssignment WHERE Assignee.Username IN (" + in + ")")
		queryAll("SELECT Id, Name, PermissionsModifyAllData, PermissionsViewAllData, PermissionsApiUserOnly FROM PermissionSet WHERE Id IN (SELECT PermissionSetId FROM PermissionSetAssignment WHERE Assignee.Username IN (" + in + "))")
		queryAll("SELECT Parent.Name, SobjectType, PermissionsModifyAllRecords FROM ObjectPermissions WHERE ParentId IN (SELECT PermissionSetId FROM PermissionSetAssignment WHERE Assignee.Username IN (" + in + "))")
	}
	queryAll("SELECT Parent.Name, SetupEntityId, SetupEntityType FROM SetupEntityAccess WHERE SetupEntityType IN ('ConnectedApplication', 'ExternalClientApplication')")
	queryAll("SELECT UserId, LoginTime, LoginType, LoginSubType, Application, Status FROM LoginHistory WHERE LoginTime = LAST_N_DAYS:90 ORDER BY LoginTime DESC")
	queryAll("SELECT AppName, UserId, LastUsedDate, UseCount FROM OauthToken")
	queryAll("SELECT Action, Section, Display, CreatedDate, CreatedBy.Username FROM SetupAuditTrail WHERE CreatedDate = LAST_N_DAYS:180")
	get("/services/data/v62.0/limits")
	return apps, users
}

// TestScanBudget checks that a full discovery of 1,000 apps and 1,000 users
// fits in 150 API calls when the scanner batches.
func TestScanBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 1,000-app org")
	}
	o := startScenario(t, Generate(1000, 1000, 42))
	key, secret, _ := o.srv.org.sc.Credentials(ScannerApp)
	tok := o.login(t, key, secret)
	before, _ := o.srv.APIUsage()
	apps, users := scan(t, o, tok)
	after, _ := o.srv.APIUsage()
	if apps != 1001 || users < 900 {
		t.Errorf("resolved %d apps and %d users", apps, users)
	}
	if calls := after - before; calls > 150 {
		t.Errorf("scan took %d API calls, budget 150", calls)
	} else {
		t.Logf("scan of 1,000 apps and 1,000 users: %d API calls", calls)
	}
}

func BenchmarkScan(b *testing.B) {
	o := startScenario(b, Generate(1000, 1000, 42))
	key, secret, _ := o.srv.org.sc.Credentials(ScannerApp)
	tok := o.login(b, key, secret)
	b.ReportAllocs()
	for b.Loop() {
		before, _ := o.srv.APIUsage()
		scan(b, o, tok)
		after, _ := o.srv.APIUsage()
		b.ReportMetric(float64(after-before), "api-calls/op")
	}
}

func BenchmarkGenerateAndBuild(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := New(Generate(1000, 1000, 42), Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
