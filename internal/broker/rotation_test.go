package broker

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/steward-dev/steward/internal/audit"
	"github.com/steward-dev/steward/internal/secrets"
	"github.com/steward-dev/steward/internal/store"
)

// Secrets of the rotations below; the first is the scenario's own.
const (
	rotatedSecret = "ROTATED0SECRET0000000000000000000000000000000000000000000000002"
	laterSecret   = "LATER000SECRET0000000000000000000000000000000000000000000000003"
	wrongSecret   = "WRONG000SECRET0000000000000000000000000000000000000000000000004"
)

var rotator = audit.Actor{Kind: audit.ActorHuman, ID: "raj"}

// waitExchanges waits until the org has seen n more token requests.
func (o *org) waitExchanges(t *testing.T, n int64) {
	t.Helper()
	target := o.exchanges.Load() + n
	deadline := time.Now().Add(30 * time.Second)
	for o.exchanges.Load() < target {
		if time.Now().After(deadline) {
			t.Fatalf("the org saw %d token requests, want %d", o.exchanges.Load(), target)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestRotationUnderLoad runs token requests from many goroutines while the
// identity's secret is rotated twice, start to finish, with the clock
// moving fast enough that tokens are refreshed and expire throughout, and
// asserts that not one request fails. The first rotation is the documented
// order: stage at the org, rotate (proved at the org), apply at the org.
// The second is the order that relies on the overlap fallback: the new
// secret is put into the store before the org knows it.
func TestRotationUnderLoad(t *testing.T) {
	f := newFixture(t)
	const id, lifetime = "erp-connector-prod", 15 * time.Minute
	ctx := context.Background()
	bundle := func(secret string) secrets.Bundle {
		return secrets.Bundle{URL: f.org.url, ConsumerKey: f.org.id, ConsumerSecret: secret}
	}
	var requests, failures atomic.Int64
	var firstErr atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				case <-time.After(100 * time.Microsecond):
				}
				rctx, cancel := context.WithTimeout(ctx, 20*time.Second)
				g, err := f.cache.Token(rctx, id, lifetime)
				cancel()
				requests.Add(1)
				if err == nil && g.AccessToken == "" {
					err = errors.New("empty token")
				}
				if err != nil {
					failures.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				}
			}
		})
	}
	// The clock runs at 10 s per millisecond: a 15-minute token is
	// refreshed about every 70 ms.
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
				f.clock.Add(10 * time.Second)
			}
		}
	})

	f.org.waitExchanges(t, 3)
	// Rotation 1: stage at the org, rotate with a real proof, apply.
	if err := f.org.srv.StageSecret("Erp_Connector", rotatedSecret); err != nil {
		t.Fatal(err)
	}
	f.org.waitExchanges(t, 3)
	m, err := f.store.s.Rotate(ctx, rotator, id, bundle(rotatedSecret), secrets.Any, Prove(f.org.client), 2*time.Hour)
	if err != nil || m.Version != 2 || m.State != store.StateActive {
		t.Fatalf("Rotate = %+v, %v", m, err)
	}
	f.org.waitExchanges(t, 3)
	if err := f.org.srv.ApplySecret("Erp_Connector"); err != nil {
		t.Fatal(err)
	}
	f.org.waitExchanges(t, 3)

	// Rotation 2: the store first, the org after; the broker falls back
	// to version 2 until the org accepts version 3.
	if _, err := f.store.s.Put(ctx, rotator, id, bundle(laterSecret), secrets.Any, 2*time.Hour); err != nil {
		t.Fatal(err)
	}
	// Long enough for every token minted before the put to expire, so
	// that requests depend on the fallback.
	for until := f.clock.Now().Add(2 * lifetime); f.clock.Now().Before(until); {
		time.Sleep(time.Millisecond)
	}
	if err := f.org.srv.StageSecret("Erp_Connector", laterSecret); err != nil {
		t.Fatal(err)
	}
	if err := f.org.srv.ApplySecret("Erp_Connector"); err != nil {
		t.Fatal(err)
	}
	f.org.waitExchanges(t, 3)
	close(stop)
	wg.Wait()

	if n := failures.Load(); n != 0 {
		t.Fatalf("%d of %d requests failed during the rotations; first: %v", n, requests.Load(), firstErr.Load())
	}
	if !strings.Contains(f.logs.String(), "served with the previous version") {
		t.Error("the second rotation never fell back to the previous version")
	}
	t.Logf("%d requests, %d token requests at the org, 0 failed", requests.Load(), f.org.exchanges.Load())
	// Past the overlap window, the replaced versions are no longer
	// readable: retired for good.
	f.clock.Add(3 * time.Hour)
	for _, v := range []int{1, 2} {
		if _, _, err := f.store.s.Read(ctx, rotator, id, v); !errors.Is(err, secrets.ErrExpired) {
			t.Errorf("version %d after the overlap: %v, want ErrExpired", v, err)
		}
	}
	for _, s := range []string{f.org.secret, rotatedSecret, laterSecret} {
		if strings.Contains(f.logs.String(), s) {
			t.Error("a secret reached the logs")
		}
	}
}

// TestExchangeFallback checks the overlap fallback on its own: it is used
// only while the org refuses the active version's credentials and the
// replaced version is in its overlap window, and each read is audited.
func TestExchangeFallback(t *testing.T) {
	f := newFixture(t)
	const id = "erp-connector-prod"
	ctx := context.Background()
	// A new version the org does not know, with a 30-minute overlap.
	if _, err := f.store.s.Put(ctx, rotator, id, secrets.Bundle{URL: f.org.url, ConsumerKey: f.org.id, ConsumerSecret: wrongSecret}, secrets.Any, 30*time.Minute); err != nil {
		t.Fatal(err)
	}
	before := len(f.store.records(t))
	g, err := f.cache.Token(ctx, id, 10*time.Minute)
	if err != nil || g.AccessToken == "" {
		t.Fatalf("Token during the overlap = %v, %v", g, err)
	}
	if f.org.exchanges.Load() != 2 {
		t.Errorf("token requests = %d, want 2 (active refused, previous accepted)", f.org.exchanges.Load())
	}
	recs := f.store.records(t)[before:]
	if len(recs) != 2 || !strings.Contains(recs[0], `"version":"2"`) || !strings.Contains(recs[1], `"version":"1"`) {
		t.Errorf("audit records of the exchange:\n%s", strings.Join(recs, "\n"))
	}
	if !strings.Contains(f.logs.String(), `"served_version":1`) {
		t.Errorf("the fallback was not logged:\n%s", f.logs.String())
	}
	// Past the overlap window there is nothing to fall back to.
	f.clock.Add(31 * time.Minute)
	if _, err := f.cache.Token(ctx, id, 10*time.Minute); !errors.Is(err, ErrRefused) {
		t.Fatalf("Token after the overlap: %v, want ErrRefused", err)
	}
	if strings.Contains(f.logs.String(), wrongSecret) || strings.Contains(f.logs.String(), f.org.secret) {
		t.Error("a secret reached the logs")
	}
}
