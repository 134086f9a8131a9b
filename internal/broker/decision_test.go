package broker

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/format"
	"github.com/open-policy-agent/opa/v1/tester"

	"github.com/steward-dev/steward/internal/repotest"
	"github.com/steward-dev/steward/internal/snapshot"
	"github.com/steward-dev/steward/internal/workload"
)

var now = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

const ghIssuer = "https://token.actions.githubusercontent.com"

func identity() *snapshot.Identity {
	return &snapshot.Identity{
		Name:        "billing-sync-prod",
		Service:     "billing-sync",
		Owner:       "finance-platform",
		Environment: "production",
		Criticality: "high",
		Lifecycle:   "active",
		Consumers: []snapshot.Consumer{
			{OIDCIssuer: ghIssuer, OIDCSubject: "repo:acme/billing:environment:prod"},
			{SPIFFE: "spiffe://acme.org/ns/billing/sa/sync"},
		},
		Credential: snapshot.Credential{SecretRef: "billing-sync-prod", RotationDays: 90, RotatedAt: "2026-10-01"},
		Review:     snapshot.Review{IntervalDays: 90, LastReviewed: "2026-09-30"},
	}
}

func ghWorkload() *workload.Workload {
	return &workload.Workload{
		Method:      workload.MethodOIDC,
		Issuer:      ghIssuer,
		Subject:     "repo:acme/billing:environment:prod",
		Audience:    []string{"steward"},
		Environment: "production",
		ExpiresAt:   now.Add(5 * time.Minute),
		Claims: map[string]any{
			"iss": ghIssuer, "sub": "repo:acme/billing:environment:prod", "aud": "steward",
			"repository": "acme/billing", "environment": "production", "exp": float64(now.Add(5 * time.Minute).Unix()),
		},
	}
}

// goodInput is an input every default rule allows.
func goodInput() Input {
	id := identity()
	return Input{
		Workload: ghWorkload(),
		Identity: id,
		Secret:   SecretState{Version: 3, CreatedAt: now.AddDate(0, 0, -56), RotationDeadline: now.AddDate(0, 0, 34)},
		Review:   DeclaredReview(id),
		Now:      now,
	}
}

