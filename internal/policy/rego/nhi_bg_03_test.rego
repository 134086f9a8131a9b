package steward.rules.nhi_bg_03_test

import data.steward.rules.nhi_bg_03

identity := {"name": "billing-sync-prod", "location": {"file": "ids.yaml", "line": 3}}

use(n, applied) := {
	"id": sprintf("el-%d", [n]), "identity": "billing-sync-prod", "permissionSet": "Billing_Breakglass",
	"state": "closed", "appliedAt": applied,
}

eval(es) := fs if {
	fs := nhi_bg_03.finding with input as {"now": "2026-10-15T09:00:00Z", "identities": [identity], "elevations": es}
}

test_three_uses_are_silent if {
	count(eval([use(1, "2026-10-01T08:00:00Z"), use(2, "2026-10-05T08:00:00Z"), use(3, "2026-10-10T08:00:00Z")])) == 0
}

test_four_uses_fire if {
	eval([
		use(1, "2026-09-01T08:00:00Z"), use(2, "2026-10-01T08:00:00Z"),
		use(3, "2026-10-05T08:00:00Z"), use(4, "2026-10-10T08:00:00Z"),
	]) == {{
		"message": "Identity billing-sync-prod was elevated 4 times in the last 90 days (Billing_Breakglass), more than 3: break-glass is turning into standing access",
		"identity": "billing-sync-prod",
		"resource": {"kind": "Identity", "name": "billing-sync-prod", "file": "ids.yaml", "line": 3},
	}}
}

test_old_uses_do_not_count if {
	count(eval([
		use(1, "2026-05-01T08:00:00Z"), use(2, "2026-10-01T08:00:00Z"),
		use(3, "2026-10-05T08:00:00Z"), use(4, "2026-10-10T08:00:00Z"),
	])) == 0
}

test_requests_never_applied_do_not_count if {
	count(eval([
		use(1, "2026-10-01T08:00:00Z"), use(2, "2026-10-02T08:00:00Z"), use(3, "2026-10-03T08:00:00Z"),
		json.remove(use(4, ""), ["appliedAt"]),
	])) == 0
}
