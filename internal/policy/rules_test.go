package policy

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/format"

	"github.com/steward-dev/steward/internal/snapshot"
)

// builtinRules are the rules the built-in pack must provide.
var builtinRules = []string{
	"NHI-AGT-01",
	"NHI-APP-01", "NHI-APP-02", "NHI-APP-03", "NHI-APP-04", "NHI-APP-05", "NHI-APP-06", "NHI-APP-07",
	"NHI-ENV-01", "NHI-ENV-02", "NHI-ENV-03",
	"NHI-INV-01", "NHI-INV-02", "NHI-INV-03", "NHI-INV-04", "NHI-INV-05", "NHI-INV-06",
	"NHI-MON-01", "NHI-MON-03",
	"NHI-ORG-01", "NHI-ORG-02",
	"NHI-REV-01", "NHI-REV-02", "NHI-REV-03",
	"NHI-RUN-01", "NHI-RUN-02", "NHI-RUN-03", "NHI-RUN-04",
	"NHI-SEC-01", "NHI-SEC-02", "NHI-SEC-03", "NHI-SEC-04",
	"NHI-BG-01", "NHI-BG-02", "NHI-BG-03",
}

// liveRules are the built-in rules that need live org data.
var liveRules = map[string]bool{
	"NHI-INV-05": true, "NHI-INV-06": true, "NHI-MON-03": true, "NHI-ORG-01": true,
	"NHI-ORG-02": true, "NHI-REV-02": true, "NHI-RUN-04": true,
}

// storeRules are the built-in rules that need Steward's secret store.
var storeRules = map[string]bool{"NHI-MON-01": true, "NHI-SEC-03": true, "NHI-SEC-04": true, "NHI-BG-01": true, "NHI-BG-02": true, "NHI-BG-03": true}

const integrationProfile = "Minimum Access - API Only Integrations"

// integration returns one fully governed integration: an identity, its
// owning team, its External Client App and its least-privilege run-as user.
// suffix keeps the names of several integrations apart.
func integration(suffix string) (snapshot.Identity, snapshot.Team, snapshot.App, snapshot.User) {
	service := "billing-sync" + suffix
	name := service + "-prod"
	team := "finance-platform" + suffix
	app := "Billing_Sync" + strings.ReplaceAll(suffix, "-", "_")
	user := "billing.integration" + suffix + "@acme.com"
	idFile := "inventory/" + service + ".yaml"
	ecaDir := "force-app/main/default/externalClientApps/"
	policyFile := ecaDir + app + ".ecaOauthPlcy-meta.xml"
	grantedBy := []string{"permission set Billing_Integration"}
	fromProfile := []string{"profile " + integrationProfile}

	id := snapshot.Identity{
		Name:        name,
		Location:    snapshot.Location{File: idFile, Line: 1},
		Service:     service,
		Owner:       team,
		Environment: "production",
		Criticality: "high",
		Lifecycle:   "active",
		Purpose:     "Push invoice status from the billing system to Opportunity",
		Salesforce: snapshot.Binding{
			URL:                 "https://acme.my.salesforce.com",
			OrgKind:             "production",
			App:                 app,
			RunAs:               user,
			RunAsProfile:        integrationProfile,
			RunAsPermissionSets: []string{"Billing_Integration"},
		},
		Access: snapshot.Access{
			Scopes:  []string{"api"},
			Objects: map[string][]string{"Opportunity": {"read", "edit"}, "Invoice__c": {"read", "create"}},
		},
		Credential: snapshot.Credential{SecretRef: "salesforce/" + name, RotationDays: 90, RotatedAt: "2026-10-01"},
		Consumers:  []snapshot.Consumer{{OIDCIssuer: "https://token.actions.githubusercontent.com", OIDCSubject: "repo:acme/billing:environment:prod"}},
		Review:     snapshot.Review{IntervalDays: 90, LastReviewed: "2026-09-30"},
	}
	t := snapshot.Team{
		Name:     team,
		Location: snapshot.Location{File: "inventory/teams.yaml", Line: 1},
		Members:  []string{"ana@acme.com", "raj@acme.com"},
		Backup:   "sec-oncall@acme.com",
	}
	a := snapshot.App{
		Kind:     snapshot.KindExternalClientApp,
		Name:     app,
		Label:    "Billing Sync",
		Location: snapshot.Location{File: ecaDir + app + ".eca-meta.xml", Line: 2},
		Locations: map[string]snapshot.Location{
			"flows":              {File: policyFile, Line: 4},
			"runAs":              {File: policyFile, Line: 5},
			"ipRelaxation":       {File: policyFile, Line: 6},
			"adminApproved":      {File: policyFile, Line: 7},
			"refreshTokenPolicy": {File: policyFile, Line: 8},
			"sessionTimeout":     {File: policyFile, Line: 9},
			"scopes":             {File: ecaDir + app + ".ecaOauth-meta.xml", Line: 5},
		},
		ContactEmail:          "finance-platform@acme.com",
		Flows:                 snapshot.Flows{ClientCredentials: true},
		Scopes:                []string{"api"},
		UnknownScopes:         []string{},
		RunAs:                 user,
		IPRelaxation:          "ENFORCE",
		IPRanges:              []snapshot.IPRange{{Start: "203.0.113.10", End: "203.0.113.10"}},
		RefreshTokenPolicy:    "zero",
		SessionTimeoutMinutes: 15,
		AdminApproved:         true,
		PreAuthorized:         []string{"Billing_Integration"},
		Identities:            []string{name},
	}
	u := snapshot.User{
		Username:            user,
		Source:              "inventory",
		Profile:             integrationProfile,
		License:             "Salesforce Integration",
		PermissionSets:      []string{"Billing_Integration"},
		PermissionSetGroups: []string{},
		Unresolved:          []string{},
		Effective: snapshot.Permissions{
			User: map[string][]string{"ApiEnabled": fromProfile, "ApiUserOnly": fromProfile},
			Objects: map[string]snapshot.ObjectAccess{
				"Opportunity": {Read: true, Edit: true, GrantedBy: grantedBy},
				"Invoice__c":  {Read: true, Create: true, GrantedBy: grantedBy},
			},
		},
		Apps:       []string{app},
		Identities: []string{name},
		Location:   id.Location,
	}
	return id, t, a, u
}

