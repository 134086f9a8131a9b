package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// RosterMember is one person's membership of a team in an imported roster.
type RosterMember struct {
	Team   string
	Member string
	Role   string // owner | backup | member
	Status string // active | departed
	Email  string
	// Since is the date (YYYY-MM-DD) the status took effect, or "".
	Since string
}

// Roster is the imported team roster: where it came from, when it was
// imported and its members.
type Roster struct {
	Source   string
	Imported time.Time
	Members  []RosterMember
}

// DecommissionStep is the recorded outcome of one step of an identity's
// decommissioning checklist.
type DecommissionStep struct {
	Identity string
	Step     string
	Status   string
	At       time.Time
	Actor    string
	// Detail is the step's evidence, as the caller encoded it.
	Detail string
}

// Rosters persists the imported team roster and decommissioning progress.
type Rosters interface {
	// ReplaceRoster replaces the whole imported roster with r in one
	// transaction: afterwards the store holds r's members and nothing else.
	ReplaceRoster(ctx context.Context, r Roster) error
	// Roster returns the imported roster, members sorted by team and
	// member; a store that never imported one returns an empty Roster.
	Roster(ctx context.Context) (Roster, error)
	// PutDecommissionStep records a step's outcome, replacing the earlier
	// outcome of the same identity and step.
	PutDecommissionStep(ctx context.Context, s DecommissionStep) error
	// DecommissionSteps returns the recorded steps of an identity, sorted
	// by when they were last recorded, then by name.
	DecommissionSteps(ctx context.Context, identity string) ([]DecommissionStep, error)
}

func (s *sqlStore) ReplaceRoster(ctx context.Context, r Roster) error {
	return s.withTx(ctx, "replace the team roster", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM roster_members`); err != nil {
			return fmt.Errorf("replace the team roster: %w", err)
		}
		for _, m := range r.Members {
			_, err := tx.ExecContext(ctx, `INSERT INTO roster_members (team, member, role, status, email, since, source, imported) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
				m.Team, m.Member, m.Role, m.Status, m.Email, m.Since, r.Source, nanos(r.Imported))
			if err != nil {
				if s.d.isConflict(err) {
					return fmt.Errorf("replace the team roster: %s is listed twice in team %s: %w", m.Member, m.Team, ErrConflict)
				}
				return fmt.Errorf("replace the team roster: %w", err)
			}
		}
		return nil
	})
}

func (s *sqlStore) Roster(ctx context.Context) (Roster, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT team, member, role, status, email, since, source, imported FROM roster_members ORDER BY team, member`)
	if err != nil {
		return Roster{}, fmt.Errorf("read the team roster: %w", err)
	}
	defer rows.Close()
	var r Roster
	for rows.Next() {
		var m RosterMember
		var imported int64
		if err := rows.Scan(&m.Team, &m.Member, &m.Role, &m.Status, &m.Email, &m.Since, &r.Source, &imported); err != nil {
			return Roster{}, fmt.Errorf("read the team roster: %w", err)
		}
		r.Imported = fromNanos(imported)
		r.Members = append(r.Members, m)
	}
	if err := rows.Err(); err != nil {
		return Roster{}, fmt.Errorf("read the team roster: %w", err)
	}
	return r, nil
}

func (s *sqlStore) PutDecommissionStep(ctx context.Context, d DecommissionStep) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO decommission_steps (identity, step, status, at, actor, detail) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (identity, step) DO UPDATE SET status = excluded.status, at = excluded.at, actor = excluded.actor, detail = excluded.detail`,
		d.Identity, d.Step, d.Status, nanos(d.At), d.Actor, d.Detail)
	if err != nil {
		return fmt.Errorf("record decommission step %s of %s: %w", d.Step, d.Identity, err)
	}
	return nil
}

func (s *sqlStore) DecommissionSteps(ctx context.Context, identity string) ([]DecommissionStep, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT step, status, at, actor, detail FROM decommission_steps WHERE identity = $1 ORDER BY at, step`, identity)
	if err != nil {
		return nil, fmt.Errorf("read the decommission steps of %s: %w", identity, err)
	}
	defer rows.Close()
	var out []DecommissionStep
	for rows.Next() {
		d := DecommissionStep{Identity: identity}
		var at int64
		if err := rows.Scan(&d.Step, &d.Status, &at, &d.Actor, &d.Detail); err != nil {
			return nil, fmt.Errorf("read the decommission steps of %s: %w", identity, err)
		}
		d.At = fromNanos(at)
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the decommission steps of %s: %w", identity, err)
	}
	return out, nil
}
