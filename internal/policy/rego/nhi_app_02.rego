# METADATA
# title: Client-credentials app requests scopes beyond api
# description: |
#   A client-credentials token acts as the run-as user with every scope the app
#   holds. Scopes such as full, web, refresh_token and the identity scopes give
#   a server-to-server integration reach it never needs.
# custom:
#   id: NHI-APP-02
#   severity: high
#   controls:
#     - OWASP NHI5:2025
#     - OWASP NHI4:2025
#     - NIST CSF PR.AA-05
#     - NIST CSF PR.PS-01
#     - NIST 800-53 AC-6
#     - NIST 800-53 IA-13(3)
#     - CIS 6.8
#   remediation: |
#     Remove every scope but api (or a narrower product scope the integration
#     needs) from the app's OAuth settings, and declare the scopes it keeps in
#     the Identity's access.scopes.
package steward.rules.nhi_app_02

import data.steward.lib

denied := {
	"full", "web", "refresh_token", "offline_access", "visualforce", "lightning",
	"content", "openid", "id", "profile", "email", "phone", "address", "custom_permissions",
}

finding contains f if {
	some app in lib.cc_apps
	requests_denied(app)
	bad := {s | some s in app.scopes; s in denied}
	f := {
		"message": sprintf("%s %s requests %s", [lib.kind_label(app.kind), app.name, lib.join_sorted(bad)]),
		"severity": severity(bad),
		"identity": lib.app_identity(app),
		"resource": lib.app_resource(app, "scopes"),
	}
}

# Fast path: whether the app requests any denied scope.
requests_denied(app) if {
	some s in app.scopes
	s in denied
}

severity(bad) := "high" if {
	some s in bad
	s in {"full", "refresh_token", "offline_access", "web"}
} else := "medium"
