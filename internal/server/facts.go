package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/steward-dev/steward/internal/broker"
	"github.com/steward-dev/steward/internal/policy"
	"github.com/steward-dev/steward/internal/snapshot"
)

// decisionFacts runs the posture pack (and the rules in
// policy.postureDirs) on the snapshot once, for each identity's open
// findings, checks policy.denyFindings against the rules that ran, and
// builds the facts dec's decisions read: secret states from the store when
// secrets can list versions (*secrets.Store can), the declared dates
// otherwise, and the review status reviews gives.
func decisionFacts(ctx context.Context, cfg *Config, snap *snapshot.Snapshot, dec *broker.Decider, secrets broker.SecretReader, reviews broker.ReviewSource, logger *slog.Logger) (*broker.Facts, error) {
	eng, err := policy.New(ctx, policy.Options{Dirs: cfg.Policy.PostureDirs})
	if err != nil {
		return nil, fmt.Errorf("policy.postureDirs: %w", err)
	}
	res, err := eng.Evaluate(ctx, snap)
	if err != nil {
		return nil, fmt.Errorf("posture of the inventory: %w", err)
	}
	if err := checkDenyFindings(cfg.Policy.DenyFindings, res.Rules); err != nil {
		return nil, err
	}
	findings := OpenFindings(res.Findings)
	lister, _ := secrets.(broker.VersionLister)
	facts, err := broker.NewFacts(ctx, broker.FactsConfig{Snapshot: snap, Findings: findings, Secrets: lister, Reviews: reviews, Decider: dec, Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("decision facts: %w", err)
	}
	n := 0
	for _, fs := range findings {
		n += len(fs)
	}
	logger.Info("decision facts ready", "open_findings", n, "identities_with_findings", len(findings), "deny_findings", cfg.Policy.DenyFindings)
	return facts, nil
}

// OpenFindings groups the findings about identities by identity name, as
// the decision reads them. Findings about no identity (an org-wide one)
// are left out.
func OpenFindings(fs []policy.Finding) map[string][]broker.Finding {
	out := map[string][]broker.Finding{}
	for _, f := range fs {
		if f.Identity == nil || *f.Identity == "" {
			continue
		}
		out[*f.Identity] = append(out[*f.Identity], broker.Finding{Rule: f.Rule, Severity: f.Severity, Message: f.Message})
	}
	for _, list := range out {
		slices.SortFunc(list, func(a, b broker.Finding) int {
			if a.Rule != b.Rule {
				return strings.Compare(a.Rule, b.Rule)
			}
			return strings.Compare(a.Message, b.Message)
		})
	}
	return out
}

// checkDenyFindings refuses a policy.denyFindings entry that is neither a
// severity nor the id of a rule that runs: a typo would silently deny
// nothing.
func checkDenyFindings(entries []string, rules []policy.Rule) error {
	var errs []error
	for i, e := range entries {
		if policy.SeverityRank(e) >= 0 || slices.ContainsFunc(rules, func(r policy.Rule) bool { return r.ID == e }) {
			continue
		}
		errs = append(errs, fmt.Errorf("policy.denyFindings[%d]: %q is neither a severity (%v) nor the id of a posture rule", i, e, policy.Severities))
	}
	return errors.Join(errs...)
}
