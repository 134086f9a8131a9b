// Package sprawltest makes fake Salesforce credentials in every format the
// sprawl scanner detects, planted in the kinds of files they leak into,
// together with what a scanner must report for each, and near misses that
// it must not report. Tests and the benchmark corpus generator share it.
// The values are random and were never issued by Salesforce.
package sprawltest

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strings"
)

// Expect is one credential a scanner must report.
type Expect struct {
	Kind   string // the sprawl.Kind value
	Line   int    // 1-based line within Sample.Text
	Secret string // the full value, which no output may contain
	// Shown is how many leading bytes of Secret a redacted excerpt may
	// show (a format prefix or an org ID).
	Shown int
}

// Sample is a file fragment holding credentials, or holding none.
type Sample struct {
	Format string   // what the sample shows, e.g. "env-client-secret"
	Name   string   // a file name for it, e.g. ".env" or "Billing.connectedApp-meta.xml"
	Text   string   // the file content
	Expect []Expect // what must be found; empty for near misses
}

// Gen makes deterministic fake credentials from a seed.
type Gen struct{ r *rand.Rand }

// New returns a generator seeded with seed.
func New(seed uint64) *Gen { return &Gen{r: rand.New(rand.NewPCG(seed, seed^0x5eed))} }

const (
	alnum    = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	keyChars = alnum + "._"
	upperHex = "0123456789ABCDEF"
)

func (g *Gen) pick(set string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = set[g.r.IntN(len(set))]
	}
	return string(b)
}

// ConsumerKey returns an 85-character consumer key, 3MVG9….
func (g *Gen) ConsumerKey() string {
	return "3MVG9" + g.pick(alnum, 1) + g.pick(keyChars, 78) + g.pick(alnum, 1)
}

// HexSecret returns a 64-digit uppercase hex consumer secret.
func (g *Gen) HexSecret() string { return g.pick(upperHex, 64) }

// DecimalSecret returns a 19-digit decimal consumer secret.
func (g *Gen) DecimalSecret() string { return g.pick("123456789", 1) + g.pick("0123456789", 18) }

// CustomSecret returns a chosen alphanumeric secret of n characters with
// letters and digits.
func (g *Gen) CustomSecret(n int) string {
	return g.pick("ABCDEFGHJKLMNPQRSTUVWXYZ", 1) + g.pick(alnum, n-3) + g.pick("23456789", 2)
}

// OrgID returns a 15-character org ID.
func (g *Gen) OrgID() string { return "00D" + g.pick(alnum, 12) }

// AccessToken returns an opaque access token: org ID, "!", 96 characters.
func (g *Gen) AccessToken() string {
	return g.OrgID() + "!" + g.pick(alnum, 1) + g.pick(keyChars, 94) + g.pick(alnum, 1)
}

// RefreshToken returns an 87-character refresh token, 5Aep….
func (g *Gen) RefreshToken() string {
	return "5Aep861" + g.pick(alnum, 1) + g.pick(keyChars, 78) + g.pick(alnum, 1)
}

