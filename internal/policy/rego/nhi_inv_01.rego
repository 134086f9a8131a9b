# METADATA
# title: Client-credentials app not registered in the inventory
# description: |
#   Every app with the client-credentials flow mints tokens that act as a
#   Salesforce user. An app that no Identity manifest names has no owner, no
#   declared purpose and no review: it is an unmanaged non-human identity.
# custom:
#   id: NHI-INV-01
#   severity: high
#   controls:
#     - OWASP NHI1:2025
#     - OWASP NHI9:2025
#     - NIST CSF ID.AM-02
#     - NIST CSF ID.AM-04
#     - NIST CSF PR.AA-01
#     - NIST 800-53 AC-2(a)
#     - NIST 800-53 AC-2(d)
#     - CIS 5.1
#     - CIS 5.5
#     - CIS 6.6
#   remediation: |
#     Register the integration with an Identity manifest whose
#     spec.salesforce.app names the app (with its owner, environment, run-as
#     user and credential reference), or disable the client-credentials flow
#     and remove the app if nothing uses it.
package steward.rules.nhi_inv_01

import data.steward.lib

finding contains f if {
	some app in lib.cc_apps
	not app.name in lib.named_apps
	f := {
		"message": sprintf("%s %s has the client-credentials flow enabled, but no Identity names it", [lib.kind_label(app.kind), app.name]),
		"identity": null,
		"resource": lib.app_resource(app, "flows"),
	}
}
