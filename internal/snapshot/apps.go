package snapshot

import (
	"strconv"
	"strings"

	"github.com/steward-dev/steward/internal/salesforce/metadata"
)

// wireScopes maps a scope as written in metadata (the ConnectedApp
// ConnectedAppOauthAccessScope enum, also used by External Client Apps) to
// the OAuth scope strings that appear on the wire. The first block is
// documented; the second is inferred from the External Client App settings
// object's field names and may be wrong for a value Salesforce renames.
func wireScopes(name string) ([]string, bool) {
	switch name {
	case "Api":
		return []string{"api"}, true
	case "Web":
		return []string{"web"}, true
	case "Full":
		return []string{"full"}, true
	case "Chatter":
		return []string{"chatter_api"}, true
	case "CustomApplications":
		return []string{"visualforce"}, true
	case "RefreshToken":
		return []string{"refresh_token"}, true
	case "OfflineAccess":
		return []string{"offline_access"}, true
	case "OpenID":
		return []string{"openid"}, true
	case "Basic":
		return []string{"id"}, true
	case "Profile":
		return []string{"profile"}, true
	case "Email":
		return []string{"email"}, true
	case "Address":
		return []string{"address"}, true
	case "Phone":
		return []string{"phone"}, true
	case "CustomPermissions":
		return []string{"custom_permissions"}, true
	case "Wave":
		return []string{"wave_api"}, true
	case "Eclair":
		return []string{"eclair_api"}, true
	case "Pardot":
		return []string{"pardot_api"}, true
	case "Lightning":
		return []string{"lightning"}, true
	case "Content":
		return []string{"content"}, true
	case "CDPIngest":
		return []string{"cdp_ingest_api"}, true
	case "CDPProfile":
		return []string{"cdp_profile_api"}, true
	case "CDPQuery":
		return []string{"cdp_query_api"}, true
	case "Chatbot":
		return []string{"chatbot_api"}, true
	case "SFAP", "SFApiPlatform":
		return []string{"sfap_api"}, true
	// Inferred.
	case "CDPSegment":
		return []string{"cdp_segment_api"}, true
	case "CDPIdentityResolution":
		return []string{"cdp_identityresolution_api"}, true
	case "CDPCalculatedInsight":
		return []string{"cdp_calculated_insight_api"}, true
	case "CDP":
		return []string{"cdp_api"}, true
	case "EinsteinGPT":
		return []string{"einstein_gpt_api"}, true
	case "Interaction":
		return []string{"interaction_api"}, true
	case "ForgotPassword":
		return []string{"forgot_password"}, true
	case "UserRegistration":
		return []string{"user_registration_api"}, true
	case "PwdlessLogin":
		return []string{"pwdless_login_api"}, true
	case "MCP":
		return []string{"mcp_api"}, true
	case "SCRT":
		return []string{"scrt_api"}, true
	}
	return nil, false
}

// scopesFrom maps metadata scopes to wire strings, keeping the ones with no
// known mapping apart.
func scopesFrom(in []metadata.Scope) (wire, unknown []string) {
	for _, sc := range in {
		if w, ok := wireScopes(sc.Name); ok {
			wire = append(wire, w...)
		} else {
			unknown = append(unknown, sc.Name)
		}
	}
	return sortedUnique(wire), sortedUnique(unknown)
}

// locations collects the positions of an app's settings.
type locations map[string]Location

func (l locations) set(key, file string, line int) {
	if line > 0 {
		l[key] = Location{File: file, Line: line}
	}
}

