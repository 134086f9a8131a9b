package broker

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/steward-dev/steward/internal/secrets"
	"github.com/steward-dev/steward/internal/snapshot"
	"github.com/steward-dev/steward/internal/store"
)

// fakeVersions is a secret store's version history, counting reads.
type fakeVersions struct {
	hist  map[string][]secrets.Metadata
	err   error
	reads atomic.Int64
}

func (f *fakeVersions) History(_ context.Context, identity string) ([]secrets.Metadata, error) {
	f.reads.Add(1)
	if f.err != nil {
		return nil, f.err
	}
	h, ok := f.hist[identity]
	if !ok {
		return nil, store.ErrNotFound
	}
	return h, nil
}

// fakeReviews is a review service.
type fakeReviews map[string]ReviewStatus

func (f fakeReviews) Review(_ context.Context, id *snapshot.Identity) (ReviewStatus, error) {
	return f[id.Name], nil
}

func version(n int, state string, created, rotated time.Time) secrets.Metadata {
	return secrets.Metadata{Identity: "billing-sync-prod", Version: n, State: state, Created: created, Rotated: rotated}
}

func TestStoredSecret(t *testing.T) {
	id := identity() // rotationDays 90
	day := func(n int) time.Time { return now.AddDate(0, 0, n) }
	deleted := version(3, store.StateStaged, day(-1), day(-1))
	deleted.Deleted = day(0)
	destroyed := version(2, store.StateActive, day(-10), day(-9))
	destroyed.Destroyed = day(0)
	for _, c := range []struct {
		name string
		hist []secrets.Metadata
		want SecretState
	}{
		{"active", []secrets.Metadata{version(1, store.StateRetired, day(-200), day(-200)), version(2, store.StateActive, day(-20), day(-10))},
			SecretState{Source: SourceStore, Version: 2, CreatedAt: day(-20), RotatedAt: day(-10), RotationDeadline: day(80)}},
		{"staged rotation", []secrets.Metadata{version(1, store.StateActive, day(-100), day(-100)), version(2, store.StateStaged, day(-1), day(-1))},
			SecretState{Source: SourceStore, Version: 1, CreatedAt: day(-100), RotatedAt: day(-100), RotationDeadline: day(-10), Rotation: store.StateStaged}},
		{"verified rotation", []secrets.Metadata{version(1, store.StateActive, day(-100), day(-100)), version(2, store.StateVerified, day(-1), day(0))},
			SecretState{Source: SourceStore, Version: 1, CreatedAt: day(-100), RotatedAt: day(-100), RotationDeadline: day(-10), Rotation: store.StateVerified}},
		{"abandoned rotation", []secrets.Metadata{version(1, store.StateActive, day(-5), day(-5)), version(2, store.StateActive, day(-2), day(-2)), deleted},
			SecretState{Source: SourceStore, Version: 2, CreatedAt: day(-2), RotatedAt: day(-2), RotationDeadline: day(88)}},
		{"destroyed", []secrets.Metadata{destroyed},
			SecretState{Source: SourceStore}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := StoredSecret(id, c.hist); got != c.want {
				t.Errorf("StoredSecret =\n %+v\nwant\n %+v", got, c.want)
			}
		})
	}
	id.Credential.RotationDays = 0
	if got := StoredSecret(id, []secrets.Metadata{version(1, store.StateActive, day(-500), day(-500))}); !got.RotationDeadline.IsZero() {
		t.Errorf("no rotation cadence: deadline %v", got.RotationDeadline)
	}
}

// factsSnapshot holds two identities: billing-sync-prod, whose secret is
// in the store, and erp-prod, whose is not.
func factsSnapshot() *snapshot.Snapshot {
	erp := identity()
	erp.Name = "erp-prod"
	erp.Credential.RotatedAt = "2026-01-01" // declared: long overdue
	return &snapshot.Snapshot{Identities: []snapshot.Identity{*identity(), *erp}}
}

