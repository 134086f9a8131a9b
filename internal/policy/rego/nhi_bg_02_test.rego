package steward.rules.nhi_bg_02_test

import data.steward.rules.nhi_bg_02

identity := {"name": "billing-sync-prod", "location": {"file": "ids.yaml", "line": 3}}

elevation(patch) := object.union(
	{
		"id": "el-0123456789ab", "identity": "billing-sync-prod", "permissionSet": "Billing_Breakglass",
		"reason": "Repair invoices", "reference": "INC-4711", "requester": "lee@acme.com", "approver": "ana@acme.com",
		"state": "closed", "appliedAt": "2026-10-14T08:00:00Z", "expiresAt": "2026-10-14T10:00:00Z",
		"removedAt": "2026-10-14T10:00:05Z", "reviewDueAt": "2026-10-16T10:00:05Z",
	},
	patch,
)

eval(e) := fs if {
	fs := nhi_bg_02.finding with input as {"now": "2026-10-15T09:00:00Z", "identities": [identity], "elevations": [e]}
}

test_approved_and_reviewed_is_silent if {
	count(eval(elevation({}))) == 0
}

test_review_due_not_yet_is_silent if {
	count(eval(elevation({"state": "post_review_due"}))) == 0
}

test_self_approval_fires_high if {
	eval(elevation({"approver": "lee@acme.com"})) == {{
		"message": "Break-glass elevation el-0123456789ab of identity billing-sync-prod (Billing_Breakglass) was applied without approval by a second person (requested by lee@acme.com)",
		"severity": "high",
		"identity": "billing-sync-prod",
		"resource": {"kind": "Identity", "name": "billing-sync-prod", "file": "ids.yaml", "line": 3},
	}}
}

test_no_approver_fires if {
	some f in eval(json.remove(elevation({}), ["approver"]))
	f.severity == "high"
}

test_missing_reference_fires_medium if {
	some f in eval(elevation({"reference": ""}))
	f.severity == "medium"
	contains(f.message, "without an incident or change reference")
}

test_overdue_review_fires if {
	some f in eval(elevation({"state": "post_review_due", "reviewDueAt": "2026-10-15T08:00:00Z"}))
	contains(f.message, "post-use review was due at 2026-10-15T08:00:00Z and is not closed")
}

test_denied_request_is_silent if {
	count(eval({"id": "el-1", "identity": "billing-sync-prod", "permissionSet": "X", "requester": "lee@acme.com", "state": "denied"})) == 0
}
