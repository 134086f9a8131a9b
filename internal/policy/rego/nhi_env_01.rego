# METADATA
# title: Credential shared across environments
# description: |
#   Production and non-production must not share a credential. When a
#   sandbox or development workload holds the app, consumer key or secret a
#   production identity uses, anything that leaks from the weaker
#   environment opens production.
#
#   Reported: an app named by identities of different environments; one
#   consumer key (compared by fingerprint) in apps of different names whose
#   identities are in different environments; one secret reference used by
#   identities of different environments. Identities with no environment are
#   left to NHI-ENV-03.
# custom:
#   id: NHI-ENV-01
#   severity: critical
#   controls:
#     - OWASP NHI8:2025
#     - OWASP NHI9:2025
#     - NIST CSF PR.IR-01
#     - NIST CSF PR.DS-02
#   remediation: |
#     Give each environment its own app (or at least its own consumer key and
#     secret) and its own secret in the store, re-key sandbox apps after every
#     refresh from production, and point each Identity at its environment's
#     app and secret only.
package steward.rules.nhi_env_01

import data.steward.lib

# Fast path: the consumer-key fingerprints in the metadata are shared only
# when one appears twice.
fingerprints := [app.consumerKeyFingerprint | some app in input.apps; app.consumerKeyFingerprint != ""]

repeats(xs) if count(xs) != count({x | some x in xs})

# Fast path: when every identity has a secret reference of its own, no
# secret is shared. Otherwise the non-empty references are counted.
secrets_may_repeat if {
	count({id.credential.secretRef | some id in input.identities}) != count(input.identities)
	repeats([id.credential.secretRef | some id in input.identities; id.credential.secretRef != ""])
}

# Apps by consumer-key fingerprint.
apps_by_key := {fp: apps |
	some fp in {fp | some fp in fingerprints}
	apps := [app | some app in input.apps; app.consumerKeyFingerprint = fp]
}

finding contains f if {
	some name, names in lib.multi_identity_apps
	ids := lib.identities_named(names)
	envs := environments(ids)
	count(envs) > 1
	f := {
		"message": sprintf("App %s is used in %d environments (%s) by identities %s", [name, count(envs), lib.join_sorted(envs), lib.names_with_environments(ids)]),
		"identity": null,
		"resource": lib.app_name_resource(name, ids),
	}
}

finding contains f if {
	repeats(fingerprints)
	some fp, apps in apps_by_key
	apps[1]
	names := {app.name | some app in apps}
	count(names) > 1
	ids := [id | some name in names; some id in object.get(lib.identities_by_app, name, [])]
	envs := environments(ids)
	count(envs) > 1
	f := {
		"message": sprintf("Apps %s share one consumer key (fingerprint %s) across %d environments (%s), used by identities %s", [lib.short_list(names), fp, count(envs), lib.join_sorted(envs), lib.names_with_environments(ids)]),
		"identity": null,
		"resource": lib.app_resource(lib.first_by_name(apps), ""),
	}
}

finding contains f if {
	secrets_may_repeat
	some ref, ids in lib.identities_by_secret
	ids[1]
	envs := environments(ids)
	count(envs) > 1
	first := lib.first_by_name(ids)
	f := {
		"message": sprintf("Secret %s is used in %d environments (%s) by identities %s", [ref, count(envs), lib.join_sorted(envs), lib.names_with_environments(ids)]),
		"identity": null,
		"resource": {
			"kind": "Secret",
			"name": ref,
			"file": object.get(first, ["location", "file"], ""),
			"line": object.get(first, ["location", "line"], 0),
		},
	}
}

environments(ids) := {id.environment | some id in ids; id.environment != ""}
