# METADATA
# title: Client-credentials app enables other OAuth flows or is incomplete
# description: |
#   A server-to-server integration needs the client-credentials flow and
#   nothing else. Every other flow on the same app (authorization code and
#   credentials, token exchange, device, named-user JWT, JWT bearer with a
#   certificate) is another way to obtain tokens with the same consumer key,
#   and an optional consumer secret lets anyone holding the public key start
#   some of them.
#
#   The rule also reports client-credentials configurations Steward can see
#   are incomplete: an External Client App that enables the flow in only one
#   of its files (or whose plugin policy turns OAuth off), and an app with
#   the flow on and no run-as user in its metadata.
# custom:
#   id: NHI-APP-03
#   severity: medium
#   controls:
#     - OWASP NHI4:2025
#     - NIST CSF PR.AA-03
#     - NIST CSF PR.PS-01
#     - NIST 800-53 IA-5(c)
#   remediation: |
#     Turn off every OAuth flow on the app except client credentials and
#     require the consumer secret. For an External Client App, enable client
#     credentials in both the global OAuth settings and the OAuth policies,
#     and set the run-as user (clientCredentialsFlowUser, or
#     oauthClientCredentialUser on a connected app) in source control.
package steward.rules.nhi_app_03

import data.steward.lib

# Flows other than client credentials, with how messages name them.
other_flows := {
	"codeCredential": "authorization code and credentials",
	"tokenExchange": "token exchange",
	"device": "device flow",
	"namedUserJwt": "named-user JWT",
	"jwtBearer": "JWT bearer (certificate)",
	"consumerSecretOptional": "consumer secret optional",
}

# The flows of an app with client credentials and nothing else.
cc_only := {
	"clientCredentials": true, "clientCredentialsPartial": false,
	"codeCredential": false, "tokenExchange": false, "device": false,
	"namedUserJwt": false, "jwtBearer": false, "consumerSecretOptional": false,
}

# Flows that hand out tokens without the consumer secret.
high_risk := {"device", "consumerSecretOptional"}

# Fast path: the apps whose flows are anything but client credentials alone.
unusual := [app | some app in lib.cc_apps; app.flows != cc_only]

finding contains f if {
	some app in unusual
	enabled := {flow | some flow, _ in other_flows; object.get(app.flows, flow, false) == true}
	count(enabled) > 0
	f := {
		"message": sprintf("%s %s enables %s besides client credentials", [
			lib.kind_label(app.kind), app.name,
			lib.join_sorted({other_flows[flow] | some flow in enabled}),
		]),
		"severity": flows_severity(enabled),
		"identity": lib.app_identity(app),
		"resource": lib.app_resource(app, "flows"),
	}
}

finding contains f if {
	some app in unusual
	app.flows.clientCredentialsPartial
	f := {
		"message": sprintf("%s %s enables client credentials in only part of its configuration (global OAuth settings, OAuth policies, plugin policy): the flow will not work, and the files disagree", [lib.kind_label(app.kind), app.name]),
		"severity": "low",
		"identity": lib.app_identity(app),
		"resource": lib.app_resource(app, "flows"),
	}
}

finding contains f if {
	some app in lib.cc_apps
	app.runAs == ""
	app.flows.clientCredentials
	f := {
		"message": sprintf("%s %s enables client credentials but names no run-as user in its metadata: the run-as is set only in the org, and Steward cannot verify it offline", [lib.kind_label(app.kind), app.name]),
		"severity": "low",
		"identity": lib.app_identity(app),
		"resource": lib.app_resource(app, "runAs"),
	}
}

flows_severity(enabled) := "high" if {
	some flow in enabled
	flow in high_risk
} else := "medium"
