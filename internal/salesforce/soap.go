package salesforce

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/steward-dev/steward/internal/salesforce/metadata"
)

// XML namespaces of the Metadata API's SOAP messages.
const (
	soapEnvNS  = "http://schemas.xmlsoap.org/soap/envelope/"
	xsiNS      = "http://www.w3.org/2001/XMLSchema-instance"
	metadataNS = "http://soap.sforce.com/2006/04/metadata"
)

// Metadata API call limits. Both are from third-party sources rather than
// Salesforce's reference, so they live here alone.
const (
	// MaxListQueries is how many queries one listMetadata call takes.
	MaxListQueries = 3
	// MaxReadNames is how many full names one readMetadata call takes.
	MaxReadNames = 10
)

// SOAPFault is a Metadata API fault. It matches ErrSessionInvalid for
// INVALID_SESSION_ID and ErrRequestLimit for REQUEST_LIMIT_EXCEEDED.
type SOAPFault struct {
	Code     string // faultcode without its namespace prefix, such as INVALID_SESSION_ID
	String   string // faultstring
	Status   int    // HTTP status, 500 for faults
	Endpoint string // method and path
}

// Error renders the fault with its endpoint.
func (f *SOAPFault) Error() string {
	return fmt.Sprintf("salesforce: %s: SOAP fault %s: %s", f.Endpoint, f.Code, f.String)
}

// Is matches the sentinels by fault code.
func (f *SOAPFault) Is(target error) bool { return codeIs(f.Code, target) }

// ListMetadataQuery selects components for ListMetadata.
type ListMetadataQuery struct {
	Type   string `xml:"type"`
	Folder string `xml:"folder,omitempty"`
}

// FileProperties describes one component listMetadata found.
type FileProperties struct {
	CreatedByID        string    `xml:"createdById"`
	CreatedByName      string    `xml:"createdByName"`
	CreatedDate        time.Time `xml:"-"`
	FileName           string    `xml:"fileName"`
	FullName           string    `xml:"fullName"`
	ID                 string    `xml:"id"`
	LastModifiedByID   string    `xml:"lastModifiedById"`
	LastModifiedByName string    `xml:"lastModifiedByName"`
	LastModifiedDate   time.Time `xml:"-"`
	ManageableState    string    `xml:"manageableState"`
	NamespacePrefix    string    `xml:"namespacePrefix"`
	Type               string    `xml:"type"`
}

// decodeFileProperties decodes one listMetadata result. A date that is
// empty or not an xsd:dateTime is left zero rather than failing the list.
func decodeFileProperties(d *xml.Decoder, start xml.StartElement) (FileProperties, error) {
	var raw struct {
		FileProperties
		CreatedDate      string `xml:"createdDate"`
		LastModifiedDate string `xml:"lastModifiedDate"`
	}
	if err := d.DecodeElement(&raw, &start); err != nil {
		return FileProperties{}, err
	}
	fp := raw.FileProperties
	fp.CreatedDate = parseDateTime(raw.CreatedDate)
	fp.LastModifiedDate = parseDateTime(raw.LastModifiedDate)
	return fp, nil
}

// parseDateTime reads an xsd:dateTime such as 2024-07-03T13:12:59.000Z, or
// returns the zero time.
func parseDateTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}

// MetadataRecord is one component readMetadata returned.
type MetadataRecord struct {
	FullName string
	XSIType  string // the record's xsi:type, such as ConnectedApp
	// Nil is true when the component does not exist: the record is
	// xsi:nil or holds nothing but its fullName.
	Nil bool
	// Inner is the record's content without its fullName element: the same
	// elements a metadata file holds under its root.
	Inner []byte
	// namespaces are the xmlns declarations in scope at the record, which
	// Inner may use.
	namespaces []xml.Attr
}

// soapEnvelope is a request envelope. Values are escaped by encoding/xml.
type soapEnvelope struct {
	XMLName xml.Name `xml:"soapenv:Envelope"`
	Env     string   `xml:"xmlns:soapenv,attr"`
	XSI     string   `xml:"xmlns:xsi,attr"`
	NS      string   `xml:"xmlns,attr"`
	Session string   `xml:"soapenv:Header>SessionHeader>sessionId"`
	Body    soapBody `xml:"soapenv:Body"`
}

// soapBody holds the operation element, named by its XMLName field.
type soapBody struct {
	Operation any
}

