# METADATA
# title: Break-glass elevation lacks approval or post-use review
# description: |
#   A break-glass elevation needs a written reason linked to an incident or
#   change, approval by someone other than the requester, and a post-use
#   review closed within the deadline (two business days after the removal
#   by default). Reported from the elevations in Steward's store: one that
#   reached the org without a second person's approval (high), without a
#   reason or reference (medium), and one whose post-use review is overdue
#   (medium). If a person saw the secret, NHI-SEC-04 asks for its rotation.
# custom:
#   id: NHI-BG-02
#   severity: medium
#   requires:
#     - secretStore
#   controls:
#     - NIST 800-53 AC-5
#     - NIST 800-53 AC-6(9)
#     - NIST 800-53 AU-6
#     - NIST CSF PR.AA-05
#     - NIST CSF ID.RA-07
#     - CIS 8.11
#   remediation: |
#     Close the post-use review (steward elevate close ID --note "what was
#     done") after checking the org's setup audit trail for the elevation's
#     window; add --secret-seen if a person saw the secret. An elevation
#     applied without a second person's approval did not go through steward
#     elevate: find out who assigned it and treat it as an incident.
package steward.rules.nhi_bg_02

import data.steward.lib

finding contains f if {
	some e in applied
	object.get(e, "approver", "") in {"", e.requester}
	f := found(e, "high", sprintf("was applied without approval by a second person (requested by %s)", [e.requester]))
}

finding contains f if {
	some e in applied
	missing := [m | some [field, m] in [["reason", "a reason"], ["reference", "an incident or change reference"]]; object.get(e, field, "") == ""]
	count(missing) > 0
	f := found(e, "medium", sprintf("was applied without %s", [concat(" or ", missing)]))
}

finding contains f if {
	some e in input.elevations
	e.state == "post_review_due"
	due := object.get(e, "reviewDueAt", "")
	due != ""
	time.parse_rfc3339_ns(due) < lib.now_ns
	f := found(e, "medium", sprintf("ended at %s, and its post-use review was due at %s and is not closed", [object.get(e, "removedAt", "?"), due]))
}

applied contains e if {
	some e in input.elevations
	object.get(e, "appliedAt", "") != ""
}

found(e, severity, what) := {
	"message": sprintf("Break-glass elevation %s of identity %s (%s) %s", [e.id, e.identity, e.permissionSet, what]),
	"severity": severity,
	"identity": identity(e),
	"resource": resource(e),
}

identity(e) := e.identity if {
	lib.identity_by_name[e.identity]
} else := null

resource(e) := lib.identity_resource(lib.identity_by_name[e.identity]) if {
	lib.identity_by_name[e.identity]
} else := {"kind": "Identity", "name": e.identity, "file": "", "line": 0}
