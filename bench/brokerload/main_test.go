package main

import (
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

// TestBuckets: every latency falls in the bucket whose range holds it, and
// a bucket is at most 1/32 of its lower edge wide.
func TestBuckets(t *testing.T) {
	for _, us := range []uint64{0, 1, 63, 64, 65, 95, 96, 127, 128, 1000, 9_999, 10_000, 123_456, 1 << 40} {
		i := bucket(us)
		lo, hi := bucketLow(i), bucketLow(i+1)
		if us < lo || us >= hi {
			t.Errorf("%d µs in bucket %d = [%d, %d)", us, i, lo, hi)
		}
		if us >= 64 && (hi-lo)*32 > lo {
			t.Errorf("bucket %d = [%d, %d) is wider than 1/32", i, lo, hi)
		}
	}
}

// TestQuantile compares the histogram's quantiles with exact ones.
func TestQuantile(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var h histogram
	var exact []time.Duration
	for range 100_000 {
		d := time.Duration(r.ExpFloat64() * float64(4*time.Millisecond))
		h.add(d)
		exact = append(exact, d)
	}
	slices.Sort(exact)
	for _, q := range []float64{.5, .9, .99} {
		want := exact[int(q*float64(len(exact)))]
		got := h.quantile(q)
		if got < want || float64(got) > float64(want)*1.04+float64(time.Microsecond) {
			t.Errorf("quantile %.2f = %s, exact %s: not the upper edge of its bucket", q, got, want)
		}
	}
	if h.quantile(1) != exact[len(exact)-1].Round(time.Microsecond) {
		t.Errorf("quantile 1 = %s, max %s", h.quantile(1), exact[len(exact)-1])
	}
}

// TestSoakBounds: a flat series passes, a leak of a few bytes per grant
// fails, and the slope is per minute.
func TestSoakBounds(t *testing.T) {
	series := func(perGrant float64) *soakReport {
		r := &soakReport{}
		for i := range 30 {
			at := time.Duration(i+1) * 10 * time.Second
			grants := int64(i+1) * 60_000                                    // 6,000 grants/s
			live := 20<<20 + perGrant*float64(grants) + float64(i%3)*(1<<20) // ±1 MiB of noise
			r.samples = append(r.samples, memSample{at: at, grants: grants, liveMiB: live / (1 << 20), anonMiB: 40, rssAnon: 40 << 20})
		}
		return r
	}
	if err := series(0).print(1_800_000); err != nil {
		t.Errorf("flat memory failed the soak: %v", err)
	}
	if err := series(24).print(1_800_000); err == nil {
		t.Error("24 bytes retained per grant passed the soak")
	}
	if s := slope(series(0).samples[:2], func(s memSample) float64 { return float64(s.at / time.Second) }); math.Abs(s-60) > 1e-9 {
		t.Errorf("slope of seconds over minutes = %v, want 60", s)
	}
}

// TestConnClient: the lean client sends the form, reads each response to
// its end, keeps its connection unless the server closes it, and reports
// a refused grant with its status.
func TestConnClient(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/token" || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			http.Error(w, "bad request line", http.StatusBadRequest)
			return
		}
		if err := r.ParseForm(); err != nil || r.PostForm.Get("audience") != "erp-0" {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		switch n.Add(1) {
		case 2:
			w.Header().Set("Connection", "close")
		case 4:
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, `{"error":"unauthorized_client","error_description":"denied by policy: killed"}`)
			return
		}
		io.WriteString(w, `{"access_token":"00Dxx!token","token_type":"Bearer"}`)
	}))
	defer srv.Close()
	var dials atomic.Int64
	conf := srv.Client().Transport.(*http.Transport).TLSClientConfig
	c := newConnClient(srv.Listener.Addr().String(), conf, url.Values{"audience": {"erp-0"}}.Encode(), &dials)
	for i, want := range []struct {
		err   string
		dials int64
	}{
		{"", 1}, // first grant dials
		{"", 1}, // the server closes after this one
		{"", 2}, // so the third dials again
		{"status 403: denied by policy: killed", 2},
		{"", 2},
	} {
		d, err := c.grant()
		switch {
		case want.err == "" && (err != nil || d <= 0):
			t.Fatalf("grant %d = %s, %v; want a timed grant", i+1, d, err)
		case want.err != "" && (err == nil || err.Error() != want.err):
			t.Fatalf("grant %d error = %v, want %q", i+1, err, want.err)
		}
		if got := dials.Load(); got != want.dials {
			t.Fatalf("after grant %d: %d dials, want %d", i+1, got, want.dials)
		}
	}
}
