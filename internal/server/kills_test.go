package server

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/steward-dev/steward/internal/store/storetest"
)

func TestStoreKills(t *testing.T) {
	ctx := context.Background()
	open, _ := storetest.SQLite(t)
	k := StoreKills{DB: open()}
	if names, err := k.Killed(ctx); err != nil || len(names) != 0 {
		t.Fatalf("fresh store: %v, %v", names, err)
	}
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() {
			if err := k.SetKilled(ctx, fmt.Sprintf("id-%d", i), true); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if err := k.SetKilled(ctx, "id-3", false); err != nil {
		t.Fatal(err)
	}
	if err := k.SetKilled(ctx, "id-5", true); err != nil { // again: no duplicate
		t.Fatal(err)
	}
	names, err := k.Killed(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"id-0", "id-1", "id-2", "id-4", "id-5", "id-6", "id-7", "id-8", "id-9"}
	if !slices.Equal(names, want) {
		t.Errorf("Killed = %v, want %v", names, want)
	}
	// Another handle on the same database sees the same.
	if again, _ := (StoreKills{DB: open()}).Killed(ctx); !slices.Equal(again, want) {
		t.Errorf("reopened: %v", again)
	}
}
