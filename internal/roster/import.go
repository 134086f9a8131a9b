package roster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/steward-dev/steward/internal/audit"
	"github.com/steward-dev/steward/internal/store"
)

// ActionImport is the audit action of a roster import, refused or not.
const ActionImport = "roster.import"

// Store is where an import writes. store.Store is one.
type Store interface {
	ReplaceRoster(ctx context.Context, r store.Roster) error
}

// Auditor makes an audit record durable. *audit.Log is one.
type Auditor interface {
	Append(ctx context.Context, ev audit.Event) (audit.Record, error)
}

// Import parses a roster file and replaces the imported roster with it, all
// or nothing. Every attempt is recorded in the audit log: a refused file
// with its first problem, an accepted one with its counts, recorded before
// the roster changes (no record, no change).
func Import(ctx context.Context, db Store, log Auditor, actor audit.Actor, file string, r io.Reader, format string, now time.Time) (store.Roster, error) {
	ev := audit.Event{Time: now, Actor: actor, Action: ActionImport, Resource: "roster", Details: map[string]string{"file": file, "format": format}}
	members, err := Parse(file, r, format)
	if err != nil {
		ev.Outcome = audit.OutcomeFailure
		var re *Error
		if errors.As(err, &re) {
			ev.Details["problems"] = strconv.Itoa(len(re.Problems) + re.More)
			p := re.Problems[0]
			ev.Details["reason"] = fmt.Sprintf("line %d: %s", p.Line, p.Msg)
		} else {
			ev.Details["reason"] = err.Error()
		}
		if _, aerr := log.Append(ctx, ev); aerr != nil {
			return store.Roster{}, errors.Join(err, fmt.Errorf("record the refused import: %w", aerr))
		}
		return store.Roster{}, err
	}
	ro := store.Roster{Source: file, Imported: now, Members: members}
	teams := map[string]bool{}
	departed := 0
	for _, m := range members {
		teams[m.Team] = true
		if m.Status == StatusDeparted {
			departed++
		}
	}
	ev.Outcome = audit.OutcomeSuccess
	ev.Details["members"] = strconv.Itoa(len(members))
	ev.Details["teams"] = strconv.Itoa(len(teams))
	ev.Details["departed"] = strconv.Itoa(departed)
	if _, err := log.Append(ctx, ev); err != nil {
		return store.Roster{}, fmt.Errorf("record the roster import (nothing was imported): %w", err)
	}
	if err := db.ReplaceRoster(ctx, ro); err != nil {
		fail := ev
		fail.Outcome = audit.OutcomeFailure
		fail.Details = map[string]string{"file": file, "format": format, "reason": err.Error()}
		if _, aerr := log.Append(ctx, fail); aerr != nil {
			err = errors.Join(err, fmt.Errorf("record the failed import: %w", aerr))
		}
		return store.Roster{}, fmt.Errorf("import %s (nothing was imported): %w", file, err)
	}
	return ro, nil
}
