package fakeorg

import (
	"encoding/xml"
	"strings"
)

// The readMetadata records below carry the elements of the SFDX files in
// XSD order, after fullName. consumerSecret is never rendered.

type connectedAppXML struct {
	XMLName           xml.Name         `xml:"records"`
	Type              string           `xml:"xsi:type,attr"`
	FullName          string           `xml:"fullName"`
	ContactEmail      string           `xml:"contactEmail"`
	Description       string           `xml:"description,omitempty"`
	Label             string           `xml:"label"`
	OauthConfig       *caOauthConfig   `xml:"oauthConfig,omitempty"`
	OauthPolicy       *caOauthPolicy   `xml:"oauthPolicy,omitempty"`
	PermissionSetName []string         `xml:"permissionSetName"`
	ProfileName       []string         `xml:"profileName"`
	SessionPolicy     *caSessionPolicy `xml:"sessionPolicy,omitempty"`
	StartURL          string           `xml:"startUrl,omitempty"`
}

type caOauthConfig struct {
	CallbackURL                      string   `xml:"callbackUrl"`
	ConsumerKey                      string   `xml:"consumerKey,omitempty"`
	IsAdminApproved                  bool     `xml:"isAdminApproved"`
	IsClientCredentialEnabled        bool     `xml:"isClientCredentialEnabled"`
	IsCodeCredentialEnabled          bool     `xml:"isCodeCredentialEnabled"`
	IsCodeCredentialPostOnly         bool     `xml:"isCodeCredentialPostOnly"`
	IsConsumerSecretOptional         bool     `xml:"isConsumerSecretOptional"`
	IsIntrospectAllTokens            bool     `xml:"isIntrospectAllTokens"`
	IsNamedUserJwtEnabled            bool     `xml:"isNamedUserJwtEnabled"`
	IsPkceRequired                   bool     `xml:"isPkceRequired"`
	IsRefreshTokenRotationEnabled    bool     `xml:"isRefreshTokenRotationEnabled"`
	IsSecretRequiredForRefreshToken  bool     `xml:"isSecretRequiredForRefreshToken"`
	IsSecretRequiredForTokenExchange bool     `xml:"isSecretRequiredForTokenExchange"`
	IsTokenExchangeEnabled           bool     `xml:"isTokenExchangeEnabled"`
	OauthClientCredentialUser        string   `xml:"oauthClientCredentialUser,omitempty"`
	Scopes                           []string `xml:"scopes"`
}

type caOauthPolicy struct {
	IPRelaxation               string `xml:"ipRelaxation"`
	IsTokenExchangeFlowEnabled bool   `xml:"isTokenExchangeFlowEnabled"`
	RefreshTokenPolicy         string `xml:"refreshTokenPolicy"`
}

type caSessionPolicy struct {
	SessionTimeout int `xml:"sessionTimeout"`
}

const defaultCallback = "https://login.salesforce.com/services/oauth2/callback"

func connectedAppRecord(ca *ConnectedApp, fullName string) connectedAppXML {
	rec := connectedAppXML{
		Type: "ConnectedApp", FullName: fullName, ContactEmail: def(ca.ContactEmail, "admin@example.com"),
		Description: ca.Description, Label: def(ca.Label, ca.Name), PermissionSetName: ca.PermissionSets,
		ProfileName: ca.Profiles, StartURL: ca.StartURL,
		OauthConfig: &caOauthConfig{
			CallbackURL: def(ca.CallbackURL, defaultCallback), ConsumerKey: ca.ConsumerKey,
			IsAdminApproved: ca.AdminApproved, IsClientCredentialEnabled: ca.ClientCredentials,
			IsConsumerSecretOptional: ca.ConsumerSecretOptional, IsIntrospectAllTokens: ca.IntrospectAllTokens,
			IsPkceRequired: ca.PKCERequired, IsSecretRequiredForRefreshToken: true,
			OauthClientCredentialUser: ca.RunAs, Scopes: ca.Scopes,
		},
		OauthPolicy: &caOauthPolicy{
			IPRelaxation: def(ca.IPRelaxation, "ENFORCE"), RefreshTokenPolicy: def(ca.RefreshTokenPolicy, "infinite"),
		},
	}
	if ca.SessionTimeout > 0 {
		rec.SessionPolicy = &caSessionPolicy{SessionTimeout: ca.SessionTimeout}
	}
	return rec
}

