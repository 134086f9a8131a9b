package cli

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/steward-dev/steward/internal/broker"
	"github.com/steward-dev/steward/internal/secrets"
	"github.com/steward-dev/steward/internal/store"
)

func newSecretCmd(env Env) *cobra.Command {
	var sf storeFlags
	cmd := &cobra.Command{
		Use:   "secret",
		Short: "Manage the credential bundles in Steward's secret store",
		Long: `secret manages Salesforce credential bundles (My Domain URL, consumer key, consumer
secret, optional private key), one per Identity, in Steward's encrypted store.

The store is write-only from outside: put, rotate and destroy change it; list, show
and history print metadata (versions, ages, who read a secret last, keyed
fingerprints) and never a value. Values come from stdin or a file, never from flags.
Every change and every read is recorded in the tamper-evident audit log.

The database is SQLite under --data-dir, or PostgreSQL when $STEWARD_POSTGRES_DSN is
set. Key-encryption keys come from --kek-file, $STEWARD_KEK_FILE or $STEWARD_KEK.`,
		Example: `  # Generate a key-encryption key once, keep it safe
  (umask 077; echo "k1:$(openssl rand -base64 32)" > ~/.steward-kek)

  # Store a bundle from a file, then look at it
  steward secret put billing-sync-prod --kek-file ~/.steward-kek --file bundle.json
  steward secret show billing-sync-prod --kek-file ~/.steward-kek`,
	}
	sf.register(cmd)
	cmd.AddCommand(
		newSecretPutCmd(env, &sf),
		newSecretListCmd(env, &sf),
		newSecretShowCmd(env, &sf),
		newSecretHistoryCmd(env, &sf),
		newSecretRotateCmd(env, &sf),
		newSecretDestroyCmd(env, &sf),
		newSecretRewrapCmd(env, &sf),
	)
	return cmd
}

// readBundle reads a bundle from the file, or stdin for "" or "-".
func readBundle(env Env, file string) (secrets.Bundle, error) {
	var data []byte
	var err error
	name := file
	if file == "" || file == "-" {
		name = "stdin"
		data, err = io.ReadAll(io.LimitReader(env.Stdin, 1<<20))
	} else {
		data, err = os.ReadFile(file)
	}
	if err != nil {
		return secrets.Bundle{}, usageError(fmt.Errorf("read %s: %w", name, err), "pass --file FILE or pipe the bundle on stdin")
	}
	defer clear(data)
	b, err := secrets.ParseBundle(data, name)
	if err != nil {
		return secrets.Bundle{}, usageError(err, `write the bundle as {"url": "https://<domain>.my.salesforce.com", "consumerKey": "…", "consumerSecret": "…"}`)
	}
	return b, nil
}

// secretError maps store errors to exit codes and hints.
func secretError(err error, identity string) error {
	switch {
	case errors.Is(err, store.ErrConflict):
		return &exitError{code: ExitFindings, err: err, hint: "run steward secret history " + identity + " and retry with --cas set to the latest version"}
	case errors.Is(err, store.ErrNotFound):
		return usageError(err, "run steward secret list to see the stored secrets")
	}
	return err
}

func formatFlag(cmd *cobra.Command, format *string) {
	cmd.Flags().StringVarP(format, "format", "o", "table", "output format: table|json")
}

func checkFormat(format string) error {
	if format != "table" && format != "json" {
		return usageError(fmt.Errorf("unknown output format %q", format), "use -o table or -o json")
	}
	return nil
}

