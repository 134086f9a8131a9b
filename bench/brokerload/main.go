// Command brokerload measures the token broker under load on loopback: an
// emulated org, a temporary SQLite store with its audit log, a local JWT
// issuer and the real HTTP API over TLS, then CLIENTS concurrent workloads
// asking for cached tokens for DURATION. Every request verifies a JWT,
// evaluates the runtime policy and makes an audit record durable. It prints
// grants per second, latency percentiles, the process's CPU time per grant
// and the upstream exchanges per request, and exits 1 when a request failed
// or more than one exchange per identity happened.
//
//	go run ./bench/brokerload -duration 10s -clients 32
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/steward-dev/steward/internal/audit"
	"github.com/steward-dev/steward/internal/broker"
	"github.com/steward-dev/steward/internal/httpapi"
	"github.com/steward-dev/steward/internal/salesforce/fakeorg"
	"github.com/steward-dev/steward/internal/secrets"
	"github.com/steward-dev/steward/internal/snapshot"
	"github.com/steward-dev/steward/internal/store"
	"github.com/steward-dev/steward/internal/workload"
)

const maxDuration = 20 * time.Second

// cpuProfile is where to write a CPU profile of the load phase, or "".
var cpuProfile string

func main() {
	duration := flag.Duration("duration", 10*time.Second, "how long to send requests (at most 20s)")
	clients := flag.Int("clients", 32, "concurrent clients")
	identities := flag.Int("identities", 4, "identities the clients share")
	profile := flag.String("cpuprofile", "", "write a CPU profile of the load phase to this file")
	flag.Parse()
	cpuProfile = *profile
	if err := run(min(*duration, maxDuration), *clients, *identities); err != nil {
		fmt.Fprintln(os.Stderr, "brokerload:", err)
		os.Exit(1)
	}
}

func run(duration time.Duration, clients, identities int) error {
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
	log, err := audit.New(audit.Config{Store: db, Signer: signer})
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
	dec, err := broker.NewDecider(ctx, broker.DecisionOptions{})
	if err != nil {
		return err
	}
	metrics := httpapi.NewMetrics()
	x, err := broker.NewExchanger(broker.ExchangeConfig{Secrets: ss, HTTPClient: orgTS.Client(), OnExchange: metrics.Exchange})
	if err != nil {
		return err
	}
	cache, err := broker.NewCache(broker.CacheConfig{Minter: x})
	if err != nil {
		return err
	}
	api, err := httpapi.New(ctx, httpapi.Config{
		Auth: auth, Decider: dec, Audit: log, Tokens: cache, Snapshot: snap, Metrics: metrics,
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
	})
	if err != nil {
		return err
	}
	srv := httptest.NewUnstartedServer(api)
	srv.StartTLS()
	defer srv.Close()

	// The load.
	tr := srv.Client().Transport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = clients
	hc := &http.Client{Transport: tr}
	bodies := make([]string, clients)
	for c := range clients {
		now := time.Now()
		claims, _ := json.Marshal(map[string]any{"iss": jwks.URL, "sub": fmt.Sprintf("client-%d", c), "aud": "steward", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()})
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
	// Warm up: one grant per client (connections, JWKS, the first exchange).
	for c := range clients {
		if _, err := grant(hc, srv.URL, bodies[c]); err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
	}
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	cpu0 := cpuTime()
	var failures atomic.Int64
	var firstErr atomic.Value
	lat := make([][]time.Duration, clients)
	stop := time.Now().Add(duration)
	begin := time.Now()
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			for time.Now().Before(stop) {
				d, err := grant(hc, srv.URL, bodies[c])
				if err != nil {
					failures.Add(1)
					firstErr.CompareAndSwap(nil, err)
					continue
				}
				lat[c] = append(lat[c], d)
			}
		})
	}
	wg.Wait()
	wall := time.Since(begin)
	cpu := cpuTime() - cpu0
	all := slices.Concat(lat...)
	slices.Sort(all)
	if len(all) == 0 {
		return fmt.Errorf("no request succeeded: %v", firstErr.Load())
	}
	pct := func(p float64) time.Duration { return all[min(len(all)-1, int(float64(len(all))*p))] }
	var records int64
	db.AuditRecords(ctx, 0, func(store.AuditRecord) error { records++; return nil })
	total := int64(len(all)) + failures.Load()
	fmt.Printf("clients %d, identities %d, duration %s\n", clients, identities, wall.Round(time.Millisecond))
	fmt.Printf("grants %d (%.0f/s), failures %d\n", len(all), float64(len(all))/wall.Seconds(), failures.Load())
	fmt.Printf("latency p50 %s, p90 %s, p99 %s, max %s\n", pct(.50).Round(time.Microsecond), pct(.90).Round(time.Microsecond), pct(.99).Round(time.Microsecond), all[len(all)-1].Round(time.Microsecond))
	fmt.Printf("CPU %.2f s user+sys (%.0f µs per grant, client included)\n", cpu.Seconds(), float64(cpu.Microseconds())/float64(len(all)))
	fmt.Printf("upstream exchanges %d for %d requests (%d identities; ratio %.2g)\n", exchanges.Load(), total+int64(clients), identities, float64(exchanges.Load())/float64(total+int64(clients)))
	fmt.Printf("audit records %d\n", records)
	var errs []error
	if failures.Load() > 0 {
		errs = append(errs, fmt.Errorf("%d requests failed; first: %v", failures.Load(), firstErr.Load()))
	}
	if exchanges.Load() != int64(identities) {
		errs = append(errs, fmt.Errorf("%d upstream exchanges, want one per identity (%d)", exchanges.Load(), identities))
	}
	return errors.Join(errs...)
}

// grant asks for one token and times it.
func grant(hc *http.Client, base, body string) (time.Duration, error) {
	begin := time.Now()
	resp, err := hc.Post(base+"/v1/token", "application/x-www-form-urlencoded", strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
		Error       string `json:"error_description"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK || out.AccessToken == "" {
		return 0, fmt.Errorf("status %d: %s", resp.StatusCode, out.Error)
	}
	return time.Since(begin), nil
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
