package report

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/steward-dev/steward/internal/policy"
)

// complianceFormats lists the compliance report formats.
var complianceFormats = []string{"markdown", "html", "json"}

// ComplianceFormats returns the names of the formats WriteCompliance
// accepts.
func ComplianceFormats() []string { return slices.Clone(complianceFormats) }

// WriteCompliance renders a compliance report in the named format:
// markdown, html (one self-contained page) or json.
func WriteCompliance(w io.Writer, format string, c *Compliance) error {
	switch format {
	case "markdown":
		return writeComplianceMarkdown(w, c)
	case "html":
		return writeComplianceHTML(w, c)
	case "json":
		return writeComplianceJSON(w, c)
	}
	return fmt.Errorf("unknown output format %q: use one of %s", format, strings.Join(complianceFormats, ", "))
}

// writeComplianceJSON writes what encodeJSON gives for the whole report, a
// control and an identity card at a time (see writeJSON).
func writeComplianceJSON(w io.Writer, c *Compliance) error {
	s := newJSONStream(w)
	s.write("{\n")
	s.member("tool", c.Tool, ",")
	s.member("framework", c.Framework, ",")
	s.member("asOf", c.AsOf, ",")
	s.member("source", c.Source, ",")
	s.member("summary", c.Summary, ",")
	writeList(s, "controls", c.Controls, ",")
	writeList(s, "identities", c.Cards, ",")
	writeList(s, "errors", c.Errors, ",")
	writeList(s, "warnings", c.Warnings, "")
	s.write("}\n")
	return s.flush()
}

// statusLabel is a control status in words.
func statusLabel(s string) string {
	switch s {
	case StatusSatisfied:
		return "satisfied"
	case StatusNotSatisfied:
		return "not satisfied"
	}
	return "not assessed"
}

// sourceLabel says where the data came from.
func sourceLabel(c *Compliance) string {
	if c.Source == "org" {
		return "a live org and the inventory"
	}
	return "SFDX metadata and inventory manifests (offline)"
}

// day renders a time as YYYY-MM-DD, or alt when it is zero.
func day(t time.Time, alt string) string {
	if t.IsZero() {
		return alt
	}
	return t.UTC().Format(time.DateOnly)
}

// cardFacts are an identity card's rows as label and plain text, shared by
// the Markdown and HTML renderers so that both say the same thing.
func cardFacts(c *Compliance, card *IdentityCard) [][2]string {
	team := "no Team manifest names " + orNone(card.Owner)
	if card.Team != nil {
		team = fmt.Sprintf("%s: %s", card.Team.Name, plural(len(card.Team.Members), "member", "members"))
		if len(card.Team.Members) > 0 {
			team += " (" + strings.Join(card.Team.Members, ", ") + ")"
		}
		if card.Team.Backup != "" {
			team += "; backup " + card.Team.Backup
		}
	}
	facts := [][2]string{
		{"Service", orNone(card.Service)},
		{"Owner team", team},
		{"Environment", fmt.Sprintf("%s; criticality %s; lifecycle %s", orNone(card.Environment), orNone(card.Criticality), cardLifecycle(card))},
	}
	if card.Agent {
		facts = append(facts, [2]string{"AI agent", "yes: an AI agent acts through this identity"})
	}
	if card.Vendor != "" {
		facts = append(facts, [2]string{"Vendor", card.Vendor})
	}
	facts = append(facts,
		[2]string{"Purpose", orNone(card.Purpose)},
		[2]string{"App", cardAppText(card.App)},
		[2]string{"Scopes", fmt.Sprintf("app: %s; declared: %s", joinOr(card.App.Scopes, "none"), joinOr(card.DeclaredScopes, "none"))},
		[2]string{"Run-as user", cardRunAsText(card.RunAs)},
		[2]string{"Effective permissions", cardPermissionsText(card.RunAs)},
		[2]string{"Declared access", objectsText(card.DeclaredObjects)},
		[2]string{"Secret", cardSecretText(card.Secret)},
		[2]string{"Last use", cardLastUseText(card.LastUse)},
		[2]string{"Review cadence", cardCadenceText(card.Review)},
	)
	return facts
}

func cardLifecycle(card *IdentityCard) string {
	if card.Lifecycle == "" {
		return "active"
	}
	return card.Lifecycle
}

