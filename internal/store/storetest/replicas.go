package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/steward-dev/steward/internal/store"
)

// settleTimeout bounds how long a change made by one replica may take to
// show in another. It is generous on purpose: the tests poll and never
// assert a latency.
const settleTimeout = 30 * time.Second

// Eventually polls cond until it reports true, failing the test with the
// last thing cond described if that takes longer than a generous timeout.
func Eventually(t testing.TB, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(settleTimeout)
	for {
		ok, last := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not seen within %v; last saw %s", what, settleTimeout, last)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// describe is a version's fields that the replica tests compare.
func describe(v store.Version, err error) string {
	if err != nil {
		return "error " + err.Error()
	}
	return fmt.Sprintf("version %d state %s deleted %v destroyed %v kek %s wrapped %q ciphertext %q",
		v.Version, v.State, !v.DeletedAt.IsZero(), !v.DestroyedAt.IsZero(), v.KEKID, v.WrappedKey, v.Ciphertext)
}

// testVersionsAcrossReplicas changes versions through one handle while
// another reads them: the writer sees each change at once, the other
// replica within a bounded time (PostgreSQL: its notification latency).
// Every read of the reader comes before the change, so a reader that kept
// serving what it read first fails here.
func testVersionsAcrossReplicas(t *testing.T, open Opener) {
	ctx := context.Background()
	w, r := open(), open()
	const id = "billing"
	if _, err := w.InsertVersion(ctx, version(id, store.StateActive, t0, "1"), 0, time.Time{}); err != nil {
		t.Fatal(err)
	}
	// Both read every version before each change, so both may hold it.
	readAll := func(s store.Store) {
		for _, n := range []int{0, 1, 2, 3} {
			s.Version(ctx, id, n)
		}
	}
	// check reads one version and tells whether want holds.
	check := func(s store.Store, n int, want func(v store.Version) bool) (bool, string) {
		v, err := s.Version(ctx, id, n)
		return err == nil && want(v), describe(v, err)
	}
	type expect struct {
		version int
		want    func(v store.Version) bool
	}
	step := func(name string, change func() error, expects ...expect) {
		t.Helper()
		readAll(w)
		readAll(r)
		if err := change(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, e := range expects {
			if ok, saw := check(w, e.version, e.want); !ok {
				t.Fatalf("%s: the writing replica reads %s", name, saw)
			}
			Eventually(t, name+" in the other replica", func() (bool, string) { return check(r, e.version, e.want) })
		}
	}
	step("soft delete", func() error { return w.SetDeleted(ctx, id, 1, t0) },
		expect{1, func(v store.Version) bool { return !v.DeletedAt.IsZero() }})
	step("restore", func() error { return w.SetDeleted(ctx, id, 1, time.Time{}) },
		expect{1, func(v store.Version) bool { return v.DeletedAt.IsZero() }})
	step("put", func() error {
		_, err := w.InsertVersion(ctx, version(id, store.StateActive, t0.Add(time.Minute), "2"), 1, t0.Add(time.Hour))
		return err
	},
		expect{0, func(v store.Version) bool { return v.Version == 2 && string(v.Ciphertext) == "ct-2" }},
		expect{1, func(v store.Version) bool { return v.State == store.StateRetired }})
	step("stage", func() error {
		_, err := w.InsertVersion(ctx, version(id, store.StateStaged, t0.Add(2*time.Minute), "3"), 2, time.Time{})
		return err
	}, expect{3, func(v store.Version) bool { return v.State == store.StateStaged }})
	step("verify", func() error {
		return w.SetState(ctx, id, 3, store.StateStaged, store.StateVerified, t0.Add(3*time.Minute))
	},
		expect{3, func(v store.Version) bool { return v.State == store.StateVerified }})
	step("promote", func() error { return w.Promote(ctx, id, 3, t0.Add(4*time.Minute), t0.Add(time.Hour)) },
		expect{0, func(v store.Version) bool { return v.Version == 3 && v.State == store.StateActive }},
		expect{2, func(v store.Version) bool { return v.State == store.StateRetired }})
	step("rewrap", func() error {
		return w.Rewrap(ctx, id, 3, store.Wrapped{KEKID: "k1", WrappedKey: []byte("wrapped-3")}, store.Wrapped{KEKID: "k2", WrappedKey: []byte("wrapped-3-k2")})
	}, expect{0, func(v store.Version) bool { return v.KEKID == "k2" && string(v.WrappedKey) == "wrapped-3-k2" }})
	step("destroy", func() error { return w.Destroy(ctx, id, 1, t0.Add(5*time.Minute)) },
		expect{1, func(v store.Version) bool {
			return !v.DestroyedAt.IsZero() && v.Ciphertext == nil && v.WrappedKey == nil && v.Nonce == nil
		}})
}
