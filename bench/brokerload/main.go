// Command brokerload measures the token broker under load on loopback: an
// emulated org, a temporary SQLite store with its audit log, a local JWT
// issuer and the real HTTP API over TLS, then CLIENTS concurrent workloads
// asking for cached tokens over kept-alive connections for DURATION. Every
// request verifies a JWT, evaluates the runtime policy and makes an audit
// record durable. It prints grants per second, latency percentiles, the
// process's CPU time per grant, the audit log's commits and the server's
// waits for durable records, and the upstream exchanges per request, and
// exits 1 when a request failed or more than one exchange per identity
// happened. Throughput never fails it.
//
// Each client is a lean HTTP/1.1 client on its own TLS connection, so that
// the load generator, which shares the machine, takes as little of it as
// it can; -http2 uses Go's HTTP client over one multiplexed connection
// instead.
//
// With -soak it runs for longer and samples the process's live heap and
// resident memory every -sample, prints their start, end, maximum and
// slope, and also exits 1 when the live heap or the anonymous resident
// memory grows by more than a bound over the run.
//
//	go run ./bench/brokerload -duration 10s -clients 32
//	go run ./bench/brokerload -soak 5m -sample 10s
package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/bits"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime/metrics"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/prometheus/procfs"

	"github.com/steward-dev/steward/internal/audit"
	"github.com/steward-dev/steward/internal/broker"
	"github.com/steward-dev/steward/internal/httpapi"
	"github.com/steward-dev/steward/internal/salesforce/fakeorg"
	"github.com/steward-dev/steward/internal/secrets"
	"github.com/steward-dev/steward/internal/server"
	"github.com/steward-dev/steward/internal/snapshot"
	"github.com/steward-dev/steward/internal/store"
	"github.com/steward-dev/steward/internal/workload"
)

// Bounds of a run: the load is bounded, on loopback only.
const (
	maxDuration = 20 * time.Second
	maxSoak     = 30 * time.Minute
)

// options are the command line's settings.
type options struct {
	duration   time.Duration
	clients    int
	identities int
	cpuProfile string
	memProfile string
	soak       time.Duration
	sample     time.Duration
	auditDelay time.Duration
	http2      bool
	syncCommit bool
	noMemo     bool
}