func appFromConnectedApp(ca *metadata.ConnectedApp) App {
	f := ca.File
	loc := locations{}
	a := App{
		Kind:                   KindConnectedApp,
		Name:                   ca.Name,
		Label:                  ca.Label.Value,
		Location:               Location{File: f, Line: ca.Line},
		ContactEmail:           ca.ContactEmail.Value,
		RunAs:                  ca.ClientCredentialUser.Value,
		IPRelaxation:           strings.ToUpper(ca.IPRelaxation.Value),
		RefreshTokenPolicy:     ca.RefreshTokenPolicy.Value,
		SessionTimeoutMinutes:  ca.SessionTimeout.Value,
		AdminApproved:          ca.AdminApproved.True(),
		IntrospectAllTokens:    ca.IntrospectAllTokens.True(),
		ConsumerKeyPresent:     ca.ConsumerKey.Value != "",
		ConsumerKeyFingerprint: fingerprint(ca.ConsumerKey.Value),
		ConsumerSecretInRepo:   ca.ConsumerSecretPresent,
		Flows: Flows{
			ClientCredentials:      ca.ClientCredentialEnabled.True(),
			CodeCredential:         ca.CodeCredentialEnabled.True(),
			TokenExchange:          ca.TokenExchangeEnabled.True(),
			JWTBearer:              ca.Certificate,
			NamedUserJWT:           ca.NamedUserJWTEnabled.True(),
			ConsumerSecretOptional: ca.ConsumerSecretOptional.True(),
		},
	}
	if ca.HasOAuthConfig && a.RefreshTokenPolicy == "" {
		// Salesforce's default when the policy is not written.
		a.RefreshTokenPolicy = "infinite"
	}
	a.Scopes, a.UnknownScopes = scopesFrom(ca.Scopes)
	if len(ca.Scopes) > 0 {
		loc.set("scopes", f, ca.Scopes[0].Line)
	}
	for _, r := range ca.IPRanges {
		a.IPRanges = append(a.IPRanges, IPRange{Start: r.Start, End: r.End})
	}
	a.PreAuthorized = sortedUnique(append(append([]string{}, ca.Profiles...), ca.PermissionSets...))
	loc.set("flows", f, ca.ClientCredentialEnabled.Line)
	loc.set("runAs", f, ca.ClientCredentialUser.Line)
	loc.set("ipRelaxation", f, ca.IPRelaxation.Line)
	loc.set("refreshTokenPolicy", f, ca.RefreshTokenPolicy.Line)
	loc.set("sessionTimeout", f, ca.SessionTimeout.Line)
	loc.set("adminApproved", f, ca.AdminApproved.Line)
	loc.set("consumerSecret", f, ca.ConsumerSecretLine)
	a.Locations = loc
	a.IPRanges = nonNil(a.IPRanges)
	a.Identities = []string{}
	return a
}

