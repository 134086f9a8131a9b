package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/steward-dev/steward/internal/repotest"
	"github.com/steward-dev/steward/internal/salesforce/fakeorg"
	"github.com/steward-dev/steward/internal/secrets"
	"github.com/steward-dev/steward/internal/store"
)

// orgTap sits in front of the emulated org and remembers, for every
// successful client-credentials exchange, which consumer secret it used and
// which access token it returned.
type orgTap struct {
	mu       sync.Mutex
	ok       map[string]int    // consumer secret → successful exchanges
	refused  int               // exchanges the org refused
	minted   map[string]string // access token → consumer secret
	upstream http.Handler
}

// statusBody records a response's status and body on their way out.
type statusBody struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (s *statusBody) WriteHeader(code int) { s.status = code; s.ResponseWriter.WriteHeader(code) }

func (s *statusBody) Write(p []byte) (int, error) {
	s.body.Write(p)
	return s.ResponseWriter.Write(p)
}

func (o *orgTap) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/services/oauth2/token" {
		o.upstream.ServeHTTP(w, r)
		return
	}
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	form, _ := url.ParseQuery(string(body))
	secret := form.Get("client_secret")
	if _, p, ok := r.BasicAuth(); ok {
		if secret, _ = url.QueryUnescape(p); secret == "" {
			secret = p
		}
	}
	rec := &statusBody{ResponseWriter: w, status: http.StatusOK}
	o.upstream.ServeHTTP(rec, r)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	json.Unmarshal(rec.body.Bytes(), &tok)
	o.mu.Lock()
	defer o.mu.Unlock()
	if rec.status != http.StatusOK || tok.AccessToken == "" {
		o.refused++
		return
	}
	o.ok[secret]++
	o.minted[tok.AccessToken] = secret
}

// exchanges is how many successful exchanges used secret.
func (o *orgTap) exchanges(secret string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.ok[secret]
}

