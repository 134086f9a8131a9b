// Package roster reads team rosters exported from a directory (HR system or
// identity provider) as CSV or JSON, and imports them into the store all or
// nothing. A roster says who belongs to which team, in which role (owner,
// backup, member) and whether they are still active or have departed; the
// policy pack joins it to the Team manifests to find owning teams left
// without active members or with a departed backup (NHI-INV-04).
package roster

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/steward-dev/steward/internal/store"
)

// Formats of a roster file.
const (
	FormatCSV  = "csv"
	FormatJSON = "json"
)

// Roles and statuses a roster row may carry.
const (
	RoleOwner      = "owner"
	RoleBackup     = "backup"
	RoleMember     = "member"
	StatusActive   = "active"
	StatusDeparted = "departed"
)

// Limits on a roster file.
const (
	MaxBytes = 16 << 20
	MaxRows  = 100000
	// maxProblems is how many problems an error lists before it stops.
	maxProblems = 20
)

// Columns are the CSV columns, in the order Steward writes them; a file may
// order them differently. team, member, role and status are required.
var Columns = []string{"team", "member", "role", "status", "email", "since"}

var required = []string{"team", "member", "role", "status"}

// teamName is what a Team manifest's metadata.name may be.
var teamName = regexp.MustCompile(`^[a-z0-9]([a-z0-9._-]{0,251}[a-z0-9])?$`)

// Problem is one invalid place in a roster file.
type Problem struct {
	Line   int    // 1-based line (CSV: the row's first line); 0 when unknown
	Column string // the column or JSON member, "" for the whole row
	Msg    string
}

// Error lists every problem found in a roster file; nothing of the file is
// imported.
type Error struct {
	File     string
	Problems []Problem
	// More counts problems found beyond those listed.
	More int
}

// Error lists the problems, one per line, each naming the file and line.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d problem(s), nothing imported", e.File, len(e.Problems)+e.More)
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(e.File)
		if p.Line > 0 {
			fmt.Fprintf(&b, ":%d", p.Line)
		}
		if p.Column != "" {
			fmt.Fprintf(&b, ": column %s", p.Column)
		}
		b.WriteString(": ")
		b.WriteString(p.Msg)
	}
	if e.More > 0 {
		fmt.Fprintf(&b, "\n  … and %d more", e.More)
	}
	return b.String()
}

func (e *Error) add(line int, column, format string, args ...any) {
	if len(e.Problems) >= maxProblems {
		e.More++
		return
	}
	e.Problems = append(e.Problems, Problem{Line: line, Column: column, Msg: fmt.Sprintf(format, args...)})
}

// Parse reads a roster in the given format (csv or json). file names the
// input in errors. It returns every row, or an *Error listing what is
// wrong, never part of the file.
func Parse(file string, r io.Reader, format string) ([]store.RosterMember, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", file, err)
	}
	e := &Error{File: file}
	if len(data) > MaxBytes {
		e.add(0, "", "larger than %d MiB; split the export", MaxBytes>>20)
		return nil, e
	}
	if !utf8.Valid(data) {
		e.add(lineOf(data, invalidUTF8At(data)), "", "not valid UTF-8; export the roster as UTF-8")
		return nil, e
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // a byte-order mark some spreadsheets write
	var rows []row
	switch format {
	case FormatCSV:
		rows = parseCSV(data, e)
	case FormatJSON:
		rows = parseJSON(data, e)
	default:
		return nil, fmt.Errorf("unknown roster format %q: use csv or json", format)
	}
	members := check(rows, e)
	if len(e.Problems) > 0 {
		return nil, e
	}
	if len(members) == 0 {
		e.add(0, "", "no members; an empty export would erase the roster")
		return nil, e
	}
	return members, nil
}

// row is one entry before validation, with where it came from.
type row struct {
	line   int
	fields map[string]string
	// cols maps a field to how errors name it: a CSV column number and
	// name, or a JSON member path.
	cols map[string]string
}

