package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/steward-dev/steward/internal/policy"
	"github.com/steward-dev/steward/internal/report"
	"github.com/steward-dev/steward/internal/secrets"
	"github.com/steward-dev/steward/internal/sprawl"
)

type sprawlOptions struct {
	store       bool
	git         bool
	refs        []string
	gitignore   bool
	allowlist   string
	format      string
	failOn      string
	maxFileSize int64
}

func newSprawlCmd(env Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sprawl",
		Short: "Find loose copies of Salesforce credentials in files and git history",
		Long: `sprawl finds Salesforce credential material outside the secret store: consumer keys
and secrets, access and refresh tokens, SFDX auth URLs, HTTP Basic client credentials,
secrets in connected-app and External Client App metadata and in custom fields, also
when they are wrapped in base64.`,
		Example: `  # Scan a working tree
  steward sprawl scan .`,
	}
	cmd.AddCommand(newSprawlScanCmd(env))
	return cmd
}

func newSprawlScanCmd(env Env) *cobra.Command {
	var o sprawlOptions
	var sf storeFlags
	cmd := &cobra.Command{
		Use:   "scan PATH...",
		Short: "Scan files, directories or git history for Salesforce credentials",
		Long: `scan reads every file under each PATH (binary files, recognised by their content, are
skipped; .git directories are never entered) and reports the Salesforce credentials
in them. With --git, each PATH is a git repository and scan reads the files of every
commit reachable from --ref (default HEAD) instead, each distinct file content once.

Each finding names the file, line and commit, the detector, a confidence, a redacted
excerpt and the credential's fingerprint; no output ever holds a full credential. A
credential that matches no secret Steward manages is an unmanaged credential
(NHI-INV-01); a consumer key alone is reported as medium, any secret as high.

With --store, each credential is compared with the secrets in Steward's store (opened as
'steward secret' opens it) by keyed fingerprint, inside this process, without
decrypting anything: a copy of a managed secret is reported as a leak of that
identity's secret version (NHI-SEC-01, critical) with a rotation finding
(NHI-SEC-04, critical).

Accepted credentials (test fixtures, revoked secrets) go in an allow-list file, one
fingerprint per line with an optional "# reason"; a different credential on the
same line is still reported.

Exit codes: 0 no finding at or above --fail-on; 1 findings at or above it; 2 usage
error, or no input could be scanned. Inputs that cannot be read are reported with
the findings and do not stop the scan.`,
		Example: `  # Scan a working tree, the ignored files included
  steward sprawl scan .

  # Only what git would track, with accepted fixtures listed by fingerprint
  steward sprawl scan . --gitignore --allowlist .steward/sprawl-allow

  # Tell leaks of managed secrets from unmanaged credentials
  STEWARD_DATA_DIR=/var/lib/steward steward sprawl scan . --store

  # Every commit on every branch, as SARIF for code scanning
  steward sprawl scan --git . --ref 'refs/heads/*' -o sarif > sprawl.sarif

  # Refuse commits that stage a credential (the hook scans the index)
  cp examples/sprawl/pre-commit .git/hooks/pre-commit`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !o.store {
				return runSprawlScan(cmd, env, args, o, nil)
			}
			b, err := sf.openBackend(cmd.Context(), env)
			if err != nil {
				return err
			}
			defer b.Close()
			return runSprawlScan(cmd, env, args, o, storeMatcher{b.secrets})
		},
	}
	sf.register(cmd)
	f := cmd.Flags()
	f.BoolVar(&o.store, "store", false, "compare credentials with the secrets in Steward's store (see --data-dir)")
	f.BoolVar(&o.git, "git", false, "scan the history of the git repositories at PATH instead of their files")
	f.StringArrayVar(&o.refs, "ref", nil, "with --git: a revision whose history to scan; a glob such as 'refs/heads/*' names several (repeatable; default HEAD)")
	f.BoolVar(&o.gitignore, "gitignore", false, "skip files that .gitignore files under PATH ignore")
	f.StringVar(&o.allowlist, "allowlist", "", "file of accepted credential fingerprints, one per line")
	f.StringVarP(&o.format, "format", "o", "table", "output format: "+strings.Join(report.Formats(), "|"))
	f.StringVar(&o.failOn, "fail-on", "high", "exit 1 when a finding is at or above this severity: critical|high|medium|low|info|none")
	f.Int64Var(&o.maxFileSize, "max-file-size", sprawl.DefaultMaxFileSize, "largest file or blob scanned, in bytes; larger ones are reported and skipped")
	return cmd
}

// sprawlJSON is the JSON output: the findings JSON contract, each finding
// with the credential it concerns, plus what was scanned.
type sprawlJSON struct {
	Tool       report.Tool       `json:"tool"`
	Findings   []sprawl.Reported `json:"findings"`
	Summary    map[string]int    `json:"summary"`
	Suppressed []sprawl.Reported `json:"suppressed"`
	Errors     []sprawl.Problem  `json:"errors"`
	Stats      sprawl.Stats      `json:"stats"`
}

