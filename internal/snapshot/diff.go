package snapshot

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Change kinds. Added and removed are about a whole app, user or identity,
// or one element of a set (a scope, a permission, a permission set); widened
// and narrowed are about a setting with an order (IP relaxation, session
// timeout, object access); changed is about one without (the run-as user,
// the profile, the consumer key).
const (
	ChangeAdded    = "added"
	ChangeRemoved  = "removed"
	ChangeWidened  = "widened"
	ChangeNarrowed = "narrowed"
	ChangeChanged  = "changed"
)

// Change is one difference between two snapshots.
type Change struct {
	Kind     string `json:"kind"`     // added | removed | widened | narrowed | changed
	Resource string `json:"resource"` // App | User | Identity
	Subject  string `json:"subject"`  // app API name, username or identity name
	Field    string `json:"field"`    // the setting, e.g. "scopes", "objects.Account"; empty for a whole subject
	Before   string `json:"before"`
	After    string `json:"after"`
}

// Expands reports whether the change can give more access than before: an
// addition, a widening, or a change whose direction is unknown (a new run-as
// user, profile or consumer key must be reviewed as a new grant).
func (c Change) Expands() bool {
	return c.Kind == ChangeAdded || c.Kind == ChangeWidened || c.Kind == ChangeChanged
}

// Expansions returns the changes that expand access, in order.
func Expansions(changes []Change) []Change {
	out := []Change{}
	for _, c := range changes {
		if c.Expands() {
			out = append(out, c)
		}
	}
	return out
}

// Diff compares a baseline snapshot with a newer one and returns what was
// added, removed, widened, narrowed or changed in apps, users and
// identities, sorted by resource, subject, field, kind and values. Apps are
// matched by kind and API name, users by username without case, identities
// by name. Live-only data (logins, tokens) is activity, not access, and is
// not compared.
func Diff(old, new *Snapshot) []Change {
	d := &differ{changes: []Change{}}
	diffSubjects(d, "App", old.Apps, new.Apps, func(a App) string { return a.Kind + "/" + a.Name }, func(a App) string { return a.Name }, diffApp)
	diffSubjects(d, "User", old.Users, new.Users, func(u User) string { return strings.ToLower(u.Username) }, func(u User) string { return u.Username }, diffUser)
	diffSubjects(d, "Identity", old.Identities, new.Identities, func(id Identity) string { return id.Name }, func(id Identity) string { return id.Name }, diffIdentity)
	slices.SortFunc(d.changes, func(a, b Change) int {
		return cmp.Or(
			cmp.Compare(a.Resource, b.Resource),
			cmp.Compare(a.Subject, b.Subject),
			cmp.Compare(a.Field, b.Field),
			cmp.Compare(a.Kind, b.Kind),
			cmp.Compare(a.Before, b.Before),
			cmp.Compare(a.After, b.After),
		)
	})
	return slices.Compact(d.changes)
}

// differ collects the changes of one subject at a time.
type differ struct {
	changes  []Change
	resource string
	subject  string
}

func (d *differ) add(kind, field, before, after string) {
	d.changes = append(d.changes, Change{Kind: kind, Resource: d.resource, Subject: d.subject, Field: field, Before: before, After: after})
}

// diffSubjects matches old and new subjects by key and compares each pair.
// Should a snapshot hold two subjects with one key, the first is compared.
func diffSubjects[T any](d *differ, resource string, old, new []T, key, name func(T) string, fields func(*differ, *T, *T)) {
	index := func(xs []T) map[string]*T {
		m := make(map[string]*T, len(xs))
		for i := range xs {
			if _, dup := m[key(xs[i])]; !dup {
				m[key(xs[i])] = &xs[i]
			}
		}
		return m
	}
	before, after := index(old), index(new)
	d.resource = resource
	for k, o := range before {
		n, ok := after[k]
		d.subject = name(*o)
		if !ok {
			d.add(ChangeRemoved, "", d.subject, "")
			continue
		}
		d.subject = name(*n)
		fields(d, o, n)
	}
	for k, n := range after {
		if _, ok := before[k]; !ok {
			d.subject = name(*n)
			d.add(ChangeAdded, "", "", d.subject)
		}
	}
}

