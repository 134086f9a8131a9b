package fakeorg

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
)

const (
	nsSOAPEnv  = "http://schemas.xmlsoap.org/soap/envelope/"
	nsMetadata = "http://soap.sforce.com/2006/04/metadata"
	nsXSI      = "http://www.w3.org/2001/XMLSchema-instance"

	maxSOAPBody     = 1 << 20
	maxReadNames    = 10
	maxListQueries  = 3
	soapContentType = "text/xml;charset=UTF-8"
)

// soapRequest is a Metadata API request envelope.
type soapRequest struct {
	XMLName xml.Name `xml:"Envelope"`
	Header  struct {
		SessionHeader struct {
			SessionID string `xml:"sessionId"`
		} `xml:"SessionHeader"`
	} `xml:"Header"`
	Body struct {
		Ops []soapOp `xml:",any"`
	} `xml:"Body"`
}

// soapOp is one operation element in the body; only the fields of
// listMetadata and readMetadata are read.
type soapOp struct {
	XMLName   xml.Name
	Queries   []listQuery `xml:"queries"`
	Type      string      `xml:"type"`
	FullNames []string    `xml:"fullNames"`
}

type listQuery struct {
	Type   string `xml:"type"`
	Folder string `xml:"folder"`
}

// decodeSOAP parses a Metadata API request. It rejects anything that is not
// one SOAP 1.1 envelope with exactly one operation in the metadata
// namespace.
func decodeSOAP(r io.Reader) (*soapRequest, soapOp, error) {
	dec := xml.NewDecoder(r)
	dec.Strict = true
	var req soapRequest
	if err := dec.Decode(&req); err != nil {
		return nil, soapOp{}, fmt.Errorf("malformed SOAP envelope: %w", err)
	}
	if req.XMLName.Space != nsSOAPEnv {
		return nil, soapOp{}, errors.New("the root element must be a SOAP 1.1 Envelope")
	}
	if len(req.Body.Ops) != 1 {
		return nil, soapOp{}, errors.New("the SOAP Body must hold exactly one operation")
	}
	op := req.Body.Ops[0]
	if op.XMLName.Space != nsMetadata {
		return nil, soapOp{}, fmt.Errorf("No operation available for request {%s}%s", op.XMLName.Space, op.XMLName.Local)
	}
	return &req, op, nil
}

// soapEnvelope renders a response. Element names carry their prefixes
// literally; encoding/xml escapes every value.
type soapEnvelope struct {
	XMLName xml.Name `xml:"soapenv:Envelope"`
	Soapenv string   `xml:"xmlns:soapenv,attr"`
	Xmlns   string   `xml:"xmlns,attr"`
	Xsi     string   `xml:"xmlns:xsi,attr"`
	Sf      string   `xml:"xmlns:sf,attr,omitempty"`
	Body    struct {
		Content any
	} `xml:"soapenv:Body"`
}

type soapFault struct {
	XMLName xml.Name `xml:"soapenv:Fault"`
	Code    string   `xml:"faultcode"`
	String  string   `xml:"faultstring"`
}

