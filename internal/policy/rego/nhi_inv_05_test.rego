package steward.rules.nhi_inv_05_test

import data.steward.rules.nhi_inv_05

now := "2026-10-15T09:00:00Z"

app(live) := {
	"kind": "ConnectedApp", "name": "ERP_Sync", "flows": {"clientCredentials": true},
	"identities": ["erp-sync-prod"], "location": {"file": "erp.connectedApp-meta.xml", "line": 2},
	"live": live,
}

identity(lifecycle) := {"name": "erp-sync-prod", "lifecycle": lifecycle, "salesforce": {"app": "ERP_Sync"}}

eval(live, lifecycle) := fs if {
	fs := nhi_inv_05.finding with input as {
		"now": now,
		"capabilities": {"live": true, "loginHistory": true},
		"identities": [identity(lifecycle)],
		"apps": [app(live)],
	}
}

test_recent_login_is_silent if {
	count(eval({"inOrg": true, "lastClientCredentialsLogin": "2026-10-14T22:00:00Z"}, "active")) == 0
}

test_login_45_days_ago_is_silent if {
	# 2026-08-31 is 45 days before now.
	count(eval({"inOrg": true, "lastClientCredentialsLogin": "2026-08-31T01:00:00Z"}, "active")) == 0
}

test_dormant_app_fires if {
	fs := eval({"inOrg": true, "lastClientCredentialsLogin": "2026-08-30T23:00:00Z", "created": "2025-01-01T00:00:00Z"}, "active")
	fs == {{
		"message": "Connected app ERP_Sync has not been used for 46 days (last client-credentials login or token use on 2026-08-30); dormant after 45",
		"identity": "erp-sync-prod",
		"resource": {"kind": "ConnectedApp", "name": "ERP_Sync", "file": "erp.connectedApp-meta.xml", "line": 2},
	}}
}

test_recent_token_use_or_api_requests_count_as_use if {
	old := {"inOrg": true, "lastClientCredentialsLogin": "2026-06-01T00:00:00Z"}
	count(eval(object.union(old, {"lastTokenUse": "2026-10-01T00:00:00Z"}), "active")) == 0
	count(eval(object.union(old, {"apiRequests": 12}), "active")) == 0
}

test_never_used_after_grace_fires if {
	some f in eval({"inOrg": true, "created": "2026-09-01T10:00:00Z"}, "active")
	f.message == "Connected app ERP_Sync was created on 2026-09-01, 44 days ago, and has never been used"
}

test_never_used_within_grace_is_silent if {
	count(eval({"inOrg": true, "created": "2026-10-05T10:00:00Z"}, "active")) == 0
}

test_retired_or_absent_app_is_silent if {
	count(eval({"inOrg": true, "created": "2025-01-01T00:00:00Z"}, "retired")) == 0
	count(eval({"inOrg": false, "created": "2025-01-01T00:00:00Z"}, "active")) == 0
}

test_needs_login_history if {
	fs := nhi_inv_05.finding with input as {
		"now": now,
		"capabilities": {"live": true, "loginHistory": false},
		"identities": [identity("active")],
		"apps": [app({"inOrg": true, "created": "2025-01-01T00:00:00Z"})],
	}
	count(fs) == 0
}
