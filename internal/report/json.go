package report

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/steward-dev/steward/internal/policy"
)

// jsonReport is the findings JSON contract. Field order is the output order.
type jsonReport struct {
	Tool       Tool             `json:"tool"`
	Findings   []policy.Finding `json:"findings"`
	Summary    jsonSummary      `json:"summary"`
	Suppressed []policy.Finding `json:"suppressed"`
	Errors     []Problem        `json:"errors"`
	Warnings   []Problem        `json:"warnings"`
}

// jsonSummary counts the active findings per severity.
type jsonSummary struct {
	Critical int `json:"critical"`
	High     int `json:"high"`
	Medium   int `json:"medium"`
	Low      int `json:"low"`
	Info     int `json:"info"`
}

func writeJSON(w io.Writer, r *Report) error {
	c := countBySeverity(r.Findings)
	out := jsonReport{
		Tool:     r.Tool,
		Findings: r.Findings,
		Summary: jsonSummary{
			Critical: c["critical"],
			High:     c["high"],
			Medium:   c["medium"],
			Low:      c["low"],
			Info:     c["info"],
		},
		Suppressed: r.Suppressed,
		Errors:     r.Errors,
		Warnings:   r.Warnings,
	}
	return encodeJSON(w, out)
}

// encodeJSON writes v indented, without HTML escaping, with a trailing
// newline.
func encodeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}
