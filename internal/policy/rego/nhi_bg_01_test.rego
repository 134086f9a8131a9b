package steward.rules.nhi_bg_01_test

import data.steward.rules.nhi_bg_01

identity := {"name": "billing-sync-prod", "location": {"file": "ids.yaml", "line": 3}}

elevation(patch) := object.union(
	{
		"id": "el-0123456789ab", "identity": "billing-sync-prod", "permissionSet": "Billing_Breakglass",
		"reference": "INC-4711", "state": "post_review_due", "maxDurationSeconds": 14400,
		"appliedAt": "2026-10-14T08:00:00Z", "expiresAt": "2026-10-14T10:00:00Z", "removedAt": "2026-10-14T10:00:05Z",
	},
	patch,
)

eval(e) := fs if {
	fs := nhi_bg_01.finding with input as {"now": "2026-10-15T09:00:00Z", "identities": [identity], "elevations": [e]}
}

test_removed_within_cap_is_silent if {
	count(eval(elevation({}))) == 0
}

test_requested_only_is_silent if {
	count(eval({"id": "el-1", "identity": "billing-sync-prod", "permissionSet": "X", "reference": "R", "state": "requested", "maxDurationSeconds": 14400})) == 0
}

test_no_expiry_fires if {
	e := json.remove(elevation({}), ["expiresAt"])
	eval(e) == {{
		"message": "Break-glass elevation el-0123456789ab of identity billing-sync-prod (Billing_Breakglass, INC-4711) was applied at 2026-10-14T08:00:00Z with no expiry",
		"identity": "billing-sync-prod",
		"resource": {"kind": "Identity", "name": "billing-sync-prod", "file": "ids.yaml", "line": 3},
	}}
}

test_beyond_cap_fires if {
	some f in eval(elevation({"expiresAt": "2026-10-17T08:00:00Z"}))
	contains(f.message, "72h, beyond its cap of 4h")
}

test_beyond_hard_cap_with_a_larger_recorded_cap if {
	some f in eval(elevation({"maxDurationSeconds": 259200, "expiresAt": "2026-10-16T08:00:00Z"}))
	contains(f.message, "beyond its cap of 24h")
}

test_active_past_expiry_fires if {
	some f in eval(elevation({"state": "active", "removedAt": ""}))
	contains(f.message, "Steward's automatic removal has not happened")
}

test_active_within_grace_is_silent if {
	fs := nhi_bg_01.finding with input as {
		"now": "2026-10-14T10:10:00Z", "identities": [identity],
		"elevations": [elevation({"state": "active"})],
	}
	count(fs) == 0
}

test_unknown_identity_reports_null if {
	fs := nhi_bg_01.finding with input as {"now": "2026-10-15T09:00:00Z", "identities": [], "elevations": [json.remove(elevation({}), ["expiresAt"])]}
	some f in fs
	f.identity == null
	f.resource.name == "billing-sync-prod"
}
