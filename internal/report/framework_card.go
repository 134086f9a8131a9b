package report

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/steward-dev/steward/internal/policy"
	"github.com/steward-dev/steward/internal/snapshot"
)

// ReviewSource gives the access reviews recorded for identities. A
// compliance report calls it once, with every identity it shows.
type ReviewSource interface {
	// Reviews returns the reviews of the named identities, by identity
	// name; an identity without reviews may be left out.
	Reviews(ctx context.Context, identities []string) (map[string][]Review, error)
}

// ElevationSource gives the break-glass elevations recorded for
// identities. A compliance report calls it once, with every identity it
// shows.
type ElevationSource interface {
	// Elevations returns the elevations of the named identities, by
	// identity name; an identity without elevations may be left out.
	Elevations(ctx context.Context, identities []string) (map[string][]Elevation, error)
}

// Review is one access review of an identity.
type Review struct {
	Campaign string `json:"campaign,omitempty"`
	// Trigger is why the review exists: "periodic", or the access
	// expansion that opened it.
	Trigger string    `json:"trigger,omitempty"`
	Due     time.Time `json:"due,omitzero"`
	// Decision is keep, modify or revoke; empty while the review is open.
	Decision string    `json:"decision,omitempty"`
	Decided  time.Time `json:"decided,omitzero"`
	By       string    `json:"by,omitempty"`
	Comment  string    `json:"comment,omitempty"`
}

// Elevation is one break-glass elevation of an identity.
type Elevation struct {
	ID string `json:"id"`
	// Grant is the extra permission set or scope.
	Grant       string `json:"grant"`
	Reason      string `json:"reason,omitempty"`
	Reference   string `json:"reference,omitempty"` // the incident or change
	RequestedBy string `json:"requestedBy,omitempty"`
	ApprovedBy  string `json:"approvedBy,omitempty"`
	// State is requested, approved, denied, active, expired or revoked.
	State   string    `json:"state"`
	Start   time.Time `json:"start,omitzero"`
	Expires time.Time `json:"expires,omitzero"`
	Ended   time.Time `json:"ended,omitzero"`
	// PostUseReview is the state of the review that follows use: open,
	// done, or empty when none is due.
	PostUseReview string `json:"postUseReview,omitempty"`
}

// IdentityCard is everything known about one identity, on one page.
type IdentityCard struct {
	Name        string `json:"name"`
	File        string `json:"file,omitempty"`
	Line        int    `json:"line,omitempty"`
	Service     string `json:"service"`
	Owner       string `json:"owner"`
	Team        *Team  `json:"team"` // nil when no Team manifest names the owner
	Environment string `json:"environment"`
	Criticality string `json:"criticality"`
	Lifecycle   string `json:"lifecycle"`
	Agent       bool   `json:"agent"`
	Vendor      string `json:"vendor,omitempty"`
	Purpose     string `json:"purpose"`

	App   CardApp   `json:"app"`
	RunAs CardRunAs `json:"runAs"`
	// DeclaredScopes and DeclaredObjects are what the identity says it
	// needs.
	DeclaredScopes  []string          `json:"declaredScopes"`
	DeclaredObjects []ObjectGrant     `json:"declaredObjects"`
	Secret          CardSecret        `json:"secret"`
	LastUse         CardLastUse       `json:"lastUse"`
	Review          CardReviewCadence `json:"review"`
	// Reviews and Elevations are nil when no source was given ("no
	// data"), and empty when the source has none for the identity.
	Reviews    []Review    `json:"reviews"`
	Elevations []Elevation `json:"elevations"`
	// Findings are the identity's active findings of every rule;
	// Exceptions those an Exception accepts.
	Findings   []policy.Finding `json:"findings"`
	Exceptions []Excepted       `json:"exceptions"`
}

// Team is the owning team as its manifest declares it.
type Team struct {
	Name    string   `json:"name"`
	Members []string `json:"members"`
	Backup  string   `json:"backup,omitempty"`
}

