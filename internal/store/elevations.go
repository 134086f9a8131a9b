package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Elevation states. A request moves requested → approved → active →
// post_review_due → closed; it may also end denied, expired (not decided
// in time) or revoked (withdrawn before it was applied). An approved
// elevation whose assignment the org refused stays approved, with
// ApplyError set and nothing in the org.
const (
	ElevationRequested     = "requested"
	ElevationDenied        = "denied"
	ElevationExpired       = "expired"
	ElevationApproved      = "approved"
	ElevationActive        = "active"
	ElevationPostReviewDue = "post_review_due"
	ElevationClosed        = "closed"
	ElevationRevoked       = "revoked"
)

// Elevation is one break-glass elevation as stored.
type Elevation struct {
	ID            string
	Identity      string
	PermissionSet string
	Reason        string
	// Reference names the incident or change the elevation serves.
	Reference string
	Requester string
	Duration  time.Duration
	// MaxDuration is the cap in force when the request was made.
	MaxDuration      time.Duration
	State            string
	RequestedAt      time.Time
	RequestExpiresAt time.Time
	// Approver decided the request (approved or denied it), at DecidedAt.
	Approver     string
	DecidedAt    time.Time
	DecisionNote string
	// AssignmentID is the org's PermissionSetAssignment record, set while
	// the elevation is applied.
	AssignmentID string
	AppliedAt    time.Time
	ExpiresAt    time.Time
	ApplyError   string
	RemovedAt    time.Time
	RemovedBy    string
	// SecretSeen records that a person saw the identity's secret during
	// the elevation, which requires a rotation.
	SecretSeen  bool
	ReviewDueAt time.Time
	ClosedAt    time.Time
	ClosedBy    string
	ReviewNote  string
}

// ElevationFilter selects elevations; zero fields select everything.
type ElevationFilter struct {
	Identity string
	States   []string
	// ExpiresBefore, when set, keeps those whose ExpiresAt is set and not
	// after it.
	ExpiresBefore time.Time
}

// Elevations is the store of break-glass elevations.
type Elevations interface {
	// InsertElevation stores a new elevation; ErrConflict when its ID is
	// taken.
	InsertElevation(ctx context.Context, e Elevation) error
	// Elevation returns one elevation (ErrNotFound when absent).
	Elevation(ctx context.Context, id string) (Elevation, error)
	// ListElevations returns the elevations the filter selects, oldest
	// request first.
	ListElevations(ctx context.Context, f ElevationFilter) ([]Elevation, error)
	// UpdateElevation replaces e's stored row if its state is still from
	// (ErrConflict otherwise, ErrNotFound when there is no such row).
	UpdateElevation(ctx context.Context, e Elevation, from string) error
}

const elevationColumns = `id, identity, permission_set, reason, reference, requester, duration, max_duration, state, requested_at,
	request_expires_at, approver, decided_at, decision_note, assignment_id, applied_at, expires_at, apply_error, removed_at,
	removed_by, secret_seen, review_due_at, closed_at, closed_by, review_note`

func elevationArgs(e Elevation) []any {
	return []any{e.ID, e.Identity, e.PermissionSet, e.Reason, e.Reference, e.Requester, int64(e.Duration), int64(e.MaxDuration),
		e.State, nanos(e.RequestedAt), nanos(e.RequestExpiresAt), e.Approver, nanos(e.DecidedAt), e.DecisionNote,
		e.AssignmentID, nanos(e.AppliedAt), nanos(e.ExpiresAt), e.ApplyError, nanos(e.RemovedAt), e.RemovedBy,
		e.SecretSeen, nanos(e.ReviewDueAt), nanos(e.ClosedAt), e.ClosedBy, e.ReviewNote}
}

