package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/steward-dev/steward/internal/audit"
	"github.com/steward-dev/steward/internal/broker"
	"github.com/steward-dev/steward/internal/secrets"
	"github.com/steward-dev/steward/internal/server"
	"github.com/steward-dev/steward/internal/store"
)

func newServeCmd(env Env) *cobra.Command {
	var sf storeFlags
	var config string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the token broker: workloads get short-lived Salesforce tokens, never the secret",
		Long: `serve runs Steward's token broker over TLS. Workloads authenticate with the identity
they already have (an OIDC JWT or a SPIFFE SVID) and exchange it at POST /v1/token
(RFC 8693) for a Salesforce access token of an Identity they are a consumer of. Each
request is decided by the runtime policy and audited before a token is handed out;
tokens come from a cache holding one per Identity.

The configuration file (see docs/configuration.md) names the inventory, the trusted
issuers and trust domains, the TLS certificate (or dev: true for a generated
development certificate) and the operator credentials. Environment variables override
it. The secret store and audit log are the ones 'steward secret' uses: SQLite under
--data-dir, or PostgreSQL when $STEWARD_POSTGRES_DSN is set. Logs are JSON lines on
stderr. SIGINT or SIGTERM shut the server down gracefully.`,
		Example: `  # Serve with an operator certificate
  steward serve --config /etc/steward/steward.yaml --kek-file /etc/steward/kek

  # Local development: generated certificate, admin token from the environment
  STEWARD_DEV=true STEWARD_ADMIN_TOKEN=$(openssl rand -hex 32) \
    steward serve --config steward.yaml --data-dir ./data`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if config == "" {
				return usageError(errors.New("no configuration file"), "pass --config steward.yaml; see docs/configuration.md")
			}
			cfg, err := server.LoadConfig(config, env.Getenv)
			if err != nil {
				return usageError(err, "fix the configuration; see docs/configuration.md")
			}
			server.TuneGC(env.Getenv)
			ctx := cmd.Context()
			b, err := sf.openBackend(ctx, env)
			if err != nil {
				return err
			}
			defer b.Close()
			deps := server.Deps{
				Secrets:    b.secrets,
				Audit:      b.log,
				Kills:      server.StoreKills{DB: b.db},
				Reviews:    b.db,
				Elevations: b.db, Now: env.Now,
				Ready:  func(ctx context.Context) error { return ready(ctx, b.db, b.log) },
				Log:    env.Stderr,
				Getenv: env.Getenv,
			}
			if env.Getenv(envPostgresDSN) != "" {
				// Replicas on one database share their tokens.
				key, err := secrets.SystemKey(ctx, b.db, b.keys, broker.SharedTokenKey, broker.SharedTokenKeySize)
				if err != nil {
					return keyError(err)
				}
				deps.Shared, deps.SharedKey = b.db, key
			}
			srv, err := server.New(ctx, cfg, deps)
			if err != nil {
				return usageError(err, "fix the configuration; see docs/configuration.md")
			}
			fmt.Fprintf(env.Stdout, "steward broker listening on https://%s\n", srv.Addr())
			return srv.Serve(ctx)
		},
	}
	cmd.Flags().StringVar(&config, "config", "", "the broker's configuration file (steward.yaml)")
	sf.register(cmd)
	return cmd
}

// ready checks that the audit log takes records and the store answers.
func ready(ctx context.Context, db store.Store, log *audit.Log) error {
	if err := log.Err(); err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	if _, err := db.Meta(ctx, "steward.readiness"); err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}
