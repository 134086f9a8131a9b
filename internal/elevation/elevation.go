// Package elevation runs break-glass elevation: a person asks for an extra
// Salesforce permission set on an identity's run-as user for a bounded
// time, with a reason and an incident or change reference; a different
// person with the approver role approves it; Steward then assigns the
// permission set in the org with an ExpirationDate, removes the assignment
// itself when the time is up (whether or not the org's own expiry did),
// and leaves a post-use review that someone must close. Every step and
// every refusal is audited first.
package elevation

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/steward-dev/steward/internal/audit"
	"github.com/steward-dev/steward/internal/store"
)

// Duration limits. HardCap is the ceiling no configuration may raise.
const (
	HardCap            = 24 * time.Hour
	DefaultMaxDuration = 4 * time.Hour
	DefaultRequestTTL  = time.Hour
	DefaultReviewDays  = 2
	// SystemActor is who acts when Steward removes an expired elevation.
	SystemActor = "steward"
)

// Refusal kinds; a *Refusal matches one with errors.Is.
var (
	ErrNotFound         = errors.New("no such elevation")
	ErrUnknownIdentity  = errors.New("unknown identity")
	ErrUnknownPermSet   = errors.New("unknown permission set")
	ErrInvalid          = errors.New("invalid request")
	ErrOverCap          = errors.New("duration over the cap")
	ErrSelfApproval     = errors.New("requester may not approve")
	ErrNotApprover      = errors.New("approver role required")
	ErrRequestExpired   = errors.New("request expired")
	ErrState            = errors.New("not possible in this state")
	ErrOrgRefused       = errors.New("the org refused the change")
	ErrOrgUnavailable   = errors.New("the org could not be reached")
	ErrAuditUnavailable = errors.New("audit log unavailable")
)

// Refusal is an operation turned down, with the reason in words. Nothing
// was changed, except what Reason says (an expired request is marked so).
type Refusal struct {
	Kind   error
	Reason string
}

// Error is the reason.
func (r *Refusal) Error() string { return r.Reason }

// Is matches the kind.
func (r *Refusal) Is(target error) bool { return target == r.Kind }

func refuse(kind error, format string, args ...any) *Refusal {
	return &Refusal{Kind: kind, Reason: fmt.Sprintf(format, args...)}
}

// Config is the elevation policy.
type Config struct {
	// MaxDuration caps a request's duration (default DefaultMaxDuration, at
	// most HardCap).
	MaxDuration time.Duration
	// DefaultDuration is used when a request names none (default one hour,
	// or MaxDuration when that is shorter).
	DefaultDuration time.Duration
	// RequestTTL is how long a request waits for a decision (default
	// DefaultRequestTTL).
	RequestTTL time.Duration
	// ReviewDays is the post-use review's deadline in business days after
	// the removal (default DefaultReviewDays).
	ReviewDays int
}

// Check reports a policy outside the limits (a cap over HardCap, a
// default over the cap, negative values).
func (c Config) Check() error {
	_, err := c.withDefaults()
	return err
}

// withDefaults fills the zero fields and checks the limits.
func (c Config) withDefaults() (Config, error) {
	if c.MaxDuration == 0 {
		c.MaxDuration = DefaultMaxDuration
	}
	if c.MaxDuration < 0 || c.MaxDuration > HardCap {
		return c, fmt.Errorf("elevation maxDuration %s: it must be positive and at most the hard cap of %s", c.MaxDuration, HardCap)
	}
	if c.DefaultDuration == 0 {
		c.DefaultDuration = min(time.Hour, c.MaxDuration)
	}
	if c.DefaultDuration < 0 || c.DefaultDuration > c.MaxDuration {
		return c, fmt.Errorf("elevation defaultDuration %s: it must be positive and at most maxDuration %s", c.DefaultDuration, c.MaxDuration)
	}
	if c.RequestTTL == 0 {
		c.RequestTTL = DefaultRequestTTL
	}
	if c.RequestTTL < 0 {
		return c, fmt.Errorf("elevation requestTTL %s is negative", c.RequestTTL)
	}
	if c.ReviewDays == 0 {
		c.ReviewDays = DefaultReviewDays
	}
	if c.ReviewDays < 0 {
		return c, fmt.Errorf("elevation reviewDays %d is negative", c.ReviewDays)
	}
	return c, nil
}

