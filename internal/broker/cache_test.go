package broker

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/steward-dev/steward/internal/audit"
	"github.com/steward-dev/steward/internal/salesforce/fakeorg"
	"github.com/steward-dev/steward/internal/secrets"
	"github.com/steward-dev/steward/internal/snapshot"
	"github.com/steward-dev/steward/internal/store"
	"github.com/steward-dev/steward/internal/store/storetest"
)

// testClock is a settable clock shared by the cache and the emulator.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// org is an emulated org on loopback that counts token exchanges.
type org struct {
	srv       *fakeorg.Server
	url       string
	client    *http.Client
	exchanges atomic.Int64
	id        string
	secret    string
}

func startOrg(t testing.TB, clock *testClock) *org {
	t.Helper()
	root, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
			break
		}
		if root == filepath.Dir(root) {
			t.Fatal("go.mod not found")
		}
		root = filepath.Dir(root)
	}
	sc, err := fakeorg.LoadScenario(filepath.Join(root, "examples/acme/org/scenario.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := fakeorg.New(sc, fakeorg.Options{Clock: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	o := &org{srv: srv}
	o.id, o.secret, _ = sc.Credentials("Erp_Connector")
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/services/oauth2/token" {
			o.exchanges.Add(1)
		}
		srv.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	o.url, o.client = ts.URL, ts.Client()
	return o
}

// secretStore is a temporary SQLite secret store with its audit log.
type secretStore struct {
	db store.Store
	s  *secrets.Store
}

