package inventory

import (
	"cmp"
	"errors"
	"time"

	"github.com/invopop/jsonschema"
)

// dateLayout is how a Date is written: an RFC 3339 full-date.
const dateLayout = "2006-01-02"

// Date is a calendar date without a time of day or a time zone, written
// 2026-10-01 in manifests and in JSON. The zero value means "not set".
type Date struct {
	Year  int        // four digits, 1 to 9999 once set
	Month time.Month // 1 to 12 once set
	Day   int        // 1 to 31 once set
}

// errDate is the error for a string that is not a YYYY-MM-DD date. It names
// no value, so that it can be shown without echoing input.
var errDate = errors.New("not a date (YYYY-MM-DD)")

// ParseDate parses a date written YYYY-MM-DD (an RFC 3339 full-date) and
// checks that the day exists in its month.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(dateLayout, s)
	if err != nil {
		return Date{}, errDate
	}
	return DateOf(t), nil
}

// DateOf returns the calendar date of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{Year: y, Month: m, Day: d}
}

// IsZero reports whether the date is unset.
func (d Date) IsZero() bool {
	return d == Date{}
}

// Time returns midnight UTC at the start of the date, or the zero time.Time
// when the date is unset.
func (d Date) Time() time.Time {
	if d.IsZero() {
		return time.Time{}
	}
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
}

// String returns the date as YYYY-MM-DD, or "" when it is unset.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return d.Time().Format(dateLayout)
}

// Compare returns -1, 0 or +1 as d is before, equal to or after o. An unset
// date sorts before every set date.
func (d Date) Compare(o Date) int {
	return cmp.Or(
		cmp.Compare(d.Year, o.Year),
		cmp.Compare(d.Month, o.Month),
		cmp.Compare(d.Day, o.Day),
	)
}

// MarshalText writes the date as YYYY-MM-DD, or nothing when it is unset.
// JSON and YAML encoders use it, so a Date is a string on the wire.
func (d Date) MarshalText() ([]byte, error) {
	return []byte(d.String()), nil
}

// UnmarshalText parses YYYY-MM-DD; empty text leaves the date unset. The
// YAML decoder hands it the scalar as a string, so a plain 2026-10-01 that
// YAML 1.1 would read as a timestamp is decoded as the date it says.
func (d *Date) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = Date{}
		return nil
	}
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// JSONSchema describes a Date in the manifest schema: a string in the
// "date" format.
func (Date) JSONSchema() *jsonschema.Schema {
	return &jsonschema.Schema{
		Type:        "string",
		Format:      "date",
		Description: "A calendar date, YYYY-MM-DD",
	}
}
