package cli

import (
	"bufio"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/steward-dev/steward/internal/audit"
	"github.com/steward-dev/steward/internal/secrets"
	"github.com/steward-dev/steward/internal/store"
)

func newAuditCmd(env Env) *cobra.Command {
	var sf storeFlags
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Verify, read and export the tamper-evident audit log",
		Long: `audit works on Steward's audit log: a SHA-256 hash chain of records (each record's
hash covers the previous one's) with Ed25519-signed checkpoints every N records or T
seconds. verify recomputes the chain and names the first bad record; export writes the
log, or only its checkpoints, as JSON lines to keep somewhere else; tail prints the
latest records. None of these needs the key-encryption key.`,
		Example: `  # Keep the checkpoints elsewhere, later prove the log was not truncated
  steward audit export --checkpoints-only > /safe/place/checkpoints.jsonl
  steward audit verify --checkpoints /safe/place/checkpoints.jsonl`,
	}
	sf.register(cmd)
	cmd.AddCommand(newAuditVerifyCmd(env, &sf), newAuditTailCmd(env, &sf), newAuditExportCmd(env, &sf))
	return cmd
}

// readExport parses an export file.
func readExport(path string) (*audit.Exported, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, usageError(fmt.Errorf("open %w", err), "pass a file written by steward audit export")
	}
	defer f.Close()
	exp, err := audit.ParseExport(f, path)
	if err != nil {
		return nil, usageError(err, "pass a file written by steward audit export")
	}
	return exp, nil
}

type verifyOutput struct {
	OK             bool   `json:"ok"`
	Records        int64  `json:"records"`
	Bytes          int64  `json:"bytes"`
	Head           int64  `json:"head"`
	Checkpoints    int    `json:"checkpoints"`
	Exported       int    `json:"exportedCheckpoints"`
	LastCheckpoint int64  `json:"lastCheckpoint"`
	Uncheckpointed int64  `json:"uncheckpointed"`
	FirstBad       int64  `json:"firstBad,omitempty"`
	Problem        string `json:"problem,omitempty"`
	PublicKeyID    string `json:"publicKeyId"`
}

func newAuditVerifyCmd(env Env, sf *storeFlags) *cobra.Command {
	var cpFile, file, format string
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Verify the audit chain and its checkpoints",
		Long: `verify recomputes the hash chain from the first record, checks every checkpoint's
Ed25519 signature and that it signs the chain's hash at its sequence number. An edited,
deleted or reordered record, or a rewritten stretch, is reported with the first
sequence number that cannot be trusted, and verify exits 1.

With --checkpoints FILE (an export kept elsewhere) its checkpoints and public key are
trusted too: a log that ends before the last exported checkpoint was truncated. With
--file EXPORT an exported log is verified instead of the database.`,
		Example: `  steward audit verify
  steward audit verify --checkpoints /safe/place/checkpoints.jsonl -o json
  steward audit verify --file audit-2026-11.jsonl`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(format); err != nil {
				return err
			}
			ctx := cmd.Context()
			var trusted *audit.Exported
			if cpFile != "" {
				var err error
				if trusted, err = readExport(cpFile); err != nil {
					return err
				}
			}
			var src audit.Source
			var pub ed25519.PublicKey
			if file != "" {
				exp, err := readExport(file)
				if err != nil {
					return err
				}
				src, pub = exp, exp.PublicKey
			} else {
				db, err := sf.openStore(ctx, env)
				if err != nil {
					return err
				}
				defer db.Close()
				src = db
				pub, err = secrets.PublicSigningKey(ctx, db)
				if errors.Is(err, store.ErrNotFound) {
					pub = nil // an empty log
				} else if err != nil {
					return err
				}
			}
			var cps []store.Checkpoint
			if trusted != nil {
				if pub != nil && !pub.Equal(trusted.PublicKey) {
					return &exitError{code: ExitFindings, err: fmt.Errorf("the log's checkpoint key %s is not the exported one %s: the signing key was replaced", audit.KeyID(pub), audit.KeyID(trusted.PublicKey))}
				}
				pub, cps = trusted.PublicKey, trusted.Cps
			}
			if pub == nil {
				pub = make(ed25519.PublicKey, ed25519.PublicKeySize)
			}
			rep, err := audit.Verify(ctx, src, pub, cps)
			if err != nil {
				return err
			}
			out := verifyOutput{OK: rep.OK(), Records: rep.Records, Bytes: rep.Bytes, Head: rep.Head, Checkpoints: rep.Checkpoints, Exported: rep.Trusted,
				LastCheckpoint: rep.LastCheckpoint, Uncheckpointed: rep.Head - rep.LastCheckpoint, FirstBad: rep.FirstBad, Problem: rep.Problem, PublicKeyID: audit.KeyID(pub)}
			if format == "json" {
				if err := json.NewEncoder(env.Stdout).Encode(out); err != nil {
					return err
				}
			} else if rep.OK() {
				fmt.Fprintf(env.Stdout, "ok: %d records (%d bytes), head %d; %d checkpoints verified (%d exported), last at %d, signed by key %s\n",
					rep.Records, rep.Bytes, rep.Head, rep.Checkpoints, rep.Trusted, rep.LastCheckpoint, audit.KeyID(pub))
			}
			if !rep.OK() {
				return &exitError{code: ExitFindings, err: fmt.Errorf("audit log tampered: first bad record %d: %s", rep.FirstBad, rep.Problem),
					hint: "keep the database as it is for investigation; compare with an earlier export (steward audit verify --file)"}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&cpFile, "checkpoints", "", "an export kept elsewhere whose checkpoints and public key are trusted")
	cmd.Flags().StringVar(&file, "file", "", "verify this exported log instead of the database")
	formatFlag(cmd, &format)
	return cmd
}