func TestFacts(t *testing.T) {
	ctx := context.Background()
	snap := factsSnapshot()
	bill, erp := &snap.Identities[0], &snap.Identities[1]
	vs := &fakeVersions{hist: map[string][]secrets.Metadata{
		"billing-sync-prod": {version(4, store.StateActive, now.AddDate(0, 0, -3), now.AddDate(0, 0, -2))},
	}}
	reviewed := ReviewStatus{LastReviewed: now.AddDate(0, 0, -1), Due: now.AddDate(0, 3, 0)}
	crit := []Finding{{Rule: "NHI-SEC-01", Severity: "critical", Message: "inline secret"}}
	f, err := NewFacts(ctx, FactsConfig{
		Snapshot: snap, Secrets: vs, Reviews: fakeReviews{"billing-sync-prod": reviewed},
		Findings: map[string][]Finding{"erp-prod": crit},
	})
	if err != nil {
		t.Fatal(err)
	}
	in := f.Input(ghWorkload(), bill, false, now)
	if in.Secret.Source != SourceStore || in.Secret.Version != 4 || !in.Secret.RotationDeadline.Equal(now.AddDate(0, 0, 88)) || in.Review != reviewed || in.Findings != nil || in.Prepared == nil {
		t.Errorf("billing-sync-prod: %+v", in)
	}
	in = f.Input(ghWorkload(), erp, true, now)
	if in.Secret != DeclaredSecret(erp) || !in.Killed || !slices.Equal(in.Findings, crit) || in.Prepared == nil || (in.Review != ReviewStatus{}) {
		t.Errorf("erp-prod: %+v", in)
	}
	// A decision reads memory only.
	reads := vs.reads.Load()
	for range 100 {
		f.Input(ghWorkload(), bill, false, now)
	}
	if vs.reads.Load() != reads {
		t.Errorf("Input read the store %d times", vs.reads.Load()-reads)
	}
	// A rotation shows after a refresh; a failed refresh keeps the last
	// known state.
	vs.hist["billing-sync-prod"] = append(vs.hist["billing-sync-prod"], version(5, store.StateStaged, now, now))
	if err := f.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if s := f.Input(ghWorkload(), bill, false, now).Secret; s.Rotation != store.StateStaged || s.Version != 4 {
		t.Errorf("after a staged rotation: %+v", s)
	}
	vs.err = errors.New("database is down")
	if err := f.Refresh(ctx); err == nil {
		t.Error("Refresh hid the store's error")
	}
	if s := f.Input(ghWorkload(), bill, false, now).Secret; s.Rotation != store.StateStaged {
		t.Errorf("after a failed refresh: %+v", s)
	}
	// An identity outside the snapshot is declared.
	other := identity()
	other.Name = "unknown"
	if in := f.Input(ghWorkload(), other, false, now); in.Secret != DeclaredSecret(other) || in.Prepared != nil {
		t.Errorf("unknown identity: %+v", in)
	}
	if _, err := NewFacts(ctx, FactsConfig{Snapshot: snap, Secrets: vs}); err == nil {
		t.Error("NewFacts started on an unreadable store")
	}
}

