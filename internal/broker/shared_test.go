package broker

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/steward-dev/steward/internal/secrets"
	"github.com/steward-dev/steward/internal/store"
	"github.com/steward-dev/steward/internal/store/storetest"
)

// replica is one broker process: its own store handle, exchanger and cache.
type replica struct {
	db     store.Store
	shared *SharedMinter
	cache  *Cache
}

// newReplicas starts n replicas on one fresh PostgreSQL database, sharing
// the fixture's org and secret store, and returns them with the DSN.
func newReplicas(t *testing.T, f *fixture, n int) ([]*replica, string) {
	t.Helper()
	ctx := context.Background()
	dsn := storetest.PostgresDSN(t)
	kek := make([]byte, 32)
	rand.Read(kek)
	keys, err := secrets.ParseKeyring("k1:"+base64.StdEncoding.EncodeToString(kek), "test")
	if err != nil {
		t.Fatal(err)
	}
	var rs []*replica
	for range n {
		db, err := store.OpenPostgres(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		key, err := secrets.SystemKey(ctx, db, keys, SharedTokenKey, SharedTokenKeySize)
		if err != nil {
			t.Fatal(err)
		}
		x, err := NewExchanger(ExchangeConfig{Secrets: f.store.s, HTTPClient: f.org.client, MaxRetries: 1, InitialBackoff: time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		shared, err := NewSharedMinter(SharedConfig{Minter: x, Store: db, Key: key, SafetyMargin: time.Minute, Now: f.clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		cache, err := NewCache(CacheConfig{Minter: shared, SafetyMargin: time.Minute, Now: f.clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, &replica{db: db, shared: shared, cache: cache})
	}
	return rs, dsn
}

// TestReplicasExchangeOnce runs 50 callers on each of two replicas with
// cold caches: the org sees one exchange, every caller gets its token, and
// the database holds it only sealed.
func TestReplicasExchangeOnce(t *testing.T) {
	f := newFixture(t)
	rs, dsn := newReplicas(t, f, 2)
	ctx := context.Background()
	const id, lifetime, callers = "erp-connector-prod", 15 * time.Minute, 50
	grants := make([]Grant, len(rs)*callers)
	errs := make([]error, len(grants))
	var start, wg sync.WaitGroup
	start.Add(1)
	for i := range grants {
		r := rs[i%len(rs)]
		wg.Go(func() {
			start.Wait()
			grants[i], errs[i] = r.cache.Token(ctx, id, lifetime)
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
		if !grants[i].ExpiresAt.Equal(grants[0].ExpiresAt) {
			t.Fatalf("caller %d's token expires at %s, caller 0's at %s", i, grants[i].ExpiresAt, grants[0].ExpiresAt)
		}
	}
	if n := f.org.exchanges.Load(); n != 1 {
		t.Fatalf("two replicas × %d callers on cold caches made %d exchanges at the org, want 1", callers, n)
	}

	// The token's row holds neither the token nor its hex form.
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var row []byte
	if err := conn.QueryRow(ctx, `SELECT convert_to(t::text, 'UTF8') || nonce || ciphertext FROM shared_tokens t WHERE identity = $1`, id).Scan(&row); err != nil {
		t.Fatal(err)
	}
	tok := []byte(grants[0].AccessToken)
	if bytes.Contains(row, tok) || bytes.Contains(row, []byte(hex.EncodeToString(tok))) {
		t.Fatal("the shared_tokens row holds the access token in plaintext")
	}

	// Past the refresh point both replicas refresh: one more exchange in
	// all, and both then serve the new token.
	f.clock.Add(12 * time.Minute)
	for _, r := range rs {
		if _, err := r.cache.Token(ctx, id, lifetime); err != nil {
			t.Fatal(err)
		}
		r.cache.settle(id)
	}
	if n := f.org.exchanges.Load(); n != 2 {
		t.Fatalf("a refresh on two replicas made %d exchanges in all, want 2", n)
	}
	a, _ := rs[0].cache.Token(ctx, id, lifetime)
	b, _ := rs[1].cache.Token(ctx, id, lifetime)
	if a.AccessToken == grants[0].AccessToken || a.AccessToken != b.AccessToken {
		t.Fatal("after the refresh the replicas do not serve the same new token")
	}
}

// TestReplicaRevokeReachesShared kills on replica A, which never held the
// token replica B serves: A still revokes it at the org and stops sharing
// it, so B's next exchange gets a new one.
func TestReplicaRevokeReachesShared(t *testing.T) {
	f := newFixture(t)
	rs, _ := newReplicas(t, f, 2)
	ctx := context.Background()
	const id, lifetime = "erp-connector-prod", 15 * time.Minute
	g, err := rs[1].cache.Token(ctx, id, lifetime)
	if err != nil {
		t.Fatal(err)
	}
	n, err := rs[0].cache.Revoke(ctx, id)
	if err != nil || n != 1 {
		t.Fatalf("Revoke on the other replica = %d, %v; want the shared token revoked", n, err)
	}
	req, _ := http.NewRequest(http.MethodGet, f.org.url+"/services/data/v67.0/limits", nil)
	req.Header.Set("Authorization", "Bearer "+g.AccessToken)
	resp, err := f.org.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the org answers %d to the revoked shared token, want 401", resp.StatusCode)
	}
	if _, err := rs[0].db.SharedToken(ctx, id); err == nil {
		t.Fatal("the revoked token is still shared")
	}
	rs[1].cache.Drop(id)
	g2, err := rs[1].cache.Token(ctx, id, lifetime)
	if err != nil || g2.AccessToken == g.AccessToken {
		t.Fatalf("after the revocation: %v, %v; want a new token", g2, err)
	}
}

func TestSharedMinterKey(t *testing.T) {
	if _, err := NewSharedMinter(SharedConfig{Minter: &Exchanger{}, Store: nil, Key: make([]byte, 32)}); err == nil {
		t.Error("no store: want an error")
	}
	open, _ := storetest.SQLite(t)
	if _, err := NewSharedMinter(SharedConfig{Minter: &Exchanger{}, Store: open(), Key: make([]byte, 16)}); err == nil {
		t.Error("a 16-byte key: want an error")
	}
}
