package fakeorg

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Composite limits.
const (
	maxSubrequests   = 25
	maxQuerySubs     = 5
	maxCompositeBody = 1 << 20
)

type compositeRequest struct {
	AllOrNone          bool         `json:"allOrNone"`
	CollateSubrequests *bool        `json:"collateSubrequests"`
	CompositeRequest   []subrequest `json:"compositeRequest"`
}

type subrequest struct {
	Method      string            `json:"method"`
	URL         string            `json:"url"`
	ReferenceID string            `json:"referenceId"`
	HTTPHeaders map[string]string `json:"httpHeaders"`
	Body        json.RawMessage   `json:"body"`
}

var errHalted = &apiError{400, "PROCESSING_HALTED", "The transaction was rolled back since another operation in the same transaction failed."}

// composite runs up to 25 subrequests as one API call. The emulator is
// read-only, so only GET subrequests are served; others get 405.
func (s *Server) composite(d *dataRequest) (int, any) {
	body, err := readBody(nil, d.r, maxCompositeBody)
	if err != nil {
		return 400, &apiError{400, "JSON_PARSER_ERROR", "request body too large or unreadable"}
	}
	var req compositeRequest
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return 400, &apiError{400, "JSON_PARSER_ERROR", "Malformed JSON: " + err.Error()}
	}
	if len(req.CompositeRequest) == 0 {
		return 400, &apiError{400, "INVALID_INPUT", "compositeRequest must contain at least one subrequest"}
	}
	if len(req.CompositeRequest) > maxSubrequests {
		return 400, &apiError{400, "LIMIT_EXCEEDED", fmt.Sprintf("Composite request exceeds the limit of %d subrequests", maxSubrequests)}
	}
	queries := 0
	refs := map[string]bool{}
	for _, sub := range req.CompositeRequest {
		if isQueryURL(sub.URL) {
			queries++
		}
		if !validReferenceID(sub.ReferenceID) || refs[sub.ReferenceID] {
			return 400, &apiError{400, "INVALID_INPUT", fmt.Sprintf("Invalid or duplicate referenceId: %q", sub.ReferenceID)}
		}
		refs[sub.ReferenceID] = true
	}
	if queries > maxQuerySubs {
		return 400, &apiError{400, "LIMIT_EXCEEDED", fmt.Sprintf("Composite request exceeds the limit of %d query subrequests", maxQuerySubs)}
	}

	results := map[string]any{} // referenceId → decoded body of a successful subrequest
	out := make([]jsonObject, 0, len(req.CompositeRequest))
	failed := false
	for _, sub := range req.CompositeRequest {
		var status int
		var resp any
		switch {
		case failed && req.AllOrNone:
			status, resp = 400, errHalted
		default:
			status, resp = s.subrequest(d, sub, results)
		}
		if e, ok := resp.(*apiError); ok {
			resp = []jsonObject{{{"message", e.Msg}, {"errorCode", e.Code}}}
			if status < 400 {
				status = e.Status
			}
			failed = true
		} else if status < 300 {
			raw, err := json.Marshal(resp)
			if err == nil {
				var v any
				if json.Unmarshal(raw, &v) == nil {
					results[sub.ReferenceID] = v
				}
			}
		}
		out = append(out, jsonObject{{"body", resp}, {"httpHeaders", jsonObject{}}, {"httpStatusCode", status}, {"referenceId", sub.ReferenceID}})
	}
	if failed && req.AllOrNone {
		for i, sub := range req.CompositeRequest {
			if code := out[i][2].val.(int); code < 400 {
				out[i] = jsonObject{{"body", []jsonObject{{{"message", errHalted.Msg}, {"errorCode", errHalted.Code}}}}, {"httpHeaders", jsonObject{}}, {"httpStatusCode", 400}, {"referenceId", sub.ReferenceID}}
			}
		}
	}
	return 200, jsonObject{{"compositeResponse", out}}
}

func isQueryURL(u string) bool {
	p, _, _ := strings.Cut(u, "?")
	return strings.Contains(p, "/query") || strings.Contains(p, "/queryAll")
}

