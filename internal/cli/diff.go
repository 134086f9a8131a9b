package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"unicode"

	"github.com/spf13/cobra"

	"github.com/steward-dev/steward/internal/snapshot"
)

// diffFormats are the output formats of steward diff.
var diffFormats = []string{"table", "json", "markdown"}

func newDiffCmd(env Env) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "diff OLD NEW",
		Short: "Show what changed between two snapshots, and fail when access expanded",
		Long: `diff compares two snapshot files, as written by 'steward check --dump-snapshot', and
lists what was added, removed, widened, narrowed or changed in apps, run-as users and
identities: scopes, OAuth flows, IP relaxation and ranges, run-as users, refresh-token
and session policies, admin pre-approval, consumer keys, profiles, permission sets,
user permissions and object access (viewAll and modifyAll included). Login activity
is not compared.

A change is an expansion when something was added or widened, or changed in a way
with no known direction (a new run-as user, profile or consumer key): each needs a
review (NHI-REV-02).

Exit codes: 0 no expansion (nothing changed, or access only narrowed or was removed);
1 at least one expansion; 2 usage error or an unreadable snapshot (the message names
the file and line).`,
		Example: `  # Keep an approved baseline and compare today's state with it in CI
  steward check . --dump-snapshot > baseline.json
  steward check . --dump-snapshot > current.json
  steward diff baseline.json current.json

  # Machine-readable, or a Markdown table for a pull-request comment
  steward diff baseline.json current.json -o json
  steward diff baseline.json current.json -o markdown > drift.md`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !slices.Contains(diffFormats, format) {
				return usageError(fmt.Errorf("unknown output format %q", format), "use -o "+strings.Join(diffFormats, ", -o "))
			}
			old, err := readSnapshot(args[0])
			if err != nil {
				return err
			}
			cur, err := readSnapshot(args[1])
			if err != nil {
				return err
			}
			changes := snapshot.Diff(old, cur)
			if err := writeChanges(env.Stdout, format, changes); err != nil {
				return err
			}
			if len(snapshot.Expansions(changes)) > 0 {
				return silentExit(ExitFindings)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&format, "format", "o", "table", "output format: "+strings.Join(diffFormats, "|"))
	return cmd
}

// readSnapshot reads a snapshot file; errors name the file.
func readSnapshot(path string) (*snapshot.Snapshot, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, usageError(err, "give two snapshot files written by steward check --dump-snapshot")
	}
	defer f.Close()
	s, err := snapshot.Decode(f)
	if err != nil {
		return nil, usageError(fmt.Errorf("%s: %w", path, err), "give two snapshot files written by steward check --dump-snapshot")
	}
	return s, nil
}

// diffReport is the JSON form of steward diff.
type diffReport struct {
	Changes []snapshot.Change `json:"changes"`
	// Summary counts the changes by kind; Expansions counts those that
	// expand access (and make the command exit 1).
	Summary    map[string]int `json:"summary"`
	Expansions int            `json:"expansions"`
}

func writeChanges(w io.Writer, format string, changes []snapshot.Change) error {
	summary := map[string]int{}
	for _, k := range []string{snapshot.ChangeAdded, snapshot.ChangeRemoved, snapshot.ChangeWidened, snapshot.ChangeNarrowed, snapshot.ChangeChanged} {
		summary[k] = 0
	}
	for _, c := range changes {
		summary[c.Kind]++
	}
	expansions := len(snapshot.Expansions(changes))
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(diffReport{Changes: changes, Summary: summary, Expansions: expansions})
	case "markdown":
		var b strings.Builder
		b.WriteString("# Snapshot diff\n\n")
		if len(changes) == 0 {
			b.WriteString("No changes.\n")
		} else {
			b.WriteString("| Change | Resource | Subject | Field | Before | After |\n|---|---|---|---|---|---|\n")
			for _, c := range changes {
				fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", mdText(c.Kind), mdText(c.Resource), mdText(c.Subject), mdText(c.Field), mdText(c.Before), mdText(c.After))
			}
			fmt.Fprintf(&b, "\n%s\n", summaryLine(changes, summary, expansions))
		}
		_, err := io.WriteString(w, b.String())
		return err
	}
	if len(changes) == 0 {
		_, err := fmt.Fprintln(w, "No changes.")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CHANGE\tRESOURCE\tSUBJECT\tFIELD\tBEFORE\tAFTER")
	for _, c := range changes {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c.Kind, c.Resource, plain(c.Subject), orDash(plain(c.Field)), orDash(plain(c.Before)), orDash(plain(c.After)))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\n%s\n", summaryLine(changes, summary, expansions))
	return err
}

// summaryLine counts the changes by kind, in a fixed order.
func summaryLine(changes []snapshot.Change, summary map[string]int, expansions int) string {
	var parts []string
	for _, k := range []string{snapshot.ChangeAdded, snapshot.ChangeWidened, snapshot.ChangeChanged, snapshot.ChangeNarrowed, snapshot.ChangeRemoved} {
		if summary[k] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", summary[k], k))
		}
	}
	return fmt.Sprintf("%d changes (%s); %d expand access and need a review.", len(changes), strings.Join(parts, ", "), expansions)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// plain makes a value from a snapshot file safe for a terminal table: tabs
// and line breaks become spaces, other control characters a replacement
// character.
func plain(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			return ' '
		case unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r):
			return unicode.ReplacementChar
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
}

// mdText makes a value safe for a Markdown table cell.
func mdText(s string) string {
	return strings.NewReplacer(`\`, `\\`, "|", `\|`, "<", "&lt;", ">", "&gt;").Replace(plain(s))
}
