package steward.rules.nhi_inv_04_test

import data.steward.rules.nhi_inv_04

identity(name, owner) := {"name": name, "owner": owner, "lifecycle": "active", "location": {"file": "inventory/identities.yaml", "line": 3}}

team := {
	"name": "finance-platform", "members": ["ana@acme.com", "raj@acme.com"], "backup": "sec-oncall@acme.com",
	"location": {"file": "inventory/teams.yaml", "line": 1},
}

row(member, role, status, since) := {"team": "finance-platform", "member": member, "role": role, "status": status, "email": sprintf("%s@acme.com", [member]), "since": since}

doc(ids, teams, roster) := {
	"now": "2026-11-20T09:00:00Z",
	"capabilities": {"roster": true},
	"identities": ids, "teams": teams, "roster": {"members": roster},
}

manifest_only(ids, teams) := {"now": "2026-11-20T09:00:00Z", "capabilities": {}, "identities": ids, "teams": teams}

test_active_team_is_silent if {
	fs := nhi_inv_04.finding with input as doc([identity("billing-sync-prod", "finance-platform")], [team], [
		row("ana", "owner", "active", ""),
		row("raj", "member", "departed", "2026-11-01"),
	])
	count(fs) == 0
}

test_manifest_team_with_members_is_silent_without_roster if {
	fs := nhi_inv_04.finding with input as manifest_only([identity("billing-sync-prod", "finance-platform")], [team])
	count(fs) == 0
}

test_manifest_team_emptied_fires_without_roster if {
	empty := object.union(team, {"members": []})
	fs := nhi_inv_04.finding with input as manifest_only([identity("billing-sync-prod", "finance-platform")], [empty])
	fs == {{
		"message": "Identity billing-sync-prod: team finance-platform has no members; transfer it to an active team or decommission it, and rotate its secret",
		"identity": "billing-sync-prod",
		"resource": {"kind": "Team", "name": "finance-platform", "file": "inventory/teams.yaml", "line": 1},
	}}
}

test_all_members_departed_fires_with_due_date if {
	fs := nhi_inv_04.finding with input as doc([identity("billing-sync-prod", "finance-platform")], [team], [
		row("ana", "owner", "departed", "2026-11-10"),
		row("raj", "member", "departed", "2026-11-12"),
		row("sec-oncall", "backup", "active", ""),
	])
	count(fs) == 1
	some f in fs
	f.message == "Identity billing-sync-prod: team finance-platform has no active members left (departed: ana, raj); transfer it to an active team or decommission it, and rotate its secret (due 2026-11-26)"
	not f.severity
	f.resource.kind == "Team"
}

test_overdue_task_is_critical if {
	fs := nhi_inv_04.finding with input as doc([identity("billing-sync-prod", "finance-platform")], [team], [
		row("ana", "owner", "departed", "2026-10-01"),
		row("raj", "member", "departed", "2026-10-20"),
	])
	count(fs) == 1
	some f in fs
	f.severity == "critical"
	endswith(f.message, "(overdue: due 2026-11-03, 14 days after the departure)")
}

test_person_who_left_the_organisation_counts_as_departed_everywhere if {
	# raj is listed only as departed, in another team: he left.
	other := {"team": "payments", "member": "raj", "role": "member", "status": "departed", "email": "raj@acme.com", "since": "2026-11-15"}
	fs := nhi_inv_04.finding with input as doc([identity("billing-sync-prod", "finance-platform")], [object.union(team, {"members": ["raj@acme.com"]})], [other])
	count(fs) == 1
	some f in fs
	contains(f.message, "team finance-platform has no active members left (departed: raj@acme.com)")
	contains(f.message, "(due 2026-11-29)")
}

test_person_active_elsewhere_is_not_gone if {
	moved := [
		{"team": "payments", "member": "raj", "role": "member", "status": "departed", "email": "raj@acme.com", "since": "2026-11-15"},
		{"team": "billing", "member": "raj", "role": "member", "status": "active", "email": "raj@acme.com"},
	]
	fs := nhi_inv_04.finding with input as doc([identity("billing-sync-prod", "finance-platform")], [object.union(team, {"members": ["raj@acme.com"]})], moved)
	count(fs) == 0
}

test_departed_backup_fires if {
	fs := nhi_inv_04.finding with input as doc([identity("billing-sync-prod", "finance-platform")], [team], [
		row("ana", "owner", "active", ""),
		row("sec-oncall", "backup", "departed", "2026-11-18"),
	])
	count(fs) == 1
	some f in fs
	f.message == "Identity billing-sync-prod: backup contact sec-oncall@acme.com of team finance-platform departed on 2026-11-18; transfer it to an active team or decommission it, and rotate its secret (due 2026-12-02)"
}

test_deleted_team_fires_only_with_roster if {
	ids := [identity("billing-sync-prod", "ledger")]
	fs := nhi_inv_04.finding with input as doc(ids, [team], [row("ana", "owner", "active", "")])
	count(fs) == 1
	some f in fs
	f.message == "Identity billing-sync-prod: team ledger is in no Team manifest and no longer in the imported roster; transfer it to an active team or decommission it, and rotate its secret"
	f.resource.kind == "Identity"
	count(nhi_inv_04.finding) == 0 with input as manifest_only(ids, [team])
}

test_team_only_in_roster_is_judged_on_the_roster if {
	ids := [identity("ledger-sync", "ledger")]
	rows := [{"team": "ledger", "member": "kim", "role": "owner", "status": "departed", "since": "2026-11-19"}]
	fs := nhi_inv_04.finding with input as doc(ids, [], rows)
	count(fs) == 1
	some f in fs
	contains(f.message, "team ledger has no active members left (departed: kim)")
}

test_retired_identity_is_left_to_decommissioning if {
	retired := object.union(identity("billing-sync-prod", "finance-platform"), {"lifecycle": "retired"})
	fs := nhi_inv_04.finding with input as doc([retired], [team], [
		row("ana", "owner", "departed", "2026-11-10"),
		row("raj", "member", "departed", "2026-11-12"),
	])
	count(fs) == 0
}

test_one_task_per_identity if {
	ids := [identity("billing-sync-prod", "finance-platform"), identity("billing-sync-uat", "finance-platform")]
	fs := nhi_inv_04.finding with input as doc(ids, [object.union(team, {"members": []})], [])
	{f.identity | some f in fs} == {"billing-sync-prod", "billing-sync-uat"}
}
