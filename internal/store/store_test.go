package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/steward-dev/steward/internal/store"
	"github.com/steward-dev/steward/internal/store/storetest"
)

func TestSQLite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Opener {
		open, _ := storetest.SQLite(t)
		return open
	})
}

func TestPostgres(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Opener { return storetest.Postgres(t) })
}

// migratedPostgres is the DSN of a new PostgreSQL database with the
// schema applied.
func migratedPostgres(t *testing.T) string {
	t.Helper()
	dsn := storetest.PostgresDSN(t)
	s, err := store.OpenPostgres(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	return dsn
}

// bumpSchema records a schema version newer than this build knows.
func bumpSchema(t *testing.T, driver, dsn string) {
	t.Helper()
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, '9999_future.sql', 0)`); err != nil {
		t.Fatal(err)
	}
}

func TestSchemaTooNew(t *testing.T) {
	ctx := context.Background()
	t.Run("sqlite", func(t *testing.T) {
		open, dir := storetest.SQLite(t)
		s := open()
		if _, err := s.InitMeta(ctx, "keep", []byte("me")); err != nil {
			t.Fatal(err)
		}
		s.Close()
		bumpSchema(t, "sqlite", filepath.Join(dir, store.SQLiteFile))
		_, err := store.OpenSQLite(ctx, dir)
		if !errors.Is(err, store.ErrSchemaTooNew) {
			t.Fatalf("open newer schema: err = %v, want ErrSchemaTooNew", err)
		}
		t.Log(err)
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := migratedPostgres(t)
		bumpSchema(t, "pgx", dsn)
		if _, err := store.OpenPostgres(ctx, dsn); !errors.Is(err, store.ErrSchemaTooNew) {
			t.Fatalf("open newer schema: err = %v, want ErrSchemaTooNew", err)
		}
	})
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := store.OpenPostgres(ctx, "host=127.0.0.1 port=notaport password=hunter2"); err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("malformed DSN: err = %v; want an error that does not repeat the password", err)
	}
	if _, err := store.OpenPostgres(ctx, "host=127.0.0.1 port=1 user=x password=hunter2 connect_timeout=2"); err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("unreachable server: err = %v; want an error that does not repeat the password", err)
	}
}

// TestPostgresLockExchange checks that the exchange lock excludes holders
// on other connections (replicas), and only for the same identity.
func TestPostgresLockExchange(t *testing.T) {
	open := storetest.Postgres(t)
	a, b := open(), open()
	ctx := context.Background()
	var inside, most atomic.Int32
	var wg sync.WaitGroup
	for i := range 8 {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Go(func() {
			err := s.LockExchange(ctx, "app", func(context.Context) error {
				n := inside.Add(1)
				for {
					m := most.Load()
					if n <= m || most.CompareAndSwap(m, n) {
						break
					}
				}
				time.Sleep(5 * time.Millisecond)
				inside.Add(-1)
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if most.Load() != 1 {
		t.Fatalf("%d holders of one identity's lock at once; want 1", most.Load())
	}
	// Another identity's lock is free while one is held.
	err := a.LockExchange(ctx, "app", func(context.Context) error {
		wait, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		return b.LockExchange(wait, "other", func(context.Context) error { return nil })
	})
	if err != nil {
		t.Fatalf("lock another identity while one is held: %v", err)
	}
	// The same identity's lock is not: waiting for it ends with the context.
	err = a.LockExchange(ctx, "app", func(context.Context) error {
		wait, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		return b.LockExchange(wait, "app", func(context.Context) error { return nil })
	})
	if err == nil {
		t.Fatal("a second replica took a held exchange lock")
	}
}

// TestLastAuditUsesIndex: LastAudit's query is served by the index on
// resource and action on both databases, although the index leaves token
// decisions out.
func TestLastAuditUsesIndex(t *testing.T) {
	ctx := context.Background()
	plan := func(t *testing.T, db *sql.DB, explain string) string {
		t.Helper()
		rows, err := db.QueryContext(ctx, explain+" "+store.LastAuditQuery, "secret/billing", "secret.read")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		cols, _ := rows.Columns()
		var out []string
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprint(vals...))
		}
		return strings.Join(out, "\n")
	}
	t.Run("sqlite", func(t *testing.T) {
		open, dir := storetest.SQLite(t)
		open().Close()
		db, err := sql.Open("sqlite", filepath.Join(dir, store.SQLiteFile))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if p := plan(t, db, "EXPLAIN QUERY PLAN"); !strings.Contains(p, "USING INDEX audit_records_resource") {
			t.Fatalf("plan does not use the index:\n%s", p)
		}
	})
	t.Run("postgres", func(t *testing.T) {
		db, err := sql.Open("pgx", migratedPostgres(t))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		db.SetMaxOpenConns(1) // the setting below is the connection's
		// An empty table is cheapest to scan: forbid that to see whether
		// the index can serve the query at all.
		if _, err := db.ExecContext(ctx, "SET enable_seqscan = off"); err != nil {
			t.Fatal(err)
		}
		if p := plan(t, db, "EXPLAIN"); !strings.Contains(p, "audit_records_resource") {
			t.Fatalf("plan does not use the index:\n%s", p)
		}
	})
}
