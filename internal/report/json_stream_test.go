package report

import (
	"bytes"
	"testing"

	"github.com/steward-dev/steward/internal/policy"
)

// TestJSONStreamMatchesEncoder checks that writing the report a finding at a
// time gives the bytes encoding/json gives for the whole object, on a report
// with findings, suppressed findings, errors and warnings, and on an empty
// one.
func TestJSONStreamMatchesEncoder(t *testing.T) {
	// whole is the report object, its members in the contract's order.
	type whole struct {
		Tool       Tool             `json:"tool"`
		Findings   []policy.Finding `json:"findings"`
		Summary    jsonSummary      `json:"summary"`
		Suppressed []policy.Finding `json:"suppressed"`
		Errors     []Problem        `json:"errors"`
		Warnings   []Problem        `json:"warnings"`
	}
	full := testReport()
	full.Errors = []Problem{{File: "a.yaml", Line: 3, Message: "bad <value> & more"}}
	full.Warnings = []Problem{{Message: "unknown element"}, {File: "b.xml", Message: "x"}}
	for name, r := range map[string]*Report{"full": full, "empty": {}} {
		n := normalize(r)
		c := countBySeverity(n.Findings)
		var want bytes.Buffer
		if err := encodeJSON(&want, whole{
			Tool:       n.Tool,
			Findings:   n.Findings,
			Summary:    jsonSummary{Critical: c["critical"], High: c["high"], Medium: c["medium"], Low: c["low"], Info: c["info"]},
			Suppressed: n.Suppressed,
			Errors:     n.Errors,
			Warnings:   n.Warnings,
		}); err != nil {
			t.Fatal(err)
		}
		got := render(t, "json", r, Options{})
		if !bytes.Equal(got, want.Bytes()) {
			t.Errorf("%s: streamed JSON differs from the encoder's:\n%s\nwant:\n%s", name, got, want.Bytes())
		}
	}
}
