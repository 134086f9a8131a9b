package metadata

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// corpusDir holds real-world metadata files copied from public repositories,
// one directory per repository. It sits beside the repository, so the test
// skips when it is absent.
const corpusDir = "../../../../shared/corpus"

// corpusFile returns the path of a corpus file: the repository directory and
// the path inside it.
func corpusFile(repo, rel string) string {
	return filepath.Join(corpusDir, repo, filepath.FromSlash(rel))
}

// corpusFiles lists the corpus files of one kind ("" for all kinds).
func corpusFiles(tb testing.TB, kind string) []string {
	tb.Helper()
	var out []string
	err := filepath.WalkDir(corpusDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if k := Kind(p); !d.IsDir() && k != "" && (kind == "" || k == kind) {
			out = append(out, p)
		}
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		tb.Fatal(err)
	}
	return out
}

func findByName[T any](t *testing.T, s []T, name string, nameOf func(T) string) T {
	t.Helper()
	for _, v := range s {
		if nameOf(v) == name {
			return v
		}
	}
	t.Fatalf("%s not loaded", name)
	var zero T
	return zero
}

func scopeNames(s []Scope) []string {
	var out []string
	for _, sc := range s {
		out = append(out, sc.Name)
	}
	return out
}

func userPerm(ups []UserPermission, name string) (UserPermission, bool) {
	for _, up := range ups {
		if up.Name == name {
			return up, true
		}
	}
	return UserPermission{}, false
}

