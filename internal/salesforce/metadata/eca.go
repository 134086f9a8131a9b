package metadata

// ecaName is the name an ECA part is grouped under: its
// externalClientApplication, or the file's own name when that is missing.
func (p *parser) ecaName(app string, root *node, fileName string) string {
	if app != "" {
		return app
	}
	p.warn(root.line, "<%s> has no <externalClientApplication>; grouped under the file name %s", root.name, quote(fileName))
	return fileName
}

// setApp maps the externalClientApplication element every ECA part carries.
func (p *parser) setApp(dst *string, n, parent *node) {
	if *dst != "" {
		p.duplicate(n, parent)
		return
	}
	*dst = p.leaf(n)
}

// ecaHeader maps an ExternalClientApplication document.
func (p *parser) ecaHeader(root *node) *ECAHeader {
	h := &ECAHeader{Location: p.loc(root)}
	for _, c := range root.children {
		switch c.name {
		case "label":
			p.setText(&h.Label, c, root)
		case "contactEmail":
			p.setText(&h.ContactEmail, c, root)
		case "description":
			p.setText(&h.Description, c, root)
		case "distributionState":
			p.setText(&h.DistributionState, c, root)
		case "contactPhone", "iconUrl", "infoUrl", "isProtected", "logoUrl",
			"managedType", "orgScopedExternalApp":
			// In the schema; not modelled.
		default:
			p.unknown(c, root)
		}
	}
	return h
}

// ecaOAuth maps an ExtlClntAppOauthSettings document.
func (p *parser) ecaOAuth(root *node) *ECAOAuth {
	o := &ECAOAuth{Location: p.loc(root)}
	scopes := false
	for _, c := range root.children {
		switch c.name {
		case "externalClientApplication":
			p.setApp(&o.App, c, root)
		case "commaSeparatedOauthScopes":
			if scopes {
				p.duplicate(c, root)
				continue
			}
			scopes = true
			for _, it := range p.items(c, ",") {
				o.Scopes = append(o.Scopes, p.scope(it.value, it.line, true, c.name))
			}
		case "trustedIpRanges":
			o.TrustedIPRanges = append(o.TrustedIPRanges, p.ipRange(c, "startIpAddress", "endIpAddress"))
		case "areAttributesIncludedInAssetToken", "areCustomPermsIncludedInAssetToken",
			"assetTokenAudiences", "assetTokenSigningCertificate", "assetTokenValidity",
			"clientAssertionCertificate", "commaSeparatedCustomScopes", "customAttributes",
			"isFirstPartyAppEnabled", "label", "oauthLink", "singleLogoutUrl":
			// In the schema; not modelled.
		default:
			p.unknown(c, root)
		}
	}
	return o
}

// ecaGlobalOAuth maps an ExtlClntAppGlobalOauthSettings document.
func (p *parser) ecaGlobalOAuth(root *node) *ECAGlobalOAuth {
	g := &ECAGlobalOAuth{Location: p.loc(root)}
	callbacks := false
	for _, c := range root.children {
		switch c.name {
		case "externalClientApplication":
			p.setApp(&g.App, c, root)
		case "callbackUrl":
			if callbacks {
				p.duplicate(c, root)
				continue
			}
			callbacks = true
			g.CallbackURLs = p.values(c, "\n")
		case "consumerKey":
			p.setText(&g.ConsumerKey, c, root)
		case "consumerSecret":
			p.setSecret(&g.ConsumerSecretPresent, &g.ConsumerSecretLine, c, root)
		case "certificate":
			p.setSecret(&g.Certificate, &g.CertificateLine, c, root)
		case "isClientCredentialsFlowEnabled":
			p.setBool(&g.ClientCredentialsEnabled, c, root)
		case "isCodeCredFlowEnabled":
			p.setBool(&g.CodeCredFlowEnabled, c, root)
		case "isConsumerSecretOptional":
			p.setBool(&g.ConsumerSecretOptional, c, root)
		case "isDeviceFlowEnabled":
			p.setBool(&g.DeviceFlowEnabled, c, root)
		case "isIntrospectAllTokens":
			p.setBool(&g.IntrospectAllTokens, c, root)
		case "isNamedUserJwtEnabled":
			p.setBool(&g.NamedUserJWTEnabled, c, root)
		case "isPkceRequired":
			p.setBool(&g.PKCERequired, c, root)
		case "isRefreshTokenRotationEnabled":
			p.setBool(&g.RefreshTokenRotation, c, root)
		case "isTokenExchangeEnabled":
			p.setBool(&g.TokenExchangeEnabled, c, root)
		case "shouldRotateConsumerKey":
			p.setBool(&g.ShouldRotateConsumerKey, c, root)
		case "shouldRotateConsumerSecret":
			p.setBool(&g.ShouldRotateSecret, c, root)
		case "idTokenConfig", "isCodeCredPostOnly", "isEnforceRefreshTokenTTL",
			"isSecretRequiredForRefreshToken", "isSecretRequiredForTokenExchange", "label":
			// In the schema; not modelled.
		default:
			p.unknown(c, root)
		}
	}
	return g
}

