// Package review runs access reviews of the inventoried identities. Periodic
// campaigns open one review item per identity as its review falls due, at a
// cadence set by its declared interval and its criticality; access
// expansions (a snapshot diff against a baseline, Setup Audit Trail
// changes) open an item with the before/after evidence. The owning team
// closes an item by attesting keep, modify or revoke with a comment. Every
// state change, and every refusal, is recorded in the audit log first:
// without the record nothing changes.
package review

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/steward-dev/steward/internal/audit"
	"github.com/steward-dev/steward/internal/snapshot"
	"github.com/steward-dev/steward/internal/store"
)

// Item kinds.
const (
	KindPeriodic  = "periodic"
	KindExpansion = "expansion"
)

// Decisions an attestation may carry.
const (
	DecisionKeep   = "keep"
	DecisionModify = "modify"
	DecisionRevoke = "revoke"
)

// Decisions lists the valid decisions.
var Decisions = []string{DecisionKeep, DecisionModify, DecisionRevoke}

// Audit actions.
const (
	ActionOpen   = "review.open"
	ActionAttest = "review.attest"
)

// Cadence defaults, as NHI-REV-01 judges them.
const (
	// DefaultIntervalDays applies when an identity declares no interval.
	DefaultIntervalDays = 90
	// StrictIntervalDays is the longest interval of high and critical
	// identities, MaxIntervalDays that of the others.
	StrictIntervalDays = 90
	MaxIntervalDays    = 365
	// DefaultLead is how long before its due date a periodic item opens.
	DefaultLead = 14 * 24 * time.Hour
	// ExpansionDue is how long the owners have to review an expansion.
	ExpansionDue = 7 * 24 * time.Hour
	// statusTTL bounds how stale the cached attestation dates the broker
	// reads may be.
	statusTTL = 30 * time.Second
)

// Errors callers branch on. Each wraps into a message naming the item.
var (
	// ErrNotFound means no such review item or identity.
	ErrNotFound = errors.New("not found")
	// ErrClosed means the item was already attested.
	ErrClosed = errors.New("review item already closed")
	// ErrInvalid means the request is malformed: an unknown decision, no
	// comment.
	ErrInvalid = errors.New("invalid review request")
	// ErrAudit means the audit record could not be written, so nothing was
	// changed.
	ErrAudit = errors.New("audit log unavailable; nothing was changed")
)

// Auditor makes an audit record durable. *audit.Log is one.
type Auditor interface {
	Append(ctx context.Context, ev audit.Event) (audit.Record, error)
}

// Config configures a Service.
type Config struct {
	Store store.Reviews
	Audit Auditor
	// Identities are the inventoried identities reviews are about.
	Identities []snapshot.Identity
	// Lead is how long before its due date a periodic item opens (default
	// DefaultLead).
	Lead time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Service opens and closes review items.
type Service struct {
	cfg        Config
	identities map[string]*snapshot.Identity
	// names are the identities' names, sorted: campaigns and expansions
	// visit them in this order.
	names []string

	mu       sync.Mutex
	attested map[string]time.Time
	readAt   time.Time
}

// New builds a Service.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Audit == nil {
		return nil, errors.New("review: a store and an audit log are required")
	}
	if cfg.Lead <= 0 {
		cfg.Lead = DefaultLead
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Service{cfg: cfg, identities: make(map[string]*snapshot.Identity, len(cfg.Identities))}
	for i := range cfg.Identities {
		if _, dup := s.identities[cfg.Identities[i].Name]; !dup {
			s.identities[cfg.Identities[i].Name] = &cfg.Identities[i]
			s.names = append(s.names, cfg.Identities[i].Name)
		}
	}
	slices.Sort(s.names)
	return s, nil
}

// IntervalDays is an identity's effective review interval: its declared
// interval (default 90 days), at most 90 days for high and critical
// identities and 365 for the others.
func IntervalDays(id *snapshot.Identity) int {
	days := id.Review.IntervalDays
	if days <= 0 {
		days = DefaultIntervalDays
	}
	limit := MaxIntervalDays
	if id.Criticality == "high" || id.Criticality == "critical" {
		limit = StrictIntervalDays
	}
	return min(days, limit)
}

// Item returns one review item.
func (s *Service) Item(ctx context.Context, id int64) (store.ReviewItem, error) {
	it, err := s.cfg.Store.ReviewItem(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.ReviewItem{}, fmt.Errorf("no review item %d: %w", id, ErrNotFound)
	}
	return it, err
}

// Items returns the items f selects, oldest first.
func (s *Service) Items(ctx context.Context, f store.ReviewFilter) ([]store.ReviewItem, error) {
	return s.cfg.Store.ReviewItems(ctx, f)
}

