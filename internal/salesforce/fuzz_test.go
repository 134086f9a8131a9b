package salesforce

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"strings"
	"testing"

	"github.com/steward-dev/steward/internal/salesforce/metadata"
)

// addFixtures seeds a fuzz target with testdata files.
func addFixtures(f *testing.F, names ...string) {
	for _, n := range names {
		f.Add(fixture(f, n))
	}
}

func FuzzDecodeQueryPage(f *testing.F) {
	addFixtures(f, "query/page1.json", "query/page2.json", "query/page3.json", "query/count.json", "query/tooling.json")
	f.Add([]byte(`{"done":false,"nextRecordsUrl":"//evil/services/data/x","records":[]}`))
	f.Add([]byte(`{"done":true,"records":[1,"a",null]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := decodeQueryPage(&response{endpoint: "GET /q", status: 200, body: body})
		if err != nil {
			if !errors.Is(err, ErrUnexpectedResponse) || !strings.Contains(err.Error(), "GET /q") {
				t.Fatalf("error %v does not name the endpoint", err)
			}
			return
		}
		if !p.Done && checkNextURL(p.NextRecordsURL) != nil {
			t.Fatalf("accepted next URL %q", p.NextRecordsURL)
		}
		for _, r := range p.Records {
			if !json.Valid(r) {
				t.Fatalf("invalid record JSON %q", r)
			}
		}
	})
}

func FuzzDecodeAPIError(f *testing.F) {
	addFixtures(f, "rest/invalid-session.json", "rest/request-limit.json", "rest/invalid-field.json", "rest/error-page.html",
		"token/wrong-secret.json")
	f.Add([]byte(`[{"errorCode":7}]`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, decode := range []func(string, int, string, []byte) error{decodeAPIError, decodeOAuthError} {
			err := decode("GET /x", 400, "application/json", body)
			if err == nil || !strings.Contains(err.Error(), "GET /x") {
				t.Fatalf("error %v does not name the endpoint", err)
			}
			var ae *APIError
			var oe *OAuthError
			if !errors.As(err, &ae) && !errors.As(err, &oe) && !errors.Is(err, ErrUnexpectedResponse) {
				t.Fatalf("untyped error %T", err)
			}
			// An unusable body is quoted only in part, so the message stays short
			// however long the body is.
			var re *ResponseError
			if errors.As(err, &re) && len(err.Error()) > 400 {
				t.Fatalf("error for an unusable body is %d bytes long", len(err.Error()))
			}
		}
	})
}

func FuzzParseLimitInfo(f *testing.F) {
	for _, s := range []string{"api-usage=18/5000", "api-usage=10018/100000; api-bursts=1/750",
		"api-usage=25/5000; per-app-api-usage=17/250(appName=sample-connected-app)", "", "api-usage=(", "a=1/2(b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := parseLimitInfo(s)
		if err != nil {
			return
		}
		if !u.Known || u.Used < 0 || u.Max < 0 {
			t.Fatalf("parseLimitInfo(%q) = %+v", s, u)
		}
		for _, a := range u.Apps {
			if a.Used < 0 || a.Max < 0 {
				t.Fatalf("app %+v", a)
			}
		}
	})
}

func FuzzDecodeSOAP(f *testing.F) {
	addFixtures(f, "soap/read-response.xml", "soap/list-response.xml", "soap/fault-invalid-session.xml")
	f.Add([]byte(`<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><readMetadataResponse><result><records xsi:nil="true"/></result></readMetadataResponse></s:Body></s:Envelope>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		recs, err := decodeReadMetadata(body)
		if err == nil {
			for _, r := range recs {
				path, data, err := r.Document()
				if err != nil {
					continue
				}
				// The wrapped record must be something metadata.Parse handles
				// without panicking; it may still reject it.
				metadata.Parse(path, data)
			}
		}
		decodeSOAP(body, "listMetadataResponse", func(d *xml.Decoder, start xml.StartElement, _ []xml.Attr) error {
			_, err := decodeFileProperties(d, start)
			return err
		})
		if f, err := decodeSOAPFault(body); err == nil && f == nil {
			t.Fatal("nil fault without error")
		}
	})
}
