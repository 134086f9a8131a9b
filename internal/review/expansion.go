package review

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/steward-dev/steward/internal/audit"
	"github.com/steward-dev/steward/internal/snapshot"
	"github.com/steward-dev/steward/internal/store"
)

// Evidence is what an expansion item holds: the changes that widened the
// identity's access, each with its before and after.
type Evidence struct {
	// Changes come from a snapshot diff against a baseline.
	Changes []snapshot.Change `json:"changes"`
	// SetupChanges come from the org's Setup Audit Trail.
	SetupChanges []snapshot.SetupChange `json:"setupChanges"`
}

// Opened is an expansion item and whether this call created it.
type Opened struct {
	Item    store.ReviewItem
	Created bool
}

// setupKey names a Setup Audit Trail entry for matching.
func setupKey(c snapshot.SetupChange) string {
	return strings.Join([]string{"setup", c.Time.UTC().Format(time.RFC3339Nano), c.Action, c.App, c.User, c.By, c.Display}, "|")
}

// Keys are the ChangeKeys of an item's diff changes and the keys of its
// Setup Audit Trail entries.
func (e Evidence) Keys() []string {
	out := make([]string, 0, len(e.Changes)+len(e.SetupChanges))
	for _, c := range e.Changes {
		out = append(out, snapshot.ChangeKey(c))
	}
	for _, c := range e.SetupChanges {
		out = append(out, setupKey(c))
	}
	return out
}

// ParseEvidence reads an expansion item's evidence.
func ParseEvidence(it store.ReviewItem) (Evidence, error) {
	var e Evidence
	if it.Kind != KindExpansion {
		return e, nil
	}
	if err := json.Unmarshal(it.Evidence, &e); err != nil {
		return e, fmt.Errorf("review item %d: evidence: %w", it.ID, err)
	}
	return e, nil
}

// OpenExpansions opens, for each inventoried identity the changes touch,
// one review item with the expansions not yet covered by an item of that
// identity, open or closed: the diff changes that expand access (see
// snapshot.Change.Expands) on the identity, its app or its run-as user,
// and the Setup Audit Trail entries on its app or run-as user made after
// its last review. Calling it again with the same changes opens nothing.
// Retired identities are skipped.
func (s *Service) OpenExpansions(ctx context.Context, actor audit.Actor, requestID string, changes []snapshot.Change, setup []snapshot.SetupChange) ([]Opened, error) {
	attested, err := s.lastAttested(ctx)
	if err != nil {
		return nil, err
	}
	now := s.cfg.Now().UTC()
	out := []Opened{}
	for _, name := range s.names {
		id := s.identities[name]
		if id.Lifecycle == "retired" {
			continue
		}
		ev := matching(id, changes, setup, attested)
		if len(ev.Changes)+len(ev.SetupChanges) == 0 {
			continue
		}
		existing, err := s.cfg.Store.ReviewItems(ctx, store.ReviewFilter{Identity: name})
		if err != nil {
			return out, err
		}
		covered := map[string]bool{}
		for _, it := range existing {
			e, err := ParseEvidence(it)
			if err != nil {
				continue // an unreadable item covers nothing
			}
			for _, k := range e.Keys() {
				covered[k] = true
			}
		}
		ev.Changes = slices.DeleteFunc(ev.Changes, func(c snapshot.Change) bool { return covered[snapshot.ChangeKey(c)] })
		ev.SetupChanges = slices.DeleteFunc(ev.SetupChanges, func(c snapshot.SetupChange) bool { return covered[setupKey(c)] })
		if len(ev.Changes)+len(ev.SetupChanges) == 0 {
			continue
		}
		keys := ev.Keys()
		slices.Sort(keys)
		sum := sha256.Sum256([]byte(strings.Join(keys, "\n")))
		body, err := json.Marshal(ev)
		if err != nil {
			return out, fmt.Errorf("encode the evidence of %s: %w", name, err)
		}
		it, created, err := s.open(ctx, actor, requestID, store.ReviewItem{
			Identity: name, Kind: KindExpansion, Key: "expansion:" + hex.EncodeToString(sum[:16]), Campaign: "expansion/" + now.Format("2006-01"),
			OpenedAt: now, OpenedBy: actor.String(), DueAt: now.Add(ExpansionDue), Evidence: body,
		})
		if err != nil {
			return out, fmt.Errorf("open the expansion review of %s: %w", name, err)
		}
		out = append(out, Opened{Item: it, Created: created})
	}
	return out, nil
}

// matching picks the expansions that touch id, as NHI-REV-02 matches them.
func matching(id *snapshot.Identity, changes []snapshot.Change, setup []snapshot.SetupChange, attested map[string]time.Time) Evidence {
	ev := Evidence{Changes: []snapshot.Change{}, SetupChanges: []snapshot.SetupChange{}}
	runAs := strings.ToLower(id.Salesforce.RunAs)
	app := id.Salesforce.App
	for _, c := range changes {
		if !c.Expands() {
			continue
		}
		if (c.Resource == "Identity" && c.Subject == id.Name) ||
			(c.Resource == "App" && app != "" && c.Subject == app) ||
			(c.Resource == "User" && runAs != "" && strings.ToLower(c.Subject) == runAs) {
			ev.Changes = append(ev.Changes, c)
		}
	}
	last, _ := lastReviewed(id, attested)
	for _, c := range setup {
		touches := (app != "" && c.App == app) || (runAs != "" && strings.ToLower(c.User) == runAs)
		// Day granularity, as NHI-REV-02 compares them.
		if touches && c.Time.UTC().Format(time.DateOnly) > dateOrEmpty(last) {
			ev.SetupChanges = append(ev.SetupChanges, c)
		}
	}
	return ev
}

// AddToSnapshot joins what the store's review items say to snap: each
// identity's latest attestation, the expansions its attestations covered
// and its number of open items. NHI-REV-01 and NHI-REV-02 read them.
func AddToSnapshot(ctx context.Context, db store.Reviews, snap *snapshot.Snapshot) error {
	items, err := db.ReviewItems(ctx, store.ReviewFilter{})
	if err != nil {
		return fmt.Errorf("read the review items: %w", err)
	}
	rs := &snapshot.ReviewStore{LastAttested: map[string]string{}, AttestedChanges: map[string][]string{}, Open: map[string]int{}}
	for _, it := range items {
		if it.Status == store.ReviewOpen {
			rs.Open[it.Identity]++
			continue
		}
		if day := it.ClosedAt.UTC().Format(time.DateOnly); day > rs.LastAttested[it.Identity] {
			rs.LastAttested[it.Identity] = day
		}
		e, err := ParseEvidence(it)
		if err != nil {
			return err
		}
		for _, c := range e.Changes {
			rs.AttestedChanges[it.Identity] = append(rs.AttestedChanges[it.Identity], snapshot.ChangeKey(c))
		}
	}
	snap.ReviewStore = rs
	return nil
}
