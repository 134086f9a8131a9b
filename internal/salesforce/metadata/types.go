// Package metadata parses Salesforce DX source-format metadata files that
// matter to client-credentials integrations: connected apps, the External
// Client App file family, permission sets, permission set groups and profiles.
//
// Files are found by suffix anywhere under the given paths, parsed with a
// streaming XML decoder that rejects DTDs and entities, and mapped
// order-insensitively onto typed records. Every record keeps the file and line
// it came from. Elements the parser does not know become warnings, never
// failures. Secret values (consumer secrets) are never retained: only their
// presence and position.
package metadata

// Location is a position in a metadata file.
type Location struct {
	File string `json:"file"`
	Line int    `json:"line"`
}

// Bool is an optional boolean element: Set reports whether the element was
// present, Line where it was.
type Bool struct {
	Value bool
	Set   bool
	Line  int
}

// True reports whether the element was present and true.
func (b Bool) True() bool { return b.Set && b.Value }

// Text is an optional text element.
type Text struct {
	Value string
	Line  int // 0 when the element is absent
}

// Int is an optional integer element.
type Int struct {
	Value int
	Set   bool
	Line  int
}

// Scope is one OAuth scope as written in the metadata, with its line.
type Scope struct {
	Name string // metadata enum value, e.g. "Api", "RefreshToken"
	Line int
}

// IPRange is an allowed IP range on an app or a profile.
type IPRange struct {
	Start       string `json:"start"`
	End         string `json:"end"`
	Description string `json:"description,omitempty"`
}

// ConnectedApp is a parsed *.connectedApp-meta.xml (or mdapi *.connectedApp) file.
type ConnectedApp struct {
	Name string // API name: the file's base name
	Location
	Label        Text
	ContactEmail Text
	Description  Text

	HasOAuthConfig bool
	// OAuth configuration (oauthConfig).
	CallbackURLs            []string
	ConsumerKey             Text // the client_id; not a secret, kept to fingerprint it
	ConsumerSecretPresent   bool // value never retained
	ConsumerSecretLine      int
	Certificate             bool // a PEM certificate is configured (JWT bearer flow)
	CertificateLine         int
	AdminApproved           Bool // isAdminApproved
	ClientCredentialEnabled Bool // isClientCredentialEnabled
	CodeCredentialEnabled   Bool
	ConsumerSecretOptional  Bool
	IntrospectAllTokens     Bool
	NamedUserJWTEnabled     Bool
	PKCERequired            Bool
	RefreshTokenRotation    Bool
	TokenExchangeEnabled    Bool
	ClientCredentialUser    Text // oauthClientCredentialUser: a username
	Scopes                  []Scope

	// OAuth policy (oauthPolicy).
	IPRelaxation       Text // ENFORCE | BYPASS_2FACTOR | BYPASS | ENFORCE_RELAXREFRESH
	RefreshTokenPolicy Text // zero | infinite | specific_lifetime:n:UNIT | specific_inactivity:n:UNIT

	// Session policy (sessionPolicy).
	SessionTimeout Int // minutes
	SessionLevel   Text

	IPRanges       []IPRange
	Profiles       []string // profileName: pre-authorised profiles
	PermissionSets []string // permissionSetName: pre-authorised permission sets
}

// ECA is one External Client App assembled from its file family, keyed by
// the externalClientApplication name the files share. Any part may be
// missing; the Location fields of missing parts are zero.
type ECA struct {
	Name string // the External Client App's API name

	Header       *ECAHeader       // .eca-meta.xml
	OAuth        *ECAOAuth        // .ecaOauth-meta.xml
	GlobalOAuth  *ECAGlobalOAuth  // .ecaGlblOauth-meta.xml
	OAuthPolicy  *ECAOAuthPolicy  // .ecaOauthPlcy-meta.xml
	PluginPolicy *ECAPluginPolicy // .ecaPlcy-meta.xml
}

// ECAHeader is an ExternalClientApplication file.
type ECAHeader struct {
	Location
	Label             Text
	ContactEmail      Text
	Description       Text
	DistributionState Text
}

// ECAOAuth is an ExtlClntAppOauthSettings file (developer OAuth settings).
type ECAOAuth struct {
	Location
	App             string  // externalClientApplication
	Scopes          []Scope // commaSeparatedOauthScopes, split and trimmed
	TrustedIPRanges []IPRange
}

