package fakeorg

import (
	"fmt"
	"strings"
)

// Validate checks that every reference in the scenario resolves and that
// names are unique. Errors are *ScenarioError values whose message starts
// with the YAML path of the offending field.
func (sc *Scenario) Validate() error {
	v := validator{sc: sc}
	v.run()
	if v.err != nil {
		return v.err
	}
	return nil
}

type validator struct {
	sc  *Scenario
	err *ScenarioError
}

func (v *validator) fail(path, format string, args ...any) {
	if v.err == nil {
		v.err = &ScenarioError{Msg: path + ": " + fmt.Sprintf(format, args...)}
	}
}

func (v *validator) run() {
	sc := v.sc
	if sc.Org.MyDomain == "" {
		v.fail("org.myDomain", "required")
	}
	if !validOrgID(sc.Org.ID) {
		v.fail("org.id", "want an 18-character org ID starting with 00D")
	}
	switch sc.Org.Kind {
	case "", "production", "sandbox":
	default:
		v.fail("org.kind", "want production or sandbox")
	}
	if sc.Org.APIDailyMax < 0 || sc.Org.APIUsed < 0 {
		v.fail("org.apiDailyMax", "must not be negative")
	}
	if sc.API.BatchSize < 0 || sc.API.BatchSize > 2000 {
		v.fail("api.batchSize", "want 1 to 2000")
	}
	users := map[string]bool{}
	for i, u := range sc.Users {
		key := strings.ToLower(u.Username)
		if u.Username == "" {
			v.fail(fmt.Sprintf("users[%d].username", i), "required")
		} else if users[key] {
			v.fail(fmt.Sprintf("users[%d].username", i), "duplicate user %q", u.Username)
		}
		users[key] = true
	}
	profiles := map[string]bool{}
	for i, p := range sc.Profiles {
		if p.Name == "" || profiles[p.Name] {
			v.fail(fmt.Sprintf("profiles[%d].name", i), "missing or duplicate profile name")
		}
		if p.License == "" {
			v.fail(fmt.Sprintf("profiles[%d].license", i), "required")
		}
		profiles[p.Name] = true
		v.permissions(fmt.Sprintf("profiles[%d].permissions", i), p.Permissions)
	}
	for i, u := range sc.Users {
		if !profiles[u.Profile] {
			v.fail(fmt.Sprintf("users[%d].profile", i), "profile %q is not defined under profiles", u.Profile)
		}
	}
	sets := map[string]bool{}
	for i, p := range sc.PermissionSets {
		if p.Name == "" || sets[p.Name] {
			v.fail(fmt.Sprintf("permissionSets[%d].name", i), "missing or duplicate permission set name")
		}
		sets[p.Name] = true
		v.permissions(fmt.Sprintf("permissionSets[%d].permissions", i), p.Permissions)
	}
	groups := map[string]bool{}
	for i, g := range sc.PermissionSetGroups {
		if g.Name == "" || groups[g.Name] || sets[g.Name] {
			v.fail(fmt.Sprintf("permissionSetGroups[%d].name", i), "missing or duplicate name")
		}
		groups[g.Name] = true
		for j, ps := range g.PermissionSets {
			if !sets[ps] {
				v.fail(fmt.Sprintf("permissionSetGroups[%d].permissionSets[%d]", i, j), "permission set %q is not defined", ps)
			}
		}
	}
	apps := map[string]bool{}
	keys := map[string]bool{}
	app := func(path, name, key, runAs string, cc bool) {
		if name == "" || apps[name] {
			v.fail(path+".name", "missing or duplicate app name")
		}
		apps[name] = true
		if key != "" {
			if keys[key] {
				v.fail(path+".consumerKey", "duplicate consumer key")
			}
			keys[key] = true
		}
		if runAs != "" && !users[strings.ToLower(runAs)] {
			v.fail(path+".runAs", "user %q is not defined under users", runAs)
		}
	}
	for i, a := range sc.ConnectedApps {
		path := fmt.Sprintf("connectedApps[%d]", i)
		app(path, a.Name, a.ConsumerKey, a.RunAs, a.ClientCredentials)
		v.names(path+".permissionSets", a.PermissionSets, sets)
		v.names(path+".profiles", a.Profiles, profiles)
	}
	for i, a := range sc.ExternalClientApps {
		path := fmt.Sprintf("externalClientApps[%d]", i)
		app(path, a.Name, a.ConsumerKey, "", a.ClientCredentials)
		if a.Policy.RunAs != "" && !users[strings.ToLower(a.Policy.RunAs)] {
			v.fail(path+".policy.runAs", "user %q is not defined under users", a.Policy.RunAs)
		}
		v.names(path+".policy.permissionSets", a.Policy.PermissionSets, sets)
		v.names(path+".policy.profiles", a.Policy.Profiles, profiles)
	}
	for i, a := range sc.Assignments {
		path := fmt.Sprintf("assignments[%d]", i)
		if !users[strings.ToLower(a.User)] {
			v.fail(path+".user", "user %q is not defined under users", a.User)
		}
		switch {
		case (a.PermissionSet == "") == (a.PermissionSetGroup == ""):
			v.fail(path, "give exactly one of permissionSet and permissionSetGroup")
		case a.PermissionSet != "" && !sets[a.PermissionSet]:
			v.fail(path+".permissionSet", "permission set %q is not defined", a.PermissionSet)
		case a.PermissionSetGroup != "" && !groups[a.PermissionSetGroup]:
			v.fail(path+".permissionSetGroup", "permission set group %q is not defined", a.PermissionSetGroup)
		}
	}
	for i, g := range sc.SetupEntityAccess {
		path := fmt.Sprintf("setupEntityAccess[%d]", i)
		switch {
		case (g.PermissionSet == "") == (g.Profile == ""):
			v.fail(path, "give exactly one of permissionSet and profile")
		case g.PermissionSet != "" && !sets[g.PermissionSet]:
			v.fail(path+".permissionSet", "permission set %q is not defined", g.PermissionSet)
		case g.Profile != "" && !profiles[g.Profile]:
			v.fail(path+".profile", "profile %q is not defined", g.Profile)
		}
		if !apps[g.App] {
			v.fail(path+".app", "app %q is not defined", g.App)
		}
	}
	for i, l := range sc.LoginHistory {
		path := fmt.Sprintf("loginHistory[%d]", i)
		if !users[strings.ToLower(l.User)] {
			v.fail(path+".user", "user %q is not defined under users", l.User)
		}
		if l.App != "" && !apps[l.App] {
			v.fail(path+".app", "app %q is not defined", l.App)
		}
		if l.Time.IsZero() {
			v.fail(path+".time", "required")
		}
		if l.Count < 0 || l.Count > 100000 || (l.Count > 1 && l.Every <= 0) {
			v.fail(path+".count", "want 0 to 100000, with every set when above 1")
		}
	}
	for i, t := range sc.OauthTokens {
		path := fmt.Sprintf("oauthTokens[%d]", i)
		if !apps[t.App] {
			v.fail(path+".app", "app %q is not defined", t.App)
		}
		if !users[strings.ToLower(t.User)] {
			v.fail(path+".user", "user %q is not defined under users", t.User)
		}
	}
	for i, a := range sc.SetupAuditTrail {
		path := fmt.Sprintf("setupAuditTrail[%d]", i)
		if a.Action == "" {
			v.fail(path+".action", "required")
		}
		if !users[strings.ToLower(a.By)] {
			v.fail(path+".by", "user %q is not defined under users", a.By)
		}
		if a.Date.IsZero() {
			v.fail(path+".date", "required")
		}
	}
	for i, f := range sc.Faults {
		if err := f.check(); err != nil {
			v.fail(fmt.Sprintf("faults[%d]", i), "%v", err)
		}
	}
}

func (v *validator) names(path string, names []string, known map[string]bool) {
	for j, n := range names {
		if !known[n] {
			v.fail(fmt.Sprintf("%s[%d]", path, j), "%q is not defined", n)
		}
	}
}

func (v *validator) permissions(path string, perms []string) {
	for j, p := range perms {
		if !validPermissionName(p) {
			v.fail(fmt.Sprintf("%s[%d]", path, j), "want a user permission API name such as ApiEnabled")
		}
	}
}

func validPermissionName(p string) bool {
	if p == "" || len(p) > 80 || !isUpper(p[0]) {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if !(isUpper(c) || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
			return false
		}
	}
	return true
}

func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }

func validOrgID(id string) bool {
	if len(id) != 18 || !strings.HasPrefix(id, "00D") {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(isUpper(c) || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
			return false
		}
	}
	return true
}
