package fakeorg

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func envelope(session, body string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns="http://soap.sforce.com/2006/04/metadata">
  <soapenv:Header><SessionHeader><sessionId>` + session + `</sessionId></SessionHeader></soapenv:Header>
  <soapenv:Body>` + body + `</soapenv:Body>
</soapenv:Envelope>`
}

func (o *testOrg) soap(t testing.TB, body string) response {
	t.Helper()
	return o.do(t, http.MethodPost, "/services/Soap/m/62.0", "", strings.NewReader(body), map[string]string{"Content-Type": "text/xml; charset=UTF-8", "SOAPAction": `""`})
}

// faultOf decodes a SOAP fault.
func faultOf(t testing.TB, r response) (code, msg string) {
	t.Helper()
	var env struct {
		Body struct {
			Fault struct {
				Code   string `xml:"faultcode"`
				String string `xml:"faultstring"`
			} `xml:"Fault"`
		} `xml:"Body"`
	}
	if err := xml.Unmarshal(r.body, &env); err != nil {
		t.Fatalf("decode fault %s: %v", r.body, err)
	}
	return env.Body.Fault.Code, env.Body.Fault.String
}

func TestReadMetadata(t *testing.T) {
	t.Parallel()
	o := startBasic(t)
	tok := o.login(t, scannerKey, scannerSecret)
	r := o.soap(t, envelope(tok, `<readMetadata><type>ConnectedApp</type><fullNames>Scanner</fullNames><fullNames>Missing</fullNames></readMetadata>`))
	if r.status != 200 || r.header.Get("Content-Type") != "text/xml;charset=UTF-8" {
		t.Fatalf("readMetadata: %d %s", r.status, r.body)
	}
	body := string(r.body)
	for _, want := range []string{
		`<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="http://soap.sforce.com/2006/04/metadata" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">`,
		`<records xsi:type="ConnectedApp"><fullName>Scanner</fullName><contactEmail>sec@test.example</contactEmail><label>Scanner App</label><oauthConfig>`,
		`<isClientCredentialEnabled>true</isClientCredentialEnabled>`,
		`<oauthClientCredentialUser>scanner@test.example</oauthClientCredentialUser><scopes>Api</scopes></oauthConfig>`,
		`<permissionSetName>Scanner_PS</permissionSetName><sessionPolicy><sessionTimeout>15</sessionTimeout></sessionPolicy></records>`,
		`<records xsi:nil="true"></records>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("response lacks %s\n%s", want, body)
		}
	}
	if strings.Contains(body, "consumerSecret") || strings.Contains(body, scannerSecret) {
		t.Error("readMetadata returned a consumer secret")
	}
}

func TestReadMetadataECA(t *testing.T) {
	t.Parallel()
	o := startBasic(t)
	tok := o.login(t, scannerKey, scannerSecret)
	tests := []struct{ typ, name, want string }{
		{"ExternalClientApplication", "Billing", `<records xsi:type="ExternalClientApplication"><fullName>Billing</fullName><distributionState>Local</distributionState><isProtected>false</isProtected><label>Billing Sync</label></records>`},
		{"ExtlClntAppOauthSettings", "Billing_oauth", `<commaSeparatedOauthScopes>Api, Basic</commaSeparatedOauthScopes><externalClientApplication>Billing</externalClientApplication><label>Billing Sync OAuth settings</label><trustedIpRanges><description>NAT</description><endIpAddress>203.0.113.20</endIpAddress><startIpAddress>203.0.113.10</startIpAddress></trustedIpRanges>`},
		{"ExtlClntAppGlobalOauthSettings", "Billing_glbl", `<consumerKey>3MVG9billingKEY</consumerKey><externalClientApplication>Billing</externalClientApplication><isClientCredentialsFlowEnabled>true</isClientCredentialsFlowEnabled>`},
		{"ExtlClntAppOauthConfigurablePolicies", "Billing_plcy", `<clientCredentialsFlowUser>billing@test.example</clientCredentialsFlowUser><externalClientApplication>Billing</externalClientApplication><ipRelaxationPolicyType>Enforce</ipRelaxationPolicyType><isClientCredentialsFlowEnabled>true</isClientCredentialsFlowEnabled>`},
		{"ExtlClntAppConfigurablePolicies", "Billing_plcy", `<externalClientApplication>Billing</externalClientApplication><isEnabled>true</isEnabled><isOauthPluginEnabled>true</isOauthPluginEnabled><label>Billing Sync policies</label>`},
	}
	for _, tt := range tests {
		r := o.soap(t, envelope(tok, fmt.Sprintf(`<readMetadata><type>%s</type><fullNames>%s</fullNames></readMetadata>`, tt.typ, tt.name)))
		if r.status != 200 || !strings.Contains(string(r.body), tt.want) {
			t.Errorf("%s %s: %d\n%s\nwant %s", tt.typ, tt.name, r.status, r.body, tt.want)
		}
		if strings.Contains(string(r.body), billingSecret) {
			t.Errorf("%s returned the consumer secret", tt.typ)
		}
	}
}

func TestListMetadata(t *testing.T) {
	t.Parallel()
	o := startBasic(t)
	tok := o.login(t, scannerKey, scannerSecret)
	r := o.soap(t, envelope(tok, `<listMetadata><queries><type>ConnectedApp</type></queries><queries><type>ExtlClntAppOauthConfigurablePolicies</type></queries><queries><type>ApexClass</type></queries><asOfVersion>62.0</asOfVersion></listMetadata>`))
	var env struct {
		Body struct {
			Resp struct {
				Result []struct {
					FullName        string `xml:"fullName"`
					FileName        string `xml:"fileName"`
					Type            string `xml:"type"`
					ID              string `xml:"id"`
					ManageableState string `xml:"manageableState"`
					CreatedDate     string `xml:"createdDate"`
					CreatedByName   string `xml:"createdByName"`
				} `xml:"result"`
			} `xml:"listMetadataResponse"`
		} `xml:"Body"`
	}
	if err := xml.Unmarshal(r.body, &env); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, res := range env.Body.Resp.Result {
		got = append(got, res.Type+" "+res.FullName+" "+res.FileName)
	}
	want := []string{
		"ConnectedApp Erp_Sync connectedApps/Erp_Sync.connectedApp",
		"ConnectedApp Full_Only connectedApps/Full_Only.connectedApp",
		"ConnectedApp Inactive_Run_As connectedApps/Inactive_Run_As.connectedApp",
		"ConnectedApp No_Run_As connectedApps/No_Run_As.connectedApp",
		"ConnectedApp Not_CC connectedApps/Not_CC.connectedApp",
		"ConnectedApp Scanner connectedApps/Scanner.connectedApp",
		"ExtlClntAppOauthConfigurablePolicies Billing_plcy extlClntAppOauthPolicies/Billing_plcy.ecaOauthPlcy",
		"ExtlClntAppOauthConfigurablePolicies Half_plcy extlClntAppOauthPolicies/Half_plcy.ecaOauthPlcy",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("listMetadata (-want +got):\n%s", diff)
	}
	first := env.Body.Resp.Result[0]
	if first.CreatedDate != "2025-01-02T03:04:05.000Z" || first.ManageableState != "unmanaged" || !strings.HasPrefix(first.ID, "0H4") || first.CreatedByName != "Ada Admin" {
		t.Errorf("file properties %+v", first)
	}
}

func TestSOAPErrors(t *testing.T) {
	t.Parallel()
	o := startBasic(t)
	tok := o.login(t, scannerKey, scannerSecret)
	names := strings.Repeat("<fullNames>Scanner</fullNames>", 11)
	tests := []struct {
		name, body, code string
	}{
		{"no session", envelope("", `<readMetadata><type>ConnectedApp</type></readMetadata>`), "sf:INVALID_SESSION_ID"},
		{"bad session", envelope("00D000000000001!bad", `<readMetadata><type>ConnectedApp</type></readMetadata>`), "sf:INVALID_SESSION_ID"},
		{"too many names", envelope(tok, `<readMetadata><type>ConnectedApp</type>`+names+`</readMetadata>`), "sf:LIMIT_EXCEEDED"},
		{"unknown type", envelope(tok, `<readMetadata><type>Nope</type><fullNames>x</fullNames></readMetadata>`), "sf:INVALID_TYPE"},
		{"unknown operation", envelope(tok, `<deploy/>`), "soapenv:Client"},
		{"not xml", "hello", "soapenv:Client"},
		{"not an envelope", `<Envelope><Body><readMetadata/></Body></Envelope>`, "soapenv:Client"},
		{"two operations", envelope(tok, `<readMetadata/><listMetadata/>`), "soapenv:Client"},
		{"entity", `<!DOCTYPE x [<!ENTITY e "boom">]>` + envelope(tok, `<readMetadata><type>&e;</type></readMetadata>`), "soapenv:Client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := o.soap(t, tt.body)
			code, msg := faultOf(t, r)
			if r.status != 500 || code != tt.code {
				t.Errorf("got %d %s %q, want 500 %s", r.status, code, msg, tt.code)
			}
		})
	}
	code, msg := faultOf(t, o.soap(t, envelope("x", `<readMetadata/>`)))
	if code != "sf:INVALID_SESSION_ID" || msg != "INVALID_SESSION_ID: Invalid Session ID found in SessionHeader: Illegal Session" {
		t.Errorf("fault %s %q", code, msg)
	}
}

func FuzzDecodeSOAP(f *testing.F) {
	f.Add(envelope("00D000000000001!tok", `<readMetadata><type>ConnectedApp</type><fullNames>A</fullNames></readMetadata>`))
	f.Add(envelope("x", `<listMetadata><queries><type>ConnectedApp</type></queries><asOfVersion>62.0</asOfVersion></listMetadata>`))
	f.Add(envelope("", `<readMetadata/><listMetadata/>`))
	f.Add(`<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "a">]><x>&e;</x>`)
	f.Add(`<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><other xmlns="urn:x"/></soapenv:Body></soapenv:Envelope>`)
	f.Fuzz(func(t *testing.T, body string) {
		req, op, err := decodeSOAP(strings.NewReader(body))
		if err != nil {
			return
		}
		if req.XMLName.Space != nsSOAPEnv || op.XMLName.Space != nsMetadata {
			t.Errorf("accepted an envelope outside the namespaces: %q %q", req.XMLName.Space, op.XMLName.Space)
		}
	})
}