func newDecider(t testing.TB, opts DecisionOptions) *Decider {
	t.Helper()
	d, err := NewDecider(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func codes(d Decision) []string {
	var out []string
	for _, r := range d.Reasons {
		out = append(out, r.Code)
	}
	return out
}

func TestDecide(t *testing.T) {
	d := newDecider(t, DecisionOptions{})
	tests := []struct {
		name     string
		edit     func(in *Input)
		allow    bool
		codes    []string
		message  string // a substring of the first reason
		consumer int
	}{
		{"allow OIDC consumer", func(*Input) {}, true, []string{"allowed"}, "is consumer 1 of identity billing-sync-prod", 0},
		{"allow SPIFFE consumer", func(in *Input) {
			in.Workload = &workload.Workload{Method: workload.MethodSPIFFE, SPIFFEID: "spiffe://acme.org/ns/billing/sa/sync", Environment: "production"}
		}, true, []string{"allowed"}, "is consumer 2", 1},
		{"killed", func(in *Input) { in.Killed = true }, false, []string{"identity_killed"}, "is killed", 0},
		{"retired", func(in *Input) { in.Identity.Lifecycle = "retired" }, false, []string{"identity_retired"}, "is retired", 0},
		{"environment mismatch", func(in *Input) { in.Workload.Environment = "staging" }, false, []string{"environment_mismatch"}, "runs in staging but identity billing-sync-prod is for production", 0},
		{"environment not asserted", func(in *Input) { in.Workload.Environment = "" }, false, []string{"environment_mismatch"}, "asserts no environment", 0},
		{"identity without environment", func(in *Input) { in.Identity.Environment = "" }, false, []string{"environment_mismatch"}, "runs in production", 0},
		{"not a consumer", func(in *Input) { in.Workload.Subject = "repo:acme/payroll:environment:prod" }, false, []string{"consumer_not_allowed"}, "is not among the consumers", -1},
		{"consumer of another issuer", func(in *Input) { in.Workload.Issuer = "https://kubernetes.default.svc" }, false, []string{"consumer_not_allowed"}, "", -1},
		{"no consumers", func(in *Input) { in.Identity.Consumers = nil }, false, []string{"consumer_not_allowed"}, "", -1},
		{"review overdue beyond grace", func(in *Input) { in.Review.Due = now.AddDate(0, 0, -31) }, false, []string{"review_overdue"}, "grace period ended 2026-11-25T12:00:00Z", 0},
		{"review overdue within grace", func(in *Input) { in.Review.Due = now.AddDate(0, 0, -29) }, true, []string{"allowed"}, "", 0},
		{"never reviewed", func(in *Input) { in.Review = ReviewStatus{} }, true, []string{"allowed"}, "", 0},
		{"rotation overdue beyond grace", func(in *Input) { in.Secret.RotationDeadline = now.AddDate(0, 0, -8) }, false, []string{"secret_rotation_overdue"}, "grace period ended 2026-11-25T12:00:00Z", 0},
		{"rotation overdue within grace", func(in *Input) { in.Secret.RotationDeadline = now.AddDate(0, 0, -6) }, true, []string{"allowed"}, "", 0},
		{"no rotation deadline", func(in *Input) { in.Secret = SecretState{} }, true, []string{"allowed"}, "", 0},
		{"every reason at once", func(in *Input) {
			in.Killed = true
			in.Identity.Lifecycle = "retired"
			in.Workload.Environment = "development"
			in.Workload.Subject = "someone-else"
			in.Review.Due = now.AddDate(-1, 0, 0)
			in.Secret.RotationDeadline = now.AddDate(-1, 0, 0)
		}, false, []string{"consumer_not_allowed", "environment_mismatch", "identity_killed", "identity_retired", "review_overdue", "secret_rotation_overdue"}, "", -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := goodInput()
			tt.edit(&in)
			dec, err := d.Decide(context.Background(), in)
			if err != nil {
				t.Fatal(err)
			}
			if dec.Allow != tt.allow || !slices.Equal(codes(dec), tt.codes) || dec.Consumer != tt.consumer {
				t.Fatalf("decision = %+v, want allow=%v codes=%v consumer=%d", dec, tt.allow, tt.codes, tt.consumer)
			}
			if !strings.Contains(dec.Reasons[0].Message, tt.message) {
				t.Errorf("reason = %q, want it to mention %q", dec.Reasons[0].Message, tt.message)
			}
		})
	}
}

func TestDecideGraceOptions(t *testing.T) {
	d := newDecider(t, DecisionOptions{ReviewGrace: 24 * time.Hour, RotationGrace: time.Hour})
	in := goodInput()
	in.Review.Due = now.Add(-36 * time.Hour)
	in.Secret.RotationDeadline = now.Add(-2 * time.Hour)
	dec, err := d.Decide(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"review_overdue", "secret_rotation_overdue"}; dec.Allow || !slices.Equal(codes(dec), want) {
		t.Errorf("decision = %+v, want %v", dec, want)
	}
}

func writeRego(t *testing.T, dir, name, src string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestCustomRules(t *testing.T) {
	dir := t.TempDir()
	writeRego(t, dir, "acme.rego", `package steward.broker.custom.acme

deny contains {"code": "critical_finding", "message": sprintf("identity has an open critical finding %s", [f.rule])} if {
	some f in input.findings
	f.severity == "critical"
}

deny contains "agents may not use the broker" if input.identity.agent
`)
	writeRego(t, dir, "acme_test.rego", "this file is not parsed: tests are skipped")
	d := newDecider(t, DecisionOptions{Dirs: []string{dir}})
	builtin := newDecider(t, DecisionOptions{})
	if p := d.Policy(); !strings.HasPrefix(p, "sha256:") || p == builtin.Policy() || builtin.Policy() != newDecider(t, DecisionOptions{}).Policy() {
		t.Errorf("Policy() = %s with custom rules, %s without: want stable digests that differ", p, builtin.Policy())
	}

	in := goodInput()
	if dec, err := d.Decide(context.Background(), in); err != nil || !dec.Allow {
		t.Fatalf("clean input: %+v %v", dec, err)
	}
	in.Findings = []Finding{{Rule: "NHI-RUN-02", Severity: "critical", Message: "View All Data"}, {Rule: "NHI-REV-01", Severity: "medium"}}
	in.Identity.Agent = true
	in.Killed = true
	dec, err := d.Decide(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	want := []Reason{
		{"critical_finding", "identity has an open critical finding NHI-RUN-02"},
		{"custom", "agents may not use the broker"},
		{"identity_killed", "identity billing-sync-prod is killed: issuance is blocked until an operator revives it"},
	}
	if dec.Allow || !slices.Equal(dec.Reasons, want) {
		t.Errorf("decision = %+v, want deny with %v", dec, want)
	}
}

func TestCustomRuleErrors(t *testing.T) {
	tests := []struct {
		name, file, src, want string
	}{
		{"wrong package", "x.rego", "package steward.broker\n\ndeny contains \"x\" if true\n", "x.rego:1: package steward.broker: decision rules live in a package directly under steward.broker.custom"},
		{"nested package", "n.rego", "package steward.broker.custom.acme.team\n\ndeny contains \"x\" if true\n", "n.rego:1: package steward.broker.custom.acme.team: decision rules live in a package directly under"},
		{"parse error", "y.rego", "package steward.broker.custom.y\n\ndeny contains if\n", "y.rego:3: rego_parse_error"},
		{"compile error", "z.rego", "package steward.broker.custom.z\n\ndeny contains x if input.a == 1\n", "compile decision policy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeRego(t, dir, tt.file, tt.src)
			_, err := NewDecider(context.Background(), DecisionOptions{Dirs: []string{dir}})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to mention %q", err, tt.want)
			}
		})
	}
	if _, err := NewDecider(context.Background(), DecisionOptions{Dirs: []string{t.TempDir()}}); err == nil || !strings.Contains(err.Error(), "no .rego files") {
		t.Errorf("empty directory: error = %v", err)
	}
	if _, err := NewDecider(context.Background(), DecisionOptions{Dirs: []string{filepath.Join(t.TempDir(), "missing")}}); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing directory: error = %v", err)
	}
}

