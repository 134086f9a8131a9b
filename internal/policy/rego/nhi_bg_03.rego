# METADATA
# title: Break-glass elevation is becoming standing access
# description: |
#   Break-glass is for the exception. An identity elevated more than three
#   times within 90 days needs the access designed in: a permanent
#   least-privilege change reviewed like any other, or an Exception.
#   Counted from the elevations in Steward's store that reached the org.
# custom:
#   id: NHI-BG-03
#   severity: medium
#   requires:
#     - secretStore
#   controls:
#     - OWASP NHI5:2025
#     - NIST CSF ID.RA-07
#     - NIST CSF GV.OV-03
#     - NIST 800-53 AC-6(7)
#   remediation: |
#     Review why the identity keeps needing the extra permission sets: grant
#     what it needs for its work permanently (declare it in spec.access and
#     spec.salesforce.runAsPermissionSets, and have it reviewed), fix the
#     underlying cause of the incidents, or record an Exception for
#     NHI-BG-03 with its reason and expiry.
package steward.rules.nhi_bg_03

import data.steward.lib

# At most this many elevations per identity in the window.
max_uses := 3

window_days := 90

finding contains f if {
	some name, uses in recent
	count(uses) > max_uses
	sets := concat(", ", sort({e.permissionSet | some e in uses}))
	f := {
		"message": sprintf("Identity %s was elevated %d times in the last %d days (%s), more than %d: break-glass is turning into standing access", [name, count(uses), window_days, sets, max_uses]),
		"identity": identity(name),
		"resource": resource(name),
	}
}

# Elevations applied within the window, by identity.
recent[name] := uses if {
	some e in input.elevations
	name := e.identity
	uses := {u |
		some u in input.elevations
		u.identity == name
		object.get(u, "appliedAt", "") != ""
		time.parse_rfc3339_ns(u.appliedAt) >= lib.now_ns - (window_days * lib.day_ns)
	}
}

identity(name) := name if {
	lib.identity_by_name[name]
} else := null

resource(name) := lib.identity_resource(lib.identity_by_name[name]) if {
	lib.identity_by_name[name]
} else := {"kind": "Identity", "name": name, "file": "", "line": 0}
