# METADATA
# title: Access expanded since the identity's last review
# description: |
#   Any widening of an integration's access (a new scope, flow, permission,
#   permission set or object access, looser IP or token policy, a new run-as
#   user or consumer key) needs a review. Live data only: expansions found by
#   diffing against a baseline snapshot, and Setup Audit Trail changes to the
#   identity's app or run-as user made after the identity's last review, are
#   reported once per identity and source. Retired identities are skipped.
#
#   With Steward's store (--data-dir), an expansion a closed review item
#   covered ('steward review attest') is not reported again, and the latest
#   attestation there is the last review Setup changes are compared with.
# custom:
#   id: NHI-REV-02
#   severity: medium
#   live: true
#   controls:
#     - OWASP NHI5:2025
#     - NIST CSF ID.RA-07
#     - NIST CSF PR.AA-05
#     - NIST CSF DE.CM-09
#     - NIST 800-53 AC-2(4)
#     - NIST 800-53 AC-2(7)
#     - NIST 800-53 CM-3
#     - CIS 6.1
#   remediation: |
#     Review the change with the owning team: keep it and record the review
#     date in spec.review.lastReviewed (and refresh the baseline snapshot),
#     or revert it.
package steward.rules.nhi_rev_02

import data.steward.lib

expanding := {"added", "widened", "changed"}

# The expansions, grouped by what they touch: identities by name, apps by
# API name, users by username in lower case.
expansions := [c | some c in object.get(input, "expansions", []); c.kind in expanding]

expansions_by_identity := group(expansions, "Identity")

expansions_by_app := group(expansions, "App")

expansions_by_user := {user: cs |
	some user in {lower(c.subject) | some c in expansions; c.resource == "User"}
	cs := [c | some c in expansions; c.resource == "User"; lower(c.subject) = user]
}

group(changes, resource) := {subject: cs |
	some subject in {c.subject | some c in changes; c.resource == resource}
	cs := [c | some c in changes; c.resource == resource; c.subject = subject]
}

# Setup changes by the app they touch, and by the user in lower case.
setup_changes := object.get(input, "setupChanges", [])

setup_by_app := {app: cs |
	some app in {c.app | some c in setup_changes; object.get(c, "app", "") != ""}
	cs := [c | some c in setup_changes; c.app = app]
}

setup_by_user := {user: cs |
	some user in {lower(c.user) | some c in setup_changes; object.get(c, "user", "") != ""}
	cs := [c | some c in setup_changes; lower(c.user) = user]
}

finding contains f if {
	input.capabilities.live

	# Fast path: no expansion at all.
	count(expansions) > 0
	some id in input.identities
	touching := array.concat(
		array.concat(object.get(expansions_by_identity, id.name, []), object.get(expansions_by_app, id.salesforce.app, [])),
		object.get(expansions_by_user, lower(id.salesforce.runAs), []),
	)
	count(touching) > 0
	changes := [c | some c in touching; not attested[id.name][change_key(c)]]
	count(changes) > 0
	not lib.retired(id)
	f := {
		"message": sprintf("Identity %s gained access since the baseline: %s", [id.name, lib.short_list({describe(c) | some c in changes})]),
		"identity": id.name,
		"resource": lib.identity_resource(id),
	}
}

finding contains f if {
	input.capabilities.live
	count(setup_changes) > 0
	some id in input.identities
	changes := array.concat(object.get(setup_by_app, id.salesforce.app, []), object.get(setup_by_user, lower(id.salesforce.runAs), []))

	# Fast path: nothing changed since the last review.
	some c in changes
	substring(c.time, 0, 10) > lib.last_reviewed(id)
	not lib.retired(id)
	after := {sprintf("%s %s (by %s)", [substring(x.time, 0, 10), label(x), x.by]) |
		some x in changes
		substring(x.time, 0, 10) > lib.last_reviewed(id)
	}
	f := {
		"message": sprintf("Identity %s: %s changed in Setup after its last review (%s): %s", [id.name, subjects(id), reviewed(id), lib.short_list(after)]),
		"identity": id.name,
		"resource": lib.identity_resource(id),
	}
}

describe(c) := sprintf("%s %s %s %s", [lower(c.resource), c.subject, c.kind, value(c)]) if {
	c.field == ""
} else := sprintf("%s %s %s %s", [lower(c.resource), c.subject, c.field, value(c)])

value(c) := sprintf("%s → %s", [c.before, c.after]) if {
	c.before != ""
	c.after != ""
} else := sprintf("+%s", [c.after]) if {
	c.after != ""
} else := sprintf("-%s", [c.before])

label(c) := c.display if {
	object.get(c, "display", "") != ""
} else := c.action

subjects(id) := sprintf("its app %s or run-as user %s", [id.salesforce.app, id.salesforce.runAs])

reviewed(id) := lib.last_reviewed(id) if {
	lib.last_reviewed(id) != ""
} else := "never reviewed"

# The expansions closed review items covered: identity → set of change
# keys, as snapshot.ChangeKey builds them.
attested := {name: {k | some k in keys} |
	some name, keys in object.get(input, ["reviewStore", "attestedChanges"], {})
}

change_key(c) := concat("|", [c.resource, c.subject, c.field, c.kind, c.before, c.after])
