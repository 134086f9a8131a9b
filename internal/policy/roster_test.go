package policy

import (
	"context"
	"strings"
	"testing"

	"github.com/steward-dev/steward/internal/snapshot"
)

// addRoster attaches an imported roster in which the well-governed
// integration's team is staffed as its Team manifest says.
func addRoster(s *snapshot.Snapshot, members ...snapshot.RosterMember) {
	s.AddRoster(&snapshot.Roster{Source: "directory.csv", Imported: at(10, 14, 9), Members: members})
}

// rosterCases violate NHI-INV-04, each from wellGoverned.
var rosterCases = []ruleCase{{
	rule: "NHI-INV-04",
	positive: func(s *snapshot.Snapshot) {
		team := s.Teams[0].Name
		addRoster(s,
			snapshot.RosterMember{Team: team, Member: "ana", Email: "ana@acme.com", Role: "owner", Status: "departed", Since: "2026-10-09"},
			snapshot.RosterMember{Team: team, Member: "raj", Email: "raj@acme.com", Role: "member", Status: "departed", Since: "2026-10-12"},
		)
	},
	kind: "Team", name: "finance-platform", identity: wgIdentity, severity: "high",
	negative: func(s *snapshot.Snapshot) {
		// One of the two members left; the other and the backup remain.
		team := s.Teams[0].Name
		addRoster(s,
			snapshot.RosterMember{Team: team, Member: "ana", Email: "ana@acme.com", Role: "owner", Status: "departed", Since: "2026-10-09"},
			snapshot.RosterMember{Team: team, Member: "raj", Email: "raj@acme.com", Role: "member", Status: "active"},
			snapshot.RosterMember{Team: team, Member: "sec-oncall", Email: "sec-oncall@acme.com", Role: "backup", Status: "active"},
		)
	},
}}

func TestINV04DepartedBackupAndOverdue(t *testing.T) {
	s := wellGoverned()
	team := s.Teams[0].Name
	addRoster(s,
		snapshot.RosterMember{Team: team, Member: "sec-oncall", Email: "sec-oncall@acme.com", Role: "backup", Status: "departed", Since: "2026-09-01"},
	)
	got := of(evaluate(t, s).Findings, "NHI-INV-04")
	if len(got) != 1 {
		t.Fatalf("want one NHI-INV-04 finding, got:%s", describe(got))
	}
	f := got[0]
	want := "Identity billing-sync-prod: backup contact sec-oncall@acme.com of team finance-platform departed on 2026-09-01; transfer it to an active team or decommission it, and rotate its secret (overdue: due 2026-09-15, 14 days after the departure)"
	if f.Message != want || f.Severity != "critical" {
		t.Errorf("finding = %s %q\nwant critical %q", f.Severity, f.Message, want)
	}
	if !strings.Contains(f.Remediation, "decommission") || !strings.Contains(f.Remediation, "rotate") {
		t.Errorf("remediation %q should say transfer or decommission, and rotate", f.Remediation)
	}
}

// BenchmarkEvaluateRoster times one evaluation of 10,000 governed
// integrations checked with an imported roster of three people per team
// (an active owner, a departed member, an active backup), so that
// NHI-INV-04 joins 30,000 roster rows to 10,000 teams.
func BenchmarkEvaluateRoster(b *testing.B) {
	e, err := New(context.Background(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	s := integrations(10000, false)
	var members []snapshot.RosterMember
	for _, t := range s.Teams {
		members = append(members,
			snapshot.RosterMember{Team: t.Name, Member: "ana", Email: "ana@acme.com", Role: "owner", Status: "active"},
			snapshot.RosterMember{Team: t.Name, Member: "lee-" + t.Name, Role: "member", Status: "departed", Since: "2026-09-01"},
			snapshot.RosterMember{Team: t.Name, Member: "sec-oncall", Email: "sec-oncall@acme.com", Role: "backup", Status: "active"},
		)
	}
	addRoster(s, members...)
	b.ResetTimer()
	for b.Loop() {
		res, err := e.Evaluate(context.Background(), s)
		if err != nil {
			b.Fatal(err)
		}
		if n := len(of(res.Findings, "NHI-INV-04")); n != 0 {
			b.Fatalf("%d NHI-INV-04 findings on governed teams", n)
		}
	}
}
