package fakeorg

import (
	"slices"
	"strings"
)

// fieldType is the SOAP type of an sObject field, which decides how it is
// compared in WHERE and rendered in JSON.
type fieldType int

const (
	tID fieldType = iota
	tString
	tBool
	tInt
	tDateTime
)

// field is one sObject field. A reference field names the object it points
// to and the relationship name used in paths (CreatedById → CreatedBy).
type field struct {
	Name     string
	Type     fieldType
	RefTo    string // target object of a reference
	Rel      string // relationship name
	NoFilter bool   // may be selected and sorted but not filtered
}

// object is an sObject type: its fields in their canonical order.
type object struct {
	Name   string
	Fields []field
	byName map[string]*field // lower-case name → field
	byRel  map[string]*field // lower-case relationship name → field
}

func newObject(name string, fields ...field) *object {
	o := &object{Name: name, Fields: fields}
	o.index()
	return o
}

func (o *object) index() {
	o.byName = make(map[string]*field, len(o.Fields))
	o.byRel = map[string]*field{}
	for i := range o.Fields {
		f := &o.Fields[i]
		o.byName[strings.ToLower(f.Name)] = f
		if f.Rel != "" {
			o.byRel[strings.ToLower(f.Rel)] = f
		}
	}
}

func (o *object) field(name string) *field    { return o.byName[strings.ToLower(name)] }
func (o *object) relation(name string) *field { return o.byRel[strings.ToLower(name)] }

func id(name string) field           { return field{Name: name, Type: tID} }
func str(name string) field          { return field{Name: name, Type: tString} }
func boolean(name string) field      { return field{Name: name, Type: tBool} }
func integer(name string) field      { return field{Name: name, Type: tInt} }
func datetime(name string) field     { return field{Name: name, Type: tDateTime} }
func ref(name, to, rel string) field { return field{Name: name, Type: tID, RefTo: to, Rel: rel} }
func noFilter(f field) field         { f.NoFilter = true; return f }
func audit() []field {
	return []field{
		ref("CreatedById", "User", "CreatedBy"), datetime("CreatedDate"),
		ref("LastModifiedById", "User", "LastModifiedBy"), datetime("LastModifiedDate"), datetime("SystemModstamp"),
	}
}

// knownPermissions are the user permissions every PermissionSet and Profile
// exposes as Permissions* fields; permissions named in a scenario are added.
var knownPermissions = []string{
	"ApiEnabled", "ApiUserOnly", "AssignPermissionSets", "AuthorApex", "BulkApiHardDelete", "CanApproveUninstalledApps",
	"ChatterInternalUser", "CustomizeApplication", "DelegatedTwoFactor", "EditReadonlyFields", "ExportReport",
	"ExternalClientAppAdmin", "ExternalClientAppDeveloper", "ExternalClientAppViewer", "FreezeUsers", "InstallPackaging",
	"IsSsoEnabled", "LightningExperienceUser", "ManageAuthProviders", "ManageCertificates", "ManageDataIntegrations",
	"ManageEncryptionKeys", "ManageInternalUsers", "ManageIpAddresses", "ManageLoginAccessPolicies",
	"ManageNamedCredentials", "ManagePasswordPolicies", "ManageProfilesPermissionsets", "ManageRemoteAccess",
	"ManageSessionPermissionSets", "ManageSharing", "ManageUsers", "ModifyAllData", "ModifyMetadata",
	"PasswordNeverExpires", "QueryAllFiles", "ResetPasswords", "UseAnyApiAuth", "ViewAllData", "ViewAllFieldsGlobal",
	"ViewAllProfiles", "ViewAllUsers", "ViewClientSecret", "ViewEventLogFiles", "ViewHealthCheck", "ViewRoles",
	"ViewSetup",
}

