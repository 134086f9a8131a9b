// Package fakeorg emulates the parts of a Salesforce org that Steward talks
// to: the OAuth client-credentials token endpoint with revocation and
// introspection, the REST query, Tooling query, composite and limits
// resources, and the Metadata SOAP API's listMetadata and readMetadata for
// connected apps and External Client Apps. Its content comes from a YAML
// scenario (or Generate). Faults such as latency, expired sessions, API
// limits and truncated bodies can be injected per scenario or at run time.
//
// The emulator follows the wire formats of a real org; where the public
// documentation leaves a detail open, the choice made is listed in
// docs/fakeorg.md.
package fakeorg

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options configure a Server.
type Options struct {
	// Clock returns the current time; time.Now when nil. Relative times in
	// the scenario count from its value when New is called.
	Clock func() time.Time
	// Admin serves the fault-injection endpoint /_fakeorg/faults to
	// loopback clients.
	Admin bool
}

// Server is the fake org: an http.Handler.
type Server struct {
	org   *org
	clock func() time.Time
	admin bool

	mu       sync.Mutex
	sessions map[string]*session
	locators map[string]*cursor
	used     int // API calls made today
	max      int
	appUsed  map[string]int // app name → calls made with its tokens
	faults   []*activeFault
}

type session struct {
	token   string
	app     *app
	user    *row
	issued  time.Time
	expires time.Time
	revoked bool
}

// Supported API versions: 31.0 (Summer '14) to 67.0 (Summer '26).
const (
	minVersion = 31
	maxVersion = 67
)

// New builds the org described by the scenario. The scenario must have
// passed Validate (LoadScenario and Generate guarantee it).
func New(sc *Scenario, opts Options) (*Server, error) {
	if err := sc.Validate(); err != nil {
		return nil, fmt.Errorf("scenario: %w", err)
	}
	clock := opts.Clock
	if clock == nil {
		clock = time.Now
	}
	s := &Server{
		org: buildOrg(sc, clock), clock: clock, admin: opts.Admin,
		sessions: map[string]*session{}, locators: map[string]*cursor{}, appUsed: map[string]int{},
		used: sc.Org.APIUsed, max: sc.Org.APIDailyMax,
	}
	if s.max == 0 {
		s.max = 100000
	}
	for _, f := range sc.Faults {
		s.Inject(f)
	}
	return s, nil
}

// APIUsage returns the API calls counted today and the daily maximum.
func (s *Server) APIUsage() (used, max int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.used, s.max
}

// MyDomainHost is the org's My Domain host name, for example
// acme.my.salesforce.com or acme--uat.sandbox.my.salesforce.com.
func (s *Server) MyDomainHost() string {
	o := s.org.sc.Org
	if o.Kind == "sandbox" {
		return o.MyDomain + "--" + def(o.SandboxName, "sandbox") + ".sandbox.my.salesforce.com"
	}
	return o.MyDomain + ".my.salesforce.com"
}

// ServeHTTP routes a request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	if s.admin && strings.HasPrefix(path, adminPath) {
		s.serveAdmin(w, r)
		return
	}
	if path == "/services/data" || path == "/services/data/" {
		s.serveVersions(w, r)
		return
	}
	w, done := s.applyFaults(w, r)
	if done {
		return
	}
	if tw, ok := w.(*truncatingWriter); ok {
		defer tw.flush()
	}
	switch {
	case path == "/services/oauth2/token":
		s.serveToken(w, r)
	case path == "/services/oauth2/revoke":
		s.serveRevoke(w, r)
	case path == "/services/oauth2/introspect":
		s.serveIntrospect(w, r)
	case strings.HasPrefix(path, "/services/data/v"):
		s.serveData(w, r, false)
	case strings.HasPrefix(path, "/services/Soap/m/"):
		s.serveSOAP(w, r)
	default:
		writeAPIError(w, &apiError{404, "NOT_FOUND", "The requested resource does not exist"})
	}
}

// parseVersion reads "v62.0" into 62.
func parseVersion(seg string) (int, bool) {
	major, minor, ok := strings.Cut(strings.TrimPrefix(seg, "v"), ".")
	if !ok || minor != "0" {
		return 0, false
	}
	n, err := strconv.Atoi(major)
	if err != nil || n < minVersion || n > maxVersion {
		return 0, false
	}
	return n, true
}

func versionLabel(v int) string {
	release := 2*v + 128
	season := [...]string{"Winter", "Spring", "Summer"}[(release%6)/2]
	year := 26 + floorDiv(release-258, 6)
	return fmt.Sprintf("%s '%02d", season, year)
}

func floorDiv(a, b int) int {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func (s *Server) serveVersions(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		writeAPIError(w, &apiError{405, "METHOD_NOT_ALLOWED", "HTTP Method '" + r.Method + "' not allowed. Allowed are GET,HEAD"})
		return
	}
	var out []jsonObject
	for v := minVersion; v <= maxVersion; v++ {
		out = append(out, jsonObject{{"label", versionLabel(v)}, {"url", fmt.Sprintf("/services/data/v%d.0", v)}, {"version", fmt.Sprintf("%d.0", v)}})
	}
	writeJSON(w, http.StatusOK, out)
}

// authenticate finds the live session for a bearer token. The caller holds
// s.mu.
func (s *Server) authenticate(token string) (*session, bool) {
	sess := s.sessions[token]
	if sess == nil || sess.revoked || !s.clock().Before(sess.expires) {
		return nil, false
	}
	return sess, true
}

func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	for _, scheme := range []string{"Bearer ", "OAuth "} {
		if len(h) > len(scheme) && strings.EqualFold(h[:len(scheme)], scheme) {
			return strings.TrimSpace(h[len(scheme):])
		}
	}
	return ""
}

var errLimit = &apiError{403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."}

// count charges one API call to the session's app. The caller holds s.mu.
func (s *Server) count(sess *session) error {
	if s.used >= s.max {
		return errLimit
	}
	s.used++
	s.appUsed[sess.app.name]++
	return nil
}

func (s *Server) limitInfo() string {
	return fmt.Sprintf("api-usage=%d/%d", s.used, s.max)
}

func isLoopback(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// readBody reads at most n bytes of a request body.
func readBody(w http.ResponseWriter, r *http.Request, n int64) ([]byte, error) {
	return io.ReadAll(http.MaxBytesReader(w, r.Body, n))
}
