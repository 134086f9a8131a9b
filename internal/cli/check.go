package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/steward-dev/steward/internal/inventory"
	"github.com/steward-dev/steward/internal/policy"
	"github.com/steward-dev/steward/internal/report"
	"github.com/steward-dev/steward/internal/salesforce/metadata"
	"github.com/steward-dev/steward/internal/snapshot"
)

type checkOptions struct {
	inventory    []string
	policies     []string
	format       string
	failOn       string
	now          string
	keepGoing    bool
	dumpSnapshot bool
	verbose      bool
	store        storeFlags
	checkpoints  string
}

func newCheckCmd(env Env) *cobra.Command {
	var o checkOptions
	cmd := &cobra.Command{
		Use:   "check [PATH...]",
		Short: "Check SFDX metadata and inventory manifests against the policy pack, offline",
		Long: `check searches each PATH (default: the current directory) for Salesforce DX metadata
files (connected apps, External Client App files, permission sets, permission set
groups, profiles), found by file suffix in any folder, and for Steward manifests (YAML
whose apiVersion starts with steward.dev/). It joins them into a snapshot, evaluates
the built-in Rego policy pack and any --policy directories, and reports the findings.

Exit codes: 0 no finding at or above --fail-on; 1 findings at or above it;
2 usage error or unreadable/invalid input (the message names the file and line).`,
		Example: `  # Check the example project
  steward check examples/acme

  # Inventory kept in another repository, JSON for a pipeline
  steward check force-app --inventory ../nhi-inventory -o json

  # Report what can be checked even when some files are invalid
  steward check . --keep-going -o markdown > steward.md

  # Add your own rules and see the snapshot they evaluate
  steward check . --policy policies/ --dump-snapshot

  # Also judge the secrets and audit log in Steward's store
  steward check . --data-dir /var/lib/steward`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCheck(cmd, env, args, o)
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&o.inventory, "inventory", nil, "directory of inventory manifests kept outside PATH (repeatable)")
	f.StringArrayVar(&o.policies, "policy", nil, "directory of extra Rego rules (repeatable)")
	f.StringVarP(&o.format, "format", "o", "table", "output format: "+strings.Join(report.Formats(), "|"))
	f.StringVar(&o.failOn, "fail-on", "high", "exit 1 when a finding is at or above this severity: critical|high|medium|low|info|none")
	f.StringVar(&o.now, "now", "", "evaluate as of this date (YYYY-MM-DD or RFC 3339) for reproducible reports; default: the current time")
	f.BoolVar(&o.keepGoing, "keep-going", false, "report invalid input alongside the findings instead of stopping")
	f.BoolVar(&o.dumpSnapshot, "dump-snapshot", false, "print the snapshot the policy evaluates, as JSON, and exit")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "print parse warnings on stderr")
	o.store.registerPosture(f, &o.checkpoints)
	return cmd
}

func runCheck(cmd *cobra.Command, env Env, args []string, o checkOptions) error {
	prepareHeap(env)
	if err := checkFailOn(o.failOn); err != nil {
		return err
	}
	if !o.dumpSnapshot && !slices.Contains(report.Formats(), o.format) {
		return usageError(fmt.Errorf("unknown output format %q", o.format), "use -o "+strings.Join(report.Formats(), ", -o "))
	}
	now, err := parseNow(o.now, env.Now)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	progress := newStatus(env)
	defer progress.done()
	// The policy compiles while the inputs are read.
	var compiled *compiling
	if !o.dumpSnapshot {
		compiled = compile(ctx, o.policies)
	}
	in, err := loadSnapshot(ctx, env, progress, args, sourceOptions{
		command: "check", inventory: o.inventory, keepGoing: o.keepGoing, verbose: o.verbose,
		store: o.store, checkpoints: o.checkpoints, now: now,
	})
	if err != nil {
		return err
	}
	snap, inputErrs, nothingRead := in.snap, in.inputErrs, in.nothingRead
	if o.dumpSnapshot {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(snap)
	}

	res, err := evaluate(ctx, env, progress, snap, evalOptions{
		policies: o.policies, compiled: compiled, format: o.format, inputErrs: inputErrs, warnings: in.warnings,
	})
	if err != nil {
		return err
	}
	if len(inputErrs) > 0 && nothingRead {
		return silentExit(ExitUsage) // nothing could be checked
	}
	if failed(res.Findings, o.failOn) {
		return silentExit(ExitFindings)
	}
	return nil
}

