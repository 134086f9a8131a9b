package server

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/steward-dev/steward/internal/audit"
	"github.com/steward-dev/steward/internal/broker"
	"github.com/steward-dev/steward/internal/review"
	"github.com/steward-dev/steward/internal/secrets"
	"github.com/steward-dev/steward/internal/snapshot"
	"github.com/steward-dev/steward/internal/store"
	"github.com/steward-dev/steward/internal/workload"
)

const factsManifest = `apiVersion: steward.dev/v1alpha1
kind: Team
metadata: {name: erp}
spec:
  members: [kim@acme.example, lee@acme.example]
---
apiVersion: steward.dev/v1alpha1
kind: Identity
metadata:
  name: %s
spec:
  service: erp-connector
  owner: erp
  environment: production
  criticality: high
  purpose: Post orders from the ERP
  salesforce:
    url: https://acme.my.salesforce.com
    app: Erp_Connector
    runAs: erp.integration@acme.example
%s  consumers:
    - oidc: {issuer: "https://issuer.example", subject: "repo:acme/erp"}
`

// storedSecrets is a secret store holding versions of some identities.
type storedSecrets map[string][]secrets.Metadata

func (storedSecrets) Read(context.Context, audit.Actor, string, int) (secrets.Bundle, secrets.Metadata, error) {
	return secrets.Bundle{}, secrets.Metadata{}, store.ErrNotFound
}

func (s storedSecrets) History(_ context.Context, identity string) ([]secrets.Metadata, error) {
	if h, ok := s[identity]; ok {
		return h, nil
	}
	return nil, store.ErrNotFound
}

