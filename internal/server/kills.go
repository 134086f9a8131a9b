package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/steward-dev/steward/internal/store"
)

// killsKey is the store metadata key holding the killed identities.
const killsKey = "broker.killed"

// MetaStore is the part of the store the kill switches live in.
type MetaStore interface {
	Meta(ctx context.Context, key string) ([]byte, error)
	InitMeta(ctx context.Context, key string, value []byte) ([]byte, error)
	SwapMeta(ctx context.Context, key string, old, new []byte) error
}

// StoreKills keeps the kill switches in the store, as a sorted JSON list
// of identity names, so that they survive restarts and every broker on the
// same database reads them at start.
type StoreKills struct {
	DB MetaStore
}

// Killed lists the killed identities.
func (k StoreKills) Killed(ctx context.Context) ([]string, error) {
	b, err := k.DB.Meta(ctx, killsKey)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var names []string
	if err := json.Unmarshal(b, &names); err != nil {
		return nil, fmt.Errorf("kill switches in the store: %w", err)
	}
	return names, nil
}

// SetKilled turns identity's kill switch on or off, with check-and-set
// against concurrent changes.
func (k StoreKills) SetKilled(ctx context.Context, identity string, killed bool) error {
	for range 20 {
		old, err := k.DB.InitMeta(ctx, killsKey, []byte("[]"))
		if err != nil {
			return err
		}
		var names []string
		if err := json.Unmarshal(old, &names); err != nil {
			return fmt.Errorf("kill switches in the store: %w", err)
		}
		names = slices.DeleteFunc(names, func(n string) bool { return n == identity })
		if killed {
			names = append(names, identity)
		}
		slices.Sort(names)
		next, err := json.Marshal(names)
		if err != nil {
			return err
		}
		err = k.DB.SwapMeta(ctx, killsKey, old, next)
		if !errors.Is(err, store.ErrConflict) {
			return err
		}
	}
	return errors.New("kill switches: too many concurrent changes; retry")
}
