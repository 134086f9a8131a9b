package steward.rules.nhi_rev_03_test

import data.steward.rules.nhi_rev_03

now := "2026-10-15T23:30:00-05:00"

exception := {
	"name": "billing-viewall-2026q4", "identity": "billing-sync-prod", "rule": "NHI-RUN-02",
	"reason": "Month-end reconciliation", "approvedBy": "ciso@acme.com", "expires": "2026-12-31",
	"compensatingControls": ["ip-restriction", "30-day-rotation"],
	"location": {"file": "exceptions.yaml", "line": 12},
}

eval(x) := fs if {
	fs := nhi_rev_03.finding with input as {"now": now, "exceptions": [x], "identities": [{"name": "billing-sync-prod"}]}
}

test_complete_exception_is_silent if {
	count(eval(exception)) == 0
}

test_expired_exception_is_high if {
	# now is 2026-10-16 in UTC.
	fs := eval(object.union(exception, {"expires": "2026-10-15"}))
	fs == {{
		"message": "Exception billing-viewall-2026q4 (NHI-RUN-02 for identity billing-sync-prod) expired on 2026-10-15 and no longer accepts findings",
		"severity": "high",
		"identity": "billing-sync-prod",
		"resource": {"kind": "Identity", "name": "billing-sync-prod", "file": "exceptions.yaml", "line": 12},
	}}
}

test_exception_expiring_today_is_silent if {
	count(eval(object.union(exception, {"expires": "2026-10-16"}))) == 0
}

test_every_problem_is_listed if {
	x := object.union(exception, {"expires": "", "approvedBy": "", "reason": " ", "compensatingControls": ["monitoring"], "identity": "ghost"})
	fs := nhi_rev_03.finding with input as {"now": now, "exceptions": [x], "identities": []}
	fs == {{
		"message": "Exception billing-viewall-2026q4 (NHI-RUN-02 for identity ghost) has no expiry date, so it accepts nothing; names no approver; gives no reason; lists 1 compensating controls, fewer than 2; names an identity no Identity manifest defines",
		"severity": "medium",
		"identity": "ghost",
		"resource": {"kind": "Identity", "name": "ghost", "file": "exceptions.yaml", "line": 12},
	}}
}

test_exception_for_this_rule_fires if {
	fs := eval(object.union(exception, {"rule": "NHI-REV-03"}))
	some f in fs
	contains(f.message, "targets NHI-REV-03")
}

test_exception_for_a_resource_names_no_identity if {
	x := {
		"name": "data-loader-human-use", "identity": "", "resource": "Data Loader", "rule": "NHI-MON-03",
		"reason": "Analysts", "approvedBy": "ciso@acme.com", "expires": "2020-01-31",
		"compensatingControls": ["a", "b"], "location": {"file": "x.yaml", "line": 3},
	}
	fs := data.steward.rules.nhi_rev_03.finding with input as {"exceptions": [x], "identities": [], "now": "2026-10-14T00:00:00Z"}
	fs == {{
		"message": "Exception data-loader-human-use (NHI-MON-03 for resource Data Loader) expired on 2020-01-31 and no longer accepts findings",
		"severity": "high",
		"identity": null,
		"resource": {"kind": "Exception", "name": "data-loader-human-use", "file": "x.yaml", "line": 3},
	}}
}