// Identity returns an inventoried identity, or nil.
func (s *Service) Identity(name string) *snapshot.Identity { return s.identities[name] }

// Attest closes an open item with the owning team's decision. The caller
// has checked that actor may act on the item's identity. An unknown
// decision, a missing comment or a closed item is refused and the refusal
// audited; the attestation is audited before it is stored.
func (s *Service) Attest(ctx context.Context, actor audit.Actor, requestID string, id int64, decision, comment string) (store.ReviewItem, error) {
	it, err := s.Item(ctx, id)
	if err != nil {
		return store.ReviewItem{}, err
	}
	comment = strings.TrimSpace(comment)
	ev := audit.Event{
		Time: s.cfg.Now(), Actor: actor, Action: ActionAttest, Resource: it.Identity, RequestID: requestID,
		Details: map[string]string{"item": fmt.Sprint(id), "kind": it.Kind, "decision": decision},
	}
	var refusal error
	switch {
	case !slices.Contains(Decisions, decision):
		refusal = fmt.Errorf("%w: decision %q is not one of %s", ErrInvalid, decision, strings.Join(Decisions, ", "))
	case comment == "":
		refusal = fmt.Errorf("%w: an attestation needs a comment saying why", ErrInvalid)
	case len(comment) > 4000:
		refusal = fmt.Errorf("%w: the comment is longer than 4000 bytes", ErrInvalid)
	case it.Status != store.ReviewOpen:
		refusal = fmt.Errorf("review item %d of %s: %w on %s by %s (%s)", id, it.Identity, ErrClosed, it.ClosedAt.Format(time.DateOnly), it.ClosedBy, it.Decision)
	}
	if refusal != nil {
		ev.Outcome = audit.OutcomeDenied
		ev.Details["reason"] = refusal.Error()
		if _, err := s.cfg.Audit.Append(ctx, ev); err != nil {
			return store.ReviewItem{}, fmt.Errorf("%w (refusing: %v)", ErrAudit, refusal)
		}
		return store.ReviewItem{}, refusal
	}
	ev.Outcome = audit.OutcomeSuccess
	ev.Details["comment"] = comment
	if _, err := s.cfg.Audit.Append(ctx, ev); err != nil {
		return store.ReviewItem{}, ErrAudit
	}
	closed, err := s.cfg.Store.CloseReview(ctx, id, store.Attestation{Decision: decision, Comment: comment, At: ev.Time, By: actor.String()})
	if err != nil {
		// Another attestation won the race after the checks above: record
		// that this one did not take effect.
		fail := ev
		fail.Outcome = audit.OutcomeFailure
		fail.Details = map[string]string{"item": fmt.Sprint(id), "decision": decision, "reason": err.Error()}
		s.cfg.Audit.Append(ctx, fail)
		if errors.Is(err, store.ErrConflict) {
			return store.ReviewItem{}, fmt.Errorf("review item %d of %s: %w", id, it.Identity, ErrClosed)
		}
		return store.ReviewItem{}, err
	}
	s.mu.Lock()
	s.attested = nil // read afresh: callers may hold the old map
	s.mu.Unlock()
	return closed, nil
}

// open stores an item unless its key exists, auditing the opening first.
// It returns the item and whether it was created now.
func (s *Service) open(ctx context.Context, actor audit.Actor, requestID string, it store.ReviewItem) (store.ReviewItem, bool, error) {
	existing, err := s.cfg.Store.ReviewItems(ctx, store.ReviewFilter{Identity: it.Identity})
	if err != nil {
		return store.ReviewItem{}, false, err
	}
	for _, e := range existing {
		if e.Key == it.Key {
			return e, false, nil
		}
	}
	ev := audit.Event{
		Time: it.OpenedAt, Actor: actor, Action: ActionOpen, Resource: it.Identity, Outcome: audit.OutcomeSuccess, RequestID: requestID,
		Details: map[string]string{"kind": it.Kind, "key": it.Key, "campaign": it.Campaign, "due": it.DueAt.Format(time.RFC3339), "evidence": string(it.Evidence)},
	}
	if _, err := s.cfg.Audit.Append(ctx, ev); err != nil {
		return store.ReviewItem{}, false, ErrAudit
	}
	return s.cfg.Store.OpenReview(ctx, it)
}

// lastAttested returns the latest attestation of each identity, read from
// the store at most every statusTTL.
func (s *Service) lastAttested(ctx context.Context) (map[string]time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.Now()
	if s.attested != nil && now.Sub(s.readAt) < statusTTL && !now.Before(s.readAt) {
		return s.attested, nil
	}
	m, err := s.cfg.Store.LastAttested(ctx)
	if err != nil {
		return nil, err
	}
	s.attested, s.readAt = m, now
	return m, nil
}
