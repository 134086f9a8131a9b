package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/steward-dev/steward/internal/broker"
	"github.com/steward-dev/steward/internal/httpapi"
	"github.com/steward-dev/steward/internal/secrets"
	"github.com/steward-dev/steward/internal/server"
	"github.com/steward-dev/steward/internal/store"
)

// envBrokerURL names the broker the operator commands talk to.
const envBrokerURL = "STEWARD_BROKER_URL"

// killOptions are the flags of steward kill.
type killOptions struct {
	broker, caFile, tokenFile, format string
	file, orgCAFile                   string
	lift, insecure, rotate, destroy   bool
}

// killReport is what steward kill prints with -o json: the broker's
// answer, with the steps run from the command line appended.
type killReport struct {
	Identity string             `json:"identity"`
	Killed   bool               `json:"killed"`
	Revoked  int                `json:"revoked"`
	Steps    []httpapi.KillStep `json:"steps"`
	Warning  string             `json:"warning,omitempty"`
}

func newKillCmd(env Env) *cobra.Command {
	var sf storeFlags
	var o killOptions
	cmd := &cobra.Command{
		Use:   "kill IDENTITY",
		Short: "Stop a running broker from issuing an Identity's tokens, revoke those issued, and rotate or destroy its secret",
		Long: `kill turns an Identity's kill switch on in a running broker, then contains the
incident step by step, each step recorded in the audit log and reported:

  1. block    every token request for the Identity is denied from now on (reason
              identity_killed), on every replica within a second; the switch is
              kept in the store, so a restart does not lift it.
  2. revoke   every Salesforce token the broker handed out for it that is still
              valid is revoked at the org.
  3. rotate   (--rotate) the consumer secret is replaced by the bundle read from
              --file or stdin, as 'steward secret rotate' does: staged, proven by
              a real exchange at the org, promoted. The old version is retired
              with no overlap: it may have leaked, so nothing reads it again.
     destroy  (--destroy) every version of the secret is soft-deleted at once,
              then destroyed for good. The Identity has no secret afterwards.

Steps 1 and 2 run in the broker (admin token: $` + server.EnvAdminToken + ` or --token-file).
Step 3 runs here, on the store the broker uses, with the same flags and key as
'steward secret' (--data-dir or $STEWARD_POSTGRES_DSN, --kek-file). A bundle that
cannot be read, or a store that cannot be opened, stops the command before
anything changes. A failure in a later step never lifts the kill: the command
exits 1 and says what to finish by hand.

For --rotate, first generate a new consumer secret for the app in Salesforce
(staged next to the current one), pass it in the bundle, and once kill reports
it active, apply it in Salesforce so the old secret stops working. If the org
cannot prove the new secret, it stays staged and the old one stays active but
unused (the kill is in force): finish with 'steward secret rotate IDENTITY
--resume --overlap 0s'.

The kill stays on after every step: lift it with --lift once the Identity is safe.`,
		Example: `  # Stop issuance for a compromised integration at once
  export STEWARD_ADMIN_TOKEN=$(cat /etc/steward/admin.token)
  steward kill billing-sync-prod --broker https://steward.acme.internal --ca-file ca.pem

  # The consumer secret leaked: kill, revoke and rotate to the new secret read from a file
  steward kill billing-sync-prod --rotate --file new-bundle.json \
    --broker https://steward.acme.internal --ca-file ca.pem --kek-file /etc/steward/kek

  # The integration is being shut down for good: kill, revoke and destroy every version
  steward kill billing-sync-prod --destroy --broker https://steward.acme.internal --ca-file ca.pem

  # Lift it after the investigation
  steward kill billing-sync-prod --lift --broker https://steward.acme.internal --ca-file ca.pem`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runKill(cmd.Context(), env, &sf, o, args[0])
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.broker, "broker", "", "the broker's URL (default $"+envBrokerURL+", else https://"+server.DefaultListen+")")
	f.StringVar(&o.caFile, "ca-file", "", "PEM certificate(s) to trust for the broker")
	f.BoolVar(&o.insecure, "insecure", false, "do not verify the broker's certificate (development certificates only)")
	f.StringVar(&o.tokenFile, "token-file", "", "file holding the admin token (default $"+server.EnvAdminToken+")")
	f.BoolVar(&o.lift, "lift", false, "turn the kill switch off again")
	f.BoolVar(&o.rotate, "rotate", false, "after blocking and revoking, rotate the consumer secret to the bundle read from --file or stdin")
	f.BoolVar(&o.destroy, "destroy", false, "after blocking and revoking, soft-delete then destroy every version of the secret")
	f.StringVarP(&o.file, "file", "f", "", "with --rotate: read the new bundle from this file instead of stdin (- for stdin)")
	f.StringVar(&o.orgCAFile, "org-ca-file", "", "with --rotate: PEM roots to trust for the org instead of the system's")
	f.StringVarP(&o.format, "format", "o", "table", "table or json")
	sf.register(cmd)
	return cmd
}

