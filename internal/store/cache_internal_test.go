package store

import (
	"testing"
	"time"
)

func row(identity, ct string) Version {
	return Version{Identity: identity, Version: 1, State: StateActive, KEKID: "k1",
		WrappedKey: []byte("wrapped"), Nonce: []byte("nonce"), Ciphertext: []byte(ct)}
}

func listeningCache(staleAfter time.Duration) *versionCache {
	c := newVersionCache(staleAfter)
	c.resume()
	return c
}

func TestVersionCacheFills(t *testing.T) {
	tests := []struct {
		name string
		// between runs after begin and before put, like a notification
		// or a lost connection arriving while a reader queries.
		between func(c *versionCache)
		want    bool
	}{
		{"nothing happened", func(*versionCache) {}, true},
		{"another identity changed", func(c *versionCache) { c.invalidate("payroll") }, false},
		{"this identity changed", func(c *versionCache) { c.invalidate("billing") }, false},
		{"listener lost", func(c *versionCache) { c.suspend() }, false},
		{"listener lost and back", func(c *versionCache) { c.suspend(); c.resume() }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := listeningCache(time.Hour)
			gen := c.begin()
			tc.between(c)
			c.put(gen, "billing", 1, row("billing", "ct"))
			if _, ok := c.get("billing", 1); ok != tc.want {
				t.Fatalf("row cached = %v, want %v", ok, tc.want)
			}
		})
	}
}

func TestVersionCacheInvalidates(t *testing.T) {
	c := listeningCache(time.Hour)
	for _, id := range []string{"billing", "payroll"} {
		for _, n := range []int{0, 1} {
			c.put(c.begin(), id, n, row(id, "ct"))
		}
	}
	c.invalidate("billing")
	for _, n := range []int{0, 1} {
		if _, ok := c.get("billing", n); ok {
			t.Fatalf("billing version %d survived its invalidation", n)
		}
		if _, ok := c.get("payroll", n); !ok {
			t.Fatalf("payroll version %d dropped by billing's invalidation", n)
		}
	}
	c.invalidate("")
	if _, ok := c.get("payroll", 1); ok {
		t.Fatal("an empty payload did not drop every identity")
	}
}

func TestVersionCacheTrust(t *testing.T) {
	c := newVersionCache(time.Hour)
	c.put(c.begin(), "billing", 1, row("billing", "ct"))
	if _, ok := c.get("billing", 1); ok {
		t.Fatal("a cache whose listener never listened served a row")
	}
	c.resume()
	c.put(c.begin(), "billing", 1, row("billing", "ct"))
	if _, ok := c.get("billing", 1); !ok {
		t.Fatal("a listening cache did not keep a row")
	}
	c.suspend()
	if _, ok := c.get("billing", 1); ok {
		t.Fatal("a cache whose listener was lost served a row")
	}

	// A listener that stops proving its connection alive stops the cache
	// from being trusted, even before the connection is known to be lost.
	short := listeningCache(time.Millisecond)
	short.put(short.begin(), "billing", 1, row("billing", "ct"))
	time.Sleep(10 * time.Millisecond)
	if _, ok := short.get("billing", 1); ok {
		t.Fatal("a cache served a row after its listener was silent for longer than staleAfter")
	}
	short.proved(short.clock())
	if _, ok := short.get("billing", 1); !ok {
		t.Fatal("a heartbeat did not restore trust in rows the listener kept watching")
	}
}

func TestVersionCacheCopies(t *testing.T) {
	c := listeningCache(time.Hour)
	v := row("billing", "ct")
	c.put(c.begin(), "billing", 1, v)
	v.Ciphertext[0] = 'X'
	got, _ := c.get("billing", 1)
	if string(got.Ciphertext) != "ct" {
		t.Fatalf("changing the stored slice changed the cache: %q", got.Ciphertext)
	}
	got.WrappedKey[0] = 'X'
	// The slices share one buffer; appending to one must not spill into
	// the next.
	if grown := append(got.Nonce, 'X'); string(grown) != "nonceX" || string(got.Ciphertext) != "ct" {
		t.Fatalf("appending to the nonce gave %q and changed the ciphertext to %q", grown, got.Ciphertext)
	}
	again, _ := c.get("billing", 1)
	if string(again.WrappedKey) != "wrapped" || string(again.Nonce) != "nonce" || string(again.Ciphertext) != "ct" {
		t.Fatalf("changing a returned row changed the cache: %+v", again)
	}
}
