package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Review item states.
const (
	ReviewOpen   = "open"
	ReviewClosed = "closed"
)

// ReviewItem is one access-review task for an identity: opened by a
// periodic campaign or by an access expansion, closed once by the owning
// team's attestation.
type ReviewItem struct {
	ID       int64
	Identity string
	// Kind is why it was opened: "periodic" or "expansion".
	Kind string
	// Key makes opening idempotent: an identity has at most one item per
	// key, open or closed (a periodic campaign's due date, a hash of an
	// expansion's evidence).
	Key      string
	Campaign string
	OpenedAt time.Time
	OpenedBy string
	DueAt    time.Time
	// Evidence is a JSON document: the before/after of an expansion, the
	// cadence of a periodic review.
	Evidence []byte
	Status   string
	// Decision, Comment, ClosedAt and ClosedBy are the attestation.
	Decision string
	Comment  string
	ClosedAt time.Time
	ClosedBy string
}

// ReviewFilter selects review items; zero fields select everything.
type ReviewFilter struct {
	Identity string
	Status   string
}

// Attestation closes a review item.
type Attestation struct {
	Decision string
	Comment  string
	At       time.Time
	By       string
}

// Reviews persists access-review items.
type Reviews interface {
	// OpenReview stores it unless its identity already has an item with
	// its key, and returns the stored item and whether it was created
	// now. ID, Status and the attestation fields of it are ignored.
	OpenReview(ctx context.Context, it ReviewItem) (ReviewItem, bool, error)
	// ReviewItem returns one item (ErrNotFound when absent).
	ReviewItem(ctx context.Context, id int64) (ReviewItem, error)
	// ReviewItems returns the items f selects, oldest first.
	ReviewItems(ctx context.Context, f ReviewFilter) ([]ReviewItem, error)
	// CloseReview records an attestation on an open item; it fails with
	// ErrConflict when the item is already closed, ErrNotFound when absent.
	CloseReview(ctx context.Context, id int64, a Attestation) (ReviewItem, error)
	// LastAttested maps each identity with a closed item to the time of
	// its latest attestation.
	LastAttested(ctx context.Context) (map[string]time.Time, error)
}

const reviewColumns = `id, identity, kind, dedup_key, campaign, opened_at, opened_by, due_at, evidence, status, decision, comment, closed_at, closed_by`

func scanReview(r scanner) (ReviewItem, error) {
	var it ReviewItem
	var opened, due, closed int64
	err := r.Scan(&it.ID, &it.Identity, &it.Kind, &it.Key, &it.Campaign, &opened, &it.OpenedBy, &due, &it.Evidence, &it.Status, &it.Decision, &it.Comment, &closed, &it.ClosedBy)
	it.OpenedAt, it.DueAt, it.ClosedAt = fromNanos(opened), fromNanos(due), fromNanos(closed)
	return it, err
}

func (s *sqlStore) OpenReview(ctx context.Context, it ReviewItem) (ReviewItem, bool, error) {
	what := fmt.Sprintf("open a review of %s (%s)", it.Identity, it.Key)
	if it.Identity == "" || it.Key == "" || it.Kind == "" {
		return ReviewItem{}, false, fmt.Errorf("%s: identity, kind and key are required", what)
	}
	if len(it.Evidence) == 0 {
		it.Evidence = []byte("{}")
	}
	res, err := s.db.ExecContext(ctx, `INSERT INTO review_items (identity, kind, dedup_key, campaign, opened_at, opened_by, due_at, evidence, status)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (identity, dedup_key) DO NOTHING`,
		it.Identity, it.Kind, it.Key, it.Campaign, nanos(it.OpenedAt), it.OpenedBy, nanos(it.DueAt), it.Evidence, ReviewOpen)
	if err != nil {
		return ReviewItem{}, false, fmt.Errorf("%s: %w", what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return ReviewItem{}, false, fmt.Errorf("%s: %w", what, err)
	}
	stored, err := scanReview(s.db.QueryRowContext(ctx, `SELECT `+reviewColumns+` FROM review_items WHERE identity = $1 AND dedup_key = $2`, it.Identity, it.Key))
	if err != nil {
		return ReviewItem{}, false, fmt.Errorf("%s: read it back: %w", what, err)
	}
	return stored, n == 1, nil
}

func (s *sqlStore) ReviewItem(ctx context.Context, id int64) (ReviewItem, error) {
	it, err := scanReview(s.db.QueryRowContext(ctx, `SELECT `+reviewColumns+` FROM review_items WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return ReviewItem{}, fmt.Errorf("review item %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return ReviewItem{}, fmt.Errorf("read review item %d: %w", id, err)
	}
	return it, nil
}

func (s *sqlStore) ReviewItems(ctx context.Context, f ReviewFilter) ([]ReviewItem, error) {
	var where []string
	var args []any
	if f.Identity != "" {
		args = append(args, f.Identity)
		where = append(where, fmt.Sprintf("identity = $%d", len(args)))
	}
	if f.Status != "" {
		args = append(args, f.Status)
		where = append(where, fmt.Sprintf("status = $%d", len(args)))
	}
	q := `SELECT ` + reviewColumns + ` FROM review_items`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := s.db.QueryContext(ctx, q+" ORDER BY id", args...)
	if err != nil {
		return nil, fmt.Errorf("read review items: %w", err)
	}
	defer rows.Close()
	out := []ReviewItem{}
	for rows.Next() {
		it, err := scanReview(rows)
		if err != nil {
			return nil, fmt.Errorf("read review items: %w", err)
		}
		out = append(out, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read review items: %w", err)
	}
	return out, nil
}

func (s *sqlStore) CloseReview(ctx context.Context, id int64, a Attestation) (ReviewItem, error) {
	what := fmt.Sprintf("close review item %d", id)
	var it ReviewItem
	err := s.withTx(ctx, what, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE review_items SET status = $1, decision = $2, comment = $3, closed_at = $4, closed_by = $5 WHERE id = $6 AND status = $7`,
			ReviewClosed, a.Decision, a.Comment, nanos(a.At), a.By, id, ReviewOpen)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		it, err = scanReview(tx.QueryRowContext(ctx, `SELECT `+reviewColumns+` FROM review_items WHERE id = $1`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("review item %d: %w", id, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if n != 1 {
			return fmt.Errorf("%s: it was closed on %s by %s: %w", what, it.ClosedAt.Format(time.DateOnly), it.ClosedBy, ErrConflict)
		}
		return nil
	})
	if err != nil {
		return ReviewItem{}, err
	}
	return it, nil
}

func (s *sqlStore) LastAttested(ctx context.Context) (map[string]time.Time, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT identity, MAX(closed_at) FROM review_items WHERE status = $1 GROUP BY identity`, ReviewClosed)
	if err != nil {
		return nil, fmt.Errorf("read attestations: %w", err)
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var id string
		var at int64
		if err := rows.Scan(&id, &at); err != nil {
			return nil, fmt.Errorf("read attestations: %w", err)
		}
		out[id] = fromNanos(at)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read attestations: %w", err)
	}
	return out, nil
}
