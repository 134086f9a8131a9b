package report

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/url"
	"path/filepath"
	"strings"
	"unicode"

	"github.com/steward-dev/steward/internal/policy"
)

const (
	sarifSchema  = "https://json.schemastore.org/sarif-2.1.0.json"
	sarifVersion = "2.1.0"
	// informationURI is where people learn about the tool.
	informationURI = "https://github.com/steward-dev/steward"
	// fingerprintKey names Steward's partial fingerprint and its version;
	// change the version if the hashed fields ever change.
	fingerprintKey = "stewardFinding/v1"
)

// securitySeverity is the CVSS-like score GitHub code scanning reads from a
// rule's "security-severity" property to rank alerts.
var securitySeverity = map[string]string{
	"critical": "9.5",
	"high":     "8.0",
	"medium":   "5.5",
	"low":      "3.0",
	"info":     "1.0",
}

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool        sarifTool         `json:"tool"`
	Invocations []sarifInvocation `json:"invocations"`
	Results     []sarifResult     `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID                   string            `json:"id"`
	Name                 string            `json:"name"`
	ShortDescription     sarifText         `json:"shortDescription"`
	FullDescription      sarifText         `json:"fullDescription"`
	Help                 sarifHelp         `json:"help"`
	DefaultConfiguration sarifRuleConfig   `json:"defaultConfiguration"`
	Properties           sarifRuleProperty `json:"properties"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifHelp struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown"`
}

type sarifRuleConfig struct {
	Level string `json:"level"`
}

type sarifRuleProperty struct {
	Tags             []string `json:"tags"`
	SecuritySeverity string   `json:"security-severity,omitempty"`
	Precision        string   `json:"precision"`
}

type sarifInvocation struct {
	ExecutionSuccessful bool                `json:"executionSuccessful"`
	Notifications       []sarifNotification `json:"toolExecutionNotifications"`
}

type sarifNotification struct {
	Level     string          `json:"level"`
	Message   sarifText       `json:"message"`
	Locations []sarifLocation `json:"locations,omitempty"`
}

type sarifResult struct {
	RuleID              string              `json:"ruleId"`
	RuleIndex           int                 `json:"ruleIndex"`
	Level               string              `json:"level"`
	Message             sarifText           `json:"message"`
	Locations           []sarifLocation     `json:"locations"`
	PartialFingerprints map[string]string   `json:"partialFingerprints"`
	Suppressions        []sarifSuppression  `json:"suppressions,omitempty"`
	Properties          sarifResultProperty `json:"properties"`
}

type sarifLocation struct {
	PhysicalLocation *sarifPhysicalLocation `json:"physicalLocation,omitempty"`
	LogicalLocations []sarifLogicalLocation `json:"logicalLocations,omitempty"`
}

type sarifPhysicalLocation struct {
	ArtifactLocation sarifArtifactLocation `json:"artifactLocation"`
	Region           *sarifRegion          `json:"region,omitempty"`
}

type sarifArtifactLocation struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine int `json:"startLine"`
}

type sarifLogicalLocation struct {
	Name               string `json:"name"`
	FullyQualifiedName string `json:"fullyQualifiedName"`
	Kind               string `json:"kind"`
}

type sarifSuppression struct {
	Kind          string `json:"kind"`
	Status        string `json:"status"`
	Justification string `json:"justification"`
}

type sarifResultProperty struct {
	Severity string   `json:"severity"`
	Identity *string  `json:"identity"`
	Controls []string `json:"controls"`
}

func writeSARIF(w io.Writer, r *Report, opts Options) error {
	rules := rulesWithFindings(r)
	index := make(map[string]int, len(rules))
	driver := sarifDriver{
		Name:           r.Tool.Name,
		Version:        r.Tool.Version,
		InformationURI: informationURI,
		Rules:          make([]sarifRule, 0, len(rules)),
	}
	for i, rule := range rules {
		index[rule.ID] = i
		driver.Rules = append(driver.Rules, sarifRuleFor(rule))
	}

	results := make([]sarifResult, 0, len(r.Findings)+len(r.Suppressed))
	seen := map[string]int{}
	for _, f := range append(append([]policy.Finding{}, r.Findings...), r.Suppressed...) {
		res := sarifResult{
			RuleID:              f.Rule,
			RuleIndex:           index[f.Rule],
			Level:               sarifLevel(f.Severity),
			Message:             sarifText{Text: f.Message},
			Locations:           []sarifLocation{sarifLocationFor(f.Resource, opts.BaseDir)},
			PartialFingerprints: map[string]string{fingerprintKey: fingerprint(f, seen)},
			Properties: sarifResultProperty{
				Severity: f.Severity,
				Identity: f.Identity,
				Controls: f.Controls,
			},
		}
		if f.SuppressedBy != "" {
			res.Suppressions = []sarifSuppression{{
				Kind:          "external",
				Status:        "accepted",
				Justification: "exception " + f.SuppressedBy,
			}}
		}
		results = append(results, res)
	}

	notes := make([]sarifNotification, 0, len(r.Errors)+len(r.Warnings))
	for _, p := range r.Errors {
		notes = append(notes, sarifNotificationFor("error", p, opts.BaseDir))
	}
	for _, p := range r.Warnings {
		notes = append(notes, sarifNotificationFor("warning", p, opts.BaseDir))
	}

	return encodeJSON(w, sarifLog{
		Schema:  sarifSchema,
		Version: sarifVersion,
		Runs: []sarifRun{{
			Tool:        sarifTool{Driver: driver},
			Invocations: []sarifInvocation{{ExecutionSuccessful: len(r.Errors) == 0, Notifications: notes}},
			Results:     results,
		}},
	})
}