func validReferenceID(id string) bool {
	if id == "" || len(id) > 80 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		alnum := isUpper(c) || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
		if !alnum && (c != '_' || i == 0) {
			return false
		}
	}
	return true
}

func (s *Server) subrequest(d *dataRequest, sub subrequest, results map[string]any) (int, any) {
	target, err := resolveReferences(sub.URL, results)
	if err != nil {
		return 400, &apiError{400, "PROCESSING_HALTED", err.Error()}
	}
	u, err := url.Parse(target)
	if err != nil || !strings.HasPrefix(u.Path, "/services/data/") {
		return 400, &apiError{400, "INVALID_INPUT", "The subrequest url must start with /services/data/vXX.X/"}
	}
	seg, rest, _ := strings.Cut(strings.TrimPrefix(u.Path, "/services/data/"), "/")
	version, ok := parseVersion(seg)
	if !ok {
		return 404, &apiError{404, "NOT_FOUND", "The requested resource does not exist"}
	}
	method := strings.ToUpper(sub.Method)
	if method != http.MethodGet {
		return 405, &apiError{405, "METHOD_NOT_ALLOWED", "HTTP Method '" + sub.Method + "' not allowed. Allowed are GET"}
	}
	r, err := http.NewRequestWithContext(d.r.Context(), method, u.String(), http.NoBody)
	if err != nil {
		return 400, &apiError{400, "INVALID_INPUT", "invalid subrequest"}
	}
	for k, v := range sub.HTTPHeaders {
		r.Header.Set(k, v)
	}
	sd := &dataRequest{r: r, version: version, rest: strings.TrimSuffix(rest, "/"), sess: d.sess}
	if strings.HasSuffix(sd.rest, "composite") {
		return 400, &apiError{400, "INVALID_INPUT", "A composite subrequest cannot be a composite request"}
	}
	return s.dataResponse(sd)
}

// resolveReferences replaces @{ref.path} in a subrequest URL with values
// from earlier responses. Paths are dot-separated member names with
// optional [n] indexes: @{users.records[0].Id}, @{users.totalSize}.
func resolveReferences(u string, results map[string]any) (string, error) {
	var b strings.Builder
	for {
		i := strings.Index(u, "@{")
		if i < 0 {
			b.WriteString(u)
			return b.String(), nil
		}
		j := strings.IndexByte(u[i:], '}')
		if j < 0 {
			return "", fmt.Errorf("Invalid reference specified: unterminated @{ in %q", u)
		}
		expr := u[i+2 : i+j]
		v, err := lookupReference(expr, results)
		if err != nil {
			return "", err
		}
		b.WriteString(u[:i])
		b.WriteString(url.QueryEscape(v))
		u = u[i+j+1:]
	}
}

func lookupReference(expr string, results map[string]any) (string, error) {
	ref, path, _ := strings.Cut(expr, ".")
	cur, ok := results[ref]
	notFound := fmt.Errorf("Invalid reference specified. No value for %s found in %s. Provided referenceId ('%s') must be an existing referenceId of a successful earlier subrequest.", expr, ref, ref)
	if !ok {
		return "", notFound
	}
	for _, part := range strings.Split(path, ".") {
		if part == "" {
			return "", notFound
		}
		name, idx, hasIdx := strings.Cut(part, "[")
		if name != "" {
			m, ok := cur.(map[string]any)
			if !ok {
				return "", notFound
			}
			if cur, ok = m[name]; !ok {
				return "", notFound
			}
		}
		for hasIdx {
			var n string
			n, idx, _ = strings.Cut(idx, "]")
			k, err := strconv.Atoi(n)
			list, ok := cur.([]any)
			if err != nil || !ok || k < 0 || k >= len(list) {
				return "", notFound
			}
			cur = list[k]
			idx, hasIdx = strings.CutPrefix(idx, "[")
		}
	}
	switch v := cur.(type) {
	case string:
		return v, nil
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), nil
	case bool:
		return strconv.FormatBool(v), nil
	}
	return "", notFound
}