// TestDecideFacts runs the default policy on facts: the store's secret
// state wins over the manifest's dates, reviews come from the review
// source, and open findings deny only when configured.
func TestDecideFacts(t *testing.T) {
	ctx := context.Background()
	snap := factsSnapshot()
	bill, erp := &snap.Identities[0], &snap.Identities[1]
	bill.Credential.RotatedAt = "2025-01-01" // declared overdue, but rotated in the store
	erp.Credential.RotatedAt = "2026-11-20"  // declared fresh, but the store says otherwise
	vs := &fakeVersions{hist: map[string][]secrets.Metadata{
		"billing-sync-prod": {version(2, store.StateActive, now.AddDate(0, 0, -3), now.AddDate(0, 0, -3))},
		"erp-prod":          {version(1, store.StateActive, now.AddDate(-1, 0, 0), now.AddDate(-1, 0, 0))},
	}}
	overdue := ReviewStatus{LastReviewed: now.AddDate(-1, 0, 0), Due: now.AddDate(0, -6, 0)}
	findings := map[string][]Finding{"billing-sync-prod": {{Rule: "NHI-SEC-01", Severity: "critical", Message: "inline secret"}}}
	dir := t.TempDir()
	writeRego(t, dir, "findings.rego", `package steward.broker.custom.acme

deny contains {"code": "staged_rotation", "message": sprintf("%s is mid-rotation", [input.identity.name])} if input.secret.rotation == "staged"

deny contains sprintf("%s has %d open high findings", [input.identity.name, count(high)]) if {
	high := [f | some f in input.findings; f.severity == "high"]
	count(high) > 0
}
`)
	for _, c := range []struct {
		name     string
		opts     DecisionOptions
		id       *snapshot.Identity
		reviews  ReviewSource
		findings map[string][]Finding
		hist     []secrets.Metadata
		want     []string
	}{
		{"store secret fresh, declared overdue", DecisionOptions{}, bill, nil, findings, nil, nil},
		{"store secret overdue, declared fresh", DecisionOptions{}, erp, nil, nil, nil, []string{"secret_rotation_overdue"}},
		{"review source overdue", DecisionOptions{}, bill, fakeReviews{"billing-sync-prod": overdue}, nil, nil, []string{"review_overdue"}},
		{"finding by rule id", DecisionOptions{DenyFindings: []string{"NHI-SEC-01"}}, bill, nil, findings, nil, []string{"open_finding"}},
		{"finding by severity", DecisionOptions{DenyFindings: []string{"critical"}}, bill, nil, findings, nil, []string{"open_finding"}},
		{"finding not listed", DecisionOptions{DenyFindings: []string{"NHI-ENV-01", "high"}}, bill, nil, findings, nil, nil},
		{"custom rule on findings", DecisionOptions{Dirs: []string{dir}}, bill, nil,
			map[string][]Finding{"billing-sync-prod": {{Rule: "NHI-APP-01", Severity: "high", Message: "m"}}}, nil, []string{"custom"}},
		{"custom rule on rotation state", DecisionOptions{Dirs: []string{dir}}, bill, nil, nil,
			[]secrets.Metadata{version(2, store.StateActive, now.AddDate(0, 0, -3), now.AddDate(0, 0, -3)), version(3, store.StateStaged, now, now)}, []string{"staged_rotation"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := newDecider(t, c.opts)
			if c.hist != nil {
				vs.hist["billing-sync-prod"], c.hist = c.hist, vs.hist["billing-sync-prod"]
				defer func() { vs.hist["billing-sync-prod"] = c.hist }()
			}
			f, err := NewFacts(ctx, FactsConfig{Snapshot: snap, Secrets: vs, Reviews: c.reviews, Findings: c.findings, Decider: d, Now: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			in := f.Input(ghWorkload(), c.id, false, now)
			if in.Prepared == nil || in.Prepared.state == nil {
				t.Fatal("the input is not prepared for the decider")
			}
			dec, err := d.Decide(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			in.Prepared = nil
			if plain, err := d.Decide(ctx, in); err != nil || !slices.Equal(plain.Reasons, dec.Reasons) {
				t.Errorf("prepared decision %v, unprepared %v %v", dec.Reasons, plain.Reasons, err)
			}
			if got := codes(dec); c.want == nil && !dec.Allow || c.want != nil && !slices.Equal(got, c.want) {
				t.Errorf("decision %v %v, want %v", dec.Allow, dec.Reasons, c.want)
			}
		})
	}
}

// TestPreparedInput holds the prepared input to the one converted per
// decision, and checks that a Prepared made for something else is not
// used.
func TestPreparedInput(t *testing.T) {
	d := newDecider(t, DecisionOptions{DenyFindings: []string{"critical"}})
	in := goodInput()
	in.Secret.Source, in.Secret.RotatedAt, in.Secret.Rotation = SourceStore, now.AddDate(0, 0, -50), store.StateStaged
	in.Findings = []Finding{{Rule: "NHI-SEC-01", Severity: "critical", Message: "m"}, {Rule: "NHI-INV-02", Severity: "low", Message: "n"}}
	p, err := Prepare(in.Identity, in.Findings)
	if err != nil {
		t.Fatal(err)
	}
	plain := d.inputValue(&in, 0)
	in.Prepared = p
	if got := d.inputValue(&in, 0); ast.Compare(plain, got) != 0 {
		t.Errorf("prepared input differs:\n%v\n%v", got, plain)
	}
	// Prepared the day before: the secret's age is built again.
	if in.Prepared, err = d.PrepareState(p, in.Secret, in.Review, now.AddDate(0, 0, -1)); err != nil {
		t.Fatal(err)
	}
	if got := d.inputValue(&in, 0); ast.Compare(plain, got) != 0 {
		t.Errorf("input prepared the day before differs:\n%v\n%v", got, plain)
	}
	if in.Prepared, err = d.PrepareState(p, in.Secret, in.Review, now); err != nil {
		t.Fatal(err)
	}
	if got := d.inputValue(&in, 0); ast.Compare(plain, got) != 0 {
		t.Errorf("input with prepared state differs:\n%v\n%v", got, plain)
	}
	field := func(v ast.Value, path ...string) string {
		for _, k := range path {
			v = v.(ast.Object).Get(ast.StringTerm(k)).Value
		}
		return v.String()
	}
	// State prepared by another decider (other grace periods), or for
	// another secret state, is not used.
	other := newDecider(t, DecisionOptions{RotationGrace: time.Hour})
	if got, want := field(other.inputValue(&in, 0), "secret", "graceEnds"), `"`+stamp(in.Secret.RotationDeadline.Add(time.Hour))+`"`; got != want {
		t.Errorf("another decider's grace: %s, want %s", got, want)
	}
	in.Secret.Version = 9
	if got := field(d.inputValue(&in, 0), "secret", "version"); got != "9" {
		t.Errorf("stale prepared secret used: version %s", got)
	}
	// Prepared for another identity is ignored.
	in.Identity = identity()
	in.Identity.Name = "other"
	if got := field(d.inputValue(&in, 0), "identity", "name"); got != `"other"` {
		t.Errorf("a stale Prepared was used: name %s", got)
	}
}
