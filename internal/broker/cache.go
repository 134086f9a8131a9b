package broker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/steward-dev/steward/internal/snapshot"
)

// Cache defaults.
const (
	// DefaultSessionTimeout is the token lifetime assumed when neither the
	// app nor the configuration names one: Salesforce's default session
	// timeout of two hours.
	DefaultSessionTimeout = 2 * time.Hour
	// DefaultSafetyMargin is taken off a token's lifetime so that it is
	// never handed out just before the org ends its session.
	DefaultSafetyMargin = 2 * time.Minute
	// DefaultExchangeTimeout bounds one upstream exchange, retries
	// included.
	DefaultExchangeTimeout = 30 * time.Second
	// RefreshRetry is how long after a failed background refresh the next
	// one starts, while the cached token is still valid.
	RefreshRetry = 10 * time.Second
)

// ErrUnavailable means no token could be had for the identity: the org is
// failing (or its circuit breaker is open) and nothing valid is cached. The
// HTTP layer answers 503.
var ErrUnavailable = errors.New("salesforce org unavailable and no cached token")

// Grant is an access token the cache hands out.
type Grant struct {
	// AccessToken is the Salesforce access token. Never log it.
	AccessToken string
	// InstanceURL is the org instance the token is for.
	InstanceURL string
	// IssuedAt is when the org issued it.
	IssuedAt time.Time
	// ExpiresAt is when the cache stops serving it: issue time plus the
	// session timeout, minus the safety margin.
	ExpiresAt time.Time
	// Cached is true when the grant came from the cache without an
	// exchange by this caller.
	Cached bool
}

// String describes the grant without the token.
func (g Grant) String() string {
	return fmt.Sprintf("broker.Grant{InstanceURL:%q ExpiresAt:%s Cached:%t}", g.InstanceURL, g.ExpiresAt.UTC().Format(time.RFC3339), g.Cached)
}

// GoString is String, so that %#v hides the token too.
func (g Grant) GoString() string { return g.String() }

// LogValue logs the grant without the token.
func (g Grant) LogValue() slog.Value {
	return slog.GroupValue(slog.String("instance_url", g.InstanceURL), slog.Time("expires_at", g.ExpiresAt), slog.Bool("cached", g.Cached))
}

// Minter performs the upstream exchanges and revocations for identities.
// *Exchanger is the real one.
type Minter interface {
	Mint(ctx context.Context, identity string) (Grant, error)
	Revoke(ctx context.Context, identity, accessToken string) error
}

// CacheConfig configures a Cache.
type CacheConfig struct {
	// Minter performs the exchanges. Required.
	Minter Minter
	// SafetyMargin is taken off every lifetime (default
	// DefaultSafetyMargin, at most a quarter of the lifetime).
	SafetyMargin time.Duration
	// ExchangeTimeout bounds one exchange (default DefaultExchangeTimeout).
	// An exchange runs on behalf of every waiting caller, so it is not
	// cancelled with any single caller's context.
	ExchangeTimeout time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger receives a record per exchange; nil discards them.
	Logger *slog.Logger
}

// Cache holds one Salesforce token per Identity and mints it with a single
// exchange however many callers ask at once. A token is refreshed in the
// background when four fifths of its lifetime have passed, and keeps being
// served until it expires if the refresh fails. It is safe for concurrent
// use.
type Cache struct {
	cfg     CacheConfig
	mu      sync.Mutex
	entries map[string]*entry
	hits    atomic.Int64
	misses  atomic.Int64
}

// entry is one identity's token and its exchange in flight.
type entry struct {
	grant     Grant // zero until the first exchange succeeds
	refreshAt time.Time
	flight    *flight
	// older are grants handed out before a refresh that are still valid
	// at the org, for Revoke.
	older []Grant
}

// flight is an exchange in progress; done closes when grant and err are
// set.
type flight struct {
	done  chan struct{}
	grant Grant
	err   error
}