// CardApp is the identity's app as the metadata (or the org) has it.
type CardApp struct {
	Name  string `json:"name"`  // as the identity declares it
	Found bool   `json:"found"` // a metadata file or the org has it
	Kind  string `json:"kind,omitempty"`
	File  string `json:"file,omitempty"`
	Line  int    `json:"line,omitempty"`
	// Flows lists the enabled OAuth flows: clientCredentials, device, …
	Flows              []string `json:"flows"`
	Scopes             []string `json:"scopes"`
	IPRelaxation       string   `json:"ipRelaxation,omitempty"`
	RefreshTokenPolicy string   `json:"refreshTokenPolicy,omitempty"`
	RunAs              string   `json:"runAs,omitempty"` // the run-as user the app names
	// SharedWith are the other identities that declare the same app.
	SharedWith []string `json:"sharedWith"`
}

// CardRunAs is the run-as user and a summary of its effective permissions.
type CardRunAs struct {
	Username            string   `json:"username"`
	DeclaredProfile     string   `json:"declaredProfile,omitempty"`
	Found               bool     `json:"found"`
	Profile             string   `json:"profile,omitempty"`
	License             string   `json:"license,omitempty"`
	PermissionSets      []string `json:"permissionSets"`
	PermissionSetGroups []string `json:"permissionSetGroups"`
	// Unresolved are grants no metadata file defines: the effective
	// permissions are then incomplete.
	Unresolved      []string          `json:"unresolved"`
	UserPermissions []PermissionGrant `json:"userPermissions"`
	Objects         []ObjectGrant     `json:"objects"`
	// SharedWith are the other identities that run as the same user.
	SharedWith []string `json:"sharedWith"`
}

// PermissionGrant is an enabled user permission and what grants it.
type PermissionGrant struct {
	Name      string   `json:"name"`
	GrantedBy []string `json:"grantedBy"`
}

// ObjectGrant is access to one object: read, create, edit, delete,
// viewAll, modifyAll.
type ObjectGrant struct {
	Object string   `json:"object"`
	Access []string `json:"access"`
}

// CardSecret is the identity's credential: the declared reference and
// rotation, and what Steward's secret store says when one was read.
type CardSecret struct {
	Ref          string `json:"ref"`
	InlineValue  bool   `json:"inlineValue"` // the manifest held a value instead of a reference
	RotationDays int    `json:"rotationDays"`
	RotatedAt    string `json:"rotatedAt,omitempty"` // declared, YYYY-MM-DD
	// AgeDays is the secret's age from the store's rotation when known,
	// else from the declared one; -1 when neither is known.
	AgeDays int          `json:"ageDays"`
	Store   *StoreSecret `json:"store"` // nil without a store or when it lacks the secret
}

// StoreSecret is the secret store's record of a secret: metadata only.
type StoreSecret struct {
	Name       string            `json:"name"`
	Version    int               `json:"version"`
	RotatedOn  string            `json:"rotatedOn"`
	Rotation   string            `json:"rotation"`
	LastRead   time.Time         `json:"lastRead,omitzero"`
	LastReadBy string            `json:"lastReadBy,omitempty"`
	Readers    []snapshot.Reader `json:"readers"`
}

// CardLastUse is the latest use seen. Live is false when the report was
// built offline, without an org to ask.
type CardLastUse struct {
	Live       bool      `json:"live"`
	AppLogin   time.Time `json:"appLogin,omitzero"`   // latest client-credentials login through the app
	TokenUse   time.Time `json:"tokenUse,omitzero"`   // latest use of an OAuth grant of the app
	UserLogin  time.Time `json:"userLogin,omitzero"`  // the run-as user's last login
	SecretRead time.Time `json:"secretRead,omitzero"` // latest read of the secret in the store
}

// Latest returns the most recent of the uses, zero when none is known.
func (u CardLastUse) Latest() time.Time {
	latest := u.AppLogin
	for _, t := range []time.Time{u.TokenUse, u.UserLogin, u.SecretRead} {
		if t.After(latest) {
			latest = t
		}
	}
	return latest
}

// CardReviewCadence is the review interval the identity declares and when
// the next review is due.
type CardReviewCadence struct {
	IntervalDays int    `json:"intervalDays"`
	LastReviewed string `json:"lastReviewed,omitempty"`
	Due          string `json:"due,omitempty"` // YYYY-MM-DD
	Overdue      bool   `json:"overdue"`
}

