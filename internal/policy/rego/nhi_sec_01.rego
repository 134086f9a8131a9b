# METADATA
# title: Consumer secret or credential outside a secret store
# description: |
#   A consumer secret belongs in a managed secret store, referenced by name.
#   Salesforce never returns a consumer secret when metadata is retrieved,
#   so one found in a metadata file was put there by hand, and everyone who
#   can read the repository (and its history) holds it. An External Client
#   App's global OAuth settings file is meant never to be committed at all.
#   An Identity manifest must name the secret, never hold its value.
#
#   Findings say where a secret is, never what it is.
# custom:
#   id: NHI-SEC-01
#   severity: critical
#   controls:
#     - OWASP NHI2:2025
#     - OWASP NHI6:2025
#     - NIST CSF PR.AA-01
#     - NIST CSF PR.DS-01
#     - NIST 800-53 IA-5(g)
#     - NIST 800-53 IA-5(7)
#     - NIST 800-53 SC-28
#   remediation: |
#     Treat a committed secret as leaked: rotate it in Salesforce now, remove
#     the file or element from the repository (and its history), and keep the
#     new secret only in the secret store. Reference secrets from Identity
#     manifests by name (spec.credential.secret), and add the External Client
#     App global OAuth settings files to .forceignore.
package steward.rules.nhi_sec_01

import data.steward.lib

finding contains f if {
	some app in input.apps
	true in [app.consumerSecretInRepo, app.globalOAuthInRepo]
	f := app_finding(app)
}

# Fast path: the identities with no secret reference; one holding a value
# has none either.
unreferenced := [id | some id in input.identities; id.credential.secretRef == ""]

finding contains f if {
	some id in unreferenced
	id.credential.inlineValue
	f := {
		"message": sprintf("Identity %s holds what looks like a secret value in spec.credential.secret instead of the name of a secret in the store", [id.name]),
		"identity": id.name,
		"resource": lib.identity_resource(id),
	}
}

finding contains f if {
	some id in unreferenced
	not id.credential.inlineValue
	not lib.retired(id)
	f := {
		"message": sprintf("Identity %s names no secret in spec.credential.secret: nothing records where its consumer secret is kept", [id.name]),
		"severity": "low",
		"identity": id.name,
		"resource": lib.identity_resource(id),
	}
}

app_finding(app) := {
	"message": sprintf("%s %s has its consumer secret committed in a metadata file", [lib.kind_label(app.kind), app.name]),
	"identity": lib.app_identity(app),
	"resource": lib.app_resource(app, "consumerSecret"),
} if {
	app.consumerSecretInRepo
} else := {
	"message": sprintf("%s %s has its global OAuth settings file (consumer key and flow switches) committed; Salesforce says it must not be in source control", [lib.kind_label(app.kind), app.name]),
	"severity": "high",
	"identity": lib.app_identity(app),
	"resource": lib.app_resource(app, "globalOAuth"),
}
