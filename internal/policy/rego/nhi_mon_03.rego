# METADATA
# title: OAuth app in use that no identity covers
# description: |
#   Attackers get into orgs by having a user authorise their own app (the
#   UNC6040 pattern); integrations nobody registered do the same quietly.
#   Live data only: an app seen holding OAuth tokens or logging users in
#   (OauthToken, LoginHistory, the OAuth usage resource) that no inventoried
#   identity covers is reported. An approved human-use app is accepted
#   with an Exception for NHI-MON-03 whose resource names the app: the
#   finding is then listed as suppressed until the exception expires.
# custom:
#   id: NHI-MON-03
#   severity: high
#   live: true
#   controls:
#     - OWASP NHI3:2025
#     - NIST CSF DE.CM-09
#     - NIST CSF ID.AM-02
#   remediation: |
#     Find out who authorised the app and why. Register a legitimate
#     integration with an Identity manifest, allow-list an approved
#     human-use app with an Exception (rule NHI-MON-03, resource the app's
#     name), and otherwise revoke its tokens and block the app.
package steward.rules.nhi_mon_03

import data.steward.lib

finding contains f if {
	input.capabilities.live
	some oa in input.oauthApps

	# Fast path: the snapshot's join found a covering identity.
	not oa.identities[0]
	count(object.get(lib.identities_by_app, oa.name, [])) == 0
	count(object.get(lib.identities_by_app, oa.app, [])) == 0
	f := {
		"message": sprintf("OAuth app %s is in use%s but no inventoried identity covers it", [oa.name, details(oa)]),
		"identity": user_identity(oa),
		"resource": {"kind": "OAuthApp", "name": oa.name, "file": "", "line": 0},
	}
}

details(oa) := sprintf(" (%s)", [concat(", ", usage(oa))]) if {
	count(usage(oa)) > 0
} else := ""

usage(oa) := [x |
	some x in [
		sources(oa),
		tokens(oa),
		users(oa),
		last_used(oa),
	]
	x != ""
]

sources(oa) := sprintf("seen in %s", [concat(", ", sort(oa.sources))]) if {
	oa.sources[0]
} else := ""

tokens(oa) := lib.count_text(oa.tokens, "token") if {
	oa.tokens > 0
} else := ""

users(oa) := sprintf("users %s", [lib.short_list(oa.users)]) if {
	count(list(oa.users)) > 0
} else := ""

last_used(oa) := sprintf("last used %s", [substring(oa.lastUsed, 0, 10)]) if {
	object.get(oa, "lastUsed", "") != ""
} else := ""

# The identity whose run-as user holds the app's grants, when exactly one
# does: an integration user authorising another app is that identity's
# problem. Null otherwise.
user_identity(oa) := lib.only([name |
	some username in list(oa.users)
	user := lib.user_by_name[lower(username)]
	some name in lib.user_identity_names(user)
])

# An array field that may be null (a list the org returned none of).
list(xs) := xs if {
	is_array(xs)
} else := []
