# METADATA
# title: Secret older than its rotation period
# description: |
#   A consumer secret that never changes stays useful to whoever copied it.
#   The secret is rotated within its identity's rotation period (default 90
#   days); secrets of critical identities and of vendor-operated identities
#   within 30 days. Steward warns from 80% of the period on, reports an
#   overdue secret, and raises it to high once it is overdue by more than a
#   whole period again.
#
#   Age is counted from the day the secret's active version became active
#   in Steward's secret store when check or scan is given the store
#   (--data-dir); the store's own record wins. Otherwise, or when the store
#   holds no active version of the identity's secret, it is counted from
#   spec.credential.rotatedAt, and an identity that records no rotation
#   date is not judged on age. Retired identities are skipped: their secret
#   should no longer exist (NHI-INV-06).
# custom:
#   id: NHI-SEC-02
#   severity: medium
#   controls:
#     - OWASP NHI7:2025
#     - OWASP NHI2:2025
#     - NIST CSF PR.AA-01
#     - NIST 800-53 IA-5(f)
#     - NIST 800-53 IA-13(3)
#   remediation: |
#     Rotate the consumer secret (for an External Client App, through its
#     staged credentials: stage, update the consumer, activate, delete the
#     old one), then record the date in spec.credential.rotatedAt or let
#     Steward's secret store record it. Set spec.credential.rotationDays to
#     30 or less for critical and vendor-operated identities.
package steward.rules.nhi_sec_02

import data.steward.lib

default_period := 90

strict_period := 30

period(id) := effective_period(id.credential.rotationDays)

effective_period(days) := days if {
	days > 0
} else := default_period

# Fast path: for each rotation period the identities declare, the date a
# secret rotated before is due for a warning (at 80% of the period).
warn_before := {days: lib.date_before(ceil((effective_period(days) * 8) / 10) - 1) |
	some days in {id.credential.rotationDays | some id in input.identities}
}

# The secret store's record of each identity's secret: identity name →
# secret, for the secrets with an active version. Empty without a store.
store_secret := {name: s |
	some s in input.secretStore.secrets
	s.rotatedOn != ""
	some name in s.identities
}

# Age from the declared date, for identities the store has no record of.
finding contains f if {
	some id in input.identities
	id.credential.rotatedAt < warn_before[id.credential.rotationDays]
	rotated := id.credential.rotatedAt
	rotated != ""
	not store_secret[id.name]
	not lib.retired(id)
	p := period(id)
	age := lib.days_since(rotated)
	f := {
		"message": age_message(sprintf("The secret of identity %s", [id.name]), rotated, age, p),
		"severity": age_severity(age, p),
		"identity": id.name,
		"resource": secret_resource(id),
	}
}

# Age from the secret store's record.
finding contains f if {
	some s in input.secretStore.secrets
	s.rotatedOn != ""
	some name in s.identities
	id := lib.identity_by_name[name]
	s.rotatedOn < warn_before[id.credential.rotationDays]
	not lib.retired(id)
	p := period(id)
	age := lib.days_since(s.rotatedOn)
	subject := sprintf("The secret of identity %s (version %d in Steward's secret store)", [id.name, s.version])
	f := {
		"message": age_message(subject, s.rotatedOn, age, p),
		"severity": age_severity(age, p),
		"identity": id.name,
		"resource": secret_resource(id),
	}
}

finding contains f if {
	some id in input.identities
	needs_strict_period(id)
	p := period(id)
	p > strict_period
	not lib.retired(id)
	reasons := strict_reasons(id)
	f := {
		"message": sprintf("Identity %s is %s, so its secret must rotate within %d days, but its rotation period is %d days%s", [id.name, concat(" and ", reasons), strict_period, p, default_note(id)]),
		"severity": "low",
		"identity": id.name,
		"resource": secret_resource(id),
	}
}

age_message(subject, rotated, age, p) := sprintf("%s was last rotated on %s, %s ago: %s past its %d-day rotation period", [subject, rotated, lib.days_text(age), lib.days_text(age - p), p]) if {
	age > p
} else := sprintf("%s was last rotated on %s, %s ago: rotation is due today (period %d days)", [subject, rotated, lib.days_text(age), p]) if {
	age == p
} else := sprintf("%s was last rotated on %s, %s ago: rotation is due in %s (period %d days)", [subject, rotated, lib.days_text(age), lib.days_text(p - age), p])

age_severity(age, p) := "high" if {
	age > 2 * p
} else := "medium" if {
	age > p
} else := "low"

# Fast path: critical and vendor-operated identities.
needs_strict_period(id) if id.criticality == "critical"

needs_strict_period(id) if id.vendor != ""

# Why an identity needs the shorter rotation period.
strict_reasons(id) := array.concat(critical_reason(id), vendor_reason(id))

critical_reason(id) := ["critical"] if {
	id.criticality == "critical"
} else := []

vendor_reason(id) := [sprintf("operated by vendor %s", [id.vendor])] if {
	id.vendor != ""
} else := []

default_note(id) := " (the default)" if {
	object.get(id, ["credential", "rotationDays"], 0) <= 0
} else := ""

# The secret as a resource: named by its reference, located at the identity
# that declares it.
secret_resource(id) := {
	"kind": "Secret",
	"name": secret_name(id),
	"file": object.get(id, ["location", "file"], ""),
	"line": object.get(id, ["location", "line"], 0),
}

secret_name(id) := id.credential.secretRef if {
	not lib.blank(object.get(id, ["credential", "secretRef"], ""))
} else := id.name