func newSecretStore(t testing.TB, clock *testClock) *secretStore {
	t.Helper()
	ctx := context.Background()
	open, _ := storetest.SQLite(t)
	db := open()
	key := make([]byte, 32)
	rand.Read(key)
	keys, err := secrets.ParseKeyring("k1:"+base64.StdEncoding.EncodeToString(key), "test")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := secrets.SigningKey(ctx, db, keys)
	if err != nil {
		t.Fatal(err)
	}
	log, err := audit.New(audit.Config{Store: db, Signer: signer, Now: clock.Now, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	s, err := secrets.New(ctx, secrets.Config{DB: db, Keys: keys, Audit: log, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return &secretStore{db: db, s: s}
}

func (ss *secretStore) put(t testing.TB, identity string, b secrets.Bundle) {
	t.Helper()
	if _, err := ss.s.Put(context.Background(), audit.Actor{Kind: audit.ActorHuman, ID: "ana"}, identity, b, secrets.Any, time.Hour); err != nil {
		t.Fatal(err)
	}
}

// records returns every audit record body.
func (ss *secretStore) records(t testing.TB) []string {
	t.Helper()
	var out []string
	err := ss.db.AuditRecords(context.Background(), 0, func(r store.AuditRecord) error {
		out = append(out, string(r.Body))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// reads counts the audited secret reads.
func (ss *secretStore) reads(t testing.TB) int {
	t.Helper()
	n := 0
	for _, body := range ss.records(t) {
		if strings.Contains(body, secrets.ActionRead) {
			n++
		}
	}
	return n
}

type fixture struct {
	clock *testClock
	org   *org
	store *secretStore
	cache *Cache
	logs  *syncBuffer
}

// syncBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	clock := &testClock{t: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)}
	f := &fixture{clock: clock, org: startOrg(t, clock), store: newSecretStore(t, clock), logs: &syncBuffer{}}
	f.store.put(t, "erp-connector-prod", secrets.Bundle{URL: f.org.url, ConsumerKey: f.org.id, ConsumerSecret: f.org.secret})
	logger := slog.New(slog.NewJSONHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	x, err := NewExchanger(ExchangeConfig{Secrets: f.store.s, HTTPClient: f.org.client, MaxRetries: 1, InitialBackoff: time.Millisecond, BreakerFailures: 3, BreakerOpen: time.Hour, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	f.cache, err = NewCache(CacheConfig{Minter: x, SafetyMargin: time.Minute, Now: clock.Now, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// settle waits for identity's exchange in flight, if any.
func (c *Cache) settle(identity string) {
	c.mu.Lock()
	var f *flight
	if e := c.entries[identity]; e != nil {
		f = e.flight
	}
	c.mu.Unlock()
	if f != nil {
		<-f.done
	}
}

func TestCacheSingleFlight(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	const callers = 100
	grants := make([]Grant, callers)
	errs := make([]error, callers)
	var start, wg sync.WaitGroup
	start.Add(1)
	for i := range callers {
		wg.Go(func() {
			start.Wait()
			grants[i], errs[i] = f.cache.Token(ctx, "erp-connector-prod", 15*time.Minute)
		})
	}
	start.Done()
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("caller %d: %v", i, err)
		}
		if grants[i].AccessToken == "" || grants[i].AccessToken != grants[0].AccessToken {
			t.Fatalf("caller %d got another token than caller 0", i)
		}
	}
	if n := f.org.exchanges.Load(); n != 1 {
		t.Errorf("a cold cache with %d callers made %d exchanges, want 1", callers, n)
	}
	if got := f.cache.Hits() + f.cache.Misses(); got != callers {
		t.Errorf("hits+misses = %d, want %d", got, callers)
	}
	// Warm: no more exchanges.
	for range callers {
		g, err := f.cache.Token(ctx, "erp-connector-prod", 15*time.Minute)
		if err != nil || !g.Cached {
			t.Fatalf("warm Token = %v, %v; want a cached grant", g, err)
		}
	}
	if n := f.org.exchanges.Load(); n != 1 {
		t.Errorf("warm cache made %d exchanges in all, want 1", n)
	}
	// The secret was read once, audited, and appears in no record or log.
	reads := 0
	for _, body := range f.store.records(t) {
		if strings.Contains(body, secrets.ActionRead) {
			reads++
		}
		if strings.Contains(body, f.org.secret) || strings.Contains(body, grants[0].AccessToken) {
			t.Errorf("audit record holds the secret or the token: %s", body)
		}
	}
	if reads != 1 {
		t.Errorf("%d audited secret reads, want 1", reads)
	}
	logs := f.logs.String()
	if strings.Contains(logs, f.org.secret) || strings.Contains(logs, grants[0].AccessToken) {
		t.Errorf("logs hold the secret or the token:\n%s", logs)
	}
	if s := grants[0].String() + grants[0].GoString(); strings.Contains(s, grants[0].AccessToken) {
		t.Errorf("Grant's String shows the token: %s", s)
	}
}

func TestCacheLifetimeAndRefresh(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	const id, lifetime = "erp-connector-prod", 15 * time.Minute
	g1, err := f.cache.Token(ctx, id, lifetime)
	if err != nil {
		t.Fatal(err)
	}
	if want := f.clock.Now().Add(lifetime - time.Minute); !g1.ExpiresAt.Equal(want) {
		t.Errorf("ExpiresAt = %s, want issue time + lifetime - margin = %s", g1.ExpiresAt, want)
	}
	// Before four fifths of the (shortened) lifetime: served from cache.
	f.clock.Add(10 * time.Minute)
	if g, err := f.cache.Token(ctx, id, lifetime); err != nil || g.AccessToken != g1.AccessToken {
		t.Fatalf("at 10 min: %v, %v; want the first token", g, err)
	}
	f.cache.settle(id)
	if n := f.org.exchanges.Load(); n != 1 {
		t.Fatalf("exchanges at 10 min = %d, want 1", n)
	}
	// Past four fifths: still the cached token, with a refresh behind it.
	f.clock.Add(2 * time.Minute)
	if g, err := f.cache.Token(ctx, id, lifetime); err != nil || g.AccessToken != g1.AccessToken {
		t.Fatalf("at 12 min: %v, %v; want the first token while it refreshes", g, err)
	}
	f.cache.settle(id)
	if n := f.org.exchanges.Load(); n != 2 {
		t.Fatalf("exchanges after the refresh = %d, want 2", n)
	}
	g2, err := f.cache.Token(ctx, id, lifetime)
	if err != nil || g2.AccessToken == g1.AccessToken || !g2.Cached {
		t.Fatalf("after refresh: %v, %v; want a new cached token", g2, err)
	}
	// Past expiry without a refresh: the next caller waits for a new one.
	f.clock.Add(lifetime)
	g3, err := f.cache.Token(ctx, id, lifetime)
	if err != nil || g3.Cached || g3.AccessToken == g2.AccessToken {
		t.Fatalf("after expiry: %v, %v; want a fresh exchange", g3, err)
	}
}

func TestCacheOutage(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	const id, lifetime = "erp-connector-prod", 15 * time.Minute
	f.store.put(t, "erp-connector-uat", secrets.Bundle{URL: f.org.url + "/services/oauth2/token", ConsumerKey: f.org.id, ConsumerSecret: f.org.secret})
	warm, err := f.cache.Token(ctx, id, lifetime)
	if err != nil {
		t.Fatal(err)
	}
	f.org.srv.Inject(fakeorg.Fault{Kind: fakeorg.FaultServerError, Status: http.StatusServiceUnavailable})

	// Inside the refresh window a failed refresh does not matter, and
	// the next one waits RefreshRetry.
	f.clock.Add(13 * time.Minute)
	served := func() {
		t.Helper()
		g, err := f.cache.Token(ctx, id, lifetime)
		if err != nil || g.AccessToken != warm.AccessToken {
			t.Fatalf("during the outage: %v, %v; want the cached token", g, err)
		}
		f.cache.settle(id)
	}
	served() // refresh 1 fails (two attempts: MaxRetries 1)
	after := f.org.exchanges.Load()
	served()
	served()
	if n := f.org.exchanges.Load(); n != after {
		t.Errorf("%d refresh attempts within RefreshRetry of a failed one, want 0", n-after)
	}
	f.clock.Add(RefreshRetry)
	served() // refresh 2 fails
	if n := f.org.exchanges.Load(); n == after {
		t.Error("no refresh attempt after RefreshRetry")
	}
	// A cold identity fails clearly; that is the third failure in a row.
	_, err = f.cache.Token(ctx, "erp-connector-uat", lifetime)
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("cold identity during the outage: %v, want ErrUnavailable", err)
	}
	// The breaker is open: the org is left alone, and the secret is not
	// even read.
	before, reads := f.org.exchanges.Load(), f.store.reads(t)
	f.clock.Add(2 * time.Minute) // past expiry
	for range 3 {
		_, err = f.cache.Token(ctx, id, lifetime)
		if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "circuit breaker") {
			t.Fatalf("expired during the outage: %v, want ErrUnavailable from the open breaker", err)
		}
	}
	if n := f.org.exchanges.Load(); n != before {
		t.Errorf("open breaker let %d exchanges through", n-before)
	}
	if r := f.store.reads(t); r != reads {
		t.Errorf("open breaker: %d secret reads, want 0", r-reads)
	}
	if strings.Contains(err.Error(), f.org.secret) {
		t.Errorf("error holds the secret: %v", err)
	}
}

func TestExchangeRefused(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.store.put(t, "wrong-secret", secrets.Bundle{URL: f.org.url, ConsumerKey: f.org.id, ConsumerSecret: "NOT-THE-SECRET-0000000000000000000000000000000000000000000000000"})
	for range 5 {
		_, err := f.cache.Token(ctx, "wrong-secret", time.Hour)
		if !errors.Is(err, ErrRefused) || errors.Is(err, ErrUnavailable) {
			t.Fatalf("wrong secret: %v, want ErrRefused", err)
		}
		if strings.Contains(err.Error(), "NOT-THE-SECRET") {
			t.Fatalf("error holds the secret: %v", err)
		}
	}
	// Refusals are not outages: the breaker stays closed for the org.
	if _, err := f.cache.Token(ctx, "erp-connector-prod", time.Hour); err != nil {
		t.Errorf("good identity after refusals: %v", err)
	}
	// An identity without a secret fails without an exchange.
	before := f.org.exchanges.Load()
	if _, err := f.cache.Token(ctx, "no-such-identity", time.Hour); err == nil || errors.Is(err, ErrUnavailable) {
		t.Errorf("missing secret: %v, want a store error", err)
	}
	if f.org.exchanges.Load() != before {
		t.Error("missing secret caused an exchange")
	}
}

func TestCacheCallerCancel(t *testing.T) {
	f := newFixture(t)
	f.org.srv.Inject(fakeorg.Fault{Kind: fakeorg.FaultLatency, Delay: fakeorg.Duration(200 * time.Millisecond), Count: 1})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := f.cache.Token(ctx, "erp-connector-prod", time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled caller: %v", err)
	}
	// The exchange went on for the others.
	f.cache.settle("erp-connector-prod")
	if !f.cache.Cached("erp-connector-prod") {
		t.Error("a cancelled caller cancelled the shared exchange")
	}
	f.cache.Drop("erp-connector-prod")
	if f.cache.Cached("erp-connector-prod") {
		t.Error("Drop kept the token")
	}
}

func TestSessionTimeout(t *testing.T) {
	snap := &snapshot.Snapshot{Apps: []snapshot.App{{Name: "Erp_Connector", SessionTimeoutMinutes: 15}, {Name: "No_Timeout"}}}
	id := func(app string) *snapshot.Identity {
		return &snapshot.Identity{Salesforce: snapshot.Binding{App: app}}
	}
	tests := []struct {
		name string
		snap *snapshot.Snapshot
		id   *snapshot.Identity
		def  time.Duration
		want time.Duration
	}{
		{"app timeout", snap, id("Erp_Connector"), time.Hour, 15 * time.Minute},
		{"app without timeout", snap, id("No_Timeout"), time.Hour, time.Hour},
		{"unknown app", snap, id("Other"), 0, DefaultSessionTimeout},
		{"no snapshot", nil, id("Erp_Connector"), 30 * time.Minute, 30 * time.Minute},
	}
	for _, tt := range tests {
		if got := SessionTimeout(tt.snap, tt.id, tt.def); got != tt.want {
			t.Errorf("%s: SessionTimeout = %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestOrgBase(t *testing.T) {
	for in, want := range map[string]string{
		"https://acme.my.salesforce.com":                        "https://acme.my.salesforce.com",
		"https://acme.my.salesforce.com/":                       "https://acme.my.salesforce.com",
		"https://acme.my.salesforce.com/services/oauth2/token":  "https://acme.my.salesforce.com",
		"https://acme.my.salesforce.com/services/oauth2/token/": "https://acme.my.salesforce.com",
	} {
		if got := orgBase(in); got != want {
			t.Errorf("orgBase(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCacheRevoke(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	const id, lifetime = "erp-connector-prod", 15 * time.Minute
	g1, err := f.cache.Token(ctx, id, lifetime)
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Add(12 * time.Minute) // past the refresh point: a second token
	f.cache.Token(ctx, id, lifetime)
	f.cache.settle(id)
	g2, err := f.cache.Token(ctx, id, lifetime)
	if err != nil || g2.AccessToken == g1.AccessToken {
		t.Fatalf("no refreshed token: %v", err)
	}
	// Both tokens work at the org until revoked.
	status := func(tok string) int {
		req, _ := http.NewRequest(http.MethodGet, f.org.url+"/services/data/v67.0/limits", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := f.org.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if status(g1.AccessToken) != http.StatusOK || status(g2.AccessToken) != http.StatusOK {
		t.Fatal("tokens rejected before the revocation")
	}
	n, err := f.cache.Revoke(ctx, id)
	if err != nil || n != 2 {
		t.Fatalf("Revoke = %d, %v; want both tokens revoked", n, err)
	}
	if s1, s2 := status(g1.AccessToken), status(g2.AccessToken); s1 != http.StatusUnauthorized || s2 != http.StatusUnauthorized {
		t.Errorf("after the revocation the org answers %d and %d, want 401", s1, s2)
	}
	if f.cache.Cached(id) {
		t.Error("a revoked token is still cached")
	}
	if n, err := f.cache.Revoke(ctx, id); n != 0 || err != nil {
		t.Errorf("second Revoke = %d, %v; want nothing to do", n, err)
	}
	// The next request exchanges again.
	g3, err := f.cache.Token(ctx, id, lifetime)
	if err != nil || g3.Cached || g3.AccessToken == g2.AccessToken {
		t.Errorf("after the revocation: %v, %v; want a fresh token", g3, err)
	}
}
