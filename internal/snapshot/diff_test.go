package snapshot

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// baseline is a small governed snapshot: one identity, its app and its
// run-as user.
func baseline() *Snapshot {
	return &Snapshot{
		Format: FormatVersion,
		Now:    time.Date(2026, 10, 15, 0, 0, 0, 0, time.UTC),
		Source: "metadata",
		Identities: []Identity{{
			Name:       "billing-sync-prod",
			Salesforce: Binding{App: "Billing_Sync", RunAs: "billing@acme.com", RunAsProfile: "Minimum Access - API Only Integrations", RunAsPermissionSets: []string{"Billing"}},
			Access:     Access{Scopes: []string{"api"}, Objects: map[string][]string{"Opportunity": {"read"}}},
			Credential: Credential{SecretRef: "salesforce/billing-sync-prod"},
			Consumers:  []Consumer{{SPIFFE: "spiffe://acme.com/billing"}},
			Lifecycle:  "active",
		}},
		Apps: []App{{
			Kind: KindExternalClientApp, Name: "Billing_Sync",
			Flows:        Flows{ClientCredentials: true},
			Scopes:       []string{"api"},
			RunAs:        "billing@acme.com",
			IPRelaxation: "ENFORCE", IPRanges: []IPRange{{Start: "203.0.113.10", End: "203.0.113.10"}},
			RefreshTokenPolicy: "zero", SessionTimeoutMinutes: 15, AdminApproved: true,
			PreAuthorized: []string{"Billing"},
		}},
		Users: []User{{
			Username: "billing@acme.com", Profile: "Minimum Access - API Only Integrations", License: "Salesforce Integration",
			PermissionSets: []string{"Billing"},
			Effective: Permissions{
				User:    map[string][]string{"ApiEnabled": {"profile X"}, "ApiUserOnly": {"profile X"}},
				Objects: map[string]ObjectAccess{"Opportunity": {Read: true}},
			},
		}},
	}
}

