// Package snapshot defines the observed state Steward evaluates: identities,
// teams, exceptions, apps, run-as users and their effective permissions. Every
// source (manifests, SFDX metadata, a live org, an earlier snapshot) fills a
// Snapshot; every rule reads one. A Snapshot serialises to JSON, and that JSON
// is the input the policy pack sees. It never holds a secret value.
package snapshot

import "time"

// FormatVersion identifies the snapshot JSON layout.
const FormatVersion = "steward.dev/snapshot/v1alpha1"

// Snapshot is the observed state of a set of integrations.
type Snapshot struct {
	Format       string       `json:"format"`
	Now          time.Time    `json:"now"`
	Source       string       `json:"source"` // "metadata" (offline) or "org" (live)
	Capabilities Capabilities `json:"capabilities"`
	Identities   []Identity   `json:"identities"`
	Teams        []Team       `json:"teams"`
	Exceptions   []Exception  `json:"exceptions"`
	Apps         []App        `json:"apps"`
	Users        []User       `json:"users"`

	// Live data, filled by discovery from an org; absent offline. See
	// live.go.
	Org          *Org          `json:"org,omitempty"`
	OAuthApps    []OAuthApp    `json:"oauthApps,omitempty"`
	SetupChanges []SetupChange `json:"setupChanges,omitempty"`
	// Expansions are the changes against a baseline snapshot that widen
	// access (see Diff and Expansions).
	Expansions []Change `json:"expansions,omitempty"`

	// SecretStore is what Steward's secret store and audit log say; nil
	// unless a store was given. See secrets.go.
	SecretStore *SecretStore `json:"secretStore,omitempty"`
	// Elevations are the break-glass elevations Steward's store holds
	// (with the secret store; see elevations.go).
	Elevations []Elevation `json:"elevations,omitempty"`
	// ReviewStore is what the store's access reviews say; nil unless a
	// store was given. See reviews.go.
	ReviewStore *ReviewStore `json:"reviewStore,omitempty"`
	// Roster is the team roster imported into the store; nil unless a
	// store holding one was given. See roster.go.
	Roster *Roster `json:"roster,omitempty"`
}

// Capabilities says which kinds of data the snapshot holds, so that rules
// needing live data run only when it is present.
type Capabilities struct {
	Inventory    bool `json:"inventory"`        // manifests were loaded
	Metadata     bool `json:"metadata"`         // SFDX metadata files were read
	Live         bool `json:"live"`             // data came from a live org
	LoginHistory bool `json:"loginHistory"`     // login history is present
	SecretStore  bool `json:"secretStore"`      // secret metadata came from Steward's store
	Roster       bool `json:"roster,omitempty"` // an imported team roster came from Steward's store
}

// Location is a file position.
type Location struct {
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
}

// Identity is an inventoried workload identity, as declared.
type Identity struct {
	Name        string     `json:"name"`
	Location    Location   `json:"location"`
	Service     string     `json:"service"`
	Owner       string     `json:"owner"`
	Environment string     `json:"environment"`
	Criticality string     `json:"criticality"`
	Lifecycle   string     `json:"lifecycle"`
	Agent       bool       `json:"agent"`
	Purpose     string     `json:"purpose"`
	Vendor      string     `json:"vendor"`
	Salesforce  Binding    `json:"salesforce"`
	Access      Access     `json:"access"`
	Credential  Credential `json:"credential"`
	Consumers   []Consumer `json:"consumers"`
	Review      Review     `json:"review"`
}

// Binding ties an identity to its org, app and run-as user.
type Binding struct {
	URL                 string   `json:"url"`
	OrgKind             string   `json:"orgKind"` // production | sandbox | developer | scratch | unknown, from the URL
	App                 string   `json:"app"`
	RunAs               string   `json:"runAs"`
	RunAsProfile        string   `json:"runAsProfile"`
	RunAsPermissionSets []string `json:"runAsPermissionSets"`
}

// Access is what an identity declares it needs.
type Access struct {
	Scopes  []string            `json:"scopes"`
	Objects map[string][]string `json:"objects"`
}

// Credential is an identity's secret reference and rotation state. When the
// manifest held something that looks like a secret value instead of a
// reference, SecretRef is empty and InlineValue is true: the value itself is
// never copied.
type Credential struct {
	SecretRef    string `json:"secretRef"`
	InlineValue  bool   `json:"inlineValue"`
	RotationDays int    `json:"rotationDays"`
	RotatedAt    string `json:"rotatedAt"` // YYYY-MM-DD or empty
}

// Consumer is a workload allowed to obtain tokens.
type Consumer struct {
	OIDCIssuer  string `json:"oidcIssuer,omitempty"`
	OIDCSubject string `json:"oidcSubject,omitempty"`
	SPIFFE      string `json:"spiffe,omitempty"`
}

// Review is an identity's review cadence.
type Review struct {
	IntervalDays int    `json:"intervalDays"`
	LastReviewed string `json:"lastReviewed"` // YYYY-MM-DD or empty
}

// Team is an owning team.
type Team struct {
	Name     string   `json:"name"`
	Location Location `json:"location"`
	Members  []string `json:"members"`
	Backup   string   `json:"backup"`
}

