package discovery

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/steward-dev/steward/internal/salesforce"
)

// quote renders s as a SOQL string literal, escaping the characters SOQL
// reserves inside quotes.
func quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('\'')
	for _, r := range s {
		switch r {
		case '\'', '\\', '"':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('\'')
	return b.String()
}

// inList renders values as the parenthesised list of an IN clause.
func inList(values []string) string {
	quoted := make([]string, len(values))
	for i, v := range values {
		quoted[i] = quote(v)
	}
	return "(" + strings.Join(quoted, ", ") + ")"
}

// queryIn runs the query soql once per chunk of values, with the bind
// ":values" replaced by the chunk's IN list, and decodes every record into
// a T.
func queryIn[T any](ctx context.Context, c *salesforce.Client, soql string, values []string) ([]T, error) {
	var out []T
	for start := 0; start < len(values); start += inChunk {
		chunk := values[start:min(start+inChunk, len(values))]
		rows, err := salesforce.QueryAll[T](ctx, c, strings.Replace(soql, ":values", inList(chunk), 1))
		if err != nil {
			return nil, err
		}
		out = append(out, rows...)
	}
	return out, nil
}

// sfTime is a REST datetime ("2024-07-03T13:12:59.000+0000") or date
// ("2024-07-03"); null and absent are the zero time.
type sfTime struct{ time.Time }

// UnmarshalJSON accepts the REST API's datetime and date forms.
func (t *sfTime) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		t.Time = time.Time{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("datetime: %w", err)
	}
	for _, layout := range []string{"2006-01-02T15:04:05.000-0700", time.RFC3339Nano, time.DateOnly} {
		if v, err := time.Parse(layout, s); err == nil {
			t.Time = v.UTC()
			return nil
		}
	}
	return fmt.Errorf("datetime %q is neither a REST datetime nor a date", s)
}

// named is a relationship holding a Name.
type named struct {
	Name string `json:"Name"`
}

// username is a relationship to a User.
type username struct {
	Username string `json:"Username"`
}
