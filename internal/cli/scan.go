package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/steward-dev/steward/internal/discovery"
	"github.com/steward-dev/steward/internal/inventory"
	"github.com/steward-dev/steward/internal/report"
	"github.com/steward-dev/steward/internal/salesforce"
	"github.com/steward-dev/steward/internal/snapshot"
)

// Environment variables holding the scanner's own client credentials.
const (
	envClientID     = "STEWARD_SF_CLIENT_ID"
	envClientSecret = "STEWARD_SF_CLIENT_SECRET"
)

type scanOptions struct {
	url         string
	orgURL      string
	inventory   []string
	policies    []string
	format      string
	failOn      string
	now         string
	save        string
	baseline    string
	apiVersion  string
	maxAPIShare float64
	loginDays   int
	basicAuth   bool
	store       storeFlags
	checkpoints string
}

func newScanCmd(env Env) *cobra.Command {
	var o scanOptions
	cmd := &cobra.Command{
		Use:   "scan --url https://DOMAIN.my.salesforce.com",
		Short: "Discover a live org's OAuth integrations and check them against the policy pack",
		Long: `scan signs in to an org with the client-credentials flow and reads every connected
app and External Client App with its OAuth policies, the users they run as with
their effective permissions, login history, OAuth grants, the Setup audit trail
and API usage. It builds the same snapshot as check, so the same policy pack runs,
plus the rules that need live data (dormant, retired but live, human use of an
integration user, unmanaged OAuth apps, org guardrails, access expansion).

The scanner's own app credentials come from the environment, never from flags:
  STEWARD_SF_CLIENT_ID      consumer key of a connected app or External Client App
                            with the client-credentials flow
  STEWARD_SF_CLIENT_SECRET  its consumer secret
The run-as user of that app needs "View Setup and Configuration", "API Enabled"
and "Manage Users" (login history) to read everything scan reads.

Exit codes: 0 no finding at or above --fail-on; 1 findings at or above it;
2 usage error, bad credentials or an unreadable org response.`,
		Example: `  # Scan an org and join the inventory kept in the repository
  export STEWARD_SF_CLIENT_ID=3MVG9...   STEWARD_SF_CLIENT_SECRET=...
  steward scan --url https://acme.my.salesforce.com --inventory inventory/

  # Keep the snapshot, and next time report what widened since then (NHI-REV-02)
  steward scan --url https://acme.my.salesforce.com --save scans/2026-11-25.json
  steward scan --url https://acme.my.salesforce.com --baseline scans/2026-11-25.json

  # Against the local emulator
  steward fakeorg --scenario examples/acme/org/scenario.yaml --addr 127.0.0.1:8443 &
  steward scan --url http://127.0.0.1:8443 --org-url https://acme.my.salesforce.com \
    --inventory examples/acme/inventory -o json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runScan(cmd, env, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.url, "url", "", "the org's My Domain URL, https://DOMAIN.my.salesforce.com (required)")
	f.StringVar(&o.orgURL, "org-url", "", "the My Domain URL the inventory names for this org, when --url reaches it through another address (a proxy, the local emulator); default: --url")
	f.StringArrayVar(&o.inventory, "inventory", nil, "directory of inventory manifests to join; identities bound to other orgs are left out (repeatable)")
	f.StringArrayVar(&o.policies, "policy", nil, "directory of extra Rego rules (repeatable)")
	f.StringVarP(&o.format, "format", "o", "table", "output format: "+strings.Join(report.Formats(), "|"))
	f.StringVar(&o.failOn, "fail-on", "high", "exit 1 when a finding is at or above this severity: critical|high|medium|low|info|none")
	f.StringVar(&o.now, "now", "", "evaluate as of this date (YYYY-MM-DD or RFC 3339); default: the current time")
	f.StringVar(&o.save, "save", "", "write the snapshot to this file, for a later --baseline or 'steward diff'")
	f.StringVar(&o.baseline, "baseline", "", "an earlier snapshot: what widened since then becomes NHI-REV-02 findings")
	f.StringVar(&o.apiVersion, "api-version", salesforce.DefaultAPIVersion, "Salesforce API version")
	f.Float64Var(&o.maxAPIShare, "max-api-share", salesforce.DefaultMaxAPIShare, "stop before using this share of the org's daily API requests")
	f.IntVar(&o.loginDays, "login-days", discovery.DefaultLoginDays, "days of login history to read")
	f.BoolVar(&o.basicAuth, "basic-auth", false, "send the client credentials in an HTTP Basic header instead of the form body")
	o.store.registerPosture(f, &o.checkpoints)
	return cmd
}

func runScan(cmd *cobra.Command, env Env, o scanOptions) error {
	if o.url == "" {
		return usageError(errors.New("--url is required"), "give the org's My Domain, e.g. --url https://acme.my.salesforce.com")
	}
	if err := checkFailOn(o.failOn); err != nil {
		return err
	}
	if !slices.Contains(report.Formats(), o.format) {
		return usageError(fmt.Errorf("unknown output format %q", o.format), "use -o "+strings.Join(report.Formats(), ", -o "))
	}
	now, err := parseNow(o.now, env.Now)
	if err != nil {
		return err
	}
	id, secret := env.Getenv(envClientID), env.Getenv(envClientSecret)
	if id == "" || secret == "" {
		return usageError(fmt.Errorf("%s and %s must be set", envClientID, envClientSecret),
			"export the consumer key and secret of the app scan signs in with (see 'steward scan --help')")
	}
	client, err := salesforce.New(salesforce.Config{
		URL: o.url, ClientID: id, ClientSecret: secret, APIVersion: o.apiVersion,
		MaxAPIShare: o.maxAPIShare, BasicAuth: o.basicAuth,
	})
	if err != nil {
		return usageError(err, "check --url, --api-version and --max-api-share")
	}

	var inv *inventory.Inventory
	if len(o.inventory) > 0 {
		inv, err = inventory.Load(o.inventory, inventory.Options{RequireManifestsIn: o.inventory})
		if errs := problems(err); len(errs) > 0 {
			for _, p := range errs {
				fmt.Fprintln(env.Stderr, p)
			}
			return usageError(fmt.Errorf("%d invalid input(s)", len(errs)), "fix the manifests above; 'steward validate DIR' checks them")
		}
	}
	orgURL := o.orgURL
	if orgURL == "" {
		orgURL = o.url
	}
	skipped := inScope(inv, orgURL)
	var baseline *snapshot.Snapshot
	if o.baseline != "" {
		if baseline, err = readSnapshot(o.baseline); err != nil {
			return usageError(err, "give a file written by 'steward scan --save'")
		}
	}

	ctx := cmd.Context()
	progress := newStatus(env)
	defer progress.done()
	step := 0
	res, err := discovery.Discover(ctx, client, discovery.Options{
		Now: now, LoginDays: o.loginDays, Usernames: runAsNames(inv),
		Progress: func(name string) {
			step++
			progress.step(fmt.Sprintf("[%d/%d] %s", step, discovery.Steps, name))
		},
	})
	if err != nil {
		progress.done()
		return usageError(err, scanHint(err))
	}
	res.Org.Org.URL, res.Org.Org.Kind = orgURL, snapshot.OrgKind(orgURL)
	snap := snapshot.Build(snapshot.Sources{Inventory: inv, Metadata: res.Metadata, Org: res.Org, Now: now})
	if baseline != nil {
		snap.Expansions = snapshot.Expansions(snapshot.Diff(baseline, snap))
	}
	if err := o.store.addSecretStore(ctx, env, o.checkpoints, snap); err != nil {
		return err
	}
	if o.save != "" {
		if err := writeSnapshot(o.save, snap); err != nil {
			return err
		}
	}
	rep, err := evaluate(ctx, env, progress, snap, evalOptions{
		policies: o.policies, format: o.format, warnings: append(warnings(res.Metadata.Warnings), skipped...),
	})
	if err != nil {
		return err
	}
	if failed(rep.Findings, o.failOn) {
		return silentExit(ExitFindings)
	}
	return nil
}

// runAsNames returns the run-as usernames the inventory declares.
func runAsNames(inv *inventory.Inventory) []string {
	if inv == nil {
		return nil
	}
	var names []string
	for _, id := range inv.Identities {
		if u := id.Spec.Salesforce.RunAs; u != "" {
			names = append(names, u)
		}
	}
	return names
}

// inScope keeps the inventory's identities bound to the org at orgURL (or
// to no org) and returns a warning for each one left out: an identity of
// another org says nothing about this one.
func inScope(inv *inventory.Inventory, orgURL string) []report.Problem {
	if inv == nil {
		return nil
	}
	host := hostOf(orgURL)
	var kept []*inventory.Identity
	var skipped []report.Problem
	for _, id := range inv.Identities {
		u := id.Spec.Salesforce.URL
		if u == "" || hostOf(u) == host {
			kept = append(kept, id)
			continue
		}
		skipped = append(skipped, report.Problem{
			File: id.Location.File, Line: id.Location.Line,
			Message: fmt.Sprintf("identity %s is bound to %s, not to the scanned org %s: left out of this scan", id.Metadata.Name, u, orgURL),
		})
	}
	inv.Identities = kept
	return skipped
}

// hostOf returns a URL's host in lower case, or the string itself when it
// does not parse.
func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return strings.ToLower(raw)
	}
	return strings.ToLower(u.Host)
}

// scanHint says what to do about a failed discovery.
func scanHint(err error) string {
	var oauth *salesforce.OAuthError
	switch {
	case errors.As(err, &oauth):
		return "check STEWARD_SF_CLIENT_ID and STEWARD_SF_CLIENT_SECRET, that the app has the client-credentials flow enabled with a run-as user, and that --url is the org's My Domain"
	case errors.Is(err, salesforce.ErrBudget):
		return "the org's daily API budget is nearly spent; raise --max-api-share or scan later"
	}
	return "check the scanner's permissions (View Setup and Configuration, API Enabled, Manage Users) and --api-version"
}

// writeSnapshot writes a snapshot as indented JSON.
func writeSnapshot(path string, s *snapshot.Snapshot) error {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("encode snapshot: %w", err)
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("save snapshot: %w", err)
	}
	return nil
}
