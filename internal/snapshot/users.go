package snapshot

import (
	"sort"
	"strings"

	"github.com/steward-dev/steward/internal/salesforce/metadata"
)

// profileAliases maps the display names of standard profiles to the file
// names Salesforce retrieves them under. Only the System Administrator
// mapping is documented; others resolve by their own name.
var profileAliases = map[string]string{
	"system administrator": "admin",
}

// resolver looks permission sources up by name, case-insensitively.
type resolver struct {
	profiles map[string]*metadata.Profile
	sets     map[string]*metadata.PermissionSet
	groups   map[string]*metadata.PermissionSetGroup
}

func newResolver(md *metadata.Set) *resolver {
	r := &resolver{
		profiles: map[string]*metadata.Profile{},
		sets:     map[string]*metadata.PermissionSet{},
		groups:   map[string]*metadata.PermissionSetGroup{},
	}
	for _, p := range md.Profiles {
		r.profiles[strings.ToLower(p.Name)] = p
	}
	for _, ps := range md.PermissionSets {
		r.sets[strings.ToLower(ps.Name)] = ps
	}
	for _, g := range md.PermissionSetGroups {
		r.groups[strings.ToLower(g.Name)] = g
	}
	return r
}

func (r *resolver) profile(name string) *metadata.Profile {
	n := strings.ToLower(strings.TrimSpace(name))
	if p, ok := r.profiles[n]; ok {
		return p
	}
	return r.profiles[profileAliases[n]]
}

// buildUsers makes one user per run-as username the identities declare, with
// effective permissions from the declared profile, permission sets and
// permission set groups.
func buildUsers(s *Snapshot, r *resolver) []User {
	byName := map[string]*User{}
	var order []string
	for _, id := range s.Identities {
		b := id.Salesforce
		if b.RunAs == "" {
			continue
		}
		key := strings.ToLower(b.RunAs)
		u, ok := byName[key]
		if !ok {
			u = &User{
				Username: b.RunAs,
				Source:   "inventory",
				Profile:  b.RunAsProfile,
				Location: id.Location,
			}
			byName[key] = u
			order = append(order, key)
		}
		if u.Profile == "" {
			u.Profile = b.RunAsProfile
		}
		u.Identities = append(u.Identities, id.Name)
		for _, name := range b.RunAsPermissionSets {
			if r.groups[strings.ToLower(name)] != nil {
				u.PermissionSetGroups = append(u.PermissionSetGroups, name)
			} else {
				u.PermissionSets = append(u.PermissionSets, name)
			}
		}
	}
	for _, a := range s.Apps {
		if u := byName[strings.ToLower(a.RunAs)]; u != nil && a.RunAs != "" {
			u.Apps = append(u.Apps, a.Name)
		}
	}
	users := make([]User, 0, len(order))
	for _, key := range order {
		u := byName[key]
		u.PermissionSets = sortedUnique(u.PermissionSets)
		u.PermissionSetGroups = sortedUnique(u.PermissionSetGroups)
		u.Apps = sortedUnique(u.Apps)
		u.Identities = sortedUnique(u.Identities)
		r.effective(u)
		users = append(users, *u)
	}
	sort.Slice(users, func(i, j int) bool { return strings.ToLower(users[i].Username) < strings.ToLower(users[j].Username) })
	return users
}

// grants accumulates effective permissions with their sources.
type grants struct {
	user    map[string][]string
	objects map[string]ObjectAccess
}

func (g *grants) add(source string, ups []metadata.UserPermission, ops []metadata.ObjectPermission) {
	for _, p := range ups {
		if p.Enabled {
			g.user[p.Name] = append(g.user[p.Name], source)
		}
	}
	for _, op := range ops {
		g.objects[op.Object] = g.objects[op.Object].union(accessOf(op, source))
	}
}

// accessOf reads one objectPermissions entry granted by source.
func accessOf(op metadata.ObjectPermission, source string) ObjectAccess {
	a := ObjectAccess{Read: op.Read, Create: op.Create, Edit: op.Edit, Delete: op.Delete, ViewAll: op.ViewAll, ModifyAll: op.ModifyAll}
	if a.Read || a.Create || a.Edit || a.Delete || a.ViewAll || a.ModifyAll {
		a.GrantedBy = []string{source}
	}
	return a
}