func sarifRuleFor(rule policy.Rule) sarifRule {
	full := rule.Description
	if strings.TrimSpace(full) == "" {
		full = rule.Title
	}
	var md strings.Builder
	md.WriteString(rule.Remediation)
	if len(rule.Controls) > 0 {
		md.WriteString("\n\n**Controls:** ")
		md.WriteString(strings.Join(rule.Controls, ", "))
	}
	return sarifRule{
		ID:               rule.ID,
		Name:             ruleName(rule),
		ShortDescription: sarifText{Text: rule.Title},
		FullDescription:  sarifText{Text: strings.TrimSpace(full)},
		Help: sarifHelp{
			Text:     strings.TrimSpace(rule.Remediation),
			Markdown: strings.TrimSpace(md.String()),
		},
		DefaultConfiguration: sarifRuleConfig{Level: sarifLevel(rule.Severity)},
		Properties: sarifRuleProperty{
			Tags:             uniqueTags(append([]string{"security"}, rule.Controls...)),
			SecuritySeverity: securitySeverity[rule.Severity],
			Precision:        "high",
		},
	}
}

// ruleName turns a rule's title into the CamelCase identifier SARIF viewers
// show next to its ID, for example "ClientCredentialsAppRequestsScopesBeyondApi".
func ruleName(rule policy.Rule) string {
	var b strings.Builder
	for _, word := range strings.FieldsFunc(rule.Title, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}) {
		rs := []rune(word)
		b.WriteRune(unicode.ToUpper(rs[0]))
		b.WriteString(string(rs[1:]))
	}
	if b.Len() == 0 {
		return rule.ID
	}
	return b.String()
}

// sarifLevel maps a severity to a SARIF level.
func sarifLevel(sev string) string {
	switch sev {
	case "critical", "high":
		return "error"
	case "medium":
		return "warning"
	}
	return "note"
}

// uniqueTags drops repeated tags (SARIF requires them unique), keeping the
// first occurrence's position.
func uniqueTags(tags []string) []string {
	seen := map[string]bool{}
	out := make([]string, 0, len(tags))
	for _, t := range tags {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}

// fingerprint is a stable hash of what a finding is about: its rule,
// identity and resource kind and name, but not its file, line or message,
// so that editing a file does not turn an alert into a new one. Findings
// that share those fields within one report (seen counts them) get an
// occurrence number hashed in after the first, to keep fingerprints unique.
func fingerprint(f policy.Finding, seen map[string]int) string {
	identity := "\x00none"
	if f.Identity != nil {
		identity = *f.Identity
	}
	key := strings.Join([]string{f.Rule, identity, f.Resource.Kind, f.Resource.Name}, "\x00")
	seen[key]++
	if n := seen[key]; n > 1 {
		key += "\x00" + strings.Repeat("+", n-1)
	}
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:16])
}

// sarifLocationFor locates a resource: in its file when it has one, and
// always by its kind and name.
func sarifLocationFor(res policy.Resource, baseDir string) sarifLocation {
	loc := sarifLocation{LogicalLocations: []sarifLogicalLocation{{
		Name:               res.Name,
		FullyQualifiedName: res.Kind + "/" + res.Name,
		Kind:               res.Kind,
	}}}
	if res.File != "" {
		loc.PhysicalLocation = physicalLocation(res.File, res.Line, baseDir)
	}
	return loc
}

func sarifNotificationFor(level string, p Problem, baseDir string) sarifNotification {
	n := sarifNotification{Level: level, Message: sarifText{Text: p.Message}}
	if p.File != "" {
		n.Locations = []sarifLocation{{PhysicalLocation: physicalLocation(p.File, p.Line, baseDir)}}
	}
	return n
}

func physicalLocation(file string, line int, baseDir string) *sarifPhysicalLocation {
	pl := &sarifPhysicalLocation{ArtifactLocation: sarifArtifactLocation{URI: artifactURI(file, baseDir)}}
	if line > 0 {
		pl.Region = &sarifRegion{StartLine: line}
	}
	return pl
}

// artifactURI returns file as a relative URI reference with forward
// slashes when it lies under baseDir (or, with no baseDir, when it is a
// relative path inside the working directory), and as a file:// URI
// otherwise.
func artifactURI(file, baseDir string) string {
	rel := ""
	switch {
	case baseDir != "":
		absFile, err1 := filepath.Abs(file)
		absBase, err2 := filepath.Abs(baseDir)
		if err1 == nil && err2 == nil {
			if r, err := filepath.Rel(absBase, absFile); err == nil {
				rel = r
			}
		}
	case !filepath.IsAbs(file):
		rel = filepath.Clean(file)
	}
	if rel != "" && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel) {
		return (&url.URL{Path: filepath.ToSlash(rel)}).String()
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		abs = file
	}
	p := filepath.ToSlash(abs)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // a Windows drive path: file:///C:/...
	}
	return (&url.URL{Scheme: "file", Path: p}).String()
}