// NewCache returns an empty cache.
func NewCache(cfg CacheConfig) (*Cache, error) {
	if cfg.Minter == nil {
		return nil, errors.New("token cache: no minter")
	}
	if cfg.SafetyMargin <= 0 {
		cfg.SafetyMargin = DefaultSafetyMargin
	}
	if cfg.ExchangeTimeout <= 0 {
		cfg.ExchangeTimeout = DefaultExchangeTimeout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Cache{cfg: cfg, entries: map[string]*entry{}}, nil
}

// Token returns identity's token: the cached one while it is valid, else
// one fresh from the org. lifetime is the identity's session timeout (see
// SessionTimeout). Concurrent callers for the same identity share one
// exchange. When the org fails and nothing valid is cached, the error
// matches ErrUnavailable.
func (c *Cache) Token(ctx context.Context, identity string, lifetime time.Duration) (Grant, error) {
	now := c.cfg.Now()
	c.mu.Lock()
	e := c.entries[identity]
	if e == nil {
		e = &entry{}
		c.entries[identity] = e
	}
	if e.grant.AccessToken != "" && now.Before(e.grant.ExpiresAt) {
		g := e.grant
		if !now.Before(e.refreshAt) && e.flight == nil {
			// Refresh ahead in the background; this caller and the
			// others keep the current token meanwhile.
			c.start(identity, e, lifetime)
		}
		c.mu.Unlock()
		c.hits.Add(1)
		g.Cached = true
		return g, nil
	}
	f := e.flight
	if f == nil {
		f = c.start(identity, e, lifetime)
	}
	c.mu.Unlock()
	c.misses.Add(1)
	select {
	case <-f.done:
		return f.grant, f.err
	case <-ctx.Done():
		return Grant{}, fmt.Errorf("token for %s: %w", identity, ctx.Err())
	}
}

// start begins an exchange for e. c.mu must be held.
func (c *Cache) start(identity string, e *entry, lifetime time.Duration) *flight {
	f := &flight{done: make(chan struct{})}
	e.flight = f
	go c.exchange(identity, e, f, lifetime)
	return f
}

// exchange runs one flight and stores its outcome.
func (c *Cache) exchange(identity string, e *entry, f *flight, lifetime time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), c.cfg.ExchangeTimeout)
	defer cancel()
	begin := c.cfg.Now()
	g, err := c.cfg.Minter.Mint(withLifetime(ctx, lifetime), identity)
	if err == nil {
		issued := g.IssuedAt
		if issued.IsZero() || issued.After(begin) {
			// Count the lifetime from before the request, so a slow
			// exchange or a skewed org clock cannot stretch it.
			issued = begin
		}
		g.IssuedAt = issued
		g.ExpiresAt = issued.Add(lifetime - c.margin(lifetime))
	}
	c.mu.Lock()
	if err == nil {
		if e.grant.AccessToken != "" {
			e.older = append(e.older, e.grant)
		}
		e.older = unexpired(e.older, c.cfg.Now())
		e.grant = g
		e.refreshAt = g.IssuedAt.Add((g.ExpiresAt.Sub(g.IssuedAt) * 4) / 5)
	} else if now := c.cfg.Now(); e.grant.AccessToken != "" && now.Before(e.grant.ExpiresAt) {
		// A failed refresh: the current token stays until it expires,
		// and the next refresh waits a while, so that an outage does
		// not turn every cached grant into an attempt.
		e.refreshAt = now.Add(RefreshRetry)
		c.cfg.Logger.Warn("token refresh failed; serving the cached token", "identity", identity, "expires_at", e.grant.ExpiresAt, "error", err)
	}
	e.flight = nil
	c.mu.Unlock()
	if err != nil {
		c.cfg.Logger.Warn("token exchange failed", "identity", identity, "error", err)
		f.err = fmt.Errorf("token for %s: %w", identity, err)
	} else {
		c.cfg.Logger.Info("token exchanged", "identity", identity, "token", g)
		f.grant = g
	}
	close(f.done)
}

// margin is the safety margin for a lifetime: at most a quarter of it.
func (c *Cache) margin(lifetime time.Duration) time.Duration {
	return min(c.cfg.SafetyMargin, lifetime/4)
}

// unexpired keeps the grants still within their lifetime.
func unexpired(gs []Grant, now time.Time) []Grant {
	out := gs[:0]
	for _, g := range gs {
		if now.Before(g.ExpiresAt) {
			out = append(out, g)
		}
	}
	return out
}

// forgetter is a Minter that shares tokens beyond this cache.
// *SharedMinter is one.
type forgetter interface {
	Forget(ctx context.Context, identity string) (Grant, bool, error)
}

// Revoke forgets identity's tokens and revokes at the org every one still
// within its lifetime, so that workloads holding them lose access too. It
// returns how many it revoked; an error names the first revocation that
// failed, and the others are still attempted. An exchange in flight still
// completes.
func (c *Cache) Revoke(ctx context.Context, identity string) (int, error) {
	now := c.cfg.Now()
	c.mu.Lock()
	var grants []Grant
	if e := c.entries[identity]; e != nil {
		grants = unexpired(append(e.older, e.grant), now)
		e.grant, e.older = Grant{}, nil
	}
	c.mu.Unlock()
	n := 0
	var first error
	if f, ok := c.cfg.Minter.(forgetter); ok {
		// The token other replicas share may be one this cache never
		// held: revoke it too.
		g, found, err := f.Forget(ctx, identity)
		if err != nil {
			first = fmt.Errorf("stop sharing the token of %s: %w", identity, err)
		}
		if found && !slices.ContainsFunc(grants, func(h Grant) bool { return h.AccessToken == g.AccessToken }) {
			grants = append(grants, g)
		}
	}
	for _, g := range grants {
		if err := c.cfg.Minter.Revoke(ctx, identity, g.AccessToken); err != nil {
			if first == nil {
				first = err
			}
			continue
		}
		n++
	}
	return n, first
}

// Drop forgets identity's token, after the org rejected it or on an
// operator's request. An exchange in flight still completes.
func (c *Cache) Drop(identity string) {
	c.mu.Lock()
	if e := c.entries[identity]; e != nil {
		e.grant = Grant{}
	}
	c.mu.Unlock()
}

// Cached tells whether a valid token for identity is cached.
func (c *Cache) Cached(identity string) bool {
	now := c.cfg.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entries[identity]
	return e != nil && e.grant.AccessToken != "" && now.Before(e.grant.ExpiresAt)
}

// Hits returns how many requests were answered from the cache.
func (c *Cache) Hits() int64 { return c.hits.Load() }

// Misses returns how many requests waited for an exchange.
func (c *Cache) Misses() int64 { return c.misses.Load() }

// SessionTimeout is the lifetime of id's tokens: the session timeout of its
// app in the snapshot when one is set, else def (DefaultSessionTimeout when
// zero). Salesforce's token response carries no expiry, so this is the only
// source.
func SessionTimeout(snap *snapshot.Snapshot, id *snapshot.Identity, def time.Duration) time.Duration {
	if def <= 0 {
		def = DefaultSessionTimeout
	}
	if snap == nil || id == nil {
		return def
	}
	for i := range snap.Apps {
		a := &snap.Apps[i]
		if a.Name == id.Salesforce.App && a.SessionTimeoutMinutes > 0 {
			return time.Duration(a.SessionTimeoutMinutes) * time.Minute
		}
	}
	return def
}
