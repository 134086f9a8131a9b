package report

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/steward-dev/steward/internal/policy"
	"github.com/steward-dev/steward/internal/snapshot"
)

// Control statuses in a compliance report.
const (
	// StatusSatisfied: the control's rules ran and none has an active
	// finding (exceptions may still accept some).
	StatusSatisfied = "satisfied"
	// StatusNotSatisfied: at least one active finding of the control's rules.
	StatusNotSatisfied = "not-satisfied"
	// StatusNotAssessed: no rule covers the control, or none of its rules
	// could run on the data given.
	StatusNotAssessed = "not-assessed"
)

// ComplianceInput is what a compliance report is built from: the same
// snapshot and policy result `steward check` reports, plus the rules that
// were loaded (including those that did not run) and, optionally, the
// access reviews and elevations recorded for the identities.
type ComplianceInput struct {
	Tool      Tool
	Framework *Framework
	Snapshot  *snapshot.Snapshot
	// Rules are every loaded rule, whether it ran or not (policy
	// Engine.Rules); Result.Rules are those that ran.
	Rules  []policy.Rule
	Result *policy.Result
	// Errors and Warnings are input problems reported alongside.
	Errors   []Problem
	Warnings []Problem
	// Reviews and Elevations are optional; identity cards say "no data"
	// without them.
	Reviews    ReviewSource
	Elevations ElevationSource
}

// Compliance is the assessment of a set of identities against one
// framework: per control, who satisfies it and the evidence, and one card
// per identity.
type Compliance struct {
	Tool      Tool           `json:"tool"`
	Framework *Framework     `json:"framework"`
	AsOf      time.Time      `json:"asOf"`
	Source    string         `json:"source"` // metadata (offline) or org (live)
	Summary   ComplianceSum  `json:"summary"`
	Controls  []ControlCheck `json:"controls"`
	Cards     []IdentityCard `json:"identities"`
	Errors    []Problem      `json:"errors"`
	Warnings  []Problem      `json:"warnings"`
}

// ComplianceSum counts controls by status, and identities.
type ComplianceSum struct {
	Controls     int `json:"controls"`
	Satisfied    int `json:"satisfied"`
	NotSatisfied int `json:"notSatisfied"`
	NotAssessed  int `json:"notAssessed"`
	Identities   int `json:"identities"`
	// IdentitiesFailing counts the identities that do not satisfy at least
	// one control of the framework.
	IdentitiesFailing int `json:"identitiesFailing"`
}

// ControlCheck is one control's assessment.
type ControlCheck struct {
	Control
	// Reference is the control as rules write it ("OWASP NHI5:2025").
	Reference string `json:"reference"`
	// Catalogued is false for a control a rule names that the framework's
	// catalogue does not list (it then has no title).
	Catalogued bool   `json:"catalogued"`
	Status     string `json:"status"`
	// Reason says why a control is not assessed.
	Reason string        `json:"reason,omitempty"`
	Rules  []ControlRule `json:"rules"`
	// Satisfied, NotSatisfied and Excepted partition the inventoried
	// identities: no finding of the control's rules; at least one active
	// finding; only findings an Exception accepts. Empty when not assessed.
	Satisfied    []string `json:"satisfied"`
	NotSatisfied []string `json:"notSatisfied"`
	Excepted     []string `json:"excepted"`
	// Evidence are the active findings of the control's rules, including
	// those on resources no identity covers.
	Evidence   []policy.Finding `json:"evidence"`
	Exceptions []Excepted       `json:"exceptions"`
}

// ControlRule is a rule mapped to a control, and whether it ran.
type ControlRule struct {
	ID       string `json:"id"`
	Title    string `json:"title"`
	Severity string `json:"severity"`
	Ran      bool   `json:"ran"`
	// NotRun says what the rule needed that the data lacked.
	NotRun string `json:"notRun,omitempty"`
}

// Excepted is a finding an Exception accepts, with the exception.
type Excepted struct {
	Finding   policy.Finding `json:"finding"`
	Exception ExceptionInfo  `json:"exception"`
}

// ExceptionInfo is what the report shows of an Exception.
type ExceptionInfo struct {
	Name                 string   `json:"name"`
	Reason               string   `json:"reason"`
	ApprovedBy           string   `json:"approvedBy"`
	Expires              string   `json:"expires"`
	CompensatingControls []string `json:"compensatingControls"`
	File                 string   `json:"file,omitempty"`
	Line                 int      `json:"line,omitempty"`
}