// ecaOAuthPolicy maps an ExtlClntAppOauthConfigurablePolicies document.
func (p *parser) ecaOAuthPolicy(root *node) *ECAOAuthPolicy {
	o := &ECAOAuthPolicy{Location: p.loc(root)}
	profiles, permSets := false, false
	for _, c := range root.children {
		switch c.name {
		case "externalClientApplication":
			p.setApp(&o.App, c, root)
		case "isClientCredentialsFlowEnabled":
			p.setBool(&o.ClientCredentialsEnabled, c, root)
		case "clientCredentialsFlowUser":
			p.setText(&o.ClientCredentialsUser, c, root)
		case "ipRelaxationPolicyType":
			p.setText(&o.IPRelaxation, c, root)
		case "permittedUsersPolicyType":
			p.setText(&o.PermittedUsers, c, root)
		case "commaSeparatedProfile":
			if profiles {
				p.duplicate(c, root)
				continue
			}
			profiles = true
			o.Profiles = p.values(c, ",")
		case "commaSeparatedPermissionSet":
			if permSets {
				p.duplicate(c, root)
				continue
			}
			permSets = true
			o.PermissionSets = p.values(c, ",")
		case "refreshTokenPolicyType":
			p.setText(&o.RefreshTokenPolicy, c, root)
		case "refreshTokenValidityPeriod":
			p.setInt(&o.RefreshTokenValidityPeriod, c, root)
		case "refreshTokenValidityUnit":
			p.setText(&o.RefreshTokenValidityUnit, c, root)
		case "sessionTimeoutInMinutes":
			p.setInt(&o.SessionTimeout, c, root)
		case "isTokenExchangeFlowEnabled":
			p.setBool(&o.TokenExchangeEnabled, c, root)
		case "apexHandler", "commaSeparatedCustomScopes", "customAttributes",
			"executeHandlerAs", "guestJwtSessionTimeoutType", "guestJwtTimeout",
			"isGuestCodeCredFlowEnabled", "isNamedUserJwtEnabled", "label",
			"namedUserJwtSessionTimeoutType", "namedUserJwtTimeout", "policyAction",
			"requiredSessionLevel", "singleLogoutUrl", "startUrl":
			// In the schema; not modelled.
		default:
			p.unknown(c, root)
		}
	}
	return o
}

// ecaPluginPolicy maps an ExtlClntAppConfigurablePolicies document.
func (p *parser) ecaPluginPolicy(root *node) *ECAPluginPolicy {
	o := &ECAPluginPolicy{Location: p.loc(root)}
	for _, c := range root.children {
		switch c.name {
		case "externalClientApplication":
			p.setApp(&o.App, c, root)
		case "isEnabled":
			p.setBool(&o.Enabled, c, root)
		case "isOauthPluginEnabled":
			p.setBool(&o.OAuthPluginEnabled, c, root)
		case "isCanvasPluginEnabled", "isMobilePluginEnabled", "isNotificationPluginEnabled",
			"isPushPluginEnabled", "isSamlPluginEnabled", "label", "startPage", "startUrl":
			// In the schema; not modelled.
		default:
			p.unknown(c, root)
		}
	}
	return o
}

// mergeECA moves the one part a single-file ECA holds into dst. When dst
// already has that part, dst is left alone, ok is false, first is where the
// part dst holds came from and dup where the rejected one did.
func mergeECA(dst, part *ECA) (first, dup Location, ok bool) {
	switch {
	case part.Header != nil:
		if dst.Header != nil {
			return dst.Header.Location, part.Header.Location, false
		}
		dst.Header = part.Header
	case part.OAuth != nil:
		if dst.OAuth != nil {
			return dst.OAuth.Location, part.OAuth.Location, false
		}
		dst.OAuth = part.OAuth
	case part.GlobalOAuth != nil:
		if dst.GlobalOAuth != nil {
			return dst.GlobalOAuth.Location, part.GlobalOAuth.Location, false
		}
		dst.GlobalOAuth = part.GlobalOAuth
	case part.OAuthPolicy != nil:
		if dst.OAuthPolicy != nil {
			return dst.OAuthPolicy.Location, part.OAuthPolicy.Location, false
		}
		dst.OAuthPolicy = part.OAuthPolicy
	case part.PluginPolicy != nil:
		if dst.PluginPolicy != nil {
			return dst.PluginPolicy.Location, part.PluginPolicy.Location, false
		}
		dst.PluginPolicy = part.PluginPolicy
	}
	return Location{}, Location{}, true
}