type listMetadataRequest struct {
	XMLName     xml.Name            `xml:"listMetadata"`
	Queries     []ListMetadataQuery `xml:"queries"`
	AsOfVersion string              `xml:"asOfVersion"`
}

type readMetadataRequest struct {
	XMLName   xml.Name `xml:"readMetadata"`
	Type      string   `xml:"type"`
	FullNames []string `xml:"fullNames"`
}

// encodeEnvelope builds a request envelope around body.
func encodeEnvelope(session string, body any) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	env := soapEnvelope{Env: soapEnvNS, XSI: xsiNS, NS: metadataNS, Session: session, Body: soapBody{body}}
	if err := xml.NewEncoder(&buf).Encode(env); err != nil {
		return nil, fmt.Errorf("encode SOAP request: %w", err)
	}
	return buf.Bytes(), nil
}

// soap sends one Metadata API call and returns the response body.
func (c *Client) soap(ctx context.Context, body any) (*response, error) {
	return c.do(ctx, &call{
		method: http.MethodPost, path: "/services/Soap/m/" + c.version, kind: soapCall,
		contentType: "text/xml; charset=UTF-8",
		body: func(tok *Token) ([]byte, error) {
			return encodeEnvelope(tok.AccessToken, body)
		},
	})
}

// ListMetadata lists the components matching the queries, MaxListQueries
// queries per call.
func (c *Client) ListMetadata(ctx context.Context, queries ...ListMetadataQuery) ([]FileProperties, error) {
	var out []FileProperties
	for chunk := range chunks(queries, MaxListQueries) {
		resp, err := c.soap(ctx, listMetadataRequest{Queries: chunk, AsOfVersion: c.version})
		if err != nil {
			return nil, err
		}
		var props []FileProperties
		err = decodeSOAP(resp.body, "listMetadataResponse", func(d *xml.Decoder, start xml.StartElement, _ []xml.Attr) error {
			fp, err := decodeFileProperties(d, start)
			if err != nil {
				return err
			}
			props = append(props, fp)
			return nil
		})
		if err != nil {
			return nil, soapResponseError(resp, err)
		}
		out = append(out, props...)
	}
	return out, nil
}

// ReadMetadata reads components of one type by full name, MaxReadNames
// names per call. Records come back in Salesforce's order; a component that
// does not exist comes back with Nil set.
func (c *Client) ReadMetadata(ctx context.Context, typ string, fullNames []string) ([]MetadataRecord, error) {
	var out []MetadataRecord
	for chunk := range chunks(fullNames, MaxReadNames) {
		resp, err := c.soap(ctx, readMetadataRequest{Type: typ, FullNames: chunk})
		if err != nil {
			return nil, err
		}
		recs, err := decodeReadMetadata(resp.body)
		if err != nil {
			return nil, soapResponseError(resp, err)
		}
		out = append(out, recs...)
	}
	return out, nil
}

// soapResponseError wraps a decoding failure of a 2xx SOAP response.
func soapResponseError(resp *response, err error) error {
	var f *SOAPFault
	if errors.As(err, &f) {
		f.Endpoint, f.Status = resp.endpoint, resp.status
		return f
	}
	return &ResponseError{Endpoint: resp.endpoint, Status: resp.status, Reason: err.Error()}
}

// chunks yields s in pieces of at most n; nothing for an empty s.
func chunks[T any](s []T, n int) func(func([]T) bool) {
	return func(yield func([]T) bool) {
		for len(s) > 0 {
			k := min(n, len(s))
			if !yield(s[:k]) {
				return
			}
			s = s[k:]
		}
	}
}

// decodeReadMetadata decodes a readMetadataResponse into records, keeping
// each record's inner XML.
func decodeReadMetadata(body []byte) ([]MetadataRecord, error) {
	var recs []MetadataRecord
	err := decodeSOAP(body, "readMetadataResponse", func(d *xml.Decoder, result xml.StartElement, scope []xml.Attr) error {
		// result holds records elements.
		for {
			tok, err := d.Token()
			if err != nil {
				return err
			}
			switch t := tok.(type) {
			case xml.EndElement:
				return nil
			case xml.StartElement:
				if t.Name.Local != "records" {
					if err := d.Skip(); err != nil {
						return err
					}
					continue
				}
				rec, err := decodeRecord(d, body, t, append(scope, nsDecls(t)...))
				if err != nil {
					return err
				}
				recs = append(recs, rec)
			}
		}
	})
	return recs, err
}

