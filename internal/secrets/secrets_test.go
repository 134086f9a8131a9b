package secrets_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/steward-dev/steward/internal/audit"
	"github.com/steward-dev/steward/internal/secrets"
	"github.com/steward-dev/steward/internal/store"
	"github.com/steward-dev/steward/internal/store/storetest"
)

// knownSecret is the consumer secret the leak checks look for.
const knownSecret = "KNOWN0SECRET0e1f7c93a2b4d5f6071829aabbccddeeff00112233445566778899"

var (
	ana     = audit.Actor{Kind: audit.ActorHuman, ID: "ana@acme.com"}
	billing = audit.Actor{Kind: audit.ActorWorkload, ID: "spiffe://acme.org/billing"}
)

func bundle(secret string) secrets.Bundle {
	return secrets.Bundle{URL: "https://acme.my.salesforce.com", ConsumerKey: "3MVG9-key-" + secret[:6], ConsumerSecret: secret}
}

func keyring(t testing.TB, spec ...string) *secrets.Keyring {
	t.Helper()
	kr, err := secrets.ParseKeyring(strings.Join(spec, "\n"), "test")
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

func newKEK(id string) string {
	b := make([]byte, 32)
	rand.Read(b)
	return id + ":" + base64.StdEncoding.EncodeToString(b)
}

// clock is a settable fake clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

type env struct {
	db    store.Store
	keys  secrets.KeyProvider
	log   *audit.Log
	pub   ed25519.PublicKey
	s     *secrets.Store
	clock *clock
}

func newEnv(t testing.TB, db store.Store, keys secrets.KeyProvider) *env {
	t.Helper()
	ctx := context.Background()
	c := &clock{now: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
	signer, err := secrets.SigningKey(ctx, db, keys)
	if err != nil {
		t.Fatal(err)
	}
	log, err := audit.New(audit.Config{Store: db, Signer: signer, Now: c.Now, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	s, err := secrets.New(ctx, secrets.Config{DB: db, Keys: keys, Audit: log, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	return &env{db: db, keys: keys, log: log, pub: signer.Public().(ed25519.PublicKey), s: s, clock: c}
}

// each runs fn on SQLite and, when available, PostgreSQL.
func each(t *testing.T, fn func(t *testing.T, open storetest.Opener)) {
	t.Run("sqlite", func(t *testing.T) {
		open, _ := storetest.SQLite(t)
		fn(t, open)
	})
	if storetest.PostgresAvailable(t) {
		t.Run("postgres", func(t *testing.T) { fn(t, storetest.Postgres(t)) })
	}
}

func TestPutReadShowHistory(t *testing.T) {
	each(t, func(t *testing.T, open storetest.Opener) {
		ctx := context.Background()
		e := newEnv(t, open(), keyring(t, newKEK("k1")))
		m, err := e.s.Put(ctx, ana, "billing-sync-prod", bundle(knownSecret), 0, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if m.Version != 1 || m.State != store.StateActive || !strings.HasPrefix(m.Fingerprint, "hmac-sha256:") {
			t.Fatalf("Put metadata = %+v", m)
		}
		if _, err := e.s.Put(ctx, ana, "billing-sync-prod", bundle(knownSecret), 0, time.Hour); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("Put with a stale check-and-set: %v", err)
		}
		e.clock.Add(time.Minute)
		b, rm, err := e.s.Read(ctx, billing, "billing-sync-prod", 0)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(bundle(knownSecret), b); diff != "" || rm.Version != 1 {
			t.Fatalf("Read: version %d, diff %s", rm.Version, diff)
		}
		shown, err := e.s.Show(ctx, "billing-sync-prod", 0)
		if err != nil {
			t.Fatal(err)
		}
		if shown.LastReadBy != billing.String() || !shown.LastRead.Equal(e.clock.Now()) || shown.Fingerprint != m.Fingerprint || shown.CreatedBy != ana.String() {
			t.Fatalf("Show = %+v", shown)
		}
		second := bundle(strings.Repeat("s", 40))
		if _, err := e.s.Put(ctx, ana, "billing-sync-prod", second, secrets.Any, time.Hour); err != nil {
			t.Fatal(err)
		}
		h, err := e.s.History(ctx, "billing-sync-prod")
		if err != nil || len(h) != 2 || h[0].State != store.StateRetired || h[1].State != store.StateActive || h[0].Fingerprint == h[1].Fingerprint {
			t.Fatalf("History = %+v, %v", h, err)
		}
		// The retired version stays readable for the overlap, then expires.
		if _, _, err := e.s.Read(ctx, billing, "billing-sync-prod", 1); err != nil {
			t.Fatalf("read retired version inside the overlap: %v", err)
		}
		e.clock.Add(2 * time.Hour)
		if _, _, err := e.s.Read(ctx, billing, "billing-sync-prod", 1); !errors.Is(err, secrets.ErrExpired) {
			t.Fatalf("read retired version after the overlap: %v", err)
		}
		list, err := e.s.List(ctx)
		if err != nil || len(list) != 1 || list[0].Version != 2 {
			t.Fatalf("List = %+v, %v", list, err)
		}
		if rep, err := audit.Verify(ctx, e.db, e.pub, nil); err != nil || !rep.OK() || rep.Records != 6 {
			t.Fatalf("audit after the run: %+v, %v (want 6 records: 2 puts, 1 failed put, 3 reads)", rep, err)
		}
	})
}

func TestAssociatedDataBindsIdentityAndVersion(t *testing.T) {
	ctx := context.Background()
	open, _ := storetest.SQLite(t)
	e := newEnv(t, open(), keyring(t, newKEK("k1")))
	if _, err := e.s.Put(ctx, ana, "billing", bundle(knownSecret), 0, 0); err != nil {
		t.Fatal(err)
	}
	v, err := e.db.Version(ctx, "billing", 1)
	if err != nil {
		t.Fatal(err)
	}
	// Copy billing's sealed version under another identity.
	v.Identity = "payroll"
	if _, err := e.db.InsertVersion(ctx, v, 0, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.s.Read(ctx, ana, "payroll", 0); !errors.Is(err, secrets.ErrDecrypt) {
		t.Fatalf("read of a version copied to another identity: %v, want ErrDecrypt", err)
	}
}

func TestWrongOrMissingKEK(t *testing.T) {
	ctx := context.Background()
	open, _ := storetest.SQLite(t)
	db := open()
	e := newEnv(t, db, keyring(t, newKEK("k1")))
	if _, err := e.s.Put(ctx, ana, "billing", bundle(knownSecret), 0, 0); err != nil {
		t.Fatal(err)
	}
	// Same name, different key: the store refuses to open.
	_, err := secrets.New(ctx, secrets.Config{DB: db, Keys: keyring(t, newKEK("k1")), Audit: e.log})
	if !errors.Is(err, secrets.ErrDecrypt) {
		t.Fatalf("open with the wrong KEK: %v, want ErrDecrypt", err)
	}
	// A keyring without the KEK: the error names it and says what to do.
	_, err = secrets.New(ctx, secrets.Config{DB: db, Keys: keyring(t, newKEK("k2")), Audit: e.log})
	if !errors.Is(err, secrets.ErrUnknownKEK) || !strings.Contains(err.Error(), `"k1"`) {
		t.Fatalf("open without the KEK: %v", err)
	}
	// Nothing was lost: the right key still reads it.
	if b, _, err := e.s.Read(ctx, ana, "billing", 0); err != nil || b.ConsumerSecret != knownSecret {
		t.Fatalf("read with the right KEK afterwards: %v", err)
	}
}

func TestCorruptedCiphertext(t *testing.T) {
	ctx := context.Background()
	open, _ := storetest.SQLite(t)
	e := newEnv(t, open(), keyring(t, newKEK("k1")))
	for _, id := range []string{"billing", "payroll"} {
		if _, err := e.s.Put(ctx, ana, id, bundle(knownSecret), 0, 0); err != nil {
			t.Fatal(err)
		}
	}
	v, _ := e.db.Version(ctx, "billing", 1)
	v.Ciphertext[3] ^= 0x40
	v.Identity, v.State = "billing", store.StateActive
	if _, err := e.db.InsertVersion(ctx, v, 1, time.Time{}); err != nil {
		t.Fatal(err)
	}
	_, _, err := e.s.Read(ctx, ana, "billing", 2)
	if !errors.Is(err, secrets.ErrDecrypt) {
		t.Fatalf("read corrupted version: %v", err)
	}
	if strings.Contains(err.Error(), knownSecret) {
		t.Fatal("error repeats the secret")
	}
	if b, _, err := e.s.Read(ctx, ana, "payroll", 0); err != nil || b.ConsumerSecret != knownSecret {
		t.Fatalf("other secrets must stay readable: %v", err)
	}
	// The failed read is audited as a failure.
	recs, _ := audit.Tail(ctx, e.db, 2)
	if recs[0].Outcome != audit.OutcomeFailure || recs[0].Details["error"] != "decrypt" {
		t.Fatalf("audit of the failed read = %+v", recs[0])
	}
}

func TestRotationStateMachine(t *testing.T) {
	each(t, func(t *testing.T, open storetest.Opener) {
		ctx := context.Background()
		e := newEnv(t, open(), keyring(t, newKEK("k1")))
		id := "billing-sync-prod"
		if _, err := e.s.Put(ctx, ana, id, bundle(knownSecret), 0, 0); err != nil {
			t.Fatal(err)
		}
		next := bundle(strings.Repeat("n", 40))
		activeIs := func(want string) {
			t.Helper()
			b, _, err := e.s.Read(ctx, billing, id, 0)
			if err != nil || b.ConsumerSecret != want {
				t.Fatalf("active version: %v (secret matches: %v)", err, b.ConsumerSecret == want)
			}
		}
		// Interrupted after staging: the old version is still active.
		m, err := e.s.Stage(ctx, ana, id, next, 1)
		if err != nil || m.State != store.StateStaged {
			t.Fatalf("Stage = %+v, %v", m, err)
		}
		activeIs(knownSecret)
		// A failing check leaves it staged.
		if err := e.s.Verify(ctx, ana, id, 2, func(context.Context, secrets.Bundle) error { return errors.New("invalid_client") }); err == nil {
			t.Fatal("Verify accepted a failing check")
		}
		if p, _ := e.s.Pending(ctx, id); p.State != store.StateStaged {
			t.Fatalf("after a failed check the version is %s, want staged", p.State)
		}
		// Interrupted after verifying: still the old one.
		if err := e.s.Verify(ctx, ana, id, 2, nil); err != nil {
			t.Fatal(err)
		}
		activeIs(knownSecret)
		// Resume finishes the rotation.
		m, err = e.s.Resume(ctx, ana, id, nil, time.Hour)
		if err != nil || m.Version != 2 || m.State != store.StateActive {
			t.Fatalf("Resume = %+v, %v", m, err)
		}
		activeIs(next.ConsumerSecret)
		if _, err := e.s.Resume(ctx, ana, id, nil, time.Hour); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Resume with nothing pending: %v", err)
		}
		// A whole rotation in one call.
		third := bundle(strings.Repeat("t", 40))
		m, err = e.s.Rotate(ctx, ana, id, third, secrets.Any, nil, time.Hour)
		if err != nil || m.Version != 3 {
			t.Fatalf("Rotate = %+v, %v", m, err)
		}
		activeIs(third.ConsumerSecret)
		h, _ := e.s.History(ctx, id)
		states := fmt.Sprint(h[0].State, h[1].State, h[2].State)
		if states != "retiredretiredactive" {
			t.Fatalf("states after two rotations = %s", states)
		}
		if _, err := e.s.Rotate(ctx, ana, "no-such", third, secrets.Any, nil, 0); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Rotate of a missing secret: %v", err)
		}
		// A rotation whose check fails can be abandoned: the active
		// version stays, and nothing is left to resume.
		if _, err := e.s.Rotate(ctx, ana, id, bundle(strings.Repeat("x", 40)), secrets.Any, func(context.Context, secrets.Bundle) error { return errors.New("invalid_client") }, time.Hour); err == nil {
			t.Fatal("Rotate accepted a failing check")
		}
		m, err = e.s.Abandon(ctx, ana, id)
		if err != nil || m.Version != 4 || m.Deleted.IsZero() {
			t.Fatalf("Abandon = %+v, %v", m, err)
		}
		activeIs(third.ConsumerSecret)
		if _, err := e.s.Resume(ctx, ana, id, nil, time.Hour); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Resume after Abandon: %v", err)
		}
		if _, err := e.s.Abandon(ctx, ana, id); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Abandon with nothing pending: %v", err)
		}
	})
}

func TestDeleteRestoreDestroy(t *testing.T) {
	ctx := context.Background()
	open, _ := storetest.SQLite(t)
	e := newEnv(t, open(), keyring(t, newKEK("k1")))
	id := "billing"
	for i := 0; i < 2; i++ {
		if _, err := e.s.Put(ctx, ana, id, bundle(knownSecret), secrets.Any, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.s.Delete(ctx, ana, id, 2); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.s.Read(ctx, ana, id, 0); !errors.Is(err, secrets.ErrDeleted) {
		t.Fatalf("read of a deleted active version: %v", err)
	}
	if err := e.s.Restore(ctx, ana, id, 2); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.s.Read(ctx, ana, id, 0); err != nil {
		t.Fatalf("read after restore: %v", err)
	}
	if err := e.s.Destroy(ctx, ana, id, 2); err == nil {
		t.Fatal("Destroy of the active version succeeded")
	}
	if err := e.s.Destroy(ctx, ana, id, 1); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.s.Read(ctx, ana, id, 1); !errors.Is(err, secrets.ErrDestroyed) {
		t.Fatalf("read of a destroyed version: %v", err)
	}
	if m, _ := e.s.MatchFingerprint(ctx, []byte(knownSecret)); len(m) != 1 || m[0].Version != 2 {
		t.Fatalf("fingerprints after destroy = %+v; want only version 2", m)
	}
}

func TestMatchFingerprint(t *testing.T) {
	ctx := context.Background()
	open, _ := storetest.SQLite(t)
	e := newEnv(t, open(), keyring(t, newKEK("k1")))
	b := bundle(knownSecret)
	if _, err := e.s.Put(ctx, ana, "billing", b, 0, 0); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		candidate string
		want      string
	}{
		{knownSecret, "[{billing 1 consumerSecret}]"},
		{b.ConsumerKey, "[{billing 1 consumerKey}]"},
		{knownSecret + "x", "[]"},
		{"", "[]"},
	} {
		m, err := e.s.MatchFingerprint(ctx, []byte(tc.candidate))
		if err != nil || fmt.Sprint(m) != tc.want {
			t.Errorf("MatchFingerprint(%.8q…) = %v, %v; want %s", tc.candidate, m, err, tc.want)
		}
	}
}

func TestRewrap(t *testing.T) {
	each(t, func(t *testing.T, open storetest.Opener) {
		ctx := context.Background()
		db := open()
		k1, k2 := newKEK("k1"), newKEK("k2")
		e := newEnv(t, db, keyring(t, k1))
		for _, id := range []string{"a", "b"} {
			for i := 0; i < 2; i++ {
				if _, err := e.s.Put(ctx, ana, id, bundle(knownSecret), secrets.Any, time.Hour); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := e.s.Destroy(ctx, ana, "a", 1); err != nil {
			t.Fatal(err)
		}
		shared, err := secrets.SystemKey(ctx, db, keyring(t, k1), secrets.SharedTokenKeyName, 32)
		if err != nil {
			t.Fatal(err)
		}
		// k2 becomes current; k1 is kept to unwrap until rewrap has run.
		e2 := newEnv(t, db, keyring(t, k2, k1))
		res, err := e2.s.Rewrap(ctx, ana)
		if err != nil {
			t.Fatal(err)
		}
		if res.Versions != 3 || res.SystemKeys != 3 {
			t.Fatalf("Rewrap = %+v; want 3 versions (one is destroyed) and 3 system keys", res)
		}
		if res, _ := e2.s.Rewrap(ctx, ana); res.Versions != 0 || res.SystemKeys != 0 {
			t.Fatalf("second Rewrap moved %+v; want nothing", res)
		}
		// k1 can now go.
		e3 := newEnv(t, db, keyring(t, k2))
		if b, _, err := e3.s.Read(ctx, ana, "b", 1); err != nil || b.ConsumerSecret != knownSecret {
			t.Fatalf("read after rewrap with only the new KEK: %v", err)
		}
		if again, err := secrets.SystemKey(ctx, db, keyring(t, k2), secrets.SharedTokenKeyName, 32); err != nil || !bytes.Equal(again, shared) {
			t.Fatalf("shared-token key after rewrap with only the new KEK: %v, same %t", err, bytes.Equal(again, shared))
		}
		if m, _ := e3.s.Show(ctx, "b", 0); m.KEKID != "k2" {
			t.Fatalf("KEK after rewrap = %s", m.KEKID)
		}
		if rep, _ := audit.Verify(ctx, db, e3.pub, nil); !rep.OK() {
			t.Fatalf("audit chain after rewrap: %+v", rep)
		}
	})
}

// failingAuditor refuses every record.
type failingAuditor struct{}

func (failingAuditor) Append(context.Context, audit.Event) (audit.Record, error) {
	return audit.Record{}, fmt.Errorf("%w: disk full", audit.ErrUnavailable)
}

func TestReadFailsClosed(t *testing.T) {
	ctx := context.Background()
	open, _ := storetest.SQLite(t)
	e := newEnv(t, open(), keyring(t, newKEK("k1")))
	if _, err := e.s.Put(ctx, ana, "billing", bundle(knownSecret), 0, 0); err != nil {
		t.Fatal(err)
	}
	s, err := secrets.New(ctx, secrets.Config{DB: e.db, Keys: e.keys, Audit: failingAuditor{}})
	if err != nil {
		t.Fatal(err)
	}
	b, m, err := s.Read(ctx, billing, "billing", 0)
	if !errors.Is(err, audit.ErrUnavailable) || b != (secrets.Bundle{}) || m != (secrets.Metadata{}) {
		t.Fatalf("Read without an audit log = %v, %+v, %v; want nothing and ErrUnavailable", b == (secrets.Bundle{}), m, err)
	}
}

func TestBundleNeverPrints(t *testing.T) {
	b := bundle(knownSecret)
	for _, s := range []string{fmt.Sprint(b), fmt.Sprintf("%v %+v %#v %s", b, b, b, b)} {
		if strings.Contains(s, knownSecret) || strings.Contains(s, b.ConsumerKey) {
			t.Fatalf("formatting a bundle printed its values: %s", s)
		}
	}
}