func runKill(ctx context.Context, env Env, sf *storeFlags, o killOptions, identity string) error {
	if o.format != "table" && o.format != "json" {
		return usageError(fmt.Errorf("unknown format %q", o.format), "use -o table or -o json")
	}
	switch {
	case o.rotate && o.destroy:
		return usageError(errors.New("--rotate and --destroy exclude each other"), "rotate to keep the integration running with a new secret, destroy to end it")
	case o.lift && (o.rotate || o.destroy):
		return usageError(errors.New("--lift takes neither --rotate nor --destroy"), "lift the kill on its own")
	case !o.rotate && (o.file != "" || o.orgCAFile != ""):
		return usageError(errors.New("--file and --org-ca-file go with --rotate"), "add --rotate, or drop them")
	}
	hc, token, endpoint, err := brokerRequest(env, o, identity)
	if err != nil {
		return err
	}
	// Everything the later steps need is read first: a bad bundle or
	// store must not leave a half-run kill behind.
	var bundle secrets.Bundle
	var orgClient *http.Client
	var b *backend
	if o.rotate {
		// Waiting on a terminal would delay the kill itself.
		if tty, ok := env.Stdin.(io.Writer); ok && (o.file == "" || o.file == "-") && env.IsTerminal != nil && env.IsTerminal(tty) {
			return usageError(errors.New("--rotate reads the new bundle from stdin, which is a terminal"), "pass --file new-bundle.json or pipe the bundle in")
		}
		if bundle, err = readBundle(env, o.file); err != nil {
			return err
		}
		if orgClient, err = orgHTTPClient(o.orgCAFile); err != nil {
			return err
		}
	}
	if o.rotate || o.destroy {
		if b, err = sf.openBackend(ctx, env); err != nil {
			return err
		}
		defer b.Close()
	}

	rep, err := callKill(ctx, hc, token, endpoint, o.lift)
	if err != nil {
		return err
	}
	switch {
	case o.rotate:
		rep.Steps = append(rep.Steps, killRotate(ctx, b, identity, bundle, broker.Prove(orgClient)))
	case o.destroy:
		rep.Steps = append(rep.Steps, killDestroy(ctx, b, identity))
	}
	writeKillReport(env, o.format, rep)
	var failed, next []string
	for _, s := range rep.Steps {
		if !s.OK {
			failed, next = append(failed, s.Step), append(next, s.Next)
		}
	}
	if failed != nil {
		return &exitError{code: ExitFindings, err: fmt.Errorf("%s of %s failed; the kill stays in force", strings.Join(failed, " and "), identity), hint: strings.Join(next, "; then ")}
	}
	return nil
}

// brokerRequest reads the admin token, the broker's address and trust, and
// returns the client, the token and the kill route's URL.
func brokerRequest(env Env, o killOptions, identity string) (*http.Client, string, string, error) {
	token := strings.TrimSpace(env.Getenv(server.EnvAdminToken))
	if o.tokenFile != "" {
		b, err := os.ReadFile(o.tokenFile)
		if err != nil {
			return nil, "", "", usageError(fmt.Errorf("read the admin token: %w", err), "check --token-file")
		}
		token = strings.TrimSpace(string(b))
	}
	if token == "" {
		return nil, "", "", usageError(errors.New("no admin token"), "set $"+server.EnvAdminToken+" or pass --token-file")
	}
	base, hc, err := serverHTTP(env, o.broker, o.caFile, o.insecure)
	if err != nil {
		return nil, "", "", err
	}
	return hc, token, base + "/v1/identities/" + url.PathEscape(identity) + "/kill", nil
}

