package steward.rules.nhi_env_02_test

import data.steward.rules.nhi_env_02

identity(name, env) := {"name": name, "environment": env}

user(ids) := {"username": "Billing.Integration@acme.com", "identities": ids, "location": {"file": "ids.yaml", "line": 4}}

test_one_user_per_environment_is_silent if {
	fs := nhi_env_02.finding with input as {
		"users": [user(["billing-prod"]), object.union(user(["billing-uat"]), {"username": "billing.uat@acme.com"})],
		"identities": [identity("billing-prod", "production"), identity("billing-uat", "staging")],
	}
	count(fs) == 0
}

test_user_in_two_environments_fires if {
	fs := nhi_env_02.finding with input as {
		"users": [user(["billing-prod", "billing-uat"])],
		"identities": [identity("billing-prod", "production"), identity("billing-uat", "staging")],
	}
	fs == {{
		"message": "Run-as user Billing.Integration@acme.com is declared in 2 environments (production, staging) by identities billing-prod (production), billing-uat (staging)",
		"identity": null,
		"resource": {"kind": "User", "name": "Billing.Integration@acme.com", "file": "ids.yaml", "line": 4},
	}}
}

test_same_environment_is_silent if {
	fs := nhi_env_02.finding with input as {
		"users": [user(["billing-prod", "billing-prod-eu"])],
		"identities": [identity("billing-prod", "production"), identity("billing-prod-eu", "production")],
	}
	count(fs) == 0
}
