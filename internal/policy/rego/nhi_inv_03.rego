# METADATA
# title: Identity lacks a documented purpose, service or criticality
# description: |
#   An identity's purpose and business service say why it exists, and its
#   criticality sets how often it is reviewed and rotated. Without them
#   nobody can judge whether its access is still needed.
# custom:
#   id: NHI-INV-03
#   severity: medium
#   controls:
#     - NIST CSF ID.AM-05
#     - NIST CSF GV.SC-04
#     - NIST CSF GV.RM-06
#     - CIS 5.5
#     - CIS 15.1
#     - CIS 15.3
#   remediation: |
#     Fill in spec.purpose (what the integration does, in a sentence),
#     spec.service (the business service it exists for) and spec.criticality
#     (critical, high, medium or low) in the Identity manifest.
package steward.rules.nhi_inv_03

import data.steward.lib

required := {"purpose", "service", "criticality"}

finding contains f if {
	some id in input.identities
	"" in [object.get(id, "purpose", ""), object.get(id, "service", ""), object.get(id, "criticality", "")]
	missing := {field | some field in required; object.get(id, field, "") == ""}
	f := {
		"message": sprintf("Identity %s does not declare %s", [id.name, lib.join_sorted(missing)]),
		"identity": id.name,
		"resource": lib.identity_resource(id),
	}
}
