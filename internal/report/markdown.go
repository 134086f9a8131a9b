package report

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/steward-dev/steward/internal/policy"
)

// owaspNHI is the OWASP Non-Human Identities Top 10 (2025), in order.
var owaspNHI = []struct{ id, title string }{
	{"NHI1:2025", "Improper Offboarding"},
	{"NHI2:2025", "Secret Leakage"},
	{"NHI3:2025", "Vulnerable Third-Party NHI"},
	{"NHI4:2025", "Insecure Authentication"},
	{"NHI5:2025", "Overprivileged NHI"},
	{"NHI6:2025", "Insecure Cloud Deployment Configurations"},
	{"NHI7:2025", "Long-Lived Secrets"},
	{"NHI8:2025", "Environment Isolation"},
	{"NHI9:2025", "NHI Reuse"},
	{"NHI10:2025", "Human Use of NHI"},
}

// Control reference prefixes, as rules write them ("OWASP NHI5:2025",
// "NIST CSF PR.AA-05").
const (
	owaspPrefix = "OWASP "
	csfPrefix   = "NIST CSF "
)

// csfFunctions names the NIST CSF 2.0 functions, in the framework's order.
var csfFunctions = []struct{ code, name string }{
	{"GV", "Govern"},
	{"ID", "Identify"},
	{"PR", "Protect"},
	{"DE", "Detect"},
	{"RS", "Respond"},
	{"RC", "Recover"},
}

// coverage is how one framework item is covered: the rules that map to it,
// and the active findings of each.
type coverage struct {
	rules    []string       // IDs of the rules mapped to the item, sorted
	findings map[string]int // active findings per rule ID
	total    int
}

func writeMarkdown(w io.Writer, r *Report) error {
	bw := bufio.NewWriter(w)
	rules := rulesWithFindings(r)
	cov := coverageByControl(rules, r.Findings)

	fmt.Fprintf(bw, "# %s report\n\n", mdText(capitalize(r.Tool.Name)))
	fmt.Fprintf(bw, "%s %s: %s, %d suppressed, %s, %s, %s run.\n\n",
		mdText(r.Tool.Name), mdText(cmp.Or(r.Tool.Version, "(unknown version)")),
		plural(len(r.Findings), "finding", "findings"), len(r.Suppressed),
		plural(len(r.Errors), "input error", "input errors"),
		plural(len(r.Warnings), "warning", "warnings"),
		plural(len(rules), "rule", "rules"))

	fmt.Fprint(bw, "## Summary\n\n| Severity | Findings |\n|---|---:|\n")
	counts := countBySeverity(r.Findings)
	for _, s := range policy.Severities {
		fmt.Fprintf(bw, "| %s | %d |\n", s, counts[s])
	}
	fmt.Fprintf(bw, "| **total** | **%d** |\n\n", len(r.Findings))

	fmt.Fprint(bw, "## Findings\n\n")
	if len(r.Findings) == 0 {
		fmt.Fprint(bw, "No findings.\n\n")
	} else {
		fmt.Fprint(bw, "| Severity | Rule | Identity | Resource | Message |\n|---|---|---|---|---|\n")
		for _, f := range r.Findings {
			fmt.Fprintf(bw, "| %s | %s | %s | %s | %s |\n", mdCell(f.Severity), mdCell(f.Rule),
				mdIdentity(f), mdResource(f.Resource), mdCell(f.Message))
		}
		fmt.Fprintln(bw)
	}

	fmt.Fprint(bw, "## Framework coverage\n\n")
	fmt.Fprint(bw, "Findings are the active findings of the rules mapped to each item: ✔ 0 means those rules ran and found nothing, "+
		"*not checked* that no rule maps to the item.\n\n")
	fmt.Fprint(bw, "### OWASP Non-Human Identities Top 10 (2025)\n\n")
	fmt.Fprint(bw, "| Item | Title | Findings | Rules |\n|---|---|---|---|\n")
	for _, item := range owaspNHI {
		c := cov[owaspPrefix+item.id]
		fmt.Fprintf(bw, "| %s | %s | %s | %s |\n", item.id, item.title, coverageCount(c), coverageRules(c))
	}
	fmt.Fprintln(bw)

	fmt.Fprint(bw, "### NIST CSF 2.0\n\n")
	subcats := csfSubcategories(cov)
	if len(subcats) == 0 {
		fmt.Fprint(bw, "No rule maps to a NIST CSF 2.0 subcategory.\n\n")
	} else {
		fmt.Fprint(bw, "| Subcategory | Function | Findings | Rules |\n|---|---|---|---|\n")
		for _, id := range subcats {
			c := cov[csfPrefix+id]
			fmt.Fprintf(bw, "| %s | %s | %s | %s |\n", mdCell(id), csfFunction(id), coverageCount(c), coverageRules(c))
		}
		fmt.Fprintln(bw)
	}

	if len(r.Suppressed) > 0 {
		fmt.Fprint(bw, "## Suppressed findings\n\n")
		fmt.Fprint(bw, "| Severity | Rule | Identity | Resource | Message | Exception |\n|---|---|---|---|---|---|\n")
		for _, f := range r.Suppressed {
			fmt.Fprintf(bw, "| %s | %s | %s | %s | %s | %s |\n", mdCell(f.Severity), mdCell(f.Rule),
				mdIdentity(f), mdResource(f.Resource), mdCell(f.Message), mdCell(f.SuppressedBy))
		}
		fmt.Fprintln(bw)
	}
	writeProblems(bw, "Input errors", r.Errors)
	writeProblems(bw, "Warnings", r.Warnings)

	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

func writeProblems(w io.Writer, title string, ps []Problem) {
	if len(ps) == 0 {
		return
	}
	fmt.Fprintf(w, "## %s\n\n| File | Line | Message |\n|---|---:|---|\n", title)
	for _, p := range ps {
		line := ""
		if p.Line > 0 {
			line = strconv.Itoa(p.Line)
		}
		fmt.Fprintf(w, "| %s | %s | %s |\n", mdCode(p.File), line, mdCell(p.Message))
	}
	fmt.Fprintln(w)
}

// coverageByControl maps every control reference of the rules to the
// rules carrying it and their active findings.
func coverageByControl(rules []policy.Rule, findings []policy.Finding) map[string]*coverage {
	perRule := map[string]int{}
	for _, f := range findings {
		perRule[f.Rule]++
	}
	cov := map[string]*coverage{}
	for _, rule := range rules {
		for _, ctl := range rule.Controls {
			c := cov[ctl]
			if c == nil {
				c = &coverage{findings: map[string]int{}}
				cov[ctl] = c
			}
			if slices.Contains(c.rules, rule.ID) {
				continue
			}
			c.rules = append(c.rules, rule.ID)
			c.findings[rule.ID] = perRule[rule.ID]
			c.total += perRule[rule.ID]
		}
	}
	for _, c := range cov {
		slices.Sort(c.rules)
	}
	return cov
}

// coverageCount is the Findings cell: "not checked" when no rule maps to
// the item, ✔ when its rules found nothing, else the count.
func coverageCount(c *coverage) string {
	switch {
	case c == nil:
		return "*not checked*"
	case c.total == 0:
		return "✔ 0"
	}
	return strconv.Itoa(c.total)
}

// coverageRules lists an item's rules, each with its findings when it has
// any: "NHI-APP-02 (2), NHI-RUN-01".
func coverageRules(c *coverage) string {
	if c == nil {
		return "—"
	}
	parts := make([]string, 0, len(c.rules))
	for _, id := range c.rules {
		if n := c.findings[id]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s (%d)", mdCell(id), n))
		} else {
			parts = append(parts, mdCell(id))
		}
	}
	return strings.Join(parts, ", ")
}