func diffApp(d *differ, o, n *App) {
	d.set("scopes", o.Scopes, n.Scopes)
	d.set("unknownScopes", o.UnknownScopes, n.UnknownScopes)
	d.flows(o.Flows, n.Flows)
	d.ordered("ipRelaxation", o.IPRelaxation, n.IPRelaxation, ipRelaxationRank)
	d.set("ipRanges", ipRanges(o.IPRanges), ipRanges(n.IPRanges))
	d.changed("runAs", o.RunAs, n.RunAs)
	d.ordered("refreshTokenPolicy", o.RefreshTokenPolicy, n.RefreshTokenPolicy, refreshTokenRank)
	d.ordered("sessionTimeoutMinutes", strconv.Itoa(o.SessionTimeoutMinutes), strconv.Itoa(n.SessionTimeoutMinutes), sessionTimeoutRank)
	d.ordered("adminApproved", strconv.FormatBool(o.AdminApproved), strconv.FormatBool(n.AdminApproved), func(v string) (int, bool) {
		return map[string]int{"true": 0, "false": 1}[v], true
	})
	d.set("preAuthorized", o.PreAuthorized, n.PreAuthorized)
	d.changed("consumerKeyFingerprint", o.ConsumerKeyFingerprint, n.ConsumerKeyFingerprint)
}

func diffUser(d *differ, o, n *User) {
	d.changed("profile", o.Profile, n.Profile)
	d.changed("license", o.License, n.License)
	d.set("permissionSets", o.PermissionSets, n.PermissionSets)
	d.set("permissionSetGroups", o.PermissionSetGroups, n.PermissionSetGroups)
	d.set("userPermissions", slices.Collect(maps.Keys(o.Effective.User)), slices.Collect(maps.Keys(n.Effective.User)))
	objects := map[string]bool{}
	for name := range o.Effective.Objects {
		objects[name] = true
	}
	for name := range n.Effective.Objects {
		objects[name] = true
	}
	for name := range objects {
		d.set("objects."+name, accessList(o.Effective.Objects[name]), accessList(n.Effective.Objects[name]))
	}
}

func diffIdentity(d *differ, o, n *Identity) {
	d.changed("salesforce.app", o.Salesforce.App, n.Salesforce.App)
	d.changed("salesforce.runAs", o.Salesforce.RunAs, n.Salesforce.RunAs)
	d.changed("salesforce.runAsProfile", o.Salesforce.RunAsProfile, n.Salesforce.RunAsProfile)
	d.set("salesforce.runAsPermissionSets", o.Salesforce.RunAsPermissionSets, n.Salesforce.RunAsPermissionSets)
	d.set("access.scopes", o.Access.Scopes, n.Access.Scopes)
	objects := map[string]bool{}
	for name := range o.Access.Objects {
		objects[name] = true
	}
	for name := range n.Access.Objects {
		objects[name] = true
	}
	for name := range objects {
		d.set("access.objects."+name, o.Access.Objects[name], n.Access.Objects[name])
	}
	d.set("consumers", consumers(o.Consumers), consumers(n.Consumers))
	d.changed("credential.secretRef", o.Credential.SecretRef, n.Credential.SecretRef)
	d.ordered("lifecycle", o.Lifecycle, n.Lifecycle, func(v string) (int, bool) {
		r, ok := map[string]int{"retired": 0, "": 1, "active": 1}[v]
		return r, ok
	})
}

// set reports the elements of a set that were added or removed: an added
// element widens the subject's access, so it is reported as widened, and a
// removed one as narrowed, each with the element as the value.
func (d *differ) set(field string, old, new []string) {
	before, after := map[string]bool{}, map[string]bool{}
	for _, x := range old {
		before[x] = true
	}
	for _, x := range new {
		after[x] = true
	}
	for x := range after {
		if !before[x] {
			d.add(ChangeWidened, field, "", x)
		}
	}
	for x := range before {
		if !after[x] {
			d.add(ChangeNarrowed, field, x, "")
		}
	}
}