// runSprawlScan scans and reports. matcher, when not nil, ties
// credentials to the managed secrets they copy.
func runSprawlScan(cmd *cobra.Command, env Env, args []string, o sprawlOptions, matcher sprawl.Matcher) error {
	if len(args) == 0 {
		return usageError(fmt.Errorf("no PATH to scan"), "give a file, a directory or (with --git) a repository, e.g. steward sprawl scan .")
	}
	if err := checkFailOn(o.failOn); err != nil {
		return err
	}
	if !slices.Contains(report.Formats(), o.format) {
		return usageError(fmt.Errorf("unknown output format %q", o.format), "use -o "+strings.Join(report.Formats(), ", -o "))
	}
	if len(o.refs) > 0 && !o.git {
		return usageError(fmt.Errorf("--ref needs --git"), "add --git to scan the history of a repository")
	}
	if o.maxFileSize <= 0 {
		return usageError(fmt.Errorf("invalid --max-file-size %d", o.maxFileSize), "give a size in bytes, e.g. --max-file-size 536870912")
	}
	opts := sprawl.Options{Git: o.git, Refs: o.refs, Gitignore: o.gitignore, MaxFileSize: o.maxFileSize, Matcher: matcher}
	if o.allowlist != "" {
		allow, err := sprawl.ReadAllowList(o.allowlist)
		if err != nil {
			return usageError(err, "fix the allow-list: one fingerprint (sfp1:…) per line, as findings print them")
		}
		opts.Allow = allow
	}

	progress := newStatus(env)
	progress.step("scanning for Salesforce credentials")
	res, err := sprawl.Scan(cmd.Context(), args, opts)
	progress.done()
	if err != nil {
		return err
	}
	active, suppressed := sprawl.Classify(res.Findings, res.Allowed, matcher != nil)
	if err := writeSprawl(env, o.format, res, active, suppressed); err != nil {
		return err
	}
	if len(res.Problems) > 0 && o.format != "table" {
		fmt.Fprintf(env.Stderr, "steward: %d input(s) could not be scanned in full; see \"errors\" in the report\n", len(res.Problems))
	}
	if !res.Scanned() {
		return usageError(fmt.Errorf("nothing could be scanned under %s", strings.Join(args, ", ")), "check the paths (with --git, each must be a git repository)")
	}
	if failed(policyFindings(active), o.failOn) {
		return silentExit(ExitFindings)
	}
	return nil
}

// storeMatcher ties credentials to managed secrets through the store's
// keyed fingerprints.
type storeMatcher struct{ s *secrets.Store }

// Match reports the newest secret version one of whose fields equals
// candidate. The store names secrets after their identity.
func (m storeMatcher) Match(ctx context.Context, candidate []byte) (sprawl.Match, bool, error) {
	ms, err := m.s.MatchFingerprint(ctx, candidate)
	if err != nil || len(ms) == 0 {
		return sprawl.Match{}, false, err
	}
	best := ms[0]
	for _, x := range ms[1:] {
		if x.Version > best.Version {
			best = x
		}
	}
	return sprawl.Match{Identity: best.Identity, Secret: best.Identity, Version: best.Version, Field: best.Field}, true, nil
}

func policyFindings(rs []sprawl.Reported) []policy.Finding {
	out := make([]policy.Finding, len(rs))
	for i, r := range rs {
		out[i] = r.Finding
	}
	return out
}

func writeSprawl(env Env, format string, res *sprawl.Result, active, suppressed []sprawl.Reported) error {
	tool := report.Tool{Name: "steward", Version: Version()}
	if format == "json" {
		summary := map[string]int{}
		for _, s := range policy.Severities {
			summary[s] = 0
		}
		for _, r := range active {
			summary[r.Severity]++
		}
		doc := sprawlJSON{
			Tool: tool, Findings: nonNil(active), Summary: summary, Suppressed: nonNil(suppressed),
			Errors: nonNil(res.Problems), Stats: res.Stats,
		}
		return encodeIndented(env.Stdout, doc)
	}
	errs := make([]report.Problem, len(res.Problems))
	for i, p := range res.Problems {
		errs[i] = report.Problem{File: p.File, Line: p.Line, Message: p.Message}
	}
	rep := &report.Report{
		Tool:       tool,
		Findings:   policyFindings(active),
		Suppressed: policyFindings(suppressed),
		Rules:      sprawl.Rules(),
		Errors:     errs,
	}
	return report.Write(env.Stdout, format, rep, report.Options{Color: colorFor(env, env.Stdout)})
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func encodeIndented(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}