// Target is where an identity's elevation is applied: its org and run-as
// user.
type Target struct {
	OrgURL string
	RunAs  string
}

// Org applies elevations in Salesforce. SalesforceOrgs is one.
type Org interface {
	// PermissionSetID resolves a permission set's API name; an unknown
	// name (or a profile's own permission set) is ErrUnknownPermSet.
	PermissionSetID(ctx context.Context, orgURL, name string) (string, error)
	// UserID resolves a username.
	UserID(ctx context.Context, orgURL, username string) (string, error)
	// Assign assigns the permission set to the user until expires and
	// returns the assignment's ID.
	Assign(ctx context.Context, orgURL, userID, permSetID string, expires time.Time) (string, error)
	// Unassign deletes the assignment; one that is gone already is no
	// error.
	Unassign(ctx context.Context, orgURL, assignmentID string) error
}

// Auditor makes an audit record durable. *audit.Log is one.
type Auditor interface {
	Append(ctx context.Context, ev audit.Event) (audit.Record, error)
}

// ReviewTasks receives the post-use reviews, for a review system that
// tracks them as tasks of its own. The elevation keeps its own
// post_review_due state either way.
type ReviewTasks interface {
	OpenPostUseReview(ctx context.Context, e store.Elevation) error
}

// Actor is the person calling, as the API authenticated them.
type Actor struct {
	Name string
	// Approver is true when the person holds the approver role.
	Approver  bool
	RequestID string
}

// Service runs the elevation workflow.
type Service struct {
	cfg     Config
	db      store.Elevations
	org     Org
	audit   Auditor
	targets func(identity string) (Target, bool)
	reviews ReviewTasks
	now     func() time.Time
	log     *slog.Logger
}

// Options build a Service.
type Options struct {
	Config Config
	Store  store.Elevations
	Org    Org
	Audit  Auditor
	// Targets resolves an identity's org and run-as user.
	Targets func(identity string) (Target, bool)
	// Reviews is optional.
	Reviews ReviewTasks
	// Now is the clock (default time.Now).
	Now    func() time.Time
	Logger *slog.Logger
}

// New checks the options and returns a Service.
func New(o Options) (*Service, error) {
	cfg, err := o.Config.withDefaults()
	if err != nil {
		return nil, err
	}
	if o.Store == nil || o.Org == nil || o.Audit == nil || o.Targets == nil {
		return nil, errors.New("elevation: store, org, audit log and targets are required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{cfg: cfg, db: o.Store, org: o.Org, audit: o.Audit, targets: o.Targets, reviews: o.Reviews, now: o.Now, log: o.Logger}, nil
}

// Config returns the policy in force, defaults filled in.
func (s *Service) Config() Config { return s.cfg }

// Request is what a person asks for.
type Request struct {
	Identity      string
	PermissionSet string
	Reason        string
	// Reference is the incident or change, such as INC-1234 or CHG-77.
	Reference string
	// Duration is 0 for the configured default.
	Duration time.Duration
}

// permSetName is a permission set API name.
var permSetName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,79}$`)

// reference is an incident or change reference: a ticket key or a URL.
var reference = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:/#?=&-]{1,199}$`)

// Request records a request for approval. It checks the identity, the
// duration against the cap and the permission set against the org before
// anything is stored.
func (s *Service) Request(ctx context.Context, actor Actor, r Request) (store.Elevation, error) {
	now := s.now().UTC()
	ev := s.event(actor, "elevation.request", r.Identity, now)
	ev.Details = map[string]string{"permissionSet": r.PermissionSet, "reference": r.Reference, "duration": r.Duration.String()}
	if r.Duration == 0 {
		r.Duration = s.cfg.DefaultDuration
	}
	if err := s.checkRequest(ctx, r); err != nil {
		return store.Elevation{}, s.refused(ctx, ev, err)
	}
	e := store.Elevation{
		ID: newID(), Identity: r.Identity, PermissionSet: r.PermissionSet, Reason: strings.TrimSpace(r.Reason),
		Reference: r.Reference, Requester: actor.Name, Duration: r.Duration, MaxDuration: s.cfg.MaxDuration,
		State: store.ElevationRequested, RequestedAt: now, RequestExpiresAt: now.Add(s.cfg.RequestTTL),
	}
	ev.Details["elevation"], ev.Details["duration"] = e.ID, e.Duration.String()
	if err := s.record(ctx, ev); err != nil {
		return store.Elevation{}, err
	}
	if err := s.db.InsertElevation(ctx, e); err != nil {
		return store.Elevation{}, fmt.Errorf("store elevation request: %w", err)
	}
	return e, nil
}

