package steward.rules.nhi_sec_01_test

import data.steward.rules.nhi_sec_01

app := {
	"kind": "ExternalClientApp", "name": "Billing_Sync",
	"consumerSecretInRepo": false, "globalOAuthInRepo": false,
	"location": {"file": "eca.xml", "line": 1},
	"locations": {
		"consumerSecret": {"file": "glbl.xml", "line": 7},
		"globalOAuth": {"file": "glbl.xml", "line": 2},
	},
}

identity := {
	"name": "billing-sync-prod", "lifecycle": "active",
	"salesforce": {"app": "Billing_Sync"},
	"credential": {"secretRef": "billing-sync-prod", "inlineValue": false},
	"location": {"file": "ids.yaml", "line": 3},
}

test_reference_and_clean_metadata_are_silent if {
	fs := nhi_sec_01.finding with input as {"apps": [app], "identities": [identity]}
	count(fs) == 0
}

test_committed_secret_is_critical if {
	a := object.union(app, {"consumerSecretInRepo": true, "globalOAuthInRepo": true})
	fs := nhi_sec_01.finding with input as {"apps": [a], "identities": [identity]}
	fs == {{
		"message": "External Client App Billing_Sync has its consumer secret committed in a metadata file",
		"identity": "billing-sync-prod",
		"resource": {"kind": "ExternalClientApp", "name": "Billing_Sync", "file": "glbl.xml", "line": 7},
	}}
}

test_global_oauth_file_is_high if {
	a := object.union(app, {"globalOAuthInRepo": true})
	fs := nhi_sec_01.finding with input as {"apps": [a], "identities": []}
	count(fs) == 1
	some f in fs
	f.severity == "high"
	f.identity == null
	f.resource.line == 2
}

test_inline_value_is_critical if {
	id := object.union(identity, {"credential": {"secretRef": "", "inlineValue": true}})
	fs := nhi_sec_01.finding with input as {"apps": [app], "identities": [id]}
	fs == {{
		"message": "Identity billing-sync-prod holds what looks like a secret value in spec.credential.secret instead of the name of a secret in the store",
		"identity": "billing-sync-prod",
		"resource": {"kind": "Identity", "name": "billing-sync-prod", "file": "ids.yaml", "line": 3},
	}}
}

test_missing_reference_is_low if {
	id := object.union(identity, {"credential": {"secretRef": ""}})
	fs := nhi_sec_01.finding with input as {"apps": [app], "identities": [id]}
	count(fs) == 1
	some f in fs
	f.severity == "low"
}

test_retired_identity_without_reference_is_silent if {
	id := object.union(identity, {"lifecycle": "retired", "credential": {"secretRef": ""}})
	fs := nhi_sec_01.finding with input as {"apps": [app], "identities": [id]}
	count(fs) == 0
}
