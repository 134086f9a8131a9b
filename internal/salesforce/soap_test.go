package salesforce

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/steward-dev/steward/internal/salesforce/metadata"
)

// requestEnvelope is a Metadata API request as the fake org reads it.
type requestEnvelope struct {
	Session string `xml:"Header>SessionHeader>sessionId"`
	List    *struct {
		Queries     []ListMetadataQuery `xml:"queries"`
		AsOfVersion string              `xml:"asOfVersion"`
	} `xml:"Body>listMetadata"`
	Read *struct {
		Type      string   `xml:"type"`
		FullNames []string `xml:"fullNames"`
	} `xml:"Body>readMetadata"`
}

func parseEnvelope(body []byte) (*requestEnvelope, error) {
	var env requestEnvelope
	d := xml.NewDecoder(strings.NewReader(string(body)))
	d.Strict = true
	if err := d.Decode(&env); err != nil {
		return nil, err
	}
	return &env, nil
}

const soapPath = "POST /services/Soap/m/67.0"

func TestListMetadataSplitsQueries(t *testing.T) {
	t.Parallel()
	o := newFakeOrg(t)
	var batches [][]string
	o.route(soapPath, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("SOAPAction") != `""` || r.Header.Get("Content-Type") != "text/xml; charset=UTF-8" {
			t.Errorf("headers: SOAPAction %q, Content-Type %q", r.Header.Get("SOAPAction"), r.Header.Get("Content-Type"))
		}
		body, _ := io.ReadAll(r.Body)
		env, err := parseEnvelope(body)
		if err != nil || env.List == nil {
			t.Errorf("request envelope: %v", err)
			return
		}
		if env.List.AsOfVersion != "67.0" {
			t.Errorf("asOfVersion %q", env.List.AsOfVersion)
		}
		var types []string
		for _, q := range env.List.Queries {
			types = append(types, q.Type+"/"+q.Folder)
		}
		batches = append(batches, types)
		writeFixture(t, w, http.StatusOK, "soap/list-response.xml")
	})
	c, _, _ := testClient(t, o)
	var qs []ListMetadataQuery
	for i := range 7 {
		qs = append(qs, ListMetadataQuery{Type: fmt.Sprintf("T%d", i)})
	}
	qs[6].Folder = "a<b"
	props, err := c.ListMetadata(context.Background(), qs...)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"T0/", "T1/", "T2/"}, {"T3/", "T4/", "T5/"}, {"T6/a<b"}}
	if fmt.Sprint(batches) != fmt.Sprint(want) {
		t.Errorf("batches %v, want %v", batches, want)
	}
	if len(props) != 6 || c.Calls() != 3 {
		t.Fatalf("%d properties over %d calls, want 6 over 3", len(props), c.Calls())
	}
	p := props[1]
	if p.FullName != "HelloSend__HelloSend" || p.NamespacePrefix != "HelloSend" || p.ManageableState != "installed" ||
		p.FileName != "connectedApps/HelloSend__HelloSend.connectedApp" || p.CreatedDate.Year() != 2023 || p.Type != "ConnectedApp" {
		t.Errorf("second record: %+v", p)
	}
}

func TestReadMetadata(t *testing.T) {
	t.Parallel()
	o := newFakeOrg(t)
	var batches [][]string
	o.route(soapPath, func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		env, err := parseEnvelope(body)
		if err != nil || env.Read == nil {
			t.Errorf("request envelope: %v", err)
			return
		}
		batches = append(batches, env.Read.FullNames)
		writeFixture(t, w, http.StatusOK, "soap/read-response.xml")
	})
	c, _, _ := testClient(t, o)
	var names []string
	for i := range 23 {
		names = append(names, fmt.Sprintf("App_%d", i))
	}
	recs, err := c.ReadMetadata(context.Background(), "ConnectedApp", names)
	if err != nil {
		t.Fatal(err)
	}
	if len(batches) != 3 || len(batches[0]) != 10 || len(batches[1]) != 10 || !slices.Equal(batches[2], names[20:]) {
		t.Errorf("batches %v", batches)
	}
	if len(recs) != 9 {
		t.Fatalf("%d records, want 9", len(recs))
	}
	got := recs[:3]
	if got[0].FullName != "ERP_Sync" || got[0].XSIType != "ConnectedApp" || got[0].Nil {
		t.Errorf("record 0: %+v", got[0])
	}
	if got[1].FullName != "Missing_App" || !got[1].Nil {
		t.Errorf("record 1 (fullName only) should be Nil: %+v", got[1])
	}
	if !got[2].Nil || got[2].FullName != "" {
		t.Errorf("record 2 (xsi:nil) should be Nil: %+v", got[2])
	}
	if strings.Contains(string(got[0].Inner), "fullName") || !strings.HasPrefix(string(got[0].Inner), "<contactEmail>") {
		t.Errorf("inner XML should start at contactEmail without fullName:\n%s", got[0].Inner)
	}
}