func (s *Service) checkRequest(ctx context.Context, r Request) error {
	switch {
	case r.Identity == "":
		return refuse(ErrInvalid, "name the identity to elevate")
	case !permSetName.MatchString(r.PermissionSet):
		return refuse(ErrInvalid, "permission set %q is not an API name (letters, digits and underscores)", r.PermissionSet)
	case len(strings.TrimSpace(r.Reason)) < 10:
		return refuse(ErrInvalid, "give the reason in a sentence (at least 10 characters)")
	case !reference.MatchString(r.Reference):
		return refuse(ErrInvalid, "reference %q is not an incident or change reference such as INC-1234 or a ticket URL", r.Reference)
	case r.Duration < time.Minute:
		return refuse(ErrInvalid, "duration %s is shorter than a minute", r.Duration)
	case r.Duration > s.cfg.MaxDuration:
		return refuse(ErrOverCap, "duration %s is over the cap of %s (hard cap %s); ask for less, and again later if needed", r.Duration, s.cfg.MaxDuration, HardCap)
	}
	t, ok := s.targets(r.Identity)
	if !ok {
		return refuse(ErrUnknownIdentity, "no identity named %s in the inventory", r.Identity)
	}
	if t.OrgURL == "" || t.RunAs == "" {
		return refuse(ErrInvalid, "identity %s names no org URL and run-as user (spec.salesforce.url and runAs)", r.Identity)
	}
	if _, err := s.org.PermissionSetID(ctx, t.OrgURL, r.PermissionSet); err != nil {
		if errors.Is(err, ErrUnknownPermSet) {
			return refuse(ErrUnknownPermSet, "%v", err)
		}
		return refuse(ErrOrgUnavailable, "cannot check permission set %s in %s: %v", r.PermissionSet, t.OrgURL, err)
	}
	return nil
}

// Approve approves a request and applies it: the permission set is
// assigned with an ExpirationDate of now plus the duration. When the org
// refuses the assignment, the elevation stays approved but not applied,
// with the error recorded, and approving it again retries. secretSeen
// records that a person will see the identity's secret.
func (s *Service) Approve(ctx context.Context, actor Actor, id, note string, secretSeen bool) (store.Elevation, error) {
	now := s.now().UTC()
	e, err := s.get(ctx, id)
	if err != nil {
		return e, err
	}
	ev := s.event(actor, "elevation.approve", e.Identity, now)
	ev.Details = map[string]string{"elevation": e.ID, "permissionSet": e.PermissionSet}
	retry := e.State == store.ElevationApproved && e.AssignmentID == ""
	switch {
	case !actor.Approver:
		return e, s.refused(ctx, ev, refuse(ErrNotApprover, "approving needs the approver role; %s does not hold it", actor.Name))
	case actor.Name == e.Requester:
		return e, s.refused(ctx, ev, refuse(ErrSelfApproval, "%s requested elevation %s and may not approve it: another approver must", actor.Name, e.ID))
	case e.State != store.ElevationRequested && !retry:
		return e, s.refused(ctx, ev, refuse(ErrState, "elevation %s is %s; only a pending request can be approved", e.ID, e.State))
	case !now.Before(e.RequestExpiresAt):
		from := e.State
		e.State = store.ElevationExpired
		if err := s.db.UpdateElevation(ctx, e, from); err != nil && !errors.Is(err, store.ErrConflict) {
			return e, fmt.Errorf("mark elevation %s expired: %w", e.ID, err)
		}
		return e, s.refused(ctx, ev, refuse(ErrRequestExpired, "request %s expired at %s without a decision; ask again", e.ID, e.RequestExpiresAt.Format(time.RFC3339)))
	case e.Duration > s.cfg.MaxDuration:
		return e, s.refused(ctx, ev, refuse(ErrOverCap, "duration %s is over the cap of %s now in force; deny it and ask for less", e.Duration, s.cfg.MaxDuration))
	}
	target, ok := s.targets(e.Identity)
	if !ok {
		return e, s.refused(ctx, ev, refuse(ErrUnknownIdentity, "identity %s is no longer in the inventory", e.Identity))
	}
	if err := s.record(ctx, ev); err != nil {
		return e, err
	}
	from := e.State
	e.State, e.Approver, e.DecidedAt, e.DecisionNote = store.ElevationApproved, actor.Name, now, note
	e.SecretSeen = e.SecretSeen || secretSeen
	if err := s.db.UpdateElevation(ctx, e, from); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return e, refuse(ErrState, "elevation %s was decided by someone else meanwhile", e.ID)
		}
		return e, fmt.Errorf("store approval of %s: %w", e.ID, err)
	}
	return s.apply(ctx, actor, e, target)
}

