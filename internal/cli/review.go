package cli

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/steward-dev/steward/internal/httpapi"
	"github.com/steward-dev/steward/internal/server"
	"github.com/steward-dev/steward/internal/snapshot"
)

// envOperatorToken holds the operator token the admin API commands send;
// $STEWARD_ADMIN_TOKEN is the fallback.
const envOperatorToken = "STEWARD_OPERATOR_TOKEN"

// apiFlags point a command at a running server's admin API.
type apiFlags struct {
	broker   string
	caFile   string
	insecure bool
	format   string
}

func (f *apiFlags) register(cmd *cobra.Command) {
	p := cmd.PersistentFlags()
	p.StringVar(&f.broker, "broker", "", "the server's URL (default $"+envBrokerURL+", else https://"+server.DefaultListen+")")
	p.StringVar(&f.caFile, "ca-file", "", "PEM certificate(s) to trust for the server")
	p.BoolVar(&f.insecure, "insecure", false, "do not verify the server's certificate (development certificates only)")
	p.StringVarP(&f.format, "format", "o", "table", "table or json")
}

// apiClient calls the admin API with an operator token.
type apiClient struct {
	base  string
	token string
	hc    *http.Client
}

// client builds the API client: the token comes from the environment only,
// never from a flag.
func (f *apiFlags) client(env Env) (*apiClient, error) {
	if f.format != "table" && f.format != "json" {
		return nil, usageError(fmt.Errorf("unknown format %q", f.format), "use -o table or -o json")
	}
	token := strings.TrimSpace(env.Getenv(envOperatorToken))
	if token == "" {
		token = strings.TrimSpace(env.Getenv(server.EnvAdminToken))
	}
	if token == "" {
		return nil, usageError(errors.New("no operator token"), "export $"+envOperatorToken+" with your operator token (admin, owner, approver or auditor)")
	}
	base, hc, err := serverHTTP(env, f.broker, f.caFile, f.insecure)
	if err != nil {
		return nil, err
	}
	return &apiClient{base: base, token: token, hc: hc}, nil
}

// serverHTTP resolves a running server's base URL (the --broker flag, else
// $STEWARD_BROKER_URL, else the default listen address) and an HTTPS
// client that trusts caFile's certificates, or none with insecure.
func serverHTTP(env Env, broker, caFile string, insecure bool) (string, *http.Client, error) {
	base := broker
	if base == "" {
		base = env.Getenv(envBrokerURL)
	}
	if base == "" {
		base = "https://" + server.DefaultListen
	}
	tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: insecure}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return "", nil, usageError(fmt.Errorf("read the CA file: %w", err), "check --ca-file")
		}
		tlsCfg.RootCAs = x509.NewCertPool()
		if !tlsCfg.RootCAs.AppendCertsFromPEM(pem) {
			return "", nil, usageError(fmt.Errorf("%s holds no PEM certificate", caFile), "check --ca-file")
		}
	}
	return strings.TrimRight(base, "/"), &http.Client{Timeout: time.Minute, Transport: &http.Transport{TLSClientConfig: tlsCfg}}, nil
}

// do sends a request and decodes a JSON answer into out. A refusal
// becomes a usage error carrying the server's reason; other errors name
// the route.
func (c *apiClient) do(ctx context.Context, method, path string, body, out any) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, usageError(err, "check --broker")
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("reach the server: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return nil, fmt.Errorf("%s %s: read the answer: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		var p struct {
			Error string `json:"error"`
		}
		json.Unmarshal(raw, &p)
		if p.Error == "" {
			p.Error = resp.Status
		}
		switch resp.StatusCode {
		case http.StatusUnauthorized:
			return raw, usageError(fmt.Errorf("server refused the token: %s", p.Error), "check $"+envOperatorToken)
		case http.StatusForbidden:
			return raw, usageError(fmt.Errorf("server refused: %s", p.Error), "ask an admin, or the owner of the identity's team")
		case http.StatusBadRequest, http.StatusNotFound, http.StatusConflict, http.StatusRequestEntityTooLarge:
			return raw, usageError(fmt.Errorf("server refused: %s", p.Error), "see 'steward review --help'")
		}
		return raw, fmt.Errorf("%s %s: server answered %s: %s", method, path, resp.Status, p.Error)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return raw, fmt.Errorf("%s %s: the answer is not the expected JSON: %w", method, path, err)
		}
	}
	return raw, nil
}

