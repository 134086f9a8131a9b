package steward.rules.nhi_env_01_test

import data.steward.rules.nhi_env_01

identity(name, env, a, secret) := {
	"name": name, "environment": env,
	"salesforce": {"app": a},
	"credential": {"secretRef": secret},
	"location": {"file": sprintf("%s.yaml", [name]), "line": 1},
}

app(name, fp) := {
	"kind": "ExternalClientApp", "name": name, "consumerKeyFingerprint": fp, "identities": [],
	"location": {"file": sprintf("%s.eca-meta.xml", [name]), "line": 2},
	"locations": {"flows": {"file": sprintf("%s.ecaOauthPlcy-meta.xml", [name]), "line": 4}},
}

test_separate_environments_are_silent if {
	fs := nhi_env_01.finding with input as {
		"apps": [app("Billing_Sync", "aa"), app("Billing_Sync_UAT", "bb")],
		"identities": [
			identity("billing-prod", "production", "Billing_Sync", "sf/billing-prod"),
			identity("billing-uat", "staging", "Billing_Sync_UAT", "sf/billing-uat"),
		],
	}
	count(fs) == 0
}

test_same_app_in_two_environments_is_critical if {
	fs := nhi_env_01.finding with input as {
		"apps": [object.union(app("Billing_Sync", ""), {"identities": ["billing-prod", "billing-uat"]})],
		"identities": [
			identity("billing-prod", "production", "Billing_Sync", "sf/billing-prod"),
			identity("billing-uat", "sandbox", "Billing_Sync", "sf/billing-uat"),
		],
	}
	fs == {{
		"message": "App Billing_Sync is used in 2 environments (production, sandbox) by identities billing-prod (production), billing-uat (sandbox)",
		"identity": null,
		"resource": {"kind": "ExternalClientApp", "name": "Billing_Sync", "file": "Billing_Sync.ecaOauthPlcy-meta.xml", "line": 4},
	}}
}

test_same_consumer_key_in_two_environments_fires if {
	fs := nhi_env_01.finding with input as {
		"apps": [app("Billing_Sync", "0123abcd"), app("Billing_Sync_UAT", "0123abcd")],
		"identities": [
			identity("billing-prod", "production", "Billing_Sync", "sf/billing-prod"),
			identity("billing-uat", "sandbox", "Billing_Sync_UAT", "sf/billing-uat"),
		],
	}
	count(fs) == 1
	some f in fs
	f.message == "Apps Billing_Sync, Billing_Sync_UAT share one consumer key (fingerprint 0123abcd) across 2 environments (production, sandbox), used by identities billing-prod (production), billing-uat (sandbox)"
	f.resource == {"kind": "ExternalClientApp", "name": "Billing_Sync", "file": "Billing_Sync.eca-meta.xml", "line": 2}
}

test_same_consumer_key_in_one_environment_is_silent if {
	fs := nhi_env_01.finding with input as {
		"apps": [app("Billing_Sync", "0123abcd"), app("Billing_Sync_2", "0123abcd")],
		"identities": [
			identity("billing-prod", "production", "Billing_Sync", "sf/billing-prod"),
			identity("billing-prod-2", "production", "Billing_Sync_2", "sf/billing-prod-2"),
		],
	}
	count(fs) == 0
}

test_same_secret_in_two_environments_fires if {
	fs := nhi_env_01.finding with input as {
		"apps": [],
		"identities": [
			identity("billing-uat", "sandbox", "Billing_Sync_UAT", "sf/billing"),
			identity("billing-prod", "production", "Billing_Sync", "sf/billing"),
		],
	}
	fs == {{
		"message": "Secret sf/billing is used in 2 environments (production, sandbox) by identities billing-prod (production), billing-uat (sandbox)",
		"identity": null,
		"resource": {"kind": "Secret", "name": "sf/billing", "file": "billing-prod.yaml", "line": 1},
	}}
}

test_missing_environment_is_not_an_environment if {
	fs := nhi_env_01.finding with input as {
		"apps": [],
		"identities": [
			identity("billing-prod", "production", "Billing_Sync", "sf/billing"),
			identity("billing-new", "", "Billing_Sync", "sf/billing"),
		],
	}
	count(fs) == 0
}
