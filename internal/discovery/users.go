package discovery

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/steward-dev/steward/internal/salesforce"
	"github.com/steward-dev/steward/internal/salesforce/metadata"
	"github.com/steward-dev/steward/internal/snapshot"
)

// userPermissions are the user permissions read from every permission set
// and profile, by metadata name (the sObject field drops the "Permissions"
// prefix): the ones the built-in rules judge. A user policy that needs
// another permission sees it only in SFDX files, not in a live snapshot.
var userPermissions = []string{
	"ApiEnabled", "ApiUserOnly", "AssignPermissionSets", "AuthorApex", "BulkApiHardDelete",
	"CanApproveUninstalledApps", "CustomizeApplication", "DelegatedTwoFactor", "ExportReport", "FreezeUsers",
	"InstallPackaging", "ManageAuthProviders", "ManageCertificates", "ManageEncryptionKeys", "ManageInternalUsers",
	"ManageIpAddresses", "ManageLoginAccessPolicies", "ManageNamedCredentials", "ManagePasswordPolicies",
	"ManageProfilesPermissionsets", "ManageRemoteAccess", "ManageSharing", "ManageUsers", "ModifyAllData",
	"ModifyMetadata", "PasswordNeverExpires", "QueryAllFiles", "ResetPasswords", "UseAnyApiAuth", "ViewAllData",
	"ViewAllFieldsGlobal", "ViewAllUsers", "ViewClientSecret", "ViewSetup",
}

// permissionSet is a PermissionSet row with its user permissions.
type permissionSet struct {
	ID               string
	Name             string
	Label            string
	Type             string
	IsOwnedByProfile bool
	Profile          string
	Group            string // the permission set group a Group-type set aggregates
	Permissions      []metadata.UserPermission
}

// runAsUsers returns the usernames the apps run as and the options name.
func (d *run) runAsUsers() []string {
	names := map[string]string{}
	add := func(u string) {
		if u = strings.TrimSpace(u); u != "" {
			names[strings.ToLower(u)] = u
		}
	}
	for _, ca := range d.md.ConnectedApps {
		add(ca.ClientCredentialUser.Value)
	}
	for _, e := range d.md.ECAs {
		if e.OAuthPolicy != nil {
			add(e.OAuthPolicy.ClientCredentialsUser.Value)
		}
	}
	for _, u := range d.opts.Usernames {
		add(u)
	}
	out := make([]string, 0, len(names))
	for _, u := range names {
		out = append(out, u)
	}
	sort.Strings(out)
	return out
}

