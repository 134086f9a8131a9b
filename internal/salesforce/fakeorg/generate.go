package fakeorg

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// ScannerApp is the connected app Generate creates for the scanner itself;
// its credentials come from Scenario.Credentials(ScannerApp).
const ScannerApp = "Steward_Scanner"

// Generate builds a benchmark org: apps client-credentials apps (two in
// three connected apps, the rest External Client Apps) and users
// integration users, each app running as one of them, with realistic
// profiles, permission sets (a few risky), a permission set group,
// assignments (some expiring), SetupEntityAccess grants, login history
// (about one app in ten dormant), OAuth tokens and setup audit entries. The
// same arguments always give the same scenario; the scanner's own app is
// ScannerApp.
func Generate(apps, users int, seed int64) *Scenario {
	apps, users = max(apps, 0), max(users, 1)
	rng := rand.New(rand.NewPCG(uint64(seed), 0x5eed))
	sc := &Scenario{
		Org: Org{Name: "Bench Corp", MyDomain: "bench", ID: "00D5g00000BeNcHEAA", APIDailyMax: 1000000},
		Profiles: []Profile{
			{Name: "System Administrator", License: "Salesforce", Permissions: []string{
				"ApiEnabled", "ModifyAllData", "ViewAllData", "ManageUsers", "CustomizeApplication", "ViewSetup",
				"AuthorApex", "ModifyMetadata", "ManageRemoteAccess", "UseAnyApiAuth", "ViewClientSecret",
			}},
			{Name: "Minimum Access - API Only Integrations", License: "Salesforce Integration",
				Permissions: []string{"ApiEnabled", "ApiUserOnly", "ChatterInternalUser"}},
			{Name: "Standard User", License: "Salesforce", Permissions: []string{"ApiEnabled", "ChatterInternalUser"}},
		},
		Users: []User{
			{Username: "admin@bench.example", Name: "Bench Admin", Profile: "System Administrator", LastLogin: Ago(2 * time.Hour)},
			{Username: "scanner@bench.example", Name: "Steward Scanner", Profile: "Minimum Access - API Only Integrations"},
		},
		PermissionSets: []PermissionSet{{
			Name: "Steward_Scanner", Label: "Steward Scanner",
			Permissions: []string{"ApiEnabled", "ViewSetup", "ViewAllUsers", "ViewAllProfiles", "ModifyMetadata"},
		}},
		Assignments: []Assignment{{User: "scanner@bench.example", PermissionSet: "Steward_Scanner"}},
		ConnectedApps: []ConnectedApp{{
			Name: ScannerApp, Label: "Steward Scanner", ContactEmail: "security@bench.example",
			ConsumerKey: fakeKey(rng), ConsumerSecret: fakeSecret(rng), ClientCredentials: true,
			RunAs: "scanner@bench.example", Scopes: []string{"Api"}, SessionTimeout: 15, AdminApproved: true,
		}},
	}
	objects := []string{"Account", "Contact", "Opportunity", "Case", "Order", "Invoice__c", "Lead"}
	for i := range users {
		name := fmt.Sprintf("int%04d@bench.example", i)
		profile := "Minimum Access - API Only Integrations"
		switch rng.IntN(20) {
		case 0:
			profile = "System Administrator"
		case 1, 2:
			profile = "Standard User"
		}
		sc.Users = append(sc.Users, User{
			Username: name, Name: fmt.Sprintf("Integration %04d", i), Profile: profile,
			Active: ptr(rng.IntN(25) != 0), LastLogin: Ago(time.Duration(rng.IntN(90*24)) * time.Hour),
			Created: Ago(time.Duration(200+rng.IntN(500)) * 24 * time.Hour),
		})
		ps := PermissionSet{
			Name: fmt.Sprintf("Integration_%04d", i), Label: fmt.Sprintf("Integration %04d", i),
			License: "Salesforce API Integration", Permissions: []string{"ApiEnabled"},
		}
		switch rng.IntN(20) {
		case 0:
			ps.Permissions = append(ps.Permissions, "ModifyAllData")
		case 1:
			ps.Permissions = append(ps.Permissions, "ViewAllData")
		case 2:
			ps.Permissions = append(ps.Permissions, "UseAnyApiAuth")
		}
		for range 1 + rng.IntN(3) {
			obj := objects[rng.IntN(len(objects))]
			ps.Objects = append(ps.Objects, ObjectPerm{Object: obj, Read: true, Edit: rng.IntN(2) == 0, Create: rng.IntN(3) == 0, ModifyAll: rng.IntN(30) == 0})
		}
		ps.Objects = dedupeObjects(ps.Objects)
		sc.PermissionSets = append(sc.PermissionSets, ps)
		a := Assignment{User: name, PermissionSet: ps.Name}
		if rng.IntN(15) == 0 {
			a.Expires = Ago(-time.Duration(1+rng.IntN(30)) * 24 * time.Hour)
		}
		sc.Assignments = append(sc.Assignments, a)
	}
	if users >= 3 {
		sc.PermissionSetGroups = []PermissionSetGroup{{Name: "Integration_Bundle", Label: "Integration Bundle",
			PermissionSets: []string{"Integration_0000", "Integration_0001", "Integration_0002"}}}
		sc.Assignments = append(sc.Assignments, Assignment{User: "int0000@bench.example", PermissionSetGroup: "Integration_Bundle"})
	}
	for i := range apps {
		runAs := fmt.Sprintf("int%04d@bench.example", i%users)
		ps := fmt.Sprintf("Integration_%04d", i%users)
		scopes := []string{"Api"}
		if rng.IntN(10) == 0 {
			scopes = append(scopes, "Full", "RefreshToken")
		}
		created := Ago(time.Duration(100+rng.IntN(600)) * 24 * time.Hour)
		var name string
		if i%3 == 2 {
			name = fmt.Sprintf("Eca_%04d", i)
			sc.ExternalClientApps = append(sc.ExternalClientApps, ExternalClientApp{
				Name: name, Label: fmt.Sprintf("ECA %04d", i), ContactEmail: "owner@bench.example",
				ConsumerKey: fakeKey(rng), ConsumerSecret: fakeSecret(rng), ClientCredentials: true, Scopes: scopes,
				Policy: ECAPolicy{ClientCredentials: true, RunAs: runAs, IPRelaxation: pick(rng, "Enforce", "Enforce", "Bypass"),
					PermittedUsers: "AdminApprovedPreAuthorized", RefreshTokenPolicy: "Zero", SessionTimeout: 15 * (1 + rng.IntN(8)),
					PermissionSets: []string{ps}},
				Created: created, Modified: created,
			})
		} else {
			name = fmt.Sprintf("App_%04d", i)
			sc.ConnectedApps = append(sc.ConnectedApps, ConnectedApp{
				Name: name, Label: fmt.Sprintf("App %04d", i), ContactEmail: "owner@bench.example",
				ConsumerKey: fakeKey(rng), ConsumerSecret: fakeSecret(rng), ClientCredentials: true, RunAs: runAs,
				Scopes: scopes, IPRelaxation: pick(rng, "ENFORCE", "ENFORCE", "BYPASS"), RefreshTokenPolicy: "zero",
				SessionTimeout: 15 * rng.IntN(8), AdminApproved: true, PermissionSets: []string{ps},
				Created: created, Modified: created, APIUsed: rng.IntN(5000),
			})
		}
		sc.SetupEntityAccess = append(sc.SetupEntityAccess, SetupEntityGrant{PermissionSet: ps, App: name})
		last := time.Duration(rng.IntN(30*24)) * time.Hour
		if rng.IntN(10) == 0 {
			last = time.Duration(46+rng.IntN(200)) * 24 * time.Hour // dormant
		}
		sc.LoginHistory = append(sc.LoginHistory, Login{User: runAs, App: name, Time: Ago(last), Count: 1 + rng.IntN(3), Every: Duration(24 * time.Hour)})
		if rng.IntN(8) == 0 {
			sc.OauthTokens = append(sc.OauthTokens, OauthToken{App: name, User: runAs, Created: created, LastUsed: Ago(last), UseCount: rng.IntN(10000)})
		}
		if rng.IntN(12) == 0 {
			sc.SetupAuditTrail = append(sc.SetupAuditTrail, AuditEntry{
				Action: "PermSetAssign", Section: "Manage Users", By: "admin@bench.example", Date: Ago(time.Duration(rng.IntN(170)) * 24 * time.Hour),
				Display: fmt.Sprintf("Permission set %s: assigned to user %s", ps, runAs),
			})
		}
	}
	return sc
}