// union adds b's access and sources to a.
func (a ObjectAccess) union(b ObjectAccess) ObjectAccess {
	a.Read, a.Create, a.Edit = a.Read || b.Read, a.Create || b.Create, a.Edit || b.Edit
	a.Delete, a.ViewAll, a.ModifyAll = a.Delete || b.Delete, a.ViewAll || b.ViewAll, a.ModifyAll || b.ModifyAll
	a.GrantedBy = append(a.GrantedBy, b.GrantedBy...)
	return a
}

// without removes the access m mutes from a.
func (a ObjectAccess) without(m ObjectAccess) ObjectAccess {
	a.Read, a.Create, a.Edit = a.Read && !m.Read, a.Create && !m.Create, a.Edit && !m.Edit
	a.Delete, a.ViewAll, a.ModifyAll = a.Delete && !m.Delete, a.ViewAll && !m.ViewAll, a.ModifyAll && !m.ModifyAll
	return a
}

// effective resolves the user's profile, permission sets and groups and
// fills in its license, effective permissions and unresolved names.
func (r *resolver) effective(u *User) {
	g := &grants{user: map[string][]string{}, objects: map[string]ObjectAccess{}}
	u.Unresolved = []string{}
	if u.Profile != "" {
		if p := r.profile(u.Profile); p != nil {
			u.License = p.UserLicense.Value
			g.add("profile "+u.Profile, p.UserPermissions, p.ObjectPermissions)
		} else {
			u.Unresolved = append(u.Unresolved, "profile "+u.Profile)
		}
	}
	for _, name := range u.PermissionSets {
		if ps := r.sets[strings.ToLower(name)]; ps != nil && !ps.Muting {
			g.add("permission set "+name, ps.UserPermissions, ps.ObjectPermissions)
		} else {
			u.Unresolved = append(u.Unresolved, "permission set "+name)
		}
	}
	for _, name := range u.PermissionSetGroups {
		r.addGroup(g, u, name)
	}
	for obj, a := range g.objects {
		g.objects[obj] = implied(a)
	}
	for p, src := range g.user {
		g.user[p] = sortedUnique(src)
	}
	u.Effective = Permissions{User: g.user, Objects: g.objects}
}

// addGroup adds a permission set group: the union of its permission sets,
// less what its muting permission sets mute.
func (r *resolver) addGroup(g *grants, u *User, name string) {
	grp := r.groups[strings.ToLower(name)]
	inner := &grants{user: map[string][]string{}, objects: map[string]ObjectAccess{}}
	source := "permission set group " + name
	for _, ps := range grp.PermissionSets {
		if set := r.sets[strings.ToLower(ps)]; set != nil && !set.Muting {
			inner.add(source, set.UserPermissions, set.ObjectPermissions)
		} else {
			u.Unresolved = append(u.Unresolved, "permission set "+ps+" (in group "+name+")")
		}
	}
	for _, ms := range grp.MutingPermissionSets {
		set := r.sets[strings.ToLower(ms)]
		if set == nil {
			u.Unresolved = append(u.Unresolved, "muting permission set "+ms+" (in group "+name+")")
			continue
		}
		for _, p := range set.UserPermissions {
			if p.Enabled {
				delete(inner.user, p.Name)
			}
		}
		for _, op := range set.ObjectPermissions {
			if a, ok := inner.objects[op.Object]; ok {
				inner.objects[op.Object] = a.without(accessOf(op, ""))
			}
		}
	}
	for p, src := range inner.user {
		g.user[p] = append(g.user[p], src...)
	}
	for obj, a := range inner.objects {
		g.objects[obj] = g.objects[obj].union(a)
	}
}

// implied applies Salesforce's object-permission dependencies: Modify All
// implies View All, Delete and Edit; View All, Edit, Create and Delete each
// imply Read; Delete implies Edit.
func implied(a ObjectAccess) ObjectAccess {
	if a.ModifyAll {
		a.ViewAll, a.Delete, a.Edit = true, true, true
	}
	if a.Delete {
		a.Edit = true
	}
	if a.ViewAll || a.Edit || a.Create || a.Delete {
		a.Read = true
	}
	a.GrantedBy = sortedUnique(a.GrantedBy)
	return a
}