// TestBrokenCustomRuleFailsClosed checks that a rule failing at evaluation
// time gives an error, never a decision.
func TestBrokenCustomRuleFailsClosed(t *testing.T) {
	dir := t.TempDir()
	writeRego(t, dir, "conflict.rego", `package steward.broker.custom.conflict

level := 1 if input.killed == false

level := 2 if input.consumer.index == 0

deny contains "conflict" if level == 3
`)
	d := newDecider(t, DecisionOptions{Dirs: []string{dir}})
	dec, err := d.Decide(context.Background(), goodInput())
	if err == nil {
		t.Fatalf("decision %+v from a conflicting rule, want an error", dec)
	}
	if !strings.Contains(err.Error(), "evaluate decision policy") {
		t.Errorf("error = %v", err)
	}
}

func TestDecideRequiresWorkloadAndIdentity(t *testing.T) {
	d := newDecider(t, DecisionOptions{})
	if _, err := d.Decide(context.Background(), Input{Identity: identity()}); err == nil {
		t.Error("no workload: no error")
	}
	if _, err := d.Decide(context.Background(), Input{Workload: ghWorkload()}); err == nil {
		t.Error("no identity: no error")
	}
}

// TestRegoUnitTests runs the policy's own Rego tests, as `opa test` would.
func TestRegoUnitTests(t *testing.T) {
	mods := map[string]*ast.Module{}
	paths, err := fs.Glob(policyFS, "rego/*.rego")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		src, err := policyFS.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if mods[p], err = parseRego(p, src); err != nil {
			t.Fatal(err)
		}
	}
	ch, err := tester.NewRunner().SetModules(mods).SetDefaultRegoVersion(ast.RegoV1).RaiseBuiltinErrors(true).RunTests(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for r := range ch {
		n++
		if !r.Pass() {
			t.Errorf("%s.%s failed: %v", r.Package, r.Name, r.Error)
		}
	}
	if n < 10 {
		t.Errorf("ran %d Rego tests, want the whole suite", n)
	}
}