func writeReviewTable(w io.Writer, items []httpapi.ReviewView) {
	if len(items) == 0 {
		fmt.Fprintln(w, "No review items.")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tIDENTITY\tOWNER\tKIND\tSTATUS\tDUE\tDECISION")
	for _, it := range items {
		status := it.Status
		if it.Overdue {
			status = "overdue"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", it.ID, it.Identity, it.Owner, it.Kind, status, it.DueAt.Format(time.DateOnly), it.Decision)
	}
	tw.Flush()
}

func newReviewCmd(env Env) *cobra.Command {
	var af apiFlags
	cmd := &cobra.Command{
		Use:   "review",
		Short: "Run access reviews: periodic campaigns, expansion reviews and the owners' attestations",
		Long: `review talks to a running Steward server's admin API ('steward serve') to run access
reviews. A campaign opens a review item for each Identity whose review falls due, at the
cadence its review interval and criticality give (at most 90 days for high and critical
identities, 365 for the others). An access expansion found by 'steward diff' or a scan
with a baseline opens an item holding the before/after evidence. The owning team closes
an item by attesting keep, modify or revoke with a comment; the attestation is the
Identity's last review for NHI-REV-01 and covers the expansions for NHI-REV-02.

The operator token comes from $` + envOperatorToken + ` (or $` + server.EnvAdminToken + `), never from
a flag. Owners may only act on their teams' identities; auditors only read.`,
		Example: `  export STEWARD_OPERATOR_TOKEN=$(cat ~/.steward/owner.token)
  steward review list --status open --broker https://steward.acme.internal
  steward review attest 42 --decision keep --comment "Still needed for invoicing"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	af.register(cmd)
	cmd.AddCommand(newReviewListCmd(env, &af), newReviewShowCmd(env, &af), newReviewStatusCmd(env, &af),
		newReviewAttestCmd(env, &af), newReviewCampaignCmd(env, &af), newReviewExpansionsCmd(env, &af))
	return cmd
}

func newReviewListCmd(env Env, af *apiFlags) *cobra.Command {
	var identity, status string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List review items (an owner sees its teams' identities only)",
		Example: `  steward review list --status open
  steward review list --identity billing-sync-prod -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := af.client(env)
			if err != nil {
				return err
			}
			q := url.Values{}
			if identity != "" {
				q.Set("identity", identity)
			}
			if status != "" {
				q.Set("status", status)
			}
			var out struct {
				Reviews []httpapi.ReviewView `json:"reviews"`
			}
			raw, err := c.do(cmd.Context(), http.MethodGet, "/v1/reviews?"+q.Encode(), nil, &out)
			if err != nil {
				return err
			}
			if af.format == "json" {
				env.Stdout.Write(raw)
				return nil
			}
			writeReviewTable(env.Stdout, out.Reviews)
			return nil
		},
	}
	cmd.Flags().StringVar(&identity, "identity", "", "only this Identity's items")
	cmd.Flags().StringVar(&status, "status", "", "open or closed")
	return cmd
}

func newReviewShowCmd(env Env, af *apiFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "show ID",
		Short:   "Show one review item with its evidence",
		Example: `  steward review show 42`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := af.client(env)
			if err != nil {
				return err
			}
			id, err := itemID(args[0])
			if err != nil {
				return err
			}
			var it httpapi.ReviewView
			raw, err := c.do(cmd.Context(), http.MethodGet, "/v1/reviews/"+strconv.FormatInt(id, 10), nil, &it)
			if err != nil {
				return err
			}
			if af.format == "json" {
				env.Stdout.Write(raw)
				return nil
			}
			writeReviewTable(env.Stdout, []httpapi.ReviewView{it})
			var ev struct {
				Changes      []snapshot.Change      `json:"changes"`
				SetupChanges []snapshot.SetupChange `json:"setupChanges"`
			}
			json.Unmarshal(it.Evidence, &ev)
			if len(ev.Changes) > 0 {
				fmt.Fprintln(env.Stdout, "\nExpansions (before → after):")
				for _, ch := range ev.Changes {
					fmt.Fprintf(env.Stdout, "  %s %s %s %s: %q → %q\n", ch.Resource, ch.Subject, ch.Field, ch.Kind, ch.Before, ch.After)
				}
			}
			if len(ev.SetupChanges) > 0 {
				fmt.Fprintln(env.Stdout, "\nSetup Audit Trail:")
				for _, ch := range ev.SetupChanges {
					fmt.Fprintf(env.Stdout, "  %s %s by %s\n", ch.Time.Format(time.RFC3339), firstNonEmpty(ch.Display, ch.Action), ch.By)
				}
			}
			if it.Status == "closed" {
				fmt.Fprintf(env.Stdout, "\nAttested %s by %s on %s: %s\n", it.Decision, it.ClosedBy, it.ClosedAt.Format(time.DateOnly), it.Comment)
			}
			return nil
		},
	}
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func itemID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, usageError(fmt.Errorf("review item %q is not a positive number", s), "use the ID 'steward review list' shows")
	}
	return id, nil
}

