package fakeorg

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/steward-dev/steward/internal/salesforce/fakeorg/soql"
)

// Batch sizes per the REST query options header: 200 to 2000, 2000 by
// default.
const (
	defaultBatch = 2000
	minBatch     = 200
	maxLocators  = 10000
)

// cursor is an open query locator: the rendered records of a query and how
// many were handed out.
type cursor struct {
	id       string
	records  []*record
	total    int
	batch    int
	tooling  bool
	count    bool // a count() query: no records, always done
	entity   string
	lastUsed time.Time
}

// dataRequest is a REST call after routing: its version and the path under
// /services/data/vNN.0/.
type dataRequest struct {
	r       *http.Request
	version int
	rest    string // "query", "tooling/query/01g…-2000", …
	sess    *session
}

func (d *dataRequest) base(tooling bool) string {
	b := fmt.Sprintf("/services/data/v%d.0", d.version)
	if tooling {
		b += "/tooling"
	}
	return b
}

// serveData serves /services/data/vNN.0/…; internal calls come from a
// composite request and are neither counted nor faulted.
func (s *Server) serveData(w http.ResponseWriter, r *http.Request, internal bool) {
	seg, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/services/data/"), "/")
	version, ok := parseVersion(seg)
	s.mu.Lock()
	defer s.mu.Unlock()
	if !internal {
		w.Header().Set("Sforce-Limit-Info", s.limitInfo())
	}
	if !ok {
		writeAPIError(w, &apiError{404, "NOT_FOUND", "The requested resource does not exist"})
		return
	}
	sess, live := s.authenticate(bearer(r))
	if !live {
		writeAPIError(w, &apiError{401, "INVALID_SESSION_ID", "Session expired or invalid"})
		return
	}
	if !internal {
		if err := s.count(sess); err != nil {
			writeAPIError(w, err.(*apiError))
			return
		}
		w.Header().Set("Sforce-Limit-Info", s.limitInfo())
	}
	d := &dataRequest{r: r, version: version, rest: strings.TrimSuffix(rest, "/"), sess: sess}
	status, body := s.dataResponse(d)
	if e, ok := body.(*apiError); ok {
		writeAPIError(w, e)
		return
	}
	if e, ok := body.(*fieldError); ok {
		writeFieldError(w, e)
		return
	}
	if status == http.StatusNoContent {
		w.WriteHeader(status)
		return
	}
	writeJSON(w, status, body)
}

// dataResponse computes a REST response; the caller holds s.mu. An *apiError
// body is an error response.
func (s *Server) dataResponse(d *dataRequest) (int, any) {
	get := d.r.Method == http.MethodGet || d.r.Method == http.MethodHead
	tooling := false
	path := d.rest
	if p, ok := strings.CutPrefix(path, "tooling/"); ok {
		tooling, path = true, p
	}
	switch {
	case path == "" && !tooling:
		return s.resources(d)
	case (path == "query" || path == "queryAll") && get:
		return s.query(d, tooling)
	case strings.HasPrefix(path, "query/") && get:
		return s.queryMore(d, strings.TrimPrefix(path, "query/"), tooling)
	case path == "composite" && !tooling:
		if d.r.Method != http.MethodPost {
			return 405, &apiError{405, "METHOD_NOT_ALLOWED", "HTTP Method '" + d.r.Method + "' not allowed. Allowed are POST"}
		}
		return s.composite(d)
	case strings.HasPrefix(path, "sobjects/UserLogin/") && d.r.Method == http.MethodPatch && !tooling:
		return s.patchUserLogin(d, strings.TrimPrefix(path, "sobjects/UserLogin/"))
	case strings.HasPrefix(path, "sobjects/") && !tooling:
		return s.sobjects(d, strings.TrimPrefix(path, "sobjects/"))
	case path == "limits" && get && !tooling:
		return s.limits()
	case (path == "apps/oauth/usage" || strings.HasPrefix(path, "apps/oauth/usage/")) && get && !tooling:
		return s.usage(d, strings.TrimPrefix(strings.TrimPrefix(path, "apps/oauth/usage"), "/"))
	case (path == "query" || path == "queryAll" || path == "limits" || strings.HasPrefix(path, "query/")) && !get:
		return 405, &apiError{405, "METHOD_NOT_ALLOWED", "HTTP Method '" + d.r.Method + "' not allowed. Allowed are GET,HEAD"}
	}
	return 404, &apiError{404, "NOT_FOUND", "The requested resource does not exist"}
}

func (s *Server) resources(d *dataRequest) (int, any) {
	b := d.base(false)
	return 200, jsonObject{
		{"tooling", b + "/tooling"}, {"metadata", b + "/metadata"}, {"composite", b + "/composite"},
		{"query", b + "/query"}, {"queryAll", b + "/queryAll"}, {"limits", b + "/limits"},
		{"sobjects", b + "/sobjects"}, {"identity", s.identityURL(d.sess.user)},
	}
}

// batchSize reads Sforce-Query-Options: batchSize=N.
func (s *Server) batchSize(r *http.Request) int {
	size := s.org.sc.API.BatchSize
	if size == 0 {
		size = defaultBatch
	}
	for _, opt := range strings.Split(r.Header.Get("Sforce-Query-Options"), ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(opt), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "batchSize") {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			continue
		}
		return min(max(n, min(minBatch, size)), defaultBatch)
	}
	return size
}

