package fakeorg

import (
	"slices"
	"strings"
	"time"
)

// row is one sObject record: canonical field name → value. Values are
// string, bool, int, time.Time or nil.
type row struct {
	obj string
	id  string
	f   map[string]any
}

// app is what the token endpoint and the Metadata API need of a connected
// app or an External Client App.
type app struct {
	name, label, kind string // kind: ConnectedApp | ExternalClientApp
	id                string
	consumerKey       string
	consumerSecret    string
	stagedSecret      string // accepted alongside consumerSecret while a rotation is staged
	cc                bool   // the client-credentials flow is fully enabled
	runAs             string // username
	scopes            []string
	sessionTimeout    int
	introspectAll     bool
	ca                *ConnectedApp
	eca               *ExternalClientApp
}

// org is the fake org's data, built from a scenario. After the build it
// changes only under Server.mu (logins add LoginHistory rows, revocation
// removes OauthToken rows).
type org struct {
	sc        *Scenario
	now       time.Time        // the emulator's start: relative scenario times count from it
	clock     func() time.Time // the current time, for date literals
	rest      schema
	tooling   schema
	rows      map[string][]*row // object name → rows in creation order
	byID      map[string]*row   // 15-character ID → row
	users     map[string]*row   // lower-case username → User row
	profiles  map[string]*row   // name → Profile row
	apps      []*app
	byKey     map[string]*app
	byName    map[string]*app
	seq       map[string]int
	orgID     string
	perms     []string        // user permission names served as Permissions* fields
	adminUser string          // ID of the user that created seeded rows
	deleted   map[string]bool // 15-character IDs of deleted rows
}

func buildOrg(sc *Scenario, clock func() time.Time) *org {
	now := clock()
	perms := slices.Clone(knownPermissions)
	addPerm := func(p string) {
		if !slices.Contains(perms, p) {
			perms = append(perms, p)
		}
	}
	for _, p := range sc.Profiles {
		for _, n := range p.Permissions {
			addPerm(n)
		}
	}
	for _, p := range sc.PermissionSets {
		for _, n := range p.Permissions {
			addPerm(n)
		}
	}
	slices.Sort(perms)
	o := &org{
		sc: sc, now: now.UTC(), clock: clock, rows: map[string][]*row{}, byID: map[string]*row{},
		users: map[string]*row{}, profiles: map[string]*row{}, byKey: map[string]*app{}, byName: map[string]*app{},
		seq: map[string]int{}, orgID: sc.Org.ID, perms: perms,
	}
	o.rest, o.tooling = newSchemas(perms)
	o.build()
	return o
}

var idPrefixes = map[string]string{
	"User": "005", "Profile": "00e", "UserLicense": "100", "PermissionSet": "0PS", "PermissionSetGroup": "0PG",
	"PermissionSetGroupComponent": "0PH", "PermissionSetAssignment": "0Pa", "ObjectPermissions": "110",
	"SetupEntityAccess": "0J0", "AppMenuItem": "0DS", "LoginHistory": "0Ya", "OauthToken": "0CQ",
	"SetupAuditTrail": "0Ym", "ConnectedApplication": "0H4", "ExternalClientApplication": "0xI",
	"ExtlClntAppOauthSettings": "0xS", "ExtlClntAppOauthPlcyCnfg": "0xP", "ExtlClntAppGlobalOauthSettings": "0xG",
	"ExtlClntAppConfigurablePolicies": "0xC",
}

// newID returns the next 18-character ID for an object, with the real
// case-safe checksum suffix.
func (o *org) newID(obj string) string {
	o.seq[obj]++
	return makeID(idPrefixes[obj], o.seq[obj])
}

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

func makeID(prefix string, n int) string {
	b := []byte(prefix + "Ak0000000000")
	for i := len(b) - 1; n > 0 && i >= 5; i-- {
		b[i] = base62[n%62]
		n /= 62
	}
	return idSuffix(string(b))
}

