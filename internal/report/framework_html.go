package report

import (
	"bufio"
	"fmt"
	"html/template"
	"io"
	"strings"

	"github.com/steward-dev/steward/internal/policy"
)

// htmlView is what the HTML template renders: the report with the text of
// every cell worked out beforehand, so that the template only lays it out
// and html/template escapes every value.
type htmlView struct {
	Title    string
	Intro    string
	Source   string
	Groups   bool
	Controls []htmlControl
	Cards    []htmlCard
	Errors   []Problem
	Warnings []Problem
}

type htmlControl struct {
	ID, Anchor, Group, Title, Status, StatusText, Reason string
	Assessed                                             bool
	Rules                                                []htmlRule
	// Satisfied is plain text (see writeControlMarkdown); the others link
	// to the identity cards.
	Satisfied              []string
	NotSatisfied, Excepted []htmlLink
	Evidence               []htmlFinding
	Exceptions             []htmlException
}

type htmlRule struct{ ID, Title, Severity, Ran string }

type htmlLink struct{ Text, Anchor string }

type htmlFinding struct {
	Severity, Rule, Controls, Message, Resource, Where string
	Identity                                           htmlLink
}

type htmlException struct {
	Finding                                         htmlFinding
	Name, Reason, ApprovedBy, Expires, Compensating string
}

type htmlCard struct {
	Name, Anchor, Declared string
	Facts                  [][2]string
	ReviewsKnown           bool
	ReviewHeader           []string
	Reviews                [][]string
	ElevationsKnown        bool
	ElevationHeader        []string
	Elevations             [][]string
	Findings               []htmlFinding
	Exceptions             []htmlException
}

// tableArgs are what the sub-templates for tables take: a caption made of
// two parts and the rows.
type tableArgs struct {
	Caption, Subject string
	Items            any
}

// rowsArgs are a table that may have no data at all (Known false).
type rowsArgs struct {
	Known  bool
	Header []string
	Rows   [][]string
}

var complianceTemplate = template.Must(template.New("compliance").Funcs(template.FuncMap{
	"table": func(caption, subject string, items any) tableArgs {
		return tableArgs{Caption: caption, Subject: subject, Items: items}
	},
	"join": func(names []string) string { return strings.Join(names, ", ") },
	"rows": func(known bool, header []string, rows [][]string) rowsArgs {
		return rowsArgs{Known: known, Header: header, Rows: rows}
	},
}).Parse(complianceHTML))