func (s *Server) query(d *dataRequest, tooling bool) (int, any) {
	q := d.r.URL.Query().Get("q")
	if strings.TrimSpace(q) == "" {
		return 400, malformed("A query string has to be specified")
	}
	s.org.lapseAssignments(s.clock())
	parsed, err := soql.Parse(q)
	if err != nil {
		var pe *soql.Error
		if errors.As(err, &pe) {
			return 400, malformed(pe.Msg)
		}
		return 400, malformed(err.Error())
	}
	sch := s.org.rest
	if tooling {
		sch = s.org.tooling
	}
	c, err := s.org.compile(sch, parsed)
	if err != nil {
		return 400, err
	}
	rows := s.org.run(c)
	if parsed.Count {
		return 200, s.page(d, &cursor{total: len(rows), count: true, tooling: tooling, entity: c.obj.Name}, 0)
	}
	cur := &cursor{total: len(rows), batch: s.batchSize(d.r), tooling: tooling, entity: c.obj.Name}
	base := d.base(tooling)
	for _, r := range rows {
		cur.records = append(cur.records, s.org.renderRow(r, c.fields, base))
	}
	if cur.total > cur.batch {
		cur.id = s.newLocatorID()
		cur.lastUsed = s.clock()
		s.locators[cur.id] = cur
	}
	return 200, s.page(d, cur, 0)
}

func (s *Server) newLocatorID() string {
	if len(s.locators) >= maxLocators {
		// Drop the least recently used locator, as an org caps open cursors.
		var oldest *cursor
		for _, c := range s.locators {
			if oldest == nil || c.lastUsed.Before(oldest.lastUsed) {
				oldest = c
			}
		}
		delete(s.locators, oldest.id)
	}
	var raw [12]byte
	rand.Read(raw[:])
	b := []byte("01g")
	for _, c := range raw {
		b = append(b, base62[int(c)%62])
	}
	return idSuffix(string(b))
}

// page renders the batch of cur starting at pos.
func (s *Server) page(d *dataRequest, cur *cursor, pos int) jsonObject {
	end := min(pos+cur.batch, len(cur.records))
	batch := cur.records[pos:end]
	if batch == nil {
		batch = []*record{}
	}
	done := cur.count || end >= cur.total
	var next string
	if !done {
		next = fmt.Sprintf("%s/query/%s-%d", d.base(cur.tooling), cur.id, end)
	}
	if cur.tooling {
		out := jsonObject{{"size", cur.total}, {"totalSize", cur.total}, {"done", done}}
		if done {
			out = append(out, member{"queryLocator", nil})
		} else {
			out = append(out, member{"queryLocator", fmt.Sprintf("%s-%d", cur.id, end)}, member{"nextRecordsUrl", next})
		}
		return append(out, member{"entityTypeName", cur.entity}, member{"records", batch})
	}
	out := jsonObject{{"totalSize", cur.total}, {"done", done}}
	if !done {
		out = append(out, member{"nextRecordsUrl", next})
	}
	return append(out, member{"records", batch})
}

func (s *Server) locatorTTL() time.Duration {
	if ttl := time.Duration(s.org.sc.API.LocatorTTL); ttl > 0 {
		return ttl
	}
	return 15 * time.Minute
}

var errLocator = &apiError{400, "INVALID_QUERY_LOCATOR", "invalid query locator"}

func (s *Server) queryMore(d *dataRequest, locator string, tooling bool) (int, any) {
	id, posText, ok := strings.Cut(locator, "-")
	pos, err := strconv.Atoi(posText)
	cur := s.locators[id]
	if !ok || err != nil || cur == nil || cur.tooling != tooling || pos < 0 || pos > cur.total {
		return 400, errLocator
	}
	if s.clock().Sub(cur.lastUsed) > s.locatorTTL() {
		delete(s.locators, id)
		return 400, errLocator
	}
	cur.lastUsed = s.clock()
	out := s.page(d, cur, pos)
	if pos+cur.batch >= cur.total {
		delete(s.locators, id)
	}
	return 200, out
}

// expireLocator drops the locator a queryMore path names; it reports
// whether the path was a queryMore call.
func (s *Server) expireLocator(path string) bool {
	i := strings.Index(path, "/query/")
	if i < 0 {
		return false
	}
	id, _, _ := strings.Cut(path[i+len("/query/"):], "-")
	s.mu.Lock()
	delete(s.locators, id)
	s.mu.Unlock()
	return true
}

func (s *Server) limits() (int, any) {
	daily := jsonObject{{"Max", s.max}, {"Remaining", max(s.max-s.used, 0)}}
	for _, a := range s.org.apps {
		base, capMax := s.appUsage(a)
		used := base + s.appUsed[a.name]
		if capMax == 0 && used == 0 {
			continue
		}
		remaining := 0
		if capMax > 0 {
			remaining = max(capMax-used, 0)
		}
		daily = append(daily, member{a.label, jsonObject{{"Max", capMax}, {"Remaining", remaining}}})
	}
	return 200, jsonObject{
		{"ConcurrentAsyncGetReportInstances", jsonObject{{"Max", 200}, {"Remaining", 200}}},
		{"DailyApiRequests", daily},
		{"DailyAsyncApexExecutions", jsonObject{{"Max", 250000}, {"Remaining", 250000}}},
		{"DailyBulkApiRequests", jsonObject{{"Max", 10000}, {"Remaining", 10000}}},
		{"DataStorageMB", jsonObject{{"Max", 1024}, {"Remaining", 1000}}},
		{"FileStorageMB", jsonObject{{"Max", 1024}, {"Remaining", 1020}}},
		{"PermissionSets", jsonObject{{"Max", 1500}, {"Remaining", max(1500-len(s.org.sc.PermissionSets), 0)}}},
	}
}

func (s *Server) appUsage(a *app) (used, capMax int) {
	if a.ca != nil {
		return a.ca.APIUsed, a.ca.APIMax
	}
	return a.eca.APIUsed, a.eca.APIMax
}