// identityCards builds one card per inventoried identity, sorted by name.
func identityCards(ctx context.Context, in ComplianceInput, subjects attribution, active, suppressed []policy.Finding, exceptions map[string]ExceptionInfo) ([]IdentityCard, error) {
	snap := in.Snapshot
	names := identityNames(snap)
	var reviews map[string][]Review
	var elevations map[string][]Elevation
	var err error
	if in.Reviews != nil {
		if reviews, err = in.Reviews.Reviews(ctx, names); err != nil {
			return nil, fmt.Errorf("read access reviews: %w", err)
		}
	}
	if in.Elevations != nil {
		if elevations, err = in.Elevations.Elevations(ctx, names); err != nil {
			return nil, fmt.Errorf("read elevations: %w", err)
		}
	}

	teams := map[string]snapshot.Team{}
	for _, t := range snap.Teams {
		if _, dup := teams[t.Name]; !dup {
			teams[t.Name] = t
		}
	}
	apps := map[string][]*snapshot.App{}
	for i := range snap.Apps {
		apps[snap.Apps[i].Name] = append(apps[snap.Apps[i].Name], &snap.Apps[i])
	}
	users := map[string]*snapshot.User{}
	for i := range snap.Users {
		if _, dup := users[snap.Users[i].Username]; !dup {
			users[snap.Users[i].Username] = &snap.Users[i]
		}
	}
	secrets := map[string]*snapshot.Secret{}
	if snap.SecretStore != nil {
		for i := range snap.SecretStore.Secrets {
			for _, id := range snap.SecretStore.Secrets[i].Identities {
				secrets[id] = &snap.SecretStore.Secrets[i]
			}
		}
	}
	byApp, byUser := map[string][]string{}, map[string][]string{}
	for _, id := range snap.Identities {
		if id.Salesforce.App != "" {
			byApp[id.Salesforce.App] = append(byApp[id.Salesforce.App], id.Name)
		}
		if id.Salesforce.RunAs != "" {
			byUser[id.Salesforce.RunAs] = append(byUser[id.Salesforce.RunAs], id.Name)
		}
	}
	findings, excepts := map[string][]policy.Finding{}, map[string][]Excepted{}
	for _, f := range active {
		for _, n := range subjects.of(f) {
			findings[n] = append(findings[n], f)
		}
	}
	for _, f := range suppressed {
		for _, n := range subjects.of(f) {
			excepts[n] = append(excepts[n], excepted(f, exceptions))
		}
	}

	cards := make([]IdentityCard, 0, len(names))
	seen := map[string]bool{}
	ids := slices.Clone(snap.Identities)
	slices.SortStableFunc(ids, func(a, b snapshot.Identity) int { return cmp.Compare(a.Name, b.Name) })
	for i := range ids {
		id := &ids[i]
		if seen[id.Name] {
			continue // a duplicate name is reported by validation
		}
		seen[id.Name] = true
		card := IdentityCard{
			Name: id.Name, File: id.Location.File, Line: id.Location.Line,
			Service: id.Service, Owner: id.Owner, Environment: id.Environment, Criticality: id.Criticality,
			Lifecycle: id.Lifecycle, Agent: id.Agent, Vendor: id.Vendor, Purpose: id.Purpose,
			DeclaredScopes:  append([]string{}, id.Access.Scopes...),
			DeclaredObjects: objectGrants(id.Access.Objects),
			App:             cardApp(id, apps[id.Salesforce.App], byApp[id.Salesforce.App]),
			RunAs:           cardRunAs(id, users[id.Salesforce.RunAs], byUser[id.Salesforce.RunAs]),
			Secret:          cardSecret(id, secrets[id.Name], snap.Now),
			Review:          cardReview(id.Review, snap.Now),
			Findings:        append([]policy.Finding{}, findings[id.Name]...),
			Exceptions:      append([]Excepted{}, excepts[id.Name]...),
		}
		if t, ok := teams[id.Owner]; ok {
			card.Team = &Team{Name: t.Name, Members: append([]string{}, t.Members...), Backup: t.Backup}
		}
		card.LastUse = cardLastUse(snap.Capabilities.Live, apps[id.Salesforce.App], users[id.Salesforce.RunAs], card.Secret.Store)
		if in.Reviews != nil {
			card.Reviews = sortedReviews(reviews[id.Name])
		}
		if in.Elevations != nil {
			card.Elevations = sortedElevations(elevations[id.Name])
		}
		cards = append(cards, card)
	}
	return cards, nil
}