type ecaHeaderXML struct {
	XMLName           xml.Name `xml:"records"`
	Type              string   `xml:"xsi:type,attr"`
	FullName          string   `xml:"fullName"`
	ContactEmail      string   `xml:"contactEmail,omitempty"`
	Description       string   `xml:"description,omitempty"`
	DistributionState string   `xml:"distributionState"`
	IsProtected       bool     `xml:"isProtected"`
	Label             string   `xml:"label"`
}

type ecaOauthXML struct {
	XMLName                   xml.Name     `xml:"records"`
	Type                      string       `xml:"xsi:type,attr"`
	FullName                  string       `xml:"fullName"`
	CommaSeparatedOauthScopes string       `xml:"commaSeparatedOauthScopes"`
	ExternalClientApplication string       `xml:"externalClientApplication"`
	Label                     string       `xml:"label"`
	TrustedIPRanges           []ecaIPRange `xml:"trustedIpRanges"`
}

type ecaIPRange struct {
	Description    string `xml:"description,omitempty"`
	EndIPAddress   string `xml:"endIpAddress"`
	StartIPAddress string `xml:"startIpAddress"`
}

type ecaGlobalXML struct {
	XMLName                         xml.Name `xml:"records"`
	Type                            string   `xml:"xsi:type,attr"`
	FullName                        string   `xml:"fullName"`
	CallbackURL                     string   `xml:"callbackUrl"`
	ConsumerKey                     string   `xml:"consumerKey,omitempty"`
	ExternalClientApplication       string   `xml:"externalClientApplication"`
	IsClientCredentialsFlowEnabled  bool     `xml:"isClientCredentialsFlowEnabled"`
	IsCodeCredFlowEnabled           bool     `xml:"isCodeCredFlowEnabled"`
	IsConsumerSecretOptional        bool     `xml:"isConsumerSecretOptional"`
	IsDeviceFlowEnabled             bool     `xml:"isDeviceFlowEnabled"`
	IsIntrospectAllTokens           bool     `xml:"isIntrospectAllTokens"`
	IsNamedUserJwtEnabled           bool     `xml:"isNamedUserJwtEnabled"`
	IsPkceRequired                  bool     `xml:"isPkceRequired"`
	IsSecretRequiredForRefreshToken bool     `xml:"isSecretRequiredForRefreshToken"`
	IsTokenExchangeEnabled          bool     `xml:"isTokenExchangeEnabled"`
	Label                           string   `xml:"label"`
	ShouldRotateConsumerKey         bool     `xml:"shouldRotateConsumerKey"`
	ShouldRotateConsumerSecret      bool     `xml:"shouldRotateConsumerSecret"`
}

type ecaPolicyXML struct {
	XMLName                        xml.Name `xml:"records"`
	Type                           string   `xml:"xsi:type,attr"`
	FullName                       string   `xml:"fullName"`
	ClientCredentialsFlowUser      string   `xml:"clientCredentialsFlowUser,omitempty"`
	CommaSeparatedPermissionSet    string   `xml:"commaSeparatedPermissionSet,omitempty"`
	CommaSeparatedProfile          string   `xml:"commaSeparatedProfile,omitempty"`
	ExternalClientApplication      string   `xml:"externalClientApplication"`
	IPRelaxationPolicyType         string   `xml:"ipRelaxationPolicyType"`
	IsClientCredentialsFlowEnabled bool     `xml:"isClientCredentialsFlowEnabled"`
	IsGuestCodeCredFlowEnabled     bool     `xml:"isGuestCodeCredFlowEnabled"`
	IsTokenExchangeFlowEnabled     bool     `xml:"isTokenExchangeFlowEnabled"`
	Label                          string   `xml:"label"`
	PermittedUsersPolicyType       string   `xml:"permittedUsersPolicyType"`
	RefreshTokenPolicyType         string   `xml:"refreshTokenPolicyType"`
	SessionTimeoutInMinutes        int      `xml:"sessionTimeoutInMinutes,omitempty"`
}

