package steward.rules.nhi_inv_03_test

import data.steward.rules.nhi_inv_03

identity := {
	"name": "billing-sync-prod", "service": "billing-sync", "criticality": "high",
	"purpose": "Push invoice status to Opportunity", "location": {"file": "ids.yaml", "line": 7},
}

test_documented_identity_is_silent if {
	fs := nhi_inv_03.finding with input as {"identities": [identity]}
	count(fs) == 0
}

test_missing_fields_are_listed_in_one_finding if {
	id := object.union(identity, {"purpose": "", "criticality": ""})
	fs := nhi_inv_03.finding with input as {"identities": [id]}
	fs == {{
		"message": "Identity billing-sync-prod does not declare criticality, purpose",
		"identity": "billing-sync-prod",
		"resource": {"kind": "Identity", "name": "billing-sync-prod", "file": "ids.yaml", "line": 7},
	}}
}

test_absent_field_counts_as_missing if {
	id := object.remove(identity, ["service"])
	fs := nhi_inv_03.finding with input as {"identities": [id]}
	some f in fs
	f.message == "Identity billing-sync-prod does not declare service"
}
