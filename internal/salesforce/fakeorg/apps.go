package fakeorg

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// Login history values for client-credentials logins. The SOQL values are
// [U] in the reference; docs/fakeorg.md records the choice.
const (
	loginTypeOAuth     = "Remote Access 2.0"
	loginSubTypeCC     = "OAuth Client Credentials"
	loginStatusSuccess = "Success"
)

// oauthScope maps a metadata scope enum to the OAuth scope string.
var oauthScope = map[string]string{
	"Api": "api", "Web": "web", "Full": "full", "Chatter": "chatter_api", "CustomApplications": "visualforce",
	"RefreshToken": "refresh_token", "OfflineAccess": "offline_access", "OpenID": "openid", "Basic": "id",
	"Profile": "profile", "Email": "email", "Address": "address", "Phone": "phone",
	"CustomPermissions": "custom_permissions", "Wave": "wave_api", "Eclair": "eclair_api", "Pardot": "pardot_api",
	"Lightning": "lightning", "Content": "content", "CDPIngest": "cdp_ingest_api", "CDPProfile": "cdp_profile_api",
	"CDPQuery": "cdp_query_api", "Chatbot": "chatbot_api", "SFAP": "sfap_api", "SFApiPlatform": "sfap_api",
}

// ccDropped are the scopes the client-credentials flow does not grant.
var ccDropped = map[string]bool{"full": true, "refresh_token": true, "offline_access": true, "web": true}

func oauthScopes(enums []string) []string {
	var out []string
	for _, e := range enums {
		s, ok := oauthScope[strings.TrimSpace(e)]
		if !ok {
			s = strings.ToLower(strings.Join(scopeFieldSuffixes(strings.TrimSpace(e)), "_"))
		}
		out = append(out, s)
	}
	return out
}

