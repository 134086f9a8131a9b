package steward.rules.nhi_org_01_test

import data.steward.rules.nhi_org_01

admins(n) := [{"username": sprintf("admin%d@acme.com", [i]), "profile": "System Administrator", "grantedBy": ["profile System Administrator"]} | some i in numbers.range(1, n)]

dana := {"username": "dana.ops@acme.com", "profile": "Standard User", "grantedBy": ["permission set Integration_Support"]}

run_as := {"username": "Erp@acme.com", "profile": "Minimum Access - API Only Integrations", "grantedBy": ["permission set Erp"]}

eval(bypass) := fs if {
	fs := nhi_org_01.finding with input as {
		"capabilities": {"live": true},
		"org": {"url": "https://acme.my.salesforce.com", "id": "00D000000000001AAA", "bypass": bypass},
		"identities": [{"name": "erp-sync-prod", "salesforce": {"runAs": "erp@acme.com"}}],
	}
}

test_small_admin_set_is_silent if {
	count(eval({"UseAnyApiAuth": admins(5), "ViewClientSecret": admins(2)})) == 0
}

test_holder_outside_the_admins_fires if {
	fs := eval({"UseAnyApiAuth": array.concat(admins(1), [dana]), "ViewClientSecret": admins(1)})
	fs == {{
		"message": "Use Any API Client (UseAnyApiAuth) is held outside the System Administrator profile by dana.ops@acme.com (permission set Integration_Support)",
		"identity": null,
		"resource": {"kind": "Org", "name": "https://acme.my.salesforce.com", "file": "", "line": 0},
	}}
}

test_run_as_user_is_left_to_run_02 if {
	count(eval({"ManageRemoteAccess": array.concat(admins(1), [run_as])})) == 0
}

test_large_admin_set_fires_per_permission if {
	fs := eval({"UseAnyApiAuth": admins(6), "ManageRemoteAccess": admins(7), "ViewClientSecret": admins(1)})
	count(fs) == 2
	some f in fs
	f.message == "Use Any API Client (UseAnyApiAuth) is held by 6 active users, more than 5: admin1@acme.com, admin2@acme.com, admin3@acme.com, admin4@acme.com, admin5@acme.com and 1 more"
}

test_other_permissions_are_not_bypass if {
	count(eval({"ModifyAllData": array.concat(admins(30), [dana])})) == 0
}

test_org_without_url_is_named_by_id if {
	fs := nhi_org_01.finding with input as {
		"capabilities": {"live": true},
		"org": {"url": "", "id": "00D000000000001AAA", "bypass": {"CanApproveUninstalledApps": admins(9)}},
	}
	some f in fs
	f.resource.name == "00D000000000001AAA"
}