func scanElevation(r scanner) (Elevation, error) {
	var e Elevation
	var dur, maxDur, requested, reqExpires, decided, applied, expires, removed, due, closed int64
	err := r.Scan(&e.ID, &e.Identity, &e.PermissionSet, &e.Reason, &e.Reference, &e.Requester, &dur, &maxDur, &e.State,
		&requested, &reqExpires, &e.Approver, &decided, &e.DecisionNote, &e.AssignmentID, &applied, &expires, &e.ApplyError,
		&removed, &e.RemovedBy, &e.SecretSeen, &due, &closed, &e.ClosedBy, &e.ReviewNote)
	if err != nil {
		return Elevation{}, err
	}
	e.Duration, e.MaxDuration = time.Duration(dur), time.Duration(maxDur)
	e.RequestedAt, e.RequestExpiresAt, e.DecidedAt = fromNanos(requested), fromNanos(reqExpires), fromNanos(decided)
	e.AppliedAt, e.ExpiresAt, e.RemovedAt = fromNanos(applied), fromNanos(expires), fromNanos(removed)
	e.ReviewDueAt, e.ClosedAt = fromNanos(due), fromNanos(closed)
	return e, nil
}

func (s *sqlStore) InsertElevation(ctx context.Context, e Elevation) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO elevations (`+elevationColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25)`,
		elevationArgs(e)...)
	if err != nil {
		if s.d.isConflict(err) {
			return fmt.Errorf("insert elevation %s: %w", e.ID, ErrConflict)
		}
		return fmt.Errorf("insert elevation %s: %w", e.ID, err)
	}
	return nil
}

func (s *sqlStore) Elevation(ctx context.Context, id string) (Elevation, error) {
	e, err := scanElevation(s.db.QueryRowContext(ctx, `SELECT `+elevationColumns+` FROM elevations WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Elevation{}, fmt.Errorf("elevation %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Elevation{}, fmt.Errorf("read elevation %s: %w", id, err)
	}
	return e, nil
}

func (s *sqlStore) ListElevations(ctx context.Context, f ElevationFilter) ([]Elevation, error) {
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if f.Identity != "" {
		where = append(where, "identity = "+arg(f.Identity))
	}
	if len(f.States) > 0 {
		ph := make([]string, len(f.States))
		for i, st := range f.States {
			ph[i] = arg(st)
		}
		where = append(where, "state IN ("+strings.Join(ph, ", ")+")")
	}
	if !f.ExpiresBefore.IsZero() {
		where = append(where, "expires_at <> 0 AND expires_at <= "+arg(nanos(f.ExpiresBefore)))
	}
	q := `SELECT ` + elevationColumns + ` FROM elevations`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := s.db.QueryContext(ctx, q+" ORDER BY requested_at, id", args...)
	if err != nil {
		return nil, fmt.Errorf("list elevations: %w", err)
	}
	defer rows.Close()
	var out []Elevation
	for rows.Next() {
		e, err := scanElevation(rows)
		if err != nil {
			return nil, fmt.Errorf("list elevations: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list elevations: %w", err)
	}
	return out, nil
}

func (s *sqlStore) UpdateElevation(ctx context.Context, e Elevation, from string) error {
	args := append(elevationArgs(e), from)
	res, err := s.db.ExecContext(ctx, `UPDATE elevations SET identity = $2, permission_set = $3, reason = $4, reference = $5,
		requester = $6, duration = $7, max_duration = $8, state = $9, requested_at = $10, request_expires_at = $11, approver = $12,
		decided_at = $13, decision_note = $14, assignment_id = $15, applied_at = $16, expires_at = $17, apply_error = $18,
		removed_at = $19, removed_by = $20, secret_seen = $21, review_due_at = $22, closed_at = $23, closed_by = $24,
		review_note = $25 WHERE id = $1 AND state = $26`, args...)
	if err != nil {
		return fmt.Errorf("update elevation %s: %w", e.ID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("update elevation %s: %w", e.ID, err)
	}
	if n == 1 {
		return nil
	}
	cur, err := s.Elevation(ctx, e.ID)
	if err != nil {
		return err
	}
	return fmt.Errorf("update elevation %s: it is %s, not %s: %w", e.ID, cur.State, from, ErrConflict)
}