// apply assigns an approved elevation in the org. A failure leaves it
// approved with ApplyError and nothing in the org.
func (s *Service) apply(ctx context.Context, actor Actor, e store.Elevation, t Target) (store.Elevation, error) {
	now := s.now().UTC()
	ev := s.event(actor, "elevation.apply", e.Identity, now)
	expires := now.Add(e.Duration).Truncate(time.Second)
	ev.Details = map[string]string{"elevation": e.ID, "permissionSet": e.PermissionSet, "expires": expires.Format(time.RFC3339)}
	assignment, err := s.assign(ctx, t, e, expires)
	if err != nil {
		e.ApplyError = err.Error()
		if uerr := s.db.UpdateElevation(ctx, e, store.ElevationApproved); uerr != nil {
			s.log.Error("record the failed application of an elevation", "elevation", e.ID, "error", uerr)
		}
		ev.Outcome, ev.Details["error"] = audit.OutcomeFailure, err.Error()
		if aerr := s.record(ctx, ev); aerr != nil {
			s.log.Error("audit the failed application of an elevation", "elevation", e.ID, "error", aerr)
		}
		kind := ErrOrgRefused
		if !isOrgRefusal(err) {
			kind = ErrOrgUnavailable
		}
		return e, refuse(kind, "approved, but not applied: %v; nothing was assigned: approve %s again to retry, or revoke it", err, e.ID)
	}
	ev.Details["assignment"] = assignment
	undo := func(cause error) (store.Elevation, error) {
		if uerr := s.org.Unassign(ctx, t.OrgURL, assignment); uerr != nil {
			return e, fmt.Errorf("%w; and removing assignment %s again failed: %v: remove it in the org by hand", cause, assignment, uerr)
		}
		return e, fmt.Errorf("%w; the assignment was removed again, nothing is applied", cause)
	}
	if err := s.record(ctx, ev); err != nil {
		return undo(err)
	}
	e.State, e.AssignmentID, e.AppliedAt, e.ExpiresAt, e.ApplyError = store.ElevationActive, assignment, now, expires, ""
	if err := s.db.UpdateElevation(ctx, e, store.ElevationApproved); err != nil {
		return undo(fmt.Errorf("store applied elevation %s: %w", e.ID, err))
	}
	return e, nil
}

func (s *Service) assign(ctx context.Context, t Target, e store.Elevation, expires time.Time) (string, error) {
	user, err := s.org.UserID(ctx, t.OrgURL, t.RunAs)
	if err != nil {
		return "", err
	}
	set, err := s.org.PermissionSetID(ctx, t.OrgURL, e.PermissionSet)
	if err != nil {
		return "", err
	}
	return s.org.Assign(ctx, t.OrgURL, user, set, expires)
}

