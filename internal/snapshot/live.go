package snapshot

import "time"

// This file holds the part of the model only a live org fills: the org's
// own guardrails, what each app and run-as user did, the OAuth apps seen in
// use, Setup changes, and the expansions found against a baseline. Every
// part is optional, so an offline snapshot carries none of it. Times are in
// UTC; a zero time means "not seen" and is left out of the JSON. Nothing here
// holds a token, a secret or a session id: tokens are counted, never copied.

// Org is the org a live snapshot was discovered from.
type Org struct {
	URL  string `json:"url"`
	Kind string `json:"kind"` // production | sandbox | developer | scratch | unknown, as Binding.OrgKind
	ID   string `json:"id"`   // the 18-character organization id
	// APIUsage is the org's daily API request allowance, from /limits
	// (DailyApiRequests) or the Sforce-Limit-Info header.
	APIUsage APIUsage `json:"apiUsage"`
	// Bypass lists the holders of the permissions that bypass the org's app
	// guardrails, by metadata permission name: UseAnyApiAuth ("Use Any API
	// Client"), CanApproveUninstalledApps ("Approve Uninstalled Connected
	// Apps"), ViewClientSecret and ManageRemoteAccess ("Manage Connected
	// Apps"). A permission nobody holds has no entry.
	Bypass map[string][]Holder `json:"bypass"`
	// APIEnabled lists the profiles and permission sets that grant "API
	// Enabled" (ApiEnabled), each with the number of active users it reaches.
	APIEnabled []Grant `json:"apiEnabled"`
}

// Permissions the live model names, by metadata name.
const (
	PermUseAnyAPIClient        = "UseAnyApiAuth"
	PermApproveUninstalledApps = "CanApproveUninstalledApps"
	PermViewClientSecret       = "ViewClientSecret"
	PermManageConnectedApps    = "ManageRemoteAccess"
	PermAPIEnabled             = "ApiEnabled"
)

// BypassPermissions are the permissions Org.Bypass lists holders of.
var BypassPermissions = []string{PermUseAnyAPIClient, PermApproveUninstalledApps, PermViewClientSecret, PermManageConnectedApps}

// APIUsage is a daily request count against its allowance.
type APIUsage struct {
	Used int `json:"used"`
	Max  int `json:"max"`
}

// Holder is an active user holding a permission, and what grants it.
type Holder struct {
	Username string `json:"username"`
	Profile  string `json:"profile"`
	// GrantedBy names the grants, as Permissions.User does ("profile
	// System Administrator", "permission set Setup_Admin").
	GrantedBy []string `json:"grantedBy"`
}

// Grant kinds.
const (
	GrantProfile       = "Profile"
	GrantPermissionSet = "PermissionSet"
)

// Grant is a profile or permission set that grants a permission.
type Grant struct {
	Kind  string `json:"kind"` // Profile | PermissionSet
	Name  string `json:"name"`
	Users int    `json:"users"` // active users assigned
	// License is the user license of a profile (or of a permission set
	// tied to one), e.g. "Salesforce Integration"; empty otherwise.
	License string `json:"license"`
}

// AppLive is what the org says about one app.
type AppLive struct {
	// InOrg is true when the app exists in the org, as opposed to only in
	// the metadata files.
	InOrg   bool      `json:"inOrg"`
	Created time.Time `json:"created,omitzero"`
	// LastClientCredentialsLogin is the latest successful client-credentials
	// login of the app in the login history read (Salesforce keeps six
	// months of it).
	LastClientCredentialsLogin time.Time `json:"lastClientCredentialsLogin,omitzero"`
	// ClientCredentialsLogins and OtherLogins count the successful logins
	// through the app in the login history read, by client credentials and
	// by any other flow.
	ClientCredentialsLogins int `json:"clientCredentialsLogins"`
	OtherLogins             int `json:"otherLogins"`
	// Tokens counts the OAuth grants (refresh tokens, OauthToken rows) the
	// app holds; LastTokenUse is the latest use of any of them.
	Tokens       int       `json:"tokens"`
	LastTokenUse time.Time `json:"lastTokenUse,omitzero"`
	// APIRequests is the app's share of today's API requests, from the
	// per-app entries of /limits DailyApiRequests.
	APIRequests int `json:"apiRequests"`
}

// UserLive is what the org says about one user.
type UserLive struct {
	Active    bool      `json:"active"`
	UserType  string    `json:"userType"` // Standard, PowerPartner, Guest, …
	Created   time.Time `json:"created,omitzero"`
	LastLogin time.Time `json:"lastLogin,omitzero"`
	// Logins summarise the user's successful logins in the login history
	// read, one entry per login type, subtype and application.
	Logins []LoginSummary `json:"logins"`
	// Assignments are the user's permission set and group assignments,
	// profile-owned ones left out.
	Assignments []Assignment `json:"assignments"`
}

// LoginSummary groups logins of one kind.
type LoginSummary struct {
	LoginType    string    `json:"loginType"`    // LoginHistory.LoginType: "Remote Access 2.0", "Application", …
	LoginSubType string    `json:"loginSubType"` // LoginHistory.LoginSubType, preferably its API name: "OauthClientCredentials", …
	Application  string    `json:"application"`  // LoginHistory.Application: the app, for OAuth logins
	Count        int       `json:"count"`
	Last         time.Time `json:"last,omitzero"`
	// SourceIPs are the distinct source addresses, sorted, at most ten.
	SourceIPs []string `json:"sourceIps"`
}

// Assignment is one permission set or permission set group assignment.
type Assignment struct {
	PermissionSet      string `json:"permissionSet,omitempty"`
	PermissionSetGroup string `json:"permissionSetGroup,omitempty"`
	Expires            string `json:"expires"` // YYYY-MM-DD or empty
}

// OAuthApp sources.
const (
	SourceOAuthToken   = "OauthToken"
	SourceLoginHistory = "LoginHistory"
	SourceOAuthUsage   = "OAuthUsage"
)

// OAuthApp is an app seen holding OAuth grants or logging users in, whether
// or not the metadata or the inventory knows it.
type OAuthApp struct {
	Name string `json:"name"`
	// Sources are where the app was seen: OauthToken, LoginHistory,
	// OAuthUsage (the Connect REST usage resource).
	Sources  []string  `json:"sources"`
	Users    []string  `json:"users"` // usernames holding grants or logging in through it, sorted
	Tokens   int       `json:"tokens"`
	LastUsed time.Time `json:"lastUsed,omitzero"`
	// App is the API name of the snapshot app it is, when one matches.
	App string `json:"app"`
	// Identities are the inventoried identities covering it (through App or
	// by name), sorted; empty for an unmanaged app.
	Identities []string `json:"identities"`
}

// SetupChange is one SetupAuditTrail entry touching an app or a user in the
// snapshot.
type SetupChange struct {
	Time    time.Time `json:"time"`
	Action  string    `json:"action"`
	Section string    `json:"section"`
	Display string    `json:"display"`
	By      string    `json:"by"` // username of who made the change
	// App and User name what the change touches: an app API name, a
	// username. At least one is set.
	App  string `json:"app,omitempty"`
	User string `json:"user,omitempty"`
}
