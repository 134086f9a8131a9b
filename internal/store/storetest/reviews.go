package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/steward-dev/steward/internal/store"
)

// RunReviews runs the conformance suite of the access-review items; fresh
// returns an opener for a new, empty database each time it is called.
func RunReviews(t *testing.T, fresh func(t *testing.T) Opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open Opener)
	}{
		{"OpenIsIdempotent", testOpenReviewIdempotent},
		{"CloseOnce", testCloseReviewOnce},
		{"Filter", testReviewFilter},
		{"LastAttested", testLastAttested},
		{"ConcurrentOpenAndClose", testConcurrentReviews},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, fresh(t)) })
	}
}

func reviewItem(identity, key string) store.ReviewItem {
	return store.ReviewItem{
		Identity: identity, Kind: "expansion", Key: key, Campaign: "expansion/2026-11",
		OpenedAt: t0, OpenedBy: "human:ana", DueAt: t0.Add(14 * 24 * time.Hour),
		Evidence: []byte(`{"changes":[{"kind":"widened","field":"scopes","after":"full"}]}`),
	}
}

func testOpenReviewIdempotent(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open()
	first, created, err := s.OpenReview(ctx, reviewItem("erp-prod", "k1"))
	if err != nil || !created {
		t.Fatalf("first open: created %t, %v", created, err)
	}
	if first.ID == 0 || first.Status != store.ReviewOpen || !first.OpenedAt.Equal(t0) || string(first.Evidence) != string(reviewItem("", "").Evidence) {
		t.Errorf("stored item %+v", first)
	}
	again := reviewItem("erp-prod", "k1")
	again.Campaign = "other"
	second, created, err := s.OpenReview(ctx, again)
	if err != nil || created || second.ID != first.ID || second.Campaign != first.Campaign {
		t.Errorf("second open with the same key: created %t, id %d (first %d), campaign %q, err %v; want the first item back", created, second.ID, first.ID, second.Campaign, err)
	}
	// The same key on another identity is another item; a closed item still
	// holds its key.
	other, created, err := s.OpenReview(ctx, reviewItem("billing-prod", "k1"))
	if err != nil || !created || other.ID == first.ID {
		t.Errorf("same key, other identity: created %t, id %d, %v", created, other.ID, err)
	}
	if _, err := s.CloseReview(ctx, first.ID, store.Attestation{Decision: "keep", Comment: "ok", At: t0, By: "human:kim"}); err != nil {
		t.Fatal(err)
	}
	if it, created, err := s.OpenReview(ctx, reviewItem("erp-prod", "k1")); err != nil || created || it.Status != store.ReviewClosed {
		t.Errorf("reopening a closed key: created %t, status %s, %v; want the closed item", created, it.Status, err)
	}
	if _, _, err := s.OpenReview(ctx, store.ReviewItem{Identity: "x"}); err == nil {
		t.Error("an item without kind and key was stored")
	}
	// A second handle (another replica) sees the items.
	if it, err := open().ReviewItem(ctx, other.ID); err != nil || it.Identity != "billing-prod" {
		t.Errorf("another handle: %+v %v", it, err)
	}
}

func testCloseReviewOnce(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open()
	it, _, err := s.OpenReview(ctx, reviewItem("erp-prod", "k1"))
	if err != nil {
		t.Fatal(err)
	}
	at := t0.Add(time.Hour)
	closed, err := s.CloseReview(ctx, it.ID, store.Attestation{Decision: "modify", Comment: "drop the full scope", At: at, By: "human:kim"})
	if err != nil {
		t.Fatal(err)
	}
	if closed.Status != store.ReviewClosed || closed.Decision != "modify" || closed.Comment != "drop the full scope" || !closed.ClosedAt.Equal(at) || closed.ClosedBy != "human:kim" {
		t.Errorf("closed item %+v", closed)
	}
	_, err = s.CloseReview(ctx, it.ID, store.Attestation{Decision: "revoke", Comment: "again", At: at.Add(time.Hour), By: "human:raj"})
	if !errors.Is(err, store.ErrConflict) {
		t.Errorf("closing twice: %v, want ErrConflict", err)
	}
	got, err := s.ReviewItem(ctx, it.ID)
	if err != nil || got.Decision != "modify" || got.ClosedBy != "human:kim" {
		t.Errorf("after a refused second close: %+v %v; want the first attestation kept", got, err)
	}
	if _, err := s.CloseReview(ctx, 999, store.Attestation{Decision: "keep", At: at, By: "human:kim"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("closing an unknown item: %v, want ErrNotFound", err)
	}
	if _, err := s.ReviewItem(ctx, 999); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("reading an unknown item: %v, want ErrNotFound", err)
	}
}