// TestDecisionFacts runs the posture pack on the broker's inventory: the
// identity that names no secret has an open NHI-SEC-01 finding, which
// denies once policy.denyFindings lists it, and secret states come from
// the store when it holds the secret.
func TestDecisionFacts(t *testing.T) {
	ctx := context.Background()
	inv := t.TempDir()
	os.WriteFile(filepath.Join(inv, "stored.yaml"), []byte(fmt.Sprintf(factsManifest, "erp-stored",
		"  credential:\n    secret: erp-stored\n    rotationDays: 30\n    rotatedAt: \"2025-01-01\"\n")), 0o600)
	os.WriteFile(filepath.Join(inv, "bare.yaml"), []byte(strings.SplitN(fmt.Sprintf(factsManifest, "erp-bare", ""), "---\n", 2)[1]), 0o600)
	cfg, err := ParseConfig("steward.yaml", []byte(fmt.Sprintf("dev: true\ninventory: [%s]\npolicy: {denyFindings: [NHI-SEC-01, critical]}\n", inv)), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	snap, err := loadSnapshot(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	rotated := time.Now().Add(-48 * time.Hour).UTC()
	st := storedSecrets{"erp-stored": {{Identity: "erp-stored", Version: 3, State: store.StateActive, Created: rotated, Rotated: rotated}}}
	dec, err := broker.NewDecider(ctx, broker.DecisionOptions{DenyFindings: cfg.Policy.DenyFindings})
	if err != nil {
		t.Fatal(err)
	}
	facts, err := decisionFacts(ctx, cfg, snap, dec, st, broker.DeclaredReviews{}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	byName := func(name string) *snapshot.Identity {
		for i := range snap.Identities {
			if snap.Identities[i].Name == name {
				return &snap.Identities[i]
			}
		}
		t.Fatalf("no identity %s in the snapshot", name)
		return nil
	}
	wl := &workload.Workload{Method: workload.MethodOIDC, Issuer: "https://issuer.example", Subject: "repo:acme/erp", Environment: "production"}
	now := time.Now()
	for _, c := range []struct {
		name    string
		source  string
		finding bool
	}{{"erp-stored", broker.SourceStore, false}, {"erp-bare", broker.SourceDeclared, true}} {
		id := byName(c.name)
		in := facts.Input(wl, id, false, now)
		if in.Secret.Source != c.source {
			t.Errorf("%s: secret from %q, want %q", c.name, in.Secret.Source, c.source)
		}
		has := slices.ContainsFunc(in.Findings, func(f broker.Finding) bool { return f.Rule == "NHI-SEC-01" })
		if has != c.finding {
			t.Errorf("%s: findings %+v; NHI-SEC-01 open: %v, want %v", c.name, in.Findings, has, c.finding)
		}
		d, err := dec.Decide(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		denied := slices.ContainsFunc(d.Reasons, func(r broker.Reason) bool { return r.Code == "open_finding" })
		if denied != c.finding || slices.ContainsFunc(d.Reasons, func(r broker.Reason) bool { return r.Code == "secret_rotation_overdue" }) {
			t.Errorf("%s: decision %+v", c.name, d.Reasons)
		}
	}
	if in := facts.Input(wl, byName("erp-stored"), false, now); in.Secret.Version != 3 || !in.Secret.RotatedAt.Equal(rotated) || !in.Secret.RotationDeadline.Equal(rotated.AddDate(0, 0, 30)) {
		t.Errorf("stored secret state: %+v", in.Secret)
	}

	// A denyFindings entry that names nothing is refused at start.
	cfg.Policy.DenyFindings = []string{"NHI-SEC-1", "Critical"}
	_, err = decisionFacts(ctx, cfg, snap, dec, st, broker.DeclaredReviews{}, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), `policy.denyFindings[0]: "NHI-SEC-1"`) || !strings.Contains(err.Error(), `policy.denyFindings[1]: "Critical"`) {
		t.Errorf("bad denyFindings: %v", err)
	}
}

// discardAudit accepts every record.
type discardAudit struct{}

func (discardAudit) Append(_ context.Context, ev audit.Event) (audit.Record, error) {
	return audit.Record{}, nil
}

// TestDecisionReviewFromStore: an identity whose manifest declares a review
// long overdue is denied with review_overdue, until its owners attest in
// Steward's store; the attestation, read through the review service,
// lifts the denial.
func TestDecisionReviewFromStore(t *testing.T) {
	ctx := context.Background()
	inv := t.TempDir()
	os.WriteFile(filepath.Join(inv, "erp.yaml"), []byte(fmt.Sprintf(factsManifest, "erp-reviewed",
		"  review:\n    intervalDays: 90\n    lastReviewed: \"2024-01-10\"\n")), 0o600)
	cfg, err := ParseConfig("steward.yaml", []byte(fmt.Sprintf("dev: true\ninventory: [%s]\n", inv)), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.OpenSQLite(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	dec, err := broker.NewDecider(ctx, broker.DecisionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wl := &workload.Workload{Method: workload.MethodOIDC, Issuer: "https://issuer.example", Subject: "repo:acme/erp", Environment: "production"}
	now := time.Now()
	overdue := func(reviews func(*snapshot.Snapshot) broker.ReviewSource) bool {
		t.Helper()
		snap, err := loadSnapshot(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		facts, err := decisionFacts(ctx, cfg, snap, dec, storedSecrets{}, reviews(snap), slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		d, err := dec.Decide(ctx, facts.Input(wl, &snap.Identities[0], false, now))
		if err != nil {
			t.Fatal(err)
		}
		return slices.ContainsFunc(d.Reasons, func(r broker.Reason) bool { return r.Code == "review_overdue" })
	}
	fromStore := func(snap *snapshot.Snapshot) broker.ReviewSource {
		svc, err := review.New(review.Config{Store: db, Audit: discardAudit{}, Identities: snap.Identities})
		if err != nil {
			t.Fatal(err)
		}
		return svc
	}
	if !overdue(func(*snapshot.Snapshot) broker.ReviewSource { return broker.DeclaredReviews{} }) {
		t.Fatal("a review declared in 2024 with a 90-day interval is not overdue")
	}
	if !overdue(fromStore) {
		t.Fatal("the store has no attestation yet, but the review is not overdue")
	}
	it, _, err := db.OpenReview(ctx, store.ReviewItem{Identity: "erp-reviewed", Kind: review.KindPeriodic, Key: "periodic:test",
		OpenedAt: now.Add(-48 * time.Hour), OpenedBy: "human:ana", DueAt: now.Add(24 * time.Hour), Evidence: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CloseReview(ctx, it.ID, store.Attestation{Decision: review.DecisionKeep, Comment: "still needed", At: now.Add(-time.Hour), By: "human:kim"}); err != nil {
		t.Fatal(err)
	}
	if overdue(fromStore) {
		t.Error("the owners attested an hour ago, but the decision still finds the review overdue")
	}
}