// emptySnapshot is a snapshot at a fixed time with nothing in it.
func emptySnapshot() *snapshot.Snapshot {
	return &snapshot.Snapshot{
		Format:       snapshot.FormatVersion,
		Now:          time.Date(2026, 10, 15, 9, 0, 0, 0, time.UTC),
		Source:       "metadata",
		Capabilities: snapshot.Capabilities{Inventory: true, Metadata: true},
		Identities:   []snapshot.Identity{},
		Teams:        []snapshot.Team{},
		Exceptions:   []snapshot.Exception{},
		Apps:         []snapshot.App{},
		Users:        []snapshot.User{},
	}
}

// addIntegration appends one governed integration to s.
func addIntegration(s *snapshot.Snapshot, suffix string) {
	id, t, a, u := integration(suffix)
	s.Identities = append(s.Identities, id)
	s.Teams = append(s.Teams, t)
	s.Apps = append(s.Apps, a)
	s.Users = append(s.Users, u)
}

// wellGoverned is one fully compliant integration: no rule may fire on it.
func wellGoverned() *snapshot.Snapshot {
	s := emptySnapshot()
	addIntegration(s, "")
	return s
}

// at is a UTC time on the given day of 2026 (month, day, hour).
func at(month time.Month, day, hour int) time.Time {
	return time.Date(2026, month, day, hour, 0, 0, 0, time.UTC)
}

// wellGovernedLive is wellGoverned as discovered from its org: the app and
// its run-as user in use by client credentials only, a small admin set
// holding the bypass permissions, API Enabled only on the integration and
// administrator profiles, and a Setup change made before the last review.
func wellGovernedLive() *snapshot.Snapshot {
	s := wellGoverned()
	makeLive(s)
	return s
}

// makeLive turns a snapshot of governed integrations into one discovered
// from their org, as wellGovernedLive describes.
func makeLive(s *snapshot.Snapshot) {
	s.Source = "org"
	s.Capabilities.Live, s.Capabilities.LoginHistory = true, true
	admins := []snapshot.Holder{
		{Username: "ana.admin@acme.com", Profile: "System Administrator", GrantedBy: []string{"profile System Administrator"}},
		{Username: "raj.admin@acme.com", Profile: "System Administrator", GrantedBy: []string{"profile System Administrator"}},
	}
	s.Org = &snapshot.Org{
		URL: "https://acme.my.salesforce.com", Kind: "production", ID: "00D5g000000AbCdEAK",
		APIUsage: snapshot.APIUsage{Used: 1200, Max: 100000},
		Bypass:   map[string][]snapshot.Holder{},
		APIEnabled: []snapshot.Grant{
			{Kind: snapshot.GrantProfile, Name: integrationProfile, Users: len(s.Users), License: "Salesforce Integration"},
			{Kind: snapshot.GrantProfile, Name: "System Administrator", Users: 2, License: "Salesforce"},
		},
	}
	for _, p := range snapshot.BypassPermissions {
		s.Org.Bypass[p] = admins
	}
	last := at(10, 15, 8)
	for i := range s.Apps {
		a := &s.Apps[i]
		a.Live = &snapshot.AppLive{
			InOrg: true, Created: at(1, 10, 12), LastClientCredentialsLogin: last,
			ClientCredentialsLogins: 2900, APIRequests: 1500,
		}
		s.OAuthApps = append(s.OAuthApps, snapshot.OAuthApp{
			Name: a.Name, Sources: []string{snapshot.SourceLoginHistory}, Users: []string{a.RunAs},
			LastUsed: last, App: a.Name, Identities: a.Identities,
		})
		s.SetupChanges = append(s.SetupChanges, snapshot.SetupChange{
			Time: at(9, 2, 14), Action: "changedConnectedAppPolicy", Section: "Connected Apps",
			Display: "Changed session timeout of " + a.Label, By: "ana.admin@acme.com", App: a.Name,
		})
	}
	for i := range s.Users {
		u := &s.Users[i]
		u.Live = &snapshot.UserLive{
			Active: true, UserType: "Standard", Created: at(1, 10, 12), LastLogin: last,
			Logins: []snapshot.LoginSummary{{
				LoginType: "Remote Access 2.0", LoginSubType: "OAuth Client Credentials", Application: u.Apps[0],
				Count: 2900, Last: last, SourceIPs: []string{"203.0.113.10"},
			}},
			Assignments: []snapshot.Assignment{{PermissionSet: "Billing_Integration"}},
		}
	}
}

// wellGovernedStore is wellGoverned checked with Steward's secret store:
// the secret rotated recently, read only by its consumer workload through
// the broker, and an audit log that verifies with every record under a
// checkpoint.
func wellGovernedStore() *snapshot.Snapshot {
	s := wellGoverned()
	addStore(s)
	return s
}

// addStore attaches a well-kept secret store to a snapshot of governed
// integrations.
func addStore(s *snapshot.Snapshot) {
	st := &snapshot.SecretStore{Audit: snapshot.AuditLog{
		OK: true, Records: 120, Head: 120, LastCheckpoint: 120, LastCheckpointAt: at(10, 15, 8),
	}}
	for _, id := range s.Identities {
		c := id.Consumers[0]
		st.Secrets = append(st.Secrets, snapshot.Secret{
			Name: id.Credential.SecretRef, Version: 3, Created: at(10, 1, 9), Rotated: at(10, 1, 10), RotatedOn: "2026-10-01",
			Rotation: "idle", LastRead: at(10, 15, 7), LastReadBy: "workload:" + c.OIDCIssuer + "#" + c.OIDCSubject,
			Readers: []snapshot.Reader{{Kind: snapshot.ReaderWorkload, ID: c.OIDCIssuer + "#" + c.OIDCSubject, Count: 310, Last: at(10, 15, 7)}},
		})
	}
	s.AddSecretStore(st)
}

// The names in wellGoverned.
const (
	wgIdentity = "billing-sync-prod"
	wgApp      = "Billing_Sync"
	wgUser     = "billing.integration@acme.com"
	wgSecret   = "salesforce/billing-sync-prod"
)

// builtinEngine is the built-in pack, compiled once for all tests.
var builtinEngine = sync.OnceValues(func() (*Engine, error) { return New(context.Background(), Options{}) })

