package report

import (
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/steward-dev/steward/internal/policy"
	"github.com/steward-dev/steward/internal/snapshot"
)

// benchCompliance is a report input shaped like bench/gen's projects:
// n identities, each with its own app and run-as user, the built-in rules,
// and one identity in ten with four findings.
func benchCompliance(b *testing.B, n int) ComplianceInput {
	b.Helper()
	engine, err := policy.New(context.Background(), policy.Options{})
	if err != nil {
		b.Fatal(err)
	}
	rules := engine.Rules()
	fw, err := LoadFramework("nist-csf")
	if err != nil {
		b.Fatal(err)
	}
	snap := &snapshot.Snapshot{Now: time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC), Capabilities: snapshot.Capabilities{Inventory: true, Metadata: true}}
	res := &policy.Result{Rules: rules, Findings: []policy.Finding{}, Suppressed: []policy.Finding{}}
	for i := range n {
		name := fmt.Sprintf("integration-%05d", i)
		app, user := fmt.Sprintf("App_%05d", i), fmt.Sprintf("int%05d@acme.example", i)
		snap.Identities = append(snap.Identities, snapshot.Identity{
			Name: name, Owner: "team", Service: name, Environment: "production", Criticality: "medium",
			Location:   snapshot.Location{File: "inventory/" + name + ".yaml", Line: 1},
			Salesforce: snapshot.Binding{App: app, RunAs: user, RunAsPermissionSets: []string{app}},
			Credential: snapshot.Credential{SecretRef: name, RotationDays: 90, RotatedAt: "2026-10-01"},
			Review:     snapshot.Review{IntervalDays: 90, LastReviewed: "2026-10-01"},
		})
		snap.Apps = append(snap.Apps, snapshot.App{Kind: snapshot.KindExternalClientApp, Name: app, Identities: []string{name}, Scopes: []string{"api"}})
		snap.Users = append(snap.Users, snapshot.User{Username: user, Identities: []string{name}, PermissionSets: []string{app},
			Effective: snapshot.Permissions{User: map[string][]string{"ApiEnabled": {"permission set " + app}}}})
		if i%10 != 0 {
			continue
		}
		for _, r := range rules[:4] {
			res.Findings = append(res.Findings, policy.Finding{
				Rule: r.ID, Severity: r.Severity, Title: r.Title, Message: r.Title + " for " + name, Identity: &name,
				Resource: policy.Resource{Kind: "Identity", Name: name, File: "inventory/" + name + ".yaml", Line: 1},
				Controls: r.Controls, Remediation: r.Remediation,
			})
		}
	}
	snap.Teams = []snapshot.Team{{Name: "team", Members: []string{"a@acme.example"}}}
	return ComplianceInput{Tool: Tool{Name: "steward"}, Framework: fw, Snapshot: snap, Rules: rules, Result: res}
}

// BenchmarkCompliance measures what a report adds to a check of 10,000
// identities: the assessment, and each format written to io.Discard.
func BenchmarkCompliance(b *testing.B) {
	in := benchCompliance(b, 10000)
	b.Run("assess", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Assess(context.Background(), in); err != nil {
				b.Fatal(err)
			}
		}
	})
	c, err := Assess(context.Background(), in)
	if err != nil {
		b.Fatal(err)
	}
	for _, format := range ComplianceFormats() {
		b.Run(format, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := WriteCompliance(io.Discard, format, c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
