package steward.rules.nhi_inv_01_test

import data.steward.rules.nhi_inv_01

app := {
	"kind": "ExternalClientApp", "name": "Orders_Sync",
	"flows": {"clientCredentials": true},
	"location": {"file": "eca/Orders_Sync.eca-meta.xml", "line": 2},
	"locations": {"flows": {"file": "eca/Orders_Sync.ecaOauthPlcy-meta.xml", "line": 5}},
}

identity := {"name": "orders-sync-prod", "salesforce": {"app": "Orders_Sync"}}

test_unregistered_cc_app_fires if {
	fs := nhi_inv_01.finding with input as {"apps": [app], "identities": []}
	count(fs) == 1
	some f in fs
	f.message == "External Client App Orders_Sync has the client-credentials flow enabled, but no Identity names it"
	f.identity == null
	f.resource == {"kind": "ExternalClientApp", "name": "Orders_Sync", "file": "eca/Orders_Sync.ecaOauthPlcy-meta.xml", "line": 5}
}

test_half_enabled_cc_app_fires if {
	a := object.union(app, {"flows": {"clientCredentials": false, "clientCredentialsPartial": true}})
	fs := nhi_inv_01.finding with input as {"apps": [a], "identities": []}
	count(fs) == 1
}

test_registered_app_is_silent if {
	fs := nhi_inv_01.finding with input as {"apps": [app], "identities": [identity]}
	count(fs) == 0
}

test_app_without_cc_is_silent if {
	a := object.union(app, {"flows": {"clientCredentials": false}})
	fs := nhi_inv_01.finding with input as {"apps": [a], "identities": []}
	count(fs) == 0
}

test_identity_naming_another_app_does_not_register_it if {
	other := object.union(identity, {"salesforce": {"app": "Billing_Sync"}})
	fs := nhi_inv_01.finding with input as {"apps": [app], "identities": [other]}
	count(fs) == 1
}