func testEngine(t testing.TB) *Engine {
	t.Helper()
	e, err := builtinEngine()
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// rejoin recomputes the joins the snapshot records on apps and users (the
// identities naming each app; the identities and apps naming each user), as
// building a snapshot does, after a test has changed names.
func rejoin(s *snapshot.Snapshot) {
	byApp, byUser, appsByUser := map[string][]string{}, map[string][]string{}, map[string][]string{}
	for _, id := range s.Identities {
		byApp[id.Salesforce.App] = append(byApp[id.Salesforce.App], id.Name)
		byUser[strings.ToLower(id.Salesforce.RunAs)] = append(byUser[strings.ToLower(id.Salesforce.RunAs)], id.Name)
	}
	for _, a := range s.Apps {
		if a.RunAs != "" {
			appsByUser[strings.ToLower(a.RunAs)] = append(appsByUser[strings.ToLower(a.RunAs)], a.Name)
		}
	}
	sorted := func(xs []string) []string {
		out := append([]string{}, xs...)
		sort.Strings(out)
		return out
	}
	for i := range s.Apps {
		s.Apps[i].Identities = sorted(byApp[s.Apps[i].Name])
	}
	for i := range s.Users {
		key := strings.ToLower(s.Users[i].Username)
		s.Users[i].Identities, s.Users[i].Apps = sorted(byUser[key]), sorted(appsByUser[key])
	}
}

// evaluate rejoins s and evaluates it with the built-in pack.
func evaluate(t *testing.T, s *snapshot.Snapshot) *Result {
	t.Helper()
	rejoin(s)
	res, err := testEngine(t).Evaluate(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func of(findings []Finding, rule string) []Finding {
	var out []Finding
	for _, f := range findings {
		if f.Rule == rule {
			out = append(out, f)
		}
	}
	return out
}

func describe(findings []Finding) string {
	var b strings.Builder
	for _, f := range findings {
		id := "null"
		if f.Identity != nil {
			id = *f.Identity
		}
		fmt.Fprintf(&b, "\n  %s %s identity=%s %s/%s: %s", f.Rule, f.Severity, id, f.Resource.Kind, f.Resource.Name, f.Message)
	}
	return b.String()
}

func TestWellGovernedIsSilent(t *testing.T) {
	for name, s := range map[string]*snapshot.Snapshot{"offline": wellGoverned(), "live": wellGovernedLive(), "store": wellGovernedStore()} {
		res := evaluate(t, s)
		if len(res.Findings) != 0 || len(res.Suppressed) != 0 {
			t.Errorf("%s: a well-governed integration has findings:%s", name, describe(append(res.Findings, res.Suppressed...)))
		}
	}
}

// TestLiveRulesNeedLiveData runs every live rule's positive case with the
// live capability off: live rules must stay silent.
func TestLiveRulesNeedLiveData(t *testing.T) {
	for _, tc := range liveCases {
		s := wellGovernedLive()
		tc.positive(s)
		s.Capabilities.Live = false
		res := evaluate(t, s)
		if got := of(res.Findings, tc.rule); len(got) > 0 {
			t.Errorf("%s fired without live data:%s", tc.rule, describe(got))
		}
	}
}

// TestStoreRulesNeedTheStore runs the positive cases of the rules that
// require the secret store with the capability off: they must stay silent.
func TestStoreRulesNeedTheStore(t *testing.T) {
	for _, tc := range storeCases {
		if !storeRules[tc.rule] {
			continue // NHI-SEC-02 runs on declared dates too
		}
		s := wellGoverned()
		tc.positive(s)
		s.Capabilities.SecretStore = false
		if got := of(evaluate(t, s).Findings, tc.rule); len(got) > 0 {
			t.Errorf("%s fired without the secret store:%s", tc.rule, describe(got))
		}
	}
}

// storeCases violate the rules that read Steward's secret store; each
// starts from wellGoverned and attaches a store.
var storeCases = []ruleCase{
	{
		rule: "NHI-SEC-02",
		positive: func(s *snapshot.Snapshot) {
			addStore(s)
			// The declared date is fresh, the store's record is not.
			s.Identities[0].Credential.RotatedAt = "2026-10-10"
			s.SecretStore.Secrets[0].RotatedOn = "2026-06-01"
		},
		kind: "Secret", name: wgSecret, identity: wgIdentity, severity: "medium",
		negative: func(s *snapshot.Snapshot) {
			addStore(s)
			// The declared date is old, the store's record is not.
			s.Identities[0].Credential.RotatedAt = "2026-01-01"
		},
	},
	{
		rule: "NHI-SEC-03",
		positive: func(s *snapshot.Snapshot) {
			addStore(s)
			sec := &s.SecretStore.Secrets[0]
			sec.Readers = append(sec.Readers, snapshot.Reader{Kind: snapshot.ReaderHuman, ID: "ana@acme.com", Count: 1, Last: at(10, 14, 22)})
		},
		kind: "Secret", name: wgSecret, identity: wgIdentity, severity: "high",
		negative: func(s *snapshot.Snapshot) {
			addStore(s)
			// An approved break-glass read: an unexpired exception accepts it.
			sec := &s.SecretStore.Secrets[0]
			sec.Readers = append(sec.Readers, snapshot.Reader{Kind: snapshot.ReaderHuman, ID: "ana@acme.com", Count: 1, Last: at(10, 14, 22)})
			x := validException()
			x.Name, x.Rule, x.Reason = "billing-breakglass-2026-10", "NHI-SEC-03", "Incident INC-4711: the broker was down"
			s.Exceptions = append(s.Exceptions, x)
		},
	},
	{
		rule: "NHI-MON-01",
		positive: func(s *snapshot.Snapshot) {
			addStore(s)
			a := &s.SecretStore.Audit
			a.OK, a.FirstBad, a.Problem = false, 57, "record 57 does not match its hash: it was edited, or records before it were removed or reordered"
		},
		kind: "AuditLog", name: "steward", severity: "critical",
		negative: func(s *snapshot.Snapshot) {
			addStore(s)
			// Records written an hour ago wait for the next checkpoint.
			a := &s.SecretStore.Audit
			a.Head, a.Records, a.Uncheckpointed, a.OldestUncheckpointed = 123, 123, 3, at(10, 15, 8)
		},
	},
}

// ruleCase violates (positive) or nearly violates (negative) one rule.
type ruleCase struct {
	rule     string
	positive func(*snapshot.Snapshot)
	negative func(*snapshot.Snapshot)
	// What the positive case's finding is about; identity "" means null.
	kind, name, identity, severity string
	// live cases start from wellGovernedLive instead of wellGoverned.
	live bool
}

var ruleCases = []ruleCase{
	{
		rule: "NHI-INV-01",
		positive: func(s *snapshot.Snapshot) {
			_, _, a, _ := integration("-orders")
			a.Identities = []string{}
			s.Apps = append(s.Apps, a)
		},
		kind: "ExternalClientApp", name: "Billing_Sync_orders", severity: "high",
		negative: func(s *snapshot.Snapshot) {
			_, _, a, _ := integration("-orders")
			a.Flows.ClientCredentials = false
			s.Apps = append(s.Apps, a)
		},
	},
	{
		rule:     "NHI-INV-02",
		positive: func(s *snapshot.Snapshot) { s.Identities[0].Owner = "ana@acme.com" },
		kind:     "Identity", name: wgIdentity, identity: wgIdentity, severity: "high",
		negative: func(s *snapshot.Snapshot) {
			s.Teams = append(s.Teams, snapshot.Team{Name: "idle", Members: []string{}})
		},
	},
	{
		rule:     "NHI-INV-03",
		positive: func(s *snapshot.Snapshot) { s.Identities[0].Purpose = "" },
		kind:     "Identity", name: wgIdentity, identity: wgIdentity, severity: "medium",
		negative: func(s *snapshot.Snapshot) { s.Identities[0].Criticality = "low" },
	},
	{
		rule: "NHI-APP-01",
		positive: func(s *snapshot.Snapshot) {
			// A second service whose app runs as the first one's user.
			addIntegration(s, "-orders")
			s.Identities[1].Salesforce.RunAs = wgUser
			s.Apps[1].RunAs = wgUser
			s.Users = s.Users[:1]
		},
		kind: "User", name: wgUser, severity: "high",
		negative: func(s *snapshot.Snapshot) {
			// A second identity of the same service, same app and user.
			id, _, _, _ := integration("")
			id.Name += "-eu"
			id.Credential.SecretRef += "-eu"
			s.Identities = append(s.Identities, id)
		},
	},
	{
		rule: "NHI-APP-02",
		positive: func(s *snapshot.Snapshot) {
			s.Apps[0].Scopes = []string{"api", "refresh_token"}
			s.Identities[0].Access.Scopes = []string{"api", "refresh_token"}
		},
		kind: "ExternalClientApp", name: wgApp, identity: wgIdentity, severity: "high",
		negative: func(s *snapshot.Snapshot) {
			s.Apps[0].Scopes = []string{"api", "chatter_api"}
			s.Identities[0].Access.Scopes = []string{"api", "chatter_api"}
		},
	},
	{
		rule:     "NHI-APP-03",
		positive: func(s *snapshot.Snapshot) { s.Apps[0].Flows.TokenExchange = true },
		kind:     "ExternalClientApp", name: wgApp, identity: wgIdentity, severity: "medium",
		negative: func(s *snapshot.Snapshot) {
			// Other flows on an app without client credentials are not this rule's concern.
			s.Apps[0].Flows = snapshot.Flows{TokenExchange: true, CodeCredential: true}
		},
	},
	{
		rule:     "NHI-APP-04",
		positive: func(s *snapshot.Snapshot) { s.Apps[0].AdminApproved = false },
		kind:     "ExternalClientApp", name: wgApp, identity: wgIdentity, severity: "medium",
		negative: func(s *snapshot.Snapshot) {
			s.Apps[0].PreAuthorized = []string{"Billing_Integration", integrationProfile}
		},
	},
	{
		rule:     "NHI-APP-05",
		positive: func(s *snapshot.Snapshot) { s.Apps[0].IPRelaxation = "BYPASS" },
		kind:     "ExternalClientApp", name: wgApp, identity: wgIdentity, severity: "high",
		negative: func(s *snapshot.Snapshot) { s.Apps[0].IPRelaxation = "" },
	},
	{
		rule:     "NHI-APP-06",
		positive: func(s *snapshot.Snapshot) { s.Apps[0].SessionTimeoutMinutes = 120 },
		kind:     "ExternalClientApp", name: wgApp, identity: wgIdentity, severity: "medium",
		negative: func(s *snapshot.Snapshot) {
			s.Apps[0].SessionTimeoutMinutes = 5
			s.Apps[0].RefreshTokenPolicy = "specific_lifetime:1:HOURS"
		},
	},
	{
		rule:     "NHI-APP-07",
		positive: func(s *snapshot.Snapshot) { s.Apps[0].Kind = snapshot.KindConnectedApp },
		kind:     "ConnectedApp", name: wgApp, identity: wgIdentity, severity: "low",
		negative: func(s *snapshot.Snapshot) {
			s.Identities[0].Vendor = "Acme Analytics"
			s.Identities[0].Criticality = "critical"
			s.Identities[0].Credential.RotationDays = 30
		},
	},
	{
		rule:     "NHI-RUN-01",
		positive: func(s *snapshot.Snapshot) { delete(s.Users[0].Effective.User, "ApiUserOnly") },
		kind:     "User", name: wgUser, identity: wgIdentity, severity: "high",
		negative: func(s *snapshot.Snapshot) {
			s.Users[0].Effective.User["ApiUserOnly"] = []string{"permission set Billing_Integration"}
		},
	},
	{
		rule: "NHI-RUN-02",
		positive: func(s *snapshot.Snapshot) {
			s.Users[0].Effective.User["ModifyAllData"] = []string{"permission set Billing_Integration"}
		},
		kind: "User", name: wgUser, identity: wgIdentity, severity: "critical",
		negative: func(s *snapshot.Snapshot) {
			s.Users[0].Effective.User["ChatterInternalUser"] = []string{"profile " + integrationProfile}
		},
	},
	{
		rule:     "NHI-RUN-03",
		positive: func(s *snapshot.Snapshot) { s.Users[0].Unresolved = []string{"permission set Billing_Integration"} },
		kind:     "User", name: wgUser, identity: wgIdentity, severity: "medium",
		negative: func(s *snapshot.Snapshot) {
			s.Identities[0].Access.Objects = map[string][]string{}
			s.Users[0].Effective.Objects["Account"] = snapshot.ObjectAccess{Read: true}
		},
	},
	{
		rule:     "NHI-SEC-01",
		positive: func(s *snapshot.Snapshot) { s.Apps[0].ConsumerSecretInRepo = true },
		kind:     "ExternalClientApp", name: wgApp, identity: wgIdentity, severity: "critical",
		negative: func(s *snapshot.Snapshot) {
			s.Apps[0].ConsumerKeyPresent = true
			s.Apps[0].ConsumerKeyFingerprint = "0123456789abcdef"
		},
	},
	{
		rule:     "NHI-SEC-02",
		positive: func(s *snapshot.Snapshot) { s.Identities[0].Credential.RotatedAt = "2026-06-01" },
		kind:     "Secret", name: wgSecret, identity: wgIdentity, severity: "medium",
		negative: func(s *snapshot.Snapshot) { s.Identities[0].Credential.RotatedAt = "2026-08-15" },
	},
	{
		rule: "NHI-ENV-01",
		positive: func(s *snapshot.Snapshot) {
			addIntegration(s, "-uat")
			uat := &s.Identities[1]
			uat.Environment = "staging"
			uat.Salesforce.URL, uat.Salesforce.OrgKind = "https://acme--uat.sandbox.my.salesforce.com", "sandbox"
			uat.Credential.SecretRef = wgSecret
		},
		kind: "Secret", name: wgSecret, severity: "critical",
		negative: func(s *snapshot.Snapshot) {
			addIntegration(s, "-uat")
			uat := &s.Identities[1]
			uat.Environment = "staging"
			uat.Salesforce.URL, uat.Salesforce.OrgKind = "https://acme--uat.sandbox.my.salesforce.com", "sandbox"
		},
	},
	{
		rule: "NHI-ENV-02",
		positive: func(s *snapshot.Snapshot) {
			id, _, _, _ := integration("")
			id.Name = "billing-sync-uat"
			id.Environment = "staging"
			id.Salesforce.URL, id.Salesforce.OrgKind = "https://acme--uat.sandbox.my.salesforce.com", "sandbox"
			id.Salesforce.App = ""
			id.Credential.SecretRef = "salesforce/billing-sync-uat"
			s.Identities = append(s.Identities, id)
		},
		kind: "User", name: wgUser, severity: "high",
		negative: func(s *snapshot.Snapshot) {
			id, _, _, _ := integration("")
			id.Name = "billing-sync-prod-eu"
			id.Salesforce.App = ""
			id.Credential.SecretRef = "salesforce/billing-sync-prod-eu"
			s.Identities = append(s.Identities, id)
		},
	},
	{
		rule: "NHI-ENV-03",
		positive: func(s *snapshot.Snapshot) {
			s.Identities[0].Environment = "staging"
		},
		kind: "Identity", name: wgIdentity, identity: wgIdentity, severity: "high",
		negative: func(s *snapshot.Snapshot) {
			s.Identities[0].Salesforce.URL = "https://salesforce.example.com"
			s.Identities[0].Salesforce.OrgKind = "unknown"
		},
	},
	{
		rule:     "NHI-REV-01",
		positive: func(s *snapshot.Snapshot) { s.Identities[0].Review.LastReviewed = "" },
		kind:     "Identity", name: wgIdentity, identity: wgIdentity, severity: "medium",
		negative: func(s *snapshot.Snapshot) { s.Identities[0].Review.LastReviewed = "2026-07-20" },
	},
	{
		rule: "NHI-REV-03",
		positive: func(s *snapshot.Snapshot) {
			x := validException()
			x.Expires = ""
			s.Exceptions = append(s.Exceptions, x)
		},
		kind: "Identity", name: wgIdentity, identity: wgIdentity, severity: "medium",
		negative: func(s *snapshot.Snapshot) { s.Exceptions = append(s.Exceptions, validException()) },
	},
	{
		rule: "NHI-AGT-01",
		positive: func(s *snapshot.Snapshot) {
			addIntegration(s, "-agent")
			s.Identities[1].Agent = true
			s.Identities[1].Credential.SecretRef = wgSecret
		},
		kind: "Identity", name: "billing-sync-agent-prod", identity: "billing-sync-agent-prod", severity: "high",
		negative: func(s *snapshot.Snapshot) {
			addIntegration(s, "-agent")
			s.Identities[1].Agent = true
		},
	},
}

// liveCases are the cases of the rules that need live data.
var liveCases = []ruleCase{
	{
		rule: "NHI-INV-05",
		positive: func(s *snapshot.Snapshot) {
			s.Apps[0].Live.LastClientCredentialsLogin = at(8, 1, 10)
			s.Apps[0].Live.APIRequests = 0
		},
		kind: "ExternalClientApp", name: wgApp, identity: wgIdentity, severity: "medium", live: true,
		negative: func(s *snapshot.Snapshot) {
			// Old logins, but the app made API requests today.
			s.Apps[0].Live.LastClientCredentialsLogin = at(8, 1, 10)
		},
	},
	{
		rule:     "NHI-INV-06",
		positive: func(s *snapshot.Snapshot) { s.Identities[0].Lifecycle = "retired" },
		kind:     "Identity", name: wgIdentity, identity: wgIdentity, severity: "critical", live: true,
		negative: func(s *snapshot.Snapshot) {
			s.Identities[0].Lifecycle = "retired"
			s.Apps[0].Live.InOrg = false
			s.Users[0].Live.Active = false
		},
	},
	{
		rule: "NHI-RUN-04",
		positive: func(s *snapshot.Snapshot) {
			l := s.Users[0].Live
			l.Logins = append(l.Logins, snapshot.LoginSummary{
				LoginType: "Application", LoginSubType: "UsernamePasswordUiLogin", Application: "Browser",
				Count: 2, Last: at(10, 10, 9), SourceIPs: []string{"198.51.100.7"},
			})
		},
		kind: "User", name: wgUser, identity: wgIdentity, severity: "high", live: true,
		negative: func(s *snapshot.Snapshot) {
			l := s.Users[0].Live
			l.Logins = append(l.Logins, snapshot.LoginSummary{
				LoginType: "Remote Access 2.0", LoginSubType: "OauthClientCredentials", Application: wgApp,
				Count: 5, Last: at(10, 12, 9), SourceIPs: []string{"203.0.113.11"},
			})
		},
	},
	{
		rule: "NHI-MON-03",
		positive: func(s *snapshot.Snapshot) {
			s.OAuthApps = append(s.OAuthApps, dataLoader())
		},
		kind: "OAuthApp", name: "Data Loader", severity: "high", live: true,
		negative: func(s *snapshot.Snapshot) {
			s.OAuthApps = append(s.OAuthApps, dataLoader())
			x := validException()
			x.Name, x.Identity, x.Rule, x.Resource = "data-loader-human-use", "", "NHI-MON-03", "Data Loader"
			s.Exceptions = append(s.Exceptions, x)
		},
	},
	{
		rule: "NHI-ORG-01",
		positive: func(s *snapshot.Snapshot) {
			s.Org.Bypass[snapshot.PermUseAnyAPIClient] = append(holders(1), snapshot.Holder{
				Username: "dana.ops@acme.com", Profile: "Standard User", GrantedBy: []string{"permission set Integration_Support"},
			})
		},
		kind: "Org", name: "https://acme.my.salesforce.com", severity: "high", live: true,
		negative: func(s *snapshot.Snapshot) {
			for _, p := range snapshot.BypassPermissions {
				s.Org.Bypass[p] = holders(5)
			}
			// The run-as user holding one is NHI-RUN-02's finding, not this rule's.
			s.Org.Bypass[snapshot.PermViewClientSecret] = append(holders(1), snapshot.Holder{
				Username: wgUser, Profile: integrationProfile, GrantedBy: []string{"permission set Billing_Integration"},
			})
		},
	},
	{
		rule: "NHI-ORG-02",
		positive: func(s *snapshot.Snapshot) {
			s.Org.APIEnabled = append(s.Org.APIEnabled, snapshot.Grant{Kind: snapshot.GrantProfile, Name: "Standard User", Users: 250, License: "Salesforce"})
		},
		kind: "Profile", name: "Standard User", severity: "medium", live: true,
		negative: func(s *snapshot.Snapshot) {
			s.Org.APIEnabled = append(s.Org.APIEnabled,
				snapshot.Grant{Kind: snapshot.GrantPermissionSet, Name: "Integration_API", Users: 40, License: "Salesforce Integration"},
				snapshot.Grant{Kind: snapshot.GrantPermissionSet, Name: "Developers_API", Users: 20, License: "Salesforce"},
			)
		},
	},
	{
		rule: "NHI-REV-02",
		positive: func(s *snapshot.Snapshot) {
			old := wellGovernedLive()
			s.Apps[0].Scopes = []string{"api", "chatter_api"}
			s.Identities[0].Access.Scopes = []string{"api", "chatter_api"}
			s.Expansions = snapshot.Expansions(snapshot.Diff(old, s))
		},
		kind: "Identity", name: wgIdentity, identity: wgIdentity, severity: "medium", live: true,
		negative: func(s *snapshot.Snapshot) {
			old := wellGovernedLive()
			s.Apps[0].SessionTimeoutMinutes = 5
			s.Expansions = snapshot.Expansions(snapshot.Diff(old, s))
			// A change on the day of the review counts as reviewed.
			s.SetupChanges[0].Time = at(9, 30, 16)
		},
	},
}

// TestBypassPermissionsMatchTheModel checks that NHI-ORG-01 knows every
// bypass permission the snapshot model lists.
func TestBypassPermissionsMatchTheModel(t *testing.T) {
	for _, p := range snapshot.BypassPermissions {
		s := wellGovernedLive()
		s.Org.Bypass[p] = holders(6)
		got := of(evaluate(t, s).Findings, "NHI-ORG-01")
		if len(got) != 1 || !strings.Contains(got[0].Message, "("+p+")") {
			t.Errorf("%s held by 6 users: NHI-ORG-01 findings:%s", p, describe(got))
		}
	}
}

// dataLoader is an OAuth app a sales user authorised, unknown to the
// inventory.
func dataLoader() snapshot.OAuthApp {
	return snapshot.OAuthApp{
		Name: "Data Loader", Sources: []string{snapshot.SourceOAuthToken}, Users: []string{"sales.rep@acme.com"},
		Tokens: 3, LastUsed: at(10, 14, 22), Identities: []string{},
	}
}

// holders returns n administrators holding a permission.
func holders(n int) []snapshot.Holder {
	out := make([]snapshot.Holder, n)
	for i := range out {
		out[i] = snapshot.Holder{Username: fmt.Sprintf("admin%d@acme.com", i+1), Profile: "System Administrator", GrantedBy: []string{"profile System Administrator"}}
	}
	return out
}

// validException accepts NHI-RUN-02 findings for the well-governed identity.
func validException() snapshot.Exception {
	return snapshot.Exception{
		Name:                 "billing-viewsetup-2026q4",
		Location:             snapshot.Location{File: "inventory/exceptions.yaml", Line: 3},
		Identity:             wgIdentity,
		Rule:                 "NHI-RUN-02",
		Reason:               "Reconciliation reads setup data until the report moves",
		ApprovedBy:           "ciso@acme.com",
		Expires:              "2026-12-31",
		CompensatingControls: []string{"ip-restriction", "30-day-rotation"},
	}
}

func TestRuleCases(t *testing.T) {
	covered := map[string]bool{}
	for _, tc := range slices.Concat(ruleCases, liveCases, storeCases, rosterCases, elevationCases) {
		covered[tc.rule] = true
		start := wellGoverned
		if tc.live {
			start = wellGovernedLive
		}
		t.Run(tc.rule+"/positive", func(t *testing.T) {
			s := start()
			tc.positive(s)
			res := evaluate(t, s)
			got := of(res.Findings, tc.rule)
			if len(got) != 1 {
				t.Fatalf("want one %s finding, got:%s", tc.rule, describe(res.Findings))
			}
			f := got[0]
			if f.Resource.Kind != tc.kind || f.Resource.Name != tc.name {
				t.Errorf("resource = %s/%s, want %s/%s", f.Resource.Kind, f.Resource.Name, tc.kind, tc.name)
			}
			switch {
			case tc.identity == "" && f.Identity != nil:
				t.Errorf("identity = %q, want null", *f.Identity)
			case tc.identity != "" && (f.Identity == nil || *f.Identity != tc.identity):
				t.Errorf("identity = %v, want %q", f.Identity, tc.identity)
			}
			if f.Severity != tc.severity {
				t.Errorf("severity = %s, want %s", f.Severity, tc.severity)
			}
			if f.Message == "" || f.Title == "" || f.Remediation == "" || len(f.Controls) == 0 {
				t.Errorf("finding lacks message, title, remediation or controls: %+v", f)
			}
			if others := slices.DeleteFunc(slices.Clone(res.Findings), func(f Finding) bool { return f.Rule == tc.rule }); len(others) > 0 {
				t.Errorf("the case should violate %s only; also:%s", tc.rule, describe(others))
			}
		})
		t.Run(tc.rule+"/negative", func(t *testing.T) {
			s := start()
			tc.negative(s)
			res := evaluate(t, s)
			if len(res.Findings) > 0 {
				t.Errorf("want no findings, got:%s", describe(res.Findings))
			}
		})
	}
	for _, id := range builtinRules {
		if !covered[id] {
			t.Errorf("no test case for %s", id)
		}
	}
}

func TestBuiltinRules(t *testing.T) {
	rules := testEngine(t).Rules()
	var ids []string
	for _, r := range rules {
		ids = append(ids, r.ID)
		if !r.Builtin {
			t.Errorf("%s: not marked built-in", r.ID)
		}
		pkg := strings.ToLower(strings.ReplaceAll(r.ID, "-", "_"))
		if r.Package != pkg || r.File != "builtin/"+pkg+".rego" {
			t.Errorf("%s: package %s in %s, want %s in builtin/%s.rego", r.ID, r.Package, r.File, pkg, pkg)
		}
		if len(r.Controls) == 0 {
			t.Errorf("%s: no controls", r.ID)
		}
		for _, c := range r.Controls {
			if !validControl(c) {
				t.Errorf("%s: control %q is not in a known form", r.ID, c)
			}
		}
		if len(r.Title) > 70 {
			t.Errorf("%s: title is %d characters, at most 70: %s", r.ID, len(r.Title), r.Title)
		}
		if r.Description == "" {
			t.Errorf("%s: no description", r.ID)
		}
		if r.Live != liveRules[r.ID] {
			t.Errorf("%s: live = %v, want %v", r.ID, r.Live, liveRules[r.ID])
		}
	}
	want := slices.Clone(builtinRules)
	sort.Strings(want)
	if !slices.Equal(ids, want) {
		t.Errorf("built-in rules = %v\nwant %v", ids, want)
	}
}

// validControl reports whether a framework reference has one of the forms
// reports group by.
func validControl(c string) bool {
	for _, prefix := range []string{"OWASP NHI", "NIST CSF ", "NIST 800-53 ", "CIS "} {
		if strings.HasPrefix(c, prefix) && len(c) > len(prefix) {
			return !strings.HasPrefix(c, "OWASP") || strings.HasSuffix(c, ":2025")
		}
	}
	return false
}

// TestBuiltinPackIsStrict compiles the built-in pack and its tests in OPA's
// strict mode (no unused variables, imports or arguments, no deprecated
// built-ins).
func TestBuiltinPackIsStrict(t *testing.T) {
	mods, err := loadModules(Options{}, true)
	if err != nil {
		t.Fatal(err)
	}
	set := map[string]*ast.Module{}
	for _, m := range mods {
		set[m.name] = m.module
	}
	c := ast.NewCompiler().WithStrict(true)
	c.Compile(set)
	for _, e := range c.Errors {
		t.Error(e)
	}
}

// TestBuiltinPackIsFormatted checks that every file of the pack is laid out
// as `opa fmt` writes it.
func TestBuiltinPackIsFormatted(t *testing.T) {
	files, err := fs.Glob(builtinFS, "rego/*.rego")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range files {
		src, err := builtinFS.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		out, err := format.SourceWithOpts(name, src, format.Opts{RegoVersion: ast.RegoV1})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, src) {
			t.Errorf("%s is not formatted as opa fmt writes it", name)
		}
	}
}

func TestNewRejectsBadUserRules(t *testing.T) {
	body := `
finding contains f if {
	some app in input.apps
	f := {"message": app.name, "identity": null, "resource": {"kind": app.kind, "name": app.name}}
}
`
	meta := func(id, severity string) string {
		return fmt.Sprintf(`# METADATA
# title: Acme rule
# custom:
#   id: %s
#   severity: %s
#   controls: [CIS 5.5]
#   remediation: Fix it.
`, id, severity)
	}
	cases := []struct {
		name, src, want string
	}{
		{"no metadata", "package steward.rules.acme_01\n" + body, "no package METADATA"},
		{"duplicate id", meta("NHI-APP-02", "high") + "package steward.rules.acme_01\n" + body, "NHI-APP-02 is already used"},
		{"bad severity", meta("ACME-01", "severe") + "package steward.rules.acme_01\n" + body, `severity "severe"`},
		{"missing controls", strings.Replace(meta("ACME-01", "high"), "#   controls: [CIS 5.5]\n", "", 1) + "package steward.rules.acme_01\n" + body, "custom.controls"},
		{"unknown capability", meta("ACME-01", "high") + "#   requires: [vault]\npackage steward.rules.acme_01\n" + body, "unknown capability vault"},
		{"requires not a list", meta("ACME-01", "high") + "#   requires: secretStore\npackage steward.rules.acme_01\n" + body, "custom.requires must be a list"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "acme.rego"), []byte(tc.src), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := New(context.Background(), Options{Dirs: []string{dir}})
			if err == nil {
				t.Fatal("New accepted the rule")
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "acme.rego") {
				t.Errorf("error %q does not name the file and say %q", err, tc.want)
			}
		})
	}
}