// TestRotationOverHTTP runs 'steward serve' on loopback while eight
// workloads ask for tokens over HTTPS without pause, and rotates the
// identity's secret twice with 'steward secret rotate', as an operator
// would: first applied at the org before Steward is rotated, then rotated
// in Steward before it is applied at the org. The cached token is dropped
// between the steps (and repeatedly during the second rotation) so that
// fresh exchanges with the org run throughout. Not one request may fail,
// the store must end on the third version, the workloads must have been
// served tokens minted with each new secret, and no secret may reach any
// output or audit record.
func TestRotationOverHTTP(t *testing.T) {
	const identity = "erp-connector-prod"
	e := newStoreEnv(t)
	sc, err := fakeorg.LoadScenario(filepath.Join(repotest.Root(t), "examples/acme/org/scenario.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	emu, err := fakeorg.New(sc, fakeorg.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tap := &orgTap{ok: map[string]int{}, minted: map[string]string{}, upstream: emu}
	orgTS := httptest.NewTLSServer(tap)
	t.Cleanup(orgTS.Close)
	caFile := filepath.Join(e.dir, "org-ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: orgTS.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	key, first, _ := sc.Credentials("Erp_Connector")
	second, third := "s2-"+rand.Text()+rand.Text(), "s3-"+rand.Text()+rand.Text()
	bundle := func(secret string) string {
		return fmt.Sprintf(`{"url": %q, "consumerKey": %q, "consumerSecret": %q}`, orgTS.URL, key, secret)
	}

	// Every command runs on the real clock, its output kept for the leak
	// check.
	e.now = time.Now
	steward := e.must
	steward(bundle(first), "secret", "put", identity)

	issuer := newTestIssuer(t)
	inv := filepath.Join(e.dir, "inventory")
	os.MkdirAll(inv, 0o755)
	os.WriteFile(filepath.Join(inv, "erp.yaml"), []byte(fmt.Sprintf(serveManifest, issuer.url)), 0o600)
	config := filepath.Join(e.dir, "steward.yaml")
	os.WriteFile(config, []byte(fmt.Sprintf(`listen: 127.0.0.1:0
inventory: [%s]
upstream: {caFile: %s, maxRetries: -1}
issuers:
  - {issuer: %s, jwksURL: %s, audiences: [steward], environment: production}
`, inv, caFile, issuer.url, issuer.url)), 0o600)
	adminToken := rand.Text() + rand.Text()
	e.vars["STEWARD_DEV"] = "true"
	e.vars["STEWARD_ADMIN_TOKEN"] = adminToken

	srv := startServe(t, e, config)
	base := srv.url
	jwt := issuer.jwt(t, 10*time.Minute)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, MaxIdleConnsPerHost: 16}}

	// The workloads.
	var requests, failures atomic.Int64
	var mu sync.Mutex
	var firstFailure string
	tokens := map[string]bool{}
	stopLoad := make(chan struct{})
	var load sync.WaitGroup
	for range 8 {
		load.Go(func() {
			for {
				select {
				case <-stopLoad:
					return
				default:
				}
				resp, err := client.PostForm(base+"/v1/token", url.Values{
					"grant_type": {"urn:ietf:params:oauth:grant-type:token-exchange"}, "subject_token": {jwt}, "audience": {identity},
				})
				var out struct {
					AccessToken string `json:"access_token"`
					Error       string `json:"error_description"`
				}
				failure := ""
				if err != nil {
					failure = err.Error()
				} else {
					json.NewDecoder(resp.Body).Decode(&out)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK || out.AccessToken == "" {
						failure = fmt.Sprintf("HTTP %d %s", resp.StatusCode, out.Error)
					}
				}
				requests.Add(1)
				mu.Lock()
				if failure != "" {
					failures.Add(1)
					if firstFailure == "" {
						firstFailure = failure
					}
				} else {
					tokens[out.AccessToken] = true
				}
				mu.Unlock()
			}
		})
	}
	stopAll := func() {
		select {
		case <-stopLoad:
		default:
			close(stopLoad)
			load.Wait()
		}
	}
	t.Cleanup(stopAll)

	// settle lets the workloads run for a while, and until they have made
	// at least a few requests more.
	settle := func(d time.Duration) {
		t.Helper()
		target := requests.Load() + 16
		time.Sleep(d)
		for deadline := time.Now().Add(15 * time.Second); requests.Load() < target; time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("the workloads made no progress: %d requests", requests.Load())
			}
		}
	}
	drop := func() error {
		req, _ := http.NewRequest(http.MethodDelete, base+"/v1/identities/"+identity+"/token", nil)
		req.Header.Set("Authorization", "Bearer "+adminToken)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			return fmt.Errorf("drop the cached token: HTTP %d", resp.StatusCode)
		}
		return nil
	}
	// fresh drops the cached token and waits for the broker's next
	// exchange to succeed with secret.
	fresh := func(secret, step string) {
		t.Helper()
		before := tap.exchanges(secret)
		if err := drop(); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(15 * time.Second); tap.exchanges(secret) <= before; time.Sleep(2 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: no exchange with the expected secret after the cached token was dropped", step)
			}
		}
	}
	rotate := func(secret string, want int) {
		t.Helper()
		out := steward(bundle(secret), "secret", "rotate", identity, "--org-ca-file", caFile, "--overlap", "1h", "-o", "json")
		var ms []secrets.Metadata
		if err := json.Unmarshal([]byte(out), &ms); err != nil || len(ms) != 1 || ms[0].Version != want || ms[0].State != store.StateActive {
			t.Fatalf("rotate: %v\n%s; want version %d active", err, out, want)
		}
	}

	if tap.exchanges(first) == 0 {
		fresh(first, "warm-up")
	}
	settle(300 * time.Millisecond)

	// Order 1: the administrator stages and applies the new secret at the
	// org, which refuses the old one from then on; the cached token keeps
	// the workloads served until Steward is rotated.
	if err := emu.StageSecret("Erp_Connector", second); err != nil {
		t.Fatal(err)
	}
	if err := emu.ApplySecret("Erp_Connector"); err != nil {
		t.Fatal(err)
	}
	settle(500 * time.Millisecond)
	rotate(second, 2)
	settle(200 * time.Millisecond)
	fresh(second, "applied at the org, then rotated")
	settle(700 * time.Millisecond)

	// Order 2: the new secret is staged at the org, Steward is rotated
	// (proving it there) while the cached token is dropped again and
	// again, and only then is it applied at the org.
	if err := emu.StageSecret("Erp_Connector", third); err != nil {
		t.Fatal(err)
	}
	fresh(second, "staged at the org")
	settle(300 * time.Millisecond)
	dropping := make(chan struct{})
	var dropper sync.WaitGroup
	dropper.Go(func() {
		for {
			select {
			case <-dropping:
				return
			case <-time.After(25 * time.Millisecond):
				if err := drop(); err != nil {
					t.Error(err)
					return
				}
			}
		}
	})
	rotate(third, 3)
	settle(300 * time.Millisecond)
	close(dropping)
	dropper.Wait()
	fresh(third, "rotated in Steward")
	settle(300 * time.Millisecond)
	if err := emu.ApplySecret("Erp_Connector"); err != nil {
		t.Fatal(err)
	}
	fresh(third, "rotated, then applied at the org")
	settle(500 * time.Millisecond)
	stopAll()

	if n := failures.Load(); n != 0 {
		t.Errorf("%d of %d token requests failed during the rotations; first: %s", n, requests.Load(), firstFailure)
	}
	// The workloads were served tokens minted with each new secret.
	bySecret := map[string]int{}
	tap.mu.Lock()
	for tok := range tokens {
		bySecret[tap.minted[tok]]++
	}
	refused, exchanged := tap.refused, tap.ok[first]+tap.ok[second]+tap.ok[third]
	tap.mu.Unlock()
	if bySecret[second] == 0 || bySecret[third] == 0 {
		t.Errorf("tokens served by secret: first %d, second %d, third %d; want tokens from both new secrets",
			bySecret[first], bySecret[second], bySecret[third])
	}
	out := steward("", "secret", "history", identity, "-o", "json")
	var hist []secrets.Metadata
	json.Unmarshal([]byte(out), &hist)
	if len(hist) != 3 || hist[0].State != store.StateRetired || hist[1].State != store.StateRetired || hist[2].State != store.StateActive || hist[2].Version != 3 {
		t.Errorf("history after two rotations, want v1 and v2 retired, v3 active:\n%s", out)
	}
	t.Logf("%d token requests, %d failed; %d distinct tokens served; %d successful and %d refused exchanges at the org",
		requests.Load(), failures.Load(), len(tokens), exchanged, refused)

	srv.stop()

	// No secret, token or credential in any output or audit record.
	leaks := []string{first, second, third, adminToken, jwt}
	for tok := range tokens {
		leaks = append(leaks, tok)
	}
	all := strings.Join(e.outputs, "\n") + srv.stdout.String() + srv.stderr.String() + firstFailure
	db, err := store.OpenSQLite(context.Background(), e.vars["STEWARD_DATA_DIR"])
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var audit strings.Builder
	if err := db.AuditRecords(context.Background(), 0, func(rec store.AuditRecord) error {
		audit.Write(rec.Body)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for i, s := range leaks {
		if strings.Contains(all, s) {
			t.Errorf("secret #%d (%d chars) reached the output", i, len(s))
		}
		if strings.Contains(audit.String(), s) {
			t.Errorf("secret #%d (%d chars) reached the audit log", i, len(s))
		}
	}
}