func main() {
	var o options
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "how long to send requests (at most 20s)")
	flag.IntVar(&o.clients, "clients", 32, "concurrent clients")
	flag.IntVar(&o.identities, "identities", 4, "identities the clients share")
	flag.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the load phase to this file")
	flag.StringVar(&o.memProfile, "memprofile", "", "write an allocation profile (setup included) to this file after the load")
	flag.DurationVar(&o.soak, "soak", 0, "run a soak of this length instead (at most 30m), sampling memory")
	flag.DurationVar(&o.sample, "sample", 10*time.Second, "memory sampling interval of a soak")
	flag.BoolVar(&o.http2, "http2", false, "serve and ask over HTTP/2 (one multiplexed connection) instead of HTTP/1.1 keep-alive connections")
	flag.BoolVar(&o.syncCommit, "sync-commits", false, "sync each audit commit to disk in its transaction instead of flushing it while the next one commits")
	flag.BoolVar(&o.noMemo, "no-decision-memo", false, "evaluate the runtime policy for every request instead of reusing a decision made in the same second on the same input")
	flag.DurationVar(&o.auditDelay, "audit-max-delay", audit.DefaultMaxDelay, "the audit log's longest group-commit hold (negative: none)")
	flag.Parse()
	o.duration = min(o.duration, maxDuration)
	if o.soak > 0 {
		o.duration = min(o.soak, maxSoak)
	}
	if o.clients < 1 || o.identities < 1 || o.identities > o.clients || o.sample <= 0 {
		fmt.Fprintln(os.Stderr, "brokerload: need clients ≥ identities ≥ 1 and a positive -sample")
		os.Exit(2)
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "brokerload:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	// As steward serve runs.
	gc := server.TuneGC(os.Getenv)
	clients, identities := o.clients, o.identities
	ctx := context.Background()
	tmp, err := os.MkdirTemp("", "brokerload")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	// The org.
	sc, err := fakeorg.LoadScenario(filepath.Join(repoRoot(), "examples/acme/org/scenario.yaml"))
	if err != nil {
		return err
	}
	org, err := fakeorg.New(sc, fakeorg.Options{})
	if err != nil {
		return err
	}
	var exchanges atomic.Int64
	orgTS := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/services/oauth2/token" {
			exchanges.Add(1)
		}
		org.ServeHTTP(w, r)
	}))
	defer orgTS.Close()
	clientID, secret, _ := sc.Credentials("Erp_Connector")

	// The store and audit log.
	db, err := store.OpenSQLite(ctx, tmp)
	if err != nil {
		return err
	}
	defer db.Close()
	kek := make([]byte, 32)
	rand.Read(kek)
	keys, err := secrets.ParseKeyring("k1:"+base64.StdEncoding.EncodeToString(kek), "brokerload")
	if err != nil {
		return err
	}
	signer, err := secrets.SigningKey(ctx, db, keys)
	if err != nil {
		return err
	}
	commits := &countingAppender{Appender: db}
	var appender audit.Appender = commits
	if d, ok := db.(audit.DeferredAppender); ok && !o.syncCommit {
		appender = deferredCountingAppender{commits, d}
	}
	log, err := audit.New(audit.Config{Store: appender, Signer: signer, MaxDelay: o.auditDelay})
	if err != nil {
		return err
	}
	defer log.Close()
	ss, err := secrets.New(ctx, secrets.Config{DB: db, Keys: keys, Audit: log})
	if err != nil {
		return err
	}

	// The issuer.
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: "k1", Algorithm: "ES256", Use: "sig"}}})
	}))
	defer jwks.Close()

	// The identities: each client is the consumer of one.
	today := time.Now().UTC().Format(time.DateOnly)
	snap := &snapshot.Snapshot{Apps: []snapshot.App{{Name: "Erp_Connector", SessionTimeoutMinutes: 120}}}
	ana := audit.Actor{Kind: audit.ActorHuman, ID: "bench"}
	for i := range identities {
		name := fmt.Sprintf("erp-%d", i)
		if _, err := ss.Put(ctx, ana, name, secrets.Bundle{URL: orgTS.URL, ConsumerKey: clientID, ConsumerSecret: secret}, 0, time.Hour); err != nil {
			return err
		}
		var consumers []snapshot.Consumer
		for c := i; c < clients; c += identities {
			consumers = append(consumers, snapshot.Consumer{OIDCIssuer: jwks.URL, OIDCSubject: fmt.Sprintf("client-%d", c)})
		}
		snap.Identities = append(snap.Identities, snapshot.Identity{
			Name: name, Environment: "production", Lifecycle: "active",
			Salesforce: snapshot.Binding{URL: orgTS.URL, App: "Erp_Connector"}, Consumers: consumers,
			Credential: snapshot.Credential{SecretRef: name, RotationDays: 90, RotatedAt: today},
			Review:     snapshot.Review{IntervalDays: 90, LastReviewed: today},
		})
	}

	// The API.
	auth, err := workload.NewAuthenticator(workload.Config{Issuers: []workload.IssuerConfig{{
		Issuer: jwks.URL, JWKSURL: jwks.URL, Audiences: []string{"steward"}, Environment: "production",
	}}}, workload.OIDCOptions{})
	if err != nil {
		return err
	}
	dec, err := broker.NewDecider(ctx, broker.DecisionOptions{NoMemo: o.noMemo})
	if err != nil {
		return err
	}
	// As the server runs it: each identity's secret state and review
	// prepared ahead of the decisions, from the secret store.
	facts, err := broker.NewFacts(ctx, broker.FactsConfig{Snapshot: snap, Secrets: ss, Decider: dec})
	if err != nil {
		return err
	}
	waits := &timedAuditor{Auditor: log}
	metrics := httpapi.NewMetrics()
	x, err := broker.NewExchanger(broker.ExchangeConfig{Secrets: ss, HTTPClient: orgTS.Client(), OnExchange: metrics.Exchange})
	if err != nil {
		return err
	}
	cache, err := broker.NewCache(broker.CacheConfig{Minter: x})
	if err != nil {
		return err
	}
	// The server's JSON log, one line per request, goes to a file, as
	// 'steward serve' writes it to its standard error: a write per grant.
	accessLog, err := os.Create(filepath.Join(tmp, "broker.log"))
	if err != nil {
		return err
	}
	defer accessLog.Close()
	api, err := httpapi.New(ctx, httpapi.Config{
		Auth: auth, Decider: dec, Facts: facts, Audit: waits, Tokens: cache, Snapshot: snap, Metrics: metrics,
		Logger: slog.New(slog.NewJSONHandler(accessLog, nil)),
	})
	if err != nil {
		return err
	}
	srv := httptest.NewUnstartedServer(api)
	srv.EnableHTTP2 = o.http2
	srv.StartTLS()
	defer srv.Close()

	// The load: one kept-alive TLS connection per client, each a lean
	// HTTP/1.1 client (with -http2, Go's HTTP client over one multiplexed
	// connection).
	bodies := make([]string, clients)
	for c := range clients {
		now := time.Now()
		claims, _ := json.Marshal(map[string]any{"iss": jwks.URL, "sub": fmt.Sprintf("client-%d", c), "aud": "steward", "iat": now.Unix(), "exp": now.Add(time.Hour + o.duration).Unix()})
		s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key, KeyID: "k1"}}, nil)
		if err != nil {
			return err
		}
		obj, err := s.Sign(claims)
		if err != nil {
			return err
		}
		jwt, _ := obj.CompactSerialize()
		bodies[c] = url.Values{
			"grant_type": {httpapi.GrantTokenExchange}, "subject_token": {jwt}, "subject_token_type": {httpapi.TokenTypeJWT},
			"audience": {fmt.Sprintf("erp-%d", c%identities)},
		}.Encode()
	}
	var dials atomic.Int64
	granters := make([]func() (time.Duration, error), clients)
	if o.http2 {
		tr := srv.Client().Transport.(*http.Transport).Clone()
		tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			dials.Add(1)
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		}
		hc := &http.Client{Transport: tr}
		for c := range clients {
			granters[c] = func() (time.Duration, error) { return grant(hc, srv.URL, bodies[c]) }
		}
	} else {
		conf := srv.Client().Transport.(*http.Transport).TLSClientConfig
		for c := range clients {
			granters[c] = newConnClient(srv.Listener.Addr().String(), conf, bodies[c], &dials).grant
		}
	}
	// Warm up: one grant per client, all at once (connections, JWKS, the
	// first exchange of each identity, with its single flight).
	warm := make([]error, clients)
	var ww sync.WaitGroup
	for c := range clients {
		ww.Go(func() { _, warm[c] = granters[c]() })
	}
	ww.Wait()
	if err := errors.Join(warm...); err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	dials0 := dials.Load()
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	load0 := loadAverage()
	records0, commits0 := records(ctx, db), commits.n.Load()
	waits.waits.reset()
	commits.commit.reset()
	commits.flush.reset()
	cpu0 := cpuTime()
	var failures, granted atomic.Int64
	var firstErr atomic.Value
	hists := make([]histogram, clients)
	stop := time.Now().Add(o.duration)
	begin := time.Now()
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			for time.Now().Before(stop) {
				d, err := granters[c]()
				if err != nil {
					failures.Add(1)
					firstErr.CompareAndSwap(nil, err)
					continue
				}
				hists[c].add(d)
				granted.Add(1)
			}
		})
	}
	var soak *soakReport
	if o.soak > 0 {
		soak = sampleMemory(begin, stop, o.sample, &granted)
	}
	wg.Wait()
	wall := time.Since(begin)
	cpu := cpuTime() - cpu0
	if o.memProfile != "" {
		if err := writeAllocs(o.memProfile); err != nil {
			return err
		}
	}
	var all histogram
	for i := range hists {
		all.merge(&hists[i])
	}
	n := int64(all.count)
	if n == 0 {
		return fmt.Errorf("no request succeeded: %v", firstErr.Load())
	}
	nrec, ncommit := records(ctx, db)-records0, commits.n.Load()-commits0
	total := n + failures.Load()
	fmt.Printf("clients %d, identities %d, GC target %d%%, duration %s, load average %s at the start, %s at the end\n",
		clients, identities, gc, wall.Round(time.Millisecond), load0, loadAverage())
	fmt.Printf("grants %d (%.0f/s), failures %d\n", n, float64(n)/wall.Seconds(), failures.Load())
	fmt.Printf("latency p50 %s, p90 %s, p99 %s, max %s\n", all.quantile(.50), all.quantile(.90), all.quantile(.99), all.max.Round(time.Microsecond))
	fmt.Printf("CPU %.2f s user+sys (%.0f µs per grant, client included)\n", cpu.Seconds(), float64(cpu.Microseconds())/float64(n))
	fmt.Printf("TLS connections %d opened by the warm-up, %d during the load\n", dials0, dials.Load()-dials0)
	fmt.Printf("audit records %d in %d commits (%.1f per commit); wait for a durable record %s\n",
		nrec, ncommit, float64(nrec)/float64(max(ncommit, 1)), waits.waits.p50p99())
	fmt.Printf("audit commits: %s\n", commits.summary())
	fmt.Printf("upstream exchanges %d for %d requests (%d identities; ratio %.2g)\n", exchanges.Load(), total+int64(clients), identities, float64(exchanges.Load())/float64(total+int64(clients)))
	var errs []error
	if failures.Load() > 0 {
		errs = append(errs, fmt.Errorf("%d requests failed; first: %v", failures.Load(), firstErr.Load()))
	}
	if exchanges.Load() != int64(identities) {
		errs = append(errs, fmt.Errorf("%d upstream exchanges, want one per identity (%d)", exchanges.Load(), identities))
	}
	if nrec != total {
		errs = append(errs, fmt.Errorf("%d audit records for %d requests, want one each", nrec, total))
	}
	if soak != nil {
		if err := soak.print(n); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// grant asks for one token with Go's HTTP client and times it.
func grant(hc *http.Client, base, body string) (time.Duration, error) {
	begin := time.Now()
	resp, err := hc.Post(base+"/v1/token", "application/x-www-form-urlencoded", strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	if _, err := checkGrant(resp); err != nil {
		return 0, err
	}
	return time.Since(begin), nil
}

// connClient is one workload's lean HTTP/1.1 client: one kept-alive TLS
// connection, the request's bytes built once, each response parsed by
// net/http's ReadResponse. It spends less CPU per request than
// http.Client, which hands each request between two goroutines of its
// connection, so more of the shared cores go to the server it measures.
type connClient struct {
	addr  string
	conf  *tls.Config
	req   []byte
	dials *atomic.Int64
	conn  *tls.Conn
	r     *bufio.Reader
}

func newConnClient(addr string, conf *tls.Config, body string, dials *atomic.Int64) *connClient {
	req := fmt.Sprintf("POST /v1/token HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s", addr, len(body), body)
	return &connClient{addr: addr, conf: conf, req: []byte(req), dials: dials}
}

// grant asks for one token and times it, dialling first when there is no
// connection; a connection that failed or that the server closes is
// dropped.
func (c *connClient) grant() (time.Duration, error) {
	begin := time.Now()
	if c.conn == nil {
		conn, err := tls.Dial("tcp", c.addr, c.conf)
		if err != nil {
			return 0, err
		}
		c.dials.Add(1)
		c.conn, c.r = conn, bufio.NewReader(conn)
	}
	if _, err := c.conn.Write(c.req); err != nil {
		c.drop()
		return 0, err
	}
	resp, err := http.ReadResponse(c.r, nil)
	if err != nil {
		c.drop()
		return 0, err
	}
	read, err := checkGrant(resp)
	if !read || resp.Close {
		c.drop()
	}
	if err != nil {
		return 0, err
	}
	return time.Since(begin), nil
}

func (c *connClient) drop() {
	c.conn.Close()
	c.conn, c.r = nil, nil
}

// checkGrant reads a token response to its end, so that its connection
// can carry the next request, and checks that it granted a token. read
// reports whether the body was read to its end.
func checkGrant(resp *http.Response) (read bool, err error) {
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
		Error       string `json:"error_description"`
	}
	err = json.NewDecoder(resp.Body).Decode(&out)
	if _, cerr := io.Copy(io.Discard, resp.Body); cerr != nil {
		return false, cerr
	}
	if err != nil {
		return true, err
	}
	if resp.StatusCode != http.StatusOK || out.AccessToken == "" {
		return true, fmt.Errorf("status %d: %s", resp.StatusCode, out.Error)
	}
	return true, nil
}

// timings are latencies measured by several goroutines.
type timings struct {
	mu sync.Mutex
	h  histogram
}

// since adds the time since begin.
func (t *timings) since(begin time.Time) {
	d := time.Since(begin)
	t.mu.Lock()
	t.h.add(d)
	t.mu.Unlock()
}

func (t *timings) reset() {
	t.mu.Lock()
	t.h = histogram{}
	t.mu.Unlock()
}

// p50p99 is "p50 X, p99 Y", or "" when nothing was timed.
func (t *timings) p50p99() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.h.count == 0 {
		return ""
	}
	return fmt.Sprintf("p50 %s, p99 %s", t.h.quantile(.50), t.h.quantile(.99))
}

