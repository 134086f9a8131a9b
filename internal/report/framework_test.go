package report

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/steward-dev/steward/internal/policy"
	"github.com/steward-dev/steward/internal/snapshot"
)

// TestBuiltinCatalogues checks that every framework catalogue loads and
// that every control reference of the built-in policy pack that belongs to
// one of the four frameworks has a title in its catalogue, so that a new
// reference in a rule's METADATA cannot go untitled.
func TestBuiltinCatalogues(t *testing.T) {
	if got, want := Frameworks(), []string{"cis", "nist-800-53", "nist-csf", "owasp-nhi"}; !cmp.Equal(got, want) {
		t.Fatalf("Frameworks() = %v, want %v", got, want)
	}
	engine, err := policy.New(context.Background(), policy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range Frameworks() {
		fw, err := LoadFramework(id)
		if err != nil {
			t.Fatal(err)
		}
		titled := map[string]bool{}
		for _, c := range fw.Controls {
			titled[c.ID] = true
		}
		used := 0
		for _, r := range engine.Rules() {
			for _, ref := range r.Controls {
				ctl, ok := fw.ControlID(ref)
				if !ok {
					continue
				}
				used++
				if !titled[ctl] {
					t.Errorf("%s: rule %s refers to %q, which frameworks/%s.yaml does not list", id, r.ID, ref, id)
				}
			}
		}
		if used == 0 {
			t.Errorf("%s: no built-in rule refers to the framework", id)
		}
	}
	if _, err := LoadFramework("iso27001"); err == nil || !strings.Contains(err.Error(), "owasp-nhi") {
		t.Errorf("unknown framework error = %v, want the valid names", err)
	}
}

// TestLoadFrameworkCopies checks that a caller cannot change the built-in
// catalogue through what LoadFramework returns.
func TestLoadFrameworkCopies(t *testing.T) {
	a, _ := LoadFramework("cis")
	a.Controls[0].Title = "changed"
	b, _ := LoadFramework("cis")
	if b.Controls[0].Title == "changed" {
		t.Error("LoadFramework shares the catalogue's controls")
	}
}

func TestDecodeFrameworkErrors(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"unknown field", "id: x\nname: X\nreference: 'X '\ncolour: red\ncontrols: [{id: a, title: A}]\n", "colour"},
		{"duplicate control", "id: x\nname: X\nreference: 'X '\ncontrols: [{id: a, title: A}, {id: a, title: B}]\n", "control a is listed twice"},
		{"untitled control", "id: x\nname: X\nreference: 'X '\ncontrols: [{id: a}]\n", "control 1 needs an id and a title"},
		{"no reference", "id: x\nname: X\ncontrols: [{id: a, title: A}]\n", "reference prefix"},
		{"no controls", "id: x\nname: X\nreference: 'X '\n", "no controls"},
		{"not yaml", "id: [\n", "x.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeFramework("x.yaml", []byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

func FuzzDecodeFramework(f *testing.F) {
	for _, name := range []string{"owasp-nhi", "nist-csf", "cis", "nist-800-53"} {
		data, err := frameworkFS.ReadFile("frameworks/" + name + ".yaml")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("id: x\nname: X\nreference: 'X '\ncontrols: [{id: a, title: A}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fw, err := decodeFramework("fuzz.yaml", data)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, c := range fw.Controls {
			if c.ID == "" || c.Title == "" || seen[c.ID] {
				t.Fatalf("decodeFramework accepted a bad control: %+v", c)
			}
			seen[c.ID] = true
		}
	})
}

// testFramework is a small catalogue: two controls the test rules cover,
// one no rule covers.
func testFramework() *Framework {
	return &Framework{
		ID: "test", Name: "Test Framework", Version: "1", Reference: "TF ",
		Controls: []Control{
			{ID: "A-1", Title: "Least privilege", Group: "A"},
			{ID: "A-2", Title: "Secrets are rotated", Group: "A"},
			{ID: "B-1", Title: "Nobody covers this", Group: "B"},
		},
	}
}

// testCompliance is a snapshot of three identities, rules mapped to the
// test framework (one needing live data), and a policy result with an
// active finding, a finding on a shared app that names no identity, a
// suppressed one, and one for a control the catalogue lacks.
func testCompliance() ComplianceInput {
	now := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	snap := &snapshot.Snapshot{
		Now: now, Source: "metadata",
		Capabilities: snapshot.Capabilities{Inventory: true, Metadata: true, SecretStore: true},
		Identities: []snapshot.Identity{
			{Name: "gamma", Owner: "ops", Salesforce: snapshot.Binding{App: "Shared", RunAs: "shared@x"}},
			{Name: "alpha", Owner: "fin", Location: snapshot.Location{File: "inv/alpha.yaml", Line: 3},
				Salesforce: snapshot.Binding{App: "Alpha", RunAs: "alpha@x"},
				Credential: snapshot.Credential{SecretRef: "alpha-secret", RotationDays: 30, RotatedAt: "2026-10-01"},
				Review:     snapshot.Review{IntervalDays: 90, LastReviewed: "2026-06-01"}},
			{Name: "beta", Owner: "ops", Salesforce: snapshot.Binding{App: "Shared", RunAs: "shared@x"}},
		},
		Teams: []snapshot.Team{{Name: "fin", Members: []string{"ana@x"}, Backup: "sec@x"}},
		Exceptions: []snapshot.Exception{{Name: "beta-ok", Identity: "beta", Rule: "R-SEC", Reason: "Migration planned",
			ApprovedBy: "ciso@x", Expires: "2027-01-31", CompensatingControls: []string{"ip-restriction"}}},
		Apps: []snapshot.App{
			{Kind: snapshot.KindConnectedApp, Name: "Shared", Identities: []string{"beta", "gamma"}, Scopes: []string{"api"}},
			{Kind: snapshot.KindExternalClientApp, Name: "Alpha", Identities: []string{"alpha"}, Scopes: []string{"api", "full"},
				Flows: snapshot.Flows{ClientCredentials: true}, Location: snapshot.Location{File: "eca/Alpha.xml", Line: 2}},
		},
		Users: []snapshot.User{{Username: "alpha@x", Profile: "Admin", Identities: []string{"alpha"},
			Effective: snapshot.Permissions{
				User:    map[string][]string{"ModifyAllData": {"profile Admin"}, "ApiEnabled": {"profile Admin"}},
				Objects: map[string]snapshot.ObjectAccess{"Case": {Read: true, Edit: true}, "Lead": {}},
			}}},
		SecretStore: &snapshot.SecretStore{Secrets: []snapshot.Secret{{
			Name: "alpha-secret", Identities: []string{"alpha"}, Version: 2, Rotation: "idle",
			Rotated: now.Add(-10 * 24 * time.Hour), RotatedOn: "2026-11-15", LastRead: now.Add(-time.Hour), LastReadBy: "workload:w",
			Readers: []snapshot.Reader{{Kind: "workload", ID: "w", Count: 3}, {Kind: "human", ID: "ana@x", Count: 1}},
		}}},
	}
	ptr := func(s string) *string { return &s }
	rules := []policy.Rule{
		{ID: "R-PRIV", Title: "Run-as user is privileged", Severity: "high", Controls: []string{"TF A-1", "OTHER 9"}},
		{ID: "R-SEC", Title: "Secret too old", Severity: "medium", Controls: []string{"TF A-2", "TF Z-9"}},
		{ID: "R-LIVE", Title: "Dormant", Severity: "low", Controls: []string{"TF A-2"}, Live: true},
		{ID: "R-ENV", Title: "Shared app", Severity: "high", Controls: []string{"TF A-1"}},
	}
	res := &policy.Result{
		Rules: []policy.Rule{rules[0], rules[1], rules[3]},
		Findings: []policy.Finding{
			{Rule: "R-PRIV", Severity: "high", Message: "alpha@x has ModifyAllData", Identity: ptr("alpha"),
				Resource: policy.Resource{Kind: "User", Name: "alpha@x"}, Controls: rules[0].Controls},
			{Rule: "R-ENV", Severity: "high", Message: "Shared serves two services",
				Resource: policy.Resource{Kind: snapshot.KindConnectedApp, Name: "Shared", File: "apps/Shared.xml", Line: 7}, Controls: rules[3].Controls},
			{Rule: "R-SEC", Severity: "medium", Message: "Legacy app secret is old",
				Resource: policy.Resource{Kind: snapshot.KindConnectedApp, Name: "Legacy"}, Controls: rules[1].Controls},
		},
		Suppressed: []policy.Finding{
			{Rule: "R-SEC", Severity: "medium", Message: "beta secret is old", Identity: ptr("beta"), SuppressedBy: "beta-ok",
				Resource: policy.Resource{Kind: "Secret", Name: "beta"}, Controls: rules[1].Controls},
		},
	}
	return ComplianceInput{
		Tool: Tool{Name: "steward", Version: "1.2.3"}, Framework: testFramework(), Snapshot: snap, Rules: rules, Result: res,
	}
}

func assess(t *testing.T, in ComplianceInput) *Compliance {
	t.Helper()
	c, err := Assess(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestAssessControls(t *testing.T) {
	c := assess(t, testCompliance())
	type row struct {
		ID, Status                        string
		Satisfied, NotSatisfied, Excepted []string
		Evidence, Exceptions              int
		Catalogued                        bool
	}
	var got []row
	for _, cc := range c.Controls {
		got = append(got, row{cc.ID, cc.Status, cc.Satisfied, cc.NotSatisfied, cc.Excepted, len(cc.Evidence), len(cc.Exceptions), cc.Catalogued})
	}
	want := []row{
		// alpha by name; beta and gamma through the shared app they declare.
		{"A-1", StatusNotSatisfied, []string{}, []string{"alpha", "beta", "gamma"}, []string{}, 2, 0, true},
		// The Legacy app's finding fails the control without failing an
		// identity; beta's finding is accepted by its exception.
		{"A-2", StatusNotSatisfied, []string{"alpha", "gamma"}, []string{}, []string{"beta"}, 1, 1, true},
		{"B-1", StatusNotAssessed, []string{}, []string{}, []string{}, 0, 0, true},
		// A control a rule names that the catalogue lacks comes last.
		{"Z-9", StatusNotSatisfied, []string{"alpha", "gamma"}, []string{}, []string{"beta"}, 1, 1, false},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("controls (-want +got):\n%s", diff)
	}
	a2 := c.Controls[1]
	if len(a2.Rules) != 2 || a2.Rules[0].ID != "R-LIVE" || a2.Rules[0].Ran || !strings.Contains(a2.Rules[0].NotRun, "live org") {
		t.Errorf("A-2 rules = %+v, want R-LIVE not run for want of a live org", a2.Rules)
	}
	x := a2.Exceptions[0].Exception
	if x.Name != "beta-ok" || x.Reason != "Migration planned" || x.Expires != "2027-01-31" || x.ApprovedBy != "ciso@x" {
		t.Errorf("exception = %+v", x)
	}
	if c.Controls[2].Reason != "no rule in the policy pack covers this control" {
		t.Errorf("B-1 reason = %q", c.Controls[2].Reason)
	}
	want2 := ComplianceSum{Controls: 4, Satisfied: 0, NotSatisfied: 3, NotAssessed: 1, Identities: 3, IdentitiesFailing: 3}
	if c.Summary != want2 {
		t.Errorf("summary = %+v, want %+v", c.Summary, want2)
	}
}

// TestAssessNotAssessedWhenNoRuleRan checks that a control whose only rule
// needs live data is not assessed offline, and says why.
func TestAssessNotAssessedWhenNoRuleRan(t *testing.T) {
	in := testCompliance()
	in.Rules = []policy.Rule{
		{ID: "R-LIVE", Controls: []string{"TF A-1"}, Live: true},
		{ID: "R-STORE", Controls: []string{"TF A-1"}, Requires: []string{"loginHistory", "secretStore"}},
		{ID: "R-ROSTER", Controls: []string{"TF A-1"}, Requires: []string{"roster"}},
	}
	in.Result = &policy.Result{}
	c := assess(t, in)
	a1 := c.Controls[0]
	// The snapshot has the secret store, so R-STORE lacks only the login
	// history; a capability the report does not know is named as is.
	if a1.Status != StatusNotAssessed || !strings.Contains(a1.Reason, "R-LIVE needs a live org") ||
		!strings.Contains(a1.Reason, "R-STORE needs login history from a live org") || !strings.Contains(a1.Reason, "R-ROSTER needs roster") {
		t.Errorf("A-1 = %s (%s)", a1.Status, a1.Reason)
	}
	if len(a1.Satisfied)+len(a1.NotSatisfied) != 0 {
		t.Errorf("a control not assessed lists identities: %v %v", a1.Satisfied, a1.NotSatisfied)
	}
}

func TestAssessIdentityCards(t *testing.T) {
	c := assess(t, testCompliance())
	if len(c.Cards) != 3 || c.Cards[0].Name != "alpha" || c.Cards[2].Name != "gamma" {
		t.Fatalf("cards out of order: %d", len(c.Cards))
	}
	alpha, beta := c.Cards[0], c.Cards[1]
	if alpha.Team == nil || alpha.Team.Backup != "sec@x" || beta.Team != nil {
		t.Errorf("teams: alpha %+v, beta %+v", alpha.Team, beta.Team)
	}
	if !alpha.App.Found || alpha.App.Kind != snapshot.KindExternalClientApp || !cmp.Equal(alpha.App.Flows, []string{"clientCredentials"}) {
		t.Errorf("alpha app = %+v", alpha.App)
	}
	if !cmp.Equal(beta.App.SharedWith, []string{"gamma"}) || !cmp.Equal(beta.RunAs.SharedWith, []string{"gamma"}) {
		t.Errorf("beta shares = %v, %v; want gamma", beta.App.SharedWith, beta.RunAs.SharedWith)
	}
	wantPerms := []PermissionGrant{{Name: "ApiEnabled", GrantedBy: []string{"profile Admin"}}, {Name: "ModifyAllData", GrantedBy: []string{"profile Admin"}}}
	if diff := cmp.Diff(wantPerms, alpha.RunAs.UserPermissions); diff != "" {
		t.Errorf("alpha permissions (-want +got):\n%s", diff)
	}
	// Lead grants nothing and is left out.
	if diff := cmp.Diff([]ObjectGrant{{Object: "Case", Access: []string{"read", "edit"}}}, alpha.RunAs.Objects); diff != "" {
		t.Errorf("alpha objects (-want +got):\n%s", diff)
	}
	// The store's rotation (10 days ago) wins over the declared one (55).
	if alpha.Secret.AgeDays != 10 || alpha.Secret.Store == nil || alpha.Secret.Store.Version != 2 {
		t.Errorf("alpha secret = %+v", alpha.Secret)
	}
	if r := alpha.Secret.Store.Readers; r[0].Kind != "human" || r[1].Kind != "workload" {
		t.Errorf("readers not sorted: %+v", r)
	}
	if alpha.LastUse.Live || alpha.LastUse.SecretRead.IsZero() {
		t.Errorf("alpha last use = %+v, want the store's read and live false", alpha.LastUse)
	}
	if !alpha.Review.Overdue || alpha.Review.Due != "2026-08-30" {
		t.Errorf("alpha review = %+v, want due 2026-08-30 and overdue", alpha.Review)
	}
	if len(alpha.Findings) != 1 || len(beta.Findings) != 1 || beta.Findings[0].Rule != "R-ENV" || len(beta.Exceptions) != 1 {
		t.Errorf("findings: alpha %d, beta %d (%v) with %d exceptions", len(alpha.Findings), len(beta.Findings), beta.Findings, len(beta.Exceptions))
	}
	if alpha.Reviews != nil || alpha.Elevations != nil {
		t.Error("reviews or elevations present without a source")
	}
}

// fakeHistory is a review and elevation source with fixed records.
type fakeHistory struct {
	err       error
	asked     []string
	reviews   map[string][]Review
	elevation map[string][]Elevation
}

func (f *fakeHistory) Reviews(_ context.Context, ids []string) (map[string][]Review, error) {
	f.asked = ids
	return f.reviews, f.err
}

func (f *fakeHistory) Elevations(_ context.Context, ids []string) (map[string][]Elevation, error) {
	return f.elevation, f.err
}

func TestAssessReviewsAndElevations(t *testing.T) {
	d := func(day int) time.Time { return time.Date(2026, 11, day, 0, 0, 0, 0, time.UTC) }
	h := &fakeHistory{
		reviews: map[string][]Review{"alpha": {
			{Campaign: "2026-q3", Trigger: "periodic", Due: d(1), Decision: "keep", Decided: d(2), By: "ana@x"},
			{Campaign: "expansion-7", Trigger: "new scope full", Due: d(20)},
		}},
		elevation: map[string][]Elevation{"beta": {{ID: "e1", Grant: "Case_Admin", State: "expired", Start: d(3), Expires: d(3).Add(4 * time.Hour), PostUseReview: "open"}}},
	}
	in := testCompliance()
	in.Reviews, in.Elevations = h, h
	c := assess(t, in)
	if !cmp.Equal(h.asked, []string{"alpha", "beta", "gamma"}) {
		t.Errorf("the source was asked for %v", h.asked)
	}
	alpha, beta, gamma := c.Cards[0], c.Cards[1], c.Cards[2]
	if len(alpha.Reviews) != 2 || alpha.Reviews[0].Campaign != "expansion-7" {
		t.Errorf("alpha reviews = %+v, want the latest due first", alpha.Reviews)
	}
	if len(beta.Elevations) != 1 || gamma.Elevations == nil || len(gamma.Elevations) != 0 || gamma.Reviews == nil {
		t.Errorf("elevations: beta %v, gamma %v; a source without records must give an empty list, not no data", beta.Elevations, gamma.Elevations)
	}
	var md bytes.Buffer
	if err := WriteCompliance(&md, "markdown", c); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"| expansion-7 | new scope full | 2026-11-20 | open |", "| e1 | Case_Admin | expired |", "**Elevations:** none."} {
		if !strings.Contains(md.String(), s) {
			t.Errorf("markdown lacks %q", s)
		}
	}

	h.err = errors.New("database is locked")
	if _, err := Assess(context.Background(), in); err == nil || !strings.Contains(err.Error(), "read access reviews: database is locked") {
		t.Errorf("source error = %v", err)
	}
}

// TestComplianceDeterministic renders the same input twice, once with the
// findings reversed, and expects the same bytes in every format.
func TestComplianceDeterministic(t *testing.T) {
	for _, format := range ComplianceFormats() {
		a := testCompliance()
		b := testCompliance()
		fs := b.Result.Findings
		for i, j := 0, len(fs)-1; i < j; i, j = i+1, j-1 {
			fs[i], fs[j] = fs[j], fs[i]
		}
		var outA, outB bytes.Buffer
		if err := WriteCompliance(&outA, format, assess(t, a)); err != nil {
			t.Fatal(err)
		}
		if err := WriteCompliance(&outB, format, assess(t, b)); err != nil {
			t.Fatal(err)
		}
		if outA.String() != outB.String() {
			t.Errorf("%s: output depends on the order of the findings", format)
		}
	}
	if err := WriteCompliance(&bytes.Buffer{}, "sarif", assess(t, testCompliance())); err == nil {
		t.Error("sarif accepted for a compliance report")
	}
}

// TestComplianceJSONShape checks the JSON field names other tools read,
// and that lists are never null except reviews and elevations without a
// source.
func TestComplianceJSONShape(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteCompliance(&buf, "json", assess(t, testCompliance())); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Framework struct{ ID string } `json:"framework"`
		Controls  []map[string]any    `json:"controls"`
		Cards     []map[string]any    `json:"identities"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Framework.ID != "test" || len(doc.Controls) != 4 || len(doc.Cards) != 3 {
		t.Fatalf("framework %q, %d controls, %d cards", doc.Framework.ID, len(doc.Controls), len(doc.Cards))
	}
	for _, k := range []string{"satisfied", "notSatisfied", "excepted", "evidence", "exceptions", "rules"} {
		if doc.Controls[2][k] == nil {
			t.Errorf("control B-1: %s is null", k)
		}
	}
	if doc.Cards[0]["reviews"] != nil || doc.Cards[0]["findings"] == nil {
		t.Errorf("alpha card: reviews %v, findings %v", doc.Cards[0]["reviews"], doc.Cards[0]["findings"])
	}
}

// TestComplianceJSONStream checks that the JSON written a piece at a time
// is what encoding the whole report at once gives.
func TestComplianceJSONStream(t *testing.T) {
	in := testCompliance()
	in.Errors = []Problem{{File: "a.yaml", Line: 2, Message: "bad <field>"}}
	c := assess(t, in)
	var streamed, whole bytes.Buffer
	if err := WriteCompliance(&streamed, "json", c); err != nil {
		t.Fatal(err)
	}
	if err := encodeJSON(&whole, c); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(whole.String(), streamed.String()); diff != "" {
		t.Errorf("streamed JSON differs (-whole +streamed):\n%s", diff)
	}
}

// TestMDCMatchesMDCell checks the fast path of mdc against mdCell.
func TestMDCMatchesMDCell(t *testing.T) {
	for _, s := range []string{"", "billing-sync-prod", "a|b", `a\b`, "a\nb", "a\r\nb", "<b>", "NHI5:2025", "ünïcode – ok", "x\ry"} {
		if got, want := mdc(s), mdCell(s); got != want {
			t.Errorf("mdc(%q) = %q, mdCell = %q", s, got, want)
		}
	}
}

// TestComplianceMarkdownTables checks that hostile text cannot break a
// Markdown table: every row has as many cells as its header.
func TestComplianceMarkdownTables(t *testing.T) {
	in := testCompliance()
	in.Result.Findings[0].Message = "pipes | and\nnewlines | <b>html</b> \\"
	in.Snapshot.Identities[1].Purpose = "a | b\nc"
	var buf bytes.Buffer
	if err := WriteCompliance(&buf, "markdown", assess(t, in)); err != nil {
		t.Fatal(err)
	}
	cells := func(line string) int {
		line = strings.ReplaceAll(line, `\\`, "")
		line = strings.ReplaceAll(line, `\|`, "")
		return strings.Count(line, "|") - 1
	}
	want := 0
	for _, line := range strings.Split(buf.String(), "\n") {
		if !strings.HasPrefix(line, "|") {
			want = 0
			continue
		}
		if want == 0 {
			want = cells(line)
			continue
		}
		if got := cells(line); got != want {
			t.Errorf("row has %d cells, header %d: %q", got, want, line)
		}
	}
	if strings.Contains(buf.String(), "<b>") {
		t.Error("HTML in a message reaches the Markdown unescaped")
	}
}
