package steward.rules.nhi_app_05_test

import data.steward.rules.nhi_app_05

app(relax) := {
	"kind": "ConnectedApp", "name": "Billing_Sync", "ipRelaxation": relax,
	"flows": {"clientCredentials": true},
	"location": {"file": "ca.xml", "line": 1},
	"locations": {"ipRelaxation": {"file": "ca.xml", "line": 31}},
}

test_enforce_is_silent if {
	fs := nhi_app_05.finding with input as {"apps": [app("ENFORCE")], "identities": []}
	count(fs) == 0
}

test_unknown_is_silent if {
	fs := nhi_app_05.finding with input as {"apps": [app("")], "identities": []}
	count(fs) == 0
}

test_bypass_is_high if {
	fs := nhi_app_05.finding with input as {"apps": [app("BYPASS")], "identities": []}
	fs == {{
		"message": "Connected app Billing_Sync relaxes IP restrictions (ipRelaxation BYPASS): its tokens can be requested from any address",
		"severity": "high",
		"identity": null,
		"resource": {"kind": "ConnectedApp", "name": "Billing_Sync", "file": "ca.xml", "line": 31},
	}}
}

test_bypass_2factor_is_medium if {
	fs := nhi_app_05.finding with input as {"apps": [app("BYPASS_2FACTOR")], "identities": []}
	some f in fs
	f.severity == "medium"
}

test_relax_refresh_is_medium if {
	fs := nhi_app_05.finding with input as {"apps": [app("ENFORCE_RELAXREFRESH")], "identities": [{"name": "b", "salesforce": {"app": "Billing_Sync"}}]}
	some f in fs
	f.severity == "medium"
	f.identity == "b"
}

test_non_cc_app_is_silent if {
	a := object.union(app("BYPASS"), {"flows": {"clientCredentials": false}})
	fs := nhi_app_05.finding with input as {"apps": [a], "identities": []}
	count(fs) == 0
}
