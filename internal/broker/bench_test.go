package broker

import (
	"context"
	"testing"
)

// BenchmarkDecide measures one runtime decision with the built-in policy:
// input conversion, evaluation and decoding, for an allowed request, for
// one denied with every built-in reason, and for an allowed one with two
// open findings, converted per decision and prepared as the server
// prepares them (identity, findings, secret state and review).
func BenchmarkDecide(b *testing.B) {
	d := newDecider(b, DecisionOptions{})
	deny := goodInput()
	deny.Killed = true
	deny.Identity.Lifecycle = "retired"
	deny.Workload.Environment = "development"
	deny.Workload.Subject = "someone-else"
	deny.Review.Due = now.AddDate(-1, 0, 0)
	deny.Secret.RotationDeadline = now.AddDate(-1, 0, 0)
	// As the server decides: the identity, its findings, secret state and
	// review prepared ahead, with two open findings the default settings
	// let pass.
	findings := goodInput()
	findings.Findings = []Finding{{Rule: "NHI-SEC-01", Severity: "critical", Message: "m"}, {Rule: "NHI-INV-02", Severity: "low", Message: "n"}}
	prepared := findings
	p, err := Prepare(prepared.Identity, prepared.Findings)
	if err != nil {
		b.Fatal(err)
	}
	if prepared.Prepared, err = d.PrepareState(p, prepared.Secret, prepared.Review, now); err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name  string
		in    Input
		allow bool
	}{{"allow", goodInput(), true}, {"deny", deny, false}, {"allow-findings", findings, true}, {"allow-prepared", prepared, true}} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				dec, err := d.Decide(ctx, bc.in)
				if err != nil || dec.Allow != bc.allow {
					b.Fatal(dec, err)
				}
			}
		})
	}
}
