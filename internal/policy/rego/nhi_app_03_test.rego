package steward.rules.nhi_app_03_test

import data.steward.rules.nhi_app_03

app(flows) := {
	"kind": "ConnectedApp", "name": "Billing_Sync", "runAs": "billing@acme.com",
	"flows": object.union({"clientCredentials": true}, flows),
	"location": {"file": "ca.xml", "line": 2},
	"locations": {"flows": {"file": "ca.xml", "line": 20}},
}

identity := {"name": "billing-sync-prod", "salesforce": {"app": "Billing_Sync"}}

test_client_credentials_only_is_silent if {
	fs := nhi_app_03.finding with input as {"apps": [app({})], "identities": [identity]}
	count(fs) == 0
}

test_extra_flows_are_listed if {
	fs := nhi_app_03.finding with input as {"apps": [app({"tokenExchange": true, "jwtBearer": true})], "identities": [identity]}
	fs == {{
		"message": "Connected app Billing_Sync enables JWT bearer (certificate), token exchange besides client credentials",
		"severity": "medium",
		"identity": "billing-sync-prod",
		"resource": {"kind": "ConnectedApp", "name": "Billing_Sync", "file": "ca.xml", "line": 20},
	}}
}

test_device_flow_is_high if {
	fs := nhi_app_03.finding with input as {"apps": [app({"device": true})], "identities": []}
	some f in fs
	f.severity == "high"
	f.identity == null
}

test_secret_optional_is_high if {
	fs := nhi_app_03.finding with input as {"apps": [app({"consumerSecretOptional": true})], "identities": []}
	some f in fs
	f.severity == "high"
}

test_other_flows_without_client_credentials_are_silent if {
	a := app({"clientCredentials": false, "device": true})
	fs := nhi_app_03.finding with input as {"apps": [a], "identities": []}
	count(fs) == 0
}

test_half_enabled_eca_is_low if {
	a := object.union(app({"clientCredentials": false, "clientCredentialsPartial": true}), {"kind": "ExternalClientApp"})
	fs := nhi_app_03.finding with input as {"apps": [a], "identities": [identity]}
	count(fs) == 1
	some f in fs
	f.severity == "low"
	startswith(f.message, "External Client App Billing_Sync enables client credentials in only part")
}

test_missing_run_as_is_low if {
	a := object.union(app({}), {"runAs": ""})
	fs := nhi_app_03.finding with input as {"apps": [a], "identities": [identity]}
	count(fs) == 1
	some f in fs
	f.severity == "low"
	contains(f.message, "names no run-as user")
	f.resource.line == 2
}
