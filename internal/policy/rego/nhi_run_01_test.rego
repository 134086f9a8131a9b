package steward.rules.nhi_run_01_test

import data.steward.rules.nhi_run_01

user := {
	"username": "billing.integration@acme.com",
	"profile": "Minimum Access - API Only Integrations",
	"license": "Salesforce Integration",
	"unresolved": [],
	"effective": {"user": {"ApiEnabled": ["profile x"], "ApiUserOnly": ["profile x"]}, "objects": {}},
	"location": {"file": "ids.yaml", "line": 9},
}

# user with the effective user permissions replaced.
with_perms(u, perms) := object.union(object.remove(u, ["effective"]), {"effective": {"user": perms, "objects": {}}})

identity := {"name": "billing-sync-prod", "salesforce": {"runAs": "Billing.Integration@acme.com"}}

test_integration_user_is_silent if {
	fs := nhi_run_01.finding with input as {"users": [user], "identities": [identity]}
	count(fs) == 0
}

test_admin_profile_is_critical if {
	u := object.union(with_perms(user, {"ModifyAllData": ["profile Admin"]}), {"profile": "Admin", "license": "Salesforce"})
	fs := nhi_run_01.finding with input as {"users": [u], "identities": [identity]}
	fs == {{
		"message": "Run-as user billing.integration@acme.com is not a dedicated integration user: it has the System Administrator profile (Admin); it lacks the API Only User permission (ApiUserOnly), so it can log in to the user interface; its license is Salesforce, not Salesforce Integration",
		"severity": "critical",
		"identity": "billing-sync-prod",
		"resource": {"kind": "User", "name": "billing.integration@acme.com", "file": "ids.yaml", "line": 9},
	}}
}

test_human_profile_is_high if {
	u := object.union(user, {"profile": "Standard User", "license": ""})
	fs := nhi_run_01.finding with input as {"users": [u], "identities": []}
	count(fs) == 1
	some f in fs
	f.severity == "high"
	f.identity == null
	contains(f.message, "it has the standard profile Standard User, made for people")
}

test_missing_api_only_is_high if {
	u := with_perms(user, {"ApiEnabled": ["profile x"]})
	fs := nhi_run_01.finding with input as {"users": [u], "identities": []}
	some f in fs
	f.severity == "high"
	contains(f.message, "lacks the API Only User permission")
}

test_api_only_not_judged_when_unresolved if {
	u := object.union(with_perms(user, {}), {"unresolved": ["permission set Missing"]})
	fs := nhi_run_01.finding with input as {"users": [u], "identities": []}
	count(fs) == 0
}

test_api_only_not_judged_without_profile if {
	u := object.union(with_perms(user, {}), {"profile": "", "license": ""})
	fs := nhi_run_01.finding with input as {"users": [u], "identities": []}
	count(fs) == 0
}

test_other_license_is_low if {
	u := object.union(user, {"license": "Salesforce Platform"})
	fs := nhi_run_01.finding with input as {"users": [u], "identities": []}
	some f in fs
	f.severity == "low"
	f.message == "Run-as user billing.integration@acme.com is not a dedicated integration user: its license is Salesforce Platform, not Salesforce Integration"
}