// Exception is an accepted, time-bound deviation.
type Exception struct {
	Name                 string   `json:"name"`
	Location             Location `json:"location"`
	Identity             string   `json:"identity"`
	Rule                 string   `json:"rule"`
	Reason               string   `json:"reason"`
	ApprovedBy           string   `json:"approvedBy"`
	Expires              string   `json:"expires"` // YYYY-MM-DD or empty
	CompensatingControls []string `json:"compensatingControls"`
	// Resource names what the exception accepts when no identity covers it,
	// e.g. an approved human-use OAuth app for NHI-MON-03.
	Resource string `json:"resource,omitempty"`
}

// App kinds.
const (
	KindConnectedApp      = "ConnectedApp"
	KindExternalClientApp = "ExternalClientApp"
)

// App is a connected app or an External Client App, normalised to one shape.
type App struct {
	Kind     string   `json:"kind"`
	Name     string   `json:"name"`
	Label    string   `json:"label"`
	Location Location `json:"location"`
	// Locations maps a setting ("scopes", "ipRelaxation", "consumerSecret",
	// "runAs", "refreshTokenPolicy", "sessionTimeout", "adminApproved", "flows",
	// "globalOAuth") to where it is written, for findings about that setting.
	Locations    map[string]Location `json:"locations"`
	ContactEmail string              `json:"contactEmail"`

	Flows Flows `json:"flows"`
	// Scopes are the OAuth scope strings as on the wire (api, full,
	// refresh_token, ...), sorted and unique. UnknownScopes are metadata
	// values with no known wire string.
	Scopes        []string `json:"scopes"`
	UnknownScopes []string `json:"unknownScopes"`
	RunAs         string   `json:"runAs"`

	IPRelaxation          string    `json:"ipRelaxation"` // ENFORCE | BYPASS | BYPASS_2FACTOR | ENFORCE_RELAXREFRESH
	IPRanges              []IPRange `json:"ipRanges"`
	RefreshTokenPolicy    string    `json:"refreshTokenPolicy"` // infinite | zero | specific_lifetime:n:UNIT | specific_inactivity:n:UNIT
	SessionTimeoutMinutes int       `json:"sessionTimeoutMinutes"`
	AdminApproved         bool      `json:"adminApproved"`
	IntrospectAllTokens   bool      `json:"introspectAllTokens"`
	PreAuthorized         []string  `json:"preAuthorized"` // profiles and permission sets granted the app

	ConsumerKeyPresent bool `json:"consumerKeyPresent"`
	// ConsumerKeyFingerprint is a SHA-256 prefix of the consumer key, so that
	// the same key in two places can be found without carrying the key.
	ConsumerKeyFingerprint string `json:"consumerKeyFingerprint"`
	ConsumerSecretInRepo   bool   `json:"consumerSecretInRepo"`
	GlobalOAuthInRepo      bool   `json:"globalOAuthInRepo"` // an ECA global OAuth settings file is committed

	Identities []string `json:"identities"` // inventoried identities naming this app

	Live *AppLive `json:"live,omitempty"` // what the org says; nil offline
}

// Flows says which OAuth flows an app has enabled.
type Flows struct {
	ClientCredentials bool `json:"clientCredentials"`
	// ClientCredentialsPartial is true for an External Client App whose
	// client-credentials switch is on in one of its settings or policies
	// files but not in the other.
	ClientCredentialsPartial bool `json:"clientCredentialsPartial"`
	CodeCredential           bool `json:"codeCredential"`
	TokenExchange            bool `json:"tokenExchange"`
	Device                   bool `json:"device"`
	JWTBearer                bool `json:"jwtBearer"`
	NamedUserJWT             bool `json:"namedUserJwt"`
	ConsumerSecretOptional   bool `json:"consumerSecretOptional"`
}

// IPRange is an allowed address range.
type IPRange struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// User is a run-as user and what it can do.
type User struct {
	Username string `json:"username"`
	// Source is where the user's grants come from: "inventory" (declared by
	// an Identity and resolved against metadata files) or "org".
	Source              string   `json:"source"`
	Profile             string   `json:"profile"`
	License             string   `json:"license"`
	PermissionSets      []string `json:"permissionSets"`
	PermissionSetGroups []string `json:"permissionSetGroups"`
	// Unresolved lists declared profile, permission set and group names no
	// metadata file defines; the user's effective permissions are then
	// incomplete.
	Unresolved []string    `json:"unresolved"`
	Effective  Permissions `json:"effective"`
	Apps       []string    `json:"apps"`       // apps that run as this user
	Identities []string    `json:"identities"` // identities that declare this user
	Location   Location    `json:"location"`   // where the user is declared

	Live *UserLive `json:"live,omitempty"` // what the org says; nil offline
}

// Permissions is a user's effective permissions.
type Permissions struct {
	// User maps an enabled user permission (metadata name, e.g.
	// "ModifyAllData") to what grants it ("profile Admin", "permission set X").
	User map[string][]string `json:"user"`
	// Objects maps an object API name to its effective access.
	Objects map[string]ObjectAccess `json:"objects"`
}

// ObjectAccess is effective access to one object.
type ObjectAccess struct {
	Read      bool     `json:"read"`
	Create    bool     `json:"create"`
	Edit      bool     `json:"edit"`
	Delete    bool     `json:"delete"`
	ViewAll   bool     `json:"viewAll"`
	ModifyAll bool     `json:"modifyAll"`
	GrantedBy []string `json:"grantedBy"`
}
