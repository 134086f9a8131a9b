package steward.broker_test

import data.steward.broker

good := {
	"now": "2026-11-26T12:00:00Z",
	"workload": {
		"name": "https://token.actions.githubusercontent.com#repo:acme/billing:environment:prod",
		"method": "oidc",
		"issuer": "https://token.actions.githubusercontent.com",
		"subject": "repo:acme/billing:environment:prod",
		"environment": "production",
	},
	"consumer": {
		"index": 0,
		"oidcIssuer": "https://token.actions.githubusercontent.com",
		"oidcSubject": "repo:acme/billing:environment:prod",
	},
	"identity": {
		"name": "billing-sync-prod",
		"environment": "production",
		"lifecycle": "active",
	},
	"killed": false,
	"secret": {"rotationDeadline": "2026-12-30T00:00:00Z", "graceEnds": "2027-01-06T00:00:00Z"},
	"review": {"due": "2026-12-29T00:00:00Z", "graceEnds": "2027-01-28T00:00:00Z"},
	"findings": [],
	"settings": {"denyFindings": []},
}

decide(patch) := d if {
	d := broker.decision with input as json.patch(good, patch)
}

codes(d) := {r.code | some r in d.reasons}

test_allow if {
	d := decide([])
	d.allow
	d.reasons == set()
}

test_killed if {
	d := decide([{"op": "replace", "path": "/killed", "value": true}])
	not d.allow
	codes(d) == {"identity_killed"}
}

test_retired if {
	codes(decide([{"op": "replace", "path": "/identity/lifecycle", "value": "retired"}])) == {"identity_retired"}
}

test_environment_mismatch if {
	d := decide([{"op": "replace", "path": "/workload/environment", "value": "staging"}])
	codes(d) == {"environment_mismatch"}
	some r in d.reasons
	contains(r.message, "runs in staging but identity billing-sync-prod is for production")
}

test_environment_empty if {
	codes(decide([{"op": "replace", "path": "/workload/environment", "value": ""}])) == {"environment_mismatch"}
}

test_environment_missing_denies if {
	codes(decide([{"op": "remove", "path": "/workload/environment"}])) == {"environment_mismatch"}
}

test_not_a_consumer if {
	codes(decide([{"op": "remove", "path": "/consumer"}])) == {"consumer_not_allowed"}
}

test_review_overdue_beyond_grace if {
	codes(decide([{"op": "replace", "path": "/review/graceEnds", "value": "2026-11-26T11:59:59Z"}])) == {"review_overdue"}
}

test_review_grace_ends_now_allows if {
	decide([{"op": "replace", "path": "/review/graceEnds", "value": "2026-11-26T12:00:00Z"}]).allow
}

test_review_without_due_date_allows if {
	decide([{"op": "replace", "path": "/review", "value": {"due": "", "graceEnds": ""}}]).allow
}

test_rotation_overdue_beyond_grace if {
	codes(decide([{"op": "replace", "path": "/secret/graceEnds", "value": "2026-11-01T00:00:00Z"}])) == {"secret_rotation_overdue"}
}

test_rotation_without_deadline_allows if {
	decide([{"op": "replace", "path": "/secret", "value": {"rotationDeadline": "", "graceEnds": ""}}]).allow
}

test_custom_reasons_join if {
	d := broker.decision with input as good
		with data.steward.broker.custom.acme.deny as {"plain message", {"code": "acme_rule", "message": "structured"}}
	not d.allow
	d.reasons == {{"code": "custom", "message": "plain message"}, {"code": "acme_rule", "message": "structured"}}
}

test_reasons_accumulate if {
	d := decide([
		{"op": "replace", "path": "/killed", "value": true},
		{"op": "replace", "path": "/identity/lifecycle", "value": "retired"},
		{"op": "remove", "path": "/consumer"},
	])
	codes(d) == {"identity_killed", "identity_retired", "consumer_not_allowed"}
}

critical_finding := [{"op": "replace", "path": "/findings", "value": [
	{"rule": "NHI-SEC-01", "severity": "critical", "message": "the manifest holds the consumer secret"},
	{"rule": "NHI-OWN-02", "severity": "low", "message": "no backup owner"},
]}]

test_findings_allowed_by_default if {
	decide(critical_finding).allow
}

test_finding_denied_by_rule_id if {
	d := decide(array.concat(critical_finding, [{"op": "replace", "path": "/settings/denyFindings", "value": ["NHI-SEC-01"]}]))
	codes(d) == {"open_finding"}
	count(d.reasons) == 1
	some r in d.reasons
	r.message == "identity billing-sync-prod has an open critical finding NHI-SEC-01: the manifest holds the consumer secret"
}

test_finding_denied_by_severity if {
	d := decide(array.concat(critical_finding, [{"op": "replace", "path": "/settings/denyFindings", "value": ["low", "high"]}]))
	codes(d) == {"open_finding"}
	count(d.reasons) == 1
	some r in d.reasons
	contains(r.message, "NHI-OWN-02")
}

test_finding_not_listed if {
	decide(array.concat(critical_finding, [{"op": "replace", "path": "/settings/denyFindings", "value": ["NHI-REV-01", "high"]}])).allow
}
