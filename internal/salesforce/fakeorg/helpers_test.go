package fakeorg

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// Credentials of the apps in testdata/basic.yaml.
const (
	scannerKey    = "3MVG9scannerKEY"
	scannerSecret = "SCANNERSECRET0001"
	billingKey    = "3MVG9billingKEY"
	billingSecret = "BILLINGSECRET0001"
)

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type testOrg struct {
	*httptest.Server
	srv   *Server
	clock *fakeClock
}

func startScenario(t testing.TB, sc *Scenario) *testOrg {
	t.Helper()
	clock := &fakeClock{t: time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)}
	srv, err := New(sc, Options{Clock: clock.Now, Admin: true})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return &testOrg{Server: ts, srv: srv, clock: clock}
}

func startBasic(t testing.TB) *testOrg {
	t.Helper()
	sc, err := LoadScenario("testdata/basic.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return startScenario(t, sc)
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t testing.TB) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
	return v
}

// errorCode returns the errorCode of a REST error array.
func (r response) errorCode(t testing.TB) string {
	t.Helper()
	var v []struct {
		ErrorCode string `json:"errorCode"`
		Message   string `json:"message"`
	}
	if err := json.Unmarshal(r.body, &v); err != nil || len(v) != 1 {
		t.Fatalf("want a one-entry error array, got %d %s", r.status, r.body)
	}
	return v[0].ErrorCode
}

func (o *testOrg) do(t testing.TB, method, path, token string, body io.Reader, header map[string]string) response {
	t.Helper()
	req, err := http.NewRequest(method, o.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := o.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, b}
}

func (o *testOrg) form(t testing.TB, path string, form url.Values, header map[string]string) response {
	t.Helper()
	h := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	for k, v := range header {
		h[k] = v
	}
	return o.do(t, http.MethodPost, path, "", strings.NewReader(form.Encode()), h)
}

func (o *testOrg) login(t testing.TB, key, secret string) string {
	t.Helper()
	r := o.form(t, "/services/oauth2/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {key}, "client_secret": {secret}}, nil)
	if r.status != 200 {
		t.Fatalf("login: %d %s", r.status, r.body)
	}
	return r.json(t)["access_token"].(string)
}

func (o *testOrg) query(t testing.TB, token, soql string) response {
	t.Helper()
	return o.do(t, http.MethodGet, "/services/data/v62.0/query?q="+url.QueryEscape(soql), token, nil, nil)
}

func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
