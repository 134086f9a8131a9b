package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/steward-dev/steward/internal/decommission"
	"github.com/steward-dev/steward/internal/httpapi"
	"github.com/steward-dev/steward/internal/inventory"
	"github.com/steward-dev/steward/internal/salesforce"
	"github.com/steward-dev/steward/internal/server"
	"github.com/steward-dev/steward/internal/store"
)

// decommissionOptions are the flags of steward decommission.
type decommissionOptions struct {
	inventory  []string
	url        string
	apiVersion string
	orgCAFile  string
	format     string
	status     bool
	kill       killOptions
}

func newDecommissionCmd(env Env) *cobra.Command {
	var sf storeFlags
	var o decommissionOptions
	cmd := &cobra.Command{
		Use:   "decommission IDENTITY",
		Short: "Retire an Identity for good: block issuance, revoke tokens, freeze the run-as user, destroy the secret",
		Long: `decommission runs the decommissioning checklist of NHI-INV-06 for one Identity and
reports each step's result:

  1. block-issuance       the Identity's kill switch goes on. With --broker (or
                          $` + envBrokerURL + `) through the running broker's admin API, which
                          also revokes the tokens it handed out; without, the switch is
                          set in the store, where every broker on it applies it within
                          a second (or at start).
  2. revoke-tokens        every OAuth token grant the org holds for the Identity's app
                          is revoked.
  3. freeze-user          the run-as user is frozen (UserLogin.IsFrozen), so the app can
                          no longer obtain a token; the user is kept, with its history.
  4. destroy-secret       every version of the Identity's secret is soft-deleted, then
                          destroyed for good.
  5. mark-decommissioned  the Identity is recorded as decommissioned.

It works where 'steward secret' does: on the store (--data-dir or
$STEWARD_POSTGRES_DSN, with --kek-file) and against the org directly, signed in as
Steward's own admin app ($` + envClientID + ` and $` + envClientSecret + `, an app
whose run-as user may freeze users and see all OAuth tokens). The Identity's manifest,
found under --inventory, names its org, app, run-as user and secret.

Every step's evidence goes to the audit log and the store. Each step can be repeated
safely: run the command again after a failure and it resumes at the failed step,
reporting the earlier ones as done. --status prints the recorded progress without
changing anything. Exit codes: 0 every step done, 1 a step failed (the message says
what to do next), 2 usage error.`,
		Example: `  # Retire an integration; the org credentials are Steward's own admin app
  export STEWARD_SF_CLIENT_ID=... STEWARD_SF_CLIENT_SECRET=...
  steward decommission billing-sync-prod --inventory inventory/ --kek-file /etc/steward/kek

  # With a broker running: block issuance through its admin API
  export STEWARD_ADMIN_TOKEN=$(cat /etc/steward/admin.token)
  steward decommission billing-sync-prod --inventory inventory/ \
    --broker https://steward.acme.internal --ca-file ca.pem --kek-file /etc/steward/kek

  # The org was unreachable at step 2: run it again once it is, then check
  steward decommission billing-sync-prod --inventory inventory/ --kek-file /etc/steward/kek
  steward decommission billing-sync-prod --status -o json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDecommission(cmd.Context(), env, &sf, o, args[0])
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&o.inventory, "inventory", nil, "directory of inventory manifests holding the Identity (repeatable; default: the current directory)")
	f.StringVar(&o.url, "url", "", "the org's My Domain URL (default: the Identity's spec.salesforce.url)")
	f.StringVar(&o.apiVersion, "api-version", salesforce.DefaultAPIVersion, "Salesforce API version")
	f.StringVar(&o.orgCAFile, "org-ca-file", "", "PEM roots to trust for the org instead of the system's")
	f.BoolVar(&o.status, "status", false, "print the recorded progress and change nothing")
	f.StringVarP(&o.format, "format", "o", "table", "table or json")
	f.StringVar(&o.kill.broker, "broker", "", "the broker's URL; without it (and without $"+envBrokerURL+") the kill switch is set in the store")
	f.StringVar(&o.kill.caFile, "ca-file", "", "PEM certificate(s) to trust for the broker")
	f.BoolVar(&o.kill.insecure, "insecure", false, "do not verify the broker's certificate (development certificates only)")
	f.StringVar(&o.kill.tokenFile, "token-file", "", "file holding the broker's admin token (default $"+server.EnvAdminToken+")")
	sf.register(cmd)
	return cmd
}

func runDecommission(ctx context.Context, env Env, sf *storeFlags, o decommissionOptions, name string) error {
	if o.format != "table" && o.format != "json" {
		return usageError(fmt.Errorf("unknown format %q", o.format), "use -o table or -o json")
	}
	b, err := sf.openBackend(ctx, env)
	if err != nil {
		return err
	}
	defer b.Close()
	runner := &decommission.Runner{Store: b.db, Audit: b.log, Actor: b.actor, Now: env.Now}
	if o.status {
		rep, err := runner.Status(ctx, name, decommission.Steps)
		if err != nil {
			return err
		}
		return writeDecommission(env, o.format, rep)
	}
	id, err := findIdentity(o.inventory, name)
	if err != nil {
		return err
	}
	steps, err := decommissionSteps(ctx, env, b, o, id)
	if err != nil {
		return err
	}
	rep, err := runner.Run(ctx, name, steps)
	if err != nil {
		return err
	}
	if err := writeDecommission(env, o.format, rep); err != nil {
		return err
	}
	if f := rep.Failed(); f != nil {
		return &exitError{code: ExitFindings, err: fmt.Errorf("step %s of decommissioning %s failed; the steps before it stay done", f.Step, name),
			hint: f.Next + "; then run steward decommission " + name + " again to resume"}
	}
	return nil
}

// findIdentity loads the manifests and returns the named Identity.
func findIdentity(dirs []string, name string) (*inventory.Identity, error) {
	if len(dirs) == 0 {
		dirs = []string{"."}
	}
	inv, err := inventory.Load(dirs, inventory.Options{})
	if err != nil {
		return nil, usageError(fmt.Errorf("load the inventory: %w", err), "fix the manifests named above, or point --inventory at the directory holding "+name)
	}
	for _, id := range inv.Identities {
		if id.Metadata.Name == name {
			return id, nil
		}
	}
	return nil, usageError(fmt.Errorf("no Identity named %s under %s", name, strings.Join(dirs, ", ")), "point --inventory at the directory holding its manifest")
}

// decommissionSteps builds the checklist for one Identity. Everything a
// step needs is read first, so that missing flags or credentials stop the
// command before anything changes.
func decommissionSteps(ctx context.Context, env Env, b *backend, o decommissionOptions, id *inventory.Identity) ([]decommission.Step, error) {
	name := id.Metadata.Name
	sfb := id.Spec.Salesforce
	block, err := blockStep(env, b, o.kill, name)
	if err != nil {
		return nil, err
	}
	orgURL := o.url
	if orgURL == "" {
		orgURL = sfb.URL
	}
	var org *salesforce.Client
	needsOrg := func() error {
		if org != nil {
			return nil
		}
		if orgURL == "" {
			return usageError(fmt.Errorf("identity %s names no org (spec.salesforce.url)", name), "pass --url https://<domain>.my.salesforce.com")
		}
		cid, secret := env.Getenv(envClientID), env.Getenv(envClientSecret)
		if cid == "" || secret == "" {
			return usageError(fmt.Errorf("%s and %s must be set", envClientID, envClientSecret),
				"export the consumer key and secret of Steward's admin app in the org (its run-as user must be allowed to freeze users and see all OAuth tokens)")
		}
		hc, err := orgHTTPClient(o.orgCAFile)
		if err != nil {
			return err
		}
		org, err = salesforce.New(salesforce.Config{URL: orgURL, ClientID: cid, ClientSecret: secret, APIVersion: o.apiVersion, HTTPClient: hc})
		if err != nil {
			return usageError(err, "check --url and --api-version")
		}
		return nil
	}
	recorded, err := b.db.DecommissionSteps(ctx, name)
	if err != nil {
		return nil, err
	}
	pending := func(step string) bool {
		return !slices.ContainsFunc(recorded, func(s store.DecommissionStep) bool { return s.Step == step && s.Status == decommission.StatusDone })
	}
	if (pending(decommission.StepRevoke) && sfb.App != "") || (pending(decommission.StepFreeze) && sfb.RunAs != "") {
		if err := needsOrg(); err != nil {
			return nil, err
		}
	}
	orgNext := "check that the org at " + orgURL + " is reachable and that Steward's admin app may sign in"
	return []decommission.Step{
		block,
		{Name: decommission.StepRevoke, Next: orgNext, Do: func(ctx context.Context) (decommission.Evidence, error) {
			if sfb.App == "" {
				return decommission.Evidence{Detail: "the Identity names no app: no token to revoke"}, nil
			}
			n, err := org.RevokeAppTokens(ctx, sfb.App)
			if err != nil {
				if n > 0 {
					err = fmt.Errorf("%w (the %d revoked before the error stay revoked)", err, n)
				}
				return decommission.Evidence{}, fmt.Errorf("%s at %s: %w", sfb.App, orgURL, err)
			}
			return decommission.Evidence{
				Detail: fmt.Sprintf("%d OAuth token grant(s) of app %s revoked at the org", n, sfb.App),
				Facts:  map[string]string{"app": sfb.App, "revoked": strconv.Itoa(n), "org": orgURL},
			}, nil
		}},
		{Name: decommission.StepFreeze, Next: orgNext + ", and that its run-as user may freeze users", Do: func(ctx context.Context) (decommission.Evidence, error) {
			return freezeRunAs(ctx, org, sfb.RunAs)
		}},
		{Name: decommission.StepDestroy, Next: "run steward secret history " + name + " and destroy what is left with steward secret destroy " + name + " --version N",
			Do: func(ctx context.Context) (decommission.Evidence, error) {
				return destroySecrets(ctx, b, id)
			}},
		{Name: decommission.StepMark, Next: "check the store", Do: func(context.Context) (decommission.Evidence, error) {
			return decommission.Evidence{
				Detail: fmt.Sprintf("%s is decommissioned; set spec.lifecycle: retired in its manifest and delete or disable app %s in the org", name, orgOr(sfb.App)),
				Facts:  map[string]string{"lifecycle": id.Spec.Lifecycle},
			}, nil
		}},
	}, nil
}

func orgOr(app string) string {
	if app == "" {
		return "(none named)"
	}
	return app
}

// blockStep turns the Identity's kill switch on: through the broker's
// admin API when one is named, else in the store the brokers read.
func blockStep(env Env, b *backend, ko killOptions, name string) (decommission.Step, error) {
	step := decommission.Step{Name: decommission.StepBlock}
	if ko.broker == "" && env.Getenv(envBrokerURL) == "" {
		kills := server.StoreKills{DB: b.db}
		step.Next = "check the store, or pass --broker to block issuance through the running broker"
		step.Do = func(ctx context.Context) (decommission.Evidence, error) {
			if err := kills.SetKilled(ctx, name, true); err != nil {
				return decommission.Evidence{}, fmt.Errorf("set the kill switch in the store: %w", err)
			}
			return decommission.Evidence{
				Detail: "kill switch set in the store: every broker on it denies " + name + "'s tokens within " + httpapi.DefaultKillSync.String() + " (at start for one not running)",
				Facts:  map[string]string{"via": "store"},
			}, nil
		}
		return step, nil
	}
	hc, token, endpoint, err := brokerRequest(env, ko, name)
	if err != nil {
		return step, err
	}
	step.Next = "check that the broker is running and reachable (--broker, --ca-file) and that the token is an admin's"
	step.Do = func(ctx context.Context) (decommission.Evidence, error) {
		rep, err := callKill(ctx, hc, token, endpoint, false)
		if err != nil {
			return decommission.Evidence{}, err
		}
		if !rep.Killed {
			return decommission.Evidence{}, errors.New("the broker did not turn the kill switch on")
		}
		for _, s := range rep.Steps {
			if !s.OK {
				return decommission.Evidence{}, fmt.Errorf("broker step %s: %s (%s)", s.Step, s.Detail, s.Next)
			}
		}
		if rep.Warning != "" {
			return decommission.Evidence{}, fmt.Errorf("broker: %s", rep.Warning)
		}
		return decommission.Evidence{
			Detail: fmt.Sprintf("kill switch on in the broker; %d token(s) it handed out revoked at the org", rep.Revoked),
			Facts:  map[string]string{"via": "broker", "brokerRevoked": strconv.Itoa(rep.Revoked)},
		}, nil
	}
	return step, nil
}

// freezeRunAs freezes the run-as user unless it is frozen already.
func freezeRunAs(ctx context.Context, org *salesforce.Client, username string) (decommission.Evidence, error) {
	if username == "" {
		return decommission.Evidence{Detail: "the Identity names no run-as user: nothing to freeze"}, nil
	}
	u, err := org.UserByUsername(ctx, username)
	if errors.Is(err, salesforce.ErrNoUser) {
		return decommission.Evidence{Detail: "no user " + username + " in the org: nothing to freeze", Facts: map[string]string{"runAs": username}}, nil
	}
	if err != nil {
		return decommission.Evidence{}, err
	}
	login, err := org.UserLoginOf(ctx, u.ID)
	if err != nil {
		return decommission.Evidence{}, err
	}
	facts := map[string]string{"runAs": username, "userId": u.ID, "userLoginId": login.ID, "userActive": strconv.FormatBool(u.IsActive)}
	if login.IsFrozen {
		return decommission.Evidence{Detail: "run-as user " + username + " was already frozen", Facts: facts}, nil
	}
	if err := org.SetFrozen(ctx, login.ID, true); err != nil {
		return decommission.Evidence{}, err
	}
	after, err := org.UserLoginOf(ctx, u.ID)
	if err != nil {
		return decommission.Evidence{}, fmt.Errorf("read back the frozen state: %w", err)
	}
	if !after.IsFrozen {
		return decommission.Evidence{}, fmt.Errorf("the org accepted the update but %s reads as not frozen", username)
	}
	return decommission.Evidence{Detail: "run-as user " + username + " frozen: its app can no longer obtain a token", Facts: facts}, nil
}

// destroySecrets destroys every version of the Identity's secret: the one
// named like the Identity (the broker's) and its credential.secret.
func destroySecrets(ctx context.Context, b *backend, id *inventory.Identity) (decommission.Evidence, error) {
	names := []string{id.Metadata.Name}
	if ref := id.Spec.Credential.SecretRef(); ref != "" && ref != id.Metadata.Name {
		names = append(names, ref)
	}
	var details []string
	for _, n := range names {
		s := killDestroy(ctx, b, n)
		if !s.OK {
			return decommission.Evidence{}, fmt.Errorf("secret %s: %s", n, s.Detail)
		}
		details = append(details, s.Detail)
	}
	return decommission.Evidence{Detail: strings.Join(details, "; "), Facts: map[string]string{"secrets": strings.Join(names, ",")}}, nil
}

// writeDecommission prints the report as JSON or as a step table.
func writeDecommission(env Env, format string, rep decommission.Report) error {
	if format == "json" {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STEP\tSTATUS\tAT\tDETAIL")
	for _, s := range rep.Steps {
		status := s.Status
		if s.Earlier {
			status += " (earlier)"
		}
		at := ""
		if !s.At.IsZero() {
			at = s.At.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.Step, status, at, s.Detail)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if rep.Complete {
		fmt.Fprintf(env.Stdout, "%s is decommissioned.\n", rep.Identity)
	} else if f := rep.Failed(); f != nil {
		fmt.Fprintf(env.Stdout, "next: %s\n", f.Next)
	}
	return nil
}