func cardAppText(a CardApp) string {
	if a.Name == "" {
		return "none declared"
	}
	if !a.Found {
		return a.Name + " (no metadata file or org record found)"
	}
	s := fmt.Sprintf("%s %s", a.Kind, a.Name)
	if a.File != "" {
		s += " in " + location(resourceAt(a.File, a.Line))
	}
	s += "; flows: " + joinOr(a.Flows, "none")
	if a.IPRelaxation != "" {
		s += "; IP relaxation " + a.IPRelaxation
	}
	if a.RefreshTokenPolicy != "" {
		s += "; refresh tokens " + a.RefreshTokenPolicy
	}
	if len(a.SharedWith) > 0 {
		s += "; also declared by " + strings.Join(a.SharedWith, ", ")
	}
	return s
}

func cardRunAsText(r CardRunAs) string {
	if r.Username == "" {
		return "none declared"
	}
	s := r.Username
	switch {
	case r.Found:
		s += fmt.Sprintf("; profile %s", orNone(r.Profile))
		if r.License != "" {
			s += "; license " + r.License
		}
	case r.DeclaredProfile != "":
		s += "; declared profile " + r.DeclaredProfile
	}
	s += "; permission sets: " + joinOr(r.PermissionSets, "none")
	if len(r.PermissionSetGroups) > 0 {
		s += "; permission set groups: " + strings.Join(r.PermissionSetGroups, ", ")
	}
	if len(r.SharedWith) > 0 {
		s += "; also the run-as user of " + strings.Join(r.SharedWith, ", ")
	}
	return s
}

func cardPermissionsText(r CardRunAs) string {
	if !r.Found {
		return "unknown: no metadata or org data for the run-as user"
	}
	names := make([]string, 0, len(r.UserPermissions))
	for _, p := range r.UserPermissions {
		names = append(names, p.Name)
	}
	s := plural(len(names), "user permission", "user permissions")
	if len(names) > 0 {
		s += ": " + strings.Join(names, ", ")
	}
	s += "; objects: " + objectsText(r.Objects)
	if len(r.Unresolved) > 0 {
		s += "; incomplete, not defined in the metadata read: " + strings.Join(r.Unresolved, ", ")
	}
	return s
}

func objectsText(objs []ObjectGrant) string {
	if len(objs) == 0 {
		return "none"
	}
	parts := make([]string, 0, len(objs))
	for _, o := range objs {
		parts = append(parts, fmt.Sprintf("%s (%s)", o.Object, strings.Join(o.Access, ", ")))
	}
	return strings.Join(parts, ", ")
}

func cardSecretText(s CardSecret) string {
	var parts []string
	switch {
	case s.InlineValue:
		parts = append(parts, "the manifest holds a value instead of a reference (NHI-SEC-01)")
	case s.Ref != "":
		parts = append(parts, "reference "+s.Ref)
	default:
		parts = append(parts, "no reference declared")
	}
	if s.RotationDays > 0 {
		parts = append(parts, fmt.Sprintf("rotation every %d days", s.RotationDays))
	}
	if s.RotatedAt != "" {
		parts = append(parts, "declared rotated "+s.RotatedAt)
	}
	if s.Store != nil {
		st := fmt.Sprintf("store: version %d", s.Store.Version)
		if s.Store.RotatedOn != "" {
			st += ", rotated " + s.Store.RotatedOn
		}
		st += ", rotation " + orNone(s.Store.Rotation)
		if !s.Store.LastRead.IsZero() {
			st += fmt.Sprintf(", last read %s by %s", day(s.Store.LastRead, ""), orNone(s.Store.LastReadBy))
		}
		readers := make([]string, 0, len(s.Store.Readers))
		for _, r := range s.Store.Readers {
			readers = append(readers, fmt.Sprintf("%s %s ×%d", r.Kind, r.ID, r.Count))
		}
		if len(readers) > 0 {
			st += "; readers of this version: " + strings.Join(readers, ", ")
		}
		parts = append(parts, st)
	} else {
		parts = append(parts, "store: no data")
	}
	if s.AgeDays >= 0 {
		age := plural(s.AgeDays, "day", "days") + " old"
		if s.RotationDays > 0 && s.AgeDays > s.RotationDays {
			age += fmt.Sprintf(", %d past its rotation period", s.AgeDays-s.RotationDays)
		}
		parts = append(parts, age)
	}
	return strings.Join(parts, "; ")
}

