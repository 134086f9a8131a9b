package salesforce

import (
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseLimitInfo(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    APIUsage
		wantErr string
	}{
		{in: "api-usage=18/5000", want: APIUsage{Known: true, Used: 18, Max: 5000}},
		{in: "api-usage=10018/100000; api-bursts=1/750", want: APIUsage{Known: true, Used: 10018, Max: 100000}},
		{in: "api-usage=25/5000; per-app-api-usage=17/250(appName=sample-connected-app)",
			want: APIUsage{Known: true, Used: 25, Max: 5000, Apps: []AppUsage{{"sample-connected-app", 17, 250}}}},
		{in: " per-app-api-usage=1/2(appName=a);api-usage=3/4 ; ",
			want: APIUsage{Known: true, Used: 3, Max: 4, Apps: []AppUsage{{"a", 1, 2}}}},
		{in: "", wantErr: "no Sforce-Limit-Info"},
		{in: "api-bursts=1/750", wantErr: "no api-usage"},
		{in: "api-usage", wantErr: "has no '='"},
		{in: "api-usage=18", wantErr: "is not used/max"},
		{in: "api-usage=a/5000", wantErr: "is not used/max"},
		{in: "api-usage=-1/5000", wantErr: "is not used/max"},
		{in: "api-usage=1/2; per-app-api-usage=1/2(appName=a", wantErr: "unclosed"},
	}
	for _, tt := range tests {
		got, err := parseLimitInfo(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("parseLimitInfo(%q) error %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseLimitInfo(%q): %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("parseLimitInfo(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestLimits(t *testing.T) {
	t.Parallel()
	o := newFakeOrg(t)
	o.route(limitsPath, serveFixture(t, 200, "rest/limits.json"))
	c, _, _ := testClient(t, o)
	l, err := c.Limits(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	d := l.DailyAPIRequests
	if d.Max != 25000 || d.Remaining != 24926 || d.Used() != 74 {
		t.Errorf("DailyApiRequests %+v", d)
	}
	wantApps := map[string]Limit{"Workbench": {}, "Salesforce for Outlook": {}}
	if diff := cmp.Diff(wantApps, d.Apps); diff != "" {
		t.Errorf("apps (-want +got):\n%s", diff)
	}
	if !slices.Equal(l.Names(), []string{"DailyApiRequests", "DailyBulkApiRequests", "DataStorageMB"}) || l.All["DataStorageMB"].Remaining != 207 {
		t.Errorf("limits %+v", l.All)
	}
	if u := c.Usage(); !u.Known || u.Used != 74 || u.Max != 25000 {
		t.Errorf("usage after Limits: %+v", u)
	}
}

func TestLimitsBadShapes(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, body, want string }{
		{"string max", `{"DailyApiRequests": {"Max": "25000", "Remaining": 1}}`, `limit "DailyApiRequests": Max is not an integer`},
		{"no remaining", `{"DailyApiRequests": {"Max": 1}}`, `limit "DailyApiRequests": no Remaining`},
		{"entry not an object", `{"DailyApiRequests": 5}`, `limit "DailyApiRequests" is not an object`},
		{"bad app", `{"DailyApiRequests": {"Max": 1, "Remaining": 1, "Workbench": {"Max": true, "Remaining": 0}}}`, `app "Workbench": Max is not an integer`},
		{"array", `[]`, "the top level is a JSON array"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := newFakeOrg(t)
			o.route(limitsPath, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, tt.body) })
			c, _, _ := testClient(t, o)
			_, err := c.Limits(context.Background())
			if !errors.Is(err, ErrUnexpectedResponse) || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), limitsPath) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
}

func TestVersions(t *testing.T) {
	t.Parallel()
	o := newFakeOrg(t)
	o.route("GET /services/data/", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			t.Error("versions request carried a token")
		}
		writeFixture(t, w, 200, "rest/versions.json")
	})
	c, _, _ := testClient(t, o)
	vs, err := c.Versions(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 2 || vs[1] != (Version{"Summer '26", "/services/data/v67.0", "67.0"}) {
		t.Errorf("versions %+v", vs)
	}
	if c.Calls() != 0 || o.mintCount() != 0 {
		t.Errorf("versions counted %d calls and minted %d tokens; want none", c.Calls(), o.mintCount())
	}
}
