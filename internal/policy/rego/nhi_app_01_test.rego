package steward.rules.nhi_app_01_test

import data.steward.rules.nhi_app_01

app(name, ids) := {
	"kind": "ExternalClientApp", "name": name, "identities": ids,
	"location": {"file": sprintf("eca/%s.eca-meta.xml", [name]), "line": 2},
	"locations": {"flows": {"file": sprintf("eca/%s.ecaOauthPlcy-meta.xml", [name]), "line": 4}},
}

identity(name, service, a) := {
	"name": name, "service": service,
	"salesforce": {"app": a},
	"location": {"file": "ids.yaml", "line": 1},
}

user(apps, ids) := {
	"username": "Sync.User@acme.com", "apps": apps, "identities": ids,
	"location": {"file": "ids.yaml", "line": 1},
}

test_one_app_one_user_one_service_is_silent if {
	fs := nhi_app_01.finding with input as {
		"apps": [app("Billing_Sync", ["billing-prod", "billing-uat"]), app("Orders_Sync", ["orders-prod"])],
		"identities": [
			identity("billing-prod", "billing", "Billing_Sync"),
			identity("billing-uat", "billing", "Billing_Sync"),
			identity("orders-prod", "orders", "Orders_Sync"),
		],
		"users": [user(["Billing_Sync"], ["billing-prod", "billing-uat"])],
	}
	count(fs) == 0
}

test_user_shared_by_two_apps_fires if {
	fs := nhi_app_01.finding with input as {
		"apps": [app("Billing_Sync", []), app("Orders_Sync", [])],
		"identities": [],
		"users": [user(["Billing_Sync", "Orders_Sync"], [])],
	}
	fs == {{
		"message": "Run-as user Sync.User@acme.com is used by 2 apps (Billing_Sync, Orders_Sync)",
		"identity": null,
		"resource": {"kind": "User", "name": "Sync.User@acme.com", "file": "ids.yaml", "line": 1},
	}}
}

test_user_declared_by_two_services_fires if {
	fs := nhi_app_01.finding with input as {
		"apps": [],
		"identities": [
			identity("billing-prod", "billing", "Billing_Sync"),
			identity("orders-prod", "orders", "Orders_Sync"),
		],
		"users": [user([], ["billing-prod", "orders-prod"])],
	}
	count(fs) == 1
	some f in fs
	f.message == "Run-as user Sync.User@acme.com is declared by identities of 2 services (billing, orders)"
	f.identity == null
}

test_user_of_one_service_in_two_identities_is_silent if {
	fs := nhi_app_01.finding with input as {
		"apps": [],
		"identities": [identity("billing-prod", "billing", ""), identity("billing-prod-eu", "billing", "")],
		"users": [user([], ["billing-prod", "billing-prod-eu"])],
	}
	count(fs) == 0
}

test_app_shared_by_two_services_fires if {
	fs := nhi_app_01.finding with input as {
		"apps": [app("Billing_Sync", ["billing-prod", "ledger-prod"])],
		"identities": [
			identity("billing-prod", "billing", "Billing_Sync"),
			identity("ledger-prod", "", "Billing_Sync"),
		],
		"users": [],
	}
	count(fs) == 1
	some f in fs
	f.message == "App Billing_Sync is named by identities of 2 services (billing, identity ledger-prod without a service)"
	f.resource.kind == "ExternalClientApp"
	f.resource.line == 4
}

test_shared_app_missing_from_metadata_points_at_an_identity if {
	fs := nhi_app_01.finding with input as {
		"apps": [],
		"identities": [
			identity("orders-prod", "orders", "Billing_Sync"),
			identity("billing-prod", "billing", "Billing_Sync"),
		],
		"users": [],
	}
	count(fs) == 1
	some f in fs
	f.resource.kind == "Identity"
	f.resource.name == "billing-prod"
}
