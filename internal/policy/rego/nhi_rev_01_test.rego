package steward.rules.nhi_rev_01_test

import data.steward.rules.nhi_rev_01

now := "2026-10-15T00:00:00Z"

identity(criticality, interval, last) := {
	"name": "billing-sync-prod", "lifecycle": "active", "criticality": criticality,
	"review": {"intervalDays": interval, "lastReviewed": last},
	"location": {"file": "ids.yaml", "line": 2},
}

eval(id) := fs if {
	fs := nhi_rev_01.finding with input as {"now": now, "identities": [id]}
}

test_recent_review_is_silent if {
	count(eval(identity("high", 90, "2026-09-30"))) == 0
}

test_yearly_review_of_low_identity_is_silent if {
	count(eval(identity("low", 365, "2026-01-10"))) == 0
}

test_no_review_fires if {
	fs := eval(identity("high", 90, ""))
	fs == {{
		"message": "Identity billing-sync-prod has no recorded review (review.lastReviewed is empty)",
		"severity": "medium",
		"identity": "billing-sync-prod",
		"resource": {"kind": "Identity", "name": "billing-sync-prod", "file": "ids.yaml", "line": 2},
	}}
}

test_overdue_review_is_medium if {
	# 2026-06-01 is 136 days before now: 46 days past 90.
	fs := eval(identity("medium", 90, "2026-06-01"))
	fs == {{
		"message": "Identity billing-sync-prod was last reviewed on 2026-06-01, 136 days ago: the review due every 90 days is 46 days overdue",
		"severity": "medium",
		"identity": "billing-sync-prod",
		"resource": {"kind": "Identity", "name": "billing-sync-prod", "file": "ids.yaml", "line": 2},
	}}
}

test_long_overdue_review_is_high if {
	fs := eval(identity("medium", 30, "2026-06-01"))
	some f in fs
	f.severity == "high"
}

test_high_identity_uses_at_most_90_days if {
	# Declared 180 days: reported, and the 90-day maximum makes it overdue.
	fs := eval(identity("critical", 180, "2026-06-01"))
	count(fs) == 2
	some f in fs
	f.message == "Identity billing-sync-prod declares a review every 180 days; critical identities are reviewed at least every 90 days"
}

test_interval_beyond_a_year_fires if {
	fs := eval(identity("low", 400, "2026-10-01"))
	some f in fs
	f.message == "Identity billing-sync-prod declares a review every 400 days; all identities are reviewed at least every 365 days"
}

test_retired_identity_is_silent if {
	id := object.union(identity("high", 90, ""), {"lifecycle": "retired"})
	count(eval(id)) == 0
}

test_review_due_on_the_last_day_is_in_time if {
	# 2026-07-17 is 90 days before now; 2026-07-16 is 91.
	count(eval(identity("high", 90, "2026-07-17"))) == 0
	some f in eval(identity("high", 90, "2026-07-16"))
	f.message == "Identity billing-sync-prod was last reviewed on 2026-07-16, 91 days ago: the review due every 90 days is 1 day overdue"
}

test_unknown_criticality_is_judged_in_detail if {
	count(eval(identity("urgent", 90, "2026-09-30"))) == 0
	some f in eval(identity("urgent", 90, "2026-06-01"))
	f.severity == "medium"
}

test_store_attestation_wins_over_the_declared_date if {
	# Declared long ago, attested in Steward two weeks before now.
	store := {"lastAttested": {"billing-sync-prod": "2026-10-01"}, "attestedChanges": {}, "open": {}}
	count(nhi_rev_01.finding) == 0 with input as {"now": now, "identities": [identity("high", 90, "2026-01-01")], "reviewStore": store}
}

test_old_store_attestation_fires_and_names_its_source if {
	store := {"lastAttested": {"billing-sync-prod": "2026-06-01"}, "attestedChanges": {}, "open": {"billing-sync-prod": 1}}
	fs := nhi_rev_01.finding with input as {"now": now, "identities": [identity("medium", 90, "2026-10-01")], "reviewStore": store}
	fs == {{
		"message": "Identity billing-sync-prod was last reviewed on 2026-06-01 (attested in Steward), 136 days ago: the review due every 90 days is 46 days overdue; 1 review item(s) open in Steward",
		"severity": "medium",
		"identity": "billing-sync-prod",
		"resource": {"kind": "Identity", "name": "billing-sync-prod", "file": "ids.yaml", "line": 2},
	}}
}

test_store_without_the_identity_falls_back_to_the_declared_date if {
	store := {"lastAttested": {"other": "2026-10-01"}, "attestedChanges": {}, "open": {}}
	count(nhi_rev_01.finding) == 1 with input as {"now": now, "identities": [identity("high", 90, "2026-06-01")], "reviewStore": store}
}