// TestRecordDocumentParses wraps a readMetadata ConnectedApp record and
// parses it with the metadata package, as discovery does.
func TestRecordDocumentParses(t *testing.T) {
	t.Parallel()
	recs, err := decodeReadMetadata(fixture(t, "soap/read-response.xml"))
	if err != nil {
		t.Fatal(err)
	}
	path, data, err := recs[0].Document()
	if err != nil {
		t.Fatal(err)
	}
	if path != "ERP_Sync.connectedApp" || metadata.Kind(path) != metadata.KindConnectedApp {
		t.Errorf("path %q, kind %q", path, metadata.Kind(path))
	}
	rec, warnings, err := metadata.Parse(path, data)
	if err != nil {
		t.Fatalf("Parse: %v\n%s", err, data)
	}
	if len(warnings) != 0 {
		t.Errorf("warnings: %v", warnings)
	}
	app, ok := rec.(*metadata.ConnectedApp)
	if !ok {
		t.Fatalf("record is %T", rec)
	}
	if app.Name != "ERP_Sync" || !app.ClientCredentialEnabled.True() || app.ClientCredentialUser.Value != "erp.integration@example.com.prod" ||
		app.SessionTimeout.Value != 15 || len(app.Scopes) != 1 || app.Scopes[0].Name != "Api" || app.IPRelaxation.Value != "ENFORCE" ||
		!slices.Equal(app.PermissionSets, []string{"ERP_Integration"}) {
		t.Errorf("parsed app: %+v", app)
	}
	for _, r := range recs[1:] {
		if _, _, err := r.Document(); err == nil {
			t.Errorf("Document of a missing record %q succeeded", r.FullName)
		}
	}
	odd := MetadataRecord{FullName: "x", XSIType: "ApexClass", Inner: []byte("<body/>")}
	if _, _, err := odd.Document(); err == nil || !strings.Contains(err.Error(), "ApexClass") {
		t.Errorf("Document of an unparsed type: %v", err)
	}
}

