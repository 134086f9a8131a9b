package metadata

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestKind(t *testing.T) {
	tests := []struct{ path, kind string }{
		{"force-app/main/default/connectedApps/A.connectedApp-meta.xml", KindConnectedApp},
		{"src/connectedApps/A.connectedApp", KindConnectedApp},
		{"weird/place/A.eca-meta.xml", KindECA},
		{"A_oauth.ecaOauth-meta.xml", KindECAOAuth},
		{"A_glbl.ecaGlblOauth-meta.xml", KindECAGlobalOAuth},
		{"A.ecaOauthPlcy-meta.xml", KindECAOAuthPolicy},
		{"A.ecaPlcy-meta.xml", KindECAPluginPolicy},
		{"A.permissionset-meta.xml", KindPermissionSet},
		{"A.mutingpermissionset-meta.xml", KindMutingPermissionSet},
		{"A.permissionsetgroup-meta.xml", KindPermissionSetGroup},
		{"profiles/Minimum Access - API Only Integrations.profile-meta.xml", KindProfile},
		{".profile-meta.xml", ""}, // no name before the suffix
		{".profile", ""},
		{"A.profile", ""}, // only connected apps are read in mdapi format
		{"A.connectedApp-meta.xml.bak", ""},
		{"A.ecaMobile-meta.xml", ""},
		{"A.PermissionSet-meta.xml", ""}, // suffixes are case-sensitive
		{"connectedApps", ""},
	}
	for _, tt := range tests {
		if got := Kind(tt.path); got != tt.kind {
			t.Errorf("Kind(%q) = %q, want %q", tt.path, got, tt.kind)
		}
	}
}

// TestGolden loads the hand-written fixtures (every modelled element of
// every kind) and compares the whole Set with testdata/valid.golden.json.
// Run with -update to rewrite it after an intended change.
func TestGolden(t *testing.T) {
	set, err := Load(context.Background(), []string{filepath.Join("testdata", "valid")}, Options{})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	got, err := json.MarshalIndent(set, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(bytes.ReplaceAll(got, []byte(`\\`), []byte(`/`)), '\n')
	golden := filepath.Join("testdata", "valid.golden.json")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("Set differs from %s (run with -update to accept):\n%s", golden, got)
	}
}

// parseOK parses one document and fails the test on error.
func parseOK(t *testing.T, path, doc string) (Record, []Warning) {
	t.Helper()
	rec, warnings, err := Parse(path, []byte(doc))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return rec, warnings
}

func messages(ws []Warning) []string {
	var out []string
	for _, w := range ws {
		out = append(out, w.String())
	}
	return out
}

