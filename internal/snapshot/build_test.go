package snapshot

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/steward-dev/steward/internal/inventory"
	"github.com/steward-dev/steward/internal/salesforce/metadata"
)

var now = time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)

func buildExample(t *testing.T) *Snapshot {
	t.Helper()
	const dir = "../../examples/acme"
	md, err := metadata.Load(context.Background(), []string{dir}, metadata.Options{})
	if err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.Load([]string{dir}, inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return Build(Sources{Inventory: inv, Metadata: md, Now: now})
}

func appNamed(t *testing.T, s *Snapshot, name string) App {
	t.Helper()
	for _, a := range s.Apps {
		if a.Name == name {
			return a
		}
	}
	t.Fatalf("no app %s", name)
	return App{}
}

func userNamed(t *testing.T, s *Snapshot, name string) User {
	t.Helper()
	for _, u := range s.Users {
		if u.Username == name {
			return u
		}
	}
	t.Fatalf("no user %s", name)
	return User{}
}

func TestBuildExampleApps(t *testing.T) {
	s := buildExample(t)
	if !s.Capabilities.Inventory || !s.Capabilities.Metadata || s.Capabilities.Live {
		t.Errorf("capabilities = %+v", s.Capabilities)
	}

	billing := appNamed(t, s, "Billing_Sync")
	if billing.Kind != KindExternalClientApp || !billing.Flows.ClientCredentials || billing.Flows.ClientCredentialsPartial {
		t.Errorf("Billing_Sync kind/flows = %s %+v", billing.Kind, billing.Flows)
	}
	if diff := cmp.Diff([]string{"api"}, billing.Scopes); diff != "" {
		t.Errorf("Billing_Sync scopes (-want +got):\n%s", diff)
	}
	if billing.RunAs != "billing.integration@acme.example" || billing.IPRelaxation != "ENFORCE" ||
		billing.RefreshTokenPolicy != "zero" || billing.SessionTimeoutMinutes != 15 || !billing.AdminApproved {
		t.Errorf("Billing_Sync policy = %+v", billing)
	}
	if diff := cmp.Diff([]string{"billing-sync-prod"}, billing.Identities); diff != "" {
		t.Errorf("Billing_Sync identities (-want +got):\n%s", diff)
	}
	if billing.GlobalOAuthInRepo || billing.ConsumerSecretInRepo {
		t.Error("Billing_Sync has no global OAuth file or secret in the repo")
	}

	mkt := appNamed(t, s, "Marketing_Sync")
	if diff := cmp.Diff([]string{"api", "full", "refresh_token"}, mkt.Scopes); diff != "" {
		t.Errorf("Marketing_Sync scopes (-want +got):\n%s", diff)
	}
	if mkt.IPRelaxation != "BYPASS" || mkt.RefreshTokenPolicy != "infinite" || mkt.AdminApproved {
		t.Errorf("Marketing_Sync policy = %+v", mkt)
	}
	if loc := mkt.Locations["scopes"]; loc.Line != 13 || !strings.HasSuffix(loc.File, "Marketing_Sync.connectedApp-meta.xml") {
		t.Errorf("scopes location = %+v, want line 13 of the app file", loc)
	}

	legacy := appNamed(t, s, "Legacy_Reporting")
	if !legacy.ConsumerSecretInRepo || !legacy.ConsumerKeyPresent || len(legacy.ConsumerKeyFingerprint) != 16 {
		t.Errorf("Legacy_Reporting secret/key = %v %v %q", legacy.ConsumerSecretInRepo, legacy.ConsumerKeyPresent, legacy.ConsumerKeyFingerprint)
	}
	if len(legacy.Identities) != 0 {
		t.Errorf("Legacy_Reporting is not in the inventory, got identities %v", legacy.Identities)
	}

	agent := appNamed(t, s, "Case_Triage_Agent")
	if !agent.GlobalOAuthInRepo || !agent.Flows.ClientCredentials {
		t.Errorf("Case_Triage_Agent = global %v flows %+v", agent.GlobalOAuthInRepo, agent.Flows)
	}
}

func TestBuildExampleUsers(t *testing.T) {
	s := buildExample(t)
	billing := userNamed(t, s, "billing.integration@acme.example")
	if billing.License != "Salesforce Integration" || len(billing.Unresolved) != 0 {
		t.Errorf("billing user license %q unresolved %v", billing.License, billing.Unresolved)
	}
	if _, ok := billing.Effective.User["ApiUserOnly"]; !ok {
		t.Error("billing user lacks ApiUserOnly from its profile")
	}
	opp := billing.Effective.Objects["Opportunity"]
	if !opp.Read || !opp.Edit || opp.Create || opp.ViewAll || opp.ModifyAll {
		t.Errorf("Opportunity access = %+v, want read+edit", opp)
	}

	mkt := userNamed(t, s, "marketing.integration@acme.example")
	if got := mkt.Effective.User["ModifyAllData"]; len(got) != 1 || got[0] != "profile System Administrator" {
		t.Errorf("ModifyAllData granted by %v", got)
	}

	shared := userNamed(t, s, "integration@acme.example")
	if diff := cmp.Diff([]string{"Case_Triage_Agent", "Support_Case_Bridge", "Warehouse_Feed"}, shared.Apps); diff != "" {
		t.Errorf("shared user apps (-want +got):\n%s", diff)
	}
	if len(shared.Identities) != 3 {
		t.Errorf("shared user identities = %v", shared.Identities)
	}
}

// TestSnapshotHasNoSecret checks the committed example secret never reaches
// the snapshot.
func TestSnapshotHasNoSecret(t *testing.T) {
	raw, err := json.Marshal(buildExample(t))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), "EXAMPLE0NOT0A0REAL") {
		t.Error("the snapshot contains the consumer secret")
	}
	if strings.Contains(string(raw), "3MVG9EXAMPLE") {
		t.Error("the snapshot contains a consumer key instead of its fingerprint")
	}
}