// Assess builds the compliance report for one framework. Controls follow
// the catalogue's order, then any control a rule names that the catalogue
// lacks; identities, findings and lists are sorted, so the same input
// always gives the same report.
func Assess(ctx context.Context, in ComplianceInput) (*Compliance, error) {
	if in.Framework == nil || in.Snapshot == nil || in.Result == nil {
		return nil, fmt.Errorf("assess: a framework, a snapshot and a policy result are needed")
	}
	snap, fw := in.Snapshot, in.Framework
	c := &Compliance{
		Tool:      in.Tool,
		Framework: fw,
		AsOf:      snap.Now.UTC(),
		Source:    cmp.Or(snap.Source, "metadata"),
		Errors:    append([]Problem{}, in.Errors...),
		Warnings:  append([]Problem{}, in.Warnings...),
	}
	if c.Tool.Name == "" {
		c.Tool.Name = "steward"
	}
	active, suppressed := cloneFindings(in.Result.Findings), cloneFindings(in.Result.Suppressed)
	exceptions := exceptionIndex(snap.Exceptions)
	names := identityNames(snap)
	subjects := newAttribution(snap)

	ran := map[string]bool{}
	for _, r := range in.Result.Rules {
		ran[r.ID] = true
	}
	// The rules mapped to each control of this framework, from METADATA.
	rules := slices.Clone(in.Rules)
	for _, r := range in.Result.Rules {
		if !slices.ContainsFunc(rules, func(x policy.Rule) bool { return x.ID == r.ID }) {
			rules = append(rules, r)
		}
	}
	slices.SortFunc(rules, func(a, b policy.Rule) int { return cmp.Compare(a.ID, b.ID) })
	byControl := map[string][]policy.Rule{}
	for _, r := range rules {
		for _, ref := range r.Controls {
			if id, ok := fw.ControlID(ref); ok && !slices.ContainsFunc(byControl[id], func(x policy.Rule) bool { return x.ID == r.ID }) {
				byControl[id] = append(byControl[id], r)
			}
		}
	}
	activeByRule := groupByRule(active)
	suppressedByRule := groupByRule(suppressed)

	controls := slices.Clone(fw.Controls)
	catalogued := map[string]bool{}
	for _, ctl := range controls {
		catalogued[ctl.ID] = true
	}
	var extra []string
	for id := range byControl {
		if !catalogued[id] {
			extra = append(extra, id)
		}
	}
	slices.Sort(extra)
	for _, id := range extra {
		controls = append(controls, Control{ID: id})
	}

	failing := map[string]bool{}
	for _, ctl := range controls {
		cc := ControlCheck{
			Control: ctl, Reference: fw.Reference + ctl.ID, Catalogued: catalogued[ctl.ID],
			Rules: []ControlRule{}, Satisfied: []string{}, NotSatisfied: []string{}, Excepted: []string{},
			Evidence: []policy.Finding{}, Exceptions: []Excepted{},
		}
		var notRun []string
		for _, r := range byControl[ctl.ID] {
			cr := ControlRule{ID: r.ID, Title: r.Title, Severity: r.Severity, Ran: ran[r.ID]}
			if !cr.Ran {
				cr.NotRun = missingData(r, snap.Capabilities)
				notRun = append(notRun, r.ID+" "+cr.NotRun)
			}
			cc.Rules = append(cc.Rules, cr)
			if cr.Ran {
				cc.Evidence = append(cc.Evidence, activeByRule[r.ID]...)
				for _, f := range suppressedByRule[r.ID] {
					cc.Exceptions = append(cc.Exceptions, excepted(f, exceptions))
				}
			}
		}
		switch {
		case len(cc.Rules) == 0:
			cc.Status, cc.Reason = StatusNotAssessed, "no rule in the policy pack covers this control"
		case len(notRun) == len(cc.Rules):
			cc.Status, cc.Reason = StatusNotAssessed, "no rule for it could run: "+strings.Join(notRun, "; ")
		default:
			Sort(cc.Evidence)
			slices.SortStableFunc(cc.Exceptions, func(a, b Excepted) int { return compareFindings(a.Finding, b.Finding) })
			cc.Status = StatusSatisfied
			if len(cc.Evidence) > 0 {
				cc.Status = StatusNotSatisfied
			}
			cc.Satisfied, cc.NotSatisfied, cc.Excepted = partition(names, subjects, cc.Evidence, cc.Exceptions)
			for _, n := range cc.NotSatisfied {
				failing[n] = true
			}
		}
		c.Controls = append(c.Controls, cc)
		switch cc.Status {
		case StatusSatisfied:
			c.Summary.Satisfied++
		case StatusNotSatisfied:
			c.Summary.NotSatisfied++
		default:
			c.Summary.NotAssessed++
		}
	}
	c.Summary.Controls = len(c.Controls)
	c.Summary.Identities = len(names)
	c.Summary.IdentitiesFailing = len(failing)

	cards, err := identityCards(ctx, in, subjects, active, suppressed, exceptions)
	if err != nil {
		return nil, err
	}
	c.Cards = cards
	return c, nil
}

