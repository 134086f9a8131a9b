package secrets_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/steward-dev/steward/internal/secrets"
	"github.com/steward-dev/steward/internal/store"
	"github.com/steward-dev/steward/internal/store/storetest"
)

// TestRetire ends the active version with no successor, which Destroy then
// accepts; retiring a version that is not active is refused. Both are
// audited.
func TestRetire(t *testing.T) {
	each(t, func(t *testing.T, open storetest.Opener) {
		ctx := context.Background()
		e := newEnv(t, open(), keyring(t, newKEK("k1")))
		if _, err := e.s.Put(ctx, ana, "billing-sync-prod", bundle(knownSecret), 0, time.Hour); err != nil {
			t.Fatal(err)
		}
		if err := e.s.Destroy(ctx, ana, "billing-sync-prod", 1); err == nil {
			t.Fatal("destroyed the active version")
		}
		if err := e.s.Retire(ctx, ana, "billing-sync-prod", 1); err != nil {
			t.Fatal(err)
		}
		if _, err := e.db.Version(ctx, "billing-sync-prod", 0); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("active version after Retire: %v, want none", err)
		}
		if _, _, err := e.s.Read(ctx, ana, "billing-sync-prod", 1); !errors.Is(err, secrets.ErrExpired) {
			t.Errorf("read of the retired version: %v, want ErrExpired", err)
		}
		if err := e.s.Retire(ctx, ana, "billing-sync-prod", 1); !errors.Is(err, store.ErrConflict) {
			t.Errorf("second Retire: %v, want ErrConflict", err)
		}
		if err := e.s.Destroy(ctx, ana, "billing-sync-prod", 1); err != nil {
			t.Errorf("destroy after Retire: %v", err)
		}
		var outcomes []string
		e.db.AuditRecords(ctx, 0, func(r store.AuditRecord) error {
			if r.Action == secrets.ActionRetire {
				outcomes = append(outcomes, string(r.Body))
			}
			return nil
		})
		if len(outcomes) != 2 {
			t.Errorf("%d secret.retire records, want 2 (success and failure)", len(outcomes))
		}
	})
}
