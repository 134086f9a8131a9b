package broker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/steward-dev/steward/internal/secrets"
	"github.com/steward-dev/steward/internal/snapshot"
	"github.com/steward-dev/steward/internal/store"
	"github.com/steward-dev/steward/internal/workload"
)

// DefaultFactsRefresh is how often Facts re-reads the secret states and
// review statuses by default. The rules they feed count in days, so a
// state up to this old decides the same; a rotation shows in the next
// decisions within this interval.
const DefaultFactsRefresh = 30 * time.Second

// ReviewSource supplies an identity's review status. DeclaredReviews reads
// it from the manifest; a store-backed review service can take its place.
// Facts asks it on start and on every refresh, never per request.
type ReviewSource interface {
	Review(ctx context.Context, id *snapshot.Identity) (ReviewStatus, error)
}

// DeclaredReviews is the review status the manifests declare.
type DeclaredReviews struct{}

// Review returns DeclaredReview(id).
func (DeclaredReviews) Review(_ context.Context, id *snapshot.Identity) (ReviewStatus, error) {
	return DeclaredReview(id), nil
}

// FactsConfig configures Facts.
type FactsConfig struct {
	// Snapshot holds the Identities. Required.
	Snapshot *snapshot.Snapshot
	// Findings are the open posture findings by identity name.
	Findings map[string][]Finding
	// Secrets lists the versions of the identities' secrets (*secrets.Store
	// is one); nil leaves the manifests' declared dates.
	Secrets VersionLister
	// Reviews supplies the review statuses (default DeclaredReviews).
	Reviews ReviewSource
	// Decider, when set, is the one the inputs are for: their secret and
	// review parts are then prepared on every refresh instead of built for
	// every decision.
	Decider *Decider
	// Logger receives refresh failures; nil discards them.
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Facts are what the runtime decision knows of each identity besides the
// request: its secret state from the store (the manifest's declared dates
// when the store holds no secret for it), its review status and its open
// posture findings. The findings and the identity's policy value are
// prepared once; secret states and reviews are refreshed in the
// background (Run), so a decision reads memory only. It is safe for
// concurrent use.
type Facts struct {
	cfg   FactsConfig
	ids   map[string]*factEntry
	state atomic.Pointer[map[string]refreshed]
}

// factEntry is an identity's part that changes only with the snapshot.
type factEntry struct {
	findings []Finding
	prepared *Prepared
}

// refreshed is an identity's part read from the store and review source,
// with the input prepared for it.
type refreshed struct {
	secret   SecretState
	review   ReviewStatus
	prepared *Prepared
}

// NewFacts prepares every identity of the snapshot and reads the secret
// states and reviews once.
func NewFacts(ctx context.Context, cfg FactsConfig) (*Facts, error) {
	if cfg.Snapshot == nil {
		return nil, errors.New("facts: a snapshot is required")
	}
	if cfg.Reviews == nil {
		cfg.Reviews = DeclaredReviews{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	f := &Facts{cfg: cfg, ids: make(map[string]*factEntry, len(cfg.Snapshot.Identities))}
	for i := range cfg.Snapshot.Identities {
		id := &cfg.Snapshot.Identities[i]
		p, err := Prepare(id, cfg.Findings[id.Name])
		if err != nil {
			return nil, err
		}
		f.ids[id.Name] = &factEntry{findings: cfg.Findings[id.Name], prepared: p}
	}
	if err := f.Refresh(ctx); err != nil {
		return nil, err
	}
	return f, nil
}

// Refresh re-reads every identity's secret state and review status. On an
// error the previous ones stay in force.
func (f *Facts) Refresh(ctx context.Context) error {
	next := make(map[string]refreshed, len(f.ids))
	now := f.cfg.Now()
	for i := range f.cfg.Snapshot.Identities {
		id := &f.cfg.Snapshot.Identities[i]
		sec, err := f.secretState(ctx, id)
		if err != nil {
			return err
		}
		rev, err := f.cfg.Reviews.Review(ctx, id)
		if err != nil {
			return fmt.Errorf("review status of %s: %w", id.Name, err)
		}
		r := refreshed{secret: sec, review: rev, prepared: f.ids[id.Name].prepared}
		if f.cfg.Decider != nil {
			if r.prepared, err = f.cfg.Decider.PrepareState(r.prepared, sec, rev, now); err != nil {
				return err
			}
		}
		next[id.Name] = r
	}
	f.state.Store(&next)
	return nil
}

// secretState reads id's secret state from the store, or declares it.
func (f *Facts) secretState(ctx context.Context, id *snapshot.Identity) (SecretState, error) {
	if f.cfg.Secrets == nil {
		return DeclaredSecret(id), nil
	}
	hist, err := f.cfg.Secrets.History(ctx, id.Name)
	if errors.Is(err, store.ErrNotFound) || err == nil && len(hist) == 0 {
		return DeclaredSecret(id), nil
	}
	if err != nil {
		return SecretState{}, fmt.Errorf("secret state of %s: %w", id.Name, err)
	}
	return StoredSecret(id, hist), nil
}

// StoredSecret is the secret state the store's versions give (oldest
// first, as History returns them): the active version, when it was
// stored and became active, its rotation deadline (rotationDays from the
// manifest after it became active), and the state of an unfinished
// rotation's new version.
func StoredSecret(id *snapshot.Identity, hist []secrets.Metadata) SecretState {
	s := SecretState{Source: SourceStore}
	active := -1
	for i, m := range hist {
		if m.State == store.StateActive && m.Deleted.IsZero() && m.Destroyed.IsZero() {
			active = i
		}
	}
	if active >= 0 {
		m := hist[active]
		s.Version, s.CreatedAt, s.RotatedAt = m.Version, m.Created, m.Rotated
		if id.Credential.RotationDays > 0 && !m.Rotated.IsZero() {
			s.RotationDeadline = m.Rotated.AddDate(0, 0, id.Credential.RotationDays)
		}
	}
	for _, m := range hist[active+1:] {
		if (m.State == store.StateStaged || m.State == store.StateVerified) && m.Deleted.IsZero() && m.Destroyed.IsZero() {
			s.Rotation = m.State
		}
	}
	return s
}

// Run refreshes every interval (default DefaultFactsRefresh) until ctx
// ends. A failed refresh is logged and the last known facts stay.
func (f *Facts) Run(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = DefaultFactsRefresh
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := f.Refresh(ctx); err != nil && ctx.Err() == nil {
			f.cfg.Logger.Warn("refresh the decision facts; keeping the last known ones", "error", err)
		}
	}
}

// Input is the decision input for a workload asking for id's token: id's
// facts from memory. An identity outside the snapshot gets its declared
// state and no findings.
func (f *Facts) Input(w *workload.Workload, id *snapshot.Identity, killed bool, now time.Time) Input {
	in := Input{Workload: w, Identity: id, Killed: killed, Now: now}
	st, ok := (*f.state.Load())[id.Name]
	if !ok {
		in.Secret, in.Review = DeclaredSecret(id), DeclaredReview(id)
		return in
	}
	in.Secret, in.Review = st.secret, st.review
	if st.prepared.identity == id {
		in.Findings, in.Prepared = f.ids[id.Name].findings, st.prepared
	}
	return in
}
