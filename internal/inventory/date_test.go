package inventory

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/google/go-cmp/cmp"
)

func TestParseDate(t *testing.T) {
	t.Parallel()
	good := map[string]Date{
		"2026-10-01": {2026, time.October, 1},
		"2028-02-29": {2028, time.February, 29},
		"0001-01-01": {1, time.January, 1},
	}
	for in, want := range good {
		got, err := ParseDate(in)
		if err != nil || got != want {
			t.Errorf("ParseDate(%q) = %v, %v; want %v", in, got, err, want)
		}
		if got.String() != in {
			t.Errorf("String() = %q, want %q", got.String(), in)
		}
	}
	for _, in := range []string{"", "2026-1-5", "2026-02-30", "2027-02-29", "2026-10-01T00:00:00Z", "01/10/2026", "20261001", " 2026-10-01"} {
		if d, err := ParseDate(in); err == nil {
			t.Errorf("ParseDate(%q) = %v, want an error", in, d)
		}
	}
}

func TestDateMethods(t *testing.T) {
	t.Parallel()
	var zero Date
	if !zero.IsZero() || zero.String() != "" || !zero.Time().IsZero() {
		t.Errorf("zero Date: IsZero=%v String=%q Time=%v", zero.IsZero(), zero.String(), zero.Time())
	}
	d := Date{2026, time.October, 1}
	if d.IsZero() {
		t.Error("set date IsZero")
	}
	if want := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC); !d.Time().Equal(want) || d.Time().Location() != time.UTC {
		t.Errorf("Time() = %v, want %v", d.Time(), want)
	}
	if got := DateOf(time.Date(2026, 10, 1, 23, 30, 0, 0, time.FixedZone("x", -5*3600))); got != d {
		t.Errorf("DateOf = %v, want %v (in the time's own zone)", got, d)
	}
	later := Date{2026, time.October, 2}
	if d.Compare(later) != -1 || later.Compare(d) != 1 || d.Compare(d) != 0 || zero.Compare(d) != -1 {
		t.Error("Compare is wrong")
	}
}

func TestDateEncoding(t *testing.T) {
	t.Parallel()
	c := Credential{Secret: "s", RotatedAt: Date{2026, 10, 1}}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"secret":"s","rotatedAt":"2026-10-01"}`; got != want {
		t.Errorf("json = %s, want %s", got, want)
	}
	var back Credential
	if err := json.Unmarshal(b, &back); err != nil || back != c {
		t.Errorf("json round trip = %v, %v", back, err)
	}
	b, _ = json.Marshal(Credential{Secret: "s"})
	if got, want := string(b), `{"secret":"s"}`; got != want {
		t.Errorf("json of an unset date = %s, want %s", got, want)
	}
	if err := json.Unmarshal([]byte(`{"rotatedAt":"2026-13-01"}`), &back); err == nil {
		t.Error("json accepted month 13")
	}

	// A plain 2026-10-01 is a timestamp to YAML 1.1; it must decode as the
	// date it says, in any time zone, as must a quoted one.
	var y struct {
		A Date `yaml:"a"`
		B Date `yaml:"b"`
	}
	if err := yaml.Unmarshal([]byte("a: 2026-10-01\nb: \"2026-12-31\"\n"), &y); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Date{2026, 10, 1}, y.A); diff != "" {
		t.Errorf("plain date (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(Date{2026, 12, 31}, y.B); diff != "" {
		t.Errorf("quoted date (-want +got):\n%s", diff)
	}
	out, err := yaml.Marshal(y)
	if err != nil || string(out) != "a: \"2026-10-01\"\nb: \"2026-12-31\"\n" {
		t.Errorf("yaml = %q, %v", out, err)
	}
}
