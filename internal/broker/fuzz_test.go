package broker

import (
	"context"
	"testing"

	"github.com/steward-dev/steward/internal/snapshot"
	"github.com/steward-dev/steward/internal/workload"
)

// FuzzDecide feeds arbitrary workload and identity strings to the default
// policy and checks what an allowance implies: a matched consumer, equal
// non-empty environments, an active identity, and one "allowed" reason;
// a denial always has reasons.
func FuzzDecide(f *testing.F) {
	d := newDecider(f, DecisionOptions{})
	f.Add(ghIssuer, "repo:acme/billing:environment:prod", "production", "production", "active", false)
	f.Add(ghIssuer, "repo:acme/billing:environment:prod", "", "", "active", false)
	f.Add("https://evil.test", "repo:acme/billing:environment:prod", "production", "production", "retired", true)
	f.Add(ghIssuer, "repo:acme/*", "production\x00", "production", "", false)
	f.Fuzz(func(t *testing.T, issuer, subject, wenv, ienv, lifecycle string, killed bool) {
		in := goodInput()
		in.Workload = &workload.Workload{Method: workload.MethodOIDC, Issuer: issuer, Subject: subject, Environment: wenv,
			Claims: map[string]any{"sub": subject, "x": []any{issuer, 1.5, nil}}}
		in.Identity.Environment, in.Identity.Lifecycle = ienv, lifecycle
		in.Killed = killed
		dec, err := d.Decide(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		if len(dec.Reasons) == 0 {
			t.Fatalf("decision without reasons: %+v", dec)
		}
		if !dec.Allow {
			return
		}
		c := in.Identity.Consumers
		matched := dec.Consumer >= 0 && dec.Consumer < len(c) && c[dec.Consumer] == (snapshot.Consumer{OIDCIssuer: issuer, OIDCSubject: subject})
		if !matched || wenv == "" || wenv != ienv || lifecycle == "retired" || killed || dec.Reasons[0].Code != "allowed" {
			t.Errorf("allowed %+v for issuer=%q subject=%q env=%q/%q lifecycle=%q killed=%v", dec, issuer, subject, wenv, ienv, lifecycle, killed)
		}
	})
}