func TestDeclared(t *testing.T) {
	id := identity()
	s := DeclaredSecret(id)
	if !s.CreatedAt.Equal(time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)) || !s.RotationDeadline.Equal(time.Date(2026, 12, 30, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("DeclaredSecret = %+v", s)
	}
	r := DeclaredReview(id)
	if !r.Due.Equal(time.Date(2026, 12, 29, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("DeclaredReview = %+v", r)
	}
	id.Credential.RotatedAt, id.Review.LastReviewed = "", "someday"
	if s, r := DeclaredSecret(id), DeclaredReview(id); !s.RotationDeadline.IsZero() || !r.Due.IsZero() {
		t.Errorf("undated identity: %+v %+v", s, r)
	}
}

// TestIdentityValue holds the hand-built identity input to what
// encoding/json gives, for a full identity and an empty one.
func TestIdentityValue(t *testing.T) {
	full := identity()
	full.Location = snapshot.Location{File: "inventory/billing.yaml", Line: 3}
	full.Agent, full.Purpose, full.Vendor = true, "Push invoices", "Acme Partner"
	full.Salesforce = snapshot.Binding{URL: "https://acme.my.salesforce.com", OrgKind: "production", App: "Billing_Sync",
		RunAs: "billing@acme.com", RunAsProfile: "Minimum Access", RunAsPermissionSets: []string{"Billing_Integration"}}
	full.Access = snapshot.Access{Scopes: []string{"api"}, Objects: map[string][]string{"Opportunity": {"read", "edit"}, "Invoice__c": {"read"}}}
	full.Credential.InlineValue = true
	for _, id := range []*snapshot.Identity{full, {}} {
		want, err := ast.InterfaceToValue(id) // a JSON round trip
		if err != nil {
			t.Fatal(err)
		}
		got, err := ast.InterfaceToValue(identityValue(id))
		if err != nil {
			t.Fatal(err)
		}
		if got.Compare(want) != 0 {
			t.Errorf("identityValue =\n%v\nwant\n%v", got, want)
		}
	}
}

// TestDecideConcurrent shares one Decider between goroutines, as the broker
// does; run with -race.
func TestDecideConcurrent(t *testing.T) {
	d := newDecider(t, DecisionOptions{})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				in := goodInput()
				in.Killed = (g+i)%2 == 1
				dec, err := d.Decide(context.Background(), in)
				if err != nil || dec.Allow == in.Killed {
					t.Errorf("killed=%v: %+v %v", in.Killed, dec, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestPolicyIsFormatted checks that the policy files are laid out as
// `opa fmt` writes them.
func TestPolicyIsFormatted(t *testing.T) {
	files, err := fs.Glob(policyFS, "rego/*.rego")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range files {
		src, err := policyFS.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		out, err := format.SourceWithOpts(name, src, format.Opts{RegoVersion: ast.RegoV1})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, src) {
			t.Errorf("%s is not formatted as opa fmt writes it", name)
		}
	}
}

// TestExamplePolicy loads the custom rules shipped in examples/ and runs
// their Rego tests against the built-in policy.
func TestExamplePolicy(t *testing.T) {
	dir := filepath.Join(repotest.Root(t), "examples", "broker-policy")
	newDecider(t, DecisionOptions{Dirs: []string{dir}})
	mods, err := decisionModules([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	tests, err := filepath.Glob(filepath.Join(dir, "*_test.rego"))
	if err != nil || len(tests) == 0 {
		t.Fatalf("no Rego tests in %s: %v", dir, err)
	}
	for _, p := range tests {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if mods[p], err = parseRego(p, src); err != nil {
			t.Fatal(err)
		}
	}
	ch, err := tester.NewRunner().SetModules(mods).SetDefaultRegoVersion(ast.RegoV1).RaiseBuiltinErrors(true).RunTests(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for r := range ch {
		n++
		if !r.Pass() {
			t.Errorf("%s.%s failed: %v", r.Package, r.Name, r.Error)
		}
	}
	if n == 0 {
		t.Error("ran no Rego test")
	}
}
