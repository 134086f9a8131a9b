package salesforce

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

const limitsPath = "GET /services/data/v67.0/limits"

// flaky answers with the given handlers in turn, then with the last one.
func flaky(o *fakeOrg, key string, steps ...http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		i := min(o.hit(key), len(steps)) - 1
		steps[i](w, r)
	}
}

func TestRetries(t *testing.T) {
	t.Parallel()
	ok := func(t *testing.T) http.HandlerFunc { return serveFixture(t, 200, "rest/limits.json") }
	unavailable := func(t *testing.T) http.HandlerFunc { return serveFixture(t, 503, "rest/error-page.html") }
	limited := func(t *testing.T) http.HandlerFunc { return serveFixture(t, 403, "rest/request-limit.json") }
	badGateway := func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(502) }
	// hangUp sends half a response and closes the connection.
	hangUp := func(w http.ResponseWriter, r *http.Request) {
		conn, buf, _ := w.(http.Hijacker).Hijack()
		buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"DailyApi")
		buf.Flush()
		conn.Close()
	}
	tests := []struct {
		name       string
		steps      func(t *testing.T) []http.HandlerFunc
		maxRetries int
		maxWait    time.Duration
		wantHits   int
		wantErr    string
		sentinel   error
	}{
		{name: "503 twice then ok", steps: func(t *testing.T) []http.HandlerFunc {
			return []http.HandlerFunc{unavailable(t), unavailable(t), ok(t)}
		}, wantHits: 3},
		{name: "request limit then ok", steps: func(t *testing.T) []http.HandlerFunc { return []http.HandlerFunc{limited(t), ok(t)} }, wantHits: 2},
		{name: "connection dropped then ok", steps: func(t *testing.T) []http.HandlerFunc { return []http.HandlerFunc{hangUp, ok(t)} }, wantHits: 2},
		{name: "gives up after max retries", steps: func(t *testing.T) []http.HandlerFunc { return []http.HandlerFunc{badGateway} },
			maxRetries: 2, wantHits: 3, wantErr: "HTTP 502: empty body (after 3 attempts)", sentinel: ErrUnexpectedResponse},
		{name: "request limit persists", steps: func(t *testing.T) []http.HandlerFunc { return []http.HandlerFunc{limited(t)} },
			maxRetries: 1, wantHits: 2, wantErr: "REQUEST_LIMIT_EXCEEDED: TotalRequests Limit exceeded. (after 2 attempts)", sentinel: ErrRequestLimit},
		{name: "total wait capped", steps: func(t *testing.T) []http.HandlerFunc { return []http.HandlerFunc{badGateway} },
			maxRetries: 10, maxWait: 2 * time.Second, wantErr: "gave up to stay within 2s of retry waits"},
		{name: "client error not retried", steps: func(t *testing.T) []http.HandlerFunc {
			return []http.HandlerFunc{serveFixture(t, 400, "rest/malformed-query.json")}
		}, wantHits: 1, wantErr: "MALFORMED_QUERY"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := newFakeOrg(t)
			o.route(limitsPath, flaky(o, limitsPath, tt.steps(t)...))
			c, s, logBuf := testClient(t, o, func(cfg *Config) {
				cfg.MaxRetries = tt.maxRetries
				cfg.MaxRetryWait = tt.maxWait
				cfg.InitialBackoff = time.Second
			})
			_, err := c.Limits(context.Background())
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
			} else if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			}
			if tt.sentinel != nil && !errors.Is(err, tt.sentinel) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.sentinel)
			}
			hits := o.hit(limitsPath)
			if tt.wantHits != 0 && hits != tt.wantHits {
				t.Errorf("%d attempts, want %d", hits, tt.wantHits)
			}
			waits := s.waits()
			if len(waits) != hits-1 || c.Calls() != hits {
				t.Errorf("%d waits and %d counted calls for %d attempts", len(waits), c.Calls(), hits)
			}
			var total time.Duration
			for i, w := range waits {
				// Exponential with ±50% jitter around 1s, 2s, 4s, ...
				base := time.Second << i
				if w < base/2 || w > base*3/2 {
					t.Errorf("wait %d = %v, want within 50%% of %v", i, w, base)
				}
				total += w
			}
			if tt.maxWait != 0 && total > tt.maxWait {
				t.Errorf("total wait %v over the %v cap", total, tt.maxWait)
			}
			assertNoSecret(t, "log", logBuf.String())
		})
	}
}

