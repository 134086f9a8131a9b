package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/steward-dev/steward/internal/policy"
)

func newPolicyCmd(env Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "List the policy rules and run Rego unit tests",
		Example: `  steward policy list
  steward policy list --policy policies/ -o json
  steward policy test policies/`,
	}
	cmd.AddCommand(newPolicyListCmd(env), newPolicyTestCmd(env))
	return cmd
}

func newPolicyListCmd(env Env) *cobra.Command {
	var dirs []string
	var format string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List every rule with its severity, title and framework references",
		Long: `list prints the built-in rules and those of any --policy directories, read from
each rule's Rego METADATA annotation. The Markdown form is the rule reference in
docs/rules.md.`,
		Example: `  steward policy list
  steward policy list -o markdown > docs/rules.md
  steward policy list --policy policies/ -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			engine, err := policy.New(cmd.Context(), policy.Options{Dirs: dirs})
			if err != nil {
				return usageError(err, "run 'steward policy test DIR' to check your rules")
			}
			return writeRules(env.Stdout, format, engine.Rules())
		},
	}
	cmd.Flags().StringArrayVar(&dirs, "policy", nil, "directory of extra Rego rules (repeatable)")
	cmd.Flags().StringVarP(&format, "format", "o", "table", "output format: table|json|markdown")
	return cmd
}

// writeRules renders rule metadata.
func writeRules(w io.Writer, format string, rules []policy.Rule) error {
	switch format {
	case "table":
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSEVERITY\tTITLE\tSOURCE")
		for _, r := range rules {
			src := "built-in"
			if !r.Builtin {
				src = r.File
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.ID, r.Severity, r.Title, src)
		}
		return tw.Flush()
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rules)
	case "markdown":
		return writeRulesMarkdown(w, rules)
	}
	return usageError(fmt.Errorf("unknown output format %q", format), "use -o table, -o json or -o markdown")
}

// writeRulesMarkdown writes the rule reference.
func writeRulesMarkdown(w io.Writer, rules []policy.Rule) error {
	var b strings.Builder
	b.WriteString("# Rule reference\n\n")
	b.WriteString("Generated from the rules' Rego METADATA by `steward policy list -o markdown`; do not edit by hand.\n\n")
	b.WriteString("| ID | Severity | Title |\n|---|---|---|\n")
	for _, r := range rules {
		fmt.Fprintf(&b, "| [%s](#%s) | %s | %s |\n", r.ID, strings.ToLower(r.ID), r.Severity, r.Title)
	}
	for _, r := range rules {
		fmt.Fprintf(&b, "\n## %s\n\n**%s**\n\n", r.ID, r.Title)
		fmt.Fprintf(&b, "- Default severity: %s\n", r.Severity)
		if r.Live {
			b.WriteString("- Needs live org data (`steward scan`)\n")
		}
		if slices.Contains(r.Requires, "secretStore") {
			b.WriteString("- Needs Steward's secret store and audit log (`--data-dir`)\n")
		}
		fmt.Fprintf(&b, "- Framework references: %s\n", strings.Join(r.Controls, "; "))
		fmt.Fprintf(&b, "- Rego package: `data.steward.rules.%s`\n", r.Package)
		if r.Description != "" {
			fmt.Fprintf(&b, "\n%s\n", r.Description)
		}
		fmt.Fprintf(&b, "\n**Remediation.** %s\n", r.Remediation)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func newPolicyTestCmd(env Env) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "test [DIR...]",
		Short: "Run Rego unit tests (test_* rules) against the policy pack",
		Long: `test runs the Rego unit tests in each DIR. The built-in pack and data.steward.lib are
loaded too, so tests can exercise your rules, the built-in ones and the helpers
with 'with input as'. With no DIR it runs the built-in pack's own tests.

Exit codes: 0 all passed; 1 a test failed; 2 a file does not parse or a rule's
METADATA is incomplete.`,
		Example: `  steward policy test policies/
  steward policy test
  steward policy test policies/ -o json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			results, err := policy.RunTests(cmd.Context(), policy.Options{Dirs: args})
			if err != nil {
				return usageError(err, "fix the Rego files named above")
			}
			if len(results) == 0 {
				return usageError(fmt.Errorf("no tests (rules named test_*) in %s", strings.Join(args, ", ")), "add tests to a *_test.rego file")
			}
			passed, failedN := 0, 0
			for _, r := range results {
				if r.Passed || r.Skipped {
					passed++
				} else {
					failedN++
				}
			}
			switch format {
			case "json":
				enc := json.NewEncoder(env.Stdout)
				enc.SetIndent("", "  ")
				if err := enc.Encode(results); err != nil {
					return err
				}
			case "table":
				for _, r := range results {
					status := "PASS"
					switch {
					case r.Skipped:
						status = "SKIP"
					case !r.Passed:
						status = "FAIL"
					}
					fmt.Fprintf(env.Stdout, "%s %s:%d %s.%s", status, r.File, r.Line, r.Package, r.Name)
					if r.Error != "" {
						fmt.Fprintf(env.Stdout, ": %s", r.Error)
					}
					fmt.Fprintln(env.Stdout)
				}
				fmt.Fprintf(env.Stdout, "%d passed, %d failed\n", passed, failedN)
			default:
				return usageError(fmt.Errorf("unknown output format %q", format), "use -o table or -o json")
			}
			if failedN > 0 {
				return silentExit(ExitFindings)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&format, "format", "o", "table", "output format: table|json")
	return cmd
}