func parseCSV(data []byte, e *Error) []row {
	rd := csv.NewReader(bytes.NewReader(data))
	rd.FieldsPerRecord = -1 // counted here, with a clearer message
	rd.ReuseRecord = false
	header, err := rd.Read()
	if err == io.EOF {
		e.add(0, "", "empty file; the first line must be the header %s", strings.Join(Columns, ","))
		return nil
	}
	if err != nil {
		csvProblem(e, err)
		return nil
	}
	index := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		switch {
		case !slices.Contains(Columns, h):
			e.add(1, fmt.Sprintf("%d (%s)", i+1, h), "unknown column; the columns are %s", strings.Join(Columns, ", "))
		case index[h] != 0:
			e.add(1, fmt.Sprintf("%d (%s)", i+1, h), "column repeated")
		default:
			index[h] = i + 1
		}
	}
	for _, c := range required {
		if index[c] == 0 {
			e.add(1, "", "missing required column %s; the header must name %s", c, strings.Join(required, ", "))
		}
	}
	if len(e.Problems) > 0 {
		return nil
	}
	var rows []row
	for {
		rec, err := rd.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			csvProblem(e, err)
			return nil
		}
		line, _ := rd.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // a blank line
		}
		if len(rec) != len(header) {
			e.add(line, "", "%d fields, the header has %d", len(rec), len(header))
			continue
		}
		if len(rows) >= MaxRows {
			e.add(line, "", "more than %d rows; split the export", MaxRows)
			return nil
		}
		r := row{line: line, fields: map[string]string{}, cols: map[string]string{}}
		for name, i := range index {
			r.fields[name] = strings.TrimSpace(rec[i-1])
			r.cols[name] = fmt.Sprintf("%d (%s)", i, name)
		}
		rows = append(rows, r)
	}
	return rows
}

func csvProblem(e *Error, err error) {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		e.add(pe.Line, fmt.Sprint(pe.Column), "%v", pe.Err)
		return
	}
	e.add(0, "", "%v", err)
}

// jsonMember is one entry of a JSON roster.
type jsonMember struct {
	Team   *string `json:"team"`
	Member *string `json:"member"`
	Role   *string `json:"role"`
	Status *string `json:"status"`
	Email  *string `json:"email"`
	Since  *string `json:"since"`
}

func parseJSON(data []byte, e *Error) []row {
	dec := json.NewDecoder(bytes.NewReader(data))
	fail := func(err error) []row {
		jsonProblem(e, data, err, 0, "")
		return nil
	}
	shape := func() []row {
		e.add(lineOf(data, int(dec.InputOffset())), "", `the file must be {"members": [{"team": …, "member": …, "role": …, "status": …}]}`)
		return nil
	}
	if tok, err := dec.Token(); err != nil {
		return fail(err)
	} else if tok != json.Delim('{') {
		return shape()
	}
	var rows []row
	found := false
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return fail(err)
		}
		if key != "members" || found {
			e.add(lineOf(data, int(dec.InputOffset())), fmt.Sprint(key), "unknown or repeated member; the file holds only \"members\"")
			return nil
		}
		found = true
		if tok, err := dec.Token(); err != nil {
			return fail(err)
		} else if tok != json.Delim('[') {
			return shape()
		}
		for i := 0; dec.More(); i++ {
			if i >= MaxRows {
				e.add(lineOf(data, int(dec.InputOffset())), "", "more than %d members; split the export", MaxRows)
				return nil
			}
			line := lineOf(data, skipSpace(data, int(dec.InputOffset())))
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return fail(err)
			}
			path := fmt.Sprintf("members[%d]", i)
			var m jsonMember
			d := json.NewDecoder(bytes.NewReader(raw))
			d.DisallowUnknownFields()
			if err := d.Decode(&m); err != nil {
				jsonProblem(e, raw, err, line-1, path)
				continue
			}
			r := row{line: line, fields: map[string]string{}, cols: map[string]string{}}
			for name, v := range map[string]*string{"team": m.Team, "member": m.Member, "role": m.Role, "status": m.Status, "email": m.Email, "since": m.Since} {
				if v != nil {
					r.fields[name] = strings.TrimSpace(*v)
				}
				r.cols[name] = path + "." + name
			}
			rows = append(rows, r)
		}
		if _, err := dec.Token(); err != nil { // ]
			return fail(err)
		}
	}
	if _, err := dec.Token(); err != nil { // }
		return fail(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		e.add(lineOf(data, int(dec.InputOffset())), "", "unexpected data after the roster object")
		return nil
	}
	if !found {
		return shape()
	}
	return rows
}

