# METADATA
# title: Dormant client-credentials app
# description: |
#   An integration nobody uses still holds a working credential and a
#   privileged run-as user. Live data only: an app in the org with the
#   client-credentials flow enabled and no client-credentials login, token
#   use or API request in the last 45 days (the CIS default) is dormant; one
#   created more than 14 days ago and never used is reported too. The
#   thresholds are fixed: the manifests have no per-criticality setting for
#   them. Apps whose identities are all retired are NHI-INV-06's concern.
#   Needs the login history (capabilities.loginHistory).
# custom:
#   id: NHI-INV-05
#   severity: medium
#   live: true
#   controls:
#     - OWASP NHI1:2025
#     - NIST CSF ID.AM-08
#     - NIST 800-53 AC-2(3)
#     - CIS 5.3
#   remediation: |
#     Confirm with the owning team whether the integration is still needed.
#     If not, retire its Identity and decommission it (revoke tokens, disable
#     client credentials, deactivate the run-as user, delete the secret); if
#     it is, record why it runs so rarely at its next review.
package steward.rules.nhi_inv_05

import data.steward.lib

dormant_days := 45

unused_days := 14

dormant_before := lib.date_before(dormant_days)

unused_before := lib.date_before(unused_days)

finding contains f if {
	input.capabilities.live
	input.capabilities.loginHistory
	some app in lib.cc_apps

	# Fast path: a recent client-credentials login rules the app out.
	object.get(app, ["live", "lastClientCredentialsLogin"], "") < dormant_before
	app.live.inOrg
	object.get(app.live, "lastTokenUse", "") < dormant_before
	object.get(app.live, "apiRequests", 0) == 0
	not all_retired(app)
	some message in dormancy(app, app.live)
	f := {
		"message": message,
		"identity": lib.app_identity(app),
		"resource": lib.app_resource(app, "flows"),
	}
}

# The app's last use, as a date, or "" when none was seen.
last_use(live) := substring(
	max({t | some t in [
		object.get(live, "lastClientCredentialsLogin", ""),
		object.get(live, "lastTokenUse", ""),
	]}),
	0, 10,
)

dormancy(app, live) := {sprintf("%s %s has not been used for %d days (last client-credentials login or token use on %s); dormant after %d", [lib.kind_label(app.kind), app.name, lib.days_since(last), last, dormant_days])} if {
	last := last_use(live)
	last != ""
} else := {sprintf("%s %s was created on %s, %d days ago, and has never been used", [lib.kind_label(app.kind), app.name, created, lib.days_since(created)])} if {
	created := substring(object.get(live, "created", ""), 0, 10)
	created != ""
	created < unused_before
} else := {sprintf("%s %s has no client-credentials login, token use or API request in the login history read", [lib.kind_label(app.kind), app.name])} if {
	object.get(live, "created", "") == ""
}

# Whether every identity naming the app is retired (and at least one does).
all_retired(app) if {
	ids := lib.identities_named(lib.app_identity_names(app))
	count(ids) > 0
	every id in ids {
		lib.retired(id)
	}
}