func (o *org) buildApps(epoch time.Time) {
	sc := o.sc
	for i := range sc.ConnectedApps {
		ca := &sc.ConnectedApps[i]
		created := o.at(ca.Created, epoch).(time.Time)
		modified := o.at(ca.Modified, created).(time.Time)
		r := o.add("ConnectedApplication", o.stamp(map[string]any{
			"Name": def(ca.Label, ca.Name), "MobileSessionTimeout": nil, "MobileStartUrl": nil,
			"NamedUserUvidTimeout": nil, "OptionsAllowAdminApprovedUsersOnly": ca.AdminApproved,
			"OptionsCodeCredentialGuestEnabled": false, "OptionsFullContentPushNotifications": false,
			"OptionsHasSessionLevelPolicy": false, "OptionsIsInternal": false,
			"OptionsRefreshTokenValidityMetric": false, "OptionsTokenExchangeManageBitEnabled": false,
			"PinLength": nil, "RefreshTokenValidityPeriod": nil, "StartUrl": nz(ca.StartURL), "UvidTimeout": nil,
			// Tooling-only fields.
			"ConnAppPluginClassId": nil, "ContactEmail": nz(ca.ContactEmail), "ContactPhone": nil,
			"Description": nz(ca.Description), "DeveloperName": ca.Name, "ExecutionUserId": nil, "IconUrl": nil,
			"InfoUrl": nil, "LogoUrl": nil, "SamlLoginInformation": nil, "SessionPolicyAction": nil,
			"SessionTimeout": sessionTimeoutString(ca.SessionTimeout), "Version": "1",
		}, o.creator(ca.CreatedBy), created, modified))
		r.f["LastModifiedById"] = o.creatorOr(ca.ModifiedBy, r.f["CreatedById"])
		a := &app{
			name: ca.Name, label: def(ca.Label, ca.Name), kind: "ConnectedApp", id: r.id, consumerKey: ca.ConsumerKey,
			consumerSecret: ca.ConsumerSecret, cc: ca.ClientCredentials, runAs: ca.RunAs,
			scopes: oauthScopes(ca.Scopes), sessionTimeout: ca.SessionTimeout, introspectAll: ca.IntrospectAllTokens,
			ca: ca,
		}
		o.register(a)
		o.add("AppMenuItem", o.stamp(map[string]any{
			"ApplicationId": r.id, "Name": ca.Name, "Label": a.label, "Type": "ConnectedApplication",
			"Description": nz(ca.Description), "IsAccessible": true, "IsVisible": true,
			"IsUsingAdminAuthorization": ca.AdminApproved, "StartUrl": nz(ca.StartURL), "NamespacePrefix": nz(ca.Namespace),
		}, r.f["CreatedById"], created, modified))
	}
	for i := range sc.ExternalClientApps {
		e := &sc.ExternalClientApps[i]
		created := o.at(e.Created, epoch).(time.Time)
		modified := o.at(e.Modified, created).(time.Time)
		by := o.creator(e.CreatedBy)
		r := o.add("ExternalClientApplication", o.stamp(map[string]any{
			"ContactEmail": nz(e.ContactEmail), "ContactPhone": nil, "Description": nz(e.Description),
			"DeveloperName": e.Name, "DistributionState": def(e.DistributionState, "Local"), "IconUrl": nil,
			"InfoUrl": nil, "IsDeleted": false, "Language": "en_US", "LogoUrl": nil, "ManagedType": "Local",
			"MasterLabel": def(e.Label, e.Name), "NamespacePrefix": nz(e.Namespace),
			"OrgScopedExternalApp": o.orgID[:15] + ":" + e.Name, "Version": "1",
		}, by, created, modified))
		r.f["LastModifiedById"] = o.creatorOr(e.ModifiedBy, by)
		settings := map[string]any{
			"DeveloperName": e.oauthSettingsName(), "MasterLabel": def(e.Label, e.Name) + " OAuth settings",
			"Language": "en_US", "NamespacePrefix": nz(e.Namespace), "ExternalClientApplicationId": r.id,
		}
		for _, s := range ecaScopeSuffixes {
			settings["OauthScopes"+s] = false
		}
		for _, sc := range e.Scopes {
			for _, s := range scopeFieldSuffixes(strings.TrimSpace(sc)) {
				settings["OauthScopes"+s] = true
			}
		}
		sr := o.add("ExtlClntAppOauthSettings", o.stamp(settings, by, created, modified))
		p := e.Policy
		o.add("ExtlClntAppOauthPlcyCnfg", o.stamp(map[string]any{
			"ClientCredentialsFlowUser": nz(p.RunAs), "DeveloperName": e.policyName(),
			"ExternalClientApplicationId": r.id, "ExtlClntAppOauthSettingsId": sr.id,
			"IpRelaxationPolicyType": def(p.IPRelaxation, "Enforce"), "IsClientCredentialsFlowEnabled": p.ClientCredentials,
			"IsGuestCodeCredFlowEnabled": false, "IsNamedUserJwtEnabled": false, "IsTokenExchangeFlowEnabled": false,
			"MasterLabel": def(e.Label, e.Name) + " OAuth policies", "NamedUserJwtSessionTimeoutType": nil,
			"NamedUserJwtTimeout": nil, "PermittedUsersPolicyType": def(p.PermittedUsers, "AllSelfAuthorized"),
			"PolicyAction": nil, "RefreshTokenPolicyType": def(p.RefreshTokenPolicy, "Infinite"),
			"RefreshTokenValidityPeriod": nil, "RefreshTokenValidityUnit": nil, "RequiredSessionLevel": nil,
			"SessionTimeoutInMinutes": intOrNil(p.SessionTimeout), "SingleLogoutUrl": nil, "StartUrl": nil,
		}, by, created, modified))
		enabled := (e.Enabled == nil || *e.Enabled) && (e.OauthPluginEnabled == nil || *e.OauthPluginEnabled)
		a := &app{
			name: e.Name, label: def(e.Label, e.Name), kind: "ExternalClientApp", id: r.id, consumerKey: e.ConsumerKey,
			consumerSecret: e.ConsumerSecret, cc: e.ClientCredentials && p.ClientCredentials && enabled,
			runAs: p.RunAs, scopes: oauthScopes(e.Scopes),
			sessionTimeout: p.SessionTimeout, introspectAll: e.IntrospectAllTokens, eca: e,
		}
		o.register(a)
	}
}