// decodeRecord reads one records element whose start tag was just read.
func decodeRecord(d *xml.Decoder, body []byte, start xml.StartElement, scope []xml.Attr) (MetadataRecord, error) {
	rec := MetadataRecord{namespaces: scope}
	isNil := false
	for _, a := range start.Attr {
		if a.Name.Space != xsiNS && a.Name.Space != "xsi" {
			continue
		}
		switch a.Name.Local {
		case "type":
			rec.XSIType = a.Value[strings.LastIndexByte(a.Value, ':')+1:]
		case "nil":
			isNil = a.Value == "true" || a.Value == "1"
		}
	}
	innerStart := d.InputOffset()
	var cutStart, cutEnd int64 = -1, -1
	children := 0
	for {
		before := d.InputOffset()
		tok, err := d.Token()
		if err != nil {
			return rec, err
		}
		switch t := tok.(type) {
		case xml.EndElement:
			inner := body[innerStart:before]
			if cutStart >= 0 {
				inner = append(append([]byte{}, body[innerStart:cutStart]...), body[cutEnd:before]...)
			}
			rec.Inner = bytes.TrimSpace(inner)
			rec.Nil = recordAbsent(isNil, children, cutStart >= 0)
			return rec, nil
		case xml.StartElement:
			children++
			if t.Name.Local == "fullName" && cutStart < 0 {
				var name string
				if err := d.DecodeElement(&name, &t); err != nil {
					return rec, err
				}
				rec.FullName = strings.TrimSpace(name)
				cutStart, cutEnd = before, d.InputOffset()
				continue
			}
			if err := d.Skip(); err != nil {
				return rec, err
			}
		}
	}
}

// recordAbsent decides whether a readMetadata record stands for a component
// that does not exist. The representation is not documented: it is taken
// to be either an xsi:nil record or one holding only its fullName.
func recordAbsent(xsiNil bool, children int, hasFullName bool) bool {
	return xsiNil || children == 0 || (children == 1 && hasFullName)
}

// nsDecls returns the namespace declarations among an element's attributes.
func nsDecls(e xml.StartElement) []xml.Attr {
	var out []xml.Attr
	for _, a := range e.Attr {
		if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
			out = append(out, a)
		}
	}
	return out
}

// decodeSOAP walks a response envelope. A Fault in the body is returned as
// a *SOAPFault; otherwise the body must hold the element named want, and
// result is called for each of its result children with the namespace
// declarations in scope.
func decodeSOAP(body []byte, want string, result func(d *xml.Decoder, start xml.StartElement, scope []xml.Attr) error) error {
	d := xml.NewDecoder(bytes.NewReader(body))
	d.Strict = true
	var scope []xml.Attr
	// Expect Envelope, then Body, then the response or a Fault.
	path := []string{"Envelope", "Body"}
	for _, name := range path {
		start, err := nextStart(d)
		if err != nil {
			return err
		}
		if start.Name.Local != name || start.Name.Space != soapEnvNS {
			return fmt.Errorf("expected SOAP <%s>, got <%s>", name, start.Name.Local)
		}
		scope = append(scope, nsDecls(start)...)
		if name == "Envelope" {
			// Skip a Header if present.
			for {
				next, err := nextStart(d)
				if err != nil {
					return err
				}
				if next.Name.Local == "Header" && next.Name.Space == soapEnvNS {
					if err := d.Skip(); err != nil {
						return err
					}
					continue
				}
				if next.Name.Local != "Body" || next.Name.Space != soapEnvNS {
					return fmt.Errorf("expected SOAP <Body>, got <%s>", next.Name.Local)
				}
				scope = append(scope, nsDecls(next)...)
				break
			}
			break
		}
	}
	start, err := nextStart(d)
	if err != nil {
		return err
	}
	if start.Name.Local == "Fault" && start.Name.Space == soapEnvNS {
		return faultFrom(d, start)
	}
	if start.Name.Local != want {
		return fmt.Errorf("expected <%s>, got <%s>", want, start.Name.Local)
	}
	scope = append(scope, nsDecls(start)...)
	for {
		tok, err := d.Token()
		if err != nil {
			return fmt.Errorf("decode <%s>: %w", want, err)
		}
		switch t := tok.(type) {
		case xml.EndElement:
			return nil
		case xml.StartElement:
			if t.Name.Local != "result" {
				if err := d.Skip(); err != nil {
					return err
				}
				continue
			}
			if err := result(d, t, append(scope, nsDecls(t)...)); err != nil {
				return fmt.Errorf("decode <%s>: %w", want, err)
			}
		}
	}
}

