# METADATA
# title: Secret read by someone other than its workload
# description: |
#   Only the workload an identity serves may obtain its credentials, and
#   only through Steward's broker, which authenticates the workload and
#   records the read with the workload as the actor: its SPIFFE ID, or its
#   OIDC issuer and subject as issuer#subject. A read of the active version
#   by anyone else (a person, Steward itself, or a workload the identity
#   does not list among its consumers) is reported, as is any read of a
#   secret no inventoried identity is bound to. The readers come from the
#   audit log's secret.read records of the active version, so rotating the
#   secret closes the finding.
#
#   Break-glass elevations (steward elevate) grant permission sets, not
#   the secret: a person who saw the secret during one marks it
#   --secret-seen, which makes a rotation due (NHI-SEC-04). A read that
#   was approved all the same is accepted with an unexpired Exception for
#   NHI-SEC-03 naming the identity (or, for a secret bound to no identity,
#   naming the secret as its resource) until the rotation is done.
# custom:
#   id: NHI-SEC-03
#   severity: high
#   requires:
#     - secretStore
#   controls:
#     - OWASP NHI9:2025
#     - OWASP NHI2:2025
#     - OWASP NHI10:2025
#     - NIST 800-53 IA-9
#     - NIST 800-53 AU-12
#     - NIST CSF PR.AA-05
#     - NIST CSF DE.CM-09
#   remediation: |
#     Rotate the secret now (steward secret rotate), since whoever read it
#     may have kept a copy, and find out why it was read. Workloads obtain
#     tokens from the broker instead of reading the secret; list each one
#     under spec.consumers. Record an approved break-glass read with an
#     Exception for NHI-SEC-03 until the rotation is done.
package steward.rules.nhi_sec_03

import data.steward.lib

finding contains f if {
	some s in input.secretStore.secrets
	some name in s.identities
	some r in s.readers
	id := lib.identity_by_name[name]
	not consumer_read(id, r)
	f := {
		"message": sprintf("%s %s read the secret of identity %s (version %d) %s, last at %s; only the identity's workloads may read it, through the broker", [r.kind, r.id, id.name, s.version, times(r.count), r.last]),
		"identity": id.name,
		"resource": {
			"kind": "Secret",
			"name": s.name,
			"file": object.get(id, ["location", "file"], ""),
			"line": object.get(id, ["location", "line"], 0),
		},
	}
}

finding contains f if {
	some s in input.secretStore.secrets
	count(s.identities) == 0
	some r in s.readers
	f := {
		"message": sprintf("%s %s read secret %s (version %d) %s, last at %s, but no inventoried identity is bound to it", [r.kind, r.id, s.name, s.version, times(r.count), r.last]),
		"identity": null,
		"resource": {"kind": "Secret", "name": s.name, "file": "", "line": 0},
	}
}

# A read by one of the identity's consumers, as the broker records it.
consumer_read(id, r) if {
	r.kind == "workload"
	some c in id.consumers
	r.id == workload_name(c)
}

workload_name(c) := c.spiffe if {
	object.get(c, "spiffe", "") != ""
} else := sprintf("%s#%s", [object.get(c, "oidcIssuer", ""), object.get(c, "oidcSubject", "")])

times(n) := "once" if {
	n == 1
} else := sprintf("%d times", [n])
