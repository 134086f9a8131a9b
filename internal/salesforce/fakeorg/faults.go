package fakeorg

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// FaultKind names a fault the emulator can inject.
type FaultKind string

// Fault kinds.
const (
	FaultLatency        FaultKind = "latency"        // wait Delay, then serve normally
	FaultServerError    FaultKind = "serverError"    // HTTP Status (503 default) with a JSON error array
	FaultRequestLimit   FaultKind = "requestLimit"   // 403 REQUEST_LIMIT_EXCEEDED (a SOAP fault on the Metadata API)
	FaultInvalidSession FaultKind = "invalidSession" // 401 INVALID_SESSION_ID; the presented session ends
	FaultTruncate       FaultKind = "truncate"       // the real response, cut in the middle of the body
	FaultExpireLocator  FaultKind = "expireLocator"  // the next queryMore finds its locator gone: INVALID_QUERY_LOCATOR
	FaultHTMLError      FaultKind = "htmlError"      // an HTML error page with Status (500 default)
	FaultLoginRedirect  FaultKind = "loginRedirect"  // 302 to the login page, as for a browser session
)

// Fault is one injected failure. It applies to requests whose path starts
// with Path (every request when empty), Count times (until cleared when 0).
type Fault struct {
	Kind   FaultKind `yaml:"kind" json:"kind"`
	Path   string    `yaml:"path,omitempty" json:"path,omitempty"`
	Count  int       `yaml:"count,omitempty" json:"count,omitempty"`
	Delay  Duration  `yaml:"delay,omitempty" json:"delay,omitempty"`
	Status int       `yaml:"status,omitempty" json:"status,omitempty"`
}

func (f Fault) check() error {
	switch f.Kind {
	case FaultLatency:
		if f.Delay <= 0 || time.Duration(f.Delay) > time.Minute {
			return errors.New("latency needs a delay between 1ms and 1m")
		}
	case FaultServerError, FaultHTMLError:
		if f.Status != 0 && (f.Status < 500 || f.Status > 599) {
			return errors.New("status must be 5xx")
		}
	case FaultRequestLimit, FaultInvalidSession, FaultTruncate, FaultExpireLocator, FaultLoginRedirect:
	default:
		return fmt.Errorf("unknown fault kind %q; want latency, serverError, requestLimit, invalidSession, truncate, expireLocator, htmlError or loginRedirect", f.Kind)
	}
	if f.Count < 0 {
		return errors.New("count must not be negative")
	}
	return nil
}

type activeFault struct {
	Fault
	left int // remaining uses; -1 for unlimited
}

// Inject adds a fault. Faults are tried in the order they were added.
func (s *Server) Inject(f Fault) {
	left := f.Count
	if left == 0 {
		left = -1
	}
	s.mu.Lock()
	s.faults = append(s.faults, &activeFault{f, left})
	s.mu.Unlock()
}

// ClearFaults removes every fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	s.faults = nil
	s.mu.Unlock()
}

// take returns the faults that apply to a request and uses them up.
func (s *Server) take(r *http.Request) []Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Fault
	kept := s.faults[:0]
	for _, f := range s.faults {
		applies := strings.HasPrefix(r.URL.Path, f.Path)
		if f.Kind == FaultExpireLocator && !strings.Contains(r.URL.Path, "/query/") {
			applies = false
		}
		if applies {
			out = append(out, f.Fault)
			if f.left > 0 {
				f.left--
			}
		}
		if f.left != 0 {
			kept = append(kept, f)
		}
	}
	s.faults = kept
	return out
}

