# METADATA
# title: Client-credentials app is not admin-governed
# description: |
#   An app whose permitted users are "All users may self-authorize" can be
#   authorised by any user in the org for its other flows, which is how
#   look-alike apps were used to pull data in 2025. An admin-approved app
#   should be pre-authorised only through the integration's own permission
#   set; pre-authorising System Administrator opens it to every
#   administrator.
# custom:
#   id: NHI-APP-04
#   severity: medium
#   controls:
#     - OWASP NHI3:2025
#     - NIST CSF PR.AA-05
#     - NIST CSF GV.SC-06
#     - CIS 6.1
#     - CIS 6.7
#   remediation: |
#     Set the app's permitted users to "Admin approved users are
#     pre-authorized" (isAdminApproved on a connected app,
#     permittedUsersPolicyType AdminApprovedPreAuthorized on an External Client
#     App) and pre-authorise only the integration's dedicated permission set.
package steward.rules.nhi_app_04

import data.steward.lib

admin_profiles := {"system administrator", "admin"}

finding contains f if {
	some app in lib.cc_apps
	not app.adminApproved == true
	f := {
		"message": sprintf("%s %s is not admin-approved: all users may self-authorize", [lib.kind_label(app.kind), app.name]),
		"identity": lib.app_identity(app),
		"resource": lib.app_resource(app, "adminApproved"),
	}
}

finding contains f if {
	some app in lib.cc_apps
	some granted in app.preAuthorized
	lower(granted) in admin_profiles
	admins := {p | some p in app.preAuthorized; lower(p) in admin_profiles}
	f := {
		"message": sprintf("%s %s pre-authorises the System Administrator profile (%s): every administrator can use it", [lib.kind_label(app.kind), app.name, lib.join_sorted(admins)]),
		"severity": "high",
		"identity": lib.app_identity(app),
		"resource": lib.app_resource(app, "adminApproved"),
	}
}