func testReviewFilter(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open()
	for i, id := range []string{"a", "b", "a", "c"} {
		if _, _, err := s.OpenReview(ctx, reviewItem(id, fmt.Sprint("k", i))); err != nil {
			t.Fatal(err)
		}
	}
	all, err := s.ReviewItems(ctx, store.ReviewFilter{})
	if err != nil || len(all) != 4 {
		t.Fatalf("all items: %d %v", len(all), err)
	}
	for i := 1; i < len(all); i++ {
		if all[i].ID <= all[i-1].ID {
			t.Errorf("items not oldest first: %d after %d", all[i].ID, all[i-1].ID)
		}
	}
	if _, err := s.CloseReview(ctx, all[0].ID, store.Attestation{Decision: "keep", At: t0, By: "human:kim"}); err != nil {
		t.Fatal(err)
	}
	count := func(f store.ReviewFilter) int {
		items, err := s.ReviewItems(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		return len(items)
	}
	if n := count(store.ReviewFilter{Identity: "a"}); n != 2 {
		t.Errorf("items of a: %d, want 2", n)
	}
	if n := count(store.ReviewFilter{Identity: "a", Status: store.ReviewOpen}); n != 1 {
		t.Errorf("open items of a: %d, want 1", n)
	}
	if n := count(store.ReviewFilter{Status: store.ReviewOpen}); n != 3 {
		t.Errorf("open items: %d, want 3", n)
	}
	if n := count(store.ReviewFilter{Identity: "nobody"}); n != 0 {
		t.Errorf("items of nobody: %d", n)
	}
}

func testLastAttested(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open()
	last, err := s.LastAttested(ctx)
	if err != nil || len(last) != 0 {
		t.Fatalf("empty store: %v %v", last, err)
	}
	for i, at := range []time.Time{t0.Add(time.Hour), t0.Add(3 * time.Hour), t0.Add(2 * time.Hour)} {
		it, _, err := s.OpenReview(ctx, reviewItem("erp-prod", fmt.Sprint("k", i)))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CloseReview(ctx, it.ID, store.Attestation{Decision: "keep", At: at, By: "human:kim"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := s.OpenReview(ctx, reviewItem("billing-prod", "open-only")); err != nil {
		t.Fatal(err)
	}
	last, err = s.LastAttested(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(last) != 1 || !last["erp-prod"].Equal(t0.Add(3*time.Hour)) {
		t.Errorf("last attestations %v, want erp-prod at %s only", last, t0.Add(3*time.Hour))
	}
}

// testConcurrentReviews opens one key and closes one item from several
// handles at once: exactly one open creates it, exactly one close wins.
func testConcurrentReviews(t *testing.T, open Opener) {
	ctx := context.Background()
	const n = 6
	handles := make([]store.Store, n)
	for i := range handles {
		handles[i] = open()
	}
	var wg sync.WaitGroup
	created := make([]bool, n)
	ids := make([]int64, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			var it store.ReviewItem
			it, created[i], errs[i] = handles[i].OpenReview(ctx, reviewItem("erp-prod", "same"))
			ids[i] = it.ID
		})
	}
	wg.Wait()
	nCreated := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("open %d: %v", i, errs[i])
		}
		if ids[i] != ids[0] {
			t.Errorf("open %d returned item %d, open 0 item %d", i, ids[i], ids[0])
		}
		if created[i] {
			nCreated++
		}
	}
	if nCreated != 1 {
		t.Errorf("%d opens created the item, want 1", nCreated)
	}
	for i := range n {
		wg.Go(func() {
			_, errs[i] = handles[i].CloseReview(ctx, ids[0], store.Attestation{Decision: "keep", At: t0, By: fmt.Sprint("human:", i)})
		})
	}
	wg.Wait()
	won := 0
	for i := range n {
		switch {
		case errs[i] == nil:
			won++
		case !errors.Is(errs[i], store.ErrConflict):
			t.Errorf("close %d: %v, want success or ErrConflict", i, errs[i])
		}
	}
	if won != 1 {
		t.Errorf("%d closes succeeded, want 1", won)
	}
}