// skipSpace returns the offset of the first byte at or after off that is
// neither JSON white space nor a separating comma.
func skipSpace(data []byte, off int) int {
	for off < len(data) && strings.IndexByte(" \t\r\n,", data[off]) >= 0 {
		off++
	}
	return off
}

// jsonProblem reports a decoding error at its line; base is the line
// before the decoded text starts.
func jsonProblem(e *Error, data []byte, err error, base int, path string) {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		e.add(base+lineOf(data, int(se.Offset)), path, "invalid JSON: %v", se)
	case errors.As(err, &te):
		field := te.Field
		if path != "" {
			field = path + "." + field
		}
		e.add(base+lineOf(data, int(te.Offset)), field, "must be a %s, not a JSON %s", jsonKind(te.Type.String()), te.Value)
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		e.add(base+lineOf(data, len(data)), path, "the JSON ends early")
	default:
		e.add(base+1, path, "%v", err) // unknown field: the message names it
	}
}

func jsonKind(goType string) string {
	switch {
	case strings.HasPrefix(goType, "[]"):
		return "array"
	case strings.Contains(goType, "string"):
		return "string"
	}
	return "object"
}

// check validates rows and turns them into members.
func check(rows []row, e *Error) []store.RosterMember {
	seen := map[[2]string]int{}
	out := make([]store.RosterMember, 0, len(rows))
	for _, r := range rows {
		bad := len(e.Problems) + e.More
		f := r.fields
		for _, c := range required {
			if f[c] == "" {
				e.add(r.line, r.cols[c], "%s is required", c)
			}
		}
		if t := f["team"]; t != "" && !teamName.MatchString(t) {
			e.add(r.line, r.cols["team"], "%q is not a team name (lower-case letters, digits, '.', '-', '_'; as in the Team manifest's metadata.name)", clip(t))
		}
		if m := f["member"]; m != "" && (len(m) > 320 || strings.ContainsFunc(m, isSpaceOrControl)) {
			e.add(r.line, r.cols["member"], "%q is not a directory user name or address", clip(m))
		}
		if v := f["role"]; v != "" && v != RoleOwner && v != RoleBackup && v != RoleMember {
			e.add(r.line, r.cols["role"], "%q is not owner, backup or member", clip(v))
		}
		if v := f["status"]; v != "" && v != StatusActive && v != StatusDeparted {
			e.add(r.line, r.cols["status"], "%q is not active or departed", clip(v))
		}
		if v := f["email"]; v != "" {
			local, domain, ok := strings.Cut(v, "@")
			if !ok || local == "" || domain == "" || strings.ContainsFunc(v, isSpaceOrControl) {
				e.add(r.line, r.cols["email"], "%q is not an e-mail address", clip(v))
			}
		}
		if v := f["since"]; v != "" {
			if _, err := time.Parse(time.DateOnly, v); err != nil {
				e.add(r.line, r.cols["since"], "%q is not a date (YYYY-MM-DD)", clip(v))
			}
		}
		key := [2]string{f["team"], strings.ToLower(f["member"])}
		if first, dup := seen[key]; dup && key[0] != "" && key[1] != "" {
			e.add(r.line, r.cols["member"], "%s is already listed in team %s on line %d", clip(f["member"]), key[0], first)
		} else {
			seen[key] = r.line
		}
		if len(e.Problems)+e.More > bad {
			continue
		}
		out = append(out, store.RosterMember{
			Team: f["team"], Member: f["member"], Role: f["role"], Status: f["status"], Email: f["email"], Since: f["since"],
		})
	}
	return out
}

func isSpaceOrControl(r rune) bool { return r <= ' ' || r == 0x7f }

// clip shortens a value quoted in an error.
func clip(s string) string {
	if len(s) <= 64 {
		return s
	}
	cut := 64
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// lineOf is the 1-based line of a byte offset.
func lineOf(data []byte, off int) int {
	if off < 0 {
		return 0
	}
	off = min(off, len(data))
	return 1 + bytes.Count(data[:off], []byte("\n"))
}

func invalidUTF8At(data []byte) int {
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return len(data)
}
