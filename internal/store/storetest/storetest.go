// Package storetest is the conformance suite every store.Store backend must
// pass, plus helpers that give tests a fresh SQLite or PostgreSQL database.
package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/steward-dev/steward/internal/store"
)

// PostgresEnv names the environment variable holding the DSN of a
// PostgreSQL server the tests may create databases on.
const PostgresEnv = "STEWARD_TEST_POSTGRES_DSN"

// Opener opens a new handle on one database; calling it again opens
// another handle on the same database, as a second replica would.
type Opener func() store.Store

// SQLite returns an opener for a fresh SQLite database in a temporary
// directory, and the directory.
func SQLite(t testing.TB) (Opener, string) {
	t.Helper()
	dir := t.TempDir()
	return func() store.Store {
		t.Helper()
		s, err := store.OpenSQLite(context.Background(), dir)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}, dir
}

// PostgresAvailable reports whether STEWARD_TEST_POSTGRES_DSN is set. When
// it is not, it logs that the PostgreSQL cases are skipped, or fails the
// test under CI=true.
func PostgresAvailable(t testing.TB) bool {
	t.Helper()
	if os.Getenv(PostgresEnv) != "" {
		return true
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not set; CI must run the PostgreSQL suite (.ci/postgres.sh prints the line to export)", PostgresEnv)
	}
	t.Logf("PostgreSQL cases skipped: set %s to a server's DSN (for example the line .ci/postgres.sh prints)", PostgresEnv)
	return false
}

// PostgresDSN creates a fresh database on the server named by
// STEWARD_TEST_POSTGRES_DSN, drops it when the test ends, and returns its
// DSN. Without the variable the test is skipped, or fails under CI=true.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	base := os.Getenv(PostgresEnv)
	if base == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set; CI must run the PostgreSQL suite (.ci/postgres.sh prints the line to export)", PostgresEnv)
		}
		t.Skipf("PostgreSQL tests skipped: set %s to a server's DSN (for example the line .ci/postgres.sh prints)", PostgresEnv)
	}
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to the test PostgreSQL server: %v", err)
	}
	defer admin.Close(ctx)
	var b [6]byte
	rand.Read(b[:])
	name := "steward_test_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("drop test database %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	cfg, err := pgx.ParseConfig(base)
	if err != nil {
		t.Fatalf("parse %s: %v", PostgresEnv, err)
	}
	return fmt.Sprintf("host=%s port=%d user=%s dbname=%s sslmode=disable", cfg.Host, cfg.Port, cfg.User, name) + passwordPart(cfg.Password)
}

func passwordPart(pw string) string {
	if pw == "" {
		return ""
	}
	return " password=" + pw
}

// Postgres returns an opener for a fresh PostgreSQL database.
func Postgres(t testing.TB) Opener {
	t.Helper()
	dsn := PostgresDSN(t)
	return func() store.Store {
		t.Helper()
		s, err := store.OpenPostgres(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
}

// Run runs the conformance suite; fresh returns an opener for a new, empty
// database each time it is called.
func Run(t *testing.T, fresh func(t *testing.T) Opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open Opener)
	}{
		{"VersionsCheckAndSet", testVersionsCheckAndSet},
		{"RotationStates", testRotationStates},
		{"DeleteAndDestroy", testDeleteAndDestroy},
		{"Rewrap", testRewrap},
		{"Meta", testMeta},
		{"Elevations", testElevations},
		{"AuditAppend", testAuditAppend},
		{"AuditConcurrentWriters", testAuditConcurrentWriters},
		{"ConcurrentCheckAndSet", testConcurrentCheckAndSet},
		{"SharedTokens", testSharedTokens},
		{"LockExchange", testLockExchange},
		{"VersionsAcrossReplicas", testVersionsAcrossReplicas},
		{"Rosters", testRosters}, {"DecommissionSteps", testDecommissionSteps},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, fresh(t)) })
	}
}