// timedAuditor times the API's waits for durable audit records.
type timedAuditor struct {
	httpapi.Auditor
	waits timings
}

func (t *timedAuditor) Append(ctx context.Context, ev audit.Event) (audit.Record, error) {
	defer t.waits.since(time.Now())
	return t.Auditor.Append(ctx, ev)
}

// countingAppender counts and times the audit log's transactions and,
// through the deferred path when the store offers it, as the log would use
// it, their flushes to disk.
type countingAppender struct {
	audit.Appender
	n             atomic.Int64
	commit, flush timings
}

func (c *countingAppender) AppendAudit(ctx context.Context, seal store.Seal) error {
	c.n.Add(1)
	defer c.commit.since(time.Now())
	return c.Appender.AppendAudit(ctx, seal)
}

// summary is the transactions' and, when there were any, the flushes'
// p50 and p99.
func (c *countingAppender) summary() string {
	s := "transaction " + c.commit.p50p99()
	if f := c.flush.p50p99(); f != "" {
		s += "; flush " + f
	}
	return s
}

// deferredCountingAppender is a countingAppender over a store that
// commits audit records before flushing them.
type deferredCountingAppender struct {
	*countingAppender
	d audit.DeferredAppender
}

func (c deferredCountingAppender) AppendAuditDeferred(ctx context.Context, seal store.Seal) (func() error, error) {
	c.n.Add(1)
	begin := time.Now()
	flush, err := c.d.AppendAuditDeferred(ctx, seal)
	c.commit.since(begin)
	if err != nil {
		return nil, err
	}
	return func() error {
		defer c.flush.since(time.Now())
		return flush()
	}, nil
}

