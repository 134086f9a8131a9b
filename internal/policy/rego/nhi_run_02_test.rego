package steward.rules.nhi_run_02_test

import data.steward.rules.nhi_run_02

user(perms, objects) := {
	"username": "billing.integration@acme.com",
	"effective": {"user": perms, "objects": objects},
	"location": {"file": "ids.yaml", "line": 9},
}

baseline := {"ApiEnabled": ["profile Minimum Access - API Only Integrations"], "ApiUserOnly": ["profile Minimum Access - API Only Integrations"]}

readwrite := {"Opportunity": {"read": true, "edit": true, "grantedBy": ["permission set Billing_Integration"]}}

identity := {"name": "billing-sync-prod", "salesforce": {"runAs": "billing.integration@acme.com"}}

test_least_privilege_is_silent if {
	fs := nhi_run_02.finding with input as {"users": [user(baseline, readwrite)], "identities": [identity]}
	count(fs) == 0
}

test_modify_all_data_is_critical if {
	perms := object.union(baseline, {"ModifyAllData": ["profile Admin", "permission set God_Mode"], "ExportReport": ["profile Admin"]})
	fs := nhi_run_02.finding with input as {"users": [user(perms, readwrite)], "identities": [identity]}
	fs == {{
		"message": "Run-as user billing.integration@acme.com holds ExportReport (profile Admin); ModifyAllData (permission set God_Mode, profile Admin)",
		"severity": "critical",
		"identity": "billing-sync-prod",
		"resource": {"kind": "User", "name": "billing.integration@acme.com", "file": "ids.yaml", "line": 9},
	}}
}

test_view_setup_is_high if {
	fs := nhi_run_02.finding with input as {"users": [user(object.union(baseline, {"ViewSetup": ["permission set Debug"]}), {})], "identities": []}
	some f in fs
	f.severity == "high"
	f.identity == null
}

test_object_wide_access_is_high if {
	objects := object.union(readwrite, {
		"Account": {"read": true, "viewAll": true, "grantedBy": ["permission set Reporting"]},
		"Case": {"read": true, "viewAll": true, "modifyAll": true, "grantedBy": []},
	})
	fs := nhi_run_02.finding with input as {"users": [user(baseline, objects)], "identities": [identity]}
	fs == {{
		"message": "Run-as user billing.integration@acme.com holds Modify All on Case (source unknown); View All on Account (permission set Reporting)",
		"severity": "high",
		"identity": "billing-sync-prod",
		"resource": {"kind": "User", "name": "billing.integration@acme.com", "file": "ids.yaml", "line": 9},
	}}
}
