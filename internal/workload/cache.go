package workload

import (
	"crypto/sha256"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"
)

// DefaultCacheSize is how many verified tokens an OIDCVerifier remembers.
const DefaultCacheSize = 10000

// verifiedCache remembers tokens whose signature, issuer and audience were
// verified, keyed by the SHA-256 of the whole token, so that a workload
// reusing its token (a Kubernetes projected token lives an hour) costs a hash
// and a map look-up instead of a signature check. Time claims are checked
// again on every use. An entry is valid only while the issuer's key set is
// the one that verified it: when the set is fetched again, every token is
// verified afresh, so a key withdrawn by its issuer stops working for
// cached tokens too.
type verifiedCache struct {
	max int
	mu  sync.RWMutex
	m   map[[sha256.Size]byte]*verifiedToken
}

// verifiedToken is one cache entry.
type verifiedToken struct {
	issuer  *issuer
	version uint64 // the issuer's key set version that verified it
	claims  jwt.Claims
	w       *Workload
}

func newVerifiedCache(size int) *verifiedCache {
	if size <= 0 {
		return nil
	}
	return &verifiedCache{max: size, m: make(map[[sha256.Size]byte]*verifiedToken)}
}

// get returns the entry for sum if it is still backed by its issuer's keys.
func (c *verifiedCache) get(sum [sha256.Size]byte) *verifiedToken {
	c.mu.RLock()
	e := c.m[sum]
	c.mu.RUnlock()
	if e == nil || e.issuer.keys.version() != e.version {
		return nil
	}
	return e
}

// put adds an entry. A full cache first drops the expired entries, then, if
// still full, an arbitrary half, so its size stays bounded.
func (c *verifiedCache) put(sum [sha256.Size]byte, e *verifiedToken, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		for k, v := range c.m {
			if v.claims.Expiry.Time().Before(now) {
				delete(c.m, k)
			}
		}
		for k := range c.m {
			if len(c.m) < c.max/2 {
				break
			}
			delete(c.m, k)
		}
	}
	c.m[sum] = e
}
