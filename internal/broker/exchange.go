package broker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/steward-dev/steward/internal/audit"
	"github.com/steward-dev/steward/internal/salesforce"
	"github.com/steward-dev/steward/internal/secrets"
	"github.com/steward-dev/steward/internal/store"
)

// Exchanger defaults.
const (
	DefaultBreakerFailures = 5
	DefaultBreakerOpen     = 30 * time.Second
	DefaultMaxRetries      = 2
	DefaultInitialBackoff  = 200 * time.Millisecond
)

// ErrRefused means the org answered and refused the stored credentials
// (unknown consumer key, wrong secret, no Run As user): retrying does not
// help, an operator must fix the secret or the app.
var ErrRefused = errors.New("salesforce org refused the credentials")

// SecretReader reads an identity's credential bundle; each read is audited
// by the reader. *secrets.Store is one.
type SecretReader interface {
	Read(ctx context.Context, actor audit.Actor, identity string, version int) (secrets.Bundle, secrets.Metadata, error)
}

// ExchangeConfig configures an Exchanger.
type ExchangeConfig struct {
	// Secrets holds the consumer keys and secrets. Required.
	Secrets SecretReader
	// Actor is who reads the secrets, for the audit log (default
	// system:broker).
	Actor audit.Actor
	// HTTPClient sends the exchanges (default: the salesforce package's).
	HTTPClient *http.Client
	// MaxRetries is how often a failed exchange is retried with
	// exponential backoff and jitter (default DefaultMaxRetries; negative:
	// none).
	MaxRetries int
	// InitialBackoff is the first wait before a retry (default
	// DefaultInitialBackoff).
	InitialBackoff time.Duration
	// BreakerFailures is how many consecutive failed exchanges against one
	// org open its circuit breaker (default DefaultBreakerFailures).
	BreakerFailures uint32
	// BreakerOpen is how long an open breaker refuses exchanges before it
	// lets one through to probe the org (default DefaultBreakerOpen).
	BreakerOpen time.Duration
	// OnExchange, when set, is told the duration and outcome of every
	// exchange that reached the org, for metrics.
	OnExchange func(d time.Duration, err error)
	// Logger receives the client's retry records; nil discards them. No
	// record holds a secret or a token.
	Logger *slog.Logger
}

// Exchanger mints Salesforce tokens with the client-credentials exchange,
// reading each identity's consumer key and secret from the secret store
// for every exchange (the bundle is never kept). Each org has a circuit
// breaker: after BreakerFailures consecutive failures the org is left alone
// for BreakerOpen, and exchanges fail at once with ErrUnavailable.
type Exchanger struct {
	cfg      ExchangeConfig
	mu       sync.Mutex
	breakers map[string]*gobreaker.CircuitBreaker[*salesforce.Token]
	orgs     map[string]string // identity → org base URL, from its last secret read
}

// NewExchanger returns an Exchanger.
func NewExchanger(cfg ExchangeConfig) (*Exchanger, error) {
	if cfg.Secrets == nil {
		return nil, errors.New("token exchange: no secret store")
	}
	if cfg.Actor == (audit.Actor{}) {
		cfg.Actor = audit.Actor{Kind: audit.ActorSystem, ID: "broker"}
	}
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = DefaultMaxRetries
	}
	if cfg.InitialBackoff <= 0 {
		cfg.InitialBackoff = DefaultInitialBackoff
	}
	if cfg.BreakerFailures == 0 {
		cfg.BreakerFailures = DefaultBreakerFailures
	}
	if cfg.BreakerOpen <= 0 {
		cfg.BreakerOpen = DefaultBreakerOpen
	}
	return &Exchanger{cfg: cfg, breakers: map[string]*gobreaker.CircuitBreaker[*salesforce.Token]{}, orgs: map[string]string{}}, nil
}

