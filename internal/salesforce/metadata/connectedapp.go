package metadata

// connectedAppScopes are the ConnectedAppOauthAccessScope enum values of the
// v67 Metadata API XSD.
var connectedAppScopes = map[string]bool{
	"Basic": true, "Api": true, "Web": true, "Full": true, "Chatter": true,
	"CustomApplications": true, "RefreshToken": true, "OpenID": true,
	"Profile": true, "Email": true, "Address": true, "Phone": true,
	"OfflineAccess": true, "CustomPermissions": true, "Wave": true,
	"Eclair": true, "Pardot": true, "Lightning": true, "Content": true,
	"CDPIngest": true, "CDPProfile": true, "CDPQuery": true, "Chatbot": true,
	"CDPSegment": true, "CDPIdentityResolution": true,
	"CDPCalculatedInsight": true, "ForgotPassword": true,
	"UserRegistration": true, "SFAP": true, "Interaction": true, "CDP": true,
	"EinsteinGPT": true, "PwdlessLogin": true, "MCP": true, "SCRT": true,
	"DataCloudUserClaims": true,
}

// knownScope reports whether name is a scope enum value; External Client
// Apps also spell SFAP as SFApiPlatform.
func knownScope(name string, eca bool) bool {
	return connectedAppScopes[name] || (eca && name == "SFApiPlatform")
}

// scope records one scope value, warning when it is not an enum value. The
// value is kept either way: Salesforce may add scopes before this list does.
func (p *parser) scope(name string, line int, eca bool, element string) Scope {
	if !knownScope(name, eca) {
		p.warn(line, "unknown OAuth scope %s in <%s>", quote(name), element)
	}
	return Scope{Name: name, Line: line}
}

// connectedApp maps a ConnectedApp document.
func (p *parser) connectedApp(root *node, name string) *ConnectedApp {
	app := &ConnectedApp{Name: name, Location: p.loc(root)}
	var oauthPolicy, sessionPolicy bool
	for _, c := range root.children {
		switch c.name {
		case "label":
			p.setText(&app.Label, c, root)
		case "contactEmail":
			p.setText(&app.ContactEmail, c, root)
		case "description":
			p.setText(&app.Description, c, root)
		case "oauthConfig":
			if app.HasOAuthConfig {
				p.duplicate(c, root)
				continue
			}
			app.HasOAuthConfig = true
			p.oauthConfig(c, app)
		case "oauthPolicy":
			if oauthPolicy {
				p.duplicate(c, root)
				continue
			}
			oauthPolicy = true
			p.oauthPolicy(c, app)
		case "sessionPolicy":
			if sessionPolicy {
				p.duplicate(c, root)
				continue
			}
			sessionPolicy = true
			p.sessionPolicy(c, app)
		case "ipRanges":
			app.IPRanges = append(app.IPRanges, p.ipRange(c, "start", "end"))
		case "profileName":
			if v := p.leaf(c); v != "" {
				app.Profiles = append(app.Profiles, v)
			}
		case "permissionSetName":
			if v := p.leaf(c); v != "" {
				app.PermissionSets = append(app.PermissionSets, v)
			}
		case "attributes", "canvas", "canvasConfig", "contactPhone", "iconUrl",
			"infoUrl", "logoUrl", "mobileAppConfig", "mobileStartUrl", "plugin",
			"pluginExecutionUser", "samlConfig", "startUrl":
			// In the schema; not modelled.
		default:
			p.unknown(c, root)
		}
	}
	return app
}

// oauthConfig maps ConnectedAppOauthConfig.
func (p *parser) oauthConfig(n *node, app *ConnectedApp) {
	callbacks := false
	for _, c := range n.children {
		switch c.name {
		case "callbackUrl":
			if callbacks {
				p.duplicate(c, n)
				continue
			}
			callbacks = true
			app.CallbackURLs = p.values(c, "\n")
		case "consumerKey":
			p.setText(&app.ConsumerKey, c, n)
		case "consumerSecret":
			p.setSecret(&app.ConsumerSecretPresent, &app.ConsumerSecretLine, c, n)
		case "certificate":
			p.setSecret(&app.Certificate, &app.CertificateLine, c, n)
		case "isAdminApproved":
			p.setBool(&app.AdminApproved, c, n)
		case "isClientCredentialEnabled":
			p.setBool(&app.ClientCredentialEnabled, c, n)
		case "isCodeCredentialEnabled":
			p.setBool(&app.CodeCredentialEnabled, c, n)
		case "isConsumerSecretOptional":
			p.setBool(&app.ConsumerSecretOptional, c, n)
		case "isIntrospectAllTokens":
			p.setBool(&app.IntrospectAllTokens, c, n)
		case "isNamedUserJwtEnabled":
			p.setBool(&app.NamedUserJWTEnabled, c, n)
		case "isPkceRequired":
			p.setBool(&app.PKCERequired, c, n)
		case "isRefreshTokenRotationEnabled":
			p.setBool(&app.RefreshTokenRotation, c, n)
		case "isTokenExchangeEnabled":
			p.setBool(&app.TokenExchangeEnabled, c, n)
		case "oauthClientCredentialUser":
			p.setText(&app.ClientCredentialUser, c, n)
		case "scopes":
			if v := p.leaf(c); v != "" {
				app.Scopes = append(app.Scopes, p.scope(v, c.line, false, c.name))
			}
		case "assetTokenConfig", "idTokenConfig", "isCodeCredentialPostOnly",
			"isSecretRequiredForRefreshToken", "isSecretRequiredForTokenExchange",
			"singleLogoutUrl":
			// In the schema; not modelled.
		default:
			p.unknown(c, n)
		}
	}
}

// oauthPolicy maps ConnectedAppOauthPolicy.
func (p *parser) oauthPolicy(n *node, app *ConnectedApp) {
	for _, c := range n.children {
		switch c.name {
		case "ipRelaxation":
			p.setText(&app.IPRelaxation, c, n)
		case "refreshTokenPolicy":
			p.setText(&app.RefreshTokenPolicy, c, n)
		case "isTokenExchangeFlowEnabled", "singleLogoutUrl":
			// In the schema; not modelled.
		default:
			p.unknown(c, n)
		}
	}
}

// sessionPolicy maps ConnectedAppSessionPolicy.
func (p *parser) sessionPolicy(n *node, app *ConnectedApp) {
	for _, c := range n.children {
		switch c.name {
		case "sessionTimeout":
			p.setInt(&app.SessionTimeout, c, n)
		case "sessionLevel":
			p.setText(&app.SessionLevel, c, n)
		case "policyAction":
			// In the schema; not modelled.
		default:
			p.unknown(c, n)
		}
	}
}
