package steward.rules.nhi_env_03_test

import data.steward.rules.nhi_env_03

identity(env, url, kind) := {
	"name": "billing-sync", "environment": env,
	"salesforce": {"url": url, "orgKind": kind},
	"location": {"file": "ids.yaml", "line": 2},
}

test_production_on_production_org_is_silent if {
	fs := nhi_env_03.finding with input as {"identities": [identity("production", "https://acme.my.salesforce.com", "production")]}
	count(fs) == 0
}

test_sandbox_on_sandbox_org_is_silent if {
	fs := nhi_env_03.finding with input as {"identities": [identity("sandbox", "https://acme--uat.sandbox.my.salesforce.com", "sandbox")]}
	count(fs) == 0
}

test_unknown_org_is_silent if {
	fs := nhi_env_03.finding with input as {"identities": [identity("staging", "https://example.com", "unknown")]}
	count(fs) == 0
}

test_missing_environment_fires if {
	fs := nhi_env_03.finding with input as {"identities": [identity("", "", "")]}
	fs == {{
		"message": "Identity billing-sync declares no environment",
		"severity": "medium",
		"identity": "billing-sync",
		"resource": {"kind": "Identity", "name": "billing-sync", "file": "ids.yaml", "line": 2},
	}}
}

test_production_on_sandbox_org_is_medium if {
	fs := nhi_env_03.finding with input as {"identities": [identity("production", "https://acme--uat.sandbox.my.salesforce.com", "sandbox")]}
	count(fs) == 1
	some f in fs
	f.message == "Identity billing-sync is labelled production, but its org https://acme--uat.sandbox.my.salesforce.com is a sandbox org"
	f.severity == "medium"
}

test_staging_on_production_org_is_high if {
	fs := nhi_env_03.finding with input as {"identities": [identity("staging", "https://acme.my.salesforce.com", "production")]}
	count(fs) == 1
	some f in fs
	f.severity == "high"
	f.message == "Identity billing-sync is labelled staging, but its org https://acme.my.salesforce.com is a production org: a non-production workload holds production access"
}

test_missing_environment_on_production_org_fires_once if {
	fs := nhi_env_03.finding with input as {"identities": [identity("", "https://acme.my.salesforce.com", "production")]}
	count(fs) == 1
	some f in fs
	f.message == "Identity billing-sync declares no environment"
}