// partition splits the identity names by the control's findings. An
// identity a finding names that the inventory lacks still counts.
func partition(names []string, subjects attribution, evidence []policy.Finding, excepted []Excepted) (ok, failing, accepted []string) {
	bad, acc := map[string]bool{}, map[string]bool{}
	for _, f := range evidence {
		for _, n := range subjects.of(f) {
			bad[n] = true
		}
	}
	for _, x := range excepted {
		for _, n := range subjects.of(x.Finding) {
			if !bad[n] {
				acc[n] = true
			}
		}
	}
	ok, failing, accepted = []string{}, []string{}, []string{}
	for _, n := range names {
		switch {
		case bad[n]:
			failing = append(failing, n)
			delete(bad, n)
		case acc[n]:
			accepted = append(accepted, n)
			delete(acc, n)
		default:
			ok = append(ok, n)
		}
	}
	for n := range bad {
		failing = append(failing, n)
	}
	for n := range acc {
		accepted = append(accepted, n)
	}
	slices.Sort(failing)
	slices.Sort(accepted)
	return ok, failing, accepted
}

// attribution finds the identities a finding concerns: the one it names,
// or, for a finding that names none, the identities that declare the app
// or run-as user it is about (one app serving two environments is a
// finding on the app, and on both identities).
type attribution map[policy.Resource][]string

func newAttribution(snap *snapshot.Snapshot) attribution {
	a := attribution{}
	for _, app := range snap.Apps {
		if len(app.Identities) > 0 {
			a[policy.Resource{Kind: app.Kind, Name: app.Name}] = app.Identities
		}
	}
	for _, u := range snap.Users {
		if len(u.Identities) > 0 {
			a[policy.Resource{Kind: "User", Name: u.Username}] = u.Identities
		}
	}
	return a
}

// of returns the identities f concerns, possibly none.
func (a attribution) of(f policy.Finding) []string {
	if f.Identity != nil {
		return []string{*f.Identity}
	}
	return a[policy.Resource{Kind: f.Resource.Kind, Name: f.Resource.Name}]
}

// missingData says what a rule that did not run needed. A capability it
// does not know is named as the rule's METADATA names it.
func missingData(r policy.Rule, c snapshot.Capabilities) string {
	var need, other []string
	add := func(s string) {
		if !slices.Contains(need, s) {
			need = append(need, s)
		}
	}
	if r.Live && !c.Live {
		add("a live org (steward scan)")
	}
	for _, req := range r.Requires {
		switch req {
		case "live":
			if !c.Live {
				add("a live org (steward scan)")
			}
		case "loginHistory":
			if !c.LoginHistory {
				add("login history from a live org")
			}
		case "secretStore":
			if !c.SecretStore {
				add("Steward's store (--data-dir)")
			}
		case "inventory":
			if !c.Inventory {
				add("inventory manifests")
			}
		case "metadata":
			if !c.Metadata {
				add("SFDX metadata files")
			}
		default:
			other = append(other, req)
		}
	}
	if len(need) == 0 {
		need = other
	}
	if len(need) == 0 {
		return "did not run"
	}
	return "needs " + strings.Join(need, " and ")
}

// identityNames returns the inventoried identities' names, sorted and
// unique.
func identityNames(snap *snapshot.Snapshot) []string {
	names := make([]string, 0, len(snap.Identities))
	for _, id := range snap.Identities {
		names = append(names, id.Name)
	}
	slices.Sort(names)
	return slices.Compact(names)
}

func groupByRule(fs []policy.Finding) map[string][]policy.Finding {
	out := map[string][]policy.Finding{}
	for _, f := range fs {
		out[f.Rule] = append(out[f.Rule], f)
	}
	return out
}

// excepted pairs a suppressed finding with its exception.
func excepted(f policy.Finding, exceptions map[string]ExceptionInfo) Excepted {
	x := exceptions[f.SuppressedBy]
	x.Name = f.SuppressedBy
	return Excepted{Finding: f, Exception: x}
}

func exceptionIndex(xs []snapshot.Exception) map[string]ExceptionInfo {
	out := make(map[string]ExceptionInfo, len(xs))
	for _, x := range xs {
		if _, dup := out[x.Name]; dup {
			continue
		}
		out[x.Name] = ExceptionInfo{
			Name: x.Name, Reason: x.Reason, ApprovedBy: x.ApprovedBy, Expires: x.Expires,
			CompensatingControls: append([]string{}, x.CompensatingControls...),
			File:                 x.Location.File, Line: x.Location.Line,
		}
	}
	return out
}
