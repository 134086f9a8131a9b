# METADATA
# title: Integration uses a legacy app type or an unclassified vendor
# description: |
#   Since Spring '26 Salesforce restricts the creation of connected apps; new
#   integrations should use External Client Apps, whose secrets stay out of
#   source control and which support staged rotation. An active identity
#   still bound to a connected app should plan its move.
#
#   A third party that operates a workload holds its credential outside your
#   control. Until due diligence has assessed the vendor, the identity is
#   classified critical; a vendor identity classified below high is reported.
# custom:
#   id: NHI-APP-07
#   severity: low
#   controls:
#     - OWASP NHI3:2025
#     - NIST CSF GV.SC-04
#     - NIST CSF GV.SC-06
#     - NIST CSF GV.SC-07
#     - NIST CSF ID.RA-10
#     - CIS 15.3
#     - CIS 15.4
#     - CIS 15.5
#   remediation: |
#     Move the integration to an External Client App with the same scopes and
#     run-as user, then retire the connected app. For a vendor-operated
#     identity, complete the vendor's security assessment and set
#     spec.criticality to high or critical.
package steward.rules.nhi_app_07

import data.steward.lib

# The names of the External Client Apps: a connected app beside an External
# Client App of the same name is on its way out.
eca_names := {app.name | some app in input.apps; app.kind == "ExternalClientApp"}

finding contains f if {
	some app in input.apps
	app.kind == "ConnectedApp"
	not app.name in eca_names
	some name in lib.app_identity_names(app)
	id := lib.identity_by_name[name]
	not lib.retired(id)
	f := {
		"message": sprintf("Identity %s uses connected app %s; connected-app creation is restricted since Spring '26, and integrations should move to External Client Apps", [id.name, app.name]),
		"identity": id.name,
		"resource": lib.app_resource(app, "flows"),
	}
}

finding contains f if {
	some id in input.identities
	id.vendor != ""
	not id.criticality in {"high", "critical"}
	f := {
		"message": sprintf("Identity %s is operated by vendor %s but classified %s; third-party apps are classified critical until due diligence", [id.name, id.vendor, criticality(id)]),
		"severity": "medium",
		"identity": id.name,
		"resource": lib.identity_resource(id),
	}
}

criticality(id) := sprintf("criticality %s", [id.criticality]) if {
	not lib.blank(object.get(id, "criticality", ""))
} else := "with no criticality"