func TestRetryHonoursContext(t *testing.T) {
	t.Parallel()
	o := newFakeOrg(t)
	o.route(limitsPath, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) })
	c, _, _ := testClient(t, o)
	ctx, cancel := context.WithCancel(context.Background())
	c.sleep = func(ctx context.Context, d time.Duration) error {
		cancel()
		return sleepCtx(ctx, time.Hour)
	}
	_, err := c.Limits(ctx)
	if !errors.Is(err, context.Canceled) || o.hit(limitsPath) != 1 {
		t.Errorf("error %v after %d attempts; want context.Canceled after 1", err, o.hit(limitsPath))
	}
	if _, err := c.Limits(ctx); !errors.Is(err, context.Canceled) || o.hit(limitsPath) != 1 {
		t.Errorf("call with a cancelled context: %v, %d attempts", err, o.hit(limitsPath))
	}
}

// TestTimeoutRetried uses a client timeout shorter than a slow first answer.
func TestTimeoutRetried(t *testing.T) {
	t.Parallel()
	o := newFakeOrg(t)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	o.route(limitsPath, flaky(o, limitsPath,
		func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		},
		serveFixture(t, 200, "rest/limits.json")))
	c, s, _ := testClient(t, o)
	// Mint first, with the default timeout.
	if _, err := c.Token(context.Background()); err != nil {
		t.Fatal(err)
	}
	c.http.Timeout = 200 * time.Millisecond
	if _, err := c.Limits(context.Background()); err != nil {
		t.Fatal(err)
	}
	if o.hit(limitsPath) != 2 || len(s.waits()) != 1 {
		t.Errorf("%d attempts, %d waits; want 2 and 1", o.hit(limitsPath), len(s.waits()))
	}
}

func TestTemporary(t *testing.T) {
	t.Parallel()
	if !temporary(&net.OpError{Op: "dial", Err: &timeoutErr{}}) || !temporary(io.ErrUnexpectedEOF) {
		t.Error("timeouts and cut responses should be temporary")
	}
	if temporary(errors.New("x509: certificate signed by unknown authority")) {
		t.Error("a TLS failure should not be retried")
	}
}

type timeoutErr struct{}

func (*timeoutErr) Error() string   { return "i/o timeout" }
func (*timeoutErr) Timeout() bool   { return true }
func (*timeoutErr) Temporary() bool { return true }

func TestBudgetStops(t *testing.T) {
	t.Parallel()
	o := newFakeOrg(t)
	o.route(limitsPath, serveFixture(t, 200, "rest/limits.json"))
	o.route(queryPath, serveFixture(t, 200, "query/count.json"))
	o.limitInfo = "api-usage=48/100; per-app-api-usage=17/250(appName=sample-connected-app)"
	c, _, _ := testClient(t, o)
	ctx := context.Background()
	if c.Usage().Known {
		t.Fatal("usage known before any call")
	}
	// Nothing known yet: the call goes out and learns 48/100.
	if _, err := QueryAll[contact](ctx, c, "SELECT count() FROM Contact"); err != nil {
		t.Fatal(err)
	}
	u := c.Usage()
	if !u.Known || u.Used != 48 || u.Max != 100 || len(u.Apps) != 1 || u.Apps[0] != (AppUsage{"sample-connected-app", 17, 250}) {
		t.Errorf("usage %+v", u)
	}
	// 49 of 100 is within 50%.
	o.mu.Lock()
	o.limitInfo = "api-usage=49/100"
	o.mu.Unlock()
	if _, err := QueryAll[contact](ctx, c, "SELECT count() FROM Contact"); err != nil {
		t.Fatal(err)
	}
	// The 50th would be within, the 51st not: the header now says 49.
	o.mu.Lock()
	o.limitInfo = "api-usage=50/100"
	o.mu.Unlock()
	if _, err := QueryAll[contact](ctx, c, "SELECT count() FROM Contact"); err != nil {
		t.Fatal(err)
	}
	before := c.Calls()
	_, err := QueryAll[contact](ctx, c, "SELECT count() FROM Contact")
	var be *BudgetError
	if !errors.Is(err, ErrBudget) || !errors.As(err, &be) || be.Used != 50 || be.Max != 100 {
		t.Fatalf("error %v, want ErrBudget at 50/100", err)
	}
	if !strings.Contains(err.Error(), "GET /services/data/v67.0/query: not sent: the org has used 50 of 100 daily API requests") {
		t.Errorf("error %q", err)
	}
	if c.Calls() != before || o.hit(queryPath) != 3 {
		t.Errorf("a request was sent past the budget: calls %d→%d, server saw %d", before, c.Calls(), o.hit(queryPath))
	}
	// The token endpoint and versions do not count and are not stopped.
	o.route("GET /services/data/", serveFixture(t, 200, "rest/versions.json"))
	if _, err := c.Versions(ctx); err != nil {
		t.Errorf("versions stopped by the budget: %v", err)
	}
}