func TestInlineSecretIsNotCopied(t *testing.T) {
	const value = "9F3A6C1D2B4E5F60718293A4B5C6D7E8F9A0B1C2D3E4F5061728394A5B6C7D8E"
	inv := &inventory.Inventory{Identities: []*inventory.Identity{{
		Metadata: inventory.Metadata{Name: "x"},
		Spec:     inventory.IdentitySpec{Credential: inventory.Credential{Secret: value}},
	}}}
	s := Build(Sources{Inventory: inv, Now: now})
	raw, _ := json.Marshal(s)
	if strings.Contains(string(raw), value) || !s.Identities[0].Credential.InlineValue || s.Identities[0].Credential.SecretRef != "" {
		t.Errorf("credential = %+v; the value must be flagged, not copied", s.Identities[0].Credential)
	}
}

func TestPermissionSetGroupWithMuting(t *testing.T) {
	md := &metadata.Set{
		Files: 3,
		PermissionSets: []*metadata.PermissionSet{
			{Name: "Reader", UserPermissions: []metadata.UserPermission{{Name: "ApiEnabled", Enabled: true}, {Name: "ViewAllData", Enabled: true}},
				ObjectPermissions: []metadata.ObjectPermission{{Object: "Account", Read: true, Edit: true, ModifyAll: true}}},
			{Name: "Mute", Muting: true, UserPermissions: []metadata.UserPermission{{Name: "ViewAllData", Enabled: true}},
				ObjectPermissions: []metadata.ObjectPermission{{Object: "Account", ModifyAll: true, ViewAll: true, Delete: true}}},
		},
		PermissionSetGroups: []*metadata.PermissionSetGroup{{Name: "Ops", PermissionSets: []string{"Reader", "Ghost"}, MutingPermissionSets: []string{"Mute"}}},
	}
	inv := &inventory.Inventory{Identities: []*inventory.Identity{{
		Metadata: inventory.Metadata{Name: "ops"},
		Spec: inventory.IdentitySpec{Salesforce: inventory.SalesforceBinding{
			RunAs: "ops@x.example", RunAsProfile: "Nowhere", RunAsPermissionSets: []string{"Ops"},
		}},
	}}}
	u := Build(Sources{Inventory: inv, Metadata: md, Now: now}).Users[0]
	if _, ok := u.Effective.User["ViewAllData"]; ok {
		t.Error("the muting permission set should remove ViewAllData")
	}
	if _, ok := u.Effective.User["ApiEnabled"]; !ok {
		t.Error("ApiEnabled from the group is missing")
	}
	acc := u.Effective.Objects["Account"]
	if acc.ModifyAll || acc.ViewAll || acc.Delete || !acc.Read || !acc.Edit {
		t.Errorf("Account = %+v, want read+edit after muting", acc)
	}
	want := []string{"profile Nowhere", "permission set Ghost (in group Ops)"}
	if diff := cmp.Diff(want, u.Unresolved); diff != "" {
		t.Errorf("unresolved (-want +got):\n%s", diff)
	}
}