func isSOAP(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/services/Soap/") }

// applyFaults runs the faults for a request; done reports that the response
// has been written. A truncate fault returns a wrapping writer.
func (s *Server) applyFaults(w http.ResponseWriter, r *http.Request) (http.ResponseWriter, bool) {
	for _, f := range s.take(r) {
		switch f.Kind {
		case FaultLatency:
			t := time.NewTimer(time.Duration(f.Delay))
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return w, true
			}
		case FaultServerError:
			status := cmpOr(f.Status, http.StatusServiceUnavailable)
			if isSOAP(r) {
				writeFault(w, "soapenv:Server", "SERVER_UNAVAILABLE: the server is temporarily unavailable")
				return w, true
			}
			writeAPIError(w, &apiError{status, "SERVER_UNAVAILABLE", "Server temporarily unavailable. Please try again later."})
			return w, true
		case FaultRequestLimit:
			if isSOAP(r) {
				writeFault(w, "sf:REQUEST_LIMIT_EXCEEDED", "REQUEST_LIMIT_EXCEEDED: TotalRequests Limit exceeded.")
				return w, true
			}
			writeAPIError(w, errLimit)
			return w, true
		case FaultInvalidSession:
			s.mu.Lock()
			if sess := s.sessions[bearer(r)]; sess != nil {
				sess.revoked = true
			}
			s.mu.Unlock()
			if isSOAP(r) {
				writeFault(w, "sf:INVALID_SESSION_ID", "INVALID_SESSION_ID: Invalid Session ID found in SessionHeader: Illegal Session")
				return w, true
			}
			writeAPIError(w, &apiError{401, "INVALID_SESSION_ID", "Session expired or invalid"})
			return w, true
		case FaultExpireLocator:
			if s.expireLocator(r.URL.Path) {
				writeAPIError(w, errLocator)
				return w, true
			}
		case FaultHTMLError:
			w.Header().Set("Content-Type", "text/html;charset=UTF-8")
			w.WriteHeader(cmpOr(f.Status, http.StatusInternalServerError))
			fmt.Fprint(w, htmlErrorPage)
			return w, true
		case FaultLoginRedirect:
			http.Redirect(w, r, "/?ec=302&startURL="+url.QueryEscape(r.URL.RequestURI()), http.StatusFound)
			return w, true
		case FaultTruncate:
			w = &truncatingWriter{ResponseWriter: w, status: http.StatusOK}
		}
	}
	return w, false
}

func cmpOr(v, d int) int {
	if v == 0 {
		return d
	}
	return v
}

const htmlErrorPage = `<!DOCTYPE html>
<html><head><title>Error</title></head>
<body><h1>An internal server error has occurred</h1>
<p>An error has occurred while processing your request. The salesforce.com support team has been notified of the problem.</p>
</body></html>
`

// truncatingWriter buffers a response and sends only the first half of its
// body while announcing the full length, so the client sees the connection
// close early.
type truncatingWriter struct {
	http.ResponseWriter
	status int
	buf    bytes.Buffer
}

// WriteHeader records the status for flush.
func (t *truncatingWriter) WriteHeader(status int) { t.status = status }

// Write buffers the body for flush.
func (t *truncatingWriter) Write(b []byte) (int, error) { return t.buf.Write(b) }

func (t *truncatingWriter) flush() {
	body := t.buf.Bytes()
	t.ResponseWriter.Header().Set("Content-Length", strconv.Itoa(len(body)))
	t.ResponseWriter.WriteHeader(t.status)
	t.ResponseWriter.Write(body[:len(body)/2])
}

// adminPath is the loopback-only fault-injection endpoint:
// POST a fault (JSON or YAML) to add it, DELETE to clear all, GET to list.
const adminPath = "/_fakeorg/faults"

func (s *Server) serveAdmin(w http.ResponseWriter, r *http.Request) {
	if !isLoopback(r) || r.URL.Path != adminPath {
		http.NotFound(w, r)
		return
	}
	switch r.Method {
	case http.MethodGet:
		s.mu.Lock()
		list := make([]Fault, 0, len(s.faults))
		for _, f := range s.faults {
			list = append(list, f.Fault)
		}
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(list)
	case http.MethodPost:
		body, err := readBody(w, r, 64<<10)
		var f Fault
		if err == nil {
			err = decodeYAML(body, &f)
		}
		if err == nil {
			err = f.check()
		}
		if err != nil {
			http.Error(w, "bad fault: "+err.Error(), http.StatusBadRequest)
			return
		}
		s.Inject(f)
		w.WriteHeader(http.StatusNoContent)
	case http.MethodDelete:
		s.ClearFaults()
		w.WriteHeader(http.StatusNoContent)
	default:
		http.Error(w, "use GET, POST or DELETE", http.StatusMethodNotAllowed)
	}
}
