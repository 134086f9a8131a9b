package roster_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/steward-dev/steward/internal/audit"
	"github.com/steward-dev/steward/internal/roster"
	"github.com/steward-dev/steward/internal/store"
	"github.com/steward-dev/steward/internal/store/storetest"
)

var want = []store.RosterMember{
	{Team: "finance-platform", Member: "ana", Role: "owner", Status: "departed", Email: "ana@acme.com", Since: "2026-11-02"},
	{Team: "finance-platform", Member: "raj", Role: "member", Status: "departed", Email: "raj@acme.com", Since: "2026-11-10"},
	{Team: "finance-platform", Member: "sec-oncall", Role: "backup", Status: "active", Email: "sec-oncall@acme.com"},
	{Team: "payments", Member: "lee", Role: "owner", Status: "active", Email: "lee@acme.com"},
	{Team: "payments", Member: "kim", Role: "backup", Status: "departed", Email: "kim@acme.com", Since: "2026-10-01"},
}

func TestParseBothFormatsAgree(t *testing.T) {
	for _, tc := range []struct{ file, format string }{{"directory.csv", "csv"}, {"directory.json", "json"}} {
		f, err := os.Open(filepath.Join("testdata", tc.file))
		if err != nil {
			t.Fatal(err)
		}
		got, err := roster.Parse(tc.file, f, tc.format)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.file, got, want)
		}
	}
}

func TestParseCSVColumnsInAnyOrder(t *testing.T) {
	in := "\xef\xbb\xbfStatus,Role,Member,Team\r\nactive,owner,lee,payments\r\n\r\n"
	got, err := roster.Parse("x.csv", strings.NewReader(in), "csv")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != (store.RosterMember{Team: "payments", Member: "lee", Role: "owner", Status: "active"}) {
		t.Fatalf("got %+v", got)
	}
}

func TestParseRefusesBadInput(t *testing.T) {
	const header = "team,member,role,status,email,since\n"
	for _, tc := range []struct {
		name, format, in string
		want             []string // substrings of the error, in order
	}{
		{"bad role", "csv", header + "payments,lee,owner,active,,\npayments,kim,lead,active,,\n",
			[]string{"x: 1 problem(s), nothing imported", "x:3: column 3 (role): \"lead\" is not owner, backup or member"}},
		{"bad status and date", "csv", header + "payments,lee,owner,gone,,2026-13-01\n",
			[]string{"x:2: column 4 (status): \"gone\" is not active or departed", "x:2: column 6 (since): \"2026-13-01\" is not a date"}},
		{"missing member", "csv", header + "payments,,owner,active,,\n", []string{"x:2: column 2 (member): member is required"}},
		{"short row", "csv", header + "payments,lee,owner\n", []string{"x:2: 3 fields, the header has 6"}},
		{"bad email", "csv", header + "payments,lee,owner,active,lee-at-acme,\n", []string{"x:2: column 5 (email): \"lee-at-acme\" is not an e-mail address"}},
		{"team name", "csv", header + "Payments Team,lee,owner,active,,\n", []string{"x:2: column 1 (team): \"Payments Team\" is not a team name"}},
		{"duplicate", "csv", header + "payments,lee,owner,active,,\npayments,LEE,backup,active,,\n", []string{"x:3: column 2 (member): LEE is already listed in team payments on line 2"}},
		{"unknown column", "csv", "team,member,role,status,manager\n", []string{"x:1: column 5 (manager): unknown column"}},
		{"missing column", "csv", "team,member,role\n", []string{"missing required column status"}},
		{"bare quote", "csv", header + "payments,le\"e,owner,active,,\n", []string{"x:2: column 12: bare \" in non-quoted-field"}},
		{"empty", "csv", "", []string{"empty file; the first line must be the header"}},
		{"header only", "csv", header, []string{"no members; an empty export would erase the roster"}},
		{"invalid utf-8", "csv", header + "payments,l\xffe,owner,active,,\n", []string{"x:2: not valid UTF-8"}},
		{"json syntax", "json", "{\n \"members\": [\n  {\"team\": \"payments\",}\n ]\n}", []string{"x:3: invalid JSON"}},
		{"json unknown field", "json", "{\"members\": [\n{\"team\": \"payments\", \"member\": \"lee\", \"role\": \"owner\", \"status\": \"active\", \"manager\": \"x\"}\n]}",
			[]string{"x:2: column members[0]: json: unknown field \"manager\""}},
		{"json wrong type", "json", "{\"members\": [\n{\"team\": 7, \"member\": \"lee\", \"role\": \"owner\", \"status\": \"active\"}\n]}",
			[]string{"x:2: column members[0].team: must be a string, not a JSON number"}},
		{"json bad role line", "json", "{\"members\": [\n{\"team\": \"payments\", \"member\": \"lee\", \"role\": \"owner\", \"status\": \"active\"},\n{\"team\": \"payments\", \"member\": \"kim\", \"role\": \"boss\", \"status\": \"active\"}\n]}",
			[]string{"x:3: column members[1].role: \"boss\" is not owner, backup or member"}},
		{"json not an object", "json", "[]", []string{"the file must be {\"members\""}},
		{"json trailing data", "json", "{\"members\": []} {}", []string{"unexpected data after the roster object"}},
		{"json other member", "json", "{\"people\": []}", []string{"column people: unknown or repeated member"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := roster.Parse("x", strings.NewReader(tc.in), tc.format)
			var re *roster.Error
			if !errors.As(err, &re) || got != nil {
				t.Fatalf("got %v, %v; want *roster.Error and no members", got, err)
			}
			msg := err.Error()
			for _, w := range tc.want {
				i := strings.Index(msg, w)
				if i < 0 {
					t.Fatalf("error:\n%s\nwant it to contain %q", msg, w)
				}
				msg = msg[i+len(w):]
			}
		})
	}
}

