# METADATA
# title: Run-as entitlements differ from what the identity declares
# description: |
#   An Identity declares what its integration needs: OAuth scopes, object
#   access and a run-as user. Anything the app or user holds beyond that is
#   drift from the approved baseline, and anything Steward cannot resolve
#   cannot be checked at all.
#
#   Reported: declared profiles and permission sets no metadata file
#   defines (the user's effective permissions are then incomplete); object
#   access (read, create, edit, delete) beyond spec.access.objects, when the
#   identity declares any; app scopes beyond spec.access.scopes, when it
#   declares any; and an app whose metadata names a different run-as user
#   than the identity. View All and Modify All are NHI-RUN-02's concern.
# custom:
#   id: NHI-RUN-03
#   severity: medium
#   controls:
#     - NIST CSF PR.PS-01
#     - NIST CSF PR.AA-05
#     - NIST CSF DE.CM-09
#     - NIST 800-53 CM-2
#     - NIST 800-53 CM-3
#     - NIST 800-53 AC-2(7)(b)
#     - NIST 800-53 AC-2(7)(c)
#   remediation: |
#     Either remove the extra access from the app and the run-as user's
#     permission sets, or, if the integration needs it, declare it in the
#     Identity (access.objects, access.scopes, salesforce.runAs) and have it
#     reviewed. Commit the metadata of every profile and permission set the
#     run-as user holds so its permissions can be verified.
package steward.rules.nhi_run_03

import data.steward.lib

actions := ["read", "create", "edit", "delete"]

# Every list of actions in the order above, with the read, create, edit and
# delete flags of an object access that holds exactly those actions.
action_flags := {acts: flags |
	some n in numbers.range(0, 15)
	acts := [act | some i, act in actions; bits.and(n, bits.lsh(1, i)) != 0]
	flags := [member(act, acts) | some act in actions]
}

member(x, xs) if {
	x in xs
} else := false

# Fast path for the app checks: each app with each identity that names it,
# unless the app's run-as user and scopes are exactly those the identity
# declares. The pairs left are looked at in detail, so letting one through
# needlessly changes nothing; `not ... = ...` costs OPA less than `!=`.
app_identities := [[app, id] |
	some app in input.apps
	some name in app.identities
	id := lib.identity_by_name[name]
	not [app.runAs, app.scopes] = [id.salesforce.runAs, id.access.scopes]
]

finding contains f if {
	some user in input.users
	user.unresolved != []
	f := {
		"message": sprintf("Run-as user %s is granted %s, which no metadata file defines: its effective permissions cannot be verified", [user.username, lib.join_sorted(user.unresolved)]),
		"identity": lib.user_identity(user),
		"resource": lib.user_resource(user),
	}
}

finding contains f if {
	some user in input.users
	some name in user.identities
	declared := lib.identity_by_name[name].access.objects

	# Fast path: the object access holds exactly the actions its
	# declaration lists (written in the usual order). Anything else is
	# worked out in detail, comparing names without case. The snapshot
	# writes every flag of an object access.
	some obj, access in user.effective.objects
	not action_flags[object.get(declared, obj, [])] == [access.read, access.create, access.edit, access.delete]

	f := undeclared_access(user, lib.identity_by_name[name])
}

finding contains f if {
	some [app, id] in app_identities
	app.scopes != id.access.scopes
	declared := {lower(s) | some s in id.access.scopes}
	count(declared) > 0
	extra := {s | some s in app.scopes; not lower(s) in declared}
	count(extra) > 0
	f := {
		"message": sprintf("%s %s grants scopes %s beyond the access.scopes of identity %s (%s)", [lib.kind_label(app.kind), app.name, lib.join_sorted(extra), id.name, lib.join_sorted(id.access.scopes)]),
		"identity": id.name,
		"resource": lib.app_resource(app, "scopes"),
	}
}

finding contains f if {
	some [app, id] in app_identities
	app.runAs != id.salesforce.runAs
	app.runAs != ""
	id.salesforce.runAs != ""
	lower(app.runAs) != lower(id.salesforce.runAs)
	f := {
		"message": sprintf("%s %s runs as %s, but identity %s declares run-as user %s", [lib.kind_label(app.kind), app.name, app.runAs, id.name, id.salesforce.runAs]),
		"identity": id.name,
		"resource": lib.app_resource(app, "runAs"),
	}
}

# The finding for object access a run-as user holds beyond what an identity
# declares, if it holds any and the identity declares object access at all.
undeclared_access(user, id) := f if {
	declared := id.access.objects
	declared != {}
	allowed := declared_by_object(declared)
	excess := [sprintf("%s (%s)", [o, concat(", ", extra)]) |
		some o, a in user.effective.objects
		extra := actions_beyond(a, object.get(allowed, lower(o), set()))
		count(extra) > 0
	]
	count(excess) > 0
	f := {
		"message": sprintf("Run-as user %s of identity %s has object access its access.objects does not declare: %s", [user.username, id.name, concat("; ", sort(excess))]),
		"identity": id.name,
		"resource": lib.user_resource(user),
	}
}

# The actions an object access holds beyond the allowed ones, in the order
# of actions. Users granted alike share one evaluation.
actions_beyond(access, allowed) := [act | some act in actions; access[act] == true; not act in allowed]

# The declared actions by object, both in lower case.
declared_by_object(declared) := {lower(obj): {lower(a) |
	some other, acts in declared
	lower(other) == lower(obj)
	some a in acts
} |
	some obj, _ in declared
}