func cardLastUseText(u CardLastUse) string {
	var parts []string
	if !u.AppLogin.IsZero() {
		parts = append(parts, "client-credentials login "+day(u.AppLogin, ""))
	}
	if !u.TokenUse.IsZero() {
		parts = append(parts, "OAuth grant used "+day(u.TokenUse, ""))
	}
	if !u.UserLogin.IsZero() {
		parts = append(parts, "run-as user login "+day(u.UserLogin, ""))
	}
	if !u.SecretRead.IsZero() {
		parts = append(parts, "secret read "+day(u.SecretRead, ""))
	}
	switch {
	case len(parts) > 0:
		return strings.Join(parts, "; ")
	case u.Live:
		return "no use seen in the org's login history"
	}
	return "no live data (offline report; steward scan --save gives it)"
}

func cardCadenceText(r CardReviewCadence) string {
	if r.IntervalDays == 0 && r.LastReviewed == "" {
		return "none declared"
	}
	s := fmt.Sprintf("every %d days; last reviewed %s", r.IntervalDays, orNone(r.LastReviewed))
	if r.Due != "" {
		s += "; next due " + r.Due
		if r.Overdue {
			s += " (overdue)"
		}
	}
	return s
}

// reviewRow and elevationRow are one review or elevation as table cells.
func reviewRow(r Review) []string {
	return []string{orDash(r.Campaign), orDash(r.Trigger), day(r.Due, "—"), cmpOr(r.Decision, "open"), day(r.Decided, "—"), orDash(r.By), orDash(r.Comment)}
}

var reviewHeader = []string{"Campaign", "Trigger", "Due", "Decision", "Decided", "By", "Comment"}

func elevationRow(e Elevation) []string {
	return []string{orDash(e.ID), orDash(e.Grant), orDash(e.State), day(e.Start, "—"), day(e.Expires, "—"), day(e.Ended, "—"),
		orDash(e.RequestedBy), orDash(e.ApprovedBy), orDash(e.Reference), orDash(e.Reason), orDash(e.PostUseReview)}
}

var elevationHeader = []string{"ID", "Grant", "State", "Start", "Expires", "Ended", "Requested by", "Approved by", "Reference", "Reason", "Post-use review"}

func orNone(s string) string { return cmpOr(s, "none") }
func orDash(s string) string { return cmpOr(s, "—") }

func cmpOr(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}

// resourceAt is a file position as a resource, for location.
func resourceAt(file string, line int) policy.Resource {
	return policy.Resource{File: file, Line: line}
}

