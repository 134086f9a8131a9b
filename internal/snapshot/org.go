package snapshot

import (
	"sort"
	"strings"
)

// OrgSource is what discovery read from a live org beyond its metadata: the
// org's guardrails, the run-as users with their real grants, what each app
// and user did, the OAuth apps seen in use and Setup changes. Build joins it
// to the apps and identities.
type OrgSource struct {
	Org Org
	// Users are the org's users that apps run as or identities name, with
	// the grants the org assigns them.
	Users []OrgUser
	// Apps holds each app's activity, by app API name.
	Apps map[string]AppLive
	// OAuthApps are the apps seen holding grants or logging in; Build fills
	// their App and Identities.
	OAuthApps    []OAuthApp
	SetupChanges []SetupChange
	// LoginHistory is true when the org's login history was read.
	LoginHistory bool
}

// OrgUser is a user as the org has it: the profile and the permission sets
// and groups assigned to it, by API name.
type OrgUser struct {
	Username            string
	Profile             string
	License             string
	PermissionSets      []string
	PermissionSetGroups []string
	Live                UserLive
}

// applyOrg joins the live part of a snapshot: users get the grants the org
// assigns them instead of the ones identities declare, apps their activity,
// and the OAuth apps seen in use the apps and identities that cover them.
func applyOrg(s *Snapshot, src *OrgSource, r *resolver) {
	s.Source = "org"
	s.Capabilities.Live = true
	s.Capabilities.LoginHistory = src.LoginHistory
	org := src.Org
	s.Org = &org

	for i := range s.Apps {
		a := &s.Apps[i]
		if live, ok := src.Apps[a.Name]; ok {
			a.Live = &live
		}
		if a.Live != nil && a.Live.InOrg {
			// Lines of a record read from the org are positions in an API
			// response, not in a file anyone can open.
			a.Location.Line = 0
			for k, l := range a.Locations {
				l.Line = 0
				a.Locations[k] = l
			}
		}
	}
	s.Users = orgUsers(s, src, r)
	s.OAuthApps = coverOAuthApps(s, src.OAuthApps)
	s.SetupChanges = append([]SetupChange{}, src.SetupChanges...)
}

// orgUsers makes one user per username an app runs as or an identity
// names, with the org's grants. A user the org does not have keeps its name
// and is marked unresolved.
func orgUsers(s *Snapshot, src *OrgSource, r *resolver) []User {
	inOrg := make(map[string]*OrgUser, len(src.Users))
	for i := range src.Users {
		inOrg[strings.ToLower(src.Users[i].Username)] = &src.Users[i]
	}
	byName := map[string]*User{}
	var order []string
	user := func(name string) *User {
		key := strings.ToLower(name)
		if u, ok := byName[key]; ok {
			return u
		}
		u := &User{Username: name, Source: "org"}
		if ou := inOrg[key]; ou != nil {
			live := ou.Live
			u.Username, u.Profile, u.License = ou.Username, ou.Profile, ou.License
			u.PermissionSets = append([]string{}, ou.PermissionSets...)
			u.PermissionSetGroups = append([]string{}, ou.PermissionSetGroups...)
			u.Live = &live
		} else {
			u.Unresolved = []string{"user " + name + " (not in the org)"}
		}
		byName[key] = u
		order = append(order, key)
		return u
	}
	for _, a := range s.Apps {
		if a.RunAs != "" {
			u := user(a.RunAs)
			u.Apps = append(u.Apps, a.Name)
		}
	}
	for _, id := range s.Identities {
		if id.Salesforce.RunAs != "" {
			u := user(id.Salesforce.RunAs)
			u.Identities = append(u.Identities, id.Name)
			if u.Location.File == "" {
				u.Location = id.Location
			}
		}
	}
	users := make([]User, 0, len(order))
	for _, key := range order {
		u := byName[key]
		u.PermissionSets = sortedUnique(u.PermissionSets)
		u.PermissionSetGroups = sortedUnique(u.PermissionSetGroups)
		u.Apps = sortedUnique(u.Apps)
		u.Identities = sortedUnique(u.Identities)
		if u.Live != nil {
			r.effective(u)
		} else {
			u.Effective = Permissions{User: map[string][]string{}, Objects: map[string]ObjectAccess{}}
		}
		users = append(users, *u)
	}
	sort.Slice(users, func(i, j int) bool { return strings.ToLower(users[i].Username) < strings.ToLower(users[j].Username) })
	return users
}

// coverOAuthApps ties each OAuth app seen in use to the snapshot app of the
// same API name or label, and to the identities naming either.
func coverOAuthApps(s *Snapshot, seen []OAuthApp) []OAuthApp {
	apps := map[string]*App{}
	for i := range s.Apps {
		a := &s.Apps[i]
		apps[strings.ToLower(a.Name)] = a
		if a.Label != "" {
			if _, taken := apps[strings.ToLower(a.Label)]; !taken {
				apps[strings.ToLower(a.Label)] = a
			}
		}
	}
	byApp := map[string][]string{}
	for _, id := range s.Identities {
		if n := strings.ToLower(id.Salesforce.App); n != "" {
			byApp[n] = append(byApp[n], id.Name)
		}
	}
	out := make([]OAuthApp, 0, len(seen))
	for _, o := range seen {
		o.Identities = nil
		names := []string{strings.ToLower(o.Name)}
		if a := apps[strings.ToLower(o.Name)]; a != nil {
			o.App = a.Name
			o.Identities = append(o.Identities, a.Identities...)
			names = append(names, strings.ToLower(a.Name))
		}
		for _, n := range names {
			o.Identities = append(o.Identities, byApp[n]...)
		}
		o.Identities = sortedUnique(o.Identities)
		o.Sources = sortedUnique(o.Sources)
		o.Users = sortedUnique(o.Users)
		out = append(out, o)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
