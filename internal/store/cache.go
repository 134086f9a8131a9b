package store

import (
	"sync"
	"sync/atomic"
	"time"
)

// versionCache keeps secret version rows exactly as the database stores
// them (ciphertext, nonce, data key wrapped under a KEK: nothing decrypted
// or unwrapped) so that a read of a version costs no round trip. It is
// only trusted while its listener proves that it would hear of every
// change; see listener.
//
// Fills race with invalidations: a reader may fetch a row, a writer
// commit a change and its notification be handled, and only then the
// reader store the old row. Every invalidation therefore bumps gen, and a
// reader keeps what it fetched only if gen did not move between the moment
// before its query and the moment it stores the row.
type versionCache struct {
	mu sync.RWMutex
	// rows maps identity → version → row; version 0 is the active one.
	rows map[string]map[int]Version
	gen  atomic.Uint64
	// listening is set while the listener holds a connection that has
	// run LISTEN; provedAt is when the cache was last known to have heard
	// of every change, in nanoseconds on the cache's monotonic clock.
	listening atomic.Bool
	provedAt  atomic.Int64
	epoch     time.Time
	// staleAfter bounds how long the cache is trusted after provedAt: the
	// staleness bound when a connection dies or stalls without the
	// process noticing.
	staleAfter time.Duration
}

// maxCachedIdentities bounds the cache's size; past it the cache starts
// over rather than tracking use.
const maxCachedIdentities = 100_000

func newVersionCache(staleAfter time.Duration) *versionCache {
	return &versionCache{rows: map[string]map[int]Version{}, epoch: time.Now(), staleAfter: staleAfter}
}

func (c *versionCache) clock() int64 { return int64(time.Since(c.epoch)) }

// trusted reports whether cached rows may be served now.
func (c *versionCache) trusted() bool {
	return c.listening.Load() && c.clock()-c.provedAt.Load() < int64(c.staleAfter)
}

// get returns a cached row, or false when there is none or the cache is
// not trusted.
func (c *versionCache) get(identity string, version int) (Version, bool) {
	if !c.trusted() {
		return Version{}, false
	}
	c.mu.RLock()
	v, ok := c.rows[identity][version]
	c.mu.RUnlock()
	if !ok {
		return Version{}, false
	}
	return cloneVersion(v), true
}

// begin is called before fetching a row to cache; the token it returns
// goes to put.
func (c *versionCache) begin() uint64 { return c.gen.Load() }

// put caches a row fetched after begin returned gen, unless something was
// invalidated since or the cache is not trusted.
func (c *versionCache) put(gen uint64, identity string, version int, v Version) {
	if !c.trusted() {
		return
	}
	v = cloneVersion(v)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen.Load() != gen {
		return
	}
	m := c.rows[identity]
	if m == nil {
		if len(c.rows) >= maxCachedIdentities {
			clear(c.rows)
		}
		m = map[int]Version{}
		c.rows[identity] = m
	}
	m[version] = v
}

// invalidate drops identity's rows; the empty identity drops everything.
func (c *versionCache) invalidate(identity string) {
	c.mu.Lock()
	c.gen.Add(1)
	if identity == "" {
		clear(c.rows)
	} else {
		delete(c.rows, identity)
	}
	c.mu.Unlock()
}

// suspend stops trusting the cache and empties it: the listener lost its
// connection, so notifications may be missed from now on.
func (c *versionCache) suspend() {
	c.listening.Store(false)
	c.invalidate("")
}

// resume trusts the cache again once the listener listens on a new
// connection. It starts empty: rows fetched from here on are newer than
// any change the listener may have missed.
func (c *versionCache) resume() {
	c.invalidate("")
	c.proved(c.clock())
	c.listening.Store(true)
}

// proved records that every change committed before at (on c.clock) has
// been heard of.
func (c *versionCache) proved(at int64) {
	for {
		prev := c.provedAt.Load()
		if at <= prev || c.provedAt.CompareAndSwap(prev, at) {
			return
		}
	}
}

// cloneVersion copies a row's byte slices into one new buffer, so that
// neither the cache nor its callers can change the other's copy.
func cloneVersion(v Version) Version {
	buf := make([]byte, 0, len(v.WrappedKey)+len(v.Nonce)+len(v.Ciphertext))
	cut := func(b []byte) []byte {
		if b == nil {
			return nil
		}
		start := len(buf)
		buf = append(buf, b...)
		return buf[start:len(buf):len(buf)]
	}
	v.WrappedKey, v.Nonce, v.Ciphertext = cut(v.WrappedKey), cut(v.Nonce), cut(v.Ciphertext)
	return v
}
