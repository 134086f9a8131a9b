# METADATA
# title: Client-credentials app relaxes IP restrictions
# description: |
#   With IP relaxation set to enforce, a token request is accepted only from
#   the run-as user's login IP ranges (and the app's trusted ranges). Any
#   other setting lets a stolen consumer key and secret be used from
#   anywhere: BYPASS drops the restriction entirely; BYPASS_2FACTOR and
#   ENFORCE_RELAXREFRESH drop it under conditions.
#
#   An app whose metadata sets no IP relaxation is not reported: the value
#   is then unknown offline.
# custom:
#   id: NHI-APP-05
#   severity: high
#   controls:
#     - OWASP NHI3:2025
#     - OWASP NHI10:2025
#     - NIST CSF PR.AA-05
#     - NIST CSF PR.IR-01
#     - NIST 800-53 AC-2(11)
#   remediation: |
#     Set IP relaxation to "Enforce IP restrictions" (ipRelaxation ENFORCE on a
#     connected app, ipRelaxationPolicyType Enforce on an External Client App)
#     and give the run-as user's profile login IP ranges that match the
#     integration's egress addresses.
package steward.rules.nhi_app_05

import data.steward.lib

finding contains f if {
	some app in lib.cc_apps
	app.ipRelaxation != "ENFORCE"
	relax := upper(app.ipRelaxation)
	relax != ""
	relax != "ENFORCE"
	f := {
		"message": sprintf("%s %s relaxes IP restrictions (ipRelaxation %s): %s", [lib.kind_label(app.kind), app.name, relax, effect(relax)]),
		"severity": severity(relax),
		"identity": lib.app_identity(app),
		"resource": lib.app_resource(app, "ipRelaxation"),
	}
}

severity(relax) := "high" if {
	relax == "BYPASS"
} else := "medium"

effect(relax) := "its tokens can be requested from any address" if {
	relax == "BYPASS"
} else := "IP restrictions are relaxed for callers that complete a second factor" if {
	relax == "BYPASS_2FACTOR"
} else := "IP restrictions are relaxed for refresh tokens" if {
	relax == "ENFORCE_RELAXREFRESH"
} else := "the setting is not one Steward knows to enforce restrictions"
