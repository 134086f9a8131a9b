package secrets

import (
	"context"
	"strconv"

	"github.com/steward-dev/steward/internal/audit"
	"github.com/steward-dev/steward/internal/store"
)

// ActionRetire records an active version retired with no successor.
const ActionRetire = "secret.retire"

// Retire ends the active version without a successor, as a kill that
// destroys an identity's secret must before Destroy accepts the version:
// from then on the identity has no active version and nothing reads it.
// It fails with store.ErrConflict when the version is not active.
func (s *Store) Retire(ctx context.Context, actor audit.Actor, identity string, version int) error {
	err := s.db.SetState(ctx, identity, version, store.StateActive, store.StateRetired, s.now())
	return s.recorded(ctx, actor, ActionRetire, identity, err, map[string]string{"version": strconv.Itoa(version)})
}