// csfSubcategories returns the NIST CSF subcategories the rules map to, in
// the framework's order: by function, then by ID.
func csfSubcategories(cov map[string]*coverage) []string {
	var ids []string
	for ctl := range cov {
		if id, ok := strings.CutPrefix(ctl, csfPrefix); ok {
			ids = append(ids, id)
		}
	}
	slices.SortFunc(ids, func(a, b string) int {
		return cmp.Or(cmp.Compare(csfFunctionIndex(a), csfFunctionIndex(b)), cmp.Compare(a, b))
	})
	return ids
}

func csfFunctionIndex(id string) int {
	for i, f := range csfFunctions {
		if strings.HasPrefix(id, f.code+".") {
			return i
		}
	}
	return len(csfFunctions)
}

func csfFunction(id string) string {
	if i := csfFunctionIndex(id); i < len(csfFunctions) {
		return csfFunctions[i].name
	}
	return "—"
}

func mdIdentity(f policy.Finding) string {
	if f.Identity == nil {
		return "*not in the inventory*"
	}
	return mdCell(*f.Identity)
}

// mdResource renders "ConnectedApp Billing_Sync" and, when known, the file
// and line in code style below it.
func mdResource(res policy.Resource) string {
	s := mdCell(res.Kind) + " " + mdCell(res.Name)
	if res.File != "" {
		s += "<br>" + mdCode(location(res))
	}
	return s
}

// mdCell escapes text for a Markdown table cell: a pipe would end the
// cell, a line break the row, and an angle bracket could open HTML.
// Backslashes are doubled so that text ending in one cannot escape the
// pipe after it.
func mdCell(s string) string { return mdEscaper.Replace(s) }

// mdEscaper escapes text for a Markdown table cell. A Replacer is safe for
// concurrent use, so one serves every cell.
var mdEscaper = strings.NewReplacer(
	`\`, `\\`,
	"|", `\|`,
	"\r\n", "<br>",
	"\n", "<br>",
	"\r", "<br>",
	"<", "&lt;",
	">", "&gt;",
)

// mdCode renders s as inline code in a table cell. Pipes still need a
// backslash inside code spans in tables; backticks in s lengthen the
// fence.
func mdCode(s string) string {
	if s == "" {
		return ""
	}
	s = strings.NewReplacer("|", `\|`, "\r\n", " ", "\n", " ", "\r", " ").Replace(s)
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	pad := ""
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		pad = " "
	}
	return fence + pad + s + pad + fence
}

// capitalize upper-cases the first letter of s: "steward" → "Steward".
func capitalize(s string) string {
	if s == "" {
		return s
	}
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}

// mdText escapes text outside tables.
func mdText(s string) string { return mdCell(s) }