// readUsers reads the run-as users and their permission set assignments.
func (d *run) readUsers(ctx context.Context) error {
	d.users, d.userIDs, d.assigned = map[string]*snapshot.OrgUser{}, map[string]string{}, map[string]bool{}
	type userRow struct {
		ID       string `json:"Id"`
		Username string `json:"Username"`
		IsActive bool   `json:"IsActive"`
		UserType string `json:"UserType"`
		Profile  *struct {
			Name        string `json:"Name"`
			UserLicense *named `json:"UserLicense"`
		} `json:"Profile"`
		LastLoginDate sfTime `json:"LastLoginDate"`
		CreatedDate   sfTime `json:"CreatedDate"`
	}
	rows, err := queryIn[userRow](ctx, d.c, "SELECT Id, Username, IsActive, UserType, Profile.Name, "+
		"Profile.UserLicense.Name, LastLoginDate, CreatedDate FROM User WHERE Username IN :values", d.runAsUsers())
	if err != nil {
		return err
	}
	ids := make([]string, 0, len(rows))
	for _, r := range rows {
		u := &snapshot.OrgUser{Username: r.Username, Live: snapshot.UserLive{
			Active: r.IsActive, UserType: r.UserType, Created: r.CreatedDate.Time, LastLogin: r.LastLoginDate.Time,
			Logins: []snapshot.LoginSummary{}, Assignments: []snapshot.Assignment{},
		}}
		if r.Profile != nil {
			u.Profile = r.Profile.Name
			if r.Profile.UserLicense != nil {
				u.License = r.Profile.UserLicense.Name
			}
		}
		d.users[strings.ToLower(r.Username)] = u
		d.userIDs[r.ID] = r.Username
		ids = append(ids, r.ID)
	}

	type assignmentRow struct {
		AssigneeID      string `json:"AssigneeId"`
		PermissionSetID string `json:"PermissionSetId"`
		PermissionSet   *struct {
			Name             string `json:"Name"`
			IsOwnedByProfile bool   `json:"IsOwnedByProfile"`
		} `json:"PermissionSet"`
		PermissionSetGroup *struct {
			DeveloperName string `json:"DeveloperName"`
		} `json:"PermissionSetGroup"`
		ExpirationDate sfTime `json:"ExpirationDate"`
		IsActive       *bool  `json:"IsActive"`
	}
	assignments, err := queryIn[assignmentRow](ctx, d.c, "SELECT AssigneeId, PermissionSetId, PermissionSet.Name, "+
		"PermissionSet.IsOwnedByProfile, PermissionSetGroup.DeveloperName, ExpirationDate, IsActive "+
		"FROM PermissionSetAssignment WHERE AssigneeId IN :values", ids)
	if err != nil {
		return err
	}
	for _, a := range assignments {
		u := d.users[strings.ToLower(d.userIDs[a.AssigneeID])]
		if u == nil || a.PermissionSet == nil || (a.IsActive != nil && !*a.IsActive) {
			continue
		}
		d.assigned[a.PermissionSetID] = true
		if a.PermissionSet.IsOwnedByProfile {
			continue // the profile's own set, already the user's profile
		}
		as := snapshot.Assignment{}
		if !a.ExpirationDate.IsZero() {
			as.Expires = a.ExpirationDate.Format("2006-01-02")
		}
		if a.PermissionSetGroup != nil {
			u.PermissionSetGroups = append(u.PermissionSetGroups, a.PermissionSetGroup.DeveloperName)
			as.PermissionSetGroup = a.PermissionSetGroup.DeveloperName
		} else {
			u.PermissionSets = append(u.PermissionSets, a.PermissionSet.Name)
			as.PermissionSet = a.PermissionSet.Name
		}
		u.Live.Assignments = append(u.Live.Assignments, as)
	}
	return nil
}

