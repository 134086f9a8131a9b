package broker

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/steward-dev/steward/internal/secrets"
	"github.com/steward-dev/steward/internal/store"
)

// SharedTokenKey is the name of the system key (see secrets.SystemKey) that
// seals the tokens replicas share, and SharedTokenKeySize its size.
const (
	SharedTokenKey     = secrets.SharedTokenKeyName
	SharedTokenKeySize = 32
)

// SharedStore is where replicas share their tokens and serialise their
// exchanges. store.Store is one.
type SharedStore interface {
	LockExchange(ctx context.Context, identity string, fn func(ctx context.Context) error) error
	SharedToken(ctx context.Context, identity string) (store.SharedToken, error)
	PutSharedToken(ctx context.Context, t store.SharedToken) error
	DeleteSharedToken(ctx context.Context, identity string) error
}

// SharedConfig configures a SharedMinter.
type SharedConfig struct {
	// Minter performs the upstream exchanges (the Exchanger). Required.
	Minter Minter
	// Store holds the shared tokens and the exchange locks. Required.
	Store SharedStore
	// Key seals the shared tokens with AES-256-GCM: SharedTokenKeySize
	// bytes, the same on every replica (secrets.SystemKey with
	// SharedTokenKey gives one, itself sealed with the KEK). Required.
	Key []byte
	// SafetyMargin is the cache's (default DefaultSafetyMargin).
	SafetyMargin time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger receives a record when a token could not be shared; nil
	// discards them.
	Logger *slog.Logger
}

// SharedMinter makes several replicas on one database exchange once per
// identity per token lifetime between them. Before exchanging, a replica
// takes the identity's exchange lock in the store; the one holding it
// exchanges and stores the token sealed, and the others, which waited for
// the lock, find that token and use it. Put it between a Cache and the
// Exchanger on every replica.
type SharedMinter struct {
	cfg  SharedConfig
	aead cipher.AEAD
}

// NewSharedMinter returns a SharedMinter.
func NewSharedMinter(cfg SharedConfig) (*SharedMinter, error) {
	if cfg.Minter == nil || cfg.Store == nil {
		return nil, errors.New("shared tokens: no minter or no store")
	}
	if len(cfg.Key) != SharedTokenKeySize {
		return nil, fmt.Errorf("shared tokens: the sealing key has %d bytes, want %d", len(cfg.Key), SharedTokenKeySize)
	}
	block, err := aes.NewCipher(cfg.Key)
	if err != nil {
		return nil, fmt.Errorf("shared tokens: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("shared tokens: %w", err)
	}
	if cfg.SafetyMargin <= 0 {
		cfg.SafetyMargin = DefaultSafetyMargin
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &SharedMinter{cfg: cfg, aead: aead}, nil
}

// lifetimeKey carries the lifetime of the token a Cache asks for.
type lifetimeKey struct{}

// withLifetime tells the minter the lifetime of the token asked for.
func withLifetime(ctx context.Context, lifetime time.Duration) context.Context {
	return context.WithValue(ctx, lifetimeKey{}, lifetime)
}

// lifetimeOf is the lifetime the caller asked for (default
// DefaultSessionTimeout).
func lifetimeOf(ctx context.Context) time.Duration {
	if d, ok := ctx.Value(lifetimeKey{}).(time.Duration); ok && d > 0 {
		return d
	}
	return DefaultSessionTimeout
}

// sealedToken is what the shared row's ciphertext holds.
type sealedToken struct {
	AccessToken string `json:"access_token"`
	InstanceURL string `json:"instance_url"`
}

// sealAAD binds a sealed token to its identity and issue time, so that a
// row cannot be passed off as another identity's or a newer one.
func sealAAD(identity string, issued time.Time) []byte {
	b := []byte("steward shared token v1\x00" + identity + "\x00")
	return binary.BigEndian.AppendUint64(b, uint64(issued.UnixNano()))
}

// Mint returns identity's shared token while it is fresh (not past the
// point where caches refresh it), else exchanges under the identity's
// lock, unless another replica did so while this one waited.
func (m *SharedMinter) Mint(ctx context.Context, identity string) (Grant, error) {
	lifetime := lifetimeOf(ctx)
	if g, ok := m.fresh(ctx, identity, lifetime); ok {
		return g, nil
	}
	var g Grant
	var mintErr error
	err := m.cfg.Store.LockExchange(ctx, identity, func(ctx context.Context) error {
		if got, ok := m.fresh(ctx, identity, lifetime); ok {
			g = got
			return nil
		}
		begin := m.cfg.Now()
		g, mintErr = m.cfg.Minter.Mint(ctx, identity)
		if mintErr != nil {
			return mintErr
		}
		if g.IssuedAt.IsZero() || g.IssuedAt.After(begin) {
			g.IssuedAt = begin
		}
		if err := m.put(ctx, identity, g, lifetime); err != nil {
			// This replica still has its token; the others exchange
			// for their own.
			m.cfg.Logger.Warn("could not share a token with the other replicas", "identity", identity, "error", err)
		}
		return nil
	})
	switch {
	case mintErr != nil:
		return Grant{}, mintErr
	case err != nil:
		return Grant{}, fmt.Errorf("%w: wait for the exchange lock: %w", ErrUnavailable, err)
	}
	return g, nil
}

// fresh returns identity's shared token if there is one that the caches
// would not refresh yet.
func (m *SharedMinter) fresh(ctx context.Context, identity string, lifetime time.Duration) (Grant, bool) {
	t, err := m.cfg.Store.SharedToken(ctx, identity)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			m.cfg.Logger.Warn("could not read the shared token", "identity", identity, "error", err)
		}
		return Grant{}, false
	}
	now := m.cfg.Now()
	expires := t.IssuedAt.Add(lifetime - min(m.cfg.SafetyMargin, lifetime/4))
	refresh := t.IssuedAt.Add((expires.Sub(t.IssuedAt) * 4) / 5)
	if !now.Before(refresh) || !now.Before(t.ExpiresAt) {
		return Grant{}, false
	}
	plain, err := m.aead.Open(nil, t.Nonce, t.Ciphertext, sealAAD(identity, t.IssuedAt))
	if err != nil {
		m.cfg.Logger.Warn("the shared token does not open with this replica's key; exchanging instead", "identity", identity)
		return Grant{}, false
	}
	var st sealedToken
	if err := json.Unmarshal(plain, &st); err != nil || st.AccessToken == "" {
		return Grant{}, false
	}
	return Grant{AccessToken: st.AccessToken, InstanceURL: st.InstanceURL, IssuedAt: t.IssuedAt}, true
}

