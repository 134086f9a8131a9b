package secrets

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/steward-dev/steward/internal/audit"
	"github.com/steward-dev/steward/internal/store"
)

// Check proves a staged bundle works, for example by exchanging it for a
// token at the org. A nil Check only proves the version decrypts.
type Check func(ctx context.Context, b Bundle) error

// Verify moves a staged version to verified once check accepts its bundle.
func (s *Store) Verify(ctx context.Context, actor audit.Actor, identity string, version int, check Check) error {
	v, err := s.db.Version(ctx, identity, version)
	if err == nil && v.State != store.StateStaged {
		err = fmt.Errorf("secret %s version %d is %s, not staged: %w", identity, version, v.State, store.ErrConflict)
	}
	var b Bundle
	if err == nil {
		b, err = s.open(ctx, v)
	}
	if err == nil && check != nil {
		if cerr := check(ctx, b); cerr != nil {
			err = fmt.Errorf("verify secret %s version %d: %w", identity, version, cerr)
		}
	}
	b = Bundle{}
	if err == nil {
		err = s.db.SetState(ctx, identity, version, store.StateStaged, store.StateVerified, s.now())
	}
	return s.recorded(ctx, actor, ActionVerify, identity, err, map[string]string{"version": strconv.Itoa(version)})
}

// Promote makes a verified version active. The version it replaces is
// retired and stays readable for overlap, so workloads holding it keep
// working while they pick up the new one.
func (s *Store) Promote(ctx context.Context, actor audit.Actor, identity string, version int, overlap time.Duration) error {
	now := s.now()
	err := s.db.Promote(ctx, identity, version, now, now.Add(overlap))
	return s.recorded(ctx, actor, ActionPromote, identity, err, map[string]string{"version": strconv.Itoa(version), "overlap": overlap.String()})
}

// Rotate runs a whole rotation: stage b, verify it with check, promote it
// with the overlap. Each step is one durable transition; if the process
// stops between steps the active version is still the old one, and Resume
// finishes the job.
func (s *Store) Rotate(ctx context.Context, actor audit.Actor, identity string, b Bundle, expect int, check Check, overlap time.Duration) (Metadata, error) {
	if _, err := s.db.Version(ctx, identity, 0); err != nil {
		return Metadata{}, fmt.Errorf("rotate %s: %w (use put for a new secret)", identity, err)
	}
	m, err := s.Stage(ctx, actor, identity, b, expect)
	if err != nil {
		return Metadata{}, err
	}
	return s.finish(ctx, actor, identity, m.Version, store.StateStaged, check, overlap)
}

// Pending returns the newest version above the active one that is staged
// or verified: an unfinished rotation.
func (s *Store) Pending(ctx context.Context, identity string) (store.Version, error) {
	vs, err := s.db.Versions(ctx, identity)
	if err != nil {
		return store.Version{}, err
	}
	for i := len(vs) - 1; i >= 0; i-- {
		v := vs[i]
		if v.State == store.StateActive {
			break
		}
		if (v.State == store.StateStaged || v.State == store.StateVerified) && v.DeletedAt.IsZero() && v.DestroyedAt.IsZero() {
			return v, nil
		}
	}
	return store.Version{}, fmt.Errorf("secret %s has no unfinished rotation: %w", identity, store.ErrNotFound)
}

// Resume finishes an unfinished rotation from the step it reached.
func (s *Store) Resume(ctx context.Context, actor audit.Actor, identity string, check Check, overlap time.Duration) (Metadata, error) {
	v, err := s.Pending(ctx, identity)
	if err != nil {
		return Metadata{}, err
	}
	return s.finish(ctx, actor, identity, v.Version, v.State, check, overlap)
}

// Abandon gives up an unfinished rotation: the staged or verified version is
// soft-deleted (audited as secret.delete), so Resume no longer finds it,
// and the active version stays as it is. It returns the abandoned
// version's metadata.
func (s *Store) Abandon(ctx context.Context, actor audit.Actor, identity string) (Metadata, error) {
	v, err := s.Pending(ctx, identity)
	if err != nil {
		return Metadata{}, err
	}
	if err := s.Delete(ctx, actor, identity, v.Version); err != nil {
		return Metadata{}, err
	}
	return s.Show(ctx, identity, v.Version)
}

func (s *Store) finish(ctx context.Context, actor audit.Actor, identity string, version int, state string, check Check, overlap time.Duration) (Metadata, error) {
	if state == store.StateStaged {
		if err := s.Verify(ctx, actor, identity, version, check); err != nil {
			return Metadata{}, err
		}
	}
	if err := s.Promote(ctx, actor, identity, version, overlap); err != nil {
		return Metadata{}, err
	}
	return s.Show(ctx, identity, version)
}

// RewrapResult counts what Rewrap moved to the current KEK.
type RewrapResult struct {
	Versions   int `json:"versions"`
	SystemKeys int `json:"systemKeys"`
}

// Rewrap rewraps every data key and system key not yet under the key
// provider's current KEK. Ciphertext is untouched. It is safe to run
// again after an interruption, and concurrently with other writers.
func (s *Store) Rewrap(ctx context.Context, actor audit.Actor) (RewrapResult, error) {
	res, err := s.rewrap(ctx)
	details := map[string]string{"kek": s.keys.CurrentKeyID(), "versions": strconv.Itoa(res.Versions), "systemKeys": strconv.Itoa(res.SystemKeys)}
	return res, s.recorded(ctx, actor, ActionRewrap, "*", err, details)
}

func (s *Store) rewrap(ctx context.Context) (RewrapResult, error) {
	var res RewrapResult
	current := s.keys.CurrentKeyID()
	for _, name := range systemKeyNames {
		moved, err := rewrapSystemKey(ctx, s.db, s.keys, name)
		if err != nil {
			return res, err
		}
		if moved {
			res.SystemKeys++
		}
	}
	ids, err := s.db.Identities(ctx)
	if err != nil {
		return res, err
	}
	for _, id := range ids {
		vs, err := s.db.Versions(ctx, id)
		if err != nil {
			return res, err
		}
		for _, v := range vs {
			if !v.DestroyedAt.IsZero() || v.KEKID == current {
				continue
			}
			ad := aad(v.Identity, v.Version)
			dek, err := s.keys.Unwrap(ctx, v.KEKID, v.WrappedKey, ad)
			if err != nil {
				return res, fmt.Errorf("rewrap secret %s version %d: %w", v.Identity, v.Version, err)
			}
			kek, wrapped, err := s.keys.Wrap(ctx, dek, ad)
			clear(dek)
			if err != nil {
				return res, fmt.Errorf("rewrap secret %s version %d: %w", v.Identity, v.Version, err)
			}
			err = s.db.Rewrap(ctx, v.Identity, v.Version, store.Wrapped{KEKID: v.KEKID, WrappedKey: v.WrappedKey}, store.Wrapped{KEKID: kek, WrappedKey: wrapped})
			if errors.Is(err, store.ErrConflict) {
				continue // rewrapped or destroyed meanwhile
			}
			if err != nil {
				return res, err
			}
			res.Versions++
		}
	}
	return res, nil
}
