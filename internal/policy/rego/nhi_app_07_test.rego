package steward.rules.nhi_app_07_test

import data.steward.rules.nhi_app_07

identity := {
	"name": "billing-sync-prod", "lifecycle": "active", "criticality": "high", "vendor": "",
	"salesforce": {"app": "Billing_Sync"}, "location": {"file": "ids.yaml", "line": 4},
}

app(kind) := {"kind": kind, "name": "Billing_Sync", "location": {"file": "app.xml", "line": 2}, "locations": {}}

test_eca_is_silent if {
	fs := nhi_app_07.finding with input as {"apps": [app("ExternalClientApp")], "identities": [identity]}
	count(fs) == 0
}

test_connected_app_fires_low if {
	fs := nhi_app_07.finding with input as {"apps": [app("ConnectedApp")], "identities": [identity]}
	fs == {{
		"message": "Identity billing-sync-prod uses connected app Billing_Sync; connected-app creation is restricted since Spring '26, and integrations should move to External Client Apps",
		"identity": "billing-sync-prod",
		"resource": {"kind": "ConnectedApp", "name": "Billing_Sync", "file": "app.xml", "line": 2},
	}}
}

test_retired_identity_on_connected_app_is_silent if {
	id := object.union(identity, {"lifecycle": "retired"})
	fs := nhi_app_07.finding with input as {"apps": [app("ConnectedApp")], "identities": [id]}
	count(fs) == 0
}

test_connected_app_beside_an_eca_of_the_same_name_is_silent if {
	fs := nhi_app_07.finding with input as {"apps": [app("ConnectedApp"), app("ExternalClientApp")], "identities": [identity]}
	count(fs) == 0
}

test_vendor_below_high_fires_medium if {
	id := object.union(identity, {"vendor": "Acme Analytics", "criticality": "medium"})
	fs := nhi_app_07.finding with input as {"apps": [app("ExternalClientApp")], "identities": [id]}
	fs == {{
		"message": "Identity billing-sync-prod is operated by vendor Acme Analytics but classified criticality medium; third-party apps are classified critical until due diligence",
		"severity": "medium",
		"identity": "billing-sync-prod",
		"resource": {"kind": "Identity", "name": "billing-sync-prod", "file": "ids.yaml", "line": 4},
	}}
}

test_unclassified_vendor_fires if {
	id := object.union(identity, {"vendor": "Acme Analytics", "criticality": ""})
	fs := nhi_app_07.finding with input as {"apps": [], "identities": [id]}
	some f in fs
	contains(f.message, "classified with no criticality")
}

test_critical_vendor_is_silent if {
	id := object.union(identity, {"vendor": "Acme Analytics", "criticality": "critical"})
	fs := nhi_app_07.finding with input as {"apps": [], "identities": [id]}
	count(fs) == 0
}