func newSecretPutCmd(env Env, sf *storeFlags) *cobra.Command {
	var file, format string
	var cas int
	var overlap time.Duration
	cmd := &cobra.Command{
		Use:   "put IDENTITY",
		Short: "Store a new version of an identity's credential bundle",
		Long: `put stores the bundle read from --file or stdin as the identity's new active version.
The version it replaces is retired and stays readable for --overlap. With --cas N the
write only succeeds if the latest version is N (0: the secret must not exist yet); a
lost race exits 1. The bundle is a JSON object:

  {"url": "https://acme.my.salesforce.com", "consumerKey": "3MVG9…", "consumerSecret": "…"}

with an optional "privateKey" (PEM).`,
		Example: `  steward secret put billing-sync-prod --file bundle.json
  sf-export-credentials | steward secret put billing-sync-prod --cas 3`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(format); err != nil {
				return err
			}
			bundle, err := readBundle(env, file)
			if err != nil {
				return err
			}
			b, err := sf.openBackend(cmd.Context(), env)
			if err != nil {
				return err
			}
			defer b.Close()
			m, err := b.secrets.Put(cmd.Context(), b.actor, args[0], bundle, cas, overlap)
			if err != nil {
				return secretError(err, args[0])
			}
			return writeMetadata(env, format, []secrets.Metadata{m})
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "read the bundle from this file instead of stdin (- for stdin)")
	cmd.Flags().IntVar(&cas, "cas", secrets.Any, "check-and-set: only write if the latest version is this (0 for a new secret)")
	cmd.Flags().DurationVar(&overlap, "overlap", 24*time.Hour, "how long the replaced version stays readable")
	formatFlag(cmd, &format)
	return cmd
}

func newSecretListCmd(env Env, sf *storeFlags) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List the stored secrets with their active version's metadata",
		Example: `  steward secret list -o json`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(format); err != nil {
				return err
			}
			b, err := sf.openBackend(cmd.Context(), env)
			if err != nil {
				return err
			}
			defer b.Close()
			ms, err := b.secrets.List(cmd.Context())
			if err != nil {
				return err
			}
			return writeMetadata(env, format, ms)
		},
	}
	formatFlag(cmd, &format)
	return cmd
}

