package metadata

// permissionSet maps a PermissionSet or MutingPermissionSet document.
func (p *parser) permissionSet(root *node, name string, muting bool) *PermissionSet {
	ps := &PermissionSet{Name: name, Location: p.loc(root), Muting: muting}
	for _, c := range root.children {
		switch c.name {
		case "label":
			p.setText(&ps.Label, c, root)
		case "description":
			p.setText(&ps.Description, c, root)
		case "license", "userLicense": // userLicense before API 38.0
			p.setText(&ps.License, c, root)
		case "userPermissions":
			if up, ok := p.userPermission(c); ok {
				ps.UserPermissions = append(ps.UserPermissions, up)
			}
		case "objectPermissions":
			if op, ok := p.objectPermission(c); ok {
				ps.ObjectPermissions = append(ps.ObjectPermissions, op)
			}
		case "agentAccesses", "applicationVisibilities", "classAccesses",
			"customMetadataTypeAccesses", "customPermissions", "customSettingAccesses",
			"emailRoutingAddressAccesses", "externalCredentialPrincipalAccesses",
			"externalDataSourceAccesses", "fieldPermissions", "flowAccesses",
			"genComputingSummaryDefAccesses", "hasActivationRequired", "pageAccesses",
			"recordTypeVisibilities", "servicePresenceStatusAccesses", "tabSettings":
			// In the schema; not modelled.
		default:
			p.unknown(c, root)
		}
	}
	return ps
}

// permissionSetGroup maps a PermissionSetGroup document.
func (p *parser) permissionSetGroup(root *node, name string) *PermissionSetGroup {
	g := &PermissionSetGroup{Name: name, Location: p.loc(root)}
	for _, c := range root.children {
		switch c.name {
		case "label":
			p.setText(&g.Label, c, root)
		case "description":
			p.setText(&g.Description, c, root)
		case "status":
			p.setText(&g.Status, c, root)
		case "permissionSets":
			if v := p.leaf(c); v != "" {
				g.PermissionSets = append(g.PermissionSets, v)
			}
		case "mutingPermissionSets":
			if v := p.leaf(c); v != "" {
				g.MutingPermissionSets = append(g.MutingPermissionSets, v)
			}
		case "hasActivationRequired":
			// In the schema; not modelled.
		default:
			p.unknown(c, root)
		}
	}
	return g
}

// profile maps a Profile document.
func (p *parser) profile(root *node, name string) *Profile {
	pr := &Profile{Name: name, Location: p.loc(root)}
	for _, c := range root.children {
		switch c.name {
		case "custom":
			p.setBool(&pr.Custom, c, root)
		case "userLicense":
			p.setText(&pr.UserLicense, c, root)
		case "description":
			p.setText(&pr.Description, c, root)
		case "loginIpRanges":
			pr.LoginIPRanges = append(pr.LoginIPRanges, p.ipRange(c, "startAddress", "endAddress"))
		case "userPermissions":
			if up, ok := p.userPermission(c); ok {
				pr.UserPermissions = append(pr.UserPermissions, up)
			}
		case "objectPermissions":
			if op, ok := p.objectPermission(c); ok {
				pr.ObjectPermissions = append(pr.ObjectPermissions, op)
			}
		case "agentAccesses", "applicationVisibilities", "categoryGroupVisibilities",
			"classAccesses", "customMetadataTypeAccesses", "customPermissions",
			"customSettingAccesses", "externalDataSourceAccesses", "fieldPermissions",
			"flowAccesses", "genComputingSummaryDefAccesses", "layoutAssignments",
			"loginFlows", "loginHours", "pageAccesses", "profileActionOverrides",
			"recordTypeVisibilities", "servicePresenceStatusAccesses", "tabVisibilities":
			// In the schema; not modelled.
		default:
			p.unknown(c, root)
		}
	}
	return pr
}

// userPermission maps one userPermissions entry. An entry without a name is
// reported and dropped.
func (p *parser) userPermission(n *node) (UserPermission, bool) {
	var name Text
	var enabled Bool
	for _, c := range n.children {
		switch c.name {
		case "name":
			p.setText(&name, c, n)
		case "enabled":
			p.setBool(&enabled, c, n)
		default:
			p.unknown(c, n)
		}
	}
	if name.Value == "" {
		p.warn(n.line, "<%s> has no <name>; entry ignored", n.name)
		return UserPermission{}, false
	}
	return UserPermission{Name: name.Value, Enabled: enabled.True(), Line: n.line}, true
}

// objectPermission maps one objectPermissions entry. Absent or unreadable
// flags count as false; an entry without an object is reported and dropped.
func (p *parser) objectPermission(n *node) (ObjectPermission, bool) {
	var object Text
	var create, read, edit, del, viewAll, modifyAll, viewAllFields Bool
	for _, c := range n.children {
		switch c.name {
		case "object":
			p.setText(&object, c, n)
		case "allowCreate":
			p.setBool(&create, c, n)
		case "allowRead":
			p.setBool(&read, c, n)
		case "allowEdit":
			p.setBool(&edit, c, n)
		case "allowDelete":
			p.setBool(&del, c, n)
		case "viewAllRecords":
			p.setBool(&viewAll, c, n)
		case "modifyAllRecords":
			p.setBool(&modifyAll, c, n)
		case "viewAllFields":
			p.setBool(&viewAllFields, c, n)
		default:
			p.unknown(c, n)
		}
	}
	if object.Value == "" {
		p.warn(n.line, "<%s> has no <object>; entry ignored", n.name)
		return ObjectPermission{}, false
	}
	return ObjectPermission{
		Object:        object.Value,
		Line:          n.line,
		Create:        create.True(),
		Read:          read.True(),
		Edit:          edit.True(),
		Delete:        del.True(),
		ViewAll:       viewAll.True(),
		ModifyAll:     modifyAll.True(),
		ViewAllFields: viewAllFields.True(),
	}, true
}