var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func version(id, state string, at time.Time, tag string) store.Version {
	return store.Version{
		Identity: id, State: state, CreatedAt: at, CreatedBy: "human:ana",
		KEKID: "k1", WrappedKey: []byte("wrapped-" + tag), Nonce: []byte("nonce-" + tag), Ciphertext: []byte("ct-" + tag),
		Fingerprints: []store.Fingerprint{{Field: "consumerSecret", MAC: []byte("mac-" + tag)}},
	}
}

func testVersionsCheckAndSet(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open()
	if _, err := s.Version(ctx, "billing", 0); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Version of missing secret: err = %v, want ErrNotFound", err)
	}
	n, err := s.InsertVersion(ctx, version("billing", store.StateActive, t0, "1"), 0, time.Time{})
	if err != nil || n != 1 {
		t.Fatalf("first InsertVersion = %d, %v", n, err)
	}
	if _, err := s.InsertVersion(ctx, version("billing", store.StateActive, t0, "x"), 0, time.Time{}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("InsertVersion with stale expect: err = %v, want ErrConflict", err)
	}
	overlap := t0.Add(time.Hour)
	if n, err := s.InsertVersion(ctx, version("billing", store.StateActive, t0.Add(time.Minute), "2"), 1, overlap); err != nil || n != 2 {
		t.Fatalf("second InsertVersion = %d, %v", n, err)
	}
	active, err := s.Version(ctx, "billing", 0)
	if err != nil || active.Version != 2 || string(active.Ciphertext) != "ct-2" || !active.CreatedAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("active = %+v, %v; want version 2", active, err)
	}
	old, err := s.Version(ctx, "billing", 1)
	if err != nil || old.State != store.StateRetired || !old.OverlapUntil.Equal(overlap) {
		t.Fatalf("version 1 = %+v, %v; want retired until %v", old, err, overlap)
	}
	if _, err := s.InsertVersion(ctx, version("payroll", store.StateActive, t0, "p"), 0, time.Time{}); err != nil {
		t.Fatal(err)
	}
	ids, err := s.Identities(ctx)
	if err != nil || fmt.Sprint(ids) != "[billing payroll]" {
		t.Fatalf("Identities = %v, %v", ids, err)
	}
	vs, err := s.Versions(ctx, "billing")
	if err != nil || len(vs) != 2 || vs[0].Version != 1 || vs[1].Version != 2 {
		t.Fatalf("Versions = %+v, %v", vs, err)
	}
	m, err := s.MatchFingerprint(ctx, []byte("mac-2"))
	if err != nil || len(m) != 1 || m[0] != (store.FingerprintMatch{Identity: "billing", Version: 2, Field: "consumerSecret"}) {
		t.Fatalf("MatchFingerprint = %+v, %v", m, err)
	}
	if m, err := s.MatchFingerprint(ctx, []byte("mac-none")); err != nil || len(m) != 0 {
		t.Fatalf("MatchFingerprint of unknown = %+v, %v", m, err)
	}
}

