# METADATA
# title: AI agent identity shares its app, run-as user or secret
# description: |
#   An AI agent acts through its own non-human identity, so that every
#   Salesforce action it takes is attributable to the agent, its owner and
#   its task, and it can be cut off alone. An agent identity (spec.agent
#   true) that shares its app, run-as user or secret with any other identity
#   is indistinguishable from it.
# custom:
#   id: NHI-AGT-01
#   severity: high
#   controls:
#     - OWASP NHI9:2025
#     - OWASP NHI10:2025
#     - NIST CSF PR.AA-01
#     - NIST CSF PR.AA-02
#   remediation: |
#     Give the agent its own External Client App, its own integration user
#     and its own secret, and declare them in an Identity used by no other
#     workload.
package steward.rules.nhi_agt_01

import data.steward.lib

finding contains f if {
	some id in input.identities
	id.agent == true

	# The identities that share each of the agent's app, run-as user and
	# secret. Each comprehension is indexed on its key the first time an
	# agent reaches it, so each costs one pass over the identities at most.
	app := id.salesforce.app
	by_app := [other.name | some other in input.identities; other.salesforce.app = app]
	runas := lower(id.salesforce.runAs)
	by_runas := [other.name | some other in input.identities; lower(other.salesforce.runAs) = runas]
	secret := id.credential.secretRef
	by_secret := [other.name | some other in input.identities; other.credential.secretRef = secret]

	shared := [s |
		some [what, value, names] in [
			["app", id.salesforce.app, by_app],
			["run-as user", id.salesforce.runAs, by_runas],
			["secret", id.credential.secretRef, by_secret],
		]
		value != ""
		others := {name | some name in names; name != id.name}
		count(others) > 0
		s := sprintf("%s %s with %s", [what, value, lib.short_list(others)])
	]
	count(shared) > 0
	f := {
		"message": sprintf("Agent identity %s shares %s", [id.name, concat("; ", shared)]),
		"identity": id.name,
		"resource": lib.identity_resource(id),
	}
}
