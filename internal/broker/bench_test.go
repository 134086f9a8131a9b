package broker

import (
	"context"
	"testing"
)

// BenchmarkDecide measures one runtime decision with the built-in policy:
// input conversion, evaluation and decoding, for an allowed request and for
// one denied with every built-in reason.
func BenchmarkDecide(b *testing.B) {
	d := newDecider(b, DecisionOptions{})
	deny := goodInput()
	deny.Killed = true
	deny.Identity.Lifecycle = "retired"
	deny.Workload.Environment = "development"
	deny.Workload.Subject = "someone-else"
	deny.Review.Due = now.AddDate(-1, 0, 0)
	deny.Secret.RotationDeadline = now.AddDate(-1, 0, 0)
	for _, bc := range []struct {
		name  string
		in    Input
		allow bool
	}{{"allow", goodInput(), true}, {"deny", deny, false}} {
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