func writeSOAP(w http.ResponseWriter, status int, content any) {
	env := soapEnvelope{Soapenv: nsSOAPEnv, Xmlns: nsMetadata, Xsi: nsXSI}
	if _, ok := content.(soapFault); ok {
		env.Sf = nsMetadata
	}
	env.Body.Content = content
	var b bytes.Buffer
	b.WriteString(xml.Header)
	if err := xml.NewEncoder(&b).Encode(env); err != nil {
		status = http.StatusInternalServerError
		b.Reset()
		b.WriteString(xml.Header)
		xml.NewEncoder(&b).Encode(soapEnvelope{Soapenv: nsSOAPEnv, Xmlns: nsMetadata, Xsi: nsXSI, Body: struct{ Content any }{soapFault{Code: "soapenv:Server", String: "UNKNOWN_EXCEPTION: rendering failed"}}})
	}
	w.Header().Set("Content-Type", soapContentType)
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

func writeFault(w http.ResponseWriter, code, msg string) {
	writeSOAP(w, http.StatusInternalServerError, soapFault{Code: code, String: msg})
}

func (s *Server) serveSOAP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeFault(w, "soapenv:Client", "Method Not Allowed: use POST")
		return
	}
	if _, ok := parseVersion("v" + strings.TrimPrefix(r.URL.Path, "/services/Soap/m/")); !ok {
		writeFault(w, "soapenv:Client", "INVALID_API_VERSION: unsupported API version in the endpoint URL")
		return
	}
	body, err := readBody(w, r, maxSOAPBody)
	if err != nil {
		writeFault(w, "soapenv:Client", "request body too large or unreadable")
		return
	}
	req, op, err := decodeSOAP(bytes.NewReader(body))
	if err != nil {
		writeFault(w, "soapenv:Client", err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, live := s.authenticate(strings.TrimSpace(req.Header.SessionHeader.SessionID))
	if !live {
		writeFault(w, "sf:INVALID_SESSION_ID", "INVALID_SESSION_ID: Invalid Session ID found in SessionHeader: Illegal Session")
		return
	}
	if err := s.count(sess); err != nil {
		writeFault(w, "sf:REQUEST_LIMIT_EXCEEDED", "REQUEST_LIMIT_EXCEEDED: TotalRequests Limit exceeded.")
		return
	}
	switch op.XMLName.Local {
	case "listMetadata":
		s.listMetadata(w, op)
	case "readMetadata":
		s.readMetadata(w, op)
	default:
		writeFault(w, "soapenv:Client", fmt.Sprintf("No operation available for request {%s}%s", op.XMLName.Space, op.XMLName.Local))
	}
}

// metadataTypes are the types served, with their folder and file suffix.
var metadataTypes = map[string][2]string{
	"ConnectedApp":                         {"connectedApps", "connectedApp"},
	"ExternalClientApplication":            {"externalClientApps", "eca"},
	"ExtlClntAppOauthSettings":             {"extlClntAppOauthSettings", "ecaOauth"},
	"ExtlClntAppGlobalOauthSettings":       {"extlClntAppGlobalOauthSets", "ecaGlblOauth"},
	"ExtlClntAppOauthConfigurablePolicies": {"extlClntAppOauthPolicies", "ecaOauthPlcy"},
	"ExtlClntAppConfigurablePolicies":      {"extlClntAppPolicies", "ecaPlcy"},
}

// component is one metadata component of a served type.
type component struct {
	typ, fullName, id string
	created, modified time.Time
	createdBy, modBy  *row
	namespace         string
	record            func() any // built only when read
}

// components lists the components of a type in full-name order.
func (s *Server) components(typ string) []component {
	var out []component
	for _, a := range s.org.apps {
		r := s.org.lookup(a.id)
		comp := component{
			typ: typ, created: r.f["CreatedDate"].(time.Time), modified: r.f["LastModifiedDate"].(time.Time),
			createdBy: s.org.lookup(fmt.Sprint(r.f["CreatedById"])), modBy: s.org.lookup(fmt.Sprint(r.f["LastModifiedById"])),
		}
		switch {
		case typ == "ConnectedApp" && a.ca != nil:
			comp.namespace = a.ca.Namespace
			comp.fullName = qualified(a.ca.Namespace, a.name)
			ca, name := a.ca, comp.fullName
			comp.record = func() any { return connectedAppRecord(ca, name) }
		case a.eca == nil || typ == "ConnectedApp":
			continue
		default:
			comp.namespace = a.eca.Namespace
			eca := a.eca
			comp.fullName, _ = ecaComponent(eca, typ)
			comp.record = func() any { _, rec := ecaComponent(eca, typ); return rec }
		}
		comp.id = metadataID(typ, a.id)
		out = append(out, comp)
	}
	slices.SortFunc(out, func(a, b component) int { return strings.Compare(a.fullName, b.fullName) })
	return out
}

func qualified(ns, name string) string {
	if ns == "" {
		return name
	}
	return ns + "__" + name
}

// metadataID derives a component ID from the app's record ID: the same
// suffix under the type's key prefix.
func metadataID(typ, appID string) string {
	prefix := map[string]string{
		"ConnectedApp": "0H4", "ExternalClientApplication": "0xI", "ExtlClntAppOauthSettings": "0xS",
		"ExtlClntAppGlobalOauthSettings": "0xG", "ExtlClntAppOauthConfigurablePolicies": "0xP",
		"ExtlClntAppConfigurablePolicies": "0xC",
	}[typ]
	return idSuffix(prefix + appID[3:15])
}

type fileProperties struct {
	CreatedByID        string `xml:"createdById"`
	CreatedByName      string `xml:"createdByName"`
	CreatedDate        string `xml:"createdDate"`
	FileName           string `xml:"fileName"`
	FullName           string `xml:"fullName"`
	ID                 string `xml:"id"`
	LastModifiedByID   string `xml:"lastModifiedById"`
	LastModifiedByName string `xml:"lastModifiedByName"`
	LastModifiedDate   string `xml:"lastModifiedDate"`
	ManageableState    string `xml:"manageableState"`
	NamespacePrefix    string `xml:"namespacePrefix,omitempty"`
	Type               string `xml:"type"`
}

const soapTimeLayout = "2006-01-02T15:04:05.000Z"

func (s *Server) listMetadata(w http.ResponseWriter, op soapOp) {
	if len(op.Queries) == 0 || len(op.Queries) > maxListQueries {
		writeFault(w, "sf:INVALID_CROSS_REFERENCE_KEY", fmt.Sprintf("INVALID_CROSS_REFERENCE_KEY: listMetadata takes 1 to %d queries", maxListQueries))
		return
	}
	type response struct {
		XMLName xml.Name         `xml:"listMetadataResponse"`
		Result  []fileProperties `xml:"result"`
	}
	var resp response
	for _, q := range op.Queries {
		folder, ok := metadataTypes[q.Type]
		if !ok {
			continue // a type without components in this org lists nothing
		}
		for _, c := range s.components(q.Type) {
			state := "unmanaged"
			if c.namespace != "" {
				state = "installed"
			}
			resp.Result = append(resp.Result, fileProperties{
				CreatedByID: idOf(c.createdBy), CreatedByName: nameOf(c.createdBy), CreatedDate: c.created.UTC().Format(soapTimeLayout),
				FileName: folder[0] + "/" + c.fullName + "." + folder[1], FullName: c.fullName, ID: c.id,
				LastModifiedByID: idOf(c.modBy), LastModifiedByName: nameOf(c.modBy),
				LastModifiedDate: c.modified.UTC().Format(soapTimeLayout), ManageableState: state,
				NamespacePrefix: c.namespace, Type: q.Type,
			})
		}
	}
	writeSOAP(w, http.StatusOK, resp)
}

func idOf(r *row) string {
	if r == nil {
		return ""
	}
	return r.id
}

func nameOf(r *row) string {
	if r == nil {
		return ""
	}
	name, _ := r.f["Name"].(string)
	return name
}

// nilRecord is a requested component that does not exist.
type nilRecord struct {
	XMLName xml.Name `xml:"records"`
	Nil     string   `xml:"xsi:nil,attr"`
}

func (s *Server) readMetadata(w http.ResponseWriter, op soapOp) {
	if _, ok := metadataTypes[op.Type]; !ok {
		writeFault(w, "sf:INVALID_TYPE", fmt.Sprintf("INVALID_TYPE: Unknown type name '%s' specified", op.Type))
		return
	}
	if len(op.FullNames) > maxReadNames {
		writeFault(w, "sf:LIMIT_EXCEEDED", fmt.Sprintf("LIMIT_EXCEEDED: Too many full names: %d; the limit is %d", len(op.FullNames), maxReadNames))
		return
	}
	byName := map[string]func() any{}
	for _, c := range s.components(op.Type) {
		byName[c.fullName] = c.record
	}
	type response struct {
		XMLName xml.Name `xml:"readMetadataResponse"`
		Result  struct {
			Records []any
		} `xml:"result"`
	}
	var resp response
	for _, name := range op.FullNames {
		var rec any = nilRecord{Nil: "true"}
		if build, ok := byName[name]; ok {
			rec = build()
		}
		resp.Result.Records = append(resp.Result.Records, rec)
	}
	writeSOAP(w, http.StatusOK, resp)
}
