package steward.rules.nhi_rev_02_test

import data.steward.rules.nhi_rev_02

identity(lifecycle) := {
	"name": "erp-sync-prod", "lifecycle": lifecycle,
	"salesforce": {"app": "ERP_Sync", "runAs": "erp@acme.com"},
	"review": {"intervalDays": 90, "lastReviewed": "2026-09-30"},
	"location": {"file": "erp.yaml", "line": 1},
}

eval(lifecycle, extra) := fs if {
	fs := nhi_rev_02.finding with input as object.union(
		{"capabilities": {"live": true}, "identities": [identity(lifecycle)]},
		extra,
	)
}

change(kind, resource, subject, field, before, after) := {
	"kind": kind, "resource": resource, "subject": subject,
	"field": field, "before": before, "after": after,
}

test_no_change_is_silent if {
	count(eval("active", {})) == 0
}

test_expansions_fire_once_per_identity if {
	fs := eval("active", {"expansions": [
		change("widened", "App", "ERP_Sync", "ipRelaxation", "ENFORCE", "BYPASS"),
		change("widened", "User", "ERP@acme.com", "permissionSets", "", "Reporting"),
		change("widened", "App", "Other_App", "scopes", "", "full"),
	]})
	fs == {{
		"message": "Identity erp-sync-prod gained access since the baseline: app ERP_Sync ipRelaxation ENFORCE → BYPASS, user ERP@acme.com permissionSets +Reporting",
		"identity": "erp-sync-prod",
		"resource": {"kind": "Identity", "name": "erp-sync-prod", "file": "erp.yaml", "line": 1},
	}}
}

test_narrowing_and_retired_are_silent if {
	count(eval("active", {"expansions": [change("narrowed", "App", "ERP_Sync", "scopes", "full", "")]})) == 0
	count(eval("retired", {"expansions": [change("widened", "App", "ERP_Sync", "scopes", "", "full")]})) == 0
}

setup(time, app, user) := {"time": time, "action": "changedRunAs", "section": "Connected Apps", "display": "Changed Run As user of ERP Sync", "by": "admin@acme.com", "app": app, "user": user}

test_setup_change_after_review_fires if {
	fs := eval("active", {"setupChanges": [
		setup("2026-10-02T10:00:00Z", "ERP_Sync", ""),
		setup("2026-09-30T10:00:00Z", "ERP_Sync", ""),
		setup("2026-10-03T10:00:00Z", "Other_App", ""),
	]})
	fs == {{
		"message": "Identity erp-sync-prod: its app ERP_Sync or run-as user erp@acme.com changed in Setup after its last review (2026-09-30): 2026-10-02 Changed Run As user of ERP Sync (by admin@acme.com)",
		"identity": "erp-sync-prod",
		"resource": {"kind": "Identity", "name": "erp-sync-prod", "file": "erp.yaml", "line": 1},
	}}
}

test_setup_change_to_run_as_user_counts if {
	some f in eval("active", {"setupChanges": [setup("2026-10-05T10:00:00Z", "", "erp@acme.com")]})
	f.identity == "erp-sync-prod"
}

test_setup_change_before_review_is_silent if {
	count(eval("active", {"setupChanges": [setup("2026-09-01T10:00:00Z", "ERP_Sync", "")]})) == 0
}

test_attested_expansions_are_silent if {
	scope := change("widened", "App", "ERP_Sync", "scopes", "", "full")
	perm := change("widened", "User", "ERP@acme.com", "permissionSets", "", "Reporting")
	store := {"lastAttested": {"erp-sync-prod": "2026-09-30"}, "open": {}, "attestedChanges": {"erp-sync-prod": ["App|ERP_Sync|scopes|widened||full"]}}

	# Only the permission set is left to review.
	fs := eval("active", {"expansions": [scope, perm], "reviewStore": store})
	fs == {{
		"message": "Identity erp-sync-prod gained access since the baseline: user ERP@acme.com permissionSets +Reporting",
		"identity": "erp-sync-prod",
		"resource": {"kind": "Identity", "name": "erp-sync-prod", "file": "erp.yaml", "line": 1},
	}}

	# Both attested: silent.
	both := {"lastAttested": {}, "open": {}, "attestedChanges": {"erp-sync-prod": ["App|ERP_Sync|scopes|widened||full", "User|ERP@acme.com|permissionSets|widened||Reporting"]}}
	count(eval("active", {"expansions": [scope, perm], "reviewStore": both})) == 0
}

test_setup_change_before_store_attestation_is_silent if {
	store := {"lastAttested": {"erp-sync-prod": "2026-10-05"}, "open": {}, "attestedChanges": {}}
	count(eval("active", {"setupChanges": [setup("2026-10-02T10:00:00Z", "ERP_Sync", "")], "reviewStore": store})) == 0
	count(eval("active", {"setupChanges": [setup("2026-10-06T10:00:00Z", "ERP_Sync", "")], "reviewStore": store})) == 1
}
