package cli

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/steward-dev/steward/internal/report"
)

type reportOptions struct {
	framework   string
	inventory   []string
	policies    []string
	snapshot    string
	format      string
	failOn      string
	now         string
	keepGoing   bool
	verbose     bool
	store       storeFlags
	checkpoints string
}

func newReportCmd(env Env) *cobra.Command {
	var o reportOptions
	cmd := &cobra.Command{
		Use:   "report --framework FRAMEWORK [PATH...]",
		Short: "Report compliance with a framework, per control and per identity",
		Long: `report reads the same sources as 'steward check' (SFDX metadata and manifests under each
PATH, --inventory directories, and Steward's store when one is named), evaluates the
same policy pack, and writes a compliance report for one framework:

  owasp-nhi     OWASP Non-Human Identities Top 10 (2025)
  nist-csf      NIST Cybersecurity Framework 2.0
  cis           CIS Critical Security Controls v8
  nist-800-53   NIST SP 800-53 Rev. 5

For each control it lists the identities that satisfy it, those that do not, the
evidence (findings with file and line, or live data) and the exceptions that accept
findings, with their reason and expiry. Which rule covers which control comes from the
rules' METADATA. A control no rule covers, or whose rules need data that is missing,
is shown as not assessed. Then comes one card per identity: owner team, app, run-as
user, scopes, effective permissions, secret age and state, last use, reviews,
elevations and findings.

Exit codes: 0 the report was written (whatever it found, unless --fail-on is given);
1 findings at or above --fail-on; 2 usage error or unreadable/invalid input.`,
		Example: `  # OWASP NHI Top 10 coverage of the example project, as Markdown
  steward report --framework owasp-nhi examples/acme

  # A printable NIST CSF 2.0 report for auditors
  steward report --framework nist-csf . --inventory ../nhi-inventory -o html > nist-csf.html

  # Secret age and readers from Steward's store, JSON for a pipeline
  steward report --framework nist-800-53 . --data-dir /var/lib/steward -o json

  # A report on a live org, from a snapshot 'steward scan --save' wrote
  steward report --framework cis --snapshot scans/2026-11-25.json -o html > cis.html`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runReport(cmd, env, args, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.framework, "framework", "", "the framework to report on: "+strings.Join(report.Frameworks(), "|"))
	f.StringArrayVar(&o.inventory, "inventory", nil, "directory of inventory manifests kept outside PATH (repeatable)")
	f.StringArrayVar(&o.policies, "policy", nil, "directory of extra Rego rules (repeatable); their controls count too")
	f.StringVar(&o.snapshot, "snapshot", "", "report on a snapshot written by 'steward scan --save' instead of reading PATHs")
	f.StringVarP(&o.format, "format", "o", "markdown", "output format: "+strings.Join(report.ComplianceFormats(), "|"))
	f.StringVar(&o.failOn, "fail-on", "none", "exit 1 when a finding is at or above this severity: critical|high|medium|low|info|none")
	f.StringVar(&o.now, "now", "", "evaluate as of this date (YYYY-MM-DD or RFC 3339) for reproducible reports; default: the current time")
	f.BoolVar(&o.keepGoing, "keep-going", false, "report invalid input alongside the results instead of stopping")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "print parse warnings on stderr")
	o.store.registerPosture(f, &o.checkpoints)
	_ = cmd.RegisterFlagCompletionFunc("framework", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return report.Frameworks(), cobra.ShellCompDirectiveNoFileComp
	})
	return cmd
}

func runReport(cmd *cobra.Command, env Env, args []string, o reportOptions) error {
	prepareHeap(env)
	valid := report.Frameworks()
	if o.framework == "" {
		return usageError(fmt.Errorf("--framework is required"), "use --framework "+strings.Join(valid, ", --framework "))
	}
	if !slices.Contains(valid, o.framework) {
		return usageError(fmt.Errorf("unknown framework %q: the frameworks are %s", o.framework, strings.Join(valid, ", ")),
			"use --framework "+strings.Join(valid, ", --framework "))
	}
	if !slices.Contains(report.ComplianceFormats(), o.format) {
		return usageError(fmt.Errorf("unknown output format %q", o.format), "use -o "+strings.Join(report.ComplianceFormats(), ", -o "))
	}
	if err := checkFailOn(o.failOn); err != nil {
		return err
	}
	if o.snapshot != "" && len(args)+len(o.inventory) > 0 {
		return usageError(fmt.Errorf("--snapshot and PATH or --inventory are exclusive"), "report on either a saved snapshot or the files under PATH")
	}
	fw, err := report.LoadFramework(o.framework)
	if err != nil {
		return err
	}
	now, err := parseNow(o.now, env.Now)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	progress := newStatus(env)
	defer progress.done()

	in := &loaded{}
	if o.snapshot != "" {
		if in.snap, err = readSnapshot(o.snapshot); err != nil {
			return usageError(err, "give a file written by 'steward scan --save' or 'steward check --dump-snapshot'")
		}
		if o.now != "" {
			in.snap.Now = now
		}
		if err := o.store.addSecretStore(ctx, env, o.checkpoints, in.snap); err != nil {
			return err
		}
	} else {
		in, err = loadSnapshot(ctx, env, progress, args, sourceOptions{
			command: "report", inventory: o.inventory, keepGoing: o.keepGoing, verbose: o.verbose,
			store: o.store, checkpoints: o.checkpoints, now: now,
		})
		if err != nil {
			return err
		}
	}
	engine, res, err := runPolicy(ctx, progress, in.snap, o.policies)
	if err != nil {
		return err
	}
	ci := report.ComplianceInput{
		Tool:      report.Tool{Name: "steward", Version: Version()},
		Framework: fw,
		Snapshot:  in.snap,
		Rules:     engine.Rules(),
		Result:    res,
		Errors:    in.inputErrs,
		Warnings:  in.warnings,
	}
	if in.snap.Capabilities.SecretStore {
		// The store was read into the snapshot; its review history is
		// read here, for the identity cards.
		db, err := o.store.openStore(ctx, env)
		if err != nil {
			return err
		}
		defer db.Close()
		ci.Reviews = storeReviews{db: db}
		ci.Elevations = snapshotElevations(in.snap.Elevations)
	}
	c, err := report.Assess(ctx, ci)
	if err != nil {
		return err
	}
	if err := report.WriteCompliance(env.Stdout, o.format, c); err != nil {
		return err
	}
	if len(in.inputErrs) > 0 && in.nothingRead {
		return silentExit(ExitUsage) // nothing could be assessed
	}
	if failed(res.Findings, o.failOn) {
		return silentExit(ExitFindings)
	}
	return nil
}