// callKill turns the switch on (or off with lift) in the broker and returns
// its report. An error means the broker did not apply it.
func callKill(ctx context.Context, hc *http.Client, token, endpoint string, lift bool) (killReport, error) {
	method := http.MethodPost
	if lift {
		method = http.MethodDelete
	}
	req, err := http.NewRequestWithContext(ctx, method, endpoint, nil)
	if err != nil {
		return killReport{}, usageError(err, "check --broker")
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := hc.Do(req)
	if err != nil {
		return killReport{}, fmt.Errorf("reach the broker: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var res struct {
		killReport
		Error string `json:"error"`
	}
	if err := json.Unmarshal(body, &res); err != nil {
		return killReport{}, fmt.Errorf("broker answered %s with no JSON", resp.Status)
	}
	switch resp.StatusCode {
	case http.StatusOK, http.StatusInternalServerError, http.StatusBadGateway:
		return res.killReport, nil
	case http.StatusUnauthorized, http.StatusForbidden:
		return killReport{}, usageError(fmt.Errorf("broker refused: %s", res.Error), "use an admin token of this broker")
	case http.StatusNotFound:
		return killReport{}, usageError(fmt.Errorf("broker: %s", res.Error), "check the Identity's name with GET /v1/identities")
	}
	return killReport{}, fmt.Errorf("broker answered %s: %s; nothing was changed, retry", resp.Status, res.Error)
}

// killRotate rotates identity's secret to bundle with no overlap, through
// the same state machine as steward secret rotate.
func killRotate(ctx context.Context, b *backend, identity string, bundle secrets.Bundle, check secrets.Check) httpapi.KillStep {
	step := httpapi.KillStep{Step: "rotate"}
	resume := "steward secret rotate " + identity + " --resume --overlap 0s"
	m, err := b.secrets.Rotate(ctx, b.actor, identity, bundle, secrets.Any, check, 0)
	switch {
	case err == nil:
		step.OK = true
		step.Detail = fmt.Sprintf("version %d (fingerprint %s) is active, proven at the org; the version it replaced is retired with no overlap", m.Version, m.Fingerprint)
		step.Next = "apply the new consumer secret in Salesforce so the old one stops working, then lift the kill with steward kill " + identity + " --lift"
	case errors.Is(err, store.ErrNotFound):
		step.Detail = "the store holds no active secret for " + identity
		step.Next = "store the new bundle with steward secret put " + identity
	default:
		step.Detail = err.Error()
		if p, perr := b.secrets.Pending(ctx, identity); perr == nil {
			step.Detail = fmt.Sprintf("version %d is %s, not active: %v", p.Version, p.State, err)
		}
		step.Next = "stage the new consumer secret in Salesforce (or check the org is reachable), then run " + resume + "; or drop it with steward secret rotate " + identity + " --abandon"
	}
	return step
}

// killDestroy soft-deletes every version of identity's secret, so that
// none can be read from then on, then retires the active one and destroys
// them all.
func killDestroy(ctx context.Context, b *backend, identity string) httpapi.KillStep {
	step := httpapi.KillStep{Step: "destroy"}
	next := "run steward secret history " + identity + " and destroy what is left with steward secret destroy " + identity + " --version N"
	hist, err := b.secrets.History(ctx, identity)
	if errors.Is(err, store.ErrNotFound) {
		step.OK, step.Detail = true, "the store holds no secret for "+identity
		return step
	}
	if err != nil {
		step.Detail, step.Next = err.Error(), next
		return step
	}
	fail := func(err error) httpapi.KillStep {
		step.Detail, step.Next = err.Error(), next
		return step
	}
	for _, m := range hist {
		if m.Destroyed.IsZero() && m.Deleted.IsZero() {
			if err := b.secrets.Delete(ctx, b.actor, identity, m.Version); err != nil {
				return fail(err)
			}
		}
	}
	n := 0
	for _, m := range hist {
		if !m.Destroyed.IsZero() {
			continue
		}
		if m.State == store.StateActive {
			if err := b.secrets.Retire(ctx, b.actor, identity, m.Version); err != nil {
				return fail(err)
			}
		}
		if err := b.secrets.Destroy(ctx, b.actor, identity, m.Version); err != nil {
			return fail(err)
		}
		n++
	}
	step.OK = true
	step.Detail = fmt.Sprintf("%d version(s) soft-deleted, then destroyed; %s has no secret", n, identity)
	step.Next = "delete or disable the app in Salesforce if the integration is being retired"
	return step
}

// writeKillReport prints the report as JSON, or a summary line and one
// line per step.
func writeKillReport(env Env, format string, rep killReport) {
	if format == "json" {
		if rep.Steps == nil {
			rep.Steps = []httpapi.KillStep{}
		}
		json.NewEncoder(env.Stdout).Encode(rep)
		return
	}
	if rep.Killed {
		fmt.Fprintf(env.Stdout, "killed %s: issuance blocked, %d token(s) revoked at the org\n", rep.Identity, rep.Revoked)
	} else {
		fmt.Fprintf(env.Stdout, "lifted the kill switch of %s: tokens are issued again\n", rep.Identity)
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	for _, s := range rep.Steps {
		result := "ok"
		if !s.OK {
			result = "FAILED"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", s.Step, result, s.Detail)
		if s.Next != "" {
			fmt.Fprintf(tw, "  \tnext:\t%s\n", s.Next)
		}
	}
	tw.Flush()
}
