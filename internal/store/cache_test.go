package store_test

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/steward-dev/steward/internal/store"
	"github.com/steward-dev/steward/internal/store/storetest"
)

// openPostgres opens one more replica on dsn, closed when the test ends.
func openPostgres(t testing.TB, dsn string) store.Store {
	t.Helper()
	s, err := store.OpenPostgres(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// superuser is a direct connection to the test database, for changes
// behind the stores' backs.
func superuser(t testing.TB, dsn string) *pgx.Conn {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(ctx) })
	return c
}

var silentTags atomic.Int64

// silentChange rewrites created_by of a version with triggers disabled
// (session_replication_role = replica), so that no notification is sent:
// a change the cache cannot hear of. It returns the value written.
func silentChange(t testing.TB, c *pgx.Conn, identity string, version int) string {
	t.Helper()
	ctx := context.Background()
	tag := fmt.Sprintf("human:silent-%d", silentTags.Add(1))
	tx, err := c.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SET LOCAL session_replication_role = replica`); err != nil {
		t.Skipf("cannot disable triggers on the test server (needs a superuser): %v", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE secret_versions SET created_by = $1 WHERE identity = $2 AND version = $3`, tag, identity, version); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	return tag
}

func createdBy(s store.Store, identity string, version int) string {
	v, err := s.Version(context.Background(), identity, version)
	if err != nil {
		return "error " + err.Error()
	}
	return v.CreatedBy
}

// waitServedFromCache waits until s answers from its cache: it reads a
// version, changes it silently, and reads it again; only a cached row can
// still show the old value.
func waitServedFromCache(t testing.TB, s store.Store, c *pgx.Conn, identity string) string {
	t.Helper()
	var tag string
	storetest.Eventually(t, "reads served from the cache", func() (bool, string) {
		createdBy(s, identity, 1)
		tag = silentChange(t, c, identity, 1)
		got := createdBy(s, identity, 1)
		return got != tag, got
	})
	return tag
}

func insertActive(t testing.TB, s store.Store, identity string) {
	t.Helper()
	v := store.Version{Identity: identity, State: store.StateActive, CreatedAt: time.Now(), CreatedBy: "human:ana",
		KEKID: "k1", WrappedKey: []byte("wrapped"), Nonce: []byte("nonce"), Ciphertext: []byte("ct")}
	if _, err := s.InsertVersion(context.Background(), v, 0, time.Time{}); err != nil {
		t.Fatal(err)
	}
}

// TestPostgresListenerLoss terminates the listening connections of two
// replicas while one of them serves a row the database no longer holds
// (changed without a notification). Losing the listener must drop the
// cache, so the replica reads the database again; after reconnecting it
// caches again and hears notifications again.
func TestPostgresListenerLoss(t *testing.T) {
	dsn := storetest.PostgresDSN(t)
	ctx := context.Background()
	a, b := openPostgres(t, dsn), openPostgres(t, dsn)
	su := superuser(t, dsn)
	insertActive(t, a, "billing")

	stale := waitServedFromCache(t, b, su, "billing")
	var killed int
	if err := su.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND application_name = $1`, store.ListenerApplication).Scan(&killed); err != nil {
		t.Fatal(err)
	}
	if killed != 2 {
		t.Fatalf("terminated %d listening connections, want 2 (one per replica)", killed)
	}
	storetest.Eventually(t, "the silent change after the listener was lost", func() (bool, string) {
		got := createdBy(b, "billing", 1)
		return got == stale, got
	})

	waitServedFromCache(t, b, su, "billing")
	b.Version(ctx, "billing", 1)
	if err := a.SetDeleted(ctx, "billing", 1, time.Now()); err != nil {
		t.Fatal(err)
	}
	storetest.Eventually(t, "a soft delete after reconnecting", func() (bool, string) {
		v, err := b.Version(ctx, "billing", 1)
		return err == nil && !v.DeletedAt.IsZero(), fmt.Sprintf("deleted at %v, %v", v.DeletedAt, err)
	})
}

// TestPostgresListenerHeld keeps a replica's listener from connecting:
// meanwhile every read goes to the database (a change without a
// notification shows at once) and nothing is cached. Once the listener
// connects, the replica caches again.
func TestPostgresListenerHeld(t *testing.T) {
	dsn := storetest.PostgresDSN(t)
	s := openPostgres(t, dsn)
	su := superuser(t, dsn)
	insertActive(t, s, "billing")
	waitServedFromCache(t, s, su, "billing")

	release := make(chan struct{})
	if err := store.HoldListener(s, dsn, release); err != nil {
		t.Fatal(err)
	}
	for range 20 {
		createdBy(s, "billing", 1)
		tag := silentChange(t, su, "billing", 1)
		if got := createdBy(s, "billing", 1); got != tag {
			t.Fatalf("with no listener, a read returned %q, not the database's %q", got, tag)
		}
	}
	if trusted, n := store.CacheState(s); trusted || n != 0 {
		t.Fatalf("with no listener: cache trusted %v holding %d identities, want untrusted and empty", trusted, n)
	}
	close(release)
	waitServedFromCache(t, s, su, "billing")
}

// BenchmarkNotifyLatency measures how long a change committed by one
// replica takes to drop the row from another replica's cache: from the
// writer's commit returning to the row being gone, found by polling the
// reader's cache. It reports the median, the 99th percentile and the
// maximum.
func BenchmarkNotifyLatency(b *testing.B) {
	dsn := storetest.PostgresDSN(b)
	ctx := context.Background()
	w, r := openPostgres(b, dsn), openPostgres(b, dsn)
	insertActive(b, w, "billing")
	lat := make([]time.Duration, 0, b.N)
	for i := 0; b.Loop(); i++ {
		storetest.Eventually(b, "the row cached by the reader", func() (bool, string) {
			r.Version(ctx, "billing", 1)
			return store.Cached(r, "billing", 1), "not cached"
		})
		at := time.Time{}
		if i%2 == 0 {
			at = time.Now()
		}
		if err := w.SetDeleted(ctx, "billing", 1, at); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		for store.Cached(r, "billing", 1) {
			runtime.Gosched()
		}
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	us := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }
	b.ReportMetric(us(lat[len(lat)/2]), "p50-µs")
	b.ReportMetric(us(lat[len(lat)*99/100]), "p99-µs")
	b.ReportMetric(us(lat[len(lat)-1]), "max-µs")
}

// TestPostgresNotifiesBeforeAnswering checks the server behaviour the
// listener's heartbeat relies on: once a notifying transaction has
// committed, the listening connection receives the notification before
// the answer to its next query.
func TestPostgresNotifiesBeforeAnswering(t *testing.T) {
	dsn := storetest.PostgresDSN(t)
	ctx := context.Background()
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	var heard atomic.Int64
	cfg.OnNotification = func(*pgconn.PgConn, *pgconn.Notification) { heard.Add(1) }
	l, err := pgconn.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close(ctx)
	if _, err := l.Exec(ctx, "LISTEN steward_test").ReadAll(); err != nil {
		t.Fatal(err)
	}
	w := superuser(t, dsn)
	for i := int64(1); i <= 200; i++ {
		if _, err := w.Exec(ctx, "SELECT pg_notify('steward_test', 'x')"); err != nil {
			t.Fatal(err)
		}
		if err := l.Ping(ctx); err != nil {
			t.Fatal(err)
		}
		if n := heard.Load(); n != i {
			t.Fatalf("after %d committed notifications and a query, the listener had heard %d", i, n)
		}
	}
}
