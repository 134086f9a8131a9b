package elevation

import (
	"context"
	"errors"
	"time"

	"github.com/steward-dev/steward/internal/store"
)

// DefaultSweepInterval is how often Run looks for elevations to remove.
const DefaultSweepInterval = 30 * time.Second

// SweepResult counts what one sweep did.
type SweepResult struct {
	// Removed elevations went to their post-use review; Failed ones stay
	// active and are retried next time.
	Removed, Failed int
	// Expired requests were not decided in time.
	Expired int
}

// Sweep removes every active elevation whose time is up, whether or not
// the org's own expiry removed the assignment already, and expires the
// requests nobody decided in time. Several replicas may sweep at once:
// each elevation moves on once.
func (s *Service) Sweep(ctx context.Context) (SweepResult, error) {
	var res SweepResult
	now := s.now().UTC()
	due, err := s.db.ListElevations(ctx, store.ElevationFilter{States: []string{store.ElevationActive}, ExpiresBefore: now})
	if err != nil {
		return res, err
	}
	system := Actor{Name: SystemActor, Approver: true}
	for _, e := range due {
		if _, err := s.remove(ctx, e, system, "elevation.expire", ""); err != nil {
			if errors.Is(err, ErrState) {
				continue // another replica removed it
			}
			res.Failed++
			s.log.Error("remove an expired elevation", "elevation", e.ID, "identity", e.Identity, "error", err)
			continue
		}
		res.Removed++
	}
	pending, err := s.db.ListElevations(ctx, store.ElevationFilter{States: []string{store.ElevationRequested, store.ElevationApproved}})
	if err != nil {
		return res, err
	}
	for _, e := range pending {
		if now.Before(e.RequestExpiresAt) || e.AssignmentID != "" {
			continue
		}
		ev := s.event(system, "elevation.request.expire", e.Identity, now)
		ev.Details = map[string]string{"elevation": e.ID}
		if err := s.record(ctx, ev); err != nil {
			return res, err
		}
		from := e.State
		e.State = store.ElevationExpired
		if err := s.db.UpdateElevation(ctx, e, from); err != nil && !errors.Is(err, store.ErrConflict) {
			return res, err
		}
		res.Expired++
	}
	return res, nil
}

// Run sweeps at once (for anything that expired while Steward was down),
// then every interval until ctx ends.
func (s *Service) Run(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = DefaultSweepInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if res, err := s.Sweep(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			s.log.Error("elevation sweep", "error", err)
		} else if res != (SweepResult{}) {
			s.log.Info("elevation sweep", "removed", res.Removed, "failed", res.Failed, "expired_requests", res.Expired)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