func TestObjectImplications(t *testing.T) {
	tests := []struct {
		in, want ObjectAccess
	}{
		{ObjectAccess{ModifyAll: true}, ObjectAccess{ModifyAll: true, ViewAll: true, Delete: true, Edit: true, Read: true}},
		{ObjectAccess{ViewAll: true}, ObjectAccess{ViewAll: true, Read: true}},
		{ObjectAccess{Delete: true}, ObjectAccess{Delete: true, Edit: true, Read: true}},
		{ObjectAccess{Create: true}, ObjectAccess{Create: true, Read: true}},
		{ObjectAccess{}, ObjectAccess{}},
	}
	for _, tt := range tests {
		got := implied(tt.in)
		tt.want.GrantedBy = []string{}
		if !cmp.Equal(got, tt.want) {
			t.Errorf("implied(%+v) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestECAClientCredentials(t *testing.T) {
	on := metadata.Bool{Value: true, Set: true}
	off := metadata.Bool{Value: false, Set: true}
	tests := []struct {
		name          string
		eca           metadata.ECA
		full, partial bool
	}{
		{"policy only (global settings kept out of git)", metadata.ECA{OAuthPolicy: &metadata.ECAOAuthPolicy{ClientCredentialsEnabled: on}}, true, false},
		{"policy and global agree", metadata.ECA{OAuthPolicy: &metadata.ECAOAuthPolicy{ClientCredentialsEnabled: on}, GlobalOAuth: &metadata.ECAGlobalOAuth{ClientCredentialsEnabled: on}}, true, false},
		{"global on, policy off", metadata.ECA{OAuthPolicy: &metadata.ECAOAuthPolicy{ClientCredentialsEnabled: off}, GlobalOAuth: &metadata.ECAGlobalOAuth{ClientCredentialsEnabled: on}}, false, true},
		{"global only", metadata.ECA{GlobalOAuth: &metadata.ECAGlobalOAuth{ClientCredentialsEnabled: on}}, false, true},
		{"OAuth plugin off", metadata.ECA{OAuthPolicy: &metadata.ECAOAuthPolicy{ClientCredentialsEnabled: on}, PluginPolicy: &metadata.ECAPluginPolicy{OAuthPluginEnabled: off}}, false, true},
		{"nothing on", metadata.ECA{OAuthPolicy: &metadata.ECAOAuthPolicy{}}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.eca.Name = "X"
			a := appFromECA(&tt.eca)
			if a.Flows.ClientCredentials != tt.full || a.Flows.ClientCredentialsPartial != tt.partial {
				t.Errorf("flows = %+v, want full %v partial %v", a.Flows, tt.full, tt.partial)
			}
		})
	}
}

func TestOrgKind(t *testing.T) {
	tests := map[string]string{
		"https://acme.my.salesforce.com":                "production",
		"https://acme--uat.sandbox.my.salesforce.com":   "sandbox",
		"https://test.salesforce.com":                   "sandbox",
		"https://acme-dev-ed.develop.my.salesforce.com": "developer",
		"https://x.scratch.my.salesforce.com":           "scratch",
		"https://my.salesforce.com.evil.example":        "unknown",
		"not a url":                                     "unknown",
		"":                                              "",
	}
	for in, want := range tests {
		if got := OrgKind(in); got != want {
			t.Errorf("OrgKind(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWireScopes(t *testing.T) {
	wire, unknown := scopesFrom([]metadata.Scope{{Name: "Api"}, {Name: "RefreshToken"}, {Name: "Basic"}, {Name: "SFApiPlatform"}, {Name: "ChatbotApi"}, {Name: "Api"}})
	if diff := cmp.Diff([]string{"api", "id", "refresh_token", "sfap_api"}, wire); diff != "" {
		t.Errorf("wire (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"ChatbotApi"}, unknown); diff != "" {
		t.Errorf("unknown (-want +got):\n%s", diff)
	}
}