// sourceOptions say where loadSnapshot reads from.
type sourceOptions struct {
	command     string   // the command, for hints: "check", "report"
	inventory   []string // --inventory directories
	keepGoing   bool
	verbose     bool
	store       storeFlags
	checkpoints string
	now         time.Time
}

// loaded is a snapshot with what went wrong reading its sources.
type loaded struct {
	snap      *snapshot.Snapshot
	inputErrs []report.Problem
	warnings  []report.Problem
	// nothingRead is true when no metadata file or identity could be read.
	nothingRead bool
}

// loadSnapshot reads the SFDX metadata and manifests under paths (default:
// the current directory) and the --inventory directories, builds the
// snapshot and joins the secret store to it when one is named. Invalid
// input stops it unless keepGoing is set.
func loadSnapshot(ctx context.Context, env Env, progress *status, paths []string, o sourceOptions) (*loaded, error) {
	if len(paths) == 0 {
		paths = []string{"."}
	}
	progress.step("reading Salesforce metadata and manifests")
	// The manifests are read while the metadata is: the two loads share
	// nothing, and each leaves a core idle part of the time.
	var inv *inventory.Inventory
	var invErr error
	invDone := make(chan struct{})
	go func() {
		defer close(invDone)
		inv, invErr = inventory.Load(append(append([]string{}, paths...), o.inventory...), inventory.Options{RequireManifestsIn: o.inventory})
	}()
	md, mdErr := metadata.Load(ctx, paths, metadata.Options{})
	<-invDone
	if md == nil { // cancelled
		return nil, mdErr
	}
	inputErrs := append(problems(mdErr), problems(invErr)...)
	if len(inputErrs) > 0 && !o.keepGoing {
		progress.done()
		for _, p := range inputErrs {
			fmt.Fprintln(env.Stderr, p)
		}
		return nil, usageError(fmt.Errorf("%d invalid input(s)", len(inputErrs)), "fix the files above, or pass --keep-going to "+o.command+" the rest")
	}
	if md.Files == 0 && len(inv.Identities)+len(inv.Teams)+len(inv.Exceptions) == 0 && len(inputErrs) == 0 {
		return nil, usageError(fmt.Errorf("no Salesforce metadata files or Steward manifests found under %s", strings.Join(paths, ", ")),
			"point "+o.command+" at a Salesforce DX project (e.g. steward "+o.command+" force-app) or an inventory directory")
	}
	if o.verbose {
		for _, w := range md.Warnings {
			fmt.Fprintf(env.Stderr, "warning: %s\n", w)
		}
	}

	progress.step("building the snapshot")
	// The parsed sources are not needed past this function; the collector
	// may have them before evaluation allocates the policy input.
	out := &loaded{
		snap:        snapshot.Build(snapshot.Sources{Inventory: inv, Metadata: md, Now: o.now}),
		inputErrs:   inputErrs,
		warnings:    warnings(md.Warnings),
		nothingRead: md.Files == 0 && len(inv.Identities) == 0,
	}
	if err := o.store.addSecretStore(ctx, env, o.checkpoints, out.snap); err != nil {
		return nil, err
	}
	return out, nil
}

// evalOptions are what evaluate needs besides the snapshot.
type evalOptions struct {
	policies  []string
	format    string
	inputErrs []report.Problem
	warnings  []report.Problem
	// compiled is the engine for policies, if its compilation has been
	// started already.
	compiled *compiling
}

