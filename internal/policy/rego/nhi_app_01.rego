# METADATA
# title: App or run-as user shared between business services
# description: |
#   One business service, one app, one run-as user. When two apps run as the
#   same user, or two services use the same app or user, their actions cannot
#   be told apart in the audit trail, a secret leak in one exposes the other,
#   and neither can be cut off without breaking both.
#
#   A run-as user is shared when more than one app runs as it, or identities
#   of more than one service declare it; an app is shared when identities of
#   more than one service name it. An identity without a service counts as a
#   service of its own. Run-as users are the users the snapshot holds (the
#   ones identities declare): an app running as a user no identity declares
#   is reported by NHI-INV-01 or NHI-RUN-03 instead.
# custom:
#   id: NHI-APP-01
#   severity: high
#   controls:
#     - OWASP NHI9:2025
#     - OWASP NHI5:2025
#     - NIST CSF PR.AA-02
#     - NIST CSF PR.AA-05
#     - NIST 800-53 AC-2(9)
#     - NIST 800-53 IA-9
#     - NIST 800-53 AU-10(1)
#     - CIS 5.5
#   remediation: |
#     Give every business service its own app and its own dedicated run-as
#     user: create a new External Client App and integration user for each
#     service that shares one, move the service to them, and record each in
#     its own Identity manifest.
package steward.rules.nhi_app_01

import data.steward.lib

finding contains f if {
	some user in input.users
	maybe_shared(user)
	apps := {name | some name in user.apps}
	ids := lib.identities_named(user.identities)
	services := {service(id) | some id in ids}
	parts := [part |
		some part in [used_by_apps(apps), declared_by_services(services)]
		part != ""
	]
	count(parts) > 0
	f := {
		"message": sprintf("Run-as user %s is %s", [user.username, concat(" and ", parts)]),
		"identity": lib.only([id.name | some id in ids]),
		"resource": lib.user_resource(user),
	}
}

finding contains f if {
	some name, names in lib.multi_identity_apps
	ids := lib.identities_named(names)
	services := {service(id) | some id in ids}
	count(services) > 1
	f := {
		"message": sprintf("App %s is named by identities of %d services (%s)", [name, count(services), lib.short_list(services)]),
		"identity": null,
		"resource": lib.app_name_resource(name, ids),
	}
}

# Fast path: a user with one app and one identity shares nothing.
maybe_shared(user) if user.apps[1] != false

maybe_shared(user) if user.identities[1] != false

used_by_apps(apps) := sprintf("used by %d apps (%s)", [count(apps), lib.short_list(apps)]) if {
	count(apps) > 1
} else := ""

declared_by_services(services) := sprintf("declared by identities of %d services (%s)", [count(services), lib.short_list(services)]) if {
	count(services) > 1
} else := ""

service(id) := id.service if {
	not lib.blank(id.service)
} else := sprintf("identity %s without a service", [id.name])