// put seals g and stores it as identity's shared token.
func (m *SharedMinter) put(ctx context.Context, identity string, g Grant, lifetime time.Duration) error {
	plain, err := json.Marshal(sealedToken{AccessToken: g.AccessToken, InstanceURL: g.InstanceURL})
	if err != nil {
		return err
	}
	nonce := make([]byte, m.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return err
	}
	return m.cfg.Store.PutSharedToken(ctx, store.SharedToken{
		Identity:   identity,
		IssuedAt:   g.IssuedAt,
		ExpiresAt:  g.IssuedAt.Add(lifetime - min(m.cfg.SafetyMargin, lifetime/4)),
		Nonce:      nonce,
		Ciphertext: m.aead.Seal(nil, nonce, plain, sealAAD(identity, g.IssuedAt)),
	})
}

// Revoke revokes accessToken at the org, and first stops sharing it.
func (m *SharedMinter) Revoke(ctx context.Context, identity, accessToken string) error {
	if t, err := m.cfg.Store.SharedToken(ctx, identity); err == nil {
		if plain, err := m.aead.Open(nil, t.Nonce, t.Ciphertext, sealAAD(identity, t.IssuedAt)); err == nil {
			var st sealedToken
			if json.Unmarshal(plain, &st) == nil && st.AccessToken == accessToken {
				if err := m.cfg.Store.DeleteSharedToken(ctx, identity); err != nil {
					return err
				}
			}
		}
	}
	return m.cfg.Minter.Revoke(ctx, identity, accessToken)
}

// Forget stops sharing identity's token and returns it, if it was still
// valid, so that a kill on one replica revokes at the org the token the
// others hand out even when this replica never held it.
func (m *SharedMinter) Forget(ctx context.Context, identity string) (Grant, bool, error) {
	t, err := m.cfg.Store.SharedToken(ctx, identity)
	if errors.Is(err, store.ErrNotFound) {
		return Grant{}, false, nil
	}
	if err != nil {
		return Grant{}, false, err
	}
	if err := m.cfg.Store.DeleteSharedToken(ctx, identity); err != nil {
		return Grant{}, false, err
	}
	plain, err := m.aead.Open(nil, t.Nonce, t.Ciphertext, sealAAD(identity, t.IssuedAt))
	if err != nil || !m.cfg.Now().Before(t.ExpiresAt) {
		return Grant{}, false, nil
	}
	var st sealedToken
	if err := json.Unmarshal(plain, &st); err != nil || st.AccessToken == "" {
		return Grant{}, false, nil
	}
	return Grant{AccessToken: st.AccessToken, InstanceURL: st.InstanceURL, IssuedAt: t.IssuedAt, ExpiresAt: t.ExpiresAt}, true, nil
}