func newSecretShowCmd(env Env, sf *storeFlags) *cobra.Command {
	var format string
	var version int
	cmd := &cobra.Command{
		Use:   "show IDENTITY",
		Short: "Show a secret's metadata: never its value",
		Long: `show prints a version's metadata: version, state, when it was created and rotated,
its age, when it was last read and by whom (from the audit log), the key-encryption key
it is wrapped under, and a keyed fingerprint (HMAC-SHA256 under a key held in the store)
that tells versions apart without revealing anything. There is no command that prints
a value.`,
		Example: `  steward secret show billing-sync-prod
  steward secret show billing-sync-prod --version 2 -o json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(format); err != nil {
				return err
			}
			b, err := sf.openBackend(cmd.Context(), env)
			if err != nil {
				return err
			}
			defer b.Close()
			m, err := b.secrets.Show(cmd.Context(), args[0], version)
			if err != nil {
				return secretError(err, args[0])
			}
			return writeMetadata(env, format, []secrets.Metadata{m})
		},
	}
	cmd.Flags().IntVar(&version, "version", 0, "the version to show (default: the active one)")
	formatFlag(cmd, &format)
	return cmd
}

func newSecretHistoryCmd(env Env, sf *storeFlags) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:     "history IDENTITY",
		Short:   "List every version of a secret with its state",
		Example: `  steward secret history billing-sync-prod`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(format); err != nil {
				return err
			}
			b, err := sf.openBackend(cmd.Context(), env)
			if err != nil {
				return err
			}
			defer b.Close()
			ms, err := b.secrets.History(cmd.Context(), args[0])
			if err != nil {
				return secretError(err, args[0])
			}
			return writeMetadata(env, format, ms)
		},
	}
	formatFlag(cmd, &format)
	return cmd
}

func newSecretRotateCmd(env Env, sf *storeFlags) *cobra.Command {
	var file, format, caFile string
	var cas int
	var overlap time.Duration
	var resume, abandon bool
	cmd := &cobra.Command{
		Use:   "rotate IDENTITY",
		Short: "Rotate a secret: stage, prove at the org and promote a new version",
		Long: `rotate runs the rotation state machine on the bundle read from --file or stdin.
The new version is staged, then verified: it must decrypt, and a real
client-credentials exchange with it must succeed at its org (the bundle's url); the
token obtained is revoked at once. Only then is it promoted to active. The old version
is retired but stays readable for --overlap, so tokens minted with it keep working
and the broker can fall back to it while the org catches up; make --overlap at least
the app's session timeout.

Stage the new consumer secret at the org first (Salesforce accepts a staged secret
alongside the current one), rotate, then apply it at the org once rotate succeeds.

Each step is one durable transition. If rotate fails or is interrupted, the old
version is still active: fix the cause and run 'rotate --resume' to continue from the
step it reached, or 'rotate --abandon' to drop the new version.`,
		Example: `  steward secret rotate billing-sync-prod --file new-bundle.json --overlap 2h
  steward secret rotate billing-sync-prod --resume
  steward secret rotate billing-sync-prod --abandon
  # An org behind a private CA (or the local emulator)
  steward secret rotate billing-sync-prod --file new-bundle.json --org-ca-file org-ca.pem`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(format); err != nil {
				return err
			}
			if resume && abandon {
				return usageError(errors.New("--resume and --abandon exclude each other"), "pick one")
			}
			var bundle secrets.Bundle
			if !resume && !abandon {
				var err error
				if bundle, err = readBundle(env, file); err != nil {
					return err
				}
			} else if file != "" {
				return usageError(errors.New("--resume and --abandon take no bundle"), "drop --file, or drop --resume/--abandon to start a new rotation")
			}
			hc, err := orgHTTPClient(caFile)
			if err != nil {
				return err
			}
			b, err := sf.openBackend(cmd.Context(), env)
			if err != nil {
				return err
			}
			defer b.Close()
			id, check := args[0], broker.Prove(hc)
			var m secrets.Metadata
			switch {
			case abandon:
				m, err = b.secrets.Abandon(cmd.Context(), b.actor, id)
			case resume:
				m, err = b.secrets.Resume(cmd.Context(), b.actor, id, check, overlap)
			default:
				m, err = b.secrets.Rotate(cmd.Context(), b.actor, id, bundle, cas, check, overlap)
			}
			if err != nil {
				return rotateError(err, id)
			}
			return writeMetadata(env, format, []secrets.Metadata{m})
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "read the new bundle from this file instead of stdin (- for stdin)")
	cmd.Flags().IntVar(&cas, "cas", secrets.Any, "check-and-set: only stage if the latest version is this")
	cmd.Flags().DurationVar(&overlap, "overlap", 24*time.Hour, "how long the old version stays readable after promotion (at least the session timeout)")
	cmd.Flags().BoolVar(&resume, "resume", false, "finish an interrupted or failed rotation instead of starting one")
	cmd.Flags().BoolVar(&abandon, "abandon", false, "drop the new version of an unfinished rotation; the active one stays")
	cmd.Flags().StringVar(&caFile, "org-ca-file", "", "PEM roots to trust for the org instead of the system's")
	formatFlag(cmd, &format)
	return cmd
}

// rotateError is secretError, with what to do when the org refused the new
// version or could not be reached.
func rotateError(err error, identity string) error {
	if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
		return secretError(err, identity)
	}
	if errors.Is(err, broker.ErrUnproven) {
		return &exitError{code: ExitFindings, err: err, hint: "the old version is still active. Check that the new secret is staged or applied at the org, then run steward secret rotate " +
			identity + " --resume to prove it again, or --abandon to drop it"}
	}
	return err
}

// orgHTTPClient is the HTTP client for the org: nil (the default one) unless
// caFile names PEM roots to trust.
func orgHTTPClient(caFile string) (*http.Client, error) {
	if caFile == "" {
		return nil, nil
	}
	data, err := os.ReadFile(caFile)
	if err != nil {
		return nil, usageError(fmt.Errorf("read the org CA file: %w", err), "check --org-ca-file")
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, usageError(fmt.Errorf("%s holds no PEM certificate", caFile), "check --org-ca-file")
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return &http.Client{Transport: t, Timeout: time.Minute}, nil
}

func newSecretDestroyCmd(env Env, sf *storeFlags) *cobra.Command {
	var version int
	var soft, restore bool
	cmd := &cobra.Command{
		Use:   "destroy IDENTITY --version N",
		Short: "Destroy a version for good, or soft-delete and restore it",
		Long: `destroy erases a version's ciphertext and data key; nothing can bring it back, and
its fingerprints no longer match. The active version cannot be destroyed: put or rotate
a new one first. --soft only marks the version deleted, so it cannot be read, and
--restore undoes that.`,
		Example: `  steward secret destroy billing-sync-prod --version 1
  steward secret destroy billing-sync-prod --version 3 --soft
  steward secret destroy billing-sync-prod --version 3 --restore`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if version < 1 {
				return usageError(errors.New("--version is required"), "run steward secret history "+args[0]+" to pick one")
			}
			if soft && restore {
				return usageError(errors.New("--soft and --restore exclude each other"), "pick one")
			}
			b, err := sf.openBackend(cmd.Context(), env)
			if err != nil {
				return err
			}
			defer b.Close()
			ctx, id := cmd.Context(), args[0]
			verb := "destroyed"
			switch {
			case soft:
				err, verb = b.secrets.Delete(ctx, b.actor, id, version), "deleted"
			case restore:
				err, verb = b.secrets.Restore(ctx, b.actor, id, version), "restored"
			default:
				err = b.secrets.Destroy(ctx, b.actor, id, version)
			}
			if err != nil {
				return secretError(err, id)
			}
			fmt.Fprintf(env.Stdout, "%s version %d %s\n", id, version, verb)
			return nil
		},
	}
	cmd.Flags().IntVar(&version, "version", 0, "the version (required)")
	cmd.Flags().BoolVar(&soft, "soft", false, "only mark the version deleted (recoverable with --restore)")
	cmd.Flags().BoolVar(&restore, "restore", false, "restore a soft-deleted version")
	return cmd
}

func newSecretRewrapCmd(env Env, sf *storeFlags) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "rewrap",
		Short: "Rewrap every data key under the current key-encryption key",
		Long: `rewrap moves every version's data key, and the store's own keys, to the current
key-encryption key (the first in the keyring). Ciphertext is not touched. To rotate the
KEK: put the new key first in the keyring and keep the old one after it, run rewrap,
then remove the old key. rewrap is safe to run again.`,
		Example: `  # ~/.steward-kek holds "k2:…" then "k1:…"
  steward secret rewrap --kek-file ~/.steward-kek`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(format); err != nil {
				return err
			}
			b, err := sf.openBackend(cmd.Context(), env)
			if err != nil {
				return err
			}
			defer b.Close()
			res, err := b.secrets.Rewrap(cmd.Context(), b.actor)
			if err != nil {
				return keyError(err)
			}
			if format == "json" {
				return json.NewEncoder(env.Stdout).Encode(res)
			}
			fmt.Fprintf(env.Stdout, "rewrapped %d versions and %d store keys\n", res.Versions, res.SystemKeys)
			return nil
		},
	}
	formatFlag(cmd, &format)
	return cmd
}

// writeMetadata prints metadata as a table or JSON.
func writeMetadata(env Env, format string, ms []secrets.Metadata) error {
	if format == "json" {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		if ms == nil {
			ms = []secrets.Metadata{}
		}
		return enc.Encode(ms)
	}
	if len(ms) == 0 {
		fmt.Fprintln(env.Stdout, "no secrets stored; add one with steward secret put IDENTITY --file bundle.json")
		return nil
	}
	now := env.Now()
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "IDENTITY\tVERSION\tSTATE\tCREATED\tROTATED\tAGE\tLAST READ\tBY\tKEK\tFINGERPRINT")
	for _, m := range ms {
		state := m.State
		switch {
		case !m.Destroyed.IsZero():
			state += " (destroyed)"
		case !m.Deleted.IsZero():
			state += " (deleted)"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", m.Identity, m.Version, state, day(m.Created), day(m.Rotated),
			age(now.Sub(m.Rotated)), day(m.LastRead), dash(m.LastReadBy), dash(m.KEKID), dash(m.Fingerprint))
	}
	return tw.Flush()
}

func day(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04")
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// age renders a duration in days, or hours and minutes under a day.
func age(d time.Duration) string {
	switch {
	case d < 0:
		return "-"
	case d >= 24*time.Hour:
		return strconv.Itoa(int(d/(24*time.Hour))) + "d"
	case d >= time.Hour:
		return strconv.Itoa(int(d/time.Hour)) + "h"
	}
	return strconv.Itoa(int(d/time.Minute)) + "m"
}