func TestCorpusLoads(t *testing.T) {
	if _, err := os.Stat(corpusDir); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("corpus not present in CI: %v", err)
		}
		t.Skipf("corpus not present: %v", err)
	}
	set, err := Load(context.Background(), []string{corpusDir}, Options{})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if want := len(corpusFiles(t, "")); set.Files != want {
		t.Errorf("Files = %d, want %d", set.Files, want)
	}

	app := func(name string) *ConnectedApp {
		return findByName(t, set.ConnectedApps, name, func(a *ConnectedApp) string { return a.Name })
	}

	t.Run("Ohm_Self_CC: client credentials without a run-as user", func(t *testing.T) {
		a := app("Ohm_Self_CC")
		if !a.ClientCredentialEnabled.True() || a.ClientCredentialEnabled.Line != 9 {
			t.Errorf("ClientCredentialEnabled = %+v, want true at line 9", a.ClientCredentialEnabled)
		}
		if a.ClientCredentialUser != (Text{}) {
			t.Errorf("ClientCredentialUser = %+v, want absent", a.ClientCredentialUser)
		}
		if got := scopeNames(a.Scopes); !reflect.DeepEqual(got, []string{"Api", "RefreshToken"}) {
			t.Errorf("scopes = %v", got)
		}
		if !reflect.DeepEqual(a.Profiles, []string{"System Administrator"}) {
			t.Errorf("profiles = %v", a.Profiles)
		}
		if !a.AdminApproved.True() || a.ConsumerKey.Line != 0 || a.ConsumerSecretPresent {
			t.Errorf("AdminApproved %+v, ConsumerKey %+v, secret %v", a.AdminApproved, a.ConsumerKey, a.ConsumerSecretPresent)
		}
		// label comes before description in this file (not XSD order).
		if a.Label.Value != "Ohm_Self_CC" || !strings.HasPrefix(a.Description.Value, "Ohm self-org") {
			t.Errorf("label %q, description %q", a.Label.Value, a.Description.Value)
		}
		if a.IPRelaxation.Value != "ENFORCE" || a.RefreshTokenPolicy.Value != "infinite" {
			t.Errorf("oauthPolicy = %q, %q", a.IPRelaxation.Value, a.RefreshTokenPolicy.Value)
		}
	})

	t.Run("OAppS_Omni_Channel: three callback URLs", func(t *testing.T) {
		a := app("OAppS_Omni_Channel")
		want := []string{
			"https://fun-scarcely-grackle.ngrok-free.app/api/v2/app/redirect",
			"https://server5.rekzyl.com/api/v2/app/redirect",
			"http://localhost:7000/api/v1/redirect",
		}
		if !reflect.DeepEqual(a.CallbackURLs, want) {
			t.Errorf("callbacks = %q", a.CallbackURLs)
		}
		if !a.ClientCredentialEnabled.Set || a.ClientCredentialEnabled.Value {
			t.Errorf("ClientCredentialEnabled = %+v, want explicitly false", a.ClientCredentialEnabled)
		}
		if got := scopeNames(a.Scopes); !reflect.DeepEqual(got, []string{"Full", "RefreshToken"}) {
			t.Errorf("scopes = %v", got)
		}
		if !strings.HasPrefix(a.ConsumerKey.Value, "3MVG9n_HvE") || len(a.ConsumerKey.Value) != 85 {
			t.Errorf("consumer key = %q", a.ConsumerKey.Value)
		}
	})

	t.Run("Postman", func(t *testing.T) {
		a := app("Postman")
		if got := scopeNames(a.Scopes); !reflect.DeepEqual(got, []string{"Full"}) || a.AdminApproved.Value || !a.AdminApproved.Set {
			t.Errorf("scopes %v, admin approved %+v", got, a.AdminApproved)
		}
	})

	t.Run("HelloSend: packaged stub", func(t *testing.T) {
		a := app("HelloSend")
		if a.HasOAuthConfig || a.Label.Value != "HelloSend" {
			t.Errorf("HelloSend = %+v", a)
		}
	})

	t.Run("Thespis: invalid scopes and elements are kept and reported", func(t *testing.T) {
		a := app("Thespis")
		want := []string{"Api", "RefreshToken", "OfflineAccess", "OpenID", "ID", "Profile", "Email", "ChatbotApi", "SfapApi"}
		if got := scopeNames(a.Scopes); !reflect.DeepEqual(got, want) {
			t.Errorf("scopes = %v", got)
		}
		if a.ContactEmail.Value != "patrick.dennis@salesforce.com" {
			t.Errorf("contactEmail after oauthPolicy not read: %+v", a.ContactEmail)
		}
	})

	t.Run("warnings", func(t *testing.T) {
		thespis := corpusFile("PatrickDennisSFDC__agentforce-thespis-sfdc-app", "force-app/main/default/connectedApps/Thespis.connectedApp-meta.xml")
		hello := corpusFile("ArunSabariBalajiC__my-2gp-package", "force-app/main/default/connectedApps/HelloSend.connectedApp-meta.xml")
		want := []Warning{
			{Location{hello, 3}, "unknown element <developerName> in <ConnectedApp>"},
			{Location{hello, 5}, "unknown element <version> in <ConnectedApp>"},
			{Location{thespis, 7}, "unknown element <isConsumerKeyOptional> in <oauthConfig>"},
			{Location{thespis, 13}, `unknown OAuth scope "ID" in <scopes>`},
			{Location{thespis, 16}, `unknown OAuth scope "ChatbotApi" in <scopes>`},
			{Location{thespis, 17}, `unknown OAuth scope "SfapApi" in <scopes>`},
		}
		if !reflect.DeepEqual(set.Warnings, want) {
			t.Errorf("warnings:\n%v\nwant\n%v", set.Warnings, want)
		}
	})

	t.Run("jblakey ECA set assembles into one app", func(t *testing.T) {
		if len(set.ECAs) != 1 {
			t.Fatalf("%d ECAs, want 1", len(set.ECAs))
		}
		e := set.ECAs[0]
		if e.Name != "Agent_Assist_LWC_Auth" || e.Header == nil || e.OAuth == nil || e.GlobalOAuth == nil || e.OAuthPolicy == nil || e.PluginPolicy != nil {
			t.Fatalf("ECA = %+v", e)
		}
		if got := e.OAuthPolicy.ClientCredentialsUser; got.Value != "test-ayh1dgxf9hsh@example.com" || got.Line != 8 {
			t.Errorf("run-as = %+v", got)
		}
		if !e.OAuthPolicy.ClientCredentialsEnabled.True() || !e.GlobalOAuth.ClientCredentialsEnabled.True() {
			t.Errorf("client credentials not enabled in both parts")
		}
		// "Basic, RefreshToken, Web" follows a line break inside the start tag.
		wantScopes := []Scope{{"Basic", 6}, {"RefreshToken", 6}, {"Web", 6}}
		if !reflect.DeepEqual(e.OAuth.Scopes, wantScopes) {
			t.Errorf("scopes = %+v", e.OAuth.Scopes)
		}
		if !reflect.DeepEqual(e.GlobalOAuth.CallbackURLs, []string{"https://login.salesforce.com/services/oauth2/callback"}) || e.GlobalOAuth.ConsumerSecretPresent {
			t.Errorf("global = %+v", e.GlobalOAuth)
		}
		if e.Header.DistributionState.Value != "Local" || e.Header.Description.Value != "Google Cloud Agent Assist LWC OAuth External Client App" {
			t.Errorf("header = %+v", e.Header)
		}
	})

	t.Run("profiles", func(t *testing.T) {
		prof := func(name string) *Profile {
			return findByName(t, set.Profiles, name, func(p *Profile) string { return p.Name })
		}
		admin := prof("Admin")
		if up, ok := userPerm(admin.UserPermissions, "ModifyAllData"); !ok || !up.Enabled {
			t.Errorf("Admin ModifyAllData = %+v, %v", up, ok)
		}
		if len(admin.UserPermissions) != 187 || admin.UserLicense.Value != "Salesforce" || !admin.Custom.Set || admin.Custom.Value {
			t.Errorf("Admin: %d user permissions, license %q, custom %+v", len(admin.UserPermissions), admin.UserLicense.Value, admin.Custom)
		}
		api := prof("Minimum Access - API Only Integrations")
		if up, ok := userPerm(api.UserPermissions, "ApiUserOnly"); !ok || !up.Enabled {
			t.Errorf("ApiUserOnly = %+v, %v", up, ok)
		}
		if api.UserLicense.Value != "Salesforce Integration" {
			t.Errorf("userLicense = %q", api.UserLicense.Value)
		}
	})

	t.Run("permission sets", func(t *testing.T) {
		ps := func(name string) *PermissionSet {
			return findByName(t, set.PermissionSets, name, func(p *PermissionSet) string { return p.Name })
		}
		dh := ps("dreamhouse")
		i := slices.IndexFunc(dh.ObjectPermissions, func(o ObjectPermission) bool { return o.Object == "Broker__c" })
		if i < 0 || !dh.ObjectPermissions[i].ModifyAll || !dh.ObjectPermissions[i].ViewAll {
			t.Errorf("dreamhouse object permissions = %+v", dh.ObjectPermissions)
		}
		user := ps("Agent_Assist_User")
		if got := len(user.UserPermissions); got != 3 || user.Label.Value != "Google Cloud Agent Assist User" {
			t.Errorf("Agent_Assist_User: %d user permissions, label %q", got, user.Label.Value)
		}
		if !strings.Contains(user.Description.Value, "Agent Assist & Companion") {
			t.Errorf("description = %q (entity not decoded?)", user.Description.Value)
		}
		trade := ps("ReadAccessToTradeStyle")
		if len(trade.ObjectPermissions) != 0 || trade.Label.Value != "Read Access to Trade Style" {
			t.Errorf("ReadAccessToTradeStyle = %+v", trade)
		}
	})
}