// writeComplianceHTML renders the report as one self-contained HTML page:
// inline CSS, no script, font or image from elsewhere, and print styles
// that start every identity card on a new page.
func writeComplianceHTML(w io.Writer, c *Compliance) error {
	v := htmlView{
		Title: c.Framework.Title() + " compliance report",
		Intro: fmt.Sprintf("%s %s, as of %s, from %s. %s; %s.", c.Tool.Name, cmpOr(c.Tool.Version, "(unknown version)"),
			day(c.AsOf, "—"), sourceLabel(c), plural(c.Summary.Identities, "identity", "identities"), complianceCounts(c)),
		Source:   c.Framework.Source,
		Groups:   hasGroups(c),
		Errors:   c.Errors,
		Warnings: c.Warnings,
	}
	for i := range c.Controls {
		cc := &c.Controls[i]
		hc := htmlControl{
			ID: cc.ID, Anchor: controlAnchor(cc.ID), Group: orDash(cc.Group), Title: controlTitle(*cc), Status: cc.Status,
			StatusText: statusLabel(cc.Status), Reason: cc.Reason, Assessed: cc.Status != StatusNotAssessed,
			Satisfied: cc.Satisfied, NotSatisfied: htmlLinks(cc.NotSatisfied), Excepted: htmlLinks(cc.Excepted),
		}
		for _, r := range cc.Rules {
			ran := "yes"
			if !r.Ran {
				ran = "no: " + r.NotRun
			}
			hc.Rules = append(hc.Rules, htmlRule{ID: r.ID, Title: r.Title, Severity: r.Severity, Ran: ran})
		}
		for _, f := range cc.Evidence {
			hc.Evidence = append(hc.Evidence, newHTMLFinding(c.Framework, f))
		}
		for _, x := range cc.Exceptions {
			hc.Exceptions = append(hc.Exceptions, newHTMLException(c.Framework, x))
		}
		v.Controls = append(v.Controls, hc)
	}
	for i := range c.Cards {
		card := &c.Cards[i]
		hc := htmlCard{
			Name: card.Name, Anchor: cardAnchor(card.Name), Facts: cardFacts(c, card),
			ReviewsKnown: card.Reviews != nil, ReviewHeader: reviewHeader,
			ElevationsKnown: card.Elevations != nil, ElevationHeader: elevationHeader,
		}
		if card.File != "" {
			hc.Declared = location(resourceAt(card.File, card.Line))
		}
		for _, r := range card.Reviews {
			hc.Reviews = append(hc.Reviews, reviewRow(r))
		}
		for _, e := range card.Elevations {
			hc.Elevations = append(hc.Elevations, elevationRow(e))
		}
		for _, f := range card.Findings {
			hc.Findings = append(hc.Findings, newHTMLFinding(c.Framework, f))
		}
		for _, x := range card.Exceptions {
			hc.Exceptions = append(hc.Exceptions, newHTMLException(c.Framework, x))
		}
		v.Cards = append(v.Cards, hc)
	}
	bw := bufio.NewWriter(w)
	if err := complianceTemplate.Execute(bw, v); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

func htmlLinks(names []string) []htmlLink {
	out := make([]htmlLink, 0, len(names))
	for _, n := range names {
		out = append(out, htmlLink{Text: n, Anchor: cardAnchor(n)})
	}
	return out
}

func newHTMLFinding(fw *Framework, f policy.Finding) htmlFinding {
	h := htmlFinding{
		Severity: f.Severity, Rule: f.Rule, Controls: joinOr(frameworkControls(fw, f), "—"), Message: f.Message,
		Resource: strings.TrimSpace(f.Resource.Kind + " " + f.Resource.Name),
	}
	if f.Resource.File != "" {
		h.Where = location(f.Resource)
	}
	if f.Identity != nil {
		h.Identity = htmlLink{Text: *f.Identity, Anchor: cardAnchor(*f.Identity)}
	}
	return h
}

func newHTMLException(fw *Framework, x Excepted) htmlException {
	return htmlException{
		Finding: newHTMLFinding(fw, x.Finding), Name: x.Exception.Name, Reason: x.Exception.Reason,
		ApprovedBy: x.Exception.ApprovedBy, Expires: x.Exception.Expires,
		Compensating: joinOr(x.Exception.CompensatingControls, "none"),
	}
}

// complianceHTML is the page. Colours are dark text on white or pale
// tints, with the status always written out, so that the page reads the
// same printed in black and white.
const complianceHTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; color: #1a1a1a; background: #fff; margin: 0; line-height: 1.45; }
main { max-width: 72rem; margin: 0 auto; padding: 1.5rem; }
h1 { font-size: 1.6rem; margin: 0 0 .5rem; }
h2 { font-size: 1.3rem; border-bottom: 2px solid #333; padding-bottom: .2rem; margin-top: 2rem; }
h3 { font-size: 1.1rem; margin: 1.5rem 0 .4rem; }
h4 { font-size: 1rem; margin: 1rem 0 .3rem; }
table { border-collapse: collapse; width: 100%; margin: .4rem 0 1rem; font-size: .9rem; }
caption { text-align: left; font-weight: 600; padding: .2rem 0; }
th, td { border: 1px solid #999; padding: .3rem .45rem; text-align: left; vertical-align: top; overflow-wrap: anywhere; }
thead th { background: #eee; }
tbody th { font-weight: 600; }
table.facts th { width: 12rem; background: #f6f6f6; }
td.num { text-align: right; }
.status { font-weight: 600; white-space: nowrap; }
.satisfied { color: #1b5e20; }
.not-satisfied { color: #b71c1c; }
.not-assessed { color: #555; }
.control, .card { border-top: 1px solid #bbb; padding-top: .3rem; }
.card h3 { font-size: 1.2rem; }
code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: .85em; }
ul.names { padding-left: 1.2rem; margin: .2rem 0 .6rem; }
a { color: #0b3d91; }
nav ul { list-style: none; padding: 0; display: flex; gap: 1.2rem; }
@page { margin: 15mm; }
@media print {
  body { font-size: 10pt; }
  main { max-width: none; padding: 0; }
  nav { display: none; }
  a { color: inherit; text-decoration: none; }
  .card { break-before: page; border-top: none; }
  .control { break-inside: avoid-page; }
  tr, th, td { break-inside: avoid; }
  thead { display: table-header-group; }
  thead th, table.facts th { background: #fff; }
}
</style>
</head>
<body>
<main>
<header>
<h1>{{.Title}}</h1>
<p>{{.Intro}}</p>
{{with .Source}}<p>Framework: <a href="{{.}}">{{.}}</a></p>{{end}}
</header>
<nav aria-label="Contents"><ul>
<li><a href="#summary">Summary</a></li>
<li><a href="#controls">Controls</a></li>
<li><a href="#identities">Identity cards</a></li>
{{if .Errors}}<li><a href="#errors">Input errors</a></li>{{end}}
</ul></nav>

<section id="summary" aria-labelledby="summary-h">
<h2 id="summary-h">Summary</h2>
<table>
<caption>Controls and their status</caption>
<thead><tr><th scope="col">Control</th>{{if .Groups}}<th scope="col">Group</th>{{end}}<th scope="col">Title</th><th scope="col">Status</th><th scope="col">Satisfied</th><th scope="col">Not satisfied</th><th scope="col">Excepted</th></tr></thead>
<tbody>
{{range .Controls}}<tr><th scope="row"><a href="#{{.Anchor}}">{{.ID}}</a></th>{{if $.Groups}}<td>{{.Group}}</td>{{end}}<td>{{.Title}}</td><td class="status {{.Status}}">{{.StatusText}}</td>{{if .Assessed}}<td class="num">{{len .Satisfied}}</td><td class="num">{{len .NotSatisfied}}</td><td class="num">{{len .Excepted}}</td>{{else}}<td class="num">—</td><td class="num">—</td><td class="num">—</td>{{end}}</tr>
{{end}}</tbody>
</table>
</section>

<section id="controls" aria-labelledby="controls-h">
<h2 id="controls-h">Controls</h2>
{{range .Controls}}<section class="control" id="{{.Anchor}}" aria-labelledby="{{.Anchor}}-h">
<h3 id="{{.Anchor}}-h">{{.ID}} {{.Title}}</h3>
<p>Status: <span class="status {{.Status}}">{{.StatusText}}</span>{{with .Reason}} ({{.}}){{end}}.</p>
{{if .Rules}}<table>
<caption>Rules mapped to {{.ID}}</caption>
<thead><tr><th scope="col">Rule</th><th scope="col">Title</th><th scope="col">Severity</th><th scope="col">Ran</th></tr></thead>
<tbody>
{{range .Rules}}<tr><th scope="row">{{.ID}}</th><td>{{.Title}}</td><td>{{.Severity}}</td><td>{{.Ran}}</td></tr>
{{end}}</tbody>
</table>
{{end}}{{if .Assessed}}<h4>Satisfied ({{len .Satisfied}})</h4>
{{if .Satisfied}}<p>{{join .Satisfied}}</p>{{else}}<p>None.</p>{{end}}
<h4>Not satisfied ({{len .NotSatisfied}})</h4>
{{template "names" .NotSatisfied}}
<h4>Excepted ({{len .Excepted}})</h4>
{{template "names" .Excepted}}
{{if .Evidence}}{{template "findings" table "Evidence for " .ID .Evidence}}{{end}}
{{if .Exceptions}}{{template "exceptions" table "Exceptions to " .ID .Exceptions}}{{end}}
{{end}}</section>
{{end}}</section>

<section id="identities" aria-labelledby="identities-h">
<h2 id="identities-h">Identity cards</h2>
{{if not .Cards}}<p>No identity is inventoried.</p>{{end}}
{{range .Cards}}<section class="card" id="{{.Anchor}}" aria-labelledby="{{.Anchor}}-h">
<h3 id="{{.Anchor}}-h">{{.Name}}</h3>
{{with .Declared}}<p>Declared in <code>{{.}}</code>.</p>{{end}}
<table class="facts">
<caption>Identity {{.Name}}</caption>
<tbody>
{{range .Facts}}<tr><th scope="row">{{index . 0}}</th><td>{{index . 1}}</td></tr>
{{end}}</tbody>
</table>
<h4>Access reviews</h4>
{{template "rows" table "Access reviews of " .Name (rows .ReviewsKnown .ReviewHeader .Reviews)}}
<h4>Elevations</h4>
{{template "rows" table "Elevations of " .Name (rows .ElevationsKnown .ElevationHeader .Elevations)}}
<h4>Findings</h4>
{{if .Findings}}{{template "findings" table "Findings of " .Name .Findings}}{{else}}<p>None.</p>{{end}}
{{if .Exceptions}}<h4>Exceptions</h4>
{{template "exceptions" table "Exceptions of " .Name .Exceptions}}{{end}}
</section>
{{end}}</section>
{{template "problems" table "Input errors" "errors" .Errors}}
{{template "problems" table "Warnings" "warnings" .Warnings}}
</main>
</body>
</html>
{{define "names"}}{{if .}}<ul class="names">{{range .}}<li><a href="#{{.Anchor}}">{{.Text}}</a></li>{{end}}</ul>{{else}}<p>None.</p>{{end}}{{end}}
{{define "findings"}}<table>
<caption>{{.Caption}}{{.Subject}}</caption>
<thead><tr><th scope="col">Severity</th><th scope="col">Rule</th><th scope="col">Controls</th><th scope="col">Identity</th><th scope="col">Resource</th><th scope="col">Message</th></tr></thead>
<tbody>
{{range .Items}}<tr><td>{{.Severity}}</td><th scope="row">{{.Rule}}</th><td>{{.Controls}}</td><td>{{template "identity" .Identity}}</td><td>{{.Resource}}{{with .Where}}<br><code>{{.}}</code>{{end}}</td><td>{{.Message}}</td></tr>
{{end}}</tbody>
</table>{{end}}
{{define "exceptions"}}<table>
<caption>{{.Caption}}{{.Subject}}</caption>
<thead><tr><th scope="col">Rule</th><th scope="col">Identity</th><th scope="col">Resource</th><th scope="col">Exception</th><th scope="col">Reason</th><th scope="col">Approved by</th><th scope="col">Expires</th><th scope="col">Compensating controls</th></tr></thead>
<tbody>
{{range .Items}}<tr><th scope="row">{{.Finding.Rule}}</th><td>{{template "identity" .Finding.Identity}}</td><td>{{.Finding.Resource}}{{with .Finding.Where}}<br><code>{{.}}</code>{{end}}</td><td>{{.Name}}</td><td>{{.Reason}}</td><td>{{.ApprovedBy}}</td><td>{{.Expires}}</td><td>{{.Compensating}}</td></tr>
{{end}}</tbody>
</table>{{end}}
{{define "identity"}}{{if .Text}}<a href="#{{.Anchor}}">{{.Text}}</a>{{else}}<em>not in the inventory</em>{{end}}{{end}}
{{define "rows"}}{{if not .Items.Known}}<p>No data.</p>{{else if not .Items.Rows}}<p>None.</p>{{else}}<table>
<caption>{{.Caption}}{{.Subject}}</caption>
<thead><tr>{{range .Items.Header}}<th scope="col">{{.}}</th>{{end}}</tr></thead>
<tbody>
{{range .Items.Rows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</tbody>
</table>{{end}}{{end}}
{{define "problems"}}{{if .Items}}<section id="{{.Subject}}" aria-labelledby="{{.Subject}}-h">
<h2 id="{{.Subject}}-h">{{.Caption}}</h2>
<table>
<caption>{{.Caption}}</caption>
<thead><tr><th scope="col">File</th><th scope="col">Line</th><th scope="col">Message</th></tr></thead>
<tbody>
{{range .Items}}<tr><td><code>{{.File}}</code></td><td class="num">{{if .Line}}{{.Line}}{{end}}</td><td>{{.Message}}</td></tr>
{{end}}</tbody>
</table>
</section>{{end}}{{end}}
`
