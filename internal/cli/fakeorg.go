package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/steward-dev/steward/internal/salesforce/fakeorg"
)

func newFakeorgCmd(env Env) *cobra.Command {
	var (
		scenario    string
		addr        string
		allowRemote bool
		scannerApp  string
	)
	cmd := &cobra.Command{
		Use:   "fakeorg --scenario FILE [--addr 127.0.0.1:PORT]",
		Short: "Serve a fake Salesforce org from a scenario file",
		Long: `fakeorg serves an emulated Salesforce org for tests and demos: the OAuth
client-credentials token endpoint (with revoke and introspect), REST and Tooling
queries with paging, composite, limits, and the Metadata API's listMetadata and
readMetadata for connected apps and External Client Apps. Its content (apps,
users, permissions, login history, audit trail) comes from a YAML scenario; see
docs/fakeorg.md.

It listens on a loopback address only, unless --allow-remote is given. The consumer
keys and secrets in a scenario are test values; fakeorg never prints a secret.

Faults (latency, 5xx, API limit, expired sessions, truncated bodies, expired query
locators, HTML error pages, login redirects) come from the scenario's faults list
or are added while it runs through the loopback-only admin path /_fakeorg/faults.
Stop it with Ctrl-C.`,
		Example: `  # Serve the Acme example org
  steward fakeorg --scenario examples/acme/org/scenario.yaml --addr 127.0.0.1:8443

  # Make the next 3 API calls fail with INVALID_SESSION_ID
  curl -X POST --data '{"kind":"invalidSession","count":3}' http://127.0.0.1:8443/_fakeorg/faults

  # Add 500ms of latency to every query, then remove all faults
  curl -X POST --data '{"kind":"latency","delay":"500ms","path":"/services/data/"}' http://127.0.0.1:8443/_fakeorg/faults
  curl -X DELETE http://127.0.0.1:8443/_fakeorg/faults`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if scenario == "" {
				return usageError(errors.New("--scenario is required"), "steward fakeorg --scenario examples/acme/org/scenario.yaml")
			}
			if err := checkLoopback(addr, allowRemote); err != nil {
				return usageError(err, "use --addr 127.0.0.1:PORT, or add --allow-remote to expose the fake org on purpose")
			}
			sc, err := fakeorg.LoadScenario(scenario)
			if err != nil {
				return usageError(err, "fix the scenario file; docs/fakeorg.md lists every field")
			}
			srv, err := fakeorg.New(sc, fakeorg.Options{Clock: env.Now, Admin: true})
			if err != nil {
				return usageError(err, "fix the scenario file; docs/fakeorg.md lists every field")
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return usageError(fmt.Errorf("listen on %s: %w", addr, err), "pick a free port with --addr 127.0.0.1:PORT")
			}
			return serveFakeorg(cmd.Context(), env, ln, srv, sc, scenario, scannerApp)
		},
	}
	cmd.Flags().StringVar(&scenario, "scenario", "", "scenario YAML file (required)")
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8443", "address to listen on (loopback only unless --allow-remote)")
	cmd.Flags().BoolVar(&allowRemote, "allow-remote", false, "allow a non-loopback listen address")
	cmd.Flags().StringVar(&scannerApp, "scanner-app", fakeorg.ScannerApp, "app whose credentials the scanner should use")
	return cmd
}

// checkLoopback refuses listen addresses that are not loopback.
func checkLoopback(addr string, allowRemote bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("bad --addr %q: %w", addr, err)
	}
	if allowRemote {
		return nil
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("--addr %s is not a loopback address", addr)
}

func serveFakeorg(ctx context.Context, env Env, ln net.Listener, srv *fakeorg.Server, sc *fakeorg.Scenario, file, scannerApp string) error {
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()

	url := "http://" + ln.Addr().String()
	fmt.Fprintf(env.Stdout, "Fake org %q (%s, My Domain %s) serving on %s\n", sc.Org.Name, sc.Org.ID, srv.MyDomainHost(), url)
	path, ok := credentialPath(sc, scannerApp)
	if ok {
		fmt.Fprintf(env.Stdout, "Scanner app: %s. Its test credentials are %s.consumerKey and .consumerSecret in %s:\n", scannerApp, path, file)
		fmt.Fprintf(env.Stdout, "  export STEWARD_SF_CLIENT_ID=\"$(yq '%s.consumerKey' %s)\"\n", path, file)
		fmt.Fprintf(env.Stdout, "  export STEWARD_SF_CLIENT_SECRET=\"$(yq '%s.consumerSecret' %s)\"\n", path, file)
		fmt.Fprintf(env.Stdout, "  steward scan --url %s\n", url)
	} else {
		fmt.Fprintf(env.Stdout, "No app named %s with a consumer key in the scenario; pass --scanner-app NAME.\n", scannerApp)
	}
	fmt.Fprintf(env.Stdout, "Faults: POST, GET or DELETE %s/_fakeorg/faults. Stop with Ctrl-C.\n", url)

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdown); err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	fmt.Fprintln(env.Stderr, "fake org stopped")
	return nil
}

// credentialPath returns the YAML path of an app in the scenario.
func credentialPath(sc *fakeorg.Scenario, app string) (string, bool) {
	for i, a := range sc.ConnectedApps {
		if a.Name == app && a.ConsumerKey != "" {
			return fmt.Sprintf(".connectedApps[%d]", i), true
		}
	}
	for i, a := range sc.ExternalClientApps {
		if a.Name == app && a.ConsumerKey != "" {
			return fmt.Sprintf(".externalClientApps[%d]", i), true
		}
	}
	return "", false
}
