package report

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode"

	"github.com/steward-dev/steward/internal/policy"
)

// notInInventory heads the table group of findings without an identity.
const notInInventory = "Not in the inventory"

// Severity colours. Every sequence, the header's included, is seven bytes
// long, so that tabwriter, which counts the bytes of escape sequences as
// text, pads every cell of the severity column by the same amount and the
// columns stay aligned.
var severityColors = map[string]string{
	"critical": "\x1b[1;31m", // bold red
	"high":     "\x1b[0;31m", // red
	"medium":   "\x1b[0;33m", // yellow
	"low":      "\x1b[0;36m", // cyan
	"info":     "\x1b[0;37m", // grey
}

const (
	headerColor = "\x1b[1;39m" // bold, default colour
	otherColor  = "\x1b[0;39m" // default colour, for unknown severities
	resetColor  = "\x1b[0m"
)

// tableGroup is the findings of one identity, or of none.
type tableGroup struct {
	title    string
	findings []policy.Finding
}

func writeTable(w io.Writer, r *Report, opts Options) error {
	bw := bufio.NewWriter(w)
	if len(r.Findings) == 0 {
		fmt.Fprintln(bw, "No findings.")
	}
	for i, g := range groupByIdentity(r.Findings) {
		if i > 0 {
			fmt.Fprintln(bw)
		}
		fmt.Fprintf(bw, "%s (%s)\n", cleanCell(g.title), plural(len(g.findings), "finding", "findings"))
		tw := tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "  %s\tRULE\tRESOURCE\tLOCATION\tMESSAGE\n", colorize("SEVERITY", headerColor, opts.Color))
		for _, f := range g.findings {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n",
				colorize(f.Severity, severityColor(f.Severity), opts.Color),
				cleanCell(f.Rule),
				cleanCell(f.Resource.Kind+"/"+f.Resource.Name),
				cleanCell(location(f.Resource)),
				cleanCell(f.Message))
		}
		if err := tw.Flush(); err != nil {
			return fmt.Errorf("write report: %w", err)
		}
	}
	if len(r.Errors) > 0 {
		fmt.Fprintln(bw)
		fmt.Fprintln(bw, "Input errors:")
		for _, p := range r.Errors {
			fmt.Fprintf(bw, "  %s\n", cleanCell(p.String()))
		}
	}
	fmt.Fprintln(bw)
	fmt.Fprintln(bw, summaryLine(r))
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// groupByIdentity splits sorted findings into one group per identity, by
// name, followed by the group of findings without an identity. Each group
// keeps the findings' order.
func groupByIdentity(fs []policy.Finding) []tableGroup {
	byName := map[string]*tableGroup{}
	var named []*tableGroup
	none := &tableGroup{title: notInInventory}
	for _, f := range fs {
		if f.Identity == nil {
			none.findings = append(none.findings, f)
			continue
		}
		g, ok := byName[*f.Identity]
		if !ok {
			g = &tableGroup{title: *f.Identity}
			byName[*f.Identity] = g
			named = append(named, g)
		}
		g.findings = append(g.findings, f)
	}
	slices.SortFunc(named, func(a, b *tableGroup) int { return cmp.Compare(a.title, b.title) })
	out := make([]tableGroup, 0, len(named)+1)
	for _, g := range named {
		out = append(out, *g)
	}
	if len(none.findings) > 0 {
		out = append(out, *none)
	}
	return out
}

// summaryLine counts findings per severity, suppressed findings, input
// errors and warnings.
func summaryLine(r *Report) string {
	counts := countBySeverity(r.Findings)
	parts := make([]string, 0, len(policy.Severities))
	for _, s := range policy.Severities {
		parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
	}
	return fmt.Sprintf("%s: %s; %d suppressed; %s, %s",
		plural(len(r.Findings), "finding", "findings"),
		strings.Join(parts, ", "),
		len(r.Suppressed),
		plural(len(r.Errors), "input error", "input errors"),
		plural(len(r.Warnings), "warning", "warnings"))
}

// location renders a resource's file and line, or "-" when it has no file.
func location(res policy.Resource) string {
	switch {
	case res.File == "":
		return "-"
	case res.Line > 0:
		return res.File + ":" + strconv.Itoa(res.Line)
	}
	return res.File
}

func severityColor(sev string) string {
	if c, ok := severityColors[sev]; ok {
		return c
	}
	return otherColor
}

// colorize wraps s in an ANSI colour when enabled. Every cell of a column
// must be wrapped alike, or not at all, for tabwriter to align it.
func colorize(s, color string, enabled bool) string {
	if !enabled {
		return s
	}
	return color + s + resetColor
}

// cleanCell makes text safe for one table cell on a terminal: tabs and line
// breaks become spaces; other control characters (which could move the
// cursor or recolour the terminal), bidirectional overrides (which could
// make text read differently from what it is) and invalid UTF-8 become
// U+FFFD.
func cleanCell(s string) string {
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
