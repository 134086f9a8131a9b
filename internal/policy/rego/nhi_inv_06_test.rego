package steward.rules.nhi_inv_06_test

import data.steward.rules.nhi_inv_06

identity(name, lifecycle) := {
	"name": name, "lifecycle": lifecycle,
	"salesforce": {"app": "ERP_Sync", "runAs": "erp@acme.com"},
	"location": {"file": "erp.yaml", "line": 1},
}

app(live) := {"kind": "ConnectedApp", "name": "ERP_Sync", "flows": {"clientCredentials": false}, "identities": ["erp-sync-prod"], "live": live}

user(active) := {"username": "erp@acme.com", "identities": ["erp-sync-prod"], "apps": ["ERP_Sync"], "live": {"active": active}}

eval(ids, a, u) := fs if {
	fs := nhi_inv_06.finding with input as {
		"now": "2026-10-03T09:00:00Z",
		"capabilities": {"live": true},
		"identities": ids,
		"apps": [a],
		"users": [u],
	}
}

test_decommissioned_is_silent if {
	count(eval([identity("erp-sync-prod", "retired")], app({"inOrg": false}), user(false))) == 0
}

test_active_identity_is_silent if {
	count(eval([identity("erp-sync-prod", "active")], app({"inOrg": true, "tokens": 3}), user(true))) == 0
}

test_tokens_logins_and_user_fire if {
	live := {"inOrg": true, "tokens": 3, "clientCredentialsLogins": 7, "lastClientCredentialsLogin": "2026-10-01T08:00:00Z"}
	fs := eval([identity("erp-sync-prod", "retired")], app(live), user(true))
	fs == {{
		"message": "Identity erp-sync-prod is retired, but Connected app ERP_Sync holds 3 OAuth tokens, still logs in by client credentials (last on 2026-10-01); run-as user erp@acme.com is still active",
		"identity": "erp-sync-prod",
		"resource": {"kind": "Identity", "name": "erp-sync-prod", "file": "erp.yaml", "line": 1},
	}}
}

test_enabled_flow_fires if {
	a := object.union(app({"inOrg": true}), {"flows": {"clientCredentials": true}})
	some f in eval([identity("erp-sync-prod", "retired")], a, user(false))
	f.message == "Identity erp-sync-prod is retired, but Connected app ERP_Sync still has the client-credentials flow enabled"
}

test_user_shared_with_active_identity_is_left_to_it if {
	ids := [identity("erp-sync-prod", "retired"), identity("erp-sync-prod-v2", "active")]
	u := object.union(user(true), {"identities": ["erp-sync-prod", "erp-sync-prod-v2"]})
	a := object.union(app({"inOrg": true, "tokens": 1}), {"identities": ["erp-sync-prod", "erp-sync-prod-v2"]})
	count(eval(ids, a, u)) == 0
}

test_old_logins_are_history if {
	live := {"inOrg": true, "tokens": 0, "clientCredentialsLogins": 7, "lastClientCredentialsLogin": "2026-09-20T08:00:00Z"}
	count(eval([identity("erp-sync-prod", "retired")], app(live), user(false))) == 0
}
