package steward.rules.nhi_inv_02_test

import data.steward.rules.nhi_inv_02

identity(name, owner) := {"name": name, "owner": owner, "location": {"file": "inventory/identities.yaml", "line": 3}}

team := {
	"name": "finance-platform", "members": ["ana@acme.com"], "backup": "sec-oncall@acme.com",
	"location": {"file": "inventory/teams.yaml", "line": 1},
}

test_well_owned_identity_is_silent if {
	fs := nhi_inv_02.finding with input as {"identities": [identity("billing-sync-prod", "finance-platform")], "teams": [team]}
	count(fs) == 0
}

test_missing_owner_fires if {
	fs := nhi_inv_02.finding with input as {"identities": [identity("billing-sync-prod", "")], "teams": [team]}
	fs == {{
		"message": "Identity billing-sync-prod has no owner",
		"identity": "billing-sync-prod",
		"resource": {"kind": "Identity", "name": "billing-sync-prod", "file": "inventory/identities.yaml", "line": 3},
	}}
}

test_person_owner_fires if {
	fs := nhi_inv_02.finding with input as {"identities": [identity("billing-sync-prod", "ana@acme.com")], "teams": [team]}
	count(fs) == 1
	some f in fs
	f.message == "Identity billing-sync-prod is owned by ana@acme.com, a person; the owner must be a team"
	not f.severity
}

test_undefined_team_fires if {
	fs := nhi_inv_02.finding with input as {"identities": [identity("billing-sync-prod", "payments")], "teams": [team]}
	count(fs) == 1
	some f in fs
	f.message == "Identity billing-sync-prod is owned by team payments, which no Team manifest defines"
}

test_team_without_members_fires_once_on_the_team if {
	empty := object.union(team, {"members": []})
	ids := [identity("billing-sync-prod", "finance-platform"), identity("billing-sync-uat", "finance-platform")]
	fs := nhi_inv_02.finding with input as {"identities": ids, "teams": [empty]}
	count(fs) == 1
	some f in fs
	f.message == "Team finance-platform owns 2 identities (billing-sync-prod, billing-sync-uat) but has no members"
	f.identity == null
	f.resource.kind == "Team"
	f.resource.line == 1
}

test_team_without_backup_is_medium if {
	nobackup := object.union(team, {"backup": ""})
	fs := nhi_inv_02.finding with input as {"identities": [identity("billing-sync-prod", "finance-platform")], "teams": [nobackup]}
	count(fs) == 1
	some f in fs
	f.severity == "medium"
	f.identity == "billing-sync-prod"
	f.message == "Team finance-platform owns identity billing-sync-prod but names no backup contact"
}

test_team_owning_nothing_is_silent if {
	empty := {"name": "idle", "members": [], "backup": ""}
	fs := nhi_inv_02.finding with input as {"identities": [identity("billing-sync-prod", "finance-platform")], "teams": [team, empty]}
	count(fs) == 0
}
