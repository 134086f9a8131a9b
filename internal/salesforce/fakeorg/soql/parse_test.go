package soql

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	t.Parallel()
	q, err := Parse(`SELECT Id, Profile.Name, PermissionSet.Profile.Name FROM PermissionSetAssignment
		WHERE (Assignee.IsActive = true AND NOT ExpirationDate < 2026-01-02T03:04:05.000+0000)
		   OR PermissionSetId IN (SELECT Id FROM PermissionSet WHERE Name LIKE 'Int\_%')
		   AND Assignee.Username NOT IN ('a@x', 'b@x') AND Count__c >= -1.5 AND LastLoginDate = LAST_N_DAYS:30
		ORDER BY Assignee.Username DESC NULLS FIRST, Id LIMIT 10 OFFSET 5`)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]Path{{"Id"}, {"Profile", "Name"}, {"PermissionSet", "Profile", "Name"}}, q.Fields); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
	if q.From != "PermissionSetAssignment" || q.Limit != 10 || q.Offset != 5 {
		t.Errorf("from %s limit %d offset %d", q.From, q.Limit, q.Offset)
	}
	if diff := cmp.Diff([]Order{{Path: Path{"Assignee", "Username"}, Desc: true, NullsFirst: true}, {Path: Path{"Id"}, NullsFirst: true}}, q.OrderBy); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
	or, ok := q.Where.(*Or)
	if !ok {
		t.Fatalf("top of WHERE is %T, want *Or (AND binds tighter)", q.Where)
	}
	and := or.Left.(*And)
	not := and.Right.(*Not)
	cmpExpr := not.X.(*Compare)
	if cmpExpr.Op != "<" || cmpExpr.Value.Kind != DateTime || !cmpExpr.Value.Time.Equal(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Errorf("datetime compare %+v", cmpExpr)
	}
	right := or.Right.(*And)
	// ((semi-join AND NOT IN) AND >=) AND date literal
	last := right.Right.(*Compare)
	if last.Value.Kind != DateLiteral || last.Value.Name != "LAST_N_DAYS" || last.Value.N != 30 {
		t.Errorf("date literal %+v", last.Value)
	}
	ge := right.Left.(*And).Right.(*Compare)
	if ge.Op != ">=" || ge.Value.Num != -1.5 {
		t.Errorf("number %+v", ge)
	}
	notIn := right.Left.(*And).Left.(*And).Right.(*In)
	if !notIn.Negate || len(notIn.Values) != 2 || notIn.Values[1].Str != "b@x" {
		t.Errorf("NOT IN %+v", notIn)
	}
	semi := right.Left.(*And).Left.(*And).Left.(*In)
	if semi.Sub == nil || semi.Sub.From != "PermissionSet" || semi.Sub.Where.(*Compare).Value.Str != `Int\_%` {
		t.Errorf("semi-join %+v", semi)
	}
}

func TestParseValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want Value
	}{
		{"'it\\'s'", Value{Kind: String, Str: "it's"}},
		{"'a\\nb'", Value{Kind: String, Str: "a\nb"}},
		{"null", Value{Kind: Null}},
		{"TRUE", Value{Kind: Bool, Bool: true}},
		{"false", Value{Kind: Bool}},
		{"42", Value{Kind: Number, Num: 42, Str: "42"}},
		{"2024-07-03", Value{Kind: Date, Time: time.Date(2024, 7, 3, 0, 0, 0, 0, time.UTC), Str: "2024-07-03"}},
		{"2024-07-03T13:12:59Z", Value{Kind: DateTime, Time: time.Date(2024, 7, 3, 13, 12, 59, 0, time.UTC), Str: "2024-07-03T13:12:59Z"}},
		{"2024-07-03T15:12:59+02:00", Value{Kind: DateTime, Time: time.Date(2024, 7, 3, 13, 12, 59, 0, time.UTC), Str: "2024-07-03T15:12:59+02:00"}},
		{"TODAY", Value{Kind: DateLiteral, Name: "TODAY"}},
		{"last_n_days:7", Value{Kind: DateLiteral, Name: "LAST_N_DAYS", N: 7}},
	}
	for _, tt := range tests {
		q, err := Parse("SELECT Id FROM User WHERE F = " + tt.in)
		if err != nil {
			t.Errorf("%s: %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, q.Where.(*Compare).Value); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"", "unexpected token: '<EOF>'"},
		{"SELECT FROM User", "unexpected token: 'FROM'"},
		{"SELECT Id FROM", "unexpected token: '<EOF>'"},
		{"SELECT Id, FROM User", "unexpected token: 'FROM'"},
		{"SELECT Id FROM User WHERE", "unexpected token: '<EOF>'"},
		{"SELECT Id FROM User WHERE Name = ", "unexpected token: '<EOF>'"},
		{"SELECT Id FROM User WHERE Name = 'x", "expecting '''"},
		{"SELECT Id FROM User WHERE (Name = 'x'", "unexpected token: '<EOF>'"},
		{"SELECT Id FROM User GROUP BY Id", "unexpected token: 'GROUP'"},
		{"SELECT count(Id) FROM User", "unexpected token: 'Id'"},
		{"SELECT Id FROM User LIMIT x", "unexpected token: 'x'"},
		{"SELECT Id FROM User WHERE Id IN (SELECT Id, Name FROM User)", "only allowed to select one field"},
		{"SELECT Id FROM User WHERE Name = 'a\\q'", "Illegal character sequence"},
		{"SELECT Id FROM User WHERE Name ! 'a'", "unexpected token: '!'"},
		{"SELECT Id FROM User WHERE Name LIKE 3", "LIKE needs a string"},
		{"SELECT Id FROM User WHERE D = LAST_N_DAYS", "unexpected token: '<EOF>'"},
		{"SELECT Id FROM User WHERE D = YESTERDAYS", "unexpected token: 'YESTERDAYS'"},
		{"SELECT Id FROM User extra", "unexpected token: 'extra'"},
		{"SELECT a..b FROM User", "unexpected token: 'a..b'"},
		{"SELECT Id FROM User WHERE " + strings.Repeat("(", 100) + "A = 1" + strings.Repeat(")", 100), "nested too deeply"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) = %v, want an error containing %q", tt.in, err, tt.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"SELECT Id FROM User",
		"SELECT count() FROM SetupAuditTrail",
		"SELECT Id, Profile.Name FROM User WHERE IsActive = true AND (Username LIKE 'a%' OR NOT Email = null) ORDER BY Name DESC NULLS LAST LIMIT 5 OFFSET 1",
		"SELECT Id FROM PermissionSet WHERE Id IN (SELECT PermissionSetId FROM PermissionSetAssignment WHERE AssigneeId = '005000000000001')",
		"SELECT Id FROM LoginHistory WHERE LoginTime = LAST_N_DAYS:30 AND LoginTime < 2024-07-03T13:12:59.000+0000",
		"SELECT Id FROM User WHERE Name IN ('a', 'b\\'c') AND X != 1.5 AND D >= 2024-01-01",
		"SELECT Id FROM User WHERE Name = 'unterminated",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, q string) {
		parsed, err := Parse(q)
		if err == nil && parsed.From == "" {
			t.Errorf("Parse(%q) succeeded without FROM", q)
		}
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Errorf("Parse(%q) returned %T, want *Error", q, err)
			}
		}
	})
}