// Domain returns a My Domain host name.
func (g *Gen) Domain() string {
	return strings.ToLower(g.pick("abcdefghijklmnopqrstuvwxyz", 6)) + ".my.salesforce.com"
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// wrap breaks s into lines of width characters, each indented.
func wrap(s string, width int, indent string) string {
	var b strings.Builder
	for len(s) > width {
		b.WriteString(indent + s[:width] + "\n")
		s = s[width:]
	}
	b.WriteString(indent + s)
	return b.String()
}

// Samples returns one sample of every credential format.
func (g *Gen) Samples() []Sample {
	key, key2, key3 := g.ConsumerKey(), g.ConsumerKey(), g.ConsumerKey()
	hexSec, decSec, custom := g.HexSecret(), g.DecimalSecret(), g.CustomSecret(24)
	tok, ref, dom := g.AccessToken(), g.RefreshToken(), g.Domain()
	k := func(line int) Expect { return Expect{Kind: "consumer-key", Line: line, Secret: key, Shown: 9} }
	sec := func(line int, s string) Expect { return Expect{Kind: "consumer-secret", Line: line, Secret: s} }
	bundleKey, bundleSecret := key2, g.HexSecret()
	bundle := bundleKey + ":" + bundleSecret
	jsonBundle := fmt.Sprintf(`{"client_id":"%s","client_secret":"%s","instance_url":"https://%s"}`, key3, hexSec, dom)
	mdSecret := g.CustomSecret(20)
	ecaSecret := g.HexSecret()
	fieldSecret := g.HexSecret()
	cmdtSecret := g.CustomSecret(32)
	nearSecret := g.DecimalSecret()
	urlSecret := g.HexSecret()
	curlSecret := g.CustomSecret(16)
	nested := g.HexSecret()
	return []Sample{
		{
			Format: "connected-app-metadata", Name: "Billing_Sync.connectedApp-meta.xml",
			Text: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ConnectedApp xmlns=\"http://soap.sforce.com/2006/04/metadata\">\n" +
				"    <label>Billing Sync</label>\n    <oauthConfig>\n        <callbackUrl>https://localhost/cb</callbackUrl>\n" +
				"        <consumerKey>" + key + "</consumerKey>\n        <consumerSecret>" + mdSecret + "</consumerSecret>\n" +
				"        <isClientCredentialEnabled>true</isClientCredentialEnabled>\n    </oauthConfig>\n</ConnectedApp>\n",
			Expect: []Expect{k(6), sec(7, mdSecret)},
		},
		{
			Format: "eca-global-oauth-metadata", Name: "Billing_global.ecaGlblOauth-meta.xml",
			Text: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ExtlClntAppGlobalOauthSettings xmlns=\"http://soap.sforce.com/2006/04/metadata\">\n" +
				"    <callbackUrl>https://localhost/cb</callbackUrl>\n    <consumerSecret>" + ecaSecret + "</consumerSecret>\n" +
				"    <externalClientApplication>Billing</externalClientApplication>\n</ExtlClntAppGlobalOauthSettings>\n",
			Expect: []Expect{sec(4, ecaSecret)},
		},
		{
			Format: "env-client-secret", Name: ".env",
			Text:   "# Salesforce integration\nSF_LOGIN_URL=https://" + dom + "\nSF_CLIENT_ID=" + key + "\nSF_CLIENT_SECRET=" + hexSec + "\nLOG_LEVEL=info\n",
			Expect: []Expect{k(3), sec(4, hexSec)},
		},
		{
			Format: "properties-decimal-secret", Name: "application.properties",
			Text:   "server.port=8080\nsalesforce.consumer.key=" + key + "\nsalesforce.consumer.secret=" + decSec + "\n",
			Expect: []Expect{k(2), sec(3, decSec)},
		},
		{
			Format: "yaml-custom-secret", Name: "integration.yaml",
			Text:   "salesforce:\n  instance_url: https://" + dom + "\n  client_secret: \"" + custom + "\"\n  api_version: \"62.0\"\n",
			Expect: []Expect{sec(3, custom)},
		},
		{
			Format: "shell-access-token", Name: "call-api.sh",
			Text:   "#!/bin/sh\nexport SF_ACCESS_TOKEN='" + tok + "'\ncurl -H \"Authorization: Bearer $SF_ACCESS_TOKEN\" https://" + dom + "/services/data/v62.0/limits\n",
			Expect: []Expect{{Kind: "access-token", Line: 2, Secret: tok, Shown: 16}},
		},
		{
			Format: "json-refresh-token", Name: "token-cache.json",
			Text:   "{\n  \"instance_url\": \"https://" + dom + "\",\n  \"refresh_token\": \"" + ref + "\"\n}\n",
			Expect: []Expect{{Kind: "refresh-token", Line: 3, Secret: ref, Shown: 4}},
		},
		{
			Format: "sfdx-auth-url", Name: "authUrl.txt",
			Text:   "force://PlatformCLI:" + urlSecret + ":" + g.RefreshToken() + "@" + dom + "\n",
			Expect: []Expect{{Kind: "sfdx-auth-url", Line: 1, Secret: urlSecret}},
		},
		{
			Format: "authorization-basic-header", Name: "token.http",
			Text:   "POST https://" + dom + "/services/oauth2/token\nAuthorization: Basic " + b64(bundle) + "\nContent-Type: application/x-www-form-urlencoded\n\ngrant_type=client_credentials\n",
			Expect: []Expect{{Kind: "client-credentials", Line: 2, Secret: bundleSecret}},
		},
		{
			Format: "env-basic-credentials", Name: "ci.env",
			Text:   "SF_BASIC_AUTH=" + b64(bundle) + "\n",
			Expect: []Expect{{Kind: "client-credentials", Line: 1, Secret: bundleSecret}},
		},
		{
			Format: "curl-user-pair", Name: "get-token.sh",
			Text:   "curl -s -u " + key + ":" + curlSecret + " -d grant_type=client_credentials https://" + dom + "/services/oauth2/token\n",
			Expect: []Expect{{Kind: "client-credentials", Line: 1, Secret: curlSecret}},
		},
		{
			Format: "kubernetes-secret-base64-json", Name: "sf-credentials.yaml",
			Text: "apiVersion: v1\nkind: Secret\nmetadata:\n  name: sf-credentials\ntype: Opaque\ndata:\n  credentials.json: " + b64(jsonBundle) + "\n",
			Expect: []Expect{
				{Kind: "consumer-key", Line: 7, Secret: key3},
				{Kind: "consumer-secret", Line: 7, Secret: hexSec},
			},
		},
		{
			Format: "wrapped-base64-json", Name: "values.yaml",
			Text: "salesforce:\n  bundle: |\n" + wrap(b64(jsonBundle), 76, "    ") + "\n",
			Expect: []Expect{
				{Kind: "consumer-key", Line: 3, Secret: key3},
				{Kind: "consumer-secret", Line: 3, Secret: hexSec},
			},
		},
		{
			Format: "nested-base64", Name: "deploy.env",
			Text:   "SF_BUNDLE=" + b64(b64(key+":"+nested)) + "\n",
			Expect: []Expect{{Kind: "client-credentials", Line: 1, Secret: nested}},
		},
		{
			Format: "custom-field-default", Name: "Consumer_Secret__c.field-meta.xml",
			Text: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CustomField xmlns=\"http://soap.sforce.com/2006/04/metadata\">\n" +
				"    <fullName>Consumer_Secret__c</fullName>\n    <defaultValue>\"" + fieldSecret + "\"</defaultValue>\n" +
				"    <label>Consumer Secret</label>\n    <length>255</length>\n    <type>Text</type>\n</CustomField>\n",
			Expect: []Expect{sec(4, fieldSecret)},
		},
		{
			Format: "custom-metadata-record", Name: "SF_Config.Default.md-meta.xml",
			Text: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CustomMetadata xmlns=\"http://soap.sforce.com/2006/04/metadata\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\">\n" +
				"    <label>Default</label>\n    <values>\n        <field>Client_Secret__c</field>\n" +
				"        <value xsi:type=\"xsd:string\">" + cmdtSecret + "</value>\n    </values>\n</CustomMetadata>\n",
			Expect: []Expect{sec(6, cmdtSecret)},
		},
		{
			Format: "secret-next-to-key", Name: "settings.py",
			Text:   "SALESFORCE = (\n    \"" + key + "\",\n    \"" + nearSecret + "\",\n)\n",
			Expect: []Expect{k(2), sec(3, nearSecret)},
		},
	}
}

// NearMisses returns text that looks like credentials but is not: docs
// placeholders, other providers' secrets, hashes and IDs, references to a
// secret field without a value. A scanner must report none of it.
func (g *Gen) NearMisses() []Sample {
	sha := strings.ToLower(g.pick(upperHex, 64))
	return []Sample{
		{Format: "placeholder-metadata", Name: "Thespis.connectedApp-meta.xml", Text: "<ConnectedApp>\n    <oauthConfig>\n        <consumerKey>YOUR_CONSUMER_KEY_WILL_BE_GENERATED</consumerKey>\n        <consumerSecret>YOUR_CONSUMER_SECRET</consumerSecret>\n        <isConsumerSecretOptional>false</isConsumerSecretOptional>\n    </oauthConfig>\n</ConnectedApp>\n"},
		{Format: "truncated-key-in-docs", Name: "README.md", Text: "Set `SF_CLIENT_ID` to your consumer key (it looks like `3MVG9AOp4kbriZOcnmoLmTrguy9ryzcLbBjoNY...`)\nand `SF_CLIENT_SECRET` to the consumer secret.\nThe SFDX auth URL has the form force://<clientId>:<clientSecret>:<refreshToken>@<instanceUrl>.\n"},
		{Format: "template-values", Name: "deploy.tmpl.env", Text: "SF_CLIENT_ID=${SF_CLIENT_ID}\nSF_CLIENT_SECRET={{ .Values.salesforce.clientSecret }}\nclient_secret: os.environ[\"SF_CLIENT_SECRET\"]\n"},
		{Format: "other-provider-secret", Name: "oauth.json", Text: "{\"web\":{\"client_id\":\"1234567890-abc.apps.googleusercontent.com\",\"client_secret\":\"GOCSPX-" + g.pick(alnum, 28) + "\"}}\n"},
		{Format: "github-client-secret", Name: "github.env", Text: "GITHUB_CLIENT_ID=Iv1." + strings.ToLower(g.pick(upperHex, 16)) + "\nGITHUB_CLIENT_SECRET=" + strings.ToLower(g.pick(upperHex, 40)) + "\n"},
		{Format: "hash-near-secret-word", Name: "checksums.txt", Text: "secret_hash: " + sha + "\nclient_secret_sha256: " + sha + "\n"},
		{Format: "snowflake-ids", Name: "events.json", Text: "[{\"id\": 1955279925675241571, \"user\": 1234567890123456789}]\n"},
		{Format: "org-id-without-token", Name: "orgs.csv", Text: "name,org_id\nAcme," + g.OrgID() + "\nhex,0x00D0FFAA\n"},
		{Format: "field-permission-reference", Name: "Agent.permissionset-meta.xml", Text: "<PermissionSet>\n    <fieldPermissions>\n        <editable>false</editable>\n        <field>Agent_Assist_Config__c.Consumer_Secret__c</field>\n        <readable>true</readable>\n    </fieldPermissions>\n</PermissionSet>\n"},
		{Format: "basic-user-password", Name: "basic.http", Text: "GET https://example.org/\nAuthorization: Basic " + b64("admin:"+g.pick(alnum, 12)) + "\n"},
		{Format: "random-base64", Name: "blob.json", Text: "{\"data\": \"" + base64.StdEncoding.EncodeToString([]byte(g.pick(alnum+"\x00\x01\x02\xff\xfe", 600))) + "\"}\n"},
		{Format: "short-refresh-like", Name: "notes.txt", Text: "session 5Aep861abc was rotated; key 3MVG9xyz is the test app\n"},
		{Format: "uuid-hex", Name: "ids.go", Text: "const id = \"" + hex.EncodeToString([]byte(g.pick(alnum, 32))) + "\"\n"},
	}
}