// writeComplianceMarkdown renders the report as GitHub-flavoured Markdown.
func writeComplianceMarkdown(w io.Writer, c *Compliance) error {
	bw := bufio.NewWriter(w)
	fw := c.Framework
	fmt.Fprintf(bw, "# %s compliance report\n\n", mdc(fw.Title()))
	fmt.Fprintf(bw, "%s %s, as of %s, from %s. %s; %s.\n\n",
		mdc(c.Tool.Name), mdc(cmpOr(c.Tool.Version, "(unknown version)")), day(c.AsOf, "—"), sourceLabel(c),
		plural(c.Summary.Identities, "identity", "identities"), complianceCounts(c))
	if fw.Source != "" {
		fmt.Fprintf(bw, "Framework: %s.\n\n", mdc(fw.Source))
	}

	groups := hasGroups(c)
	fmt.Fprint(bw, "## Summary\n\n| Control | ")
	if groups {
		fmt.Fprint(bw, "Group | ")
	}
	fmt.Fprint(bw, "Title | Status | Satisfied | Not satisfied | Excepted | Rules |\n|---|")
	if groups {
		fmt.Fprint(bw, "---|")
	}
	fmt.Fprint(bw, "---|---|---:|---:|---:|---|\n")
	for _, cc := range c.Controls {
		fmt.Fprintf(bw, "| [%s](#%s) | ", mdc(cc.ID), controlAnchor(cc.ID))
		if groups {
			fmt.Fprintf(bw, "%s | ", mdc(orDash(cc.Group)))
		}
		fmt.Fprintf(bw, "%s | %s | %s | %s | %s | %s |\n", mdc(controlTitle(cc)),
			statusCell(cc.Status), countCell(cc, len(cc.Satisfied)), countCell(cc, len(cc.NotSatisfied)), countCell(cc, len(cc.Excepted)), mdc(ruleIDs(cc.Rules)))
	}
	fmt.Fprintln(bw)

	fmt.Fprint(bw, "## Controls\n\n")
	for i := range c.Controls {
		writeControlMarkdown(bw, &c.Controls[i])
	}

	fmt.Fprint(bw, "## Identity cards\n\n")
	if len(c.Cards) == 0 {
		fmt.Fprint(bw, "No identity is inventoried.\n\n")
	}
	for i := range c.Cards {
		writeCardMarkdown(bw, c, &c.Cards[i])
	}
	writeProblems(bw, "Input errors", c.Errors)
	writeProblems(bw, "Warnings", c.Warnings)
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// complianceCounts is "12 controls: 5 satisfied, 4 not satisfied, 3 not
// assessed".
func complianceCounts(c *Compliance) string {
	return fmt.Sprintf("%s: %d satisfied, %d not satisfied, %d not assessed",
		plural(c.Summary.Controls, "control", "controls"), c.Summary.Satisfied, c.Summary.NotSatisfied, c.Summary.NotAssessed)
}

// hasGroups reports whether any control belongs to a group (a function,
// family or control), which the summary then shows.
func hasGroups(c *Compliance) bool {
	for _, cc := range c.Controls {
		if cc.Group != "" {
			return true
		}
	}
	return false
}

func controlTitle(cc ControlCheck) string {
	if !cc.Catalogued {
		return "(not in the framework catalogue)"
	}
	return cc.Title
}

// controlAnchor is the fragment a control's section has: "ctl-pr-aa-05".
func controlAnchor(id string) string { return "ctl-" + slug(id) }

// cardAnchor is the fragment an identity card has.
func cardAnchor(name string) string { return "id-" + slug(name) }

// slug lower-cases s and turns every run of other characters into one
// hyphen, for fragment identifiers that Markdown renderers and HTML agree
// on.
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

func statusCell(s string) string {
	switch s {
	case StatusSatisfied:
		return "✔ satisfied"
	case StatusNotSatisfied:
		return "✘ not satisfied"
	}
	return "— not assessed"
}

func countCell(cc ControlCheck, n int) string {
	if cc.Status == StatusNotAssessed {
		return "—"
	}
	return strconv.Itoa(n)
}

func ruleIDs(rules []ControlRule) string {
	ids := make([]string, 0, len(rules))
	for _, r := range rules {
		ids = append(ids, r.ID)
	}
	return joinOr(ids, "—")
}

func writeControlMarkdown(w io.Writer, cc *ControlCheck) {
	fmt.Fprintf(w, "<a id=\"%s\"></a>\n\n### %s %s\n\n", controlAnchor(cc.ID), mdc(cc.ID), mdc(controlTitle(*cc)))
	fmt.Fprintf(w, "**Status:** %s", statusLabel(cc.Status))
	if cc.Reason != "" {
		fmt.Fprintf(w, " (%s)", mdc(cc.Reason))
	}
	fmt.Fprint(w, ".\n\n")
	if len(cc.Rules) > 0 {
		fmt.Fprint(w, "| Rule | Title | Severity | Ran |\n|---|---|---|---|\n")
		for _, r := range cc.Rules {
			ran := "yes"
			if !r.Ran {
				ran = "no: " + r.NotRun
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s |\n", mdc(r.ID), mdc(r.Title), mdc(r.Severity), mdc(ran))
		}
		fmt.Fprintln(w)
	}
	if cc.Status == StatusNotAssessed {
		return
	}
	// Satisfied identities are listed as plain text: with thousands of
	// identities and dozens of controls, links would make most of the
	// report; those that fail or are excepted link to their cards.
	fmt.Fprintf(w, "- **Satisfied (%d):** %s\n", len(cc.Satisfied), mdc(joinOr(cc.Satisfied, "none")))
	fmt.Fprintf(w, "- **Not satisfied (%d):** %s\n", len(cc.NotSatisfied), mdIdentityList(cc.NotSatisfied))
	fmt.Fprintf(w, "- **Excepted (%d):** %s\n\n", len(cc.Excepted), mdIdentityList(cc.Excepted))
	if len(cc.Evidence) > 0 {
		fmt.Fprint(w, "**Evidence**\n\n| Severity | Rule | Identity | Resource | Message |\n|---|---|---|---|---|\n")
		for _, f := range cc.Evidence {
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", mdc(f.Severity), mdc(f.Rule), mdIdentity(f), mdResource(f.Resource), mdc(f.Message))
		}
		fmt.Fprintln(w)
	}
	if len(cc.Exceptions) > 0 {
		fmt.Fprint(w, "**Exceptions**\n\n")
		writeExceptionsMarkdown(w, cc.Exceptions)
	}
}

func writeExceptionsMarkdown(w io.Writer, xs []Excepted) {
	fmt.Fprint(w, "| Rule | Identity | Resource | Exception | Reason | Approved by | Expires | Compensating controls |\n|---|---|---|---|---|---|---|---|\n")
	for _, x := range xs {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", mdc(x.Finding.Rule), mdIdentity(x.Finding), mdResource(x.Finding.Resource),
			mdc(x.Exception.Name), mdc(x.Exception.Reason), mdc(x.Exception.ApprovedBy), mdc(x.Exception.Expires),
			mdc(joinOr(x.Exception.CompensatingControls, "none")))
	}
	fmt.Fprintln(w)
}

// mdc is mdCell with a fast path for text that needs no escaping, such as
// identity names and rule IDs: reports list each identity once per control.
func mdc(s string) string {
	if !strings.ContainsAny(s, "\\|\r\n<>") {
		return s
	}
	return mdCell(s)
}

// mdIdentityList links each identity to its card.
func mdIdentityList(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	parts := make([]string, 0, len(names))
	for _, n := range names {
		parts = append(parts, fmt.Sprintf("[%s](#%s)", mdc(n), cardAnchor(n)))
	}
	return strings.Join(parts, ", ")
}

func writeCardMarkdown(w io.Writer, c *Compliance, card *IdentityCard) {
	fmt.Fprintf(w, "<a id=\"%s\"></a>\n\n### %s\n\n", cardAnchor(card.Name), mdc(card.Name))
	if card.File != "" {
		fmt.Fprintf(w, "Declared in %s.\n\n", mdCode(location(resourceAt(card.File, card.Line))))
	}
	fmt.Fprint(w, "| | |\n|---|---|\n")
	for _, f := range cardFacts(c, card) {
		fmt.Fprintf(w, "| %s | %s |\n", f[0], mdc(f[1]))
	}
	fmt.Fprintln(w)

	fmt.Fprint(w, "**Access reviews:** ")
	writeRowsMarkdown(w, card.Reviews != nil, len(card.Reviews), reviewHeader, func(i int) []string { return reviewRow(card.Reviews[i]) })
	fmt.Fprint(w, "**Elevations:** ")
	writeRowsMarkdown(w, card.Elevations != nil, len(card.Elevations), elevationHeader, func(i int) []string { return elevationRow(card.Elevations[i]) })

	if len(card.Findings) == 0 {
		fmt.Fprint(w, "**Findings:** none.\n\n")
	} else {
		fmt.Fprint(w, "**Findings**\n\n| Severity | Rule | Controls | Resource | Message |\n|---|---|---|---|---|\n")
		for _, f := range card.Findings {
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", mdc(f.Severity), mdc(f.Rule),
				mdc(joinOr(frameworkControls(c.Framework, f), "—")), mdResource(f.Resource), mdc(f.Message))
		}
		fmt.Fprintln(w)
	}
	if len(card.Exceptions) > 0 {
		fmt.Fprint(w, "**Exceptions**\n\n")
		writeExceptionsMarkdown(w, card.Exceptions)
	}
}

// writeRowsMarkdown writes "no data", "none." or a table.
func writeRowsMarkdown(w io.Writer, known bool, n int, header []string, row func(int) []string) {
	switch {
	case !known:
		fmt.Fprint(w, "no data.\n\n")
		return
	case n == 0:
		fmt.Fprint(w, "none.\n\n")
		return
	}
	fmt.Fprint(w, "\n\n|")
	for _, h := range header {
		fmt.Fprintf(w, " %s |", h)
	}
	fmt.Fprint(w, "\n|"+strings.Repeat("---|", len(header))+"\n")
	for i := range n {
		fmt.Fprint(w, "|")
		for _, cell := range row(i) {
			fmt.Fprintf(w, " %s |", mdc(cell))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w)
}