// TestBudgetWithoutHeader counts calls locally once usage is known from the
// limits resource.
func TestBudgetWithoutHeader(t *testing.T) {
	t.Parallel()
	o := newFakeOrg(t)
	o.route(limitsPath, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"DailyApiRequests": {"Max": 10, "Remaining": 7}}`)
	})
	c, _, _ := testClient(t, o)
	var err error
	calls := 0
	for calls < 10 && err == nil {
		_, err = c.Limits(context.Background())
		calls++
	}
	// Limits says 3 used, then 4 after the first call (Remaining stays 7 in
	// this fake, so each response resets the usage to 3): the budget of 5 is
	// never reached through Limits alone. Count locally instead.
	if err != nil {
		t.Fatalf("Limits: %v", err)
	}
	o.route(queryPath, serveFixture(t, 200, "query/count.json"))
	n := 0
	for ; n < 10; n++ {
		if _, err = QueryAll[contact](context.Background(), c, "SELECT count() FROM Contact"); err != nil {
			break
		}
	}
	if !errors.Is(err, ErrBudget) || n != 2 {
		t.Errorf("stopped after %d queries with %v; want ErrBudget after 2 (3 used, 5 allowed)", n, err)
	}
}

// TestSecretsNeverInErrorsOrLogs drives failures whose bodies echo the
// secret and the token, and searches every error and log line.
func TestSecretsNeverInErrorsOrLogs(t *testing.T) {
	t.Parallel()
	o := newFakeOrg(t)
	echo := func(status int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			r.ParseForm()
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(status)
			io.WriteString(w, "<html><title>"+r.Header.Get("Authorization")+" "+r.PostForm.Get("client_secret")+"</title>"+testSecret+"</html>")
		}
	}
	o.route(limitsPath, echo(500))
	o.route(queryPath, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(400)
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		io.WriteString(w, `[{"message":"bad token `+tok+` or secret `+testSecret+`","errorCode":"INVALID_AUTH_HEADER"}]`)
	})
	o.route("POST "+revokePath, func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		w.WriteHeader(400)
		io.WriteString(w, `{"error":"invalid_token","error_description":"token `+r.PostForm.Get("token")+` unknown"}`)
	})
	c, _, logBuf := testClient(t, o, func(cfg *Config) { cfg.MaxRetries = 2 })
	ctx := context.Background()
	var errs []error
	_, err := c.Limits(ctx)
	errs = append(errs, err)
	_, err = QueryAll[contact](ctx, c, "SELECT Id FROM Contact")
	errs = append(errs, err)
	errs = append(errs, c.Revoke(ctx, "00DS7000000oxzo!AR8AQ.minted-99-unknown"))
	o.tokenHook = echo(400)
	c2, _, logBuf2 := testClient(t, o, func(cfg *Config) { cfg.MaxRetries = -1 })
	_, err = c2.Token(ctx)
	errs = append(errs, err)
	for i, err := range errs {
		if err == nil {
			t.Fatalf("call %d did not fail", i)
		}
		assertNoSecret(t, "error", err.Error())
		if !strings.Contains(err.Error(), redacted) {
			t.Errorf("error %d does not show the redaction: %v", i, err)
		}
	}
	assertNoSecret(t, "log", logBuf.String()+logBuf2.String())
	if !strings.Contains(logBuf.String(), "retried") {
		t.Errorf("retries were not logged:\n%s", logBuf)
	}
}
