package elevation

import (
	"context"
	"fmt"

	"github.com/steward-dev/steward/internal/snapshot"
	"github.com/steward-dev/steward/internal/store"
)

// AddToSnapshot reads every elevation into the snapshot, for the
// break-glass rules (NHI-BG-01, -02, -03, NHI-SEC-04). It only reads.
func AddToSnapshot(ctx context.Context, db store.Elevations, snap *snapshot.Snapshot) error {
	es, err := db.ListElevations(ctx, store.ElevationFilter{})
	if err != nil {
		return fmt.Errorf("read the elevations: %w", err)
	}
	out := make([]snapshot.Elevation, 0, len(es))
	for _, e := range es {
		out = append(out, snapshotOf(e))
	}
	snap.Elevations = out
	return nil
}

func snapshotOf(e store.Elevation) snapshot.Elevation {
	return snapshot.Elevation{
		ID: e.ID, Identity: e.Identity, PermissionSet: e.PermissionSet, Reason: e.Reason, Reference: e.Reference,
		Requester: e.Requester, Approver: e.Approver, State: e.State,
		DurationSeconds: int64(e.Duration.Seconds()), MaxDurationSeconds: int64(e.MaxDuration.Seconds()),
		RequestedAt: e.RequestedAt, AppliedAt: e.AppliedAt, ExpiresAt: e.ExpiresAt, RemovedAt: e.RemovedAt,
		ReviewDueAt: e.ReviewDueAt, ClosedAt: e.ClosedAt, SecretSeen: e.SecretSeen,
	}
}
