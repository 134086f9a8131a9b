# METADATA
# title: Run-as user shared across environments
# description: |
#   Each environment has its own run-as users. A username declared by a
#   production identity and a non-production one means either that a
#   sandbox workload acts as a production user, or that the inventory mixes
#   up orgs; either way one environment's compromise reaches the other.
#   Identities with no environment are left to NHI-ENV-03.
# custom:
#   id: NHI-ENV-02
#   severity: high
#   controls:
#     - OWASP NHI8:2025
#     - NIST CSF PR.IR-01
#     - NIST CSF PR.AA-05
#   remediation: |
#     Create a separate integration user in each environment's org, declare
#     each in the Identity of that environment, and restrict the production
#     user's login IP ranges to production egress addresses.
package steward.rules.nhi_env_02

import data.steward.lib

finding contains f if {
	some user in input.users
	user.identities[1] != false
	ids := lib.identities_named(user.identities)
	envs := {id.environment | some id in ids; id.environment != ""}
	count(envs) > 1
	f := {
		"message": sprintf("Run-as user %s is declared in %d environments (%s) by identities %s", [user.username, count(envs), lib.join_sorted(envs), lib.names_with_environments(ids)]),
		"identity": null,
		"resource": lib.user_resource(user),
	}
}
