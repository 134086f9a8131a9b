package steward.rules.nhi_app_04_test

import data.steward.rules.nhi_app_04

app(approved, pre) := {
	"kind": "ExternalClientApp", "name": "Billing_Sync", "adminApproved": approved, "preAuthorized": pre,
	"flows": {"clientCredentials": true},
	"location": {"file": "eca.xml", "line": 1},
	"locations": {"adminApproved": {"file": "plcy.xml", "line": 9}},
}

identity := {"name": "billing-sync-prod", "salesforce": {"app": "Billing_Sync"}}

test_admin_approved_with_own_permission_set_is_silent if {
	fs := nhi_app_04.finding with input as {"apps": [app(true, ["billing_integration"])], "identities": [identity]}
	count(fs) == 0
}

test_self_authorize_fires if {
	fs := nhi_app_04.finding with input as {"apps": [app(false, [])], "identities": [identity]}
	fs == {{
		"message": "External Client App Billing_Sync is not admin-approved: all users may self-authorize",
		"identity": "billing-sync-prod",
		"resource": {"kind": "ExternalClientApp", "name": "Billing_Sync", "file": "plcy.xml", "line": 9},
	}}
}

test_admin_profile_is_high if {
	fs := nhi_app_04.finding with input as {"apps": [app(true, ["System Administrator", "Billing_Integration"])], "identities": [identity]}
	count(fs) == 1
	some f in fs
	f.severity == "high"
	f.message == "External Client App Billing_Sync pre-authorises the System Administrator profile (System Administrator): every administrator can use it"
}

test_non_cc_app_is_silent if {
	a := object.union(app(false, ["Admin"]), {"flows": {"clientCredentials": false}})
	fs := nhi_app_04.finding with input as {"apps": [a], "identities": [identity]}
	count(fs) == 0
}
