package workload

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// maxJWKSBytes bounds a fetched JWK Set.
const maxJWKSBytes = 1 << 20

// parsePEMKeys reads PEM public keys and certificates.
func parsePEMKeys(data []byte) ([]jose.JSONWebKey, error) {
	var keys []jose.JSONWebKey
	for n := 1; ; n++ {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		var pub any
		var err error
		switch block.Type {
		case "PUBLIC KEY":
			pub, err = x509.ParsePKIXPublicKey(block.Bytes)
		case "RSA PUBLIC KEY":
			pub, err = x509.ParsePKCS1PublicKey(block.Bytes)
		case "CERTIFICATE":
			var cert *x509.Certificate
			if cert, err = x509.ParseCertificate(block.Bytes); err == nil {
				pub = cert.PublicKey
			}
		default:
			return nil, fmt.Errorf("PEM block %d: type %q is not a public key or certificate", n, block.Type)
		}
		if err != nil {
			return nil, fmt.Errorf("PEM block %d: %w", n, err)
		}
		keys = append(keys, jose.JSONWebKey{Key: pub})
	}
	if len(keys) == 0 {
		return nil, errors.New("no JWK or PEM public key found")
	}
	return publicKeys(keys)
}

// remoteKeys is an issuer's JWK Set fetched from its URL and cached. A token
// naming an unknown key id triggers a fetch, at most one per MinRefresh; a
// set older than MaxKeyAge is fetched again in the background. A failed
// fetch keeps the cached set, so an issuer outage does not stop workloads
// whose keys are already known; with nothing cached, verification fails
// closed with the fetch error.
type remoteKeys struct {
	url        string
	client     *http.Client
	minRefresh time.Duration
	maxAge     time.Duration
	now        func() time.Time

	cached     atomic.Pointer[keySet]
	background atomic.Bool

	mu          sync.Mutex // serialises fetches; guards the fields below
	lastAttempt time.Time
	lastErr     error
	fetches     uint64
}

// keySet is one fetched JWK Set.
type keySet struct {
	keys    []jose.JSONWebKey
	fetched time.Time
	version uint64 // 1 for the first set fetched, then 2, ...
}

func newRemoteKeys(url string, client *http.Client, opts OIDCOptions) *remoteKeys {
	return &remoteKeys{url: url, client: client, minRefresh: opts.MinRefresh, maxAge: opts.MaxKeyAge, now: opts.Now}
}

func (r *remoteKeys) version() uint64 {
	if set := r.cached.Load(); set != nil {
		return set.version
	}
	return 0
}

func (r *remoteKeys) keys(ctx context.Context, kid string) ([]jose.JSONWebKey, uint64, error) {
	set := r.cached.Load()
	if set != nil {
		if keys, err := selectKeys(set.keys, kid); err == nil {
			if r.now().Sub(set.fetched) > r.maxAge && r.background.CompareAndSwap(false, true) {
				go func() {
					defer r.background.Store(false)
					_, _ = r.refresh(context.WithoutCancel(ctx), set)
				}()
			}
			return keys, set.version, nil
		}
	}
	set, err := r.refresh(ctx, set)
	if set == nil {
		return nil, 0, fmt.Errorf("no keys for this issuer yet: %w", err)
	}
	keys, kerr := selectKeys(set.keys, kid)
	if kerr != nil && err != nil {
		return nil, 0, fmt.Errorf("%w (%v)", kerr, err)
	}
	return keys, set.version, kerr
}

// refresh fetches the key set unless another caller already replaced seen,
// or the last attempt is more recent than minRefresh. It returns the newest
// set it has (possibly nil) and why it did not fetch or why the fetch failed.
func (r *remoteKeys) refresh(ctx context.Context, seen *keySet) (*keySet, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if cur := r.cached.Load(); cur != seen {
		return cur, nil // refreshed while this caller waited
	}
	now := r.now()
	if !r.lastAttempt.IsZero() && now.Sub(r.lastAttempt) < r.minRefresh {
		if r.lastErr != nil {
			return seen, fmt.Errorf("JWKS %s unavailable, next fetch after %s: %w", r.url, r.lastAttempt.Add(r.minRefresh).Format(time.RFC3339), r.lastErr)
		}
		return seen, fmt.Errorf("JWKS %s was fetched less than %s ago", r.url, r.minRefresh)
	}
	r.lastAttempt = now
	keys, err := r.fetch(ctx)
	r.lastErr = err
	if err != nil {
		return seen, fmt.Errorf("fetch JWKS %s: %w", r.url, err)
	}
	r.fetches++
	set := &keySet{keys: keys, fetched: now, version: r.fetches}
	r.cached.Store(set)
	return set, nil
}

// fetch downloads and checks the JWK Set.
func (r *remoteKeys) fetch(ctx context.Context) ([]jose.JSONWebKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json, application/jwk-set+json")
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %s", resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil {
		return nil, err
	}
	if len(body) > maxJWKSBytes {
		return nil, fmt.Errorf("key set larger than %d bytes", maxJWKSBytes)
	}
	return parseJWKs(body)
}