func TestDiff(t *testing.T) {
	cases := []struct {
		name   string
		change func(*Snapshot)
		want   []Change
	}{
		{"identical", func(*Snapshot) {}, []Change{}},
		{"live activity is not access", func(s *Snapshot) {
			s.Apps[0].Live = &AppLive{InOrg: true, ClientCredentialsLogins: 40}
			s.Users[0].Live = &UserLive{Active: true}
		}, []Change{}},
		{"new scope and flow", func(s *Snapshot) {
			s.Apps[0].Scopes = []string{"api", "refresh_token"}
			s.Apps[0].Flows.TokenExchange = true
		}, []Change{
			{Kind: "widened", Resource: "App", Subject: "Billing_Sync", Field: "flows", After: "tokenExchange"},
			{Kind: "widened", Resource: "App", Subject: "Billing_Sync", Field: "scopes", After: "refresh_token"},
		}},
		{"IP relaxation, session and refresh policy loosened", func(s *Snapshot) {
			s.Apps[0].IPRelaxation = "BYPASS"
			s.Apps[0].SessionTimeoutMinutes = 0
			s.Apps[0].RefreshTokenPolicy = "specific_lifetime:30:DAYS"
			s.Apps[0].AdminApproved = false
		}, []Change{
			{Kind: "widened", Resource: "App", Subject: "Billing_Sync", Field: "adminApproved", Before: "true", After: "false"},
			{Kind: "widened", Resource: "App", Subject: "Billing_Sync", Field: "ipRelaxation", Before: "ENFORCE", After: "BYPASS"},
			{Kind: "widened", Resource: "App", Subject: "Billing_Sync", Field: "refreshTokenPolicy", Before: "zero", After: "specific_lifetime:30:DAYS"},
			{Kind: "widened", Resource: "App", Subject: "Billing_Sync", Field: "sessionTimeoutMinutes", Before: "15", After: "0"},
		}},
		{"tightened", func(s *Snapshot) {
			s.Apps[0].SessionTimeoutMinutes = 5
			s.Apps[0].IPRanges = nil
			s.Apps[0].Flows.ClientCredentials = false
		}, []Change{
			{Kind: "narrowed", Resource: "App", Subject: "Billing_Sync", Field: "flows", Before: "clientCredentials"},
			{Kind: "narrowed", Resource: "App", Subject: "Billing_Sync", Field: "ipRanges", Before: "203.0.113.10-203.0.113.10"},
			{Kind: "narrowed", Resource: "App", Subject: "Billing_Sync", Field: "sessionTimeoutMinutes", Before: "15", After: "5"},
		}},
		{"refresh policy lifetimes compare by length", func(s *Snapshot) {
			s.Apps[0].RefreshTokenPolicy = "specific_lifetime:2:HOURS"
			s.Apps = append(s.Apps, App{Kind: KindConnectedApp, Name: "Other", RefreshTokenPolicy: "specific_lifetime:1:MONTHS"})
		}, []Change{
			{Kind: "widened", Resource: "App", Subject: "Billing_Sync", Field: "refreshTokenPolicy", Before: "zero", After: "specific_lifetime:2:HOURS"},
			{Kind: "added", Resource: "App", Subject: "Other", After: "Other"},
		}},
		{"run-as and consumer key changed", func(s *Snapshot) {
			s.Apps[0].RunAs = "admin@acme.com"
			s.Apps[0].ConsumerKeyFingerprint = "00ff"
		}, []Change{
			{Kind: "changed", Resource: "App", Subject: "Billing_Sync", Field: "consumerKeyFingerprint", After: "00ff"},
			{Kind: "changed", Resource: "App", Subject: "Billing_Sync", Field: "runAs", Before: "billing@acme.com", After: "admin@acme.com"},
		}},
		{"user gains permission set, permission and object access", func(s *Snapshot) {
			u := &s.Users[0]
			u.PermissionSets = []string{"Billing", "Reporting"}
			u.Effective.User["ViewAllData"] = []string{"permission set Reporting"}
			u.Effective.Objects = map[string]ObjectAccess{
				"Opportunity": {Read: true, ViewAll: true},
				"Account":     {Read: true, ModifyAll: true},
			}
		}, []Change{
			{Kind: "widened", Resource: "User", Subject: "billing@acme.com", Field: "objects.Account", After: "modifyAll"},
			{Kind: "widened", Resource: "User", Subject: "billing@acme.com", Field: "objects.Account", After: "read"},
			{Kind: "widened", Resource: "User", Subject: "billing@acme.com", Field: "objects.Opportunity", After: "viewAll"},
			{Kind: "widened", Resource: "User", Subject: "billing@acme.com", Field: "permissionSets", After: "Reporting"},
			{Kind: "widened", Resource: "User", Subject: "billing@acme.com", Field: "userPermissions", After: "ViewAllData"},
		}},
		{"users match without case", func(s *Snapshot) { s.Users[0].Username = "Billing@ACME.com" }, []Change{}},
		{"identity added and removed, unknown value changed", func(s *Snapshot) {
			s.Identities[0].Name = "billing-sync-prod-v2"
			s.Apps[0].IPRelaxation = "SOMETHING_NEW"
		}, []Change{
			{Kind: "changed", Resource: "App", Subject: "Billing_Sync", Field: "ipRelaxation", Before: "ENFORCE", After: "SOMETHING_NEW"},
			{Kind: "removed", Resource: "Identity", Subject: "billing-sync-prod", Before: "billing-sync-prod"},
			{Kind: "added", Resource: "Identity", Subject: "billing-sync-prod-v2", After: "billing-sync-prod-v2"},
		}},
		{"identity declares more", func(s *Snapshot) {
			id := &s.Identities[0]
			id.Access.Objects = map[string][]string{"Opportunity": {"read", "edit"}}
			id.Consumers = append(id.Consumers, Consumer{OIDCIssuer: "https://token.actions.githubusercontent.com", OIDCSubject: "repo:acme/billing"})
			id.Salesforce.RunAs = "other@acme.com"
		}, []Change{
			{Kind: "widened", Resource: "Identity", Subject: "billing-sync-prod", Field: "access.objects.Opportunity", After: "edit"},
			{Kind: "widened", Resource: "Identity", Subject: "billing-sync-prod", Field: "consumers", After: "oidc https://token.actions.githubusercontent.com repo:acme/billing"},
			{Kind: "changed", Resource: "Identity", Subject: "billing-sync-prod", Field: "salesforce.runAs", Before: "billing@acme.com", After: "other@acme.com"},
		}},
		{"identity retired", func(s *Snapshot) { s.Identities[0].Lifecycle = "retired" }, []Change{
			{Kind: "narrowed", Resource: "Identity", Subject: "billing-sync-prod", Field: "lifecycle", Before: "active", After: "retired"},
		}},
		{"app removed", func(s *Snapshot) { s.Apps = nil }, []Change{
			{Kind: "removed", Resource: "App", Subject: "Billing_Sync", Before: "Billing_Sync"},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			old, new := baseline(), baseline()
			tc.change(new)
			got := Diff(old, new)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Diff (-want +got):\n%s", diff)
			}
			// Reversed, every change flips direction and nothing is lost.
			if back := Diff(new, old); len(back) != len(got) {
				t.Errorf("reverse diff has %d changes, want %d: %+v", len(back), len(got), back)
			}
		})
	}
}

