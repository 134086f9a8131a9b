package steward.rules.nhi_sec_04_test

import data.steward.rules.nhi_sec_04

identity := {"name": "billing-sync-prod", "location": {"file": "ids.yaml", "line": 3}}

secret(rotated) := {
	"name": "billing-sync-prod", "identities": ["billing-sync-prod"], "version": 2,
	"rotated": rotated, "rotatedOn": substring(rotated, 0, 10), "rotation": "idle", "readers": [],
}

elevation(seen, removed) := {
	"id": "el-0123456789ab", "identity": "billing-sync-prod", "permissionSet": "Billing_Breakglass",
	"state": "closed", "secretSeen": seen, "appliedAt": "2026-10-14T08:00:00Z", "removedAt": removed,
}

eval(e, s) := fs if {
	fs := nhi_sec_04.finding with input as {"identities": [identity], "elevations": [e], "secretStore": {"secrets": [s]}}
}

test_seen_and_not_rotated_fires if {
	eval(elevation(true, "2026-10-14T10:00:00Z"), secret("2026-10-01T10:00:00Z")) == {{
		"message": "A person saw the secret of identity billing-sync-prod during break-glass elevation el-0123456789ab, which ended at 2026-10-14T10:00:00Z; the active version 2 became active at 2026-10-01T10:00:00Z and must be rotated",
		"identity": "billing-sync-prod",
		"resource": {"kind": "Secret", "name": "billing-sync-prod", "file": "ids.yaml", "line": 3},
	}}
}

test_rotated_after_the_end_is_silent if {
	count(eval(elevation(true, "2026-10-14T10:00:00Z"), secret("2026-10-14T12:00:00Z"))) == 0
}

test_not_seen_is_silent if {
	count(eval(elevation(false, "2026-10-14T10:00:00Z"), secret("2026-10-01T10:00:00Z"))) == 0
}

test_still_active_is_silent if {
	e := json.remove(elevation(true, ""), ["removedAt"])
	count(eval(e, secret("2026-10-01T10:00:00Z"))) == 0
}