// Deny turns a pending request down.
func (s *Service) Deny(ctx context.Context, actor Actor, id, note string) (store.Elevation, error) {
	now := s.now().UTC()
	e, err := s.get(ctx, id)
	if err != nil {
		return e, err
	}
	ev := s.event(actor, "elevation.deny", e.Identity, now)
	ev.Details = map[string]string{"elevation": e.ID}
	switch {
	case !actor.Approver:
		return e, s.refused(ctx, ev, refuse(ErrNotApprover, "denying needs the approver role; %s does not hold it", actor.Name))
	case e.State != store.ElevationRequested:
		return e, s.refused(ctx, ev, refuse(ErrState, "elevation %s is %s; only a pending request can be denied", e.ID, e.State))
	}
	if err := s.record(ctx, ev); err != nil {
		return e, err
	}
	e.State, e.Approver, e.DecidedAt, e.DecisionNote = store.ElevationDenied, actor.Name, now, note
	if err := s.db.UpdateElevation(ctx, e, store.ElevationRequested); err != nil {
		return e, s.conflict(e, err)
	}
	return e, nil
}

// Revoke withdraws an elevation. A request not yet applied ends revoked;
// an active one is removed from the org now and goes to its post-use
// review. The requester or an approver may revoke.
func (s *Service) Revoke(ctx context.Context, actor Actor, id, note string) (store.Elevation, error) {
	now := s.now().UTC()
	e, err := s.get(ctx, id)
	if err != nil {
		return e, err
	}
	ev := s.event(actor, "elevation.revoke", e.Identity, now)
	ev.Details = map[string]string{"elevation": e.ID}
	if !actor.Approver && actor.Name != e.Requester {
		return e, s.refused(ctx, ev, refuse(ErrNotApprover, "only the requester or an approver may revoke elevation %s", e.ID))
	}
	switch e.State {
	case store.ElevationRequested, store.ElevationApproved:
		if err := s.record(ctx, ev); err != nil {
			return e, err
		}
		from := e.State
		e.State, e.DecisionNote = store.ElevationRevoked, joinNote(e.DecisionNote, note)
		if err := s.db.UpdateElevation(ctx, e, from); err != nil {
			return e, s.conflict(e, err)
		}
		return e, nil
	case store.ElevationActive:
		return s.remove(ctx, e, actor, "elevation.revoke", note)
	}
	return e, s.refused(ctx, ev, refuse(ErrState, "elevation %s is %s; there is nothing to revoke", e.ID, e.State))
}

// Close closes the post-use review: an approver other than the requester
// confirms how the elevation was used. secretSeen records that a person
// saw the secret, which requires its rotation (NHI-SEC-04).
func (s *Service) Close(ctx context.Context, actor Actor, id, note string, secretSeen bool) (store.Elevation, error) {
	now := s.now().UTC()
	e, err := s.get(ctx, id)
	if err != nil {
		return e, err
	}
	ev := s.event(actor, "elevation.review.close", e.Identity, now)
	ev.Details = map[string]string{"elevation": e.ID}
	switch {
	case !actor.Approver:
		return e, s.refused(ctx, ev, refuse(ErrNotApprover, "closing a post-use review needs the approver role; %s does not hold it", actor.Name))
	case actor.Name == e.Requester:
		return e, s.refused(ctx, ev, refuse(ErrSelfApproval, "%s requested elevation %s and may not review its use: another approver must", actor.Name, e.ID))
	case e.State != store.ElevationPostReviewDue:
		return e, s.refused(ctx, ev, refuse(ErrState, "elevation %s is %s; only one awaiting its post-use review can be closed", e.ID, e.State))
	case len(strings.TrimSpace(note)) < 10:
		return e, s.refused(ctx, ev, refuse(ErrInvalid, "say what was done with the elevation (a note of at least 10 characters)"))
	}
	e.SecretSeen = e.SecretSeen || secretSeen
	if e.SecretSeen {
		ev.Details["rotationRequired"] = "true"
	}
	if err := s.record(ctx, ev); err != nil {
		return e, err
	}
	e.State, e.ClosedAt, e.ClosedBy, e.ReviewNote = store.ElevationClosed, now, actor.Name, note
	if err := s.db.UpdateElevation(ctx, e, store.ElevationPostReviewDue); err != nil {
		return e, s.conflict(e, err)
	}
	return e, nil
}

// List returns elevations, oldest first.
func (s *Service) List(ctx context.Context, f store.ElevationFilter) ([]store.Elevation, error) {
	return s.db.ListElevations(ctx, f)
}

// Get returns one elevation.
func (s *Service) Get(ctx context.Context, id string) (store.Elevation, error) { return s.get(ctx, id) }

