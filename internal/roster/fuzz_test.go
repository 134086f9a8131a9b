package roster_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/steward-dev/steward/internal/roster"
)

// FuzzParse feeds arbitrary bytes to both parsers: they must return members
// or an *roster.Error naming the file, never panic, and never both.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"testdata/directory.csv", "testdata/directory.json"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, strings.HasSuffix(name, ".json"))
	}
	f.Add([]byte("team,member,role,status\npayments,\"lee\nx\",owner,active\n"), false)
	f.Add([]byte("team,member,role,status\npayments,lee,owner\n"), false)
	f.Add([]byte(`{"members":[{"team":"a","member":"b","role":"owner","status":"active"},{"team":1}]}`), true)
	f.Add([]byte(`{"members":[`), true)
	f.Fuzz(func(t *testing.T, data []byte, isJSON bool) {
		format := "csv"
		if isJSON {
			format = "json"
		}
		members, err := roster.Parse("fuzz."+format, strings.NewReader(string(data)), format)
		if err != nil {
			var re *roster.Error
			if !errors.As(err, &re) || len(re.Problems) == 0 || members != nil {
				t.Fatalf("err = %#v, members = %v", err, members)
			}
			if !strings.HasPrefix(err.Error(), "fuzz."+format+": ") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if len(members) == 0 {
			t.Fatal("no error and no members")
		}
		for _, m := range members {
			if m.Team == "" || m.Member == "" || m.Role == "" || m.Status == "" {
				t.Fatalf("accepted an incomplete member %+v", m)
			}
		}
	})
}
