# METADATA
# title: Secret not rotated after a person saw it
# description: |
#   When a person sees an identity's secret, whoever saw it may keep a copy:
#   the secret must be rotated. Steward records it on a break-glass
#   elevation (steward elevate approve or close --secret-seen). Reported
#   when such an elevation has ended and the identity's active secret
#   version in Steward's store became active before the elevation ended.
#   The other rotation triggers of the control (owner change, vendor
#   incident, leak, decommissioning) are reported by their own rules.
# custom:
#   id: NHI-SEC-04
#   severity: high
#   requires:
#     - secretStore
#   controls:
#     - OWASP NHI1:2025
#     - OWASP NHI2:2025
#     - NIST 800-53 IA-5
#     - NIST CSF RS.MI-01
#   remediation: |
#     Rotate the secret now: generate a new consumer secret for the app in
#     Salesforce and run steward secret rotate IDENTITY with it, then
#     remove the old secret in Salesforce. The finding clears once the
#     active version is newer than the elevation's end.
package steward.rules.nhi_sec_04

import data.steward.lib

finding contains f if {
	some e in input.elevations
	e.secretSeen
	ended := object.get(e, "removedAt", "")
	ended != ""
	some s in input.secretStore.secrets
	e.identity in s.identities
	rotated := object.get(s, "rotated", "")
	not rotated_after(rotated, ended)
	id := lib.identity_by_name[e.identity]
	f := {
		"message": sprintf("A person saw the secret of identity %s during break-glass elevation %s, which ended at %s; the active version %d became active %s and must be rotated", [e.identity, e.id, ended, s.version, since(rotated)]),
		"identity": id.name,
		"resource": {
			"kind": "Secret",
			"name": s.name,
			"file": object.get(id, ["location", "file"], ""),
			"line": object.get(id, ["location", "line"], 0),
		},
	}
}

rotated_after(rotated, ended) if {
	rotated != ""
	time.parse_rfc3339_ns(rotated) > time.parse_rfc3339_ns(ended)
}

since(rotated) := sprintf("at %s", [rotated]) if {
	rotated != ""
} else := "never"