// appFromECA normalises an External Client App's file family. The
// client-credentials flow is on when the admin policy enables it, the
// developer settings (when committed) agree, and no plugin switch turns
// OAuth off.
func appFromECA(e *metadata.ECA) App {
	loc := locations{}
	a := App{Kind: KindExternalClientApp, Name: e.Name, Identities: []string{}}
	if h := e.Header; h != nil {
		a.Location = Location{File: h.File, Line: h.Line}
		a.Label, a.ContactEmail = h.Label.Value, h.ContactEmail.Value
	}
	policyCC, globalCC := false, false
	if p := e.OAuthPolicy; p != nil {
		f := p.File
		policyCC = p.ClientCredentialsEnabled.True()
		a.RunAs = p.ClientCredentialsUser.Value
		a.IPRelaxation = ecaIPRelaxation(p.IPRelaxation.Value)
		a.RefreshTokenPolicy = ecaRefreshPolicy(p)
		a.SessionTimeoutMinutes = p.SessionTimeout.Value
		a.AdminApproved = p.PermittedUsers.Value == "AdminApprovedPreAuthorized"
		a.PreAuthorized = append(append([]string{}, p.Profiles...), p.PermissionSets...)
		a.Flows.TokenExchange = p.TokenExchangeEnabled.True()
		loc.set("flows", f, p.ClientCredentialsEnabled.Line)
		loc.set("runAs", f, p.ClientCredentialsUser.Line)
		loc.set("ipRelaxation", f, p.IPRelaxation.Line)
		loc.set("refreshTokenPolicy", f, p.RefreshTokenPolicy.Line)
		loc.set("sessionTimeout", f, p.SessionTimeout.Line)
		loc.set("adminApproved", f, p.PermittedUsers.Line)
		if a.Location.File == "" {
			a.Location = Location{File: f, Line: p.Line}
		}
	}
	if o := e.OAuth; o != nil {
		a.Scopes, a.UnknownScopes = scopesFrom(o.Scopes)
		if len(o.Scopes) > 0 {
			loc.set("scopes", o.File, o.Scopes[0].Line)
		}
		for _, r := range o.TrustedIPRanges {
			a.IPRanges = append(a.IPRanges, IPRange{Start: r.Start, End: r.End})
		}
		if a.Location.File == "" {
			a.Location = Location{File: o.File, Line: o.Line}
		}
	}
	if g := e.GlobalOAuth; g != nil {
		globalCC = g.ClientCredentialsEnabled.True()
		a.GlobalOAuthInRepo = true
		a.ConsumerKeyPresent = g.ConsumerKey.Value != ""
		a.ConsumerKeyFingerprint = fingerprint(g.ConsumerKey.Value)
		a.ConsumerSecretInRepo = g.ConsumerSecretPresent
		a.IntrospectAllTokens = g.IntrospectAllTokens.True()
		a.Flows.CodeCredential = g.CodeCredFlowEnabled.True()
		a.Flows.Device = g.DeviceFlowEnabled.True()
		a.Flows.JWTBearer = g.Certificate
		a.Flows.NamedUserJWT = g.NamedUserJWTEnabled.True()
		a.Flows.ConsumerSecretOptional = g.ConsumerSecretOptional.True()
		a.Flows.TokenExchange = a.Flows.TokenExchange || g.TokenExchangeEnabled.True()
		loc.set("globalOAuth", g.File, g.Line)
		loc.set("consumerSecret", g.File, g.ConsumerSecretLine)
		if _, ok := loc["flows"]; !ok {
			loc.set("flows", g.File, g.ClientCredentialsEnabled.Line)
		}
		if a.Location.File == "" {
			a.Location = Location{File: g.File, Line: g.Line}
		}
	}
	pluginsOn := true
	if pp := e.PluginPolicy; pp != nil {
		pluginsOn = !(pp.Enabled.Set && !pp.Enabled.Value) && !(pp.OAuthPluginEnabled.Set && !pp.OAuthPluginEnabled.Value)
		if a.Location.File == "" {
			a.Location = Location{File: pp.File, Line: pp.Line}
		}
	}
	a.Flows.ClientCredentials = policyCC && (e.GlobalOAuth == nil || globalCC) && pluginsOn
	a.Flows.ClientCredentialsPartial = (policyCC || globalCC) && !a.Flows.ClientCredentials
	a.PreAuthorized = sortedUnique(a.PreAuthorized)
	a.IPRanges = nonNil(a.IPRanges)
	a.Scopes, a.UnknownScopes = nonNil(a.Scopes), nonNil(a.UnknownScopes)
	a.Locations = loc
	return a
}

// ecaIPRelaxation maps the External Client App spelling to the connected-app one.
func ecaIPRelaxation(v string) string {
	switch strings.ToLower(v) {
	case "":
		return ""
	case "enforce":
		return "ENFORCE"
	case "bypass":
		return "BYPASS"
	case "bypass_2factor":
		return "BYPASS_2FACTOR"
	case "enforce_relaxrefresh":
		return "ENFORCE_RELAXREFRESH"
	}
	return strings.ToUpper(v)
}

// ecaRefreshPolicy maps the External Client App refresh-token policy to the
// connected-app string form.
func ecaRefreshPolicy(p *metadata.ECAOAuthPolicy) string {
	period := func(kind string) string {
		unit := strings.ToUpper(p.RefreshTokenValidityUnit.Value)
		if unit == "" || !p.RefreshTokenValidityPeriod.Set {
			return kind
		}
		return kind + ":" + strconv.Itoa(p.RefreshTokenValidityPeriod.Value) + ":" + unit
	}
	switch p.RefreshTokenPolicy.Value {
	case "":
		return ""
	case "Infinite":
		return "infinite"
	case "Zero":
		return "zero"
	case "SpecificLifetime":
		return period("specific_lifetime")
	case "SpecificInactivity":
		return period("specific_inactivity")
	}
	return strings.ToLower(p.RefreshTokenPolicy.Value)
}