// ecaScopeFields maps scope enum names to the ExtlClntAppOauthSettings
// OauthScopes* field suffix where the suffix is not the upper-snake form of
// the name. Basic expands to the identity scopes (documented [U] choice).
var ecaScopeFields = map[string][]string{
	"Chatter":               {"CHATTER_REST_API"},
	"CustomApplications":    {"VF"},
	"Wave":                  {"WAVE_REST_API"},
	"Eclair":                {"ECLAIR_REST_API"},
	"OpenID":                {"OPENID"},
	"Basic":                 {"PROFILE", "EMAIL", "ADDRESS", "PHONE"},
	"SFAP":                  {"SFAP_API"},
	"SFApiPlatform":         {"SFAP_API"},
	"Pardot":                {"PARDOT_API"},
	"Chatbot":               {"CHATBOT_API"},
	"CDP":                   {"CDP_API"},
	"CDPIngest":             {"CDP_INGEST_API"},
	"CDPProfile":            {"CDP_PROFILE_API"},
	"CDPQuery":              {"CDP_QUERY_API"},
	"CDPSegment":            {"CDP_SEGMENT_API"},
	"CDPIdentityResolution": {"CDP_IDENTITYRESOLUTION_API"},
	"CDPCalculatedInsight":  {"CDP_CALCULATED_INSIGHT_API"},
	"EinsteinGPT":           {"EINSTEIN_GPT_API"},
	"Interaction":           {"INTERACTION_API"},
	"UserRegistration":      {"USER_REGISTRATION_API"},
	"PwdlessLogin":          {"PWDLESS_LOGIN_API"},
	"MCP":                   {"MCP_API"},
	"SCRT":                  {"SCRT_API"},
}

var ecaScopeSuffixes = []string{
	"ADDRESS", "API", "CDP_API", "CDP_CALCULATED_INSIGHT_API", "CDP_IDENTITYRESOLUTION_API", "CDP_INGEST_API",
	"CDP_PROFILE_API", "CDP_QUERY_API", "CDP_SEGMENT_API", "CHATBOT_API", "CHATTER_REST_API", "CONTENT",
	"CUSTOM_PERMISSIONS", "DATA_CLOUD_USER_CLAIMS", "ECLAIR_REST_API", "EINSTEIN_GPT_API", "EMAIL", "FORGOT_PASSWORD",
	"FULL", "HUB_API", "INTERACTION_API", "LIGHTNING", "MCP_API", "OFFLINE_ACCESS", "OPENID", "PARDOT_API", "PHONE",
	"PROFILE", "PWDLESS_LOGIN_API", "REFRESH_TOKEN", "SCRT_API", "SFAP_API", "SSO", "USER_REGISTRATION_API", "VF",
	"WAVE_REST_API", "WEB",
}