// idSuffix appends the three checksum characters that turn a 15-character
// ID into its case-insensitive 18-character form.
func idSuffix(id15 string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
	out := []byte(id15)
	for chunk := 0; chunk < 3; chunk++ {
		bits := 0
		for i := 0; i < 5; i++ {
			c := id15[chunk*5+i]
			if c >= 'A' && c <= 'Z' {
				bits |= 1 << i
			}
		}
		out = append(out, alphabet[bits])
	}
	return string(out)
}

func (o *org) add(obj string, f map[string]any) *row {
	id := o.newID(obj)
	f["Id"] = id
	r := &row{obj: obj, id: id, f: f}
	o.rows[obj] = append(o.rows[obj], r)
	o.byID[id[:15]] = r
	return r
}

func (o *org) clockNow() time.Time { return o.clock() }

// lookup finds a row by a 15- or 18-character ID.
func (o *org) lookup(id string) *row {
	if len(id) != 15 && len(id) != 18 {
		return nil
	}
	return o.byID[id[:15]]
}

func (o *org) at(w When, def time.Time) any {
	if w.IsZero() {
		return def
	}
	return w.resolve(o.now)
}

func nz(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (o *org) userID(username string) any {
	if r := o.users[strings.ToLower(username)]; r != nil {
		return r.id
	}
	return nil
}

func (o *org) stamp(f map[string]any, by any, created, modified time.Time) map[string]any {
	if by == nil {
		by = o.adminUser
	}
	f["CreatedById"], f["CreatedDate"] = by, created
	f["LastModifiedById"], f["LastModifiedDate"], f["SystemModstamp"] = by, modified, modified
	return f
}

func (o *org) build() {
	sc := o.sc
	epoch := o.now.AddDate(-2, 0, 0).Truncate(24 * time.Hour)
	// Licenses and profiles come first: users point at them.
	licenses := map[string]*row{}
	for _, p := range sc.Profiles {
		if licenses[p.License] == nil {
			licenses[p.License] = o.add("UserLicense", o.stamp(map[string]any{
				"Name": p.License, "MasterLabel": p.License, "LicenseDefinitionKey": licenseKey(p.License),
				"Status": "Active", "TotalLicenses": 100, "UsedLicenses": 0,
			}, nil, epoch, epoch))
		}
	}
	for _, p := range sc.Profiles {
		r := o.add("Profile", o.stamp(map[string]any{
			"Name": p.Name, "Description": nil, "UserLicenseId": licenses[p.License].id, "UserType": "Standard",
		}, nil, epoch, epoch))
		o.setPerms(r.f, p.Permissions)
		o.profiles[p.Name] = r
	}
	for _, u := range sc.Users {
		active := u.Active == nil || *u.Active
		first, last := splitName(u.Name, u.Username)
		r := o.add("User", map[string]any{
			"Username": u.Username, "Name": strings.TrimSpace(first + " " + last), "FirstName": nz(first),
			"LastName": last, "Email": def(u.Email, u.Username), "Alias": alias(first, last), "IsActive": active,
			"UserType": def(u.UserType, "Standard"), "ProfileId": o.profiles[u.Profile].id,
			"LastLoginDate": o.atOrNil(u.LastLogin), "FederationIdentifier": nz(u.FederationID),
		})
		o.users[strings.ToLower(u.Username)] = r
		licenses[profileLicense(sc, u.Profile)].f["UsedLicenses"] = licenses[profileLicense(sc, u.Profile)].f["UsedLicenses"].(int) + 1
	}
	// Seeded rows are created by the first user with the System
	// Administrator profile, else by the first user.
	for _, u := range sc.Users {
		if strings.EqualFold(u.Profile, "System Administrator") {
			o.adminUser = o.users[strings.ToLower(u.Username)].id
			break
		}
	}
	if o.adminUser == "" && len(sc.Users) > 0 {
		o.adminUser = o.users[strings.ToLower(sc.Users[0].Username)].id
	}
	for i, r := range o.rows["User"] {
		created := o.at(sc.Users[i].Created, epoch).(time.Time)
		o.stamp(r.f, o.adminUser, created, created)
	}
	o.addUserLogins()
	for _, obj := range []string{"UserLicense", "Profile"} {
		for _, r := range o.rows[obj] {
			r.f["CreatedById"], r.f["LastModifiedById"] = o.adminUser, o.adminUser
		}
	}
	// Every profile owns a permission set holding its permissions; every
	// user is assigned to it.
	sets := map[string]*row{}
	profileSets := map[string]*row{}
	for _, p := range sc.Profiles {
		pr := o.profiles[p.Name]
		r := o.add("PermissionSet", o.stamp(map[string]any{
			"Label": pr.id[:15], "Description": nil, "IsOwnedByProfile": true, "ProfileId": pr.id,
			"LicenseId": licenses[p.License].id, "Type": "Profile", "IsCustom": p.Custom, "NamespacePrefix": nil,
			"HasActivationRequired": false, "PermissionSetGroupId": nil,
		}, nil, epoch, epoch))
		r.f["Name"] = "X" + r.id[:15]
		o.setPerms(r.f, p.Permissions)
		o.objectPerms(r, p.Objects, epoch)
		profileSets[p.Name] = r
	}
	for _, p := range sc.PermissionSets {
		created := o.at(p.Created, epoch).(time.Time)
		r := o.add("PermissionSet", o.stamp(map[string]any{
			"Name": p.Name, "Label": def(p.Label, p.Name), "Description": nz(p.Description), "IsOwnedByProfile": false,
			"ProfileId": nil, "LicenseId": nil, "Type": "Regular", "IsCustom": true, "NamespacePrefix": nil,
			"HasActivationRequired": false, "PermissionSetGroupId": nil,
		}, nil, created, o.at(p.Modified, created).(time.Time)))
		o.setPerms(r.f, p.Permissions)
		o.objectPerms(r, p.Objects, created)
		sets[p.Name] = r
	}
	// A permission set group has an aggregate permission set (Type Group)
	// holding the union of its members' permissions.
	groups := map[string]*row{}
	groupSets := map[string]*row{}
	for _, g := range sc.PermissionSetGroups {
		gr := o.add("PermissionSetGroup", o.stamp(map[string]any{
			"DeveloperName": g.Name, "MasterLabel": def(g.Label, g.Name), "Description": nil, "Status": "Updated",
			"NamespacePrefix": nil, "HasActivationRequired": false,
		}, nil, epoch, epoch))
		groups[g.Name] = gr
		agg := o.add("PermissionSet", o.stamp(map[string]any{
			"Label": def(g.Label, g.Name), "Description": nil, "IsOwnedByProfile": false, "ProfileId": nil,
			"LicenseId": nil, "Type": "Group", "IsCustom": false, "NamespacePrefix": nil,
			"HasActivationRequired": false, "PermissionSetGroupId": gr.id,
		}, nil, epoch, epoch))
		agg.f["Name"] = "X" + agg.id[:15]
		var union []string
		objects := map[string]ObjectPerm{}
		var order []string
		for _, name := range g.PermissionSets {
			o.add("PermissionSetGroupComponent", o.stamp(map[string]any{
				"PermissionSetGroupId": gr.id, "PermissionSetId": sets[name].id,
			}, nil, epoch, epoch))
			ps := findSet(sc, name)
			union = append(union, ps.Permissions...)
			for _, op := range ps.Objects {
				if _, ok := objects[op.Object]; !ok {
					order = append(order, op.Object)
				}
				objects[op.Object] = mergeObjectPerm(objects[op.Object], op)
			}
		}
		o.setPerms(agg.f, union)
		ops := make([]ObjectPerm, 0, len(order))
		for _, name := range order {
			ops = append(ops, objects[name])
		}
		o.objectPerms(agg, ops, epoch)
		groupSets[g.Name] = agg
	}
	for _, u := range sc.Users {
		o.add("PermissionSetAssignment", map[string]any{
			"AssigneeId": o.userID(u.Username), "PermissionSetId": profileSets[u.Profile].id,
			"PermissionSetGroupId": nil, "ExpirationDate": nil, "IsActive": true, "IsRevoked": false,
			"SystemModstamp": epoch,
		})
	}
	for _, a := range sc.Assignments {
		f := map[string]any{
			"AssigneeId": o.userID(a.User), "ExpirationDate": o.atOrNil(a.Expires), "IsRevoked": false,
			"SystemModstamp": epoch,
		}
		if a.PermissionSet != "" {
			f["PermissionSetId"], f["PermissionSetGroupId"] = sets[a.PermissionSet].id, nil
		} else {
			f["PermissionSetId"], f["PermissionSetGroupId"] = groupSets[a.PermissionSetGroup].id, groups[a.PermissionSetGroup].id
		}
		exp, _ := f["ExpirationDate"].(time.Time)
		f["IsActive"] = exp.IsZero() || exp.After(o.now)
		o.add("PermissionSetAssignment", f)
	}
	o.buildApps(epoch)
	for _, g := range sc.SetupEntityAccess {
		parent := profileSets[g.Profile]
		if g.PermissionSet != "" {
			parent = sets[g.PermissionSet]
		}
		a := o.byName[g.App]
		typ := "ConnectedApplication"
		if a.kind == "ExternalClientApp" {
			typ = "ExternalClientApplication"
		}
		o.add("SetupEntityAccess", o.stamp(map[string]any{
			"ParentId": parent.id, "SetupEntityId": a.id, "SetupEntityType": typ,
		}, nil, epoch, epoch))
	}
	o.buildHistory()
}

func (o *org) atOrNil(w When) any {
	if w.IsZero() {
		return nil
	}
	return w.resolve(o.now)
}

func (o *org) objectPerms(parent *row, ops []ObjectPerm, at time.Time) {
	for _, op := range ops {
		o.add("ObjectPermissions", o.stamp(map[string]any{
			"ParentId": parent.id, "SobjectType": op.Object,
			"PermissionsCreate": op.Create || op.ModifyAll, "PermissionsRead": op.Read || op.ViewAll || op.ModifyAll || op.Edit || op.Create || op.Delete,
			"PermissionsEdit": op.Edit || op.ModifyAll, "PermissionsDelete": op.Delete || op.ModifyAll,
			"PermissionsViewAllRecords": op.ViewAll || op.ModifyAll, "PermissionsModifyAllRecords": op.ModifyAll,
			"PermissionsViewAllFields": op.ViewAll || op.ModifyAll,
		}, nil, at, at))
	}
}

func mergeObjectPerm(a, b ObjectPerm) ObjectPerm {
	return ObjectPerm{Object: b.Object, Read: a.Read || b.Read, Create: a.Create || b.Create, Edit: a.Edit || b.Edit,
		Delete: a.Delete || b.Delete, ViewAll: a.ViewAll || b.ViewAll, ModifyAll: a.ModifyAll || b.ModifyAll}
}

func findSet(sc *Scenario, name string) *PermissionSet {
	for i := range sc.PermissionSets {
		if sc.PermissionSets[i].Name == name {
			return &sc.PermissionSets[i]
		}
	}
	return nil
}

func profileLicense(sc *Scenario, profile string) string {
	for _, p := range sc.Profiles {
		if p.Name == profile {
			return p.License
		}
	}
	return ""
}

// setPerms sets every known Permissions* field: true for the given ones,
// false for the rest (the fields are never null in a real org).
func (o *org) setPerms(f map[string]any, perms []string) {
	for _, p := range o.perms {
		f["Permissions"+p] = false
	}
	for _, p := range perms {
		f["Permissions"+p] = true
	}
}

func licenseKey(name string) string {
	switch name {
	case "Salesforce":
		return "SFDC"
	case "Salesforce Platform":
		return "AUL"
	case "Salesforce Integration":
		return "SFDC_INTEGRATION" // [U] see docs/fakeorg.md
	}
	return strings.ToUpper(strings.ReplaceAll(name, " ", "_"))
}

func def(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func splitName(name, username string) (first, last string) {
	if name == "" {
		local, _, _ := strings.Cut(username, "@")
		return "", local
	}
	if i := strings.LastIndexByte(name, ' '); i > 0 {
		return name[:i], name[i+1:]
	}
	return "", name
}

func alias(first, last string) string {
	a := strings.ToLower(last)
	if first != "" {
		a = strings.ToLower(first[:1]) + a
	}
	if len(a) > 8 {
		a = a[:8]
	}
	if a == "" {
		a = "user"
	}
	return a
}
