package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/steward-dev/steward/internal/inventory"
)

func newValidateCmd(env Env) *cobra.Command {
	return &cobra.Command{
		Use:   "validate DIR...",
		Short: "Validate a tree of inventory manifests",
		Long: `validate loads every YAML file under each DIR as Steward manifests (Identity, Team,
Exception) and reports every problem with its file and line: malformed YAML, unknown
fields, wrong types, values outside their enums, duplicate names, and references to
teams or identities that do not exist. It exits 2 when anything is invalid.

The manifests' JSON Schema is published in schema/steward.schema.json for editors.`,
		Example: `  steward validate examples/acme/inventory
  steward validate inventory/ other-team/inventory/`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			inv, err := inventory.Load(args, inventory.Options{RequireManifestsIn: args})
			if errs := problems(err); len(errs) > 0 {
				for _, p := range errs {
					fmt.Fprintln(env.Stderr, p)
				}
				return usageError(fmt.Errorf("%d problem(s) in the inventory", len(errs)), "fix the manifests above; see docs/manifests.md for every field")
			}
			fmt.Fprintf(env.Stdout, "valid: %d identities, %d teams, %d exceptions\n", len(inv.Identities), len(inv.Teams), len(inv.Exceptions))
			return nil
		},
	}
}