type ecaPluginXML struct {
	XMLName                   xml.Name `xml:"records"`
	Type                      string   `xml:"xsi:type,attr"`
	FullName                  string   `xml:"fullName"`
	ExternalClientApplication string   `xml:"externalClientApplication"`
	IsEnabled                 bool     `xml:"isEnabled"`
	IsOauthPluginEnabled      bool     `xml:"isOauthPluginEnabled"`
	Label                     string   `xml:"label"`
}

// ecaComponent returns the full name and the record of one component of
// an External Client App.
func ecaComponent(e *ExternalClientApp, typ string) (string, any) {
	label := def(e.Label, e.Name)
	header := qualified(e.Namespace, e.Name)
	switch typ {
	case "ExternalClientApplication":
		return header, ecaHeaderXML{
			Type: typ, FullName: header, ContactEmail: e.ContactEmail, Description: e.Description,
			DistributionState: def(e.DistributionState, "Local"), Label: label,
		}
	case "ExtlClntAppOauthSettings":
		name := qualified(e.Namespace, e.oauthSettingsName())
		rec := ecaOauthXML{
			Type: typ, FullName: name, CommaSeparatedOauthScopes: strings.Join(e.Scopes, ", "),
			ExternalClientApplication: header, Label: label + " OAuth settings",
		}
		for _, r := range e.TrustedIPRanges {
			rec.TrustedIPRanges = append(rec.TrustedIPRanges, ecaIPRange{r.Description, r.End, r.Start})
		}
		return name, rec
	case "ExtlClntAppGlobalOauthSettings":
		name := qualified(e.Namespace, e.globalSettingsName())
		return name, ecaGlobalXML{
			Type: typ, FullName: name, CallbackURL: def(e.CallbackURL, defaultCallback), ConsumerKey: e.ConsumerKey,
			ExternalClientApplication: header, IsClientCredentialsFlowEnabled: e.ClientCredentials,
			IsConsumerSecretOptional: e.ConsumerSecretOptional, IsIntrospectAllTokens: e.IntrospectAllTokens,
			IsPkceRequired: e.PKCERequired == nil || *e.PKCERequired, IsSecretRequiredForRefreshToken: true,
			Label: label + " global OAuth settings",
		}
	case "ExtlClntAppOauthConfigurablePolicies":
		name := qualified(e.Namespace, e.policyName())
		p := e.Policy
		return name, ecaPolicyXML{
			Type: typ, FullName: name, ClientCredentialsFlowUser: p.RunAs,
			CommaSeparatedPermissionSet: strings.Join(p.PermissionSets, ","), CommaSeparatedProfile: strings.Join(p.Profiles, ","),
			ExternalClientApplication: header, IPRelaxationPolicyType: def(p.IPRelaxation, "Enforce"),
			IsClientCredentialsFlowEnabled: p.ClientCredentials, Label: label + " OAuth policies",
			PermittedUsersPolicyType: def(p.PermittedUsers, "AllSelfAuthorized"),
			RefreshTokenPolicyType:   def(p.RefreshTokenPolicy, "Infinite"), SessionTimeoutInMinutes: p.SessionTimeout,
		}
	default: // ExtlClntAppConfigurablePolicies
		name := qualified(e.Namespace, e.policyName())
		return name, ecaPluginXML{
			Type: typ, FullName: name, ExternalClientApplication: header, IsEnabled: e.Enabled == nil || *e.Enabled,
			IsOauthPluginEnabled: e.OauthPluginEnabled == nil || *e.OauthPluginEnabled, Label: label + " policies",
		}
	}
}
