// Package report renders policy findings for people and for other tools:
// a table for the terminal, the findings JSON contract, SARIF 2.1.0 for code
// scanning and Markdown with framework coverage for pull requests.
//
// Every format is deterministic: the same Report always renders to the same
// bytes, whatever order the findings arrived in.
package report

import (
	"cmp"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/mattn/go-isatty"

	"github.com/steward-dev/steward/internal/policy"
)

// Report is what reporters render.
type Report struct {
	Tool       Tool             // the tool that produced the findings
	Findings   []policy.Finding // active findings
	Suppressed []policy.Finding // findings accepted by an Exception (SuppressedBy set)
	Rules      []policy.Rule    // the rules that ran
	Errors     []Problem        // input errors reported alongside the findings
	Warnings   []Problem        // non-fatal parse warnings
}

// Tool names the program and version that produced a report.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Problem is an input error or warning, with the file and line it concerns
// when known.
type Problem struct {
	File    string `json:"file,omitempty"`
	Line    int    `json:"line,omitempty"`
	Message string `json:"message"`
}

// String renders the problem as "file:line: message", leaving out what is
// unknown.
func (p Problem) String() string {
	switch {
	case p.File != "" && p.Line > 0:
		return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Message)
	case p.File != "":
		return p.File + ": " + p.Message
	}
	return p.Message
}

// Options tune rendering.
type Options struct {
	// Color enables ANSI colours for severities in the table format.
	Color bool
	// BaseDir is the directory SARIF artifact URIs are made relative to,
	// usually the repository root. Files outside it get file:// URIs. When
	// empty, relative file paths are kept as they are.
	BaseDir string
}

// formats lists the output formats in the order the help text shows them.
var formats = []string{"table", "json", "sarif", "markdown"}

// Formats returns the names of the output formats Write accepts.
func Formats() []string { return slices.Clone(formats) }

// Write renders r to w in the named format. The caller's report is not
// modified.
func Write(w io.Writer, format string, r *Report, opts Options) error {
	n := normalize(r)
	switch format {
	case "table":
		return writeTable(w, n, opts)
	case "json":
		return writeJSON(w, n)
	case "sarif":
		return writeSARIF(w, n, opts)
	case "markdown":
		return writeMarkdown(w, n)
	}
	return fmt.Errorf("unknown output format %q: use one of %s", format, strings.Join(formats, ", "))
}

// IsTerminal reports whether w is an interactive terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && f != nil && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// ColorAllowed decides colour once the terminal check (IsTerminal) is done:
// only on a terminal, never with NO_COLOR set or TERM=dumb. env nil means
// os.Getenv.
func ColorAllowed(tty bool, env func(string) string) bool {
	if env == nil {
		env = os.Getenv
	}
	return tty && env("NO_COLOR") == "" && env("TERM") != "dumb"
}

// Sort orders findings in place: most severe first, then by rule, identity
// (findings without one last), resource file, line, kind and name, and
// finally message and suppressing exception, so that the order is total.
func Sort(findings []policy.Finding) {
	slices.SortStableFunc(findings, compareFindings)
}

func compareFindings(a, b policy.Finding) int {
	if c := cmp.Compare(policy.SeverityRank(b.Severity), policy.SeverityRank(a.Severity)); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Rule, b.Rule); c != 0 {
		return c
	}
	if c := compareIdentity(a.Identity, b.Identity); c != 0 {
		return c
	}
	return cmp.Or(
		cmp.Compare(a.Resource.File, b.Resource.File),
		cmp.Compare(a.Resource.Line, b.Resource.Line),
		cmp.Compare(a.Resource.Kind, b.Resource.Kind),
		cmp.Compare(a.Resource.Name, b.Resource.Name),
		cmp.Compare(a.Message, b.Message),
		cmp.Compare(a.SuppressedBy, b.SuppressedBy),
		cmp.Compare(a.Severity, b.Severity),
	)
}

// compareIdentity orders named identities by name, before findings that
// have none.
func compareIdentity(a, b *string) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return 1
	case b == nil:
		return -1
	}
	return cmp.Compare(*a, *b)
}

// normalize returns a sorted copy of r that shares no slice with it and in
// which no slice is nil, so that every reporter sees the same order and JSON
// never holds a null array.
func normalize(r *Report) *Report {
	if r == nil {
		r = &Report{}
	}
	n := &Report{
		Tool:       r.Tool,
		Findings:   cloneFindings(r.Findings),
		Suppressed: cloneFindings(r.Suppressed),
		Rules:      make([]policy.Rule, 0, len(r.Rules)),
		Errors:     append([]Problem{}, r.Errors...),
		Warnings:   append([]Problem{}, r.Warnings...),
	}
	if n.Tool.Name == "" {
		n.Tool.Name = "steward"
	}
	for _, rule := range r.Rules {
		rule.Controls = append([]string{}, rule.Controls...)
		n.Rules = append(n.Rules, rule)
	}
	slices.SortStableFunc(n.Rules, func(a, b policy.Rule) int { return cmp.Compare(a.ID, b.ID) })
	return n
}

func cloneFindings(fs []policy.Finding) []policy.Finding {
	out := make([]policy.Finding, 0, len(fs))
	for _, f := range fs {
		f.Controls = append([]string{}, f.Controls...)
		out = append(out, f)
	}
	Sort(out)
	return out
}

// rulesWithFindings returns the report's rules plus a rule made from the
// first finding of every rule ID the report's rules lack, sorted by ID, so
// that every finding has a rule to point at.
func rulesWithFindings(r *Report) []policy.Rule {
	rules := slices.Clone(r.Rules)
	known := map[string]bool{}
	for _, rule := range rules {
		known[rule.ID] = true
	}
	for _, f := range slices.Concat(r.Findings, r.Suppressed) {
		if known[f.Rule] {
			continue
		}
		known[f.Rule] = true
		rules = append(rules, policy.Rule{
			ID:          f.Rule,
			Title:       f.Title,
			Severity:    f.Severity,
			Controls:    f.Controls,
			Remediation: f.Remediation,
		})
	}
	slices.SortStableFunc(rules, func(a, b policy.Rule) int { return cmp.Compare(a.ID, b.ID) })
	return rules
}

// countBySeverity counts findings per severity; every severity is present.
func countBySeverity(fs []policy.Finding) map[string]int {
	counts := make(map[string]int, len(policy.Severities))
	for _, s := range policy.Severities {
		counts[s] = 0
	}
	for _, f := range fs {
		if _, ok := counts[f.Severity]; ok {
			counts[f.Severity]++
		}
	}
	return counts
}

// plural returns "1 finding" or "2 findings".
func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