func newAuditTailCmd(env Env, sf *storeFlags) *cobra.Command {
	var n int
	var format string
	cmd := &cobra.Command{
		Use:     "tail",
		Short:   "Print the latest audit records",
		Example: `  steward audit tail -n 50 -o json`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(format); err != nil {
				return err
			}
			db, err := sf.openStore(cmd.Context(), env)
			if err != nil {
				return err
			}
			defer db.Close()
			recs, err := audit.Tail(cmd.Context(), db, n)
			if err != nil {
				return err
			}
			if format == "json" {
				enc := json.NewEncoder(env.Stdout)
				for _, r := range recs {
					if err := enc.Encode(struct {
						Seq  int64  `json:"seq"`
						Hash string `json:"hash"`
						audit.Event
					}{r.Seq, hex.EncodeToString(r.Hash), r.Event}); err != nil {
						return err
					}
				}
				return nil
			}
			tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SEQ\tTIME\tACTOR\tACTION\tRESOURCE\tOUTCOME\tDETAILS")
			for _, r := range recs {
				d, _ := json.Marshal(r.Details)
				if r.Details == nil {
					d = []byte("-")
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Seq, r.Time.UTC().Format(time.RFC3339), r.Actor, r.Action, r.Resource, r.Outcome, d)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().IntVarP(&n, "lines", "n", 20, "how many records")
	formatFlag(cmd, &format)
	return cmd
}

func newAuditExportCmd(env Env, sf *storeFlags) *cobra.Command {
	var cpOnly bool
	var output string
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Export the audit log or its checkpoints as JSON lines",
		Long: `export writes a header with the checkpoint public key, every record as
{"type":"record","seq":…,"hash":…,"event":{…}} and every signed checkpoint. Keep a
--checkpoints-only export where the database's administrators cannot write, so that
'steward audit verify --checkpoints' detects a truncated tail.`,
		Example: `  steward audit export > audit.jsonl
  steward audit export --checkpoints-only --output /safe/place/checkpoints.jsonl`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			db, err := sf.openStore(ctx, env)
			if err != nil {
				return err
			}
			defer db.Close()
			pub, err := secrets.PublicSigningKey(ctx, db)
			if err != nil {
				return usageError(err, "the log is empty: nothing has been recorded yet")
			}
			w := bufio.NewWriter(env.Stdout)
			if output != "" {
				f, err := os.OpenFile(output, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
				if err != nil {
					return usageError(fmt.Errorf("create %w", err), "check --output")
				}
				defer f.Close()
				w = bufio.NewWriter(f)
			}
			if err := audit.Export(ctx, db, pub, w, cpOnly); err != nil {
				return err
			}
			return w.Flush()
		},
	}
	cmd.Flags().BoolVar(&cpOnly, "checkpoints-only", false, "export only the header and the signed checkpoints")
	cmd.Flags().StringVar(&output, "output", "", "write to this file instead of stdout")
	return cmd
}