// TestRecordDocumentPrefixedNamespace checks a response that binds the
// metadata namespace to a prefix rather than the default.
func TestRecordDocumentPrefixedNamespace(t *testing.T) {
	t.Parallel()
	body := `<?xml version="1.0"?>
<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>
<m:readMetadataResponse xmlns:m="http://soap.sforce.com/2006/04/metadata"><m:result>
<m:records xmlns:x="http://www.w3.org/2001/XMLSchema-instance" x:type="m:ConnectedApp"><m:fullName>P</m:fullName><m:label>P &amp; Q</m:label></m:records>
</m:result></m:readMetadataResponse></s:Body></s:Envelope>`
	recs, err := decodeReadMetadata([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].XSIType != "ConnectedApp" || recs[0].FullName != "P" || recs[0].Nil {
		t.Fatalf("records: %+v", recs)
	}
	path, data, err := recs[0].Document()
	if err != nil {
		t.Fatal(err)
	}
	rec, _, err := metadata.Parse(path, data)
	if err != nil {
		t.Fatalf("Parse: %v\n%s", err, data)
	}
	if got := rec.(*metadata.ConnectedApp).Label.Value; got != "P & Q" {
		t.Errorf("label %q", got)
	}
}

// TestSOAPSessionIDEscaped sends a token with XML metacharacters and checks
// the server reads it back exactly.
func TestSOAPSessionIDEscaped(t *testing.T) {
	t.Parallel()
	o := newFakeOrg(t)
	const odd = `00Dx!a<b>&"c'd]]>e`
	o.tokenHook = func(w http.ResponseWriter, r *http.Request) {
		o.mu.Lock()
		o.valid[odd] = true
		o.mu.Unlock()
		fmt.Fprintf(w, `{"access_token":%q,"issued_at":"1678833535086"}`, odd)
	}
	o.route(soapPath, serveFixture(t, http.StatusOK, "soap/list-response.xml"))
	c, _, _ := testClient(t, o)
	if _, err := c.ListMetadata(context.Background(), ListMetadataQuery{Type: "ConnectedApp"}); err != nil {
		t.Fatal(err)
	}
}

func TestSOAPFaults(t *testing.T) {
	t.Parallel()
	t.Run("expired session re-minted once", func(t *testing.T) {
		t.Parallel()
		o := newFakeOrg(t)
		o.route(soapPath, serveFixture(t, http.StatusOK, "soap/list-response.xml"))
		c, _, _ := testClient(t, o)
		ctx := context.Background()
		if _, err := c.ListMetadata(ctx, ListMetadataQuery{Type: "ConnectedApp"}); err != nil {
			t.Fatal(err)
		}
		o.expireAll()
		if _, err := c.ListMetadata(ctx, ListMetadataQuery{Type: "ConnectedApp"}); err != nil {
			t.Fatal(err)
		}
		if o.mintCount() != 2 || o.hit(soapPath) != 3 {
			t.Errorf("mints %d, SOAP requests %d; want 2 and 3", o.mintCount(), o.hit(soapPath))
		}
	})
	t.Run("session rejected again", func(t *testing.T) {
		t.Parallel()
		o := newFakeOrg(t)
		o.route(soapPath, func(w http.ResponseWriter, r *http.Request) {
			writeFixture(t, w, http.StatusInternalServerError, "soap/fault-invalid-session.xml")
		})
		c, s, _ := testClient(t, o)
		_, err := c.ReadMetadata(context.Background(), "ConnectedApp", []string{"ERP_Sync"})
		var f *SOAPFault
		if !errors.As(err, &f) || f.Code != "INVALID_SESSION_ID" || !errors.Is(err, ErrSessionInvalid) {
			t.Fatalf("error %v, want an INVALID_SESSION_ID fault", err)
		}
		if !strings.Contains(f.String, "Illegal Session") || !strings.Contains(err.Error(), "newly minted token was rejected too") {
			t.Errorf("error %q", err)
		}
		if o.mintCount() != 2 || len(s.waits()) != 0 {
			t.Errorf("mints %d, retry waits %v; want 2 and none", o.mintCount(), s.waits())
		}
		assertNoSecret(t, "error", err.Error())
	})
	t.Run("other fault not retried", func(t *testing.T) {
		t.Parallel()
		o := newFakeOrg(t)
		o.route(soapPath, func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><soapenv:Fault><faultcode>sf:INVALID_TYPE</faultcode><faultstring>INVALID_TYPE: Unknown type name 'Nope'</faultstring></soapenv:Fault></soapenv:Body></soapenv:Envelope>`)
		})
		c, s, _ := testClient(t, o)
		_, err := c.ReadMetadata(context.Background(), "Nope", []string{"x"})
		var f *SOAPFault
		if !errors.As(err, &f) || f.Code != "INVALID_TYPE" || f.Status != 500 || errors.Is(err, ErrSessionInvalid) {
			t.Fatalf("error %v", err)
		}
		if len(s.waits()) != 0 || o.hit(soapPath) != 1 {
			t.Errorf("fault retried: waits %v, requests %d", s.waits(), o.hit(soapPath))
		}
	})
	t.Run("not soap", func(t *testing.T) {
		t.Parallel()
		o := newFakeOrg(t)
		o.route(soapPath, serveFixture(t, http.StatusOK, "rest/limits.json"))
		c, _, _ := testClient(t, o)
		_, err := c.ListMetadata(context.Background(), ListMetadataQuery{Type: "ConnectedApp"})
		if !errors.Is(err, ErrUnexpectedResponse) || !strings.Contains(err.Error(), "POST /services/Soap/m/67.0") {
			t.Fatalf("error %v", err)
		}
	})
}

func TestListMetadataOddDates(t *testing.T) {
	t.Parallel()
	body := `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="http://soap.sforce.com/2006/04/metadata"><soapenv:Body><listMetadataResponse>
<result><createdDate/><fullName>A</fullName><lastModifiedDate>yesterday</lastModifiedDate></result>
<result><createdDate>2024-07-03T13:12:59.000Z</createdDate><fullName>B</fullName></result>
</listMetadataResponse></soapenv:Body></soapenv:Envelope>`
	var props []FileProperties
	err := decodeSOAP([]byte(body), "listMetadataResponse", func(d *xml.Decoder, start xml.StartElement, _ []xml.Attr) error {
		fp, err := decodeFileProperties(d, start)
		props = append(props, fp)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(props) != 2 || !props[0].CreatedDate.IsZero() || !props[0].LastModifiedDate.IsZero() || props[0].FullName != "A" ||
		props[1].CreatedDate.Format("2006-01-02T15:04:05") != "2024-07-03T13:12:59" {
		t.Errorf("props %+v", props)
	}
}
