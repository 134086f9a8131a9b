# METADATA
# title: Steward's audit log is not tamper-evident
# description: |
#   Steward's own audit log must show every governance action and secret
#   access as it happened. Its records form a SHA-256 hash chain with
#   Ed25519-signed checkpoints; check and scan verify it when given the
#   store (--data-dir), and with --audit-checkpoints also against
#   checkpoints exported and kept elsewhere. A record that was edited,
#   deleted or reordered, a rewritten stretch or a truncated tail is
#   critical. Records that no signed checkpoint has covered for more than
#   24 hours are reported too: until a checkpoint covers them, removing
#   them from the end of the log would go unnoticed.
# custom:
#   id: NHI-MON-01
#   severity: critical
#   requires:
#     - secretStore
#   controls:
#     - NIST 800-53 AU-9
#     - NIST 800-53 AU-10
#     - NIST 800-53 AU-12
#     - NIST CSF PR.PS-04
#     - CIS 8.9
#   remediation: |
#     For a log that does not verify: keep the database as it is, run
#     steward audit verify (with --checkpoints and an earlier export) to see
#     what changed, and treat the secrets it concerns as exposed. For
#     records without a checkpoint: Steward signs one with the first record
#     written after --checkpoint-interval, so any recorded action covers
#     them; if checkpoints were deleted, compare with an exported copy, and
#     keep a steward audit export --checkpoints-only somewhere the
#     database's administrators cannot write.
package steward.rules.nhi_mon_01

import data.steward.lib

# How long records may wait for a checkpoint.
max_unchecked_hours := 24

finding contains f if {
	log := input.secretStore.audit
	log.ok == false
	f := {
		"message": sprintf("Steward's audit log does not verify: record %d is the first that cannot be trusted: %s", [log.firstBad, log.problem]),
		"severity": "critical",
		"identity": null,
		"resource": audit_resource,
	}
}

finding contains f if {
	log := input.secretStore.audit
	log.ok == true
	log.uncheckpointed > 0
	time.parse_rfc3339_ns(log.oldestUncheckpointed) < lib.now_ns - ((max_unchecked_hours * 3600) * 1000000000)
	f := {
		"message": sprintf("%s of Steward's audit log, written since %s, %s covered by no signed checkpoint%s: a truncation of the log would go unnoticed", [lib.count_text(log.uncheckpointed, "record"), log.oldestUncheckpointed, be(log.uncheckpointed), last_checkpoint(log)]),
		"severity": "medium",
		"identity": null,
		"resource": audit_resource,
	}
}

last_checkpoint(log) := sprintf(" (the last one, signed %s, covers up to record %d)", [log.lastCheckpointAt, log.lastCheckpoint]) if {
	log.lastCheckpoint > 0
} else := " at all"

be(n) := "is" if {
	n == 1
} else := "are"

audit_resource := {"kind": "AuditLog", "name": "steward", "file": "", "line": 0}