func TestParseWarnings(t *testing.T) {
	const ns = `xmlns="http://soap.sforce.com/2006/04/metadata"`
	tests := []struct {
		name string
		path string
		doc  string
		want []string
	}{
		{
			name: "unknown elements, nested and top-level",
			path: "A.connectedApp-meta.xml",
			doc:  "<ConnectedApp " + ns + ">\n<label>A</label>\n<oauthConfig>\n<isMagic>true</isMagic>\n</oauthConfig>\n<developerName>x<deep/></developerName>\n</ConnectedApp>",
			want: []string{
				"A.connectedApp-meta.xml:4: unknown element <isMagic> in <oauthConfig>",
				"A.connectedApp-meta.xml:6: unknown element <developerName> in <ConnectedApp>",
			},
		},
		{
			name: "bad boolean and integer values",
			path: "A.connectedApp-meta.xml",
			doc:  "<ConnectedApp " + ns + ">\n<oauthConfig><isAdminApproved>yes</isAdminApproved></oauthConfig>\n<sessionPolicy><sessionTimeout>15m</sessionTimeout></sessionPolicy>\n</ConnectedApp>",
			want: []string{
				`A.connectedApp-meta.xml:2: invalid boolean "yes" in <isAdminApproved>; value ignored`,
				`A.connectedApp-meta.xml:3: invalid integer "15m" in <sessionTimeout>; value ignored`,
			},
		},
		{
			name: "duplicates keep the first",
			path: "A.connectedApp-meta.xml",
			doc:  "<ConnectedApp " + ns + ">\n<label>A</label>\n<label>B</label>\n<oauthConfig/>\n<oauthConfig/>\n</ConnectedApp>",
			want: []string{
				"A.connectedApp-meta.xml:3: duplicate <label> in <ConnectedApp>; the first is used",
				"A.connectedApp-meta.xml:5: duplicate <oauthConfig> in <ConnectedApp>; the first is used",
			},
		},
		{
			name: "child element inside a simple value",
			path: "A.profile-meta.xml",
			doc:  "<Profile " + ns + ">\n<userLicense>Salesforce\n<b>bold</b></userLicense>\n</Profile>",
			want: []string{"A.profile-meta.xml:3: unexpected element <b> in <userLicense>"},
		},
		{
			name: "missing namespace",
			path: "A.permissionset-meta.xml",
			doc:  "<PermissionSet><label>x</label></PermissionSet>",
			want: []string{"A.permissionset-meta.xml:1: root element <PermissionSet> has no namespace; expected http://soap.sforce.com/2006/04/metadata"},
		},
		{
			name: "other namespace",
			path: "A.permissionset-meta.xml",
			doc:  `<PermissionSet xmlns="urn:other"><label>x</label></PermissionSet>`,
			want: []string{`A.permissionset-meta.xml:1: root element <PermissionSet> is in namespace "urn:other"; expected http://soap.sforce.com/2006/04/metadata`},
		},
		{
			name: "unknown ECA scope, one per line",
			path: "A.ecaOauth-meta.xml",
			doc:  "<ExtlClntAppOauthSettings " + ns + ">\n<externalClientApplication>A</externalClientApplication>\n<commaSeparatedOauthScopes>Api,\n  Bogus,\n  SFAP</commaSeparatedOauthScopes>\n</ExtlClntAppOauthSettings>",
			want: []string{`A.ecaOauth-meta.xml:4: unknown OAuth scope "Bogus" in <commaSeparatedOauthScopes>`},
		},
		{
			name: "SFApiPlatform is an ECA spelling only",
			path: "A.connectedApp-meta.xml",
			doc:  "<ConnectedApp " + ns + "><oauthConfig><scopes>SFApiPlatform</scopes></oauthConfig></ConnectedApp>",
			want: []string{`A.connectedApp-meta.xml:1: unknown OAuth scope "SFApiPlatform" in <scopes>`},
		},
		{
			name: "permission entries without a name are dropped",
			path: "A.permissionset-meta.xml",
			doc:  "<PermissionSet " + ns + ">\n<userPermissions><enabled>true</enabled></userPermissions>\n<objectPermissions><allowRead>true</allowRead><allowEverything>true</allowEverything></objectPermissions>\n</PermissionSet>",
			want: []string{
				"A.permissionset-meta.xml:2: <userPermissions> has no <name>; entry ignored",
				"A.permissionset-meta.xml:3: unknown element <allowEverything> in <objectPermissions>",
				"A.permissionset-meta.xml:3: <objectPermissions> has no <object>; entry ignored",
			},
		},
		{
			name: "IP range without an end",
			path: "A.profile-meta.xml",
			doc:  "<Profile " + ns + ">\n<loginIpRanges><startAddress>10.0.0.1</startAddress></loginIpRanges>\n</Profile>",
			want: []string{"A.profile-meta.xml:2: <loginIpRanges> is missing <startAddress> or <endAddress>"},
		},
		{
			name: "long bad values are cut short",
			path: "A.profile-meta.xml",
			doc:  "<Profile " + ns + "><custom>" + strings.Repeat("y", 100) + "</custom></Profile>",
			want: []string{`A.profile-meta.xml:1: invalid boolean "` + strings.Repeat("y", 64) + `…" in <custom>; value ignored`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, warnings := parseOK(t, tt.path, tt.doc)
			if got := messages(warnings); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("warnings:\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

// schemaElements are the child elements the v67 XSDs allow at the top of
// each kind of document: none of them may produce an "unknown element"
// warning.
var schemaElements = map[string][]string{
	"A.connectedApp-meta.xml": {"attributes", "canvas", "canvasConfig", "contactEmail", "contactPhone", "description",
		"iconUrl", "infoUrl", "ipRanges", "label", "logoUrl", "mobileAppConfig", "mobileStartUrl", "oauthConfig",
		"oauthPolicy", "permissionSetName", "plugin", "pluginExecutionUser", "profileName", "samlConfig",
		"sessionPolicy", "startUrl"},
	"A.eca-meta.xml": {"contactEmail", "contactPhone", "description", "distributionState", "iconUrl", "infoUrl",
		"isProtected", "label", "logoUrl", "managedType", "orgScopedExternalApp"},
	"A.ecaGlblOauth-meta.xml": {"callbackUrl", "certificate", "consumerKey", "consumerSecret",
		"externalClientApplication", "idTokenConfig", "isClientCredentialsFlowEnabled", "isCodeCredFlowEnabled",
		"isCodeCredPostOnly", "isConsumerSecretOptional", "isDeviceFlowEnabled", "isEnforceRefreshTokenTTL",
		"isIntrospectAllTokens", "isNamedUserJwtEnabled", "isPkceRequired", "isRefreshTokenRotationEnabled",
		"isSecretRequiredForRefreshToken", "isSecretRequiredForTokenExchange", "isTokenExchangeEnabled", "label",
		"shouldRotateConsumerKey", "shouldRotateConsumerSecret"},
	"A.ecaOauth-meta.xml": {"areAttributesIncludedInAssetToken", "areCustomPermsIncludedInAssetToken",
		"assetTokenAudiences", "assetTokenSigningCertificate", "assetTokenValidity", "clientAssertionCertificate",
		"commaSeparatedCustomScopes", "commaSeparatedOauthScopes", "customAttributes", "externalClientApplication",
		"isFirstPartyAppEnabled", "label", "oauthLink", "singleLogoutUrl", "trustedIpRanges"},
	"A.ecaOauthPlcy-meta.xml": {"apexHandler", "clientCredentialsFlowUser", "commaSeparatedCustomScopes",
		"commaSeparatedPermissionSet", "commaSeparatedProfile", "customAttributes", "executeHandlerAs",
		"externalClientApplication", "guestJwtSessionTimeoutType", "guestJwtTimeout", "ipRelaxationPolicyType",
		"isClientCredentialsFlowEnabled", "isGuestCodeCredFlowEnabled", "isNamedUserJwtEnabled",
		"isTokenExchangeFlowEnabled", "label", "namedUserJwtSessionTimeoutType", "namedUserJwtTimeout",
		"permittedUsersPolicyType", "policyAction", "refreshTokenPolicyType", "refreshTokenValidityPeriod",
		"refreshTokenValidityUnit", "requiredSessionLevel", "sessionTimeoutInMinutes", "singleLogoutUrl", "startUrl"},
	"A.ecaPlcy-meta.xml": {"externalClientApplication", "isCanvasPluginEnabled", "isEnabled", "isMobilePluginEnabled",
		"isNotificationPluginEnabled", "isOauthPluginEnabled", "isPushPluginEnabled", "isSamlPluginEnabled", "label",
		"startPage", "startUrl"},
	"A.permissionset-meta.xml": {"agentAccesses", "applicationVisibilities", "classAccesses",
		"customMetadataTypeAccesses", "customPermissions", "customSettingAccesses", "description",
		"emailRoutingAddressAccesses", "externalCredentialPrincipalAccesses", "externalDataSourceAccesses",
		"fieldPermissions", "flowAccesses", "genComputingSummaryDefAccesses", "hasActivationRequired", "label",
		"license", "userLicense", "objectPermissions", "pageAccesses", "recordTypeVisibilities",
		"servicePresenceStatusAccesses", "tabSettings", "userPermissions"},
	"A.permissionsetgroup-meta.xml": {"description", "hasActivationRequired", "label", "mutingPermissionSets",
		"permissionSets", "status"},
	"A.profile-meta.xml": {"agentAccesses", "applicationVisibilities", "categoryGroupVisibilities", "classAccesses",
		"custom", "customMetadataTypeAccesses", "customPermissions", "customSettingAccesses", "description",
		"externalDataSourceAccesses", "fieldPermissions", "flowAccesses", "genComputingSummaryDefAccesses",
		"layoutAssignments", "loginFlows", "loginHours", "loginIpRanges", "objectPermissions", "pageAccesses",
		"profileActionOverrides", "recordTypeVisibilities", "servicePresenceStatusAccesses", "tabVisibilities",
		"userLicense", "userPermissions"},
}

// nestedSchemaElements are the schema children of the nested elements
// Steward reads.
var nestedSchemaElements = map[string][]string{
	"oauthConfig": {"assetTokenConfig", "callbackUrl", "certificate", "consumerKey", "consumerSecret", "idTokenConfig",
		"isAdminApproved", "isClientCredentialEnabled", "isCodeCredentialEnabled", "isCodeCredentialPostOnly",
		"isConsumerSecretOptional", "isIntrospectAllTokens", "isNamedUserJwtEnabled", "isPkceRequired",
		"isRefreshTokenRotationEnabled", "isSecretRequiredForRefreshToken", "isSecretRequiredForTokenExchange",
		"isTokenExchangeEnabled", "oauthClientCredentialUser", "scopes", "singleLogoutUrl"},
	"oauthPolicy":   {"ipRelaxation", "isTokenExchangeFlowEnabled", "refreshTokenPolicy", "singleLogoutUrl"},
	"sessionPolicy": {"policyAction", "sessionLevel", "sessionTimeout"},
}

func TestParseAcceptsSchemaElements(t *testing.T) {
	root := func(path string) string { return Kind(path) }
	for path, names := range schemaElements {
		var b strings.Builder
		b.WriteString("<" + root(path) + ` xmlns="http://soap.sforce.com/2006/04/metadata">`)
		for _, n := range names {
			inner := ""
			if kids, ok := nestedSchemaElements[n]; ok && path == "A.connectedApp-meta.xml" {
				for _, k := range kids {
					inner += "<" + k + "/>"
				}
			}
			// Children of elements Steward ignores are not inspected.
			b.WriteString("<" + n + ">" + inner + "<notInspected/></" + n + ">")
		}
		b.WriteString("</" + root(path) + ">")
		_, warnings, err := Parse(path, []byte(b.String()))
		if err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		for _, w := range warnings {
			if strings.Contains(w.Message, "unknown element") && !strings.Contains(w.Message, "<notInspected>") {
				t.Errorf("%s: %s", path, w.Message)
			}
		}
	}
}

func TestParseOrderInsensitive(t *testing.T) {
	parts := []string{
		"<label>Order</label>",
		"<oauthConfig><scopes>Api</scopes><isClientCredentialEnabled>true</isClientCredentialEnabled><oauthClientCredentialUser>u@example.com</oauthClientCredentialUser></oauthConfig>",
		"<profileName>P</profileName>",
		"<oauthPolicy><refreshTokenPolicy>zero</refreshTokenPolicy><ipRelaxation>ENFORCE</ipRelaxation></oauthPolicy>",
	}
	build := func(order []int) *ConnectedApp {
		doc := `<ConnectedApp xmlns="http://soap.sforce.com/2006/04/metadata">`
		for _, i := range order {
			doc += parts[i]
		}
		rec, warnings := parseOK(t, "O.connectedApp-meta.xml", doc+"</ConnectedApp>")
		if len(warnings) != 0 {
			t.Fatalf("warnings: %v", warnings)
		}
		return rec.(*ConnectedApp)
	}
	a, b := build([]int{0, 1, 2, 3}), build([]int{3, 2, 1, 0})
	if !reflect.DeepEqual(a, b) {
		t.Errorf("order changed the result:\n%+v\n%+v", a, b)
	}
	if !a.ClientCredentialEnabled.True() || a.ClientCredentialUser.Value != "u@example.com" || a.RefreshTokenPolicy.Value != "zero" {
		t.Errorf("app = %+v", a)
	}
}

func TestParseRecordTypes(t *testing.T) {
	const ns = `xmlns="http://soap.sforce.com/2006/04/metadata"`
	rec, _ := parseOK(t, "dir/No_Setup.mutingpermissionset-meta.xml", "<MutingPermissionSet "+ns+"/>")
	if ps, ok := rec.(*PermissionSet); !ok || !ps.Muting || ps.Name != "No_Setup" || ps.File != "dir/No_Setup.mutingpermissionset-meta.xml" {
		t.Errorf("muting permission set = %#v", rec)
	}
	rec, _ = parseOK(t, "X_oauth.ecaOauth-meta.xml", "<ExtlClntAppOauthSettings "+ns+"><externalClientApplication> X </externalClientApplication></ExtlClntAppOauthSettings>")
	if e, ok := rec.(*ECA); !ok || e.Name != "X" || e.OAuth == nil || e.OAuth.App != "X" || e.Header != nil {
		t.Errorf("ECA part = %#v", rec)
	}
	// A byte-order mark and CRLF line ends are accepted.
	rec, _ = parseOK(t, "B.profile-meta.xml", "\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"utf-8\" ?>\r\n<Profile "+ns+">\r\n<userLicense>Salesforce</userLicense>\r\n</Profile>\r\n")
	if p, ok := rec.(*Profile); !ok || p.UserLicense != (Text{"Salesforce", 3}) {
		t.Errorf("profile = %#v", rec)
	}
	if _, _, err := Parse("notes.txt", []byte("<x/>")); err == nil {
		t.Errorf("Parse of a non-metadata path succeeded")
	}
}

func TestParseLimits(t *testing.T) {
	big := make([]byte, DefaultMaxFileSize+1)
	_, _, err := Parse("Big.profile-meta.xml", big)
	var fe *FileError
	if !errors.As(err, &fe) || !errors.Is(err, ErrTooLarge) || fe.Error() != "Big.profile-meta.xml: file too large: file is 10485761 bytes, over the 10 MiB limit" {
		t.Errorf("err = %v", err)
	}

	// Many elements, each shallow: the element cap stops them.
	doc := `<Profile xmlns="http://soap.sforce.com/2006/04/metadata">` + strings.Repeat("<a/>", maxElements) + "</Profile>"
	_, _, err = Parse("Many.profile-meta.xml", []byte(doc))
	if !errors.As(err, &fe) || !errors.Is(err, ErrTooComplex) || fe.Line != 1 {
		t.Errorf("err = %v", err)
	}
}