func newReviewStatusCmd(env Env, af *apiFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "status IDENTITY",
		Short: "Show an Identity's review standing; exit 1 when its review is overdue",
		Example: `  steward review status billing-sync-prod
  steward review status billing-sync-prod -o json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := af.client(env)
			if err != nil {
				return err
			}
			var st httpapi.ReviewStatusView
			raw, err := c.do(cmd.Context(), http.MethodGet, "/v1/identities/"+url.PathEscape(args[0])+"/review", nil, &st)
			if err != nil {
				return err
			}
			if af.format == "json" {
				env.Stdout.Write(raw)
			} else {
				last := st.LastReviewed
				if last == "" {
					last = "never"
				} else {
					last += " (" + st.Source + ")"
				}
				fmt.Fprintf(env.Stdout, "%s (owner %s): last reviewed %s, every %d days, due %s\n", st.Identity, st.Owner, last, st.IntervalDays, firstNonEmpty(st.Due, "now"))
				writeReviewTable(env.Stdout, st.Open)
			}
			if st.Overdue {
				return &exitError{code: ExitFindings, err: fmt.Errorf("the review of %s is overdue since %s", st.Identity, st.Due), hint: "attest an open item with 'steward review attest ID'"}
			}
			return nil
		},
	}
}

func newReviewAttestCmd(env Env, af *apiFlags) *cobra.Command {
	var decision, comment string
	cmd := &cobra.Command{
		Use:   "attest ID",
		Short: "Close a review item with your team's decision: keep, modify or revoke",
		Long: `attest records the owning team's decision on an open review item, with a comment
saying why. keep: the access is still needed as it is; modify: it is needed, but must
change (say how); revoke: it is no longer needed. Only an owner of the Identity's team
(or an admin) may attest; an item is attested once.`,
		Example: `  steward review attest 42 --decision keep --comment "Still needed for month-end invoicing"
  steward review attest 43 --decision revoke --comment "Vendor contract ended"`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := itemID(args[0])
			if err != nil {
				return err
			}
			if decision == "" || strings.TrimSpace(comment) == "" {
				return usageError(errors.New("--decision and --comment are required"), "pass --decision keep|modify|revoke --comment \"why\"")
			}
			c, err := af.client(env)
			if err != nil {
				return err
			}
			var it httpapi.ReviewView
			raw, err := c.do(cmd.Context(), http.MethodPost, "/v1/reviews/"+strconv.FormatInt(id, 10)+"/attest",
				map[string]string{"decision": decision, "comment": comment}, &it)
			if err != nil {
				return err
			}
			if af.format == "json" {
				env.Stdout.Write(raw)
				return nil
			}
			fmt.Fprintf(env.Stdout, "review item %d of %s closed: %s\n", it.ID, it.Identity, it.Decision)
			return nil
		},
	}
	cmd.Flags().StringVar(&decision, "decision", "", "keep, modify or revoke")
	cmd.Flags().StringVar(&comment, "comment", "", "why (required)")
	return cmd
}

// writeOpened prints the items a campaign or an expansion run opened.
func writeOpened(env Env, format string, raw []byte, items []httpapi.ReviewView) {
	if format == "json" {
		env.Stdout.Write(raw)
		return
	}
	created := 0
	for _, it := range items {
		if it.Created == nil || *it.Created {
			created++
		}
	}
	fmt.Fprintf(env.Stdout, "%d review item(s) opened, %d already open or closed\n", created, len(items)-created)
	if len(items) > 0 {
		writeReviewTable(env.Stdout, items)
	}
}

func newReviewCampaignCmd(env Env, af *apiFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "campaign",
		Short: "Open a periodic review item for every Identity whose review falls due (admin)",
		Long: `campaign opens a review item for each active Identity whose review is due within 14
days, or that was never reviewed. Running it again opens nothing new: schedule it daily.`,
		Example: `  steward review campaign --broker https://steward.acme.internal`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := af.client(env)
			if err != nil {
				return err
			}
			var out struct {
				Opened []httpapi.ReviewView `json:"opened"`
			}
			raw, err := c.do(cmd.Context(), http.MethodPost, "/v1/reviews/campaigns", nil, &out)
			if err != nil {
				return err
			}
			writeOpened(env, af.format, raw, out.Opened)
			return nil
		},
	}
}

