# METADATA
# title: Exception is not time-bound, approved and compensated
# description: |
#   An Exception accepts one rule's findings for one identity for a while.
#   It must expire, name who approved it and why, and list at least two
#   compensating controls (IP restriction, scope limit, monitoring, short
#   rotation, dedicated identity). An exception with no expiry or past it
#   suppresses nothing; an expired one is reported as high so that the
#   deviation it covered is either fixed or re-approved.
#
#   One finding per exception lists every problem with it. Exceptions cannot
#   suppress this rule's own findings.
# custom:
#   id: NHI-REV-03
#   severity: medium
#   controls:
#     - NIST CSF ID.RA-07
#     - NIST CSF GV.RM-06
#   remediation: |
#     Give the Exception an expiry date (spec.expires), an approver
#     (spec.approvedBy), a reason (spec.reason) and at least two
#     compensatingControls; when it has expired, fix the deviation or have a
#     new exception approved.
package steward.rules.nhi_rev_03

import data.steward.lib

min_controls := 2

finding contains f if {
	some x in input.exceptions
	problems := [p | some p in problems_of(x); p != null]
	count(problems) > 0
	f := {
		"message": sprintf("Exception %s (%s for %s) %s", [x.name, x.rule, subject(x), concat("; ", [text | some [_, text] in problems])]),
		"severity": lib.max_severity({sev | some [sev, _] in problems}),
		"identity": identity(x),
		"resource": object.union(target(x), {
			"file": object.get(x, ["location", "file"], ""),
			"line": object.get(x, ["location", "line"], 0),
		}),
	}
}

# An exception names an identity, or a resource no identity covers (an
# OAuth app in use, for NHI-MON-03).
for_resource(x) if {
	lib.blank(object.get(x, "identity", ""))
	not lib.blank(object.get(x, "resource", ""))
}

subject(x) := sprintf("resource %s", [x.resource]) if for_resource(x)

else := sprintf("identity %s", [x.identity])

identity(x) := null if for_resource(x)

else := x.identity

target(x) := {"kind": "Exception", "name": x.name} if for_resource(x)

else := {"kind": "Identity", "name": x.identity}

problems_of(x) := [
	no_expiry(x),
	expired(x),
	no_approver(x),
	no_reason(x),
	few_controls(x),
	unknown_identity(x),
	self_exception(x),
]

no_expiry(x) := ["medium", "has no expiry date, so it accepts nothing"] if {
	lib.blank(object.get(x, "expires", ""))
} else := null

expired(x) := ["high", sprintf("expired on %s and no longer accepts findings", [x.expires])] if {
	not lib.blank(object.get(x, "expires", ""))
	x.expires < lib.today
} else := null

no_approver(x) := ["medium", "names no approver"] if {
	lib.blank(object.get(x, "approvedBy", ""))
} else := null

no_reason(x) := ["medium", "gives no reason"] if {
	lib.blank(object.get(x, "reason", ""))
} else := null

few_controls(x) := ["medium", sprintf("lists %d compensating controls, fewer than %d", [n, min_controls])] if {
	n := count({c | some c in object.get(x, "compensatingControls", []); not lib.blank(c)})
	n < min_controls
} else := null

unknown_identity(x) := ["medium", "names an identity no Identity manifest defines"] if {
	not for_resource(x)
	not lib.identity_by_name[x.identity]
} else := null

self_exception(x) := ["medium", "targets NHI-REV-03, whose findings exceptions cannot suppress"] if {
	x.rule == "NHI-REV-03"
} else := null