// records counts the audit records in the store.
func records(ctx context.Context, db store.Store) int64 {
	var n int64
	db.AuditRecords(ctx, 0, func(store.AuditRecord) error { n++; return nil })
	return n
}

// histogram counts latencies in log-linear buckets: exact below 64 µs,
// then 32 buckets per power of two (at most 3 % wide), so that a long run
// keeps a fixed amount of memory.
type histogram struct {
	counts [64 * 32]uint64
	count  uint64
	max    time.Duration
}

func (h *histogram) add(d time.Duration) {
	h.counts[bucket(uint64(max(d.Microseconds(), 0)))]++
	h.count++
	h.max = max(h.max, d)
}

func (h *histogram) merge(o *histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.count += o.count
	h.max = max(h.max, o.max)
}

// quantile is the upper edge of the bucket holding quantile q.
func (h *histogram) quantile(q float64) time.Duration {
	rank := uint64(q * float64(h.count))
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen > rank {
			return min(time.Duration(bucketLow(i+1))*time.Microsecond, h.max.Round(time.Microsecond))
		}
	}
	return h.max.Round(time.Microsecond)
}

// bucket is the bucket of a latency in µs; bucketLow is the inverse, the
// smallest latency of a bucket.
func bucket(us uint64) int {
	if us < 64 {
		return int(us)
	}
	e := bits.Len64(us) - 6 // us>>e is in [32, 64)
	return min(e*32+int(us>>e), 64*32-1)
}