// changed reports a setting whose value changed, in no known direction.
func (d *differ) changed(field, old, new string) {
	if old != new {
		d.add(ChangeChanged, field, old, new)
	}
}

// ordered reports a setting that became wider or narrower by rank, where a
// higher rank is wider. A value rank does not know is reported as changed.
func (d *differ) ordered(field, old, new string, rank func(string) (int, bool)) {
	if old == new {
		return
	}
	ro, okOld := rank(old)
	rn, okNew := rank(new)
	switch {
	case !okOld || !okNew || ro == rn:
		d.add(ChangeChanged, field, old, new)
	case rn > ro:
		d.add(ChangeWidened, field, old, new)
	default:
		d.add(ChangeNarrowed, field, old, new)
	}
}

// flows reports each OAuth flow turned on (widened) or off (narrowed).
func (d *differ) flows(o, n Flows) {
	on := func(f Flows) []string {
		var out []string
		for name, v := range map[string]bool{
			"clientCredentials": f.ClientCredentials, "clientCredentialsPartial": f.ClientCredentialsPartial,
			"codeCredential": f.CodeCredential, "tokenExchange": f.TokenExchange, "device": f.Device,
			"jwtBearer": f.JWTBearer, "namedUserJwt": f.NamedUserJWT, "consumerSecretOptional": f.ConsumerSecretOptional,
		} {
			if v {
				out = append(out, name)
			}
		}
		return out
	}
	d.set("flows", on(o), on(n))
}

// ipRelaxationRank orders IP relaxation from enforced to bypassed. An unset
// value is Salesforce's default, which enforces.
func ipRelaxationRank(v string) (int, bool) {
	r, ok := map[string]int{"": 0, "ENFORCE": 0, "ENFORCE_RELAXREFRESH": 1, "BYPASS_2FACTOR": 2, "BYPASS": 3}[v]
	return r, ok
}

// sessionTimeoutRank orders session timeouts; 0 (no timeout) is the widest.
func sessionTimeoutRank(v string) (int, bool) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, false
	}
	if n == 0 {
		return int(^uint(0) >> 1), true
	}
	return n, true
}

// refreshTokenRank orders refresh-token policies by how long a token may
// live, in minutes: zero, then specific lifetimes or inactivity periods,
// then infinite (also Salesforce's default when the policy is unset).
func refreshTokenRank(v string) (int, bool) {
	switch v {
	case "zero":
		return 0, true
	case "infinite", "":
		return int(^uint(0) >> 1), true
	}
	parts := strings.Split(v, ":")
	if len(parts) != 3 || (parts[0] != "specific_lifetime" && parts[0] != "specific_inactivity") {
		return 0, false
	}
	n, err := strconv.Atoi(parts[1])
	minutes, ok := map[string]int{"HOURS": 60, "DAYS": 24 * 60, "MONTHS": 31 * 24 * 60}[strings.ToUpper(parts[2])]
	if err != nil || n < 0 || !ok {
		return 0, false
	}
	return n * minutes, true
}

func ipRanges(rs []IPRange) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		out = append(out, r.Start+"-"+r.End)
	}
	return out
}

// accessList names the access an ObjectAccess grants.
func accessList(a ObjectAccess) []string {
	var out []string
	for _, x := range []struct {
		name string
		on   bool
	}{{"read", a.Read}, {"create", a.Create}, {"edit", a.Edit}, {"delete", a.Delete}, {"viewAll", a.ViewAll}, {"modifyAll", a.ModifyAll}} {
		if x.on {
			out = append(out, x.name)
		}
	}
	return out
}

func consumers(cs []Consumer) []string {
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		switch {
		case c.SPIFFE != "":
			out = append(out, c.SPIFFE)
		default:
			out = append(out, fmt.Sprintf("oidc %s %s", c.OIDCIssuer, c.OIDCSubject))
		}
	}
	return out
}