func newReviewExpansionsCmd(env Env, af *apiFlags) *cobra.Command {
	var baseline, current string
	cmd := &cobra.Command{
		Use:   "open-expansions --baseline OLD --snapshot NEW",
		Short: "Open review items for the access expansions between two snapshots (admin)",
		Long: `open-expansions compares two snapshots as 'steward diff' does and sends the changes, with
the Setup Audit Trail entries of the newer snapshot, to the server, which opens one review
item per Identity whose access widened (new scopes, permissions, permission sets, object
access or flows, IP relaxation, a run-as change), with the before/after evidence. Changes
an earlier item of the Identity covers are left out, so running it again opens nothing.`,
		Example: `  steward scan --url https://acme.my.salesforce.com --save today.json
  steward review open-expansions --baseline approved.json --snapshot today.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if baseline == "" || current == "" {
				return usageError(errors.New("--baseline and --snapshot are required"), "pass the approved snapshot and the newer one, as written by 'steward scan --save' or 'steward check --dump-snapshot'")
			}
			old, err := readSnapshot(baseline)
			if err != nil {
				return err
			}
			cur, err := readSnapshot(current)
			if err != nil {
				return err
			}
			c, err := af.client(env)
			if err != nil {
				return err
			}
			body := map[string]any{"changes": snapshot.Expansions(snapshot.Diff(old, cur)), "setupChanges": setupOrEmpty(cur.SetupChanges)}
			var out struct {
				Opened []httpapi.ReviewView `json:"opened"`
			}
			raw, err := c.do(cmd.Context(), http.MethodPost, "/v1/reviews/expansions", body, &out)
			if err != nil {
				return err
			}
			writeOpened(env, af.format, raw, out.Opened)
			return nil
		},
	}
	cmd.Flags().StringVar(&baseline, "baseline", "", "the approved snapshot")
	cmd.Flags().StringVar(&current, "snapshot", "", "the newer snapshot")
	return cmd
}

func setupOrEmpty(s []snapshot.SetupChange) []snapshot.SetupChange {
	if s == nil {
		return []snapshot.SetupChange{}
	}
	return s
}
