// Package cli is Steward's command tree: flags, output formats and exit
// codes. It holds no business logic; each command calls the library
// packages and renders their results.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/steward-dev/steward/internal/report"
)

// Exit codes, per the CLI contract.
const (
	ExitOK       = 0 // success, no finding at or above --fail-on
	ExitFindings = 1 // findings at or above --fail-on, or failed policy tests
	ExitUsage    = 2 // usage error or unreadable/invalid input
)

// Env is what a command may touch of the outside world.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
	Now    func() time.Time
	// IsTerminal reports whether w is an interactive terminal.
	IsTerminal func(w io.Writer) bool
}

// DefaultEnv is the process's environment.
func DefaultEnv() Env {
	return Env{
		Stdin:      os.Stdin,
		Stdout:     os.Stdout,
		Stderr:     os.Stderr,
		Getenv:     os.Getenv,
		Now:        time.Now,
		IsTerminal: report.IsTerminal,
	}
}

// exitError carries an exit code and, optionally, a hint on what to do next.
type exitError struct {
	code int
	err  error
	hint string
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageError is an error that exits with code 2.
func usageError(err error, hint string) error {
	return &exitError{code: ExitUsage, err: err, hint: hint}
}

// silentExit exits with code without printing anything more.
type silentExit int

func (e silentExit) Error() string { return fmt.Sprintf("exit %d", int(e)) }

// Main runs the command line and returns the process exit code.
func Main(ctx context.Context, args []string, env Env) int {
	root := newRoot(env)
	root.SetArgs(args)
	root.SetIn(env.Stdin)
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var se silentExit
	if errors.As(err, &se) {
		return int(se)
	}
	fmt.Fprintf(env.Stderr, "Error: %v\n", err)
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.hint != "" {
			fmt.Fprintf(env.Stderr, "Try: %s\n", ee.hint)
		}
		return ee.code
	}
	// Anything cobra itself rejects (unknown flag, bad arguments) is a usage error.
	fmt.Fprintf(env.Stderr, "Try: steward %s --help\n", commandPath(root, args))
	return ExitUsage
}

// commandPath finds the subcommand the arguments name, for the hint.
func commandPath(root *cobra.Command, args []string) string {
	cmd, _, err := root.Find(args)
	if err != nil || cmd == root {
		return ""
	}
	return cmd.CommandPath()[len(root.Name())+1:]
}

func newRoot(env Env) *cobra.Command {
	root := &cobra.Command{
		Use:   "steward",
		Short: "Govern Salesforce client-credentials integrations as non-human identities",
		Long: `Steward governs OAuth client-credentials integrations (Salesforce connected apps and
External Client Apps) as non-human identities: each integration is a named workload
identity with an owning team, a scoped app and a least-privilege run-as user.

Offline, 'steward check' evaluates SFDX metadata and inventory manifests against a
built-in Rego policy pack and reports findings as a table, JSON, SARIF or Markdown.`,
		Example: `  # Check a Salesforce DX project and its inventory
  steward check .

  # Fail a CI job on medium findings and write SARIF for code scanning
  steward check force-app --inventory inventory -o sarif --fail-on medium > steward.sarif`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.CompletionOptions.HiddenDefaultCmd = true
	root.AddCommand(
		newCheckCmd(env),
		newScanCmd(env),
		newValidateCmd(env),
		newPolicyCmd(env),
		newDiffCmd(env),
		newSprawlCmd(env),
		newFakeorgCmd(env),
		newVersionCmd(env),
		newSecretCmd(env),
		newAuditCmd(env),
		newServeCmd(env),
		newDevCmd(env),
		newKillCmd(env),
		newRosterCmd(env), newDecommissionCmd(env),
		newReviewCmd(env),
		newElevateCmd(env),
		newReportCmd(env),
	)
	return root
}