// cardApp picks the app of the identity's declared name: the one that
// names the identity back when two kinds share the name.
func cardApp(id *snapshot.Identity, candidates []*snapshot.App, sharers []string) CardApp {
	c := CardApp{Name: id.Salesforce.App, Flows: []string{}, Scopes: []string{}, SharedWith: others(sharers, id.Name)}
	if len(candidates) == 0 {
		return c
	}
	app := candidates[0]
	for _, a := range candidates {
		if slices.Contains(a.Identities, id.Name) {
			app = a
			break
		}
	}
	c.Found, c.Kind, c.File, c.Line = true, app.Kind, app.Location.File, app.Location.Line
	c.Scopes = append(c.Scopes, app.Scopes...)
	c.IPRelaxation, c.RefreshTokenPolicy, c.RunAs = app.IPRelaxation, app.RefreshTokenPolicy, app.RunAs
	for _, fl := range []struct {
		on   bool
		name string
	}{
		{app.Flows.ClientCredentials, "clientCredentials"},
		{app.Flows.CodeCredential, "codeCredential"},
		{app.Flows.TokenExchange, "tokenExchange"},
		{app.Flows.Device, "device"},
		{app.Flows.JWTBearer, "jwtBearer"},
		{app.Flows.NamedUserJWT, "namedUserJwt"},
	} {
		if fl.on {
			c.Flows = append(c.Flows, fl.name)
		}
	}
	return c
}

func cardRunAs(id *snapshot.Identity, u *snapshot.User, sharers []string) CardRunAs {
	c := CardRunAs{
		Username: id.Salesforce.RunAs, DeclaredProfile: id.Salesforce.RunAsProfile,
		PermissionSets: []string{}, PermissionSetGroups: []string{}, Unresolved: []string{},
		UserPermissions: []PermissionGrant{}, Objects: []ObjectGrant{}, SharedWith: others(sharers, id.Name),
	}
	if u == nil {
		c.PermissionSets = append(c.PermissionSets, id.Salesforce.RunAsPermissionSets...)
		return c
	}
	c.Found, c.Profile, c.License = true, u.Profile, u.License
	c.PermissionSets = append(c.PermissionSets, u.PermissionSets...)
	c.PermissionSetGroups = append(c.PermissionSetGroups, u.PermissionSetGroups...)
	c.Unresolved = append(c.Unresolved, u.Unresolved...)
	for _, name := range slices.Sorted(maps.Keys(u.Effective.User)) {
		grants := slices.Clone(u.Effective.User[name])
		slices.Sort(grants)
		c.UserPermissions = append(c.UserPermissions, PermissionGrant{Name: name, GrantedBy: grants})
	}
	for _, obj := range slices.Sorted(maps.Keys(u.Effective.Objects)) {
		a := u.Effective.Objects[obj]
		var access []string
		for _, p := range []struct {
			on   bool
			name string
		}{{a.Read, "read"}, {a.Create, "create"}, {a.Edit, "edit"}, {a.Delete, "delete"}, {a.ViewAll, "viewAll"}, {a.ModifyAll, "modifyAll"}} {
			if p.on {
				access = append(access, p.name)
			}
		}
		if len(access) > 0 {
			c.Objects = append(c.Objects, ObjectGrant{Object: obj, Access: access})
		}
	}
	return c
}

func objectGrants(m map[string][]string) []ObjectGrant {
	out := make([]ObjectGrant, 0, len(m))
	for _, obj := range slices.Sorted(maps.Keys(m)) {
		out = append(out, ObjectGrant{Object: obj, Access: append([]string{}, m[obj]...)})
	}
	return out
}

