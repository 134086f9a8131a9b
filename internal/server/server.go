// Package server runs Steward's token broker: it reads the configuration,
// builds the workload authenticator, the runtime decider, the token cache and
// the HTTP API, and serves them over TLS until its context ends, then shuts
// down gracefully.
package server

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/steward-dev/steward/internal/broker"
	"github.com/steward-dev/steward/internal/elevation"
	"github.com/steward-dev/steward/internal/httpapi"
	"github.com/steward-dev/steward/internal/inventory"
	"github.com/steward-dev/steward/internal/review"
	"github.com/steward-dev/steward/internal/salesforce/metadata"
	"github.com/steward-dev/steward/internal/snapshot"
	"github.com/steward-dev/steward/internal/store"
	"github.com/steward-dev/steward/internal/workload"
)

// Deps are what the server needs from its caller: the secret store and the
// audit log it shares with the other commands.
type Deps struct {
	// Secrets holds the identities' credential bundles.
	Secrets broker.SecretReader
	// Audit makes the decision records durable.
	Audit httpapi.Auditor
	// Kills persists the kill switches (optional; see StoreKills).
	Kills httpapi.KillSwitches
	// Shared, with SharedKey, makes replicas on one database share their
	// Salesforce tokens, so that one exchange per identity per token
	// lifetime happens cluster-wide (optional; store.Store is one).
	Shared broker.SharedStore
	// SharedKey seals the shared tokens: broker.SharedTokenKeySize bytes,
	// the same on every replica (secrets.SystemKey with
	// broker.SharedTokenKey).
	SharedKey []byte
	// Reviews holds the access-review items (optional; store.Store is
	// one). Without it the review routes answer 503.
	Reviews store.Reviews
	// Elevations holds the break-glass elevations (optional; store.Store
	// is one). Elevation needs it and elevation.enabled in the config.
	Elevations store.Elevations
	// Now is the clock of the elevation workflow (default time.Now).
	Now func() time.Time
	// Ready reports whether the store is reachable (optional).
	Ready func(ctx context.Context) error
	// Log receives the JSON log records.
	Log io.Writer
	// Getenv reads environment variables (operator tokens).
	Getenv func(string) string
}

// Server is a configured broker, ready to serve.
type Server struct {
	cfg    *Config
	http   *http.Server
	ln     net.Listener
	api    *httpapi.API
	facts  *broker.Facts
	elev   *elevation.Service
	logger *slog.Logger
}