// Mint reads identity's active bundle and exchanges it for a token. If the
// org refuses the active version's credentials (invalid_client or
// invalid_client_id) while a replaced version is still within its overlap
// window, Mint retries once with that version: a rotation the org has not
// caught up with yet does not stop the identity's workloads. Each read is
// audited by the secret store, and the fallback is logged. Errors match
// ErrUnavailable when the org could not be reached or failed, and
// ErrRefused when it refused the credentials; neither holds a secret.
func (x *Exchanger) Mint(ctx context.Context, identity string) (Grant, error) {
	// While the identity's org is known to be failing, fail before
	// reading (and auditing the read of) its secret.
	x.mu.Lock()
	known, ok := x.orgs[identity]
	x.mu.Unlock()
	if ok && x.breaker(known).State() == gobreaker.StateOpen {
		return Grant{}, fmt.Errorf("%w: circuit breaker for %s is open after repeated failures", ErrUnavailable, known)
	}
	client, base, m, err := x.client(ctx, identity, 0)
	if err != nil {
		return Grant{}, err
	}
	tok, err := x.exchange(ctx, client, base)
	if badClient(err) {
		if ptok, ok := x.fallback(ctx, identity, m.Version); ok {
			tok, err = ptok, nil
		}
	}
	switch {
	case err == nil:
		return Grant{AccessToken: tok.AccessToken, InstanceURL: tok.InstanceURL, IssuedAt: tok.IssuedAt}, nil
	case errors.Is(err, gobreaker.ErrOpenState), errors.Is(err, gobreaker.ErrTooManyRequests):
		return Grant{}, fmt.Errorf("%w: circuit breaker for %s is open after repeated failures", ErrUnavailable, base)
	case refused(err):
		return Grant{}, fmt.Errorf("%w: %w", ErrRefused, err)
	default:
		return Grant{}, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
}

// exchange runs one client-credentials exchange through the org's breaker.
func (x *Exchanger) exchange(ctx context.Context, client *salesforce.Client, base string) (*salesforce.Token, error) {
	return x.breaker(base).Execute(func() (*salesforce.Token, error) {
		begin := time.Now()
		tok, err := client.Token(ctx)
		if x.cfg.OnExchange != nil {
			x.cfg.OnExchange(time.Since(begin), err)
		}
		return tok, err
	})
}

// badClient tells whether the org refused the consumer key or secret.
func badClient(err error) bool {
	return errors.Is(err, salesforce.ErrInvalidClient) || errors.Is(err, salesforce.ErrInvalidClientID)
}

// VersionLister lists a secret's versions. A SecretReader that is one too
// (*secrets.Store is) lets the Exchanger fall back to the version a
// rotation replaced.
type VersionLister interface {
	History(ctx context.Context, identity string) ([]secrets.Metadata, error)
}

// fallback exchanges the version the active one replaced, if there is one
// still in its overlap window, and logs that it did.
func (x *Exchanger) fallback(ctx context.Context, identity string, active int) (*salesforce.Token, bool) {
	prev, ok := x.previous(ctx, identity, active)
	if !ok {
		return nil, false
	}
	client, base, _, err := x.client(ctx, identity, prev)
	if err != nil {
		return nil, false
	}
	tok, err := x.exchange(ctx, client, base)
	if err != nil {
		return nil, false
	}
	if x.cfg.Logger != nil {
		x.cfg.Logger.Warn("the org refused the active secret; served with the previous version during its overlap window",
			"identity", identity, "active_version", active, "served_version", prev)
	}
	return tok, true
}

// previous returns the newest retired version below active that is not
// deleted or destroyed, if the secret reader can list versions. Whether its
// overlap window is still open is the secret store's to decide when it is
// read.
func (x *Exchanger) previous(ctx context.Context, identity string, active int) (int, bool) {
	l, ok := x.cfg.Secrets.(VersionLister)
	if !ok {
		return 0, false
	}
	vs, err := l.History(ctx, identity)
	if err != nil {
		return 0, false
	}
	for i := len(vs) - 1; i >= 0; i-- {
		v := vs[i]
		if v.Version < active && v.State == store.StateRetired && v.Deleted.IsZero() && v.Destroyed.IsZero() {
			return v.Version, true
		}
	}
	return 0, false
}

// Revoke ends the session of an access token minted for identity, at its
// org, so that a workload holding the token loses access too.
func (x *Exchanger) Revoke(ctx context.Context, identity, accessToken string) error {
	client, _, _, err := x.client(ctx, identity, 0)
	if err != nil {
		return err
	}
	if err := client.Revoke(ctx, accessToken); err != nil && !errors.Is(err, salesforce.ErrInvalidToken) {
		return fmt.Errorf("revoke a token of %s: %w", identity, err)
	}
	return nil
}

// client reads a version of identity's bundle (0: the active one; an
// audited read) and returns a client for its org with the org's base URL
// and the version's metadata. The bundle is not kept.
func (x *Exchanger) client(ctx context.Context, identity string, version int) (*salesforce.Client, string, secrets.Metadata, error) {
	b, m, err := x.cfg.Secrets.Read(ctx, x.cfg.Actor, identity, version)
	if err != nil {
		return nil, "", m, fmt.Errorf("read the secret of %s: %w", identity, err)
	}
	base := orgBase(b.URL)
	x.mu.Lock()
	x.orgs[identity] = base
	x.mu.Unlock()
	client, err := salesforce.New(salesforce.Config{
		URL:            base,
		ClientID:       b.ConsumerKey,
		ClientSecret:   b.ConsumerSecret,
		HTTPClient:     x.cfg.HTTPClient,
		MaxRetries:     x.cfg.MaxRetries,
		InitialBackoff: x.cfg.InitialBackoff,
		MaxRetryWait:   DefaultExchangeTimeout,
		Logger:         x.cfg.Logger,
	})
	if err != nil {
		return nil, "", m, fmt.Errorf("secret of %s: %w", identity, err)
	}
	return client, base, m, nil
}

// refused tells whether the org answered the exchange with an OAuth error:
// a configuration problem rather than an outage.
func refused(err error) bool {
	var oe *salesforce.OAuthError
	return errors.As(err, &oe) && oe.Status < 500
}

// breaker returns the circuit breaker of the org at base.
func (x *Exchanger) breaker(base string) *gobreaker.CircuitBreaker[*salesforce.Token] {
	x.mu.Lock()
	defer x.mu.Unlock()
	cb := x.breakers[base]
	if cb == nil {
		limit := x.cfg.BreakerFailures
		cb = gobreaker.NewCircuitBreaker[*salesforce.Token](gobreaker.Settings{
			Name:        base,
			Timeout:     x.cfg.BreakerOpen,
			ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= limit },
			// An OAuth refusal means the org is up: it does not count
			// against the org.
			IsSuccessful: func(err error) bool { return err == nil || refused(err) },
			IsExcluded:   func(err error) bool { return errors.Is(err, context.Canceled) },
			OnStateChange: func(name string, from, to gobreaker.State) {
				if x.cfg.Logger != nil {
					x.cfg.Logger.Warn("circuit breaker state changed", "org", name, "from", from.String(), "to", to.String())
				}
			},
		})
		x.breakers[base] = cb
	}
	return cb
}

// orgBase is the org's base URL from a bundle's URL, which may be the My
// Domain URL or its token endpoint.
func orgBase(u string) string {
	u = strings.TrimRight(u, "/")
	return strings.TrimSuffix(u, "/services/oauth2/token")
}
