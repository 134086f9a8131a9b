package cli

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/steward-dev/steward/internal/httpapi"
)

func newElevateCmd(env Env) *cobra.Command {
	af := &apiFlags{}
	cmd := &cobra.Command{
		Use:   "elevate",
		Short: "Break-glass elevation: request, approve, deny, list, revoke and close time-bound extra access",
		Long: `elevate runs break-glass elevation through a running server (steward serve with
elevation.enabled). A person asks for an extra permission set on an Identity's run-as
user, with a reason, an incident or change reference and a duration within the
configured cap (default 4h, never more than 24h). Another person with the approver
role approves it; Steward then assigns the permission set in the org as a
PermissionSetAssignment with an ExpirationDate, and removes it itself when the time
is up, even if the org's own expiry did not. A post-use review then waits to be
closed by an approver who is not the requester. If a person saw the Identity's
secret during the elevation (--secret-seen), the secret must be rotated (NHI-SEC-04).

Refusals (approving your own request, an expired request, a duration over the cap,
an unknown permission set, the org refusing the assignment) exit 2 with the reason;
each is in the audit log. The operator token comes from $` + envOperatorToken + `, never
from a flag.`,
		Example: `  export STEWARD_OPERATOR_TOKEN=$(cat ~/.steward/owner.token)
  steward elevate request billing-sync-prod --permission-set Billing_Breakglass \
    --reason "Repair invoices stuck after the ERP outage" --reference INC-4711 --duration 2h

  # Another person, with the approver role
  steward elevate list --state requested
  steward elevate approve el-3f9a1c07b2d4 --note "Confirmed on the incident bridge"

  # After the elevation ends (at expiry, or revoked early)
  steward elevate revoke el-3f9a1c07b2d4 --note "Done"
  steward elevate close el-3f9a1c07b2d4 --note "Only invoice fixes in the setup audit trail"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	af.register(cmd)
	cmd.AddCommand(newElevateRequestCmd(env, af), newElevateListCmd(env, af),
		newElevateDecisionCmd(env, af, "approve"), newElevateDecisionCmd(env, af, "deny"),
		newElevateDecisionCmd(env, af, "revoke"), newElevateDecisionCmd(env, af, "close"))
	return cmd
}

func newElevateRequestCmd(env Env, af *apiFlags) *cobra.Command {
	var body httpapi.ElevationRequest
	cmd := &cobra.Command{
		Use:   "request IDENTITY",
		Short: "Ask for an extra permission set on an Identity's run-as user for a bounded time",
		Long: `request asks for a break-glass elevation. It needs the admin role or an owner role
for the Identity's team. --duration defaults to the server's elevation.defaultDuration
and may not exceed elevation.maxDuration. The request waits for an approver for
elevation.requestTTL (default 1h), then expires.`,
		Example: `  steward elevate request billing-sync-prod --permission-set Billing_Breakglass \
    --reason "Repair invoices stuck after the ERP outage" --reference INC-4711 --duration 90m`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if body.PermissionSet == "" || body.Reason == "" || body.Reference == "" {
				return usageError(errors.New("--permission-set, --reason and --reference are required"), "see 'steward elevate request --help'")
			}
			if body.Duration != "" {
				if _, err := time.ParseDuration(body.Duration); err != nil {
					return usageError(fmt.Errorf("--duration %q is not a duration", body.Duration), "write it like 90m or 2h")
				}
			}
			c, err := af.client(env)
			if err != nil {
				return err
			}
			var v httpapi.ElevationView
			raw, err := c.do(cmd.Context(), http.MethodPost, "/v1/identities/"+url.PathEscape(args[0])+"/elevations", body, &v)
			if err != nil {
				return elevateError(err)
			}
			if af.format == "json" {
				env.Stdout.Write(raw)
				return nil
			}
			fmt.Fprintf(env.Stdout, "elevation %s requested: %s on %s for %s; it waits for an approver until %s\n",
				v.ID, v.PermissionSet, v.Identity, v.Duration, v.RequestExpiresAt.Format(time.RFC3339))
			fmt.Fprintf(env.Stdout, "next: another person with the approver role runs: steward elevate approve %s\n", v.ID)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&body.PermissionSet, "permission-set", "", "the permission set to assign (API name)")
	f.StringVar(&body.Reason, "reason", "", "why it is needed (a sentence)")
	f.StringVar(&body.Reference, "reference", "", "the incident or change reference, such as INC-4711 or a ticket URL")
	f.StringVar(&body.Duration, "duration", "", "how long, such as 90m or 2h (default: the server's defaultDuration)")
	return cmd
}

func newElevateListCmd(env Env, af *apiFlags) *cobra.Command {
	var identity, state string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List elevations, oldest request first",
		Long: `list shows the elevations the server holds; an owner sees its teams' identities only.
States: requested, approved (approved but not applied: see APPLY ERROR), active,
post_review_due, closed, denied, expired, revoked.`,
		Example: `  steward elevate list
  steward elevate list --state post_review_due -o json
  steward elevate list --identity billing-sync-prod`,
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
			if state != "" {
				q.Set("state", state)
			}
			path := "/v1/elevations"
			if len(q) > 0 {
				path += "?" + q.Encode()
			}
			var out struct {
				Elevations []httpapi.ElevationView `json:"elevations"`
			}
			raw, err := c.do(cmd.Context(), http.MethodGet, path, nil, &out)
			if err != nil {
				return elevateError(err)
			}
			if af.format == "json" {
				env.Stdout.Write(raw)
				return nil
			}
			writeElevations(env.Stdout, out.Elevations)
			return nil
		},
	}
	cmd.Flags().StringVar(&identity, "identity", "", "only this Identity's elevations")
	cmd.Flags().StringVar(&state, "state", "", "only elevations in this state")
	return cmd
}

var decisionHelp = map[string]struct{ short, long, example, done string }{
	"approve": {
		"Approve a pending request: Steward assigns the permission set in the org with an expiry",
		`approve needs the approver role and must come from someone other than the requester,
before the request expires. Steward then creates the PermissionSetAssignment with an
ExpirationDate of now plus the duration. If the org refuses it, the elevation stays
approved but not applied, with the org's error; approve again to retry, or revoke.
--secret-seen records that a person will see the Identity's secret: it must then be
rotated after the elevation (NHI-SEC-04).`,
		`  steward elevate approve el-3f9a1c07b2d4 --note "Confirmed on the incident bridge"`,
		"approved",
	},
	"deny": {
		"Turn a pending request down",
		`deny needs the approver role. The request ends denied; nothing is assigned.`,
		`  steward elevate deny el-3f9a1c07b2d4 --note "Use the invoice repair runbook instead"`,
		"denied",
	},
	"revoke": {
		"Withdraw a request, or end an active elevation now",
		`revoke is for the requester, an approver or an admin. A request not yet applied ends
revoked; an active elevation is removed from the org at once and its post-use review
opens.`,
		`  steward elevate revoke el-3f9a1c07b2d4 --note "Invoices repaired"`,
		"revoked",
	},
	"close": {
		"Close the post-use review of an elevation that has ended",
		`close needs the approver role and someone other than the requester. --note says what
the elevation was used for (check the org's setup audit trail). --secret-seen records
that a person saw the Identity's secret: rotate it (steward secret rotate), or
NHI-SEC-04 reports it.`,
		`  steward elevate close el-3f9a1c07b2d4 --note "Only invoice fixes in the setup audit trail"
  steward elevate close el-3f9a1c07b2d4 --note "Secret was pasted in the bridge chat" --secret-seen`,
		"closed",
	},
}

func newElevateDecisionCmd(env Env, af *apiFlags, action string) *cobra.Command {
	h := decisionHelp[action]
	var body httpapi.ElevationDecision
	cmd := &cobra.Command{
		Use:     action + " ID",
		Short:   h.short,
		Long:    h.long,
		Example: h.example,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if action == "close" && strings.TrimSpace(body.Note) == "" {
				return usageError(errors.New("--note is required"), "say what the elevation was used for")
			}
			c, err := af.client(env)
			if err != nil {
				return err
			}
			var v httpapi.ElevationView
			raw, err := c.do(cmd.Context(), http.MethodPost, "/v1/elevations/"+url.PathEscape(args[0])+"/"+action, body, &v)
			if err != nil {
				return elevateError(err)
			}
			if af.format == "json" {
				env.Stdout.Write(raw)
				return nil
			}
			fmt.Fprintf(env.Stdout, "elevation %s %s: now %s\n", v.ID, h.done, v.State)
			switch v.State {
			case "active":
				fmt.Fprintf(env.Stdout, "%s is assigned to %s's run-as user (assignment %s) until %s; Steward removes it then\n",
					v.PermissionSet, v.Identity, v.AssignmentID, v.ExpiresAt.Format(time.RFC3339))
			case "post_review_due":
				fmt.Fprintf(env.Stdout, "removed from the org; the post-use review is due by %s: steward elevate close %s --note \"…\"\n",
					v.ReviewDueAt.Format(time.RFC3339), v.ID)
			}
			if v.SecretSeen && (v.State == "closed" || v.State == "post_review_due") {
				fmt.Fprintf(env.Stdout, "a person saw the secret: rotate it now with steward secret rotate %s\n", v.Identity)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&body.Note, "note", "", "why (required for close)")
	if action == "approve" || action == "close" {
		cmd.Flags().BoolVar(&body.SecretSeen, "secret-seen", false, "a person saw (or will see) the Identity's secret: rotation required")
	}
	return cmd
}

// elevateError points a refusal's hint at this command's help.
func elevateError(err error) error {
	var ee *exitError
	if errors.As(err, &ee) && strings.Contains(ee.hint, "review --help") {
		ee.hint = "see 'steward elevate --help'"
	}
	return err
}

func writeElevations(w io.Writer, es []httpapi.ElevationView) {
	if len(es) == 0 {
		fmt.Fprintln(w, "no elevations")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tIDENTITY\tPERMISSION SET\tSTATE\tREQUESTER\tAPPROVER\tDURATION\tEXPIRES\tREVIEW DUE\tREFERENCE\tAPPLY ERROR")
	for _, e := range es {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.ID, e.Identity, e.PermissionSet, e.State, e.Requester,
			dash(e.Approver), e.Duration, stamp(e.ExpiresAt), stamp(e.ReviewDueAt), e.Reference, dash(e.ApplyError))
	}
	tw.Flush()
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}
