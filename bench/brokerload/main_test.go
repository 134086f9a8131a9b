package main

import (
	"math"
	"math/rand/v2"
	"slices"
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