func cardSecret(id *snapshot.Identity, s *snapshot.Secret, now time.Time) CardSecret {
	c := CardSecret{
		Ref: id.Credential.SecretRef, InlineValue: id.Credential.InlineValue,
		RotationDays: id.Credential.RotationDays, RotatedAt: id.Credential.RotatedAt, AgeDays: -1,
	}
	if t, err := time.Parse(time.DateOnly, c.RotatedAt); err == nil {
		c.AgeDays = daysBetween(t, now)
	}
	if s == nil {
		return c
	}
	c.Store = &StoreSecret{
		Name: s.Name, Version: s.Version, RotatedOn: s.RotatedOn, Rotation: s.Rotation,
		LastRead: s.LastRead, LastReadBy: s.LastReadBy, Readers: append([]snapshot.Reader{}, s.Readers...),
	}
	slices.SortFunc(c.Store.Readers, func(a, b snapshot.Reader) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.ID, b.ID))
	})
	switch {
	case !s.Rotated.IsZero():
		c.AgeDays = daysBetween(s.Rotated, now)
	case !s.Created.IsZero():
		c.AgeDays = daysBetween(s.Created, now)
	}
	return c
}

// daysBetween counts whole days from t to now, 0 for a time in the future.
func daysBetween(t, now time.Time) int {
	return max(0, int(now.Sub(t)/(24*time.Hour)))
}

func cardLastUse(live bool, apps []*snapshot.App, u *snapshot.User, s *StoreSecret) CardLastUse {
	c := CardLastUse{Live: live}
	for _, a := range apps {
		if a.Live == nil {
			continue
		}
		if a.Live.LastClientCredentialsLogin.After(c.AppLogin) {
			c.AppLogin = a.Live.LastClientCredentialsLogin
		}
		if a.Live.LastTokenUse.After(c.TokenUse) {
			c.TokenUse = a.Live.LastTokenUse
		}
	}
	if u != nil && u.Live != nil {
		c.UserLogin = u.Live.LastLogin
	}
	if s != nil {
		c.SecretRead = s.LastRead
	}
	return c
}

func cardReview(r snapshot.Review, now time.Time) CardReviewCadence {
	c := CardReviewCadence{IntervalDays: r.IntervalDays, LastReviewed: r.LastReviewed}
	if t, err := time.Parse(time.DateOnly, r.LastReviewed); err == nil && r.IntervalDays > 0 {
		due := t.AddDate(0, 0, r.IntervalDays)
		c.Due = due.Format(time.DateOnly)
		c.Overdue = now.After(due)
	}
	return c
}

func sortedReviews(rs []Review) []Review {
	out := append([]Review{}, rs...)
	slices.SortStableFunc(out, func(a, b Review) int {
		return cmp.Or(b.Due.Compare(a.Due), b.Decided.Compare(a.Decided), cmp.Compare(a.Campaign, b.Campaign))
	})
	return out
}

func sortedElevations(es []Elevation) []Elevation {
	out := append([]Elevation{}, es...)
	slices.SortStableFunc(out, func(a, b Elevation) int {
		return cmp.Or(b.Start.Compare(a.Start), cmp.Compare(a.ID, b.ID))
	})
	return out
}

// others returns the sorted, unique names other than self. names is
// sorted in place.
func others(names []string, self string) []string {
	slices.Sort(names)
	out := []string{}
	for i, n := range names {
		if n != self && (i == 0 || names[i-1] != n) {
			out = append(out, n)
		}
	}
	return out
}

// frameworkControls returns the IDs of a finding's controls in the
// framework, in the rule's order.
func frameworkControls(fw *Framework, f policy.Finding) []string {
	var ids []string
	for _, ref := range f.Controls {
		if id, ok := fw.ControlID(ref); ok {
			ids = append(ids, id)
		}
	}
	return ids
}

// joinOr joins a list, or returns alt for an empty one.
func joinOr(list []string, alt string) string {
	if len(list) == 0 {
		return alt
	}
	return strings.Join(list, ", ")
}
