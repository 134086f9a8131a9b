package steward.rules.nhi_sec_02_test

import data.steward.rules.nhi_sec_02

now := "2026-10-15T09:30:00Z"

identity(rotated, days) := {
	"name": "billing-sync-prod", "lifecycle": "active", "criticality": "high", "vendor": "",
	"credential": {"secretRef": "salesforce/billing-sync-prod", "rotationDays": days, "rotatedAt": rotated},
	"location": {"file": "ids.yaml", "line": 3},
}

eval(id) := fs if {
	fs := nhi_sec_02.finding with input as {"now": now, "identities": [id]}
}

test_fresh_secret_is_silent if {
	count(eval(identity("2026-10-01", 90))) == 0
}

test_unknown_rotation_date_is_silent if {
	count(eval(identity("", 90))) == 0
}

test_overdue_secret_is_medium if {
	# 2026-06-01 is 136 days before 2026-10-15.
	fs := eval(identity("2026-06-01", 90))
	fs == {{
		"message": "The secret of identity billing-sync-prod was last rotated on 2026-06-01, 136 days ago: 46 days past its 90-day rotation period",
		"severity": "medium",
		"identity": "billing-sync-prod",
		"resource": {"kind": "Secret", "name": "salesforce/billing-sync-prod", "file": "ids.yaml", "line": 3},
	}}
}

test_default_period_applies if {
	fs := eval(identity("2026-06-01", 0))
	some f in fs
	f.severity == "medium"
}

test_twice_overdue_is_high if {
	fs := eval(identity("2026-06-01", 60))
	some f in fs
	f.severity == "high"
}

test_near_due_is_low if {
	# 2026-08-10 is 66 days before: past 80% of 80 days (64).
	fs := eval(identity("2026-08-10", 80))
	fs == {{
		"message": "The secret of identity billing-sync-prod was last rotated on 2026-08-10, 66 days ago: rotation is due in 14 days (period 80 days)",
		"severity": "low",
		"identity": "billing-sync-prod",
		"resource": {"kind": "Secret", "name": "salesforce/billing-sync-prod", "file": "ids.yaml", "line": 3},
	}}
}

test_retired_identity_is_silent if {
	id := object.union(identity("2020-01-01", 90), {"lifecycle": "retired"})
	count(eval(id)) == 0
}

test_critical_identity_with_long_period_fires if {
	id := object.union(identity("2026-10-10", 0), {"criticality": "critical", "vendor": "Acme Analytics"})
	fs := eval(id)
	fs == {{
		"message": "Identity billing-sync-prod is critical and operated by vendor Acme Analytics, so its secret must rotate within 30 days, but its rotation period is 90 days (the default)",
		"severity": "low",
		"identity": "billing-sync-prod",
		"resource": {"kind": "Secret", "name": "salesforce/billing-sync-prod", "file": "ids.yaml", "line": 3},
	}}
}

test_vendor_identity_with_30_days_is_silent if {
	id := object.union(identity("2026-10-10", 30), {"vendor": "Acme Analytics"})
	count(eval(id)) == 0
}

test_warning_starts_at_80_percent if {
	# 72 days (80% of 90) before now warns; 71 days does not.
	some f in eval(identity("2026-08-04", 90))
	f.severity == "low"
	count(eval(identity("2026-08-05", 90))) == 0
}

test_overdue_starts_after_the_period if {
	# 2026-07-17 is 90 days before now; 2026-07-16 is 91.
	some f in eval(identity("2026-07-17", 90))
	f.message == "The secret of identity billing-sync-prod was last rotated on 2026-07-17, 90 days ago: rotation is due today (period 90 days)"
	some g in eval(identity("2026-07-16", 90))
	g.severity == "medium"
	g.message == "The secret of identity billing-sync-prod was last rotated on 2026-07-16, 91 days ago: 1 day past its 90-day rotation period"
}

store_secret(rotated_on) := {
	"name": "salesforce/billing-sync-prod", "identities": ["billing-sync-prod"], "version": 4,
	"rotatedOn": rotated_on, "rotation": "idle", "readers": [],
}

eval_with_store(id, secret) := fs if {
	fs := nhi_sec_02.finding with input as {"now": now, "identities": [id], "secretStore": {"secrets": [secret]}}
}

test_store_record_wins_over_an_old_declared_date if {
	count(eval_with_store(identity("2026-01-01", 90), store_secret("2026-10-01"))) == 0
}

test_store_record_wins_over_a_fresh_declared_date if {
	fs := eval_with_store(identity("2026-10-10", 90), store_secret("2026-06-01"))
	fs == {{
		"message": "The secret of identity billing-sync-prod (version 4 in Steward's secret store) was last rotated on 2026-06-01, 136 days ago: 46 days past its 90-day rotation period",
		"severity": "medium",
		"identity": "billing-sync-prod",
		"resource": {"kind": "Secret", "name": "salesforce/billing-sync-prod", "file": "ids.yaml", "line": 3},
	}}
}

test_store_record_judges_an_identity_without_a_declared_date if {
	some f in eval_with_store(identity("", 90), store_secret("2026-06-01"))
	f.severity == "medium"
}

test_store_without_an_active_version_falls_back_to_the_declared_date if {
	some f in eval_with_store(identity("2026-06-01", 90), store_secret(""))
	startswith(f.message, "The secret of identity billing-sync-prod was last rotated on 2026-06-01")
}

test_store_secret_of_another_identity_is_ignored if {
	other := object.union(store_secret("2026-01-01"), {"identities": ["other-prod"]})
	count(eval_with_store(identity("2026-10-01", 90), other)) == 0
}
