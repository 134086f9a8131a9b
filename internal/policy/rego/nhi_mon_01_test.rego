package steward.rules.nhi_mon_01_test

import data.steward.rules.nhi_mon_01

now := "2026-10-15T09:30:00Z"

log(overrides) := object.union(
	{
		"ok": true, "records": 40, "head": 40, "lastCheckpoint": 40,
		"lastCheckpointAt": "2026-10-15T08:00:00Z", "uncheckpointed": 0,
	},
	overrides,
)

eval(l) := fs if {
	fs := nhi_mon_01.finding with input as {"now": now, "secretStore": {"secrets": [], "audit": l}}
}

test_verified_and_covered_log_is_silent if {
	count(eval(log({}))) == 0
}

test_broken_chain_is_critical if {
	fs := eval(log({"ok": false, "firstBad": 7, "problem": "record 7 does not match its hash"}))
	fs == {{
		"message": "Steward's audit log does not verify: record 7 is the first that cannot be trusted: record 7 does not match its hash",
		"severity": "critical",
		"identity": null,
		"resource": {"kind": "AuditLog", "name": "steward", "file": "", "line": 0},
	}}
}

test_recent_uncovered_records_are_silent if {
	count(eval(log({"lastCheckpoint": 38, "uncheckpointed": 2, "oldestUncheckpointed": "2026-10-14T10:00:00Z"}))) == 0
}

test_old_uncovered_records_fire if {
	fs := eval(log({"lastCheckpoint": 38, "uncheckpointed": 2, "oldestUncheckpointed": "2026-10-14T09:00:00Z"}))
	fs == {{
		"message": "2 records of Steward's audit log, written since 2026-10-14T09:00:00Z, are covered by no signed checkpoint (the last one, signed 2026-10-15T08:00:00Z, covers up to record 38): a truncation of the log would go unnoticed",
		"severity": "medium",
		"identity": null,
		"resource": {"kind": "AuditLog", "name": "steward", "file": "", "line": 0},
	}}
}

test_log_without_any_checkpoint_fires if {
	some f in eval(log({"lastCheckpoint": 0, "uncheckpointed": 40, "oldestUncheckpointed": "2026-09-01T00:00:00Z"}))
	contains(f.message, "40 records of Steward's audit log, written since 2026-09-01T00:00:00Z, are covered by no signed checkpoint at all")
	some g in eval(log({"lastCheckpoint": 39, "uncheckpointed": 1, "oldestUncheckpointed": "2026-09-01T00:00:00Z"}))
	contains(g.message, "1 record of Steward's audit log, written since 2026-09-01T00:00:00Z, is covered by no signed checkpoint (the last one")
}

test_no_store_is_silent if {
	fs := nhi_mon_01.finding with input as {"now": now}
	count(fs) == 0
}
