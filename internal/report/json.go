package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
)

// jsonSummary counts the active findings per severity.
type jsonSummary struct {
	Critical int `json:"critical"`
	High     int `json:"high"`
	Medium   int `json:"medium"`
	Low      int `json:"low"`
	Info     int `json:"info"`
}

// writeJSON writes the findings JSON contract: an object with the members
// tool, findings, summary, suppressed, errors and warnings, in that order.
// The output is what encodeJSON gives for the whole object, but it is
// written one finding at a time: indenting a report of many thousand
// findings in one piece held it in memory twice and cost more than encoding
// it.
func writeJSON(w io.Writer, r *Report) error {
	c := countBySeverity(r.Findings)
	s := newJSONStream(w)
	s.write("{\n")
	s.member("tool", r.Tool, ",")
	writeList(s, "findings", r.Findings, ",")
	s.member("summary", jsonSummary{
		Critical: c["critical"],
		High:     c["high"],
		Medium:   c["medium"],
		Low:      c["low"],
		Info:     c["info"],
	}, ",")
	writeList(s, "suppressed", r.Suppressed, ",")
	writeList(s, "errors", r.Errors, ",")
	writeList(s, "warnings", r.Warnings, "")
	s.write("}\n")
	return s.flush()
}

// jsonStream writes an indented JSON object a member, or an array element,
// at a time. The first error sticks.
type jsonStream struct {
	w   *bufio.Writer
	buf bytes.Buffer
	enc *json.Encoder
	err error
}

func newJSONStream(w io.Writer) *jsonStream {
	s := &jsonStream{w: bufio.NewWriterSize(w, 64<<10)}
	s.enc = json.NewEncoder(&s.buf)
	s.enc.SetEscapeHTML(false)
	return s
}

func (s *jsonStream) write(text string) {
	if s.err == nil {
		_, s.err = s.w.WriteString(text)
	}
}

// value writes v indented as it would be at a depth whose lines start with
// prefix.
func (s *jsonStream) value(v any, prefix string) {
	if s.err != nil {
		return
	}
	s.buf.Reset()
	s.enc.SetIndent(prefix, "  ")
	if s.err = s.enc.Encode(v); s.err == nil {
		_, s.err = s.w.Write(bytes.TrimSuffix(s.buf.Bytes(), []byte("\n")))
	}
}

// member writes one member of the top-level object, followed by sep and a
// newline.
func (s *jsonStream) member(name string, v any, sep string) {
	s.write("  " + strconv.Quote(name) + ": ")
	s.value(v, "  ")
	s.write(sep + "\n")
}

func (s *jsonStream) flush() error {
	if s.err == nil {
		s.err = s.w.Flush()
	}
	if s.err != nil {
		return fmt.Errorf("write report: %w", s.err)
	}
	return nil
}

// writeList writes an array member of the top-level object an element at a
// time.
func writeList[T any](s *jsonStream, name string, list []T, sep string) {
	if len(list) == 0 {
		s.member(name, list, sep)
		return
	}
	s.write("  " + strconv.Quote(name) + ": [\n")
	for i := range list {
		s.write("    ")
		s.value(list[i], "    ")
		if i < len(list)-1 {
			s.write(",")
		}
		s.write("\n")
	}
	s.write("  ]" + sep + "\n")
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
