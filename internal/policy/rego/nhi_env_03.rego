# METADATA
# title: Identity environment missing or contradicted by its org
# description: |
#   Every identity says which environment it belongs to, and the org its
#   URL points at must agree: a production identity bound to a sandbox org
#   is mislabelled, and a non-production identity bound to the production
#   org gives a non-production workload production access (high).
#
#   The org kind comes from the My Domain suffix of spec.salesforce.url; an
#   unknown or missing URL is not judged.
# custom:
#   id: NHI-ENV-03
#   severity: medium
#   controls:
#     - OWASP NHI8:2025
#     - NIST CSF ID.AM-02
#     - NIST CSF PR.PS-01
#   remediation: |
#     Set spec.environment (production, staging, sandbox or development) on
#     the Identity, and point spec.salesforce.url at the org of that
#     environment; give a non-production workload its own sandbox org and
#     credentials.
package steward.rules.nhi_env_03

import data.steward.lib

non_production_orgs := {"sandbox", "developer", "scratch"}

# The org kinds each environment may point at; "unknown" and "" (no URL)
# are not judged.
expected_orgs := {
	"production": {"production", "unknown", ""},
	"staging": {"sandbox", "developer", "scratch", "unknown", ""},
	"sandbox": {"sandbox", "developer", "scratch", "unknown", ""},
	"development": {"sandbox", "developer", "scratch", "unknown", ""},
}

finding contains f if {
	some id in input.identities
	not id.salesforce.orgKind in object.get(expected_orgs, id.environment, set())
	some problem in problems(id)
	f := {
		"message": problem.message,
		"severity": problem.severity,
		"identity": id.name,
		"resource": lib.identity_resource(id),
	}
}

problems(id) := [p |
	some p in [missing_environment(id), mislabelled_production(id), production_access(id)]
	p != null
]

missing_environment(id) := {
	"message": sprintf("Identity %s declares no environment", [id.name]),
	"severity": "medium",
} if {
	id.environment == ""
} else := null

mislabelled_production(id) := {
	"message": sprintf("Identity %s is labelled production, but its org %s is a %s org", [id.name, id.salesforce.url, id.salesforce.orgKind]),
	"severity": "medium",
} if {
	lib.production(id)
	id.salesforce.orgKind in non_production_orgs
} else := null

production_access(id) := {
	"message": sprintf("Identity %s is labelled %s, but its org %s is a production org: a non-production workload holds production access", [id.name, id.environment, id.salesforce.url]),
	"severity": "high",
} if {
	id.salesforce.orgKind == "production"
	not lib.production(id)
	id.environment != ""
} else := null
