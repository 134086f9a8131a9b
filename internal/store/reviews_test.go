package store_test

import (
	"testing"

	"github.com/steward-dev/steward/internal/store/storetest"
)

func TestReviewsSQLite(t *testing.T) {
	storetest.RunReviews(t, func(t *testing.T) storetest.Opener {
		open, _ := storetest.SQLite(t)
		return open
	})
}

func TestReviewsPostgres(t *testing.T) {
	storetest.RunReviews(t, func(t *testing.T) storetest.Opener { return storetest.Postgres(t) })
}