func bucketLow(i int) uint64 {
	if i < 64 {
		return uint64(i)
	}
	e := i/32 - 1
	return uint64(i-e*32) << e
}

// memSample is the process's memory at one moment of a soak.
type memSample struct {
	at               time.Duration
	grants           int64
	heapLive         uint64 // bytes of heap marked live by the last GC
	rss, rssAnon     uint64
	goroutines       uint64
	liveMiB, anonMiB float64
}

// soakReport is the memory samples of a soak.
type soakReport struct {
	samples []memSample
}

// Bounds of a soak's memory growth after the warm-up, along the fitted
// line.
// The live heap holds the API's configuration, the compiled policy, the
// caches (one entry per identity and per distinct JWT, at most a few
// hundred bytes each, bounded by the clients) and the in-flight requests
// of the clients, all independent of the number of grants; it varies by a
// few MiB between garbage collections with what is in flight. 16 MiB over
// a five-minute soak of about a million grants is 16 bytes per grant:
// anything retained per request, even one map entry, shows above it.
// Anonymous resident memory adds the runtime's free pages and SQLite's
// page cache (bounded at 16 MiB a connection), hence the larger bound; the
// database file's own mapped pages are file-backed and not counted.
const (
	maxHeapGrowth = 16 << 20
	maxAnonGrowth = 64 << 20
)

