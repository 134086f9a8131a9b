package cli

import (
	"context"

	"github.com/steward-dev/steward/internal/report"
	"github.com/steward-dev/steward/internal/snapshot"
	"github.com/steward-dev/steward/internal/store"
)

// storeReviews gives a compliance report the review items Steward's store
// holds.
type storeReviews struct{ db store.Reviews }

// Reviews returns every review item of the named identities.
func (s storeReviews) Reviews(ctx context.Context, identities []string) (map[string][]report.Review, error) {
	want := make(map[string]bool, len(identities))
	for _, n := range identities {
		want[n] = true
	}
	items, err := s.db.ReviewItems(ctx, store.ReviewFilter{})
	if err != nil {
		return nil, err
	}
	out := map[string][]report.Review{}
	for _, it := range items {
		if !want[it.Identity] {
			continue
		}
		out[it.Identity] = append(out[it.Identity], report.Review{
			Campaign: it.Campaign, Trigger: it.Kind, Due: it.DueAt,
			Decision: it.Decision, Decided: it.ClosedAt, By: it.ClosedBy, Comment: it.Comment,
		})
	}
	return out, nil
}

// snapshotElevations gives a compliance report the break-glass elevations
// the snapshot took from Steward's store.
type snapshotElevations []snapshot.Elevation

// Elevations returns the elevations of the named identities.
func (es snapshotElevations) Elevations(_ context.Context, identities []string) (map[string][]report.Elevation, error) {
	want := make(map[string]bool, len(identities))
	for _, n := range identities {
		want[n] = true
	}
	out := map[string][]report.Elevation{}
	for _, e := range es {
		if !want[e.Identity] {
			continue
		}
		post := ""
		switch {
		case !e.ClosedAt.IsZero():
			post = "done"
		case !e.ReviewDueAt.IsZero():
			post = "open"
		}
		out[e.Identity] = append(out[e.Identity], report.Elevation{
			ID: e.ID, Grant: e.PermissionSet, Reason: e.Reason, Reference: e.Reference,
			RequestedBy: e.Requester, ApprovedBy: e.Approver, State: e.State,
			Start: e.AppliedAt, Expires: e.ExpiresAt, Ended: e.RemovedAt, PostUseReview: post,
		})
	}
	return out, nil
}
