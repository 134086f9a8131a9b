package fakeorg

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestFaults(t *testing.T) {
	t.Parallel()
	const path = "/services/data/v62.0/limits"
	tests := []struct {
		name   string
		fault  Fault
		check  func(t *testing.T, r response)
		second int // status of the next call after the fault is used up
	}{
		{"server error", Fault{Kind: FaultServerError, Count: 1}, func(t *testing.T, r response) {
			if r.status != 503 || r.errorCode(t) != "SERVER_UNAVAILABLE" {
				t.Errorf("%d %s", r.status, r.body)
			}
		}, 200},
		{"server error status", Fault{Kind: FaultServerError, Count: 1, Status: 500}, func(t *testing.T, r response) {
			if r.status != 500 {
				t.Errorf("%d", r.status)
			}
		}, 200},
		{"request limit", Fault{Kind: FaultRequestLimit, Count: 2}, func(t *testing.T, r response) {
			if r.status != 403 || r.errorCode(t) != "REQUEST_LIMIT_EXCEEDED" {
				t.Errorf("%d %s", r.status, r.body)
			}
		}, 403},
		{"invalid session", Fault{Kind: FaultInvalidSession, Count: 1}, func(t *testing.T, r response) {
			if r.status != 401 || r.errorCode(t) != "INVALID_SESSION_ID" {
				t.Errorf("%d %s", r.status, r.body)
			}
		}, 401}, // the session stays dead
		{"html page", Fault{Kind: FaultHTMLError, Count: 1}, func(t *testing.T, r response) {
			if r.status != 500 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") || !strings.Contains(string(r.body), "<html>") {
				t.Errorf("%d %s", r.status, r.body)
			}
		}, 200},
		{"login redirect", Fault{Kind: FaultLoginRedirect, Count: 1}, func(t *testing.T, r response) {
			if r.status != 302 || !strings.HasPrefix(r.header.Get("Location"), "/?ec=302&startURL=%2Fservices%2Fdata") {
				t.Errorf("%d %q", r.status, r.header.Get("Location"))
			}
		}, 200},
		{"other path", Fault{Kind: FaultServerError, Count: 1, Path: "/services/Soap/"}, func(t *testing.T, r response) {
			if r.status != 200 {
				t.Errorf("a fault for another path applied: %d", r.status)
			}
		}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := startBasic(t)
			tok := o.login(t, scannerKey, scannerSecret)
			o.srv.Inject(tt.fault)
			client := o.Client()
			client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
			tt.check(t, o.do(t, http.MethodGet, path, tok, nil, nil))
			if r := o.do(t, http.MethodGet, path, tok, nil, nil); r.status != tt.second {
				t.Errorf("next call: %d, want %d", r.status, tt.second)
			}
		})
	}
}

func TestFaultLatencyAndClear(t *testing.T) {
	t.Parallel()
	o := startBasic(t)
	tok := o.login(t, scannerKey, scannerSecret)
	o.srv.Inject(Fault{Kind: FaultLatency, Delay: Duration(20 * time.Millisecond)})
	o.srv.Inject(Fault{Kind: FaultServerError})
	for range 2 {
		if r := o.do(t, http.MethodGet, "/services/data/v62.0/limits", tok, nil, nil); r.status != 503 {
			t.Fatalf("unlimited fault stopped: %d", r.status)
		}
	}
	o.srv.ClearFaults()
	if r := o.do(t, http.MethodGet, "/services/data/v62.0/limits", tok, nil, nil); r.status != 200 {
		t.Errorf("after ClearFaults: %d", r.status)
	}
}

func TestFaultTruncate(t *testing.T) {
	t.Parallel()
	o := startBasic(t)
	tok := o.login(t, scannerKey, scannerSecret)
	o.srv.Inject(Fault{Kind: FaultTruncate, Count: 1})
	req, _ := http.NewRequest(http.MethodGet, o.URL+"/services/data/v62.0/limits", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := o.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if !errors.Is(err, io.ErrUnexpectedEOF) || int64(len(body)) >= resp.ContentLength || len(body) == 0 {
		t.Errorf("read %d of %d bytes, err %v; want a cut body", len(body), resp.ContentLength, err)
	}
}

func TestFaultExpireLocator(t *testing.T) {
	t.Parallel()
	o := startBasic(t)
	tok := o.login(t, scannerKey, scannerSecret)
	o.srv.Inject(Fault{Kind: FaultExpireLocator, Count: 1})
	// A plain query is not a queryMore: the fault waits.
	next := o.query(t, tok, "SELECT Id FROM User").json(t)["nextRecordsUrl"].(string)
	if r := o.do(t, http.MethodGet, next, tok, nil, nil); r.status != 400 || r.errorCode(t) != "INVALID_QUERY_LOCATOR" {
		t.Fatalf("queryMore: %d %s", r.status, r.body)
	}
	next = o.query(t, tok, "SELECT Id FROM User").json(t)["nextRecordsUrl"].(string)
	if r := o.do(t, http.MethodGet, next, tok, nil, nil); r.status != 200 {
		t.Errorf("second locator: %d %s", r.status, r.body)
	}
}

func TestFaultSOAP(t *testing.T) {
	t.Parallel()
	o := startBasic(t)
	tok := o.login(t, scannerKey, scannerSecret)
	o.srv.Inject(Fault{Kind: FaultInvalidSession, Count: 1, Path: "/services/Soap/"})
	r := o.soap(t, envelope(tok, `<readMetadata><type>ConnectedApp</type><fullNames>Scanner</fullNames></readMetadata>`))
	if code, _ := faultOf(t, r); r.status != 500 || code != "sf:INVALID_SESSION_ID" {
		t.Errorf("%d %s", r.status, r.body)
	}
}

func TestAdminFaults(t *testing.T) {
	t.Parallel()
	o := startBasic(t)
	tok := o.login(t, scannerKey, scannerSecret)
	post := func(body string) response {
		return o.do(t, http.MethodPost, "/_fakeorg/faults", "", strings.NewReader(body), map[string]string{"Content-Type": "application/json"})
	}
	if r := post(`{"kind":"nope"}`); r.status != 400 {
		t.Errorf("bad kind accepted: %d", r.status)
	}
	if r := post(`{"kind":"latency"}`); r.status != 400 {
		t.Errorf("latency without delay accepted: %d", r.status)
	}
	if r := post(`{"kind":"requestLimit","count":1}`); r.status != 204 {
		t.Fatalf("add fault: %d %s", r.status, r.body)
	}
	if r := o.do(t, http.MethodGet, "/_fakeorg/faults", "", nil, nil); !strings.Contains(string(r.body), `"kind":"requestLimit"`) {
		t.Errorf("list: %s", r.body)
	}
	if r := o.do(t, http.MethodGet, "/services/data/v62.0/limits", tok, nil, nil); r.status != 403 {
		t.Errorf("fault not applied: %d", r.status)
	}
	post(`{"kind":"serverError"}`)
	if r := o.do(t, http.MethodDelete, "/_fakeorg/faults", "", nil, nil); r.status != 204 {
		t.Errorf("clear: %d", r.status)
	}
	if r := o.do(t, http.MethodGet, "/services/data/v62.0/limits", tok, nil, nil); r.status != 200 {
		t.Errorf("after clear: %d", r.status)
	}
}