// scopeFieldSuffixes returns the OauthScopes* suffixes a scope enum sets.
func scopeFieldSuffixes(scope string) []string {
	if s, ok := ecaScopeFields[scope]; ok {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(scope); i++ {
		c := scope[i]
		if i > 0 && isUpper(c) && !isUpper(scope[i-1]) {
			b.WriteByte('_')
		}
		b.WriteByte(c)
	}
	return []string{strings.ToUpper(b.String())}
}

// schema is the set of sObjects served by one API (REST data or Tooling).
type schema map[string]*object // lower-case name → object

func (s schema) object(name string) *object { return s[strings.ToLower(name)] }

// newSchemas builds the REST and Tooling schemas; perms are the
// Permissions* names served on PermissionSet and Profile.
func newSchemas(perms []string) (rest, tooling schema) {
	permFields := make([]field, 0, len(perms))
	for _, p := range perms {
		permFields = append(permFields, field{Name: "Permissions" + p, Type: tBool})
	}
	connectedApp := []field{
		id("Id"), str("Name"), str("MobileSessionTimeout"), str("MobileStartUrl"), str("NamedUserUvidTimeout"),
		boolean("OptionsAllowAdminApprovedUsersOnly"), boolean("OptionsCodeCredentialGuestEnabled"),
		boolean("OptionsFullContentPushNotifications"), boolean("OptionsHasSessionLevelPolicy"),
		boolean("OptionsIsInternal"), boolean("OptionsRefreshTokenValidityMetric"),
		boolean("OptionsTokenExchangeManageBitEnabled"), str("PinLength"), integer("RefreshTokenValidityPeriod"),
		str("StartUrl"), str("UvidTimeout"),
	}
	connectedApp = append(connectedApp, audit()...)
	toolingApp := slices.Clone(connectedApp)
	toolingApp = append(toolingApp,
		id("ConnAppPluginClassId"), str("ContactEmail"), str("ContactPhone"), str("Description"),
		str("DeveloperName"), ref("ExecutionUserId", "User", "ExecutionUser"), str("IconUrl"), str("InfoUrl"),
		str("LogoUrl"), str("SamlLoginInformation"), str("SessionPolicyAction"), str("SessionTimeout"), str("Version"),
	)
	ecaSettings := []field{id("Id"), str("DeveloperName"), str("MasterLabel"), str("Language"), str("NamespacePrefix"),
		ref("ExternalClientApplicationId", "ExternalClientApplication", "ExternalClientApplication")}
	for _, s := range ecaScopeSuffixes {
		ecaSettings = append(ecaSettings, boolean("OauthScopes"+s))
	}
	ecaSettings = append(ecaSettings, audit()...)

	common := []*object{
		userLoginObject(),
		newObject("ExternalClientApplication", append([]field{
			id("Id"), str("ContactEmail"), str("ContactPhone"), str("Description"), str("DeveloperName"),
			str("DistributionState"), str("IconUrl"), str("InfoUrl"), boolean("IsDeleted"), str("Language"),
			str("LogoUrl"), str("ManagedType"), str("MasterLabel"), str("NamespacePrefix"),
			str("OrgScopedExternalApp"), str("Version"),
		}, audit()...)...),
		newObject("ExtlClntAppOauthPlcyCnfg", append([]field{
			id("Id"), str("ClientCredentialsFlowUser"), str("DeveloperName"),
			ref("ExternalClientApplicationId", "ExternalClientApplication", "ExternalClientApplication"),
			ref("ExtlClntAppOauthSettingsId", "ExtlClntAppOauthSettings", "ExtlClntAppOauthSettings"),
			str("IpRelaxationPolicyType"), boolean("IsClientCredentialsFlowEnabled"),
			boolean("IsGuestCodeCredFlowEnabled"), boolean("IsNamedUserJwtEnabled"),
			boolean("IsTokenExchangeFlowEnabled"), str("MasterLabel"), str("NamedUserJwtSessionTimeoutType"),
			integer("NamedUserJwtTimeout"), str("PermittedUsersPolicyType"), str("PolicyAction"),
			str("RefreshTokenPolicyType"), integer("RefreshTokenValidityPeriod"), str("RefreshTokenValidityUnit"),
			str("RequiredSessionLevel"), integer("SessionTimeoutInMinutes"), str("SingleLogoutUrl"), str("StartUrl"),
		}, audit()...)...),
		newObject("ExtlClntAppOauthSettings", ecaSettings...),
		newObject("User", append([]field{
			id("Id"), str("Username"), str("Name"), str("FirstName"), str("LastName"), str("Email"), str("Alias"),
			boolean("IsActive"), str("UserType"), ref("ProfileId", "Profile", "Profile"), datetime("LastLoginDate"),
			str("FederationIdentifier"),
		}, audit()...)...),
		newObject("Profile", append(append([]field{
			id("Id"), str("Name"), str("Description"), ref("UserLicenseId", "UserLicense", "UserLicense"),
			str("UserType"),
		}, audit()...), permFields...)...),
		newObject("UserLicense", append([]field{
			id("Id"), str("Name"), str("MasterLabel"), str("LicenseDefinitionKey"), str("Status"),
			integer("TotalLicenses"), integer("UsedLicenses"),
		}, audit()...)...),
		newObject("PermissionSet", append(append([]field{
			id("Id"), str("Name"), str("Label"), str("Description"), boolean("IsOwnedByProfile"),
			ref("ProfileId", "Profile", "Profile"), id("LicenseId"), str("Type"), boolean("IsCustom"),
			str("NamespacePrefix"), boolean("HasActivationRequired"),
			ref("PermissionSetGroupId", "PermissionSetGroup", "PermissionSetGroup"),
		}, audit()...), permFields...)...),
		newObject("PermissionSetGroup", append([]field{
			id("Id"), str("DeveloperName"), str("MasterLabel"), str("Description"), str("Status"),
			str("NamespacePrefix"), boolean("HasActivationRequired"),
		}, audit()...)...),
		newObject("PermissionSetGroupComponent", append([]field{
			id("Id"), ref("PermissionSetGroupId", "PermissionSetGroup", "PermissionSetGroup"),
			ref("PermissionSetId", "PermissionSet", "PermissionSet"),
		}, audit()...)...),
		newObject("PermissionSetAssignment",
			id("Id"), ref("AssigneeId", "User", "Assignee"), ref("PermissionSetId", "PermissionSet", "PermissionSet"),
			ref("PermissionSetGroupId", "PermissionSetGroup", "PermissionSetGroup"), datetime("ExpirationDate"),
			boolean("IsActive"), boolean("IsRevoked"), datetime("SystemModstamp"),
		),
		newObject("ObjectPermissions", append([]field{
			id("Id"), ref("ParentId", "PermissionSet", "Parent"), str("SobjectType"), boolean("PermissionsCreate"),
			boolean("PermissionsRead"), boolean("PermissionsEdit"), boolean("PermissionsDelete"),
			boolean("PermissionsViewAllRecords"), boolean("PermissionsModifyAllRecords"),
			boolean("PermissionsViewAllFields"),
		}, audit()...)...),
		newObject("SetupEntityAccess", append([]field{
			id("Id"), ref("ParentId", "PermissionSet", "Parent"), id("SetupEntityId"), str("SetupEntityType"),
		}, audit()...)...),
		newObject("AppMenuItem", append([]field{
			id("Id"), id("ApplicationId"), str("Name"), str("Label"), str("Type"), str("Description"),
			boolean("IsAccessible"), boolean("IsVisible"), boolean("IsUsingAdminAuthorization"), str("StartUrl"),
			str("NamespacePrefix"),
		}, audit()...)...),
		newObject("LoginHistory",
			id("Id"), ref("UserId", "User", ""), datetime("LoginTime"), str("LoginType"), str("LoginSubType"),
			str("Application"), str("ApiType"), str("ApiVersion"), str("AuthMethodReference"), str("Browser"),
			str("ClientVersion"), str("CountryIso"), str("LoginUrl"), str("Platform"), str("SourceIp"),
			str("Status"), str("TlsProtocol"),
		),
		newObject("OauthToken",
			id("Id"), str("AccessToken"), id("AppMenuItemId"), str("AppName"), datetime("CreatedDate"),
			str("DeleteToken"), datetime("LastUsedDate"), str("RequestToken"), integer("UseCount"),
			ref("UserId", "User", "User"),
		),
		newObject("SetupAuditTrail",
			id("Id"), str("Action"), noFilter(str("Section")), noFilter(str("Display")), datetime("CreatedDate"),
			ref("CreatedById", "User", "CreatedBy"), str("CreatedByContext"), str("CreatedByIssuer"),
			str("DelegateUser"), str("ResponsibleNamespacePrefix"),
		),
	}
	rest, tooling = schema{}, schema{}
	for _, o := range common {
		rest[strings.ToLower(o.Name)] = o
		tooling[strings.ToLower(o.Name)] = o
	}
	rest["connectedapplication"] = newObject("ConnectedApplication", connectedApp...)
	tooling["connectedapplication"] = newObject("ConnectedApplication", toolingApp...)
	return rest, tooling
}
