package steward.rules.nhi_sec_03_test

import data.steward.rules.nhi_sec_03

identity := {
	"name": "billing-sync-prod",
	"location": {"file": "ids.yaml", "line": 3},
	"consumers": [
		{"oidcIssuer": "https://token.actions.githubusercontent.com", "oidcSubject": "repo:acme/billing:environment:prod"},
		{"spiffe": "spiffe://acme.org/ns/billing/sa/sync"},
	],
}

secret(identities, readers) := {
	"name": "billing-sync-prod", "identities": identities, "version": 2,
	"rotatedOn": "2026-10-01", "rotation": "idle", "readers": readers,
}

reader(kind, id) := {"kind": kind, "id": id, "count": 3, "last": "2026-10-14T08:00:00Z"}

eval(s) := fs if {
	fs := nhi_sec_03.finding with input as {"identities": [identity], "secretStore": {"secrets": [s]}}
}

test_consumer_workloads_are_silent if {
	count(eval(secret(["billing-sync-prod"], [
		reader("workload", "spiffe://acme.org/ns/billing/sa/sync"),
		reader("workload", "https://token.actions.githubusercontent.com#repo:acme/billing:environment:prod"),
	]))) == 0
}

test_human_read_fires if {
	fs := eval(secret(["billing-sync-prod"], [object.union(reader("human", "ana@acme.com"), {"count": 1})]))
	fs == {{
		"message": "human ana@acme.com read the secret of identity billing-sync-prod (version 2) once, last at 2026-10-14T08:00:00Z; only the identity's workloads may read it, through the broker",
		"identity": "billing-sync-prod",
		"resource": {"kind": "Secret", "name": "billing-sync-prod", "file": "ids.yaml", "line": 3},
	}}
}

test_other_workload_fires if {
	fs := eval(secret(["billing-sync-prod"], [reader("workload", "spiffe://acme.org/ns/marketing/sa/sync")]))
	some f in fs
	contains(f.message, "workload spiffe://acme.org/ns/marketing/sa/sync read the secret of identity billing-sync-prod (version 2) 3 times")
}

test_human_named_like_a_workload_fires if {
	count(eval(secret(["billing-sync-prod"], [reader("human", "spiffe://acme.org/ns/billing/sa/sync")]))) == 1
}

test_unbound_secret_read_fires_without_identity if {
	fs := eval(secret([], [reader("workload", "spiffe://acme.org/ns/billing/sa/sync")]))
	some f in fs
	f.identity == null
	f.resource == {"kind": "Secret", "name": "billing-sync-prod", "file": "", "line": 0}
}

test_unread_secret_is_silent if {
	count(eval(secret(["billing-sync-prod"], []))) == 0
}
