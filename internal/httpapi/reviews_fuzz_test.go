package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/steward-dev/steward/internal/audit"
	"github.com/steward-dev/steward/internal/review"
	"github.com/steward-dev/steward/internal/snapshot"
	"github.com/steward-dev/steward/internal/store"
)

// acceptReviews accepts every well-formed review request.
type acceptReviews struct{}

func (acceptReviews) Item(_ context.Context, id int64) (store.ReviewItem, error) {
	return store.ReviewItem{ID: id, Identity: "erp", Kind: review.KindExpansion, Status: store.ReviewOpen, Evidence: []byte("{}")}, nil
}
func (acceptReviews) Items(context.Context, store.ReviewFilter) ([]store.ReviewItem, error) {
	return nil, nil
}
func (acceptReviews) Status(context.Context, string) (review.Status, error) {
	return review.Status{}, nil
}
func (r acceptReviews) Attest(ctx context.Context, _ audit.Actor, _ string, id int64, decision, comment string) (store.ReviewItem, error) {
	it, _ := r.Item(ctx, id)
	it.Status, it.Decision, it.Comment = store.ReviewClosed, decision, comment
	return it, nil
}
func (acceptReviews) Campaign(context.Context, audit.Actor, string) ([]store.ReviewItem, error) {
	return nil, nil
}
func (acceptReviews) OpenExpansions(_ context.Context, _ audit.Actor, _ string, changes []snapshot.Change, setup []snapshot.SetupChange) ([]review.Opened, error) {
	ev, err := json.Marshal(review.Evidence{Changes: changes, SetupChanges: setup})
	if err != nil {
		return nil, err
	}
	return []review.Opened{{Item: store.ReviewItem{ID: 1, Identity: "erp", Evidence: ev}, Created: true}}, nil
}

// FuzzReviewRequests sends arbitrary bodies to the review routes that read
// one: every answer is a JSON object, 200 for a well-formed body and 400 or
// 413 otherwise, never a panic or a 500.
func FuzzReviewRequests(f *testing.F) {
	api, err := New(context.Background(), Config{
		Auth: fakeAuth{}, Decider: fakeDecider{}, Audit: fakeAudit{}, Tokens: fakeTokens{}, Reviews: acceptReviews{},
		Snapshot:  &snapshot.Snapshot{Identities: []snapshot.Identity{{Name: "erp", Owner: "erp", Environment: "production"}}},
		Operators: []Operator{{Name: "ana", Role: RoleAdmin, Token: "admin-token"}},
	})
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{
		`{"decision":"keep","comment":"ok"}`,
		`{"changes":[{"kind":"widened","resource":"App","subject":"A","field":"scopes","after":"full"}],"setupChanges":[{"time":"2026-11-20T12:00:00Z","action":"PermSetAssign","user":"u@acme.example"}]}`,
		`{"changes":[{"kind":""}]}`, `{"setupChanges":[{"time":"not a time"}]}`, `{}`, `[]`, `null`, `{"decision":1}`, `{"a":1}{}`, "\xff",
	} {
		f.Add("/v1/reviews/expansions", seed)
		f.Add("/v1/reviews/7/attest", seed)
	}
	f.Fuzz(func(t *testing.T, path, body string) {
		if path != "/v1/reviews/expansions" && path != "/v1/reviews/7/attest" {
			path = "/v1/reviews/expansions"
		}
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer admin-token")
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusOK, http.StatusBadRequest, http.StatusRequestEntityTooLarge:
		default:
			t.Fatalf("%s %q: status %d %s", path, body, rec.Code, rec.Body)
		}
		var out map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("%s %q: the answer is not a JSON object: %v", path, body, err)
		}
	})
}