// New builds the broker from cfg and opens its listener.
func New(ctx context.Context, cfg *Config, deps Deps) (*Server, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		return nil, fmt.Errorf("logLevel: %w", err)
	}
	logger := slog.New(slog.NewJSONHandler(deps.Log, &slog.HandlerOptions{Level: level}))

	snap, err := loadSnapshot(ctx, cfg)
	if err != nil {
		return nil, err
	}
	auth, err := workload.NewAuthenticator(workload.Config{Issuers: cfg.Issuers, TrustDomains: cfg.TrustDomains}, workload.OIDCOptions{})
	if err != nil {
		return nil, fmt.Errorf("workload authentication: %w", err)
	}
	dec, err := broker.NewDecider(ctx, broker.DecisionOptions{
		Dirs: cfg.Policy.Dirs, ReviewGrace: time.Duration(cfg.Policy.ReviewGrace), RotationGrace: time.Duration(cfg.Policy.RotationGrace),
		DenyFindings: cfg.Policy.DenyFindings,
	})
	if err != nil {
		return nil, fmt.Errorf("runtime policy: %w", err)
	}
	// Access reviews recorded in the store decide the review status: the
	// posture findings see the attestations, and the runtime decision the
	// due dates they set.
	var reviews httpapi.Reviews
	var reviewSource broker.ReviewSource = broker.DeclaredReviews{}
	if deps.Reviews != nil {
		if err := review.AddToSnapshot(ctx, deps.Reviews, snap); err != nil {
			return nil, err
		}
		svc, err := review.New(review.Config{Store: deps.Reviews, Audit: deps.Audit, Identities: snap.Identities})
		if err != nil {
			return nil, err
		}
		reviews, reviewSource = svc, svc
	}
	facts, err := decisionFacts(ctx, cfg, snap, dec, deps.Secrets, reviewSource, logger)
	if err != nil {
		return nil, err
	}
	ops, err := cfg.operators(deps.Getenv)
	if err != nil {
		return nil, err
	}
	upstream, err := upstreamClient(cfg.Upstream.CAFile)
	if err != nil {
		return nil, err
	}
	metrics := httpapi.NewMetrics()
	x, err := broker.NewExchanger(broker.ExchangeConfig{
		Secrets: deps.Secrets, HTTPClient: upstream, MaxRetries: cfg.Upstream.MaxRetries, InitialBackoff: time.Duration(cfg.Upstream.InitialBackoff),
		BreakerFailures: cfg.Upstream.BreakerFailures, BreakerOpen: time.Duration(cfg.Upstream.BreakerOpen),
		OnExchange: metrics.Exchange, Logger: logger,
	})
	if err != nil {
		return nil, err
	}
	var minter broker.Minter = x
	if deps.Shared != nil {
		minter, err = broker.NewSharedMinter(broker.SharedConfig{
			Minter: x, Store: deps.Shared, Key: deps.SharedKey, SafetyMargin: time.Duration(cfg.SafetyMargin), Logger: logger,
		})
		if err != nil {
			return nil, err
		}
	}
	cache, err := broker.NewCache(broker.CacheConfig{Minter: minter, SafetyMargin: time.Duration(cfg.SafetyMargin), Logger: logger})
	if err != nil {
		return nil, err
	}
	elev, err := newElevations(cfg, deps, snap, logger)
	if err != nil {
		return nil, err
	}
	var elevations httpapi.Elevations
	if elev != nil {
		elevations = elev
	}
	api, err := httpapi.New(ctx, httpapi.Config{
		Auth: auth, Decider: dec, Audit: deps.Audit, Tokens: cache, Snapshot: snap, Reviews: reviews, Elevations: elevations,
		SessionTimeout: time.Duration(cfg.SessionTimeout), Operators: ops, Kills: deps.Kills, Ready: deps.Ready, Metrics: metrics, Logger: logger,
		Facts: facts,
	})
	if err != nil {
		return nil, err
	}

	tlsCfg, err := serverTLS(cfg, logger)
	if err != nil {
		return nil, err
	}
	if auth.SPIFFE != nil {
		tlsCfg = auth.SPIFFE.ServerTLSConfig(tlsCfg)
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	srv := &http.Server{
		Handler:           api,
		TLSConfig:         tlsCfg,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	logger.Info("broker configured", "identities", len(snap.Identities), "issuers", len(cfg.Issuers), "trust_domains", len(cfg.TrustDomains), "operators", len(ops))
	return &Server{cfg: cfg, http: srv, ln: ln, api: api, facts: facts, elev: elev, logger: logger}, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Serve serves until ctx ends, then stops accepting connections and waits
// up to the shutdown timeout for requests in flight. Meanwhile it reads the
// persisted kill switches every httpapi.DefaultKillSync, so that kills made
// on other replicas take effect here.
func (s *Server) Serve(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- s.http.ServeTLS(s.ln, "", "") }()
	syncCtx, stopSync := context.WithCancel(ctx)
	defer stopSync()
	go s.api.SyncKills(syncCtx, httpapi.DefaultKillSync)
	go s.facts.Run(syncCtx, time.Duration(s.cfg.Policy.Refresh))
	if s.elev != nil {
		go s.elev.Run(syncCtx, time.Duration(s.cfg.Elevation.SweepInterval)) // sweeps at once: catches what expired while down
	}
	s.logger.Info("serving", "addr", "https://"+s.Addr())
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	s.logger.Info("shutting down", "timeout", time.Duration(s.cfg.ShutdownTimeout).String())
	sctx, cancel := context.WithTimeout(context.Background(), time.Duration(s.cfg.ShutdownTimeout))
	defer cancel()
	if err := s.http.Shutdown(sctx); err != nil {
		return fmt.Errorf("graceful shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	s.logger.Info("stopped")
	return nil
}

// loadSnapshot reads the inventory (and the metadata, for session
// timeouts) into a snapshot. Any invalid manifest stops the start: a broker
// must not run on half an inventory.
func loadSnapshot(ctx context.Context, cfg *Config) (*snapshot.Snapshot, error) {
	inv, err := inventory.Load(cfg.Inventory, inventory.Options{})
	if err != nil {
		return nil, fmt.Errorf("inventory: %w", err)
	}
	src := snapshot.Sources{Inventory: inv, Now: time.Now()}
	if len(cfg.Metadata) > 0 {
		md, err := metadata.Load(ctx, cfg.Metadata, metadata.Options{})
		if err != nil {
			return nil, fmt.Errorf("metadata: %w", err)
		}
		src.Metadata = md
	}
	return snapshot.Build(src), nil
}

// upstreamClient is the HTTP client for the orgs: nil (the default) unless
// caFile names roots to trust.
func upstreamClient(caFile string) (*http.Client, error) {
	if caFile == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("upstream.caFile: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("upstream.caFile: %s holds no PEM certificate", caFile)
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return &http.Client{Transport: t, Timeout: broker.DefaultExchangeTimeout}, nil
}

// serverTLS loads the operator's certificate or, in dev mode without one,
// generates a development certificate for the loopback names.
func serverTLS(cfg *Config, logger *slog.Logger) (*tls.Config, error) {
	base := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.TLS.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLS.CertFile, cfg.TLS.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("tls: %w", err)
		}
		base.Certificates = []tls.Certificate{cert}
		return base, nil
	}
	cert, err := DevCertificate(time.Now())
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(cert.Certificate[0])
	logger.Warn("serving with a generated development certificate; configure tls.certFile and tls.keyFile for anything else",
		"sha256", strings.ToUpper(hex.EncodeToString(sum[:])))
	base.Certificates = []tls.Certificate{cert}
	return base, nil
}

// DevCertificate generates a self-signed ECDSA P-256 certificate for
// localhost, 127.0.0.1 and ::1, valid for 24 hours from now. The key lives
// in memory only.
func DevCertificate(now time.Time) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("development certificate: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("development certificate: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "Steward development broker"},
		NotBefore:    now.Add(-time.Minute),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("development certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("development certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}
