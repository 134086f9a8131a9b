package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/steward-dev/steward/internal/roster"
	"github.com/steward-dev/steward/internal/snapshot"
	"github.com/steward-dev/steward/internal/store"
)

func newRosterCmd(env Env) *cobra.Command {
	var sf storeFlags
	cmd := &cobra.Command{
		Use:   "roster",
		Short: "Import the team roster from a directory export, and show it",
		Long: `roster keeps the team roster Steward judges ownership with: who belongs to which
team, as owner, backup or member, and whether they are active or have departed. It
adds to the Team manifests: 'steward check --data-dir DIR' joins both and reports an
owning team left with no active member, or whose backup departed (NHI-INV-04).

An import replaces the whole roster, all or nothing: a file with one malformed row is
refused with every problem's line and column, and nothing changes. Each import,
accepted or refused, is recorded in the audit log. See docs/governance.md for the
CSV and JSON formats.`,
		Example: `  # Import this month's HR export, then check ownership with it
  steward roster import hr-export.csv --kek-file ~/.steward-kek
  steward check examples/acme --data-dir ~/.local/share/steward

  # The same from the identity provider's JSON export, piped in
  idp-export --teams | steward roster import - --format json --kek-file ~/.steward-kek

  # Show the imported roster
  steward roster list -o json`,
	}
	sf.register(cmd)
	cmd.AddCommand(newRosterImportCmd(env, &sf), newRosterListCmd(env, &sf))
	return cmd
}

func newRosterImportCmd(env Env, sf *storeFlags) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "import FILE",
		Short: "Replace the team roster with a CSV or JSON directory export (- for stdin)",
		Example: `  steward roster import hr-export.csv --kek-file ~/.steward-kek
  steward roster import teams.json --kek-file ~/.steward-kek
  cat teams.json | steward roster import - --format json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			file := args[0]
			if format == "" {
				format = strings.TrimPrefix(strings.ToLower(filepath.Ext(file)), ".")
			}
			if format != roster.FormatCSV && format != roster.FormatJSON {
				return usageError(fmt.Errorf("cannot tell the format of %s", file), "pass --format csv or --format json")
			}
			var in io.Reader = env.Stdin
			name := "stdin"
			if file != "-" {
				f, err := os.Open(file)
				if err != nil {
					return usageError(fmt.Errorf("read the roster: %w", err), "check the file name")
				}
				defer f.Close()
				in, name = f, file
			}
			ctx := cmd.Context()
			b, err := sf.openBackend(ctx, env)
			if err != nil {
				return err
			}
			defer b.Close()
			r, err := roster.Import(ctx, b.db, b.log, b.actor, name, in, format, env.Now().UTC())
			if err != nil {
				return usageError(err, "fix the rows named above and import the whole file again; the roster was left as it was")
			}
			teams := map[string]bool{}
			departed := 0
			for _, m := range r.Members {
				teams[m.Team] = true
				if m.Status == roster.StatusDeparted {
					departed++
				}
			}
			fmt.Fprintf(env.Stdout, "imported %d members of %d teams from %s (%d departed); run steward check --data-dir to judge ownership\n", len(r.Members), len(teams), name, departed)
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "", "input format: csv or json (default: from the file's extension)")
	return cmd
}

func newRosterListCmd(env Env, sf *storeFlags) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "Print the imported team roster",
		Example: "  steward roster list\n  steward roster list -o json | jq '.members[] | select(.status == \"departed\")'",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "table" && format != "json" {
				return usageError(fmt.Errorf("unknown format %q", format), "use -o table or -o json")
			}
			db, err := sf.openStore(cmd.Context(), env)
			if err != nil {
				return err
			}
			defer db.Close()
			r, err := db.Roster(cmd.Context())
			if err != nil {
				return err
			}
			snap := rosterSnapshot(r)
			if format == "json" {
				enc := json.NewEncoder(env.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(snap)
			}
			if len(r.Members) == 0 {
				fmt.Fprintln(env.Stdout, "no roster imported; import one with steward roster import FILE")
				return nil
			}
			fmt.Fprintf(env.Stdout, "imported from %s at %s\n", r.Source, r.Imported.Format("2006-01-02 15:04:05Z07:00"))
			tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "TEAM\tMEMBER\tROLE\tSTATUS\tSINCE\tEMAIL")
			for _, m := range r.Members {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", m.Team, m.Member, m.Role, m.Status, m.Since, m.Email)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVarP(&format, "format", "o", "table", "table or json")
	return cmd
}

// rosterSnapshot is the stored roster as the snapshot carries it.
func rosterSnapshot(r store.Roster) *snapshot.Roster {
	out := &snapshot.Roster{Source: r.Source, Imported: r.Imported, Members: make([]snapshot.RosterMember, 0, len(r.Members))}
	for _, m := range r.Members {
		out.Members = append(out.Members, snapshot.RosterMember(m))
	}
	return out
}

// addStoreRoster joins the store's imported roster, if it holds one, to
// the snapshot for NHI-INV-04.
func addStoreRoster(ctx context.Context, db store.Store, snap *snapshot.Snapshot) error {
	r, err := db.Roster(ctx)
	if err != nil {
		return fmt.Errorf("read the team roster: %w", err)
	}
	if len(r.Members) > 0 {
		snap.AddRoster(rosterSnapshot(r))
	}
	return nil
}