// permissionSets reads every permission set with the user permissions the
// rules judge, and the object permissions of those assigned to run-as
// users, and turns the assigned ones into metadata records: profile-owned
// sets become profiles, group sets become permission set groups holding
// their aggregate.
func (d *run) permissionSets(ctx context.Context) error {
	fields := []string{"Id", "Name", "Label", "Type", "IsOwnedByProfile", "Profile.Name", "PermissionSetGroup.DeveloperName"}
	for _, p := range userPermissions {
		fields = append(fields, "Permissions"+p)
	}
	d.sets = map[string]*permissionSet{}
	err := d.c.Query(ctx, "SELECT "+strings.Join(fields, ", ")+" FROM PermissionSet", func(raw json.RawMessage) error {
		var row map[string]json.RawMessage
		if err := json.Unmarshal(raw, &row); err != nil {
			return fmt.Errorf("PermissionSet record: %w", err)
		}
		ps := &permissionSet{}
		var profile, group map[string]json.RawMessage
		for _, f := range []struct {
			name string
			dst  any
		}{
			{"Id", &ps.ID}, {"Name", &ps.Name}, {"Label", &ps.Label}, {"Type", &ps.Type},
			{"IsOwnedByProfile", &ps.IsOwnedByProfile}, {"Profile", &profile}, {"PermissionSetGroup", &group},
		} {
			if v, ok := row[f.name]; ok {
				if err := json.Unmarshal(v, f.dst); err != nil {
					return fmt.Errorf("PermissionSet %s: %w", f.name, err)
				}
			}
		}
		if profile != nil {
			_ = json.Unmarshal(profile["Name"], &ps.Profile)
		}
		if group != nil {
			_ = json.Unmarshal(group["DeveloperName"], &ps.Group)
		}
		for _, p := range userPermissions {
			var on bool
			if v, ok := row["Permissions"+p]; ok && json.Unmarshal(v, &on) == nil && on {
				ps.Permissions = append(ps.Permissions, metadata.UserPermission{Name: p, Enabled: true})
			}
		}
		d.sets[ps.ID] = ps
		return nil
	})
	if err != nil {
		return err
	}

	type licenseRow struct {
		Name        string `json:"Name"`
		UserLicense *named `json:"UserLicense"`
	}
	profiles, err := salesforce.QueryAll[licenseRow](ctx, d.c, "SELECT Name, UserLicense.Name FROM Profile")
	if err != nil {
		return err
	}
	d.licenses = map[string]string{}
	for _, p := range profiles {
		if p.UserLicense != nil {
			d.licenses[p.Name] = p.UserLicense.Name
		}
	}

	ids := make([]string, 0, len(d.assigned))
	for id := range d.assigned {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	type objectRow struct {
		ParentID  string `json:"ParentId"`
		Object    string `json:"SobjectType"`
		Read      bool   `json:"PermissionsRead"`
		Create    bool   `json:"PermissionsCreate"`
		Edit      bool   `json:"PermissionsEdit"`
		Delete    bool   `json:"PermissionsDelete"`
		ViewAll   bool   `json:"PermissionsViewAllRecords"`
		ModifyAll bool   `json:"PermissionsModifyAllRecords"`
	}
	objects, err := queryIn[objectRow](ctx, d.c, "SELECT ParentId, SobjectType, PermissionsRead, PermissionsCreate, "+
		"PermissionsEdit, PermissionsDelete, PermissionsViewAllRecords, PermissionsModifyAllRecords "+
		"FROM ObjectPermissions WHERE ParentId IN :values", ids)
	if err != nil {
		return err
	}
	byParent := map[string][]metadata.ObjectPermission{}
	for _, o := range objects {
		byParent[o.ParentID] = append(byParent[o.ParentID], metadata.ObjectPermission{
			Object: o.Object, Read: o.Read, Create: o.Create, Edit: o.Edit, Delete: o.Delete,
			ViewAll: o.ViewAll, ModifyAll: o.ModifyAll,
		})
	}

	for _, id := range ids {
		ps := d.sets[id]
		if ps == nil {
			continue
		}
		loc := metadata.Location{File: "PermissionSet/" + ps.Name}
		switch {
		case ps.IsOwnedByProfile:
			d.md.Profiles = append(d.md.Profiles, &metadata.Profile{
				Name: ps.Profile, Location: metadata.Location{File: "Profile/" + ps.Profile},
				UserLicense:     metadata.Text{Value: d.licenses[ps.Profile]},
				UserPermissions: ps.Permissions, ObjectPermissions: byParent[id],
			})
		case ps.Group != "":
			d.md.PermissionSets = append(d.md.PermissionSets, &metadata.PermissionSet{
				Name: ps.Name, Location: loc, Label: metadata.Text{Value: ps.Label},
				UserPermissions: ps.Permissions, ObjectPermissions: byParent[id],
			})
			d.md.PermissionSetGroups = append(d.md.PermissionSetGroups, &metadata.PermissionSetGroup{
				Name: ps.Group, Location: metadata.Location{File: "PermissionSetGroup/" + ps.Group},
				PermissionSets: []string{ps.Name},
			})
		default:
			d.md.PermissionSets = append(d.md.PermissionSets, &metadata.PermissionSet{
				Name: ps.Name, Location: loc, Label: metadata.Text{Value: ps.Label},
				UserPermissions: ps.Permissions, ObjectPermissions: byParent[id],
			})
		}
	}
	return nil
}

// orgGrants finds who holds the permissions that bypass the org's app
// guardrails, and how widely "API Enabled" is granted.
func (d *run) orgGrants(ctx context.Context) error {
	type holderRow struct {
		AssigneeID string `json:"AssigneeId"`
		Assignee   *struct {
			Username string `json:"Username"`
			Profile  *named `json:"Profile"`
		} `json:"Assignee"`
		PermissionSetID string `json:"PermissionSetId"`
	}
	var bypassIDs, apiIDs []string
	for id, ps := range d.sets {
		if ps.grants(snapshot.BypassPermissions...) {
			bypassIDs = append(bypassIDs, id)
		}
		if ps.grants(snapshot.PermAPIEnabled) {
			apiIDs = append(apiIDs, id)
		}
	}
	sort.Strings(bypassIDs)
	sort.Strings(apiIDs)
	const q = "SELECT AssigneeId, Assignee.Username, Assignee.Profile.Name, PermissionSetId FROM PermissionSetAssignment " +
		"WHERE Assignee.IsActive = true AND PermissionSetId IN :values"
	holders, err := queryIn[holderRow](ctx, d.c, q, bypassIDs)
	if err != nil {
		return err
	}
	type key struct{ perm, user string }
	byHolder := map[key]*snapshot.Holder{}
	for _, h := range holders {
		ps := d.sets[h.PermissionSetID]
		if ps == nil || h.Assignee == nil {
			continue
		}
		for _, perm := range snapshot.BypassPermissions {
			if !ps.grants(perm) {
				continue
			}
			k := key{perm, h.Assignee.Username}
			hd := byHolder[k]
			if hd == nil {
				hd = &snapshot.Holder{Username: h.Assignee.Username}
				if h.Assignee.Profile != nil {
					hd.Profile = h.Assignee.Profile.Name
				}
				byHolder[k] = hd
			}
			hd.GrantedBy = append(hd.GrantedBy, ps.source())
		}
	}
	d.org.Org.Bypass = map[string][]snapshot.Holder{}
	for k, h := range byHolder {
		sort.Strings(h.GrantedBy)
		d.org.Org.Bypass[k.perm] = append(d.org.Org.Bypass[k.perm], *h)
	}
	for perm := range d.org.Org.Bypass {
		hs := d.org.Org.Bypass[perm]
		sort.Slice(hs, func(i, j int) bool { return hs[i].Username < hs[j].Username })
	}

	grantees, err := queryIn[holderRow](ctx, d.c, q, apiIDs)
	if err != nil {
		return err
	}
	counts := map[string]int{}
	for _, g := range grantees {
		counts[g.PermissionSetID]++
	}
	d.org.Org.APIEnabled = []snapshot.Grant{}
	for _, id := range apiIDs {
		ps := d.sets[id]
		g := snapshot.Grant{Kind: snapshot.GrantPermissionSet, Name: ps.Name, Users: counts[id]}
		switch {
		case ps.IsOwnedByProfile:
			g.Kind, g.Name, g.License = snapshot.GrantProfile, ps.Profile, d.licenses[ps.Profile]
		case ps.Group != "":
			g.Name = ps.Group
		}
		d.org.Org.APIEnabled = append(d.org.Org.APIEnabled, g)
	}
	sort.Slice(d.org.Org.APIEnabled, func(i, j int) bool {
		a, b := d.org.Org.APIEnabled[i], d.org.Org.APIEnabled[j]
		return a.Kind+a.Name < b.Kind+b.Name
	})
	return nil
}

// grants reports whether the set enables any of perms.
func (ps *permissionSet) grants(perms ...string) bool {
	for _, p := range ps.Permissions {
		for _, want := range perms {
			if p.Enabled && p.Name == want {
				return true
			}
		}
	}
	return false
}

// source names the set as effective permissions do.
func (ps *permissionSet) source() string {
	switch {
	case ps.IsOwnedByProfile:
		return "profile " + ps.Profile
	case ps.Group != "":
		return "permission set group " + ps.Group
	}
	return "permission set " + ps.Name
}
