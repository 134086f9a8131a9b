package policy

import (
	"testing"
	"time"

	"github.com/steward-dev/steward/internal/snapshot"
)

// elevated attaches the store and one break-glass elevation of the
// well-governed identity that went by the book: requested by lee, approved
// by ana, two hours in the org on 14 October, review closed. patch changes
// it.
func elevated(s *snapshot.Snapshot, patch func(e *snapshot.Elevation)) {
	addStore(s)
	e := snapshot.Elevation{
		ID: "el-0123456789ab", Identity: wgIdentity, PermissionSet: "Billing_Breakglass", Reason: "Repair invoices",
		Reference: "INC-4711", Requester: "lee@acme.com", Approver: "ana@acme.com", State: "closed",
		DurationSeconds: 7200, MaxDurationSeconds: 14400, RequestedAt: at(10, 14, 7),
		AppliedAt: at(10, 14, 8), ExpiresAt: at(10, 14, 10), RemovedAt: at(10, 14, 10).Add(5 * time.Second),
		ReviewDueAt: at(10, 16, 10), ClosedAt: at(10, 14, 15),
	}
	if patch != nil {
		patch(&e)
	}
	s.Elevations = append(s.Elevations, e)
}

// elevationCases violate the break-glass rules, each from wellGoverned
// with the store attached.
var elevationCases = []ruleCase{
	{
		rule: "NHI-BG-01",
		positive: func(s *snapshot.Snapshot) {
			// Still in the org a day after its expiry: the removal failed.
			elevated(s, func(e *snapshot.Elevation) {
				e.State, e.RemovedAt, e.ReviewDueAt, e.ClosedAt = "active", time.Time{}, time.Time{}, time.Time{}
			})
		},
		kind: "Identity", name: wgIdentity, identity: wgIdentity, severity: "high",
		negative: func(s *snapshot.Snapshot) { elevated(s, nil) },
	},
	{
		rule: "NHI-BG-02",
		positive: func(s *snapshot.Snapshot) {
			elevated(s, func(e *snapshot.Elevation) { e.State, e.ClosedAt = "post_review_due", time.Time{} })
			s.Elevations[0].ReviewDueAt = at(10, 15, 8)
		},
		kind: "Identity", name: wgIdentity, identity: wgIdentity, severity: "medium",
		negative: func(s *snapshot.Snapshot) {
			// Ended yesterday; the review is due tomorrow.
			elevated(s, func(e *snapshot.Elevation) { e.State, e.ClosedAt = "post_review_due", time.Time{} })
		},
	},
	{
		rule: "NHI-BG-03",
		positive: func(s *snapshot.Snapshot) {
			for day := 1; day <= 4; day++ {
				elevated(s, func(e *snapshot.Elevation) { e.AppliedAt = at(10, day, 8); e.ExpiresAt = at(10, day, 9) })
			}
			s.SecretStore = nil
			addStore(s)
		},
		kind: "Identity", name: wgIdentity, identity: wgIdentity, severity: "medium",
		negative: func(s *snapshot.Snapshot) {
			for day := 1; day <= 3; day++ {
				elevated(s, func(e *snapshot.Elevation) { e.AppliedAt = at(10, day, 8); e.ExpiresAt = at(10, day, 9) })
			}
		},
	},
	{
		rule: "NHI-SEC-04",
		positive: func(s *snapshot.Snapshot) {
			// The store's active version dates from 1 October.
			elevated(s, func(e *snapshot.Elevation) { e.SecretSeen = true })
		},
		kind: "Secret", name: wgSecret, identity: wgIdentity, severity: "high",
		negative: func(s *snapshot.Snapshot) {
			elevated(s, func(e *snapshot.Elevation) { e.SecretSeen = true })
			s.SecretStore.Secrets[0].Rotated = at(10, 14, 12)
			s.SecretStore.Secrets[0].RotatedOn = "2026-10-14"
		},
	},
}

// TestElevationRulesNeedTheStore: the break-glass rules stay silent when
// the snapshot did not come with Steward's store.
func TestElevationRulesNeedTheStore(t *testing.T) {
	for _, tc := range elevationCases {
		s := wellGoverned()
		tc.positive(s)
		s.Capabilities.SecretStore = false
		if got := of(evaluate(t, s).Findings, tc.rule); len(got) > 0 {
			t.Errorf("%s fired without the store:%s", tc.rule, describe(got))
		}
	}
}

// TestBreakGlassMessages pins each rule's wording for one case.
func TestBreakGlassMessages(t *testing.T) {
	for _, tc := range []struct {
		rule  string
		patch func(e *snapshot.Elevation)
		want  string
	}{
		{"NHI-BG-01", func(e *snapshot.Elevation) { e.ExpiresAt = at(10, 17, 8) },
			"Break-glass elevation el-0123456789ab of identity billing-sync-prod (Billing_Breakglass, INC-4711) was applied at 2026-10-14T08:00:00Z until 2026-10-17T08:00:00Z, 72h, beyond its cap of 4h"},
		{"NHI-BG-02", func(e *snapshot.Elevation) { e.Approver = e.Requester },
			"Break-glass elevation el-0123456789ab of identity billing-sync-prod (Billing_Breakglass) was applied without approval by a second person (requested by lee@acme.com)"},
	} {
		s := wellGoverned()
		elevated(s, tc.patch)
		got := of(evaluate(t, s).Findings, tc.rule)
		if len(got) != 1 || got[0].Message != tc.want {
			t.Errorf("%s: got%s\nwant %q", tc.rule, describe(got), tc.want)
		}
	}
}