// nextStart returns the next start element, failing at an end element or
// the end of input.
func nextStart(d *xml.Decoder) (xml.StartElement, error) {
	for {
		tok, err := d.Token()
		if err != nil {
			return xml.StartElement{}, fmt.Errorf("decode SOAP envelope: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return t, nil
		case xml.EndElement:
			return xml.StartElement{}, fmt.Errorf("unexpected </%s> in the SOAP envelope", t.Name.Local)
		}
	}
}

// faultFrom decodes a Fault element whose start tag was just read.
func faultFrom(d *xml.Decoder, start xml.StartElement) error {
	var f struct {
		Code   string `xml:"faultcode"`
		String string `xml:"faultstring"`
	}
	if err := d.DecodeElement(&f, &start); err != nil {
		return fmt.Errorf("decode SOAP fault: %w", err)
	}
	code := strings.TrimSpace(f.Code)
	return &SOAPFault{Code: code[strings.LastIndexByte(code, ':')+1:], String: strings.TrimSpace(f.String)}
}

// decodeSOAPFault decodes an error response's body as a SOAP fault.
func decodeSOAPFault(body []byte) (*SOAPFault, error) {
	err := decodeSOAP(body, "", func(*xml.Decoder, xml.StartElement, []xml.Attr) error { return nil })
	var f *SOAPFault
	if errors.As(err, &f) {
		return f, nil
	}
	return nil, errors.New("not a SOAP fault")
}

// fileSuffixes maps the Metadata API types internal/salesforce/metadata
// parses to the file-name suffix that selects them there.
var fileSuffixes = map[string]string{
	metadata.KindConnectedApp:        ".connectedApp",
	metadata.KindECA:                 ".eca-meta.xml",
	metadata.KindECAOAuth:            ".ecaOauth-meta.xml",
	metadata.KindECAGlobalOAuth:      ".ecaGlblOauth-meta.xml",
	metadata.KindECAOAuthPolicy:      ".ecaOauthPlcy-meta.xml",
	metadata.KindECAPluginPolicy:     ".ecaPlcy-meta.xml",
	metadata.KindPermissionSet:       ".permissionset-meta.xml",
	metadata.KindMutingPermissionSet: ".mutingpermissionset-meta.xml",
	metadata.KindPermissionSetGroup:  ".permissionsetgroup-meta.xml",
	metadata.KindProfile:             ".profile-meta.xml",
}

var xmlNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Document wraps the record into a metadata file that metadata.Parse
// accepts: a root element named for the record's type in the Metadata API
// namespace, holding the record's elements. path is a file name built from
// the full name and the type's suffix; pass both to metadata.Parse.
func (r MetadataRecord) Document() (path string, data []byte, err error) {
	suffix, ok := fileSuffixes[r.XSIType]
	if !ok || !xmlNameRE.MatchString(r.XSIType) {
		return "", nil, fmt.Errorf("salesforce: record %q: type %q is not one internal/salesforce/metadata parses", r.FullName, r.XSIType)
	}
	if r.Nil {
		return "", nil, fmt.Errorf("salesforce: record %q of type %s does not exist", r.FullName, r.XSIType)
	}
	name := strings.NewReplacer("/", "_", `\`, "_").Replace(r.FullName)
	if name == "" || name == "." || name == ".." {
		name = "_"
	}
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	buf.WriteString("<" + r.XSIType)
	seen := map[string]bool{}
	decls := append([]xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: metadataNS}}, r.namespaces...)
	// Later declarations shadow earlier ones, so walk from the innermost.
	for i := len(decls) - 1; i >= 0; i-- {
		a := decls[i]
		attr := "xmlns"
		if a.Name.Space == "xmlns" {
			attr = "xmlns:" + a.Name.Local
		}
		if seen[attr] || !xmlNameRE.MatchString(strings.ReplaceAll(strings.TrimPrefix(attr, "xmlns:"), "-", "_")) {
			continue
		}
		seen[attr] = true
		buf.WriteString(" " + attr + `="`)
		if err := xml.EscapeText(&buf, []byte(a.Value)); err != nil {
			return "", nil, err
		}
		buf.WriteString(`"`)
	}
	buf.WriteString(">\n")
	buf.Write(r.Inner)
	buf.WriteString("\n</" + r.XSIType + ">\n")
	return name + suffix, buf.Bytes(), nil
}
