package steward.lib_test

import data.steward.lib

now := "2026-10-15T23:30:00-05:00"

test_dates_are_utc_calendar_days if {
	# 23:30 at UTC-5 is 04:30 on the 16th in UTC.
	lib.today == "2026-10-16" with input as {"now": now}
	lib.days_since("2026-10-01") == 15 with input as {"now": now}
	lib.days_until("2026-10-20") == 4 with input as {"now": now}
	lib.date_before(15) == "2026-10-01" with input as {"now": now}
}

test_date_before_agrees_with_days_since if {
	every n in [0, 1, 29, 90, 365] {
		d := lib.date_before(n) with input as {"now": now}
		lib.days_since(d) == n with input as {"now": now}
	}
}

test_only if {
	lib.only(["a"]) == "a"
	lib.only(["a", "a"]) == "a"
	lib.only(["a", "b"]) == null
	lib.only([]) == null
}

test_short_list if {
	lib.short_list({"c", "a", "b"}) == "a, b, c"
	lib.short_list({"a", "b", "c", "d", "e", "f", "g"}) == "a, b, c, d, e and 2 more"
}

test_max_severity if {
	lib.max_severity({"low", "critical", "medium"}) == "critical"
	lib.max_severity(["low"]) == "low"
}

test_indexes_group_and_keep_the_first_of_a_name if {
	ids := [
		{"name": "a", "salesforce": {"app": "App", "runAs": "U@x.com"}, "credential": {"secretRef": "s"}, "n": 1},
		{"name": "b", "salesforce": {"app": "App", "runAs": "u@X.com"}, "credential": {"secretRef": ""}},
		{"name": "a", "salesforce": {"app": "", "runAs": ""}, "credential": {"secretRef": "s"}, "n": 2},
	]
	[x.name | some x in lib.identities_by_app.App] == ["a", "b"] with input as {"identities": ids}
	count(lib.identities_by_runas["u@x.com"]) == 2 with input as {"identities": ids}
	count(lib.identities_by_secret.s) == 2 with input as {"identities": ids}
	lib.identity_by_name.a.n == 1 with input as {"identities": ids}
	not lib.identities_by_app[""] with input as {"identities": ids}
}

test_user_by_name_ignores_case if {
	users := [{"username": "Ana@X.com", "n": 1}, {"username": "ana@x.com", "n": 2}, {"username": "raj@x.com"}]
	lib.user_by_name["ana@x.com"].n == 1 with input as {"users": users}
	lib.user_by_name["raj@x.com"].username == "raj@x.com" with input as {"users": users}
}

test_cc_apps_include_half_enabled if {
	apps := [
		{"name": "a", "flows": {"clientCredentials": true, "clientCredentialsPartial": false}},
		{"name": "b", "flows": {"clientCredentials": false, "clientCredentialsPartial": true}},
		{"name": "c", "flows": {"clientCredentials": false, "clientCredentialsPartial": false}},
	]
	{app.name | some app in lib.cc_apps} == {"a", "b"} with input as {"apps": apps}
}

test_multi_identity_apps_cover_apps_missing_from_metadata if {
	apps := [{"name": "Shared", "identities": ["a", "b"]}, {"name": "Own", "identities": ["c"]}]
	ids := [
		{"name": "a", "salesforce": {"app": "Shared"}},
		{"name": "b", "salesforce": {"app": "Shared"}},
		{"name": "c", "salesforce": {"app": "Own"}},
		{"name": "d", "salesforce": {"app": "Orphan"}},
		{"name": "e", "salesforce": {"app": "Orphan"}},
		{"name": "f", "salesforce": {"app": "Lonely"}},
	]
	lib.multi_identity_apps == {"Shared": ["a", "b"], "Orphan": ["d", "e"]} with input as {"apps": apps, "identities": ids}
}

test_app_identity_uses_the_join_or_finds_it if {
	lib.app_identity({"name": "A", "identities": ["a"]}) == "a"
	lib.app_identity({"name": "A", "identities": ["a", "b"]}) == null
	lib.app_identity({"name": "A"}) == "a" with input as {"identities": [{"name": "a", "salesforce": {"app": "A"}}]}
	lib.user_identity({"username": "U@x.com"}) == "a" with input as {"identities": [{"name": "a", "salesforce": {"runAs": "u@x.com"}}]}
}

test_resources_fall_back_to_the_record_location if {
	app := {"kind": "ConnectedApp", "name": "A", "location": {"file": "a.xml", "line": 2}, "locations": {"scopes": {"file": "a.xml", "line": 9}}}
	lib.app_resource(app, "scopes") == {"kind": "ConnectedApp", "name": "A", "file": "a.xml", "line": 9}
	lib.app_resource(app, "ipRelaxation") == {"kind": "ConnectedApp", "name": "A", "file": "a.xml", "line": 2}
	lib.app_resource({"kind": "ExternalClientApp", "name": "B"}, "flows") == {"kind": "ExternalClientApp", "name": "B", "file": "", "line": 0}
	lib.identity_resource({"name": "i", "location": {"file": "i.yaml"}}) == {"kind": "Identity", "name": "i", "file": "i.yaml", "line": 0}
	lib.app_label(app) == "Connected app"
	lib.kind_label("ExternalClientApp") == "External Client App"
	lib.kind_label("SomethingNew") == "SomethingNew"
	lib.app_resource({"kind": "ConnectedApp", "name": "A", "locations": null}, "flows") == {"kind": "ConnectedApp", "name": "A", "file": "", "line": 0}
}

test_last_reviewed_prefers_the_store if {
	id := {"name": "a", "review": {"lastReviewed": "2026-01-01"}}
	lib.last_reviewed(id) == "2026-01-01"
	lib.last_reviewed(id) == "2026-01-01" with input as {"reviewStore": {"lastAttested": null}}
	lib.last_reviewed(id) == "2026-01-01" with input as {"reviewStore": {"lastAttested": {"b": "2026-09-01"}}}
	lib.last_reviewed(id) == "2026-09-01" with input as {"reviewStore": {"lastAttested": {"a": "2026-09-01"}}}
}

test_count_text if {
	lib.count_text(1, "OAuth token") == "1 OAuth token"
	lib.count_text(3, "token") == "3 tokens"
	lib.count_text(0, "token") == "0 tokens"
}