func testRotationStates(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open()
	if _, err := s.InsertVersion(ctx, version("billing", store.StateActive, t0, "1"), 0, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.InsertVersion(ctx, version("billing", store.StateStaged, t0, "2"), 1, time.Time{}); err != nil {
		t.Fatal(err)
	}
	// A staged version does not replace the active one.
	if a, err := s.Version(ctx, "billing", 0); err != nil || a.Version != 1 {
		t.Fatalf("active after staging = %d, %v; want 1", a.Version, err)
	}
	if err := s.Promote(ctx, "billing", 2, t0, time.Time{}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("Promote of a staged version: err = %v, want ErrConflict", err)
	}
	if a, err := s.Version(ctx, "billing", 0); err != nil || a.Version != 1 || a.State != store.StateActive {
		t.Fatalf("a failed Promote changed the active version: %+v, %v", a, err)
	}
	if err := s.SetState(ctx, "billing", 2, store.StateVerified, store.StateActive, t0); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("SetState from the wrong state: err = %v, want ErrConflict", err)
	}
	if err := s.SetState(ctx, "billing", 2, store.StateStaged, store.StateVerified, t0.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	until := t0.Add(24 * time.Hour)
	if err := s.Promote(ctx, "billing", 2, t0.Add(2*time.Second), until); err != nil {
		t.Fatal(err)
	}
	a, err := s.Version(ctx, "billing", 0)
	if err != nil || a.Version != 2 || !a.StateAt.Equal(t0.Add(2*time.Second)) {
		t.Fatalf("active after Promote = %+v, %v", a, err)
	}
	o, err := s.Version(ctx, "billing", 1)
	if err != nil || o.State != store.StateRetired || !o.OverlapUntil.Equal(until) {
		t.Fatalf("old version after Promote = %+v, %v", o, err)
	}
}

func testDeleteAndDestroy(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open()
	if _, err := s.InsertVersion(ctx, version("billing", store.StateActive, t0, "1"), 0, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetDeleted(ctx, "billing", 1, t0); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.Version(ctx, "billing", 1); !v.DeletedAt.Equal(t0) || string(v.Ciphertext) != "ct-1" {
		t.Fatalf("soft delete: %+v; want DeletedAt set and ciphertext kept", v)
	}
	if err := s.SetDeleted(ctx, "billing", 1, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.Version(ctx, "billing", 1); !v.DeletedAt.IsZero() {
		t.Fatalf("restore: DeletedAt = %v", v.DeletedAt)
	}
	if err := s.Destroy(ctx, "billing", 1, t0); err != nil {
		t.Fatal(err)
	}
	v, err := s.Version(ctx, "billing", 1)
	if err != nil || v.Ciphertext != nil || v.WrappedKey != nil || v.Nonce != nil || !v.DestroyedAt.Equal(t0) {
		t.Fatalf("destroyed version = %+v, %v; want no key material", v, err)
	}
	if m, _ := s.MatchFingerprint(ctx, []byte("mac-1")); len(m) != 0 {
		t.Fatalf("fingerprints of a destroyed version still match: %+v", m)
	}
	if err := s.Destroy(ctx, "billing", 1, t0); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second Destroy: err = %v, want ErrConflict", err)
	}
	if err := s.SetDeleted(ctx, "billing", 9, t0); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("SetDeleted of a missing version: err = %v, want ErrConflict", err)
	}
}

func testRewrap(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open()
	if _, err := s.InsertVersion(ctx, version("billing", store.StateActive, t0, "1"), 0, time.Time{}); err != nil {
		t.Fatal(err)
	}
	old := store.Wrapped{KEKID: "k1", WrappedKey: []byte("wrapped-1")}
	neu := store.Wrapped{KEKID: "k2", WrappedKey: []byte("wrapped-by-k2")}
	if err := s.Rewrap(ctx, "billing", 1, neu, old); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("Rewrap with a stale old key: err = %v, want ErrConflict", err)
	}
	if err := s.Rewrap(ctx, "billing", 1, old, neu); err != nil {
		t.Fatal(err)
	}
	v, _ := s.Version(ctx, "billing", 1)
	if v.KEKID != "k2" || string(v.WrappedKey) != "wrapped-by-k2" || string(v.Ciphertext) != "ct-1" {
		t.Fatalf("after Rewrap: %+v", v)
	}
}

func testMeta(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open()
	if _, err := s.Meta(ctx, "k"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Meta of missing key: %v", err)
	}
	if v, err := s.InitMeta(ctx, "k", []byte("a")); err != nil || string(v) != "a" {
		t.Fatalf("InitMeta = %q, %v", v, err)
	}
	if v, err := s.InitMeta(ctx, "k", []byte("b")); err != nil || string(v) != "a" {
		t.Fatalf("second InitMeta = %q, %v; want the first value kept", v, err)
	}
	if err := s.SwapMeta(ctx, "k", []byte("b"), []byte("c")); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("SwapMeta with stale old: %v", err)
	}
	if err := s.SwapMeta(ctx, "k", []byte("a"), []byte("c")); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.Meta(ctx, "k"); string(v) != "c" {
		t.Fatalf("Meta after swap = %q", v)
	}
}