// evaluate runs the built-in pack and the user's policies on a snapshot and
// writes the report.
func evaluate(ctx context.Context, env Env, progress *status, snap *snapshot.Snapshot, o evalOptions) (*policy.Result, error) {
	c := o.compiled
	if c == nil {
		c = compile(ctx, o.policies)
	}
	_, res, err := runCompiled(ctx, progress, snap, c)
	if err != nil {
		return nil, err
	}
	rep := &report.Report{
		Tool:       report.Tool{Name: "steward", Version: Version()},
		Findings:   res.Findings,
		Suppressed: res.Suppressed,
		Rules:      res.Rules,
		Errors:     o.inputErrs,
		Warnings:   o.warnings,
	}
	if err := report.Write(env.Stdout, o.format, rep, report.Options{Color: colorFor(env, env.Stdout)}); err != nil {
		return nil, err
	}
	return res, nil
}

// runPolicy evaluates the built-in pack and the rules in the policy
// directories on a snapshot. It returns the engine too, whose Rules include
// those that did not run for want of data.
func runPolicy(ctx context.Context, progress *status, snap *snapshot.Snapshot, policies []string) (*policy.Engine, *policy.Result, error) {
	return runCompiled(ctx, progress, snap, compile(ctx, policies))
}

// compiling is a policy engine being built in the background.
type compiling struct {
	done   chan struct{}
	engine *policy.Engine
	err    error
}

// compile starts building the engine for the built-in pack and the rules in
// the policy directories.
func compile(ctx context.Context, policies []string) *compiling {
	c := &compiling{done: make(chan struct{})}
	go func() {
		defer close(c.done)
		c.engine, c.err = policy.New(ctx, policy.Options{Dirs: policies})
	}()
	return c
}

// runCompiled is runPolicy with the engine c builds.
func runCompiled(ctx context.Context, progress *status, snap *snapshot.Snapshot, c *compiling) (*policy.Engine, *policy.Result, error) {
	<-c.done
	engine, err := c.engine, c.err
	if err != nil {
		return nil, nil, usageError(err, "run 'steward policy test DIR' to check your rules")
	}
	progress.step(fmt.Sprintf("evaluating %d rules on %d apps and %d identities", len(engine.Rules()), len(snap.Apps), len(snap.Identities)))
	res, err := engine.Evaluate(ctx, snap)
	progress.done()
	if err != nil {
		return nil, nil, err
	}
	return engine, res, nil
}

// checkFailOn validates the --fail-on value.
func checkFailOn(v string) error {
	if v == "none" || policy.SeverityRank(v) >= 0 {
		return nil
	}
	return usageError(fmt.Errorf("invalid --fail-on %q", v), "use one of critical, high, medium, low, info, none")
}

// failed reports whether any finding is at or above the threshold.
func failed(findings []policy.Finding, failOn string) bool {
	if failOn == "none" {
		return false
	}
	min := policy.SeverityRank(failOn)
	for _, f := range findings {
		if policy.SeverityRank(f.Severity) >= min {
			return true
		}
	}
	return false
}

// parseNow reads --now, or takes the clock's time.
func parseNow(v string, clock func() time.Time) (time.Time, error) {
	if v == "" {
		return clock().UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t.UTC(), nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, usageError(fmt.Errorf("invalid --now %q", v), "give a date such as 2026-11-25 or an RFC 3339 time")
	}
	return t.UTC(), nil
}

// problems flattens input errors into report problems, each with its file
// and line.
func problems(err error) []report.Problem {
	if err == nil {
		return nil
	}
	if multi, ok := err.(interface{ Unwrap() []error }); ok {
		var out []report.Problem
		for _, e := range multi.Unwrap() {
			out = append(out, problems(e)...)
		}
		return out
	}
	var fe *metadata.FileError
	if errors.As(err, &fe) {
		return []report.Problem{{File: fe.File, Line: fe.Line, Message: fe.Err.Error()}}
	}
	var ie *inventory.Error
	if errors.As(err, &ie) {
		return []report.Problem{{File: ie.File, Line: ie.Line, Message: ie.Msg}}
	}
	return []report.Problem{{Message: err.Error()}}
}

func warnings(ws []metadata.Warning) []report.Problem {
	out := make([]report.Problem, 0, len(ws))
	for _, w := range ws {
		out = append(out, report.Problem{File: w.File, Line: w.Line, Message: w.Message})
	}
	return out
}
