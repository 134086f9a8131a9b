package steward.rules.nhi_run_04_test

import data.steward.rules.nhi_run_04

cc := {
	"loginType": "Remote Access 2.0", "loginSubType": "OAuth Client Credentials", "application": "ERP_Sync",
	"count": 120, "last": "2026-10-14T08:00:00Z", "sourceIps": ["203.0.113.10"],
}

user(logins, apps) := {
	"username": "erp@acme.com", "identities": ["erp-sync-prod"], "apps": apps,
	"location": {"file": "erp.yaml", "line": 1},
	"live": {"active": true, "logins": logins},
}

eval(u) := fs if {
	fs := nhi_run_04.finding with input as {"capabilities": {"live": true}, "users": [u]}
}

test_client_credentials_only_is_silent if {
	api_name := object.union(cc, {"loginSubType": "OauthClientCredentials"})
	count(eval(user([cc, api_name], ["ERP_Sync"]))) == 0
}

test_ui_and_refresh_logins_fire if {
	ui := {"loginType": "Application", "loginSubType": "UsernamePasswordUiLogin", "application": "Browser", "count": 2, "last": "2026-10-10T09:30:00Z", "sourceIps": ["198.51.100.7"]}
	refresh := {"loginType": "Remote Access 2.0", "loginSubType": "OAuth Refresh Token", "application": "Data Loader", "count": 1, "last": "2026-10-11T10:00:00Z", "sourceIps": []}
	fs := eval(user([cc, ui, refresh], ["ERP_Sync"]))
	fs == {{
		"message": "Run-as user erp@acme.com logged in other than by client credentials: Application / UsernamePasswordUiLogin via Browser, 2×, last 2026-10-10 from 198.51.100.7; Remote Access 2.0 / OAuth Refresh Token via Data Loader, 1×, last 2026-10-11",
		"identity": "erp-sync-prod",
		"resource": {"kind": "User", "name": "erp@acme.com", "file": "erp.yaml", "line": 1},
	}}
}

test_user_of_no_integration_is_silent if {
	ui := {"loginType": "Application", "loginSubType": "", "application": "", "count": 2, "last": "2026-10-10T09:30:00Z", "sourceIps": []}
	u := object.union(user([ui], []), {"identities": []})
	count(eval(u)) == 0
}

test_offline_is_silent if {
	ui := {"loginType": "Application", "loginSubType": "", "application": "", "count": 2, "last": "", "sourceIps": []}
	fs := nhi_run_04.finding with input as {"capabilities": {"live": false}, "users": [user([ui], ["ERP_Sync"])]}
	count(fs) == 0
}

test_org_user_without_apps_list_is_judged_by_identities if {
	ui := {"loginType": "Application", "loginSubType": "", "application": "", "count": 1, "last": "", "sourceIps": null}
	some f in eval(object.union(user([ui], []), {"apps": null}))
	f.message == "Run-as user erp@acme.com logged in other than by client credentials: Application, 1×"
}
