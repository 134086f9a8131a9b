# METADATA
# title: Break-glass elevation is not time-bound
# description: |
#   Extra rights for an identity (a permission set assigned through
#   steward elevate) must come with an expiry no later than the cap in
#   force when they were requested (at most 24 hours), and Steward must
#   take them away when the time is up. Reported from the elevations in
#   Steward's store: an elevation that reached the org without an expiry,
#   one whose expiry lies beyond its cap, and one still in place more than
#   15 minutes after its expiry, which means the automatic removal failed.
# custom:
#   id: NHI-BG-01
#   severity: high
#   requires:
#     - secretStore
#   controls:
#     - NIST 800-53 AC-2(2)
#     - NIST 800-53 AC-6(5)
#     - OWASP NHI5:2025
#     - NIST CSF PR.AA-05
#   remediation: |
#     Remove the assignment in the org now (steward elevate revoke ID, or
#     Setup > Permission Set Assignments), then find out why it outlived
#     its expiry: the server's log shows each failed removal, which is
#     retried every sweep. Grant break-glass access only through steward
#     elevate, whose assignments carry an ExpirationDate within the cap.
package steward.rules.nhi_bg_01

import data.steward.lib

# The ceiling no configuration may raise, in seconds.
hard_cap_s := 86400

# How long past its expiry an elevation may stay while the sweep runs.
grace_ns := (15 * 60) * 1e9

finding contains f if {
	some e in applied
	object.get(e, "expiresAt", "") == ""
	f := found(e, sprintf("was applied at %s with no expiry", [e.appliedAt]))
}

finding contains f if {
	some e in applied
	exp := object.get(e, "expiresAt", "")
	exp != ""
	span := (time.parse_rfc3339_ns(exp) - time.parse_rfc3339_ns(e.appliedAt)) / 1e9
	span > cap_s(e)
	f := found(e, sprintf("was applied at %s until %s, %s, beyond its cap of %s", [e.appliedAt, exp, hours(span), hours(cap_s(e))]))
}

finding contains f if {
	some e in applied
	e.state == "active"
	exp := object.get(e, "expiresAt", "")
	exp != ""
	time.parse_rfc3339_ns(exp) < lib.now_ns - grace_ns
	f := found(e, sprintf("is still in the org after its expiry at %s: Steward's automatic removal has not happened", [exp]))
}

# Elevations that reached the org.
applied contains e if {
	some e in input.elevations
	object.get(e, "appliedAt", "") != ""
}

cap_s(e) := min({hard_cap_s, e.maxDurationSeconds}) if {
	e.maxDurationSeconds > 0
} else := hard_cap_s

hours(s) := sprintf("%vh", [s / 3600])

found(e, what) := {
	"message": sprintf("Break-glass elevation %s of identity %s (%s, %s) %s", [e.id, e.identity, e.permissionSet, e.reference, what]),
	"identity": identity(e),
	"resource": resource(e),
}

identity(e) := e.identity if {
	lib.identity_by_name[e.identity]
} else := null

resource(e) := lib.identity_resource(lib.identity_by_name[e.identity]) if {
	lib.identity_by_name[e.identity]
} else := {"kind": "Identity", "name": e.identity, "file": "", "line": 0}