func testSharedTokens(t *testing.T, open Opener) {
	ctx := context.Background()
	a, b := open(), open()
	if _, err := a.SharedToken(ctx, "app"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("SharedToken of none: %v; want ErrNotFound", err)
	}
	first := store.SharedToken{Identity: "app", IssuedAt: t0, ExpiresAt: t0.Add(time.Hour), Nonce: []byte("n1"), Ciphertext: []byte("c1")}
	if err := a.PutSharedToken(ctx, first); err != nil {
		t.Fatal(err)
	}
	got, err := b.SharedToken(ctx, "app")
	if err != nil || !got.IssuedAt.Equal(first.IssuedAt) || !got.ExpiresAt.Equal(first.ExpiresAt) || string(got.Nonce) != "n1" || string(got.Ciphertext) != "c1" {
		t.Fatalf("SharedToken from another handle = %+v, %v; want %+v", got, err, first)
	}
	second := store.SharedToken{Identity: "app", IssuedAt: t0.Add(time.Hour), ExpiresAt: t0.Add(2 * time.Hour), Nonce: []byte("n2"), Ciphertext: []byte("c2")}
	if err := b.PutSharedToken(ctx, second); err != nil {
		t.Fatal(err)
	}
	if got, err := a.SharedToken(ctx, "app"); err != nil || string(got.Ciphertext) != "c2" || !got.IssuedAt.Equal(second.IssuedAt) {
		t.Fatalf("SharedToken after replace = %+v, %v; want the second", got, err)
	}
	if err := a.PutSharedToken(ctx, store.SharedToken{Identity: "other", IssuedAt: t0, ExpiresAt: t0, Nonce: []byte("n"), Ciphertext: []byte("c")}); err != nil {
		t.Fatal(err)
	}
	if err := b.DeleteSharedToken(ctx, "app"); err != nil {
		t.Fatal(err)
	}
	if err := b.DeleteSharedToken(ctx, "app"); err != nil {
		t.Fatalf("delete twice: %v", err)
	}
	if _, err := a.SharedToken(ctx, "app"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("SharedToken after delete: %v; want ErrNotFound", err)
	}
	if _, err := a.SharedToken(ctx, "other"); err != nil {
		t.Fatalf("another identity's token went with the deleted one: %v", err)
	}
}

func testLockExchange(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open()
	ran := false
	if err := s.LockExchange(ctx, "app", func(context.Context) error { ran = true; return nil }); err != nil || !ran {
		t.Fatalf("LockExchange: ran = %t, err = %v", ran, err)
	}
	boom := errors.New("boom")
	if err := s.LockExchange(ctx, "app", func(context.Context) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("LockExchange error = %v; want fn's error", err)
	}
	// The lock was released after the failure: taking it again works.
	if err := s.LockExchange(ctx, "app", func(context.Context) error { return nil }); err != nil {
		t.Fatal(err)
	}
}

// chainSeal builds n records after head, each hash covering the previous.
func chainSeal(n int, resource string, checkpoint bool) store.Seal {
	return func(head store.AuditHead) ([]store.AuditRecord, *store.Checkpoint, error) {
		prev := head.Hash
		var recs []store.AuditRecord
		for i := 1; i <= n; i++ {
			seq := head.Seq + int64(i)
			body := []byte(fmt.Sprintf(`{"n":%d}`, seq))
			recs = append(recs, store.AuditRecord{Seq: seq, At: t0, Action: "secret.read", Resource: resource, Body: body, Hash: link(prev, seq, body)})
			prev = recs[len(recs)-1].Hash
		}
		var cp *store.Checkpoint
		if checkpoint {
			last := recs[len(recs)-1]
			cp = &store.Checkpoint{Seq: last.Seq, Hash: last.Hash, At: t0, KeyID: "key", Signature: []byte("sig")}
		}
		return recs, cp, nil
	}
}

