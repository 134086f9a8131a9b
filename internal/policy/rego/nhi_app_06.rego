# METADATA
# title: Client-credentials app allows long-lived tokens
# description: |
#   A client-credentials access token lives as long as the app's session
#   timeout (or the org's default when the app sets none); 15 minutes is
#   enough for a server that can ask for a new one. Refresh tokens are not
#   issued to the client-credentials flow, but the app's refresh-token policy
#   governs its other flows, and "valid until revoked" is Salesforce's
#   default, so an app nobody hardened fails here.
# custom:
#   id: NHI-APP-06
#   severity: medium
#   controls:
#     - OWASP NHI7:2025
#     - NIST CSF PR.AA-01
#     - NIST CSF PR.AA-03
#     - NIST 800-53 IA-5(f)
#     - NIST 800-53 IA-13(3)
#   remediation: |
#     Set the app's session timeout to 15 minutes or less, and set its
#     refresh-token policy to expire (immediately, or within 90 days of issue
#     or 30 days of inactivity) instead of "valid until revoked".
package steward.rules.nhi_app_06

import data.steward.lib

max_session_minutes := 15

# Session timeouts that pass: 1 to 15 minutes.
short_sessions := {n | some n in numbers.range(1, max_session_minutes)}

finding contains f if {
	some app in lib.cc_apps
	app.refreshTokenPolicy == "infinite"
	f := {
		"message": sprintf("%s %s keeps refresh tokens valid until revoked (refreshTokenPolicy infinite, Salesforce's default)", [lib.kind_label(app.kind), app.name]),
		"identity": lib.app_identity(app),
		"resource": lib.app_resource(app, "refreshTokenPolicy"),
	}
}

finding contains f if {
	some app in lib.cc_apps
	not app.sessionTimeoutMinutes in short_sessions
	f := {
		"message": session_message(app),
		"severity": session_severity(app.sessionTimeoutMinutes),
		"identity": lib.app_identity(app),
		"resource": lib.app_resource(app, "sessionTimeout"),
	}
}

session_message(app) := sprintf("%s %s sets no session timeout: its access tokens live as long as the org's default session", [lib.kind_label(app.kind), app.name]) if {
	app.sessionTimeoutMinutes == 0
} else := sprintf("%s %s lets access tokens live %d minutes (at most %d)", [lib.kind_label(app.kind), app.name, app.sessionTimeoutMinutes, max_session_minutes])

session_severity(minutes) := "low" if {
	minutes == 0
} else := "medium"
