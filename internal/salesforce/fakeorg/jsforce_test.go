package fakeorg

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/steward-dev/steward/internal/repotest"
	"github.com/steward-dev/steward/internal/salesforce"
	"github.com/steward-dev/steward/internal/salesforce/metadata"
)

// TestJSforceFidelity runs the jsforce client against the emulator: a
// client-credentials login, a query paged both by hand (queryMore) and by
// jsforce (autoFetch), listMetadata and readMetadata of connected apps. What
// jsforce reads must be what the scenario holds.
func TestJSforceFidelity(t *testing.T) {
	tool := filepath.Join(repotest.Root(t), "tools", "jsforce")
	if _, err := os.Stat(filepath.Join(tool, "node_modules", "jsforce")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("tools/jsforce/node_modules is missing; CI must run (cd tools/jsforce && npm ci) first")
		}
		t.Skip("tools/jsforce/node_modules is missing; run (cd tools/jsforce && npm ci) to enable the jsforce fidelity test")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("node is not installed")
		}
		t.Skip("node is not installed")
	}
	o := startBasic(t)
	sc := o.srv.org.sc
	cmd := exec.Command(node, filepath.Join(tool, "fidelity.js"), o.URL)
	const soql = "SELECT Id, Username, IsActive, Profile.Name FROM User ORDER BY Username"
	apps := []string{"Erp_Sync", "Scanner", "Missing_App"}
	cmd.Env = append(os.Environ(),
		"STEWARD_SF_CLIENT_ID="+scannerKey, "STEWARD_SF_CLIENT_SECRET="+scannerSecret,
		"FIDELITY_QUERY="+soql, "FIDELITY_APPS="+strings.Join(apps, ","),
	)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("fidelity.js: %v\n%s", err, stderr.String())
	}
	var got struct {
		OrganizationID string           `json:"organizationId"`
		UserID         string           `json:"userId"`
		InstanceURL    string           `json:"instanceUrl"`
		TotalSize      int              `json:"totalSize"`
		Pages          []int            `json:"pages"`
		Manual         []map[string]any `json:"manual"`
		Auto           []map[string]any `json:"auto"`
		Metadata       []map[string]any `json:"metadata"`
		Listed         []string         `json:"listed"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("decode %s: %v", out, err)
	}

	if got.OrganizationID != sc.Org.ID || got.InstanceURL != o.URL {
		t.Errorf("identity: org %s, instance %s", got.OrganizationID, got.InstanceURL)
	}
	if got.UserID != o.srv.org.users["scanner@test.example"].id {
		t.Errorf("user id %s is not the run-as user's", got.UserID)
	}

	// The users as the scenario holds them, sorted by username.
	var want []map[string]any
	users := slices.Clone(sc.Users)
	slices.SortFunc(users, func(a, b User) int { return strings.Compare(strings.ToLower(a.Username), strings.ToLower(b.Username)) })
	for _, u := range users {
		want = append(want, map[string]any{
			"Id": o.srv.org.users[strings.ToLower(u.Username)].id, "Username": u.Username,
			"IsActive": u.Active == nil || *u.Active, "Profile": map[string]any{"Name": u.Profile},
		})
	}
	if diff := cmp.Diff(want, got.Manual); diff != "" {
		t.Errorf("queryMore records (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, got.Auto); diff != "" {
		t.Errorf("autoFetch records (-want +got):\n%s", diff)
	}
	if got.TotalSize != len(sc.Users) || !slices.Equal(got.Pages, []int{2, 2, 1}) {
		t.Errorf("totalSize %d, pages %v; want %d in pages of 2", got.TotalSize, got.Pages, len(sc.Users))
	}

	var wantListed []string
	for _, a := range sc.ConnectedApps {
		wantListed = append(wantListed, a.Name)
	}
	slices.Sort(wantListed)
	if diff := cmp.Diff(wantListed, got.Listed); diff != "" {
		t.Errorf("listMetadata (-want +got):\n%s", diff)
	}

	if len(got.Metadata) != 3 {
		t.Fatalf("readMetadata returned %d records, want 3", len(got.Metadata))
	}
	for i, name := range []string{"Erp_Sync", "Scanner"} {
		rec := got.Metadata[i]
		var app ConnectedApp
		for _, a := range sc.ConnectedApps {
			if a.Name == name {
				app = a
			}
		}
		oc, _ := rec["oauthConfig"].(map[string]any)
		if rec["fullName"] != name || rec["label"] != app.Label || oc == nil {
			t.Errorf("%s: %v", name, rec)
			continue
		}
		if oc["oauthClientCredentialUser"] != app.RunAs || oc["consumerKey"] != app.ConsumerKey || fmt.Sprint(oc["isClientCredentialEnabled"]) != "true" {
			t.Errorf("%s oauthConfig: %v", name, oc)
		}
		if diff := cmp.Diff(app.Scopes, anyStrings(oc["scopes"])); diff != "" {
			t.Errorf("%s scopes (-want +got):\n%s", name, diff)
		}
		if _, ok := oc["consumerSecret"]; ok {
			t.Errorf("%s: readMetadata returned consumerSecret", name)
		}
	}
	if got.Metadata[2]["fullName"] != nil {
		t.Errorf("missing app came back as %v, want a nil record", got.Metadata[2])
	}
	if strings.Contains(string(out), scannerSecret) || strings.Contains(stderr.String(), scannerSecret) {
		t.Error("the consumer secret appeared in jsforce's output")
	}
	agreeWithStewardClient(t, o.URL, soql, apps, got.Auto, got.Metadata)
}

// agreeWithStewardClient reads the same query and connected apps through
// Steward's own client and metadata parser, and compares them with what
// jsforce read.
func agreeWithStewardClient(t *testing.T, url, soql string, names []string, records, read []map[string]any) {
	t.Helper()
	ctx := context.Background()
	c, err := salesforce.New(salesforce.Config{URL: url, ClientID: scannerKey, ClientSecret: scannerSecret})
	if err != nil {
		t.Fatal(err)
	}
	var mine []map[string]any
	err = c.Query(ctx, soql, func(raw json.RawMessage) error {
		var r map[string]any
		if err := json.Unmarshal(raw, &r); err != nil {
			return err
		}
		mine = append(mine, withoutAttributes(r))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(records, mine); diff != "" {
		t.Errorf("Steward's client and jsforce read different records (-jsforce +steward):\n%s", diff)
	}

	recs, err := c.ReadMetadata(ctx, "ConnectedApp", names)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(read) {
		t.Fatalf("Steward's client read %d records, jsforce %d", len(recs), len(read))
	}
	for i, rec := range recs {
		if rec.Nil != (read[i]["fullName"] == nil) {
			t.Errorf("record %d: Steward nil %v, jsforce %v", i, rec.Nil, read[i])
			continue
		}
		if rec.Nil {
			continue
		}
		path, data, err := rec.Document()
		if err != nil {
			t.Fatal(err)
		}
		parsed, _, err := metadata.Parse(path, data)
		if err != nil {
			t.Fatal(err)
		}
		ca := parsed.(*metadata.ConnectedApp)
		oc, _ := read[i]["oauthConfig"].(map[string]any)
		var scopes []string
		for _, s := range ca.Scopes {
			scopes = append(scopes, s.Name)
		}
		got := []string{rec.FullName, ca.Label.Value, ca.ClientCredentialUser.Value, ca.ConsumerKey.Value, strings.Join(scopes, ",")}
		want := []string{fmt.Sprint(read[i]["fullName"]), fmt.Sprint(read[i]["label"]), fmt.Sprint(oc["oauthClientCredentialUser"]),
			fmt.Sprint(oc["consumerKey"]), strings.Join(anyStrings(oc["scopes"]), ",")}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: Steward's client and jsforce disagree (-jsforce +steward):\n%s", rec.FullName, diff)
		}
	}
}

// withoutAttributes drops the REST "attributes" members, as fidelity.js does.
func withoutAttributes(r map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range r {
		if k == "attributes" {
			continue
		}
		if m, ok := v.(map[string]any); ok {
			v = withoutAttributes(m)
		}
		out[k] = v
	}
	return out
}

func anyStrings(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, s := range v {
			out = append(out, fmt.Sprint(s))
		}
		return out
	}
	return nil
}
