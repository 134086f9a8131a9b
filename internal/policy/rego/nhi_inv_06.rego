# METADATA
# title: Retired identity is not fully decommissioned
# description: |
#   Retiring an integration means revoking its tokens, disabling the
#   client-credentials flow (or removing the app) and deactivating the
#   run-as user. Live data only: for an Identity with lifecycle retired, its
#   app still in the org with client credentials enabled, OAuth tokens, or
#   client-credentials logins in the last 7 days, and its run-as user still
#   active, are each reported. An app or user that an active identity also uses is left
#   to that identity.
# custom:
#   id: NHI-INV-06
#   severity: critical
#   live: true
#   controls:
#     - OWASP NHI1:2025
#     - OWASP NHI3:2025
#     - NIST CSF GV.SC-10
#     - NIST CSF ID.AM-08
#     - NIST CSF RS.MI-02
#     - NIST 800-53 AC-2(3)
#     - NIST 800-53 AC-2(f)
#     - CIS 6.2
#     - CIS 15.7
#   remediation: |
#     Finish the decommissioning: revoke the app's OAuth tokens, disable the
#     client-credentials flow or remove the app, deactivate (do not delete)
#     the run-as user, delete the secret from the store and record the
#     evidence. If the integration is still in use, set its lifecycle back
#     to active.
package steward.rules.nhi_inv_06

import data.steward.lib

finding contains f if {
	input.capabilities.live
	some id in input.identities
	lib.retired(id)
	leftovers := array.concat(app_leftovers(id), user_leftovers(id))
	count(leftovers) > 0
	f := {
		"message": sprintf("Identity %s is retired, but %s", [id.name, concat("; ", leftovers)]),
		"identity": id.name,
		"resource": lib.identity_resource(id),
	}
}

app_leftovers(id) := [sprintf("%s %s %s", [lib.kind_label(app.kind), app.name, concat(", ", left)]) |
	some app in object.get(lib.apps_by_name, id.salesforce.app, [])
	app.live.inOrg
	not in_active_use(lib.app_identity_names(app))
	left := [x |
		some x in [flow_left(app), tokens_left(app.live), logins_left(app.live)]
		x != ""
	]
	count(left) > 0
]

flow_left(app) := "still has the client-credentials flow enabled" if {
	app.flows.clientCredentials
} else := ""

tokens_left(live) := sprintf("holds %s", [lib.count_text(live.tokens, "OAuth token")]) if {
	live.tokens > 0
} else := ""

# Logins before the retirement may stay in the login history for months;
# only those of the last week show that something still uses the app.
recent := lib.date_before(recent_days)

recent_days := 7

logins_left(live) := sprintf("still logs in by client credentials (last on %s)", [substring(live.lastClientCredentialsLogin, 0, 10)]) if {
	object.get(live, "lastClientCredentialsLogin", "") >= recent
} else := ""

user_leftovers(id) := [sprintf("run-as user %s is still active", [user.username]) |
	user := lib.user_by_name[lower(id.salesforce.runAs)]
	user.live.active
	not in_active_use(lib.user_identity_names(user))
]

# Whether an identity that is not retired is among the names.
in_active_use(names) if {
	some name in names
	not lib.retired(lib.identity_by_name[name])
}