func TestExpansions(t *testing.T) {
	changes := []Change{
		{Kind: ChangeAdded}, {Kind: ChangeRemoved}, {Kind: ChangeWidened}, {Kind: ChangeNarrowed}, {Kind: ChangeChanged},
	}
	got := Expansions(changes)
	want := []Change{{Kind: ChangeAdded}, {Kind: ChangeWidened}, {Kind: ChangeChanged}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Expansions (-want +got):\n%s", diff)
	}
}

func TestDecodeRoundTrip(t *testing.T) {
	s := baseline()
	s.Org = &Org{URL: "https://acme.my.salesforce.com", Kind: "production", Bypass: map[string][]Holder{PermViewClientSecret: {{Username: "admin@acme.com"}}}}
	s.Apps[0].Live = &AppLive{InOrg: true, LastClientCredentialsLogin: time.Date(2026, 10, 14, 8, 0, 0, 0, time.UTC)}
	s.Expansions = []Change{{Kind: ChangeWidened, Resource: "App", Subject: "Billing_Sync", Field: "scopes", After: "full"}}
	raw, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(s, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func TestOfflineSnapshotHasNoLiveFields(t *testing.T) {
	raw, err := json.Marshal(baseline())
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"org"`, `"oauthApps"`, `"setupChanges"`, `"expansions"`, `"live":{`, `"resource"`} {
		if bytes.Contains(raw, []byte(key)) {
			t.Errorf("offline snapshot JSON holds %s", key)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"empty", "", "empty file"},
		{"syntax", "{\n  \"format\": \"steward.dev/snapshot/v1alpha1\",\n  \"apps\": [,]\n}", "line 3"},
		{"type", "{\n\"format\": \"steward.dev/snapshot/v1alpha1\",\n\"apps\": 7}", "line 3"},
		{"unknown field", `{"format": "steward.dev/snapshot/v1alpha1", "secret": "x"}`, `unknown field "secret"`},
		{"wrong format", `{"format": "steward.dev/findings/v1"}`, `format "steward.dev/findings/v1" is not a snapshot`},
		{"no format", `{"apps": []}`, `format "" is not a snapshot`},
		{"trailing", `{"format": "steward.dev/snapshot/v1alpha1"} {}`, "unexpected data after the snapshot"},
		{"truncated", `{"format": "steward.dev/snapshot/v1alpha1", "apps": [`, "unexpected end of file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode(strings.NewReader(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Decode error = %v, want it to say %q", err, tc.want)
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	raw, err := json.Marshal(baseline())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(raw)
	f.Add([]byte(`{"format": "steward.dev/snapshot/v1alpha1", "apps": [{"kind": "ConnectedApp", "live": {"inOrg": true}}]}`))
	f.Add([]byte(`{"format": 1}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Decode(bytes.NewReader(data))
		if err != nil {
			return
		}
		// Whatever decodes can be diffed against itself without change.
		if changes := Diff(s, s); len(changes) != 0 {
			t.Errorf("a snapshot differs from itself: %+v", changes)
		}
	})
}
