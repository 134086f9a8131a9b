package review

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/steward-dev/steward/internal/audit"
	"github.com/steward-dev/steward/internal/broker"
	"github.com/steward-dev/steward/internal/snapshot"
	"github.com/steward-dev/steward/internal/store"
)

// Sources of an identity's last review.
const (
	SourceStore    = "store"    // an attestation recorded in Steward
	SourceManifest = "manifest" // the manifest's review.lastReviewed
)

// Status is an identity's review standing.
type Status struct {
	Identity     string
	IntervalDays int
	// LastReviewed is the latest attestation in the store, else the
	// manifest's review.lastReviewed; zero for none. Source says which.
	LastReviewed time.Time
	Source       string
	// Due is LastReviewed plus the interval; zero when never reviewed
	// (NHI-REV-01 reports that).
	Due  time.Time
	Open []store.ReviewItem
}

// Overdue reports whether the review is past due at now.
func (st Status) Overdue(now time.Time) bool { return !st.Due.IsZero() && now.After(st.Due) }

// lastReviewed is an identity's last review: the store's latest
// attestation wins over the declared date.
func lastReviewed(id *snapshot.Identity, attested map[string]time.Time) (time.Time, string) {
	if at, ok := attested[id.Name]; ok {
		return at.UTC(), SourceStore
	}
	if d, err := time.Parse(time.DateOnly, id.Review.LastReviewed); err == nil {
		return d, SourceManifest
	}
	return time.Time{}, ""
}

// Status returns an identity's review standing and its open items.
func (s *Service) Status(ctx context.Context, name string) (Status, error) {
	id := s.identities[name]
	if id == nil {
		return Status{}, fmt.Errorf("no identity named %s: %w", name, ErrNotFound)
	}
	attested, err := s.lastAttested(ctx)
	if err != nil {
		return Status{}, err
	}
	st := Status{Identity: name, IntervalDays: IntervalDays(id)}
	st.LastReviewed, st.Source = lastReviewed(id, attested)
	if !st.LastReviewed.IsZero() {
		st.Due = st.LastReviewed.AddDate(0, 0, st.IntervalDays)
	}
	st.Open, err = s.cfg.Store.ReviewItems(ctx, store.ReviewFilter{Identity: name, Status: store.ReviewOpen})
	if err != nil {
		return Status{}, err
	}
	return st, nil
}

// Review is an identity's review standing for the runtime decision (it
// makes Service a broker.ReviewSource): the store's latest attestation,
// else the declared date, and the due date from the effective interval. It
// reads the store at most every 30 seconds, one query for all identities;
// an identity never reviewed has the zero status (no due date: NHI-REV-01
// reports it).
func (s *Service) Review(ctx context.Context, id *snapshot.Identity) (broker.ReviewStatus, error) {
	attested, err := s.lastAttested(ctx)
	if err != nil {
		return broker.ReviewStatus{}, fmt.Errorf("read the review status of %s: %w", id.Name, err)
	}
	last, _ := lastReviewed(id, attested)
	if last.IsZero() {
		return broker.ReviewStatus{}, nil
	}
	return broker.ReviewStatus{LastReviewed: last, Due: last.AddDate(0, 0, IntervalDays(id))}, nil
}

// periodicEvidence is the evidence of a periodic item: the cadence it was
// planned from.
type periodicEvidence struct {
	Criticality  string `json:"criticality"`
	IntervalDays int    `json:"intervalDays"`
	LastReviewed string `json:"lastReviewed"`
	Source       string `json:"source"`
}

// Campaign opens a periodic review item for every active identity whose
// review is due within the lead time (or that was never reviewed), unless
// one is already open for that due date. It returns the items it created,
// by identity name. Running it again opens nothing new.
func (s *Service) Campaign(ctx context.Context, actor audit.Actor, requestID string) ([]store.ReviewItem, error) {
	attested, err := s.lastAttested(ctx)
	if err != nil {
		return nil, err
	}
	now := s.cfg.Now().UTC()
	created := []store.ReviewItem{}
	for _, name := range s.names {
		id := s.identities[name]
		if id.Lifecycle == "retired" {
			continue
		}
		interval := IntervalDays(id)
		last, source := lastReviewed(id, attested)
		key, due := "periodic:first", now
		if !last.IsZero() {
			due = last.AddDate(0, 0, interval)
			key = "periodic:" + due.Format(time.DateOnly)
		}
		if due.Sub(now) > s.cfg.Lead {
			continue
		}
		ev, _ := json.Marshal(periodicEvidence{Criticality: id.Criticality, IntervalDays: interval, LastReviewed: dateOrEmpty(last), Source: source})
		it, isNew, err := s.open(ctx, actor, requestID, store.ReviewItem{
			Identity: name, Kind: KindPeriodic, Key: key, Campaign: "periodic/" + due.Format("2006-01"),
			OpenedAt: now, OpenedBy: actor.String(), DueAt: due, Evidence: ev,
		})
		if err != nil {
			return created, fmt.Errorf("open the periodic review of %s: %w", name, err)
		}
		if isNew {
			created = append(created, it)
		}
	}
	return created, nil
}

func dateOrEmpty(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.DateOnly)
}