func link(prev []byte, seq int64, body []byte) []byte {
	h := sha256.New()
	h.Write(prev)
	binary.Write(h, binary.BigEndian, seq)
	h.Write(body)
	return h.Sum(nil)
}

// checkChain reads the whole log and checks it is one unbroken chain of n.
func checkChain(t *testing.T, s store.Store, n int64) {
	t.Helper()
	prev := make([]byte, 32)
	var seen int64
	err := s.AuditRecords(context.Background(), 1, func(r store.AuditRecord) error {
		seen++
		if r.Seq != seen {
			return fmt.Errorf("record %d at position %d", r.Seq, seen)
		}
		if want := link(prev, r.Seq, r.Body); !bytes.Equal(r.Hash, want) {
			return fmt.Errorf("record %d does not chain to %d", r.Seq, r.Seq-1)
		}
		prev = r.Hash
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen != n {
		t.Fatalf("chain has %d records, want %d", seen, n)
	}
}

func testAuditAppend(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open()
	var first store.AuditHead
	err := s.AppendAudit(ctx, func(h store.AuditHead) ([]store.AuditRecord, *store.Checkpoint, error) {
		first = h
		return chainSeal(3, "secret/billing", true)(h)
	})
	if err != nil {
		t.Fatal(err)
	}
	if first.Seq != 0 || !bytes.Equal(first.Hash, make([]byte, 32)) || first.Checkpoint.Seq != 0 {
		t.Fatalf("genesis head = %+v; want seq 0, 32 zero bytes, no checkpoint", first)
	}
	// A failing seal appends nothing.
	boom := errors.New("boom")
	if err := s.AppendAudit(ctx, func(store.AuditHead) ([]store.AuditRecord, *store.Checkpoint, error) { return nil, nil, boom }); !errors.Is(err, boom) {
		t.Fatalf("AppendAudit with failing seal: %v", err)
	}
	// A seal that skips a sequence number is refused.
	err = s.AppendAudit(ctx, func(h store.AuditHead) ([]store.AuditRecord, *store.Checkpoint, error) {
		return []store.AuditRecord{{Seq: h.Seq + 2, At: t0, Action: "a", Resource: "r", Body: []byte("{}"), Hash: make([]byte, 32)}}, nil, nil
	})
	if err == nil {
		t.Fatal("AppendAudit accepted a gap in the sequence")
	}
	var second store.AuditHead
	err = s.AppendAudit(ctx, func(h store.AuditHead) ([]store.AuditRecord, *store.Checkpoint, error) {
		second = h
		return chainSeal(2, "secret/payroll", false)(h)
	})
	if err != nil {
		t.Fatal(err)
	}
	if second.Seq != 3 || second.Checkpoint.Seq != 3 || string(second.Checkpoint.Signature) != "sig" {
		t.Fatalf("second head = %+v; want seq 3 with the checkpoint at 3", second)
	}
	checkChain(t, s, 5)
	cps, err := s.Checkpoints(ctx)
	if err != nil || len(cps) != 1 || cps[0].Seq != 3 || !cps[0].At.Equal(t0) {
		t.Fatalf("Checkpoints = %+v, %v", cps, err)
	}
	last, err := s.LastAudit(ctx, "secret/billing", "secret.read")
	if err != nil || last.Seq != 3 {
		t.Fatalf("LastAudit = %+v, %v; want seq 3", last, err)
	}
	if _, err := s.LastAudit(ctx, "secret/none", "secret.read"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("LastAudit of unknown resource: %v", err)
	}
	var from []int64
	s.AuditRecords(ctx, 4, func(r store.AuditRecord) error { from = append(from, r.Seq); return nil })
	if fmt.Sprint(from) != "[4 5]" {
		t.Fatalf("AuditRecords from 4 = %v", from)
	}
	// AuditChain yields the same sequence numbers, bodies and hashes.
	var recs []store.AuditRecord
	s.AuditRecords(ctx, 2, func(r store.AuditRecord) error { recs = append(recs, r); return nil })
	i := 0
	err = s.AuditChain(ctx, 2, func(seq int64, body, hash []byte) error {
		if i >= len(recs) || seq != recs[i].Seq || !bytes.Equal(body, recs[i].Body) || !bytes.Equal(hash, recs[i].Hash) {
			return fmt.Errorf("AuditChain record %d differs from AuditRecords", seq)
		}
		i++
		return nil
	})
	if err != nil || i != len(recs) {
		t.Fatalf("AuditChain: %v after %d of %d records", err, i, len(recs))
	}
	// Token decisions are stored and chained like any record, but are not
	// indexed by resource: LastAudit refuses them, and still finds the
	// other records of a resource they share.
	err = s.AppendAudit(ctx, func(h store.AuditHead) ([]store.AuditRecord, *store.Checkpoint, error) {
		body := []byte(`{"n":6}`)
		return []store.AuditRecord{{Seq: h.Seq + 1, At: t0, Action: store.AuditActionToken, Resource: "secret/billing", Body: body, Hash: link(h.Hash, h.Seq+1, body)}}, nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	checkChain(t, s, 6)
	if last, err := s.LastAudit(ctx, "secret/billing", "secret.read"); err != nil || last.Seq != 3 {
		t.Fatalf("LastAudit after a token decision = %+v, %v; want seq 3", last, err)
	}
	if _, err := s.LastAudit(ctx, "secret/billing", store.AuditActionToken); err == nil || errors.Is(err, store.ErrNotFound) || !strings.Contains(err.Error(), "not indexed") {
		t.Fatalf("LastAudit of token decisions: %v; want a refusal that says they are not indexed", err)
	}
}

// testAuditConcurrentWriters appends from several handles (replicas) and
// several goroutines each at once; the result must be one chain.
func testAuditConcurrentWriters(t *testing.T, open Opener) {
	const handles, goroutines, appends = 3, 4, 25
	var wg sync.WaitGroup
	errs := make(chan error, handles*goroutines)
	for h := 0; h < handles; h++ {
		s := open()
		for g := 0; g < goroutines; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < appends; i++ {
					if err := s.AppendAudit(context.Background(), chainSeal(1+i%3, fmt.Sprintf("r%d", h), i%10 == 0)); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var want int64
	for i := 0; i < appends; i++ {
		want += int64(1 + i%3)
	}
	checkChain(t, open(), want*handles*goroutines)
}

// testConcurrentCheckAndSet races writers on the same expected version:
// exactly one wins.
func testConcurrentCheckAndSet(t *testing.T, open Opener) {
	a, b := open(), open()
	ctx := context.Background()
	if _, err := a.InsertVersion(ctx, version("billing", store.StateActive, t0, "1"), 0, time.Time{}); err != nil {
		t.Fatal(err)
	}
	const writers = 8
	var wg sync.WaitGroup
	results := make(chan error, writers)
	for i := 0; i < writers; i++ {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.InsertVersion(ctx, version("billing", store.StateActive, t0, fmt.Sprint(i)), 1, time.Time{})
			results <- err
		}()
	}
	wg.Wait()
	close(results)
	won := 0
	for err := range results {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, store.ErrConflict):
			t.Errorf("losing writer: err = %v, want ErrConflict", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d writers won the same check-and-set, want 1", won)
	}
	vs, _ := a.Versions(ctx, "billing")
	if len(vs) != 2 {
		t.Fatalf("%d versions after the race, want 2", len(vs))
	}
}