func TestParseListsAtMostTwentyProblems(t *testing.T) {
	var b strings.Builder
	b.WriteString("team,member,role,status\n")
	for range 30 {
		b.WriteString("payments,lee,x,active\n")
	}
	_, err := roster.Parse("x", strings.NewReader(b.String()), "csv")
	var re *roster.Error
	if !errors.As(err, &re) || len(re.Problems) != 20 || re.More < 10 || !strings.Contains(err.Error(), "… and") {
		t.Fatalf("err = %v", err)
	}
}

func TestParseUnknownFormat(t *testing.T) {
	if _, err := roster.Parse("x", strings.NewReader("a"), "xml"); err == nil || !strings.Contains(err.Error(), "use csv or json") {
		t.Fatalf("err = %v", err)
	}
}

// newLog returns an audit log on s.
func newLog(t *testing.T, s store.Store) *audit.Log {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	l, err := audit.New(audit.Config{Store: s, Signer: key, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// events returns the audit events of an action.
func events(t *testing.T, s store.Store, action string) []audit.Event {
	t.Helper()
	var out []audit.Event
	err := s.AuditRecords(context.Background(), 1, func(r store.AuditRecord) error {
		ev, err := audit.ParseEvent(r.Body)
		if err != nil {
			return err
		}
		if ev.Action == action {
			out = append(out, ev)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestImportAllOrNothingAndAudited(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			var s store.Store
			if backend == "sqlite" {
				open, _ := storetest.SQLite(t)
				s = open()
			} else {
				s = storetest.Postgres(t)()
			}
			ctx := context.Background()
			log := newLog(t, s)
			actor := audit.Actor{Kind: audit.ActorHuman, ID: "ana"}
			now := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
			f, err := os.Open("testdata/directory.csv")
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := roster.Import(ctx, s, log, actor, "directory.csv", f, "csv", now); err != nil {
				t.Fatal(err)
			}
			bad := "team,member,role,status\npayments,lee,owner,active\npayments,kim,chief,active\n"
			_, err = roster.Import(ctx, s, log, actor, "bad.csv", strings.NewReader(bad), "csv", now.Add(time.Hour))
			if err == nil || !strings.Contains(err.Error(), "bad.csv:3: column 3 (role)") {
				t.Fatalf("malformed import: err = %v", err)
			}
			got, err := s.Roster(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if got.Source != "directory.csv" || !got.Imported.Equal(now) || len(got.Members) != len(want) {
				t.Fatalf("after a refused import the roster is %+v; want the first import untouched", got)
			}
			evs := events(t, s, roster.ActionImport)
			if len(evs) != 2 {
				t.Fatalf("audit events = %+v, want 2", evs)
			}
			if evs[0].Outcome != audit.OutcomeSuccess || evs[0].Details["members"] != "5" || evs[0].Details["departed"] != "3" || evs[0].Details["teams"] != "2" {
				t.Errorf("accepted import recorded as %+v", evs[0])
			}
			if evs[1].Outcome != audit.OutcomeFailure || evs[1].Details["reason"] != `line 3: "chief" is not owner, backup or member` {
				t.Errorf("refused import recorded as %+v", evs[1])
			}
		})
	}
}

// failingAudit refuses every record.
type failingAudit struct{}

func (failingAudit) Append(context.Context, audit.Event) (audit.Record, error) {
	return audit.Record{}, errors.New("audit store down")
}

func TestImportWithoutAuditChangesNothing(t *testing.T) {
	open, _ := storetest.SQLite(t)
	s := open()
	_, err := roster.Import(context.Background(), s, failingAudit{}, audit.Actor{Kind: audit.ActorHuman, ID: "ana"}, "d.csv",
		strings.NewReader("team,member,role,status\npayments,lee,owner,active\n"), "csv", time.Now())
	if err == nil || !strings.Contains(err.Error(), "nothing was imported") {
		t.Fatalf("err = %v", err)
	}
	if r, _ := s.Roster(context.Background()); len(r.Members) != 0 {
		t.Fatalf("roster changed without an audit record: %+v", r)
	}
}