func (o *org) register(a *app) {
	o.apps = append(o.apps, a)
	o.byName[a.name] = a
	if a.consumerKey != "" {
		o.byKey[a.consumerKey] = a
	}
}

func (o *org) creator(username string) any {
	if username == "" {
		return o.adminUser
	}
	return o.userID(username)
}

func (o *org) creatorOr(username string, fallback any) any {
	if username == "" {
		return fallback
	}
	return o.userID(username)
}

func (e *ExternalClientApp) oauthSettingsName() string {
	return def(e.OauthSettingsName, e.Name+"_oauth")
}
func (e *ExternalClientApp) globalSettingsName() string {
	return def(e.GlobalSettingsName, e.Name+"_glbl")
}
func (e *ExternalClientApp) policyName() string { return def(e.PolicyName, e.Name+"_plcy") }

func intOrNil(n int) any {
	if n == 0 {
		return nil
	}
	return n
}

// sessionTimeoutString renders a connected app session timeout as the
// Tooling picklist does ([U]: the minutes as a string).
func sessionTimeoutString(minutes int) any {
	if minutes == 0 {
		return nil
	}
	return strconv.Itoa(minutes)
}

func (o *org) buildHistory() {
	sc := o.sc
	for _, l := range sc.LoginHistory {
		n := max(l.Count, 1)
		start := l.Time.resolve(o.now)
		application := "Browser"
		if l.App != "" {
			application = o.byName[l.App].label
		}
		typ := def(l.Type, loginTypeOAuth)
		sub := any(nil)
		if l.SubType != "" {
			sub = l.SubType
		} else if typ == loginTypeOAuth {
			sub = loginSubTypeCC
		}
		for i := 0; i < n; i++ {
			o.add("LoginHistory", map[string]any{
				"UserId": o.userID(l.User), "LoginTime": start.Add(-time.Duration(i) * time.Duration(l.Every)),
				"LoginType": typ, "LoginSubType": sub, "Application": application, "ApiType": apiType(typ),
				"ApiVersion": apiVersion(typ), "AuthMethodReference": nil, "Browser": def(l.Browser, "Unknown"),
				"ClientVersion": "N/A", "CountryIso": nil, "LoginUrl": o.sc.Org.MyDomain + ".my.salesforce.com",
				"Platform": def(l.Platform, "Unknown"), "SourceIp": def(l.SourceIP, "203.0.113.10"),
				"Status": def(l.Status, loginStatusSuccess), "TlsProtocol": "TLS 1.3",
			})
		}
	}
	for _, t := range sc.OauthTokens {
		a := o.byName[t.App]
		created := o.at(t.Created, o.now.AddDate(0, -1, 0)).(time.Time)
		var menu any
		for _, m := range o.rows["AppMenuItem"] {
			if m.f["ApplicationId"] == a.id {
				menu = m.id
			}
		}
		h := sha256.Sum256([]byte(t.App + "\x00" + t.User + "\x00" + created.String()))
		o.add("OauthToken", map[string]any{
			"AccessToken": "5Aep861" + hex.EncodeToString(h[:8]) + "...", "AppMenuItemId": menu, "AppName": a.label,
			"CreatedDate": created, "DeleteToken": "5Aep861" + hex.EncodeToString(h[8:24]),
			"LastUsedDate": o.at(t.LastUsed, created), "RequestToken": nil, "UseCount": t.UseCount,
			"UserId": o.userID(t.User),
		})
	}
	for _, a := range sc.SetupAuditTrail {
		o.add("SetupAuditTrail", map[string]any{
			"Action": a.Action, "Section": nz(a.Section), "Display": nz(a.Display), "CreatedDate": a.Date.resolve(o.now),
			"CreatedById": o.userID(a.By), "CreatedByContext": nz(a.Context), "CreatedByIssuer": nil,
			"DelegateUser": nil, "ResponsibleNamespacePrefix": nil,
		})
	}
}

func apiType(loginType string) any {
	if loginType == loginTypeOAuth {
		return "REST API"
	}
	return nil
}

func apiVersion(loginType string) any {
	if loginType == loginTypeOAuth {
		return "62.0"
	}
	return nil
}
