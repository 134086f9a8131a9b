package steward.rules.nhi_mon_03_test

import data.steward.rules.nhi_mon_03

now := "2026-10-15T09:00:00Z"

loader := {
	"name": "Data Loader", "sources": ["OauthToken", "LoginHistory"], "users": ["sales.rep@acme.com"],
	"tokens": 3, "lastUsed": "2026-10-14T22:10:00Z", "app": "", "identities": [],
}

erp := {"name": "ERP_Sync", "app": "ERP_Sync", "sources": ["LoginHistory"], "users": ["erp@acme.com"], "tokens": 0, "identities": ["erp-sync-prod"]}

base := {
	"now": now,
	"capabilities": {"live": true},
	"identities": [{"name": "erp-sync-prod", "salesforce": {"app": "ERP_Sync", "runAs": "erp@acme.com"}}],
	"users": [{"username": "erp@acme.com", "identities": ["erp-sync-prod"]}],
	"exceptions": [],
}

eval(apps, exceptions) := fs if {
	fs := nhi_mon_03.finding with input as object.union(base, {"oauthApps": apps, "exceptions": exceptions})
}

test_covered_app_is_silent if {
	count(eval([erp], [])) == 0

	# Covered by name even when the snapshot did not join it.
	count(eval([object.union(erp, {"identities": []})], [])) == 0
}

test_unmanaged_app_fires if {
	fs := eval([erp, loader], [])
	fs == {{
		"message": "OAuth app Data Loader is in use (seen in LoginHistory, OauthToken, 3 tokens, users sales.rep@acme.com, last used 2026-10-14) but no inventoried identity covers it",
		"identity": null,
		"resource": {"kind": "OAuthApp", "name": "Data Loader", "file": "", "line": 0},
	}}
}

test_app_authorised_by_a_run_as_user_names_its_identity if {
	some f in eval([object.union(loader, {"users": ["erp@acme.com"]})], [])
	f.identity == "erp-sync-prod"
}

test_null_lists_from_the_org_still_fire if {
	bare := {"name": "Data Loader", "sources": null, "users": null, "tokens": 0, "app": "", "identities": null}
	fs := eval([bare], [])
	fs == {{
		"message": "OAuth app Data Loader is in use but no inventoried identity covers it",
		"identity": null,
		"resource": {"kind": "OAuthApp", "name": "Data Loader", "file": "", "line": 0},
	}}
}
