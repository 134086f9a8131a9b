package steward.rules.nhi_app_02_test

import data.steward.rules.nhi_app_02

app(scopes) := {
	"kind": "ConnectedApp", "name": "Billing_Sync", "scopes": scopes,
	"flows": {"clientCredentials": true}, "location": {"file": "a.xml", "line": 2},
	"locations": {"scopes": {"file": "a.xml", "line": 14}},
}

test_full_and_refresh_token_fire if {
	fs := nhi_app_02.finding with input as {"apps": [app(["api", "full", "refresh_token"])], "identities": []}
	count(fs) == 1
	some f in fs
	f.severity == "high"
	f.message == "Connected app Billing_Sync requests full, refresh_token"
	f.resource.line == 14
}

test_api_only_is_silent if {
	fs := nhi_app_02.finding with input as {"apps": [app(["api"])], "identities": []}
	count(fs) == 0
}

test_non_cc_app_is_silent if {
	a := object.union(app(["full"]), {"flows": {"clientCredentials": false}})
	fs := nhi_app_02.finding with input as {"apps": [a], "identities": []}
	count(fs) == 0
}