func ptr[T any](v T) *T { return &v }

func pick(rng *rand.Rand, options ...string) string { return options[rng.IntN(len(options))] }

func dedupeObjects(ops []ObjectPerm) []ObjectPerm {
	seen := map[string]int{}
	var out []ObjectPerm
	for _, op := range ops {
		if i, ok := seen[op.Object]; ok {
			out[i] = mergeObjectPerm(out[i], op)
			continue
		}
		seen[op.Object] = len(out)
		out = append(out, op)
	}
	return out
}

const keyAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._"

// fakeKey makes an 85-character consumer key with the real 3MVG9 prefix.
func fakeKey(rng *rand.Rand) string {
	b := []byte("3MVG9")
	for len(b) < 85 {
		b = append(b, keyAlphabet[rng.IntN(len(keyAlphabet))])
	}
	return string(b)
}

// fakeSecret makes a 64-character upper-case hex consumer secret.
func fakeSecret(rng *rand.Rand) string {
	const hexDigits = "0123456789ABCDEF"
	b := make([]byte, 64)
	for i := range b {
		b[i] = hexDigits[rng.IntN(16)]
	}
	return string(b)
}

// Credentials returns the consumer key and secret of a connected app or
// External Client App in the scenario.
func (sc *Scenario) Credentials(app string) (clientID, clientSecret string, ok bool) {
	for _, a := range sc.ConnectedApps {
		if a.Name == app {
			return a.ConsumerKey, a.ConsumerSecret, a.ConsumerKey != ""
		}
	}
	for _, a := range sc.ExternalClientApps {
		if a.Name == app {
			return a.ConsumerKey, a.ConsumerSecret, a.ConsumerKey != ""
		}
	}
	return "", "", false
}