func TestNewAcceptsUserRule(t *testing.T) {
	dir := t.TempDir()
	src := `# METADATA
# title: Apps carry a contact email
# custom:
#   id: ACME-01
#   severity: low
#   controls: [CIS 5.5]
#   remediation: Set contactEmail.
package steward.rules.acme_01

import data.steward.lib

finding contains f if {
	some app in input.apps
	app.contactEmail == ""
	f := {"message": app.name, "identity": lib.app_identity(app), "resource": lib.app_resource(app, "flows")}
}
`
	if err := os.WriteFile(filepath.Join(dir, "acme.rego"), []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	e, err := New(context.Background(), Options{Dirs: []string{dir}})
	if err != nil {
		t.Fatal(err)
	}
	s := wellGoverned()
	s.Apps[0].ContactEmail = ""
	res, err := e.Evaluate(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	got := of(res.Findings, "ACME-01")
	if len(got) != 1 || got[0].Severity != "low" || got[0].Identity == nil || *got[0].Identity != wgIdentity {
		t.Errorf("ACME-01 findings:%s", describe(res.Findings))
	}
}

func TestExceptions(t *testing.T) {
	violate := func(x snapshot.Exception) *snapshot.Snapshot {
		s := wellGoverned()
		s.Users[0].Effective.User["ViewSetup"] = []string{"permission set Billing_Integration"}
		s.Exceptions = append(s.Exceptions, x)
		return s
	}
	t.Run("unexpired suppresses", func(t *testing.T) {
		res := evaluate(t, violate(validException()))
		if len(res.Findings) != 0 {
			t.Errorf("active findings:%s", describe(res.Findings))
		}
		if len(res.Suppressed) != 1 || res.Suppressed[0].Rule != "NHI-RUN-02" || res.Suppressed[0].SuppressedBy != "billing-viewsetup-2026q4" {
			t.Errorf("suppressed:%s", describe(res.Suppressed))
		}
	})
	t.Run("expiring today still suppresses", func(t *testing.T) {
		x := validException()
		x.Expires = "2026-10-15"
		res := evaluate(t, violate(x))
		if len(res.Findings) != 0 || len(res.Suppressed) != 1 {
			t.Errorf("active:%s\nsuppressed:%s", describe(res.Findings), describe(res.Suppressed))
		}
	})
	for name, expires := range map[string]string{"expired": "2026-10-14", "no expiry": ""} {
		t.Run(name+" does not suppress", func(t *testing.T) {
			x := validException()
			x.Expires = expires
			res := evaluate(t, violate(x))
			if len(res.Suppressed) != 0 {
				t.Errorf("suppressed:%s", describe(res.Suppressed))
			}
			if len(of(res.Findings, "NHI-RUN-02")) != 1 || len(of(res.Findings, "NHI-REV-03")) != 1 {
				t.Errorf("want NHI-RUN-02 and NHI-REV-03 findings, got:%s", describe(res.Findings))
			}
		})
	}
	t.Run("other identity does not suppress", func(t *testing.T) {
		x := validException()
		x.Identity = "someone-else"
		res := evaluate(t, violate(x))
		if len(res.Suppressed) != 0 || len(of(res.Findings, "NHI-RUN-02")) != 1 {
			t.Errorf("active:%s\nsuppressed:%s", describe(res.Findings), describe(res.Suppressed))
		}
	})
}

// integrations builds a snapshot of n integrations. With violating, every
// integration breaks several rules, so that the finding-building side of
// the rules is timed too.
func integrations(n int, violating bool) *snapshot.Snapshot {
	s := emptySnapshot()
	for i := range n {
		addIntegration(s, fmt.Sprintf("-%05d", i))
		if !violating {
			continue
		}
		id, a, u := &s.Identities[i], &s.Apps[i], &s.Users[i]
		a.Scopes = append(a.Scopes, "full", "refresh_token")
		a.IPRelaxation = "BYPASS"
		a.RefreshTokenPolicy = "infinite"
		a.SessionTimeoutMinutes = 0
		u.Effective.User["ModifyAllData"] = []string{"profile Admin"}
		u.Effective.Objects["Account"] = snapshot.ObjectAccess{Read: true, ViewAll: true, GrantedBy: []string{"profile Admin"}}
		id.Credential.RotatedAt = "2025-01-01"
		id.Review.LastReviewed = ""
		if i%2 == 1 {
			// Pairs share a run-as user and a secret across environments.
			prev := &s.Identities[i-1]
			id.Environment = "staging"
			id.Salesforce.RunAs = prev.Salesforce.RunAs
			a.RunAs = prev.Salesforce.RunAs
			id.Credential.SecretRef = prev.Credential.SecretRef
		}
	}
	rejoin(s)
	return s
}

func TestIntegrationsFixture(t *testing.T) {
	if res := evaluate(t, integrations(50, false)); len(res.Findings) != 0 {
		t.Errorf("governed integrations have findings:%s", describe(res.Findings))
	}
	live := integrations(50, false)
	makeLive(live)
	if res := evaluate(t, live); len(res.Findings) != 0 {
		t.Errorf("governed integrations discovered live have findings:%s", describe(res.Findings))
	}
	stored := integrations(50, false)
	addStore(stored)
	if res := evaluate(t, stored); len(res.Findings) != 0 {
		t.Errorf("governed integrations with a secret store have findings:%s", describe(res.Findings))
	}
	res := evaluate(t, integrations(50, true))
	for _, rule := range []string{"NHI-APP-01", "NHI-APP-02", "NHI-APP-05", "NHI-APP-06", "NHI-RUN-02", "NHI-RUN-03", "NHI-SEC-02", "NHI-ENV-01", "NHI-ENV-02", "NHI-REV-01"} {
		if len(of(res.Findings, rule)) == 0 {
			t.Errorf("violating integrations: no %s finding", rule)
		}
	}
}

// BenchmarkEvaluate times one evaluation of 10,000 integrations, including
// the conversion of the snapshot to the policy input (BenchmarkInput times
// that part alone).
func BenchmarkEvaluate(b *testing.B) {
	e, err := New(context.Background(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name      string
		violating bool
	}{{"governed", false}, {"violating", true}} {
		b.Run(bc.name, func(b *testing.B) {
			s := integrations(10000, bc.violating)
			b.ResetTimer()
			for b.Loop() {
				res, err := e.Evaluate(context.Background(), s)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(len(res.Findings)), "findings")
			}
		})
	}
}

// BenchmarkEvaluateLive times one evaluation of 10,000 governed
// integrations discovered from an org, so that the live rules run too.
func BenchmarkEvaluateLive(b *testing.B) {
	e, err := New(context.Background(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	s := integrations(10000, false)
	makeLive(s)
	b.ResetTimer()
	for b.Loop() {
		res, err := e.Evaluate(context.Background(), s)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(len(res.Findings)), "findings")
	}
}

// BenchmarkEvaluateStore times one evaluation of 10,000 governed
// integrations checked with a secret store, so that the store rules run
// and NHI-SEC-02 reads the store's rotation dates.
func BenchmarkEvaluateStore(b *testing.B) {
	e, err := New(context.Background(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	s := integrations(10000, false)
	addStore(s)
	b.ResetTimer()
	for b.Loop() {
		res, err := e.Evaluate(context.Background(), s)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(len(res.Findings)), "findings")
	}
}

// BenchmarkInput times the conversion of a snapshot of 10,000 integrations
// to the policy input.
func BenchmarkInput(b *testing.B) {
	s := integrations(10000, false)
	b.ResetTimer()
	for b.Loop() {
		if _, err := inputValue(s); err != nil {
			b.Fatal(err)
		}
	}
}

// TestOfflineResultListsOfflineRules checks that an offline evaluation does
// not list the live rules among the rules that ran, so that reports do not
// count their controls as checked.
func TestOfflineResultListsOfflineRules(t *testing.T) {
	for name, s := range map[string]*snapshot.Snapshot{"offline": wellGoverned(), "live": wellGovernedLive()} {
		res := evaluate(t, s)
		n := 0
		for _, r := range res.Rules {
			if r.Live {
				n++
			}
		}
		want := 0
		if s.Capabilities.Live {
			want = len(liveRules)
		}
		if n != want || len(res.Rules) != len(builtinRules)-len(liveRules)-len(storeRules)+want {
			t.Errorf("%s: %d rules listed, %d of them live; want %d live", name, len(res.Rules), n, want)
		}
	}
}
