package steward.rules.nhi_app_06_test

import data.steward.rules.nhi_app_06

app(refresh, minutes) := {
	"kind": "ExternalClientApp", "name": "Billing_Sync",
	"refreshTokenPolicy": refresh, "sessionTimeoutMinutes": minutes,
	"flows": {"clientCredentials": true},
	"location": {"file": "eca.xml", "line": 1},
	"locations": {
		"refreshTokenPolicy": {"file": "plcy.xml", "line": 12},
		"sessionTimeout": {"file": "plcy.xml", "line": 14},
	},
}

test_short_lived_is_silent if {
	fs := nhi_app_06.finding with input as {"apps": [app("zero", 15)], "identities": []}
	count(fs) == 0
}

test_specific_lifetime_is_silent if {
	fs := nhi_app_06.finding with input as {"apps": [app("specific_lifetime:1:HOURS", 5)], "identities": []}
	count(fs) == 0
}

test_infinite_refresh_fires if {
	fs := nhi_app_06.finding with input as {"apps": [app("infinite", 15)], "identities": []}
	fs == {{
		"message": "External Client App Billing_Sync keeps refresh tokens valid until revoked (refreshTokenPolicy infinite, Salesforce's default)",
		"identity": null,
		"resource": {"kind": "ExternalClientApp", "name": "Billing_Sync", "file": "plcy.xml", "line": 12},
	}}
}

test_no_session_timeout_is_low if {
	fs := nhi_app_06.finding with input as {"apps": [app("zero", 0)], "identities": []}
	count(fs) == 1
	some f in fs
	f.severity == "low"
	f.resource.line == 14
}

test_long_session_fires if {
	fs := nhi_app_06.finding with input as {"apps": [app("zero", 120)], "identities": []}
	count(fs) == 1
	some f in fs
	f.message == "External Client App Billing_Sync lets access tokens live 120 minutes (at most 15)"
	f.severity == "medium"
}

test_non_cc_app_is_silent if {
	a := object.union(app("infinite", 0), {"flows": {"clientCredentials": false}})
	fs := nhi_app_06.finding with input as {"apps": [a], "identities": []}
	count(fs) == 0
}

test_session_boundary if {
	count(nhi_app_06.finding) == 0 with input as {"apps": [app("zero", 15)], "identities": []}
	count(nhi_app_06.finding) == 1 with input as {"apps": [app("zero", 16)], "identities": []}
}
