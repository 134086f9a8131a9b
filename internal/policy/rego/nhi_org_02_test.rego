package steward.rules.nhi_org_02_test

import data.steward.rules.nhi_org_02

eval(grants) := fs if {
	fs := nhi_org_02.finding with input as {"capabilities": {"live": true}, "org": {"apiEnabled": grants}}
}

test_integration_admin_and_small_grants_are_silent if {
	count(eval([
		{"kind": "Profile", "name": "Minimum Access - API Only Integrations", "users": 60, "license": "Salesforce Integration"},
		{"kind": "Profile", "name": "System Administrator", "users": 25, "license": "Salesforce"},
		{"kind": "Profile", "name": "Unused Profile", "users": 0, "license": "Salesforce"},
		{"kind": "PermissionSet", "name": "Erp_Integration", "users": 40, "license": "Salesforce API Integration"},
		{"kind": "PermissionSet", "name": "Developers", "users": 20, "license": ""},
	])) == 0
}

test_general_profile_fires if {
	fs := eval([{"kind": "Profile", "name": "Standard User", "users": 3, "license": "Salesforce"}])
	fs == {{
		"message": "Profile Standard User grants API Enabled to 3 active users: keep API access to integration users, admins and developers",
		"identity": null,
		"resource": {"kind": "Profile", "name": "Standard User", "file": "", "line": 0},
	}}
}

test_broad_permission_set_fires if {
	some f in eval([{"kind": "PermissionSet", "name": "Sales_Tools", "users": 300, "license": ""}])
	f.message == "Permission set Sales_Tools grants API Enabled to 300 active users: keep API access to integration users, admins and developers"
}

test_offline_is_silent if {
	fs := nhi_org_02.finding with input as {"capabilities": {"live": false}, "org": {"apiEnabled": [{"kind": "Profile", "name": "Standard User", "users": 300, "license": "Salesforce"}]}}
	count(fs) == 0
}