// ECAGlobalOAuth is an ExtlClntAppGlobalOauthSettings file. Salesforce says
// these must never be in source control; its presence is itself a finding.
type ECAGlobalOAuth struct {
	Location
	App                      string
	CallbackURLs             []string
	ConsumerKey              Text
	ConsumerSecretPresent    bool
	ConsumerSecretLine       int
	Certificate              bool
	CertificateLine          int
	ClientCredentialsEnabled Bool
	CodeCredFlowEnabled      Bool
	ConsumerSecretOptional   Bool
	DeviceFlowEnabled        Bool
	IntrospectAllTokens      Bool
	NamedUserJWTEnabled      Bool
	PKCERequired             Bool
	RefreshTokenRotation     Bool
	TokenExchangeEnabled     Bool
	ShouldRotateConsumerKey  Bool
	ShouldRotateSecret       Bool
}

// ECAOAuthPolicy is an ExtlClntAppOauthConfigurablePolicies file (admin
// OAuth policies: client-credentials enablement and run-as user).
type ECAOAuthPolicy struct {
	Location
	App                        string
	ClientCredentialsEnabled   Bool
	ClientCredentialsUser      Text     // clientCredentialsFlowUser: a username
	IPRelaxation               Text     // Enforce | Bypass | Bypass_2factor | Enforce_RelaxRefresh
	PermittedUsers             Text     // AllSelfAuthorized | AdminApprovedPreAuthorized
	Profiles                   []string // commaSeparatedProfile
	PermissionSets             []string // commaSeparatedPermissionSet
	RefreshTokenPolicy         Text     // Infinite | Zero | SpecificLifetime | SpecificInactivity
	RefreshTokenValidityPeriod Int
	RefreshTokenValidityUnit   Text
	SessionTimeout             Int // sessionTimeoutInMinutes
	TokenExchangeEnabled       Bool
}

// ECAPluginPolicy is an ExtlClntAppConfigurablePolicies file.
type ECAPluginPolicy struct {
	Location
	App                string
	Enabled            Bool // isEnabled
	OAuthPluginEnabled Bool // isOauthPluginEnabled
}

// ObjectPermission is one objectPermissions entry.
type ObjectPermission struct {
	Object        string
	Line          int
	Create        bool
	Read          bool
	Edit          bool
	Delete        bool
	ViewAll       bool // viewAllRecords
	ModifyAll     bool // modifyAllRecords
	ViewAllFields bool
}

// UserPermission is one userPermissions entry.
type UserPermission struct {
	Name    string
	Enabled bool
	Line    int
}

// PermissionSet is a parsed *.permissionset-meta.xml file. Muting permission
// sets (*.mutingpermissionset-meta.xml) parse to the same type with Muting set.
type PermissionSet struct {
	Name string // API name: the file's base name
	Location
	Label             Text
	Description       Text
	License           Text // license, or the older userLicense
	Muting            bool
	UserPermissions   []UserPermission
	ObjectPermissions []ObjectPermission
}

// PermissionSetGroup is a parsed *.permissionsetgroup-meta.xml file.
type PermissionSetGroup struct {
	Name string
	Location
	Label                Text
	Description          Text
	PermissionSets       []string
	MutingPermissionSets []string
	Status               Text
}

// Profile is a parsed *.profile-meta.xml file. Name is the file's base name,
// which for retrieved standard profiles differs from the profile's display
// name (Admin.profile-meta.xml is "System Administrator").
type Profile struct {
	Name string
	Location
	Custom            Bool
	UserLicense       Text
	Description       Text
	LoginIPRanges     []IPRange
	UserPermissions   []UserPermission
	ObjectPermissions []ObjectPermission
}

// Set is everything parsed from a set of paths.
type Set struct {
	ConnectedApps       []*ConnectedApp
	ECAs                []*ECA // assembled from the ECA file family, sorted by Name
	PermissionSets      []*PermissionSet
	PermissionSetGroups []*PermissionSetGroup
	Profiles            []*Profile
	Files               int // metadata files parsed; those that failed are in Load's error
	Warnings            []Warning
}

// Warning is a non-fatal observation about a file: an unknown element, an
// unknown enum value, an unreadable value that was skipped.
type Warning struct {
	Location
	Message string
}

// String renders the warning as "file:line: message".
func (w Warning) String() string { return formatPos(w.File, w.Line) + ": " + w.Message }
