# METADATA
# title: Run-as user logs in other than by client credentials
# description: |
#   The run-as user of a client-credentials integration is a machine
#   identity: every login should be the app's client-credentials token
#   request. Live data only: a run-as user (one an identity declares or an
#   app runs as) whose login history shows UI logins, password logins or
#   other OAuth flows is being used by a person or another app.
# custom:
#   id: NHI-RUN-04
#   severity: high
#   live: true
#   controls:
#     - OWASP NHI10:2025
#     - NIST CSF DE.CM-03
#     - NIST CSF DE.CM-09
#     - NIST 800-53 AC-2(9)
#     - NIST 800-53 AC-2(12)
#   remediation: |
#     Find who logged in as the run-as user and stop it: give the user the API
#     Only User permission (or the Minimum Access - API Only Integrations
#     profile), reset its password, revoke the other apps' tokens, and give
#     people their own accounts. Rotate the integration's secret if a person
#     may have seen it.
package steward.rules.nhi_run_04

import data.steward.lib

finding contains f if {
	input.capabilities.live
	some user in input.users

	# Fast path: a user with only client-credentials logins.
	some login in object.get(user, ["live", "logins"], [])
	not client_credentials(login)
	integration_user(user)
	other := [describe(l) | some l in user.live.logins; not client_credentials(l)]
	f := {
		"message": sprintf("Run-as user %s logged in other than by client credentials: %s", [user.username, concat("; ", sort(other))]),
		"identity": lib.user_identity(user),
		"resource": lib.user_resource(user),
	}
}

# Whether the user is a run-as user: an app runs as it or an identity
# declares it.
integration_user(user) if user.apps[0]

integration_user(user) if lib.user_identity_names(user)[0]

# Whether a login summary is of client-credentials token requests.
# LoginHistory.LoginSubType may come back as the picklist label or its API
# name; both are accepted here and nowhere else.
client_credentials(login) if login.loginSubType in {"OAuth Client Credentials", "OauthClientCredentials"}

describe(l) := sprintf("%s%s%s, %d×%s%s", [l.loginType, subtype(l), application(l), l.count, last(l), ips(l)])

subtype(l) := sprintf(" / %s", [l.loginSubType]) if {
	l.loginSubType != ""
} else := ""

application(l) := sprintf(" via %s", [l.application]) if {
	l.application != ""
} else := ""

last(l) := sprintf(", last %s", [substring(l.last, 0, 10)]) if {
	object.get(l, "last", "") != ""
} else := ""

ips(l) := sprintf(" from %s", [lib.short_list(l.sourceIps)]) if {
	l.sourceIps[0]
} else := ""