// remove deletes an active elevation's assignment and opens its post-use
// review. The assignment staying in the org is an error; the elevation
// then stays active and the next sweep tries again.
func (s *Service) remove(ctx context.Context, e store.Elevation, actor Actor, action, note string) (store.Elevation, error) {
	now := s.now().UTC()
	ev := s.event(actor, action, e.Identity, now)
	ev.Details = map[string]string{"elevation": e.ID, "assignment": e.AssignmentID}
	t, ok := s.targets(e.Identity)
	if !ok {
		err := fmt.Errorf("identity %s is no longer in the inventory: remove assignment %s in the org by hand", e.Identity, e.AssignmentID)
		ev.Outcome, ev.Details["error"] = audit.OutcomeFailure, err.Error()
		s.record(ctx, ev)
		return e, refuse(ErrUnknownIdentity, "%v", err)
	}
	if err := s.org.Unassign(ctx, t.OrgURL, e.AssignmentID); err != nil {
		ev.Outcome, ev.Details["error"] = audit.OutcomeFailure, err.Error()
		if aerr := s.record(ctx, ev); aerr != nil {
			s.log.Error("audit a failed removal", "elevation", e.ID, "error", aerr)
		}
		return e, refuse(ErrOrgUnavailable, "remove assignment %s of elevation %s: %v; it stays active and is retried", e.AssignmentID, e.ID, err)
	}
	if err := s.record(ctx, ev); err != nil {
		return e, err
	}
	e.State, e.RemovedAt, e.RemovedBy = store.ElevationPostReviewDue, now, actor.Name
	e.ReviewDueAt = addBusinessDays(now, s.cfg.ReviewDays)
	if note != "" {
		e.DecisionNote = joinNote(e.DecisionNote, note)
	}
	if err := s.db.UpdateElevation(ctx, e, store.ElevationActive); err != nil {
		return e, s.conflict(e, err)
	}
	if s.reviews != nil {
		if err := s.reviews.OpenPostUseReview(ctx, e); err != nil {
			s.log.Error("open the post-use review task", "elevation", e.ID, "error", err)
		}
	}
	return e, nil
}

func (s *Service) get(ctx context.Context, id string) (store.Elevation, error) {
	e, err := s.db.Elevation(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return e, refuse(ErrNotFound, "no elevation %s; steward elevate list shows them", id)
	}
	return e, err
}

func (s *Service) event(actor Actor, action, identity string, now time.Time) audit.Event {
	kind := audit.ActorHuman
	if actor.Name == SystemActor {
		kind = audit.ActorSystem
	}
	return audit.Event{Time: now, Actor: audit.Actor{Kind: kind, ID: actor.Name}, Action: action, Resource: identity,
		Outcome: audit.OutcomeSuccess, RequestID: actor.RequestID}
}

// record appends ev; without it the operation must not go ahead.
func (s *Service) record(ctx context.Context, ev audit.Event) error {
	if _, err := s.audit.Append(ctx, ev); err != nil {
		return &Refusal{Kind: ErrAuditUnavailable, Reason: fmt.Sprintf("the audit log is unavailable (%v); nothing was changed", err)}
	}
	return nil
}

// refused audits a refusal and returns it.
func (s *Service) refused(ctx context.Context, ev audit.Event, r error) error {
	ev.Outcome = audit.OutcomeDenied
	if ev.Details == nil {
		ev.Details = map[string]string{}
	}
	ev.Details["reason"] = r.Error()
	if err := s.record(ctx, ev); err != nil {
		return err
	}
	return r
}

func (s *Service) conflict(e store.Elevation, err error) error {
	if errors.Is(err, store.ErrConflict) {
		return refuse(ErrState, "elevation %s was changed by someone else meanwhile; look at it again", e.ID)
	}
	return fmt.Errorf("store elevation %s: %w", e.ID, err)
}

func joinNote(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "; " + b
}

// addBusinessDays adds n working days (Monday to Friday) to t.
func addBusinessDays(t time.Time, n int) time.Time {
	for n > 0 {
		t = t.AddDate(0, 0, 1)
		if wd := t.Weekday(); wd != time.Saturday && wd != time.Sunday {
			n--
		}
	}
	return t
}

func newID() string {
	b := make([]byte, 6)
	rand.Read(b)
	return "el-" + hex.EncodeToString(b)
}