// sampleMemory samples memory every interval until stop, printing each
// sample as it goes.
func sampleMemory(begin, stop time.Time, every time.Duration, grants *atomic.Int64) *soakReport {
	rep := &soakReport{}
	self, err := procfs.Self()
	if err != nil {
		fmt.Fprintln(os.Stderr, "brokerload: no /proc: resident memory not sampled:", err)
	}
	ms := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/sched/goroutines:goroutines"}}
	fmt.Println("time    grants      heap-live  rss-anon  rss       goroutines")
	tick := time.NewTicker(every)
	defer tick.Stop()
	for time.Now().Add(every / 2).Before(stop) {
		<-tick.C
		metrics.Read(ms)
		s := memSample{at: time.Since(begin), grants: grants.Load(), heapLive: ms[0].Value.Uint64(), goroutines: ms[1].Value.Uint64()}
		if err == nil {
			if st, err := self.NewStatus(); err == nil {
				s.rss, s.rssAnon = st.VmRSS, st.RssAnon
			}
		}
		s.liveMiB, s.anonMiB = mib(s.heapLive), mib(s.rssAnon)
		fmt.Printf("%-7s %-11d %-10.1f %-9.1f %-9.1f %d\n", s.at.Round(time.Second), s.grants, s.liveMiB, s.anonMiB, mib(s.rss), s.goroutines)
		rep.samples = append(rep.samples, s)
	}
	return rep
}

// print reports start, end, maximum and slope, and whether the growth
// stayed within its bounds.
func (r *soakReport) print(grants int64) error {
	if len(r.samples) < 3 {
		return errors.New("soak: fewer than 3 memory samples; run longer or sample more often")
	}
	// The first fifth is the warm-up, left out of the fit: SQLite's page
	// cache fills up to its bound as the audit table grows.
	fit := r.samples[len(r.samples)/5:]
	first, last := fit[0], fit[len(fit)-1]
	span := (last.at - first.at).Minutes()
	var errs []error
	check := func(name string, v func(memSample) float64, bound float64) {
		peak := 0.0
		for _, s := range r.samples {
			peak = max(peak, v(s))
		}
		slope := slope(fit, v)
		growth := slope * span
		fmt.Printf("%s: start %.1f MiB, after warm-up %.1f MiB, end %.1f MiB, max %.1f MiB; slope %+.2f MiB/min from %s (%+.1f MiB over %.1f min, %+.1f bytes per grant; bound %.0f MiB)\n",
			name, v(r.samples[0]), v(first), v(last), peak, slope, first.at.Round(time.Second), growth, span, growth*(1<<20)/float64(max(last.grants-first.grants, 1)), bound)
		if growth > bound {
			errs = append(errs, fmt.Errorf("soak: %s grew by %.1f MiB over %.1f min, more than %.0f MiB", name, growth, span, bound))
		}
	}
	check("heap live", func(s memSample) float64 { return s.liveMiB }, mib(maxHeapGrowth))
	if first.rssAnon > 0 {
		check("RSS anonymous", func(s memSample) float64 { return s.anonMiB }, mib(maxAnonGrowth))
	}
	return errors.Join(errs...)
}

// slope is the least-squares slope of v over the samples, per minute.
func slope(samples []memSample, v func(memSample) float64) float64 {
	var sx, sy, sxx, sxy float64
	for _, s := range samples {
		x := s.at.Minutes()
		sx, sy, sxx, sxy = sx+x, sy+v(s), sxx+x*x, sxy+x*v(s)
	}
	n := float64(len(samples))
	return (n*sxy - sx*sy) / (n*sxx - sx*sx)
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

// loadAverage is the machine's one-minute load average, or "?".
func loadAverage() string {
	fs, err := procfs.NewDefaultFS()
	if err != nil {
		return "?"
	}
	l, err := fs.LoadAvg()
	if err != nil {
		return "?"
	}
	return fmt.Sprintf("%.2f", l.Load1)
}

// cpuTime is the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// repoRoot is the directory holding go.mod, from the working directory up.
func repoRoot() string {
	dir, _ := os.Getwd()
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if d == filepath.Dir(d) {
			return dir
		}
	}
}

// writeAllocs writes the allocation profile to path.
func writeAllocs(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}
