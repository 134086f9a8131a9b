package steward.broker.custom.acme_test

import data.steward.broker

base := {
	"now": "2026-11-26T12:00:00Z",
	"workload": {
		"name": "https://token.actions.githubusercontent.com#repo:acme/billing:environment:prod",
		"method": "oidc",
		"issuer": "https://token.actions.githubusercontent.com",
		"subject": "repo:acme/billing:environment:prod",
		"environment": "production",
		"claims": {"ref": "refs/heads/main"},
	},
	"consumer": {"index": 0},
	"identity": {"name": "billing-sync-prod", "environment": "production", "lifecycle": "active"},
	"killed": false,
	"secret": {"graceEnds": ""},
	"review": {"graceEnds": ""},
	"findings": [],
}

test_main_branch_allowed if {
	d := broker.decision with input as base
	d.allow
}

test_other_branch_denied if {
	d := broker.decision with input as json.patch(base, [{"op": "replace", "path": "/workload/claims/ref", "value": "refs/heads/feature"}])
	not d.allow
	d.reasons == {{"code": "custom", "message": "production tokens are for the main branch only"}}
}

test_critical_finding_denied if {
	d := broker.decision with input as json.patch(base, [{"op": "add", "path": "/findings/-", "value": {"rule": "NHI-RUN-02", "severity": "critical", "message": "View All Data"}}])
	d.reasons == {{"code": "critical_finding", "message": "open critical finding NHI-RUN-02"}}
}
