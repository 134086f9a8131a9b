# METADATA
# title: Identity access review overdue or too infrequent
# description: |
#   The owning team recertifies each identity: still needed, permissions,
#   scopes, IP ranges and owner still right, secret age acceptable. Reviews
#   are due every spec.review.intervalDays (default 90), at least yearly, and
#   at least quarterly for high and critical identities; a longer declared
#   interval is reported and the maximum applies. A review overdue by more
#   than a whole interval again is high. Retired identities are skipped.
#
#   When check or scan is given Steward's store (--data-dir), the latest
#   attestation recorded there ('steward review attest') is the last
#   review; otherwise spec.review.lastReviewed is.
# custom:
#   id: NHI-REV-01
#   severity: medium
#   controls:
#     - OWASP NHI1:2025
#     - OWASP NHI5:2025
#     - OWASP NHI9:2025
#     - NIST CSF PR.AA-05
#     - NIST CSF GV.RR-02
#     - NIST 800-53 AC-2(j)
#     - NIST 800-53 AC-6(7)
#     - CIS 5.1
#     - CIS 5.5
#     - CIS 6.8
#   remediation: |
#     Have the owning team review the identity (need, permissions, scopes, IP
#     ranges, owner, secret age) and record the date in
#     spec.review.lastReviewed; keep spec.review.intervalDays at 90 or less
#     for high and critical identities and at 365 or less otherwise.
package steward.rules.nhi_rev_01

import data.steward.lib

default_interval := 90

strict_criticalities := {"high", "critical"}

declared_interval(id) := effective_interval(id.review.intervalDays)

effective_interval(days) := days if {
	days > 0
} else := default_interval

max_interval(id) := max_for(id.criticality)

max_for(criticality) := 90 if {
	criticality in strict_criticalities
} else := 365

interval(id) := min({declared_interval(id), max_interval(id)})

# Fast path: for each declared interval and criticality, the date a review
# older than is overdue. A review on or after it is in time; an empty date,
# or a criticality not listed here, is looked at in detail.
due_before := {days: {criticality: lib.date_before(min({effective_interval(days), max_for(criticality)})) |
	some criticality in {"critical", "high", "medium", "low", ""}
} |
	some days in {id.review.intervalDays | some id in input.identities}
}

finding contains f if {
	some id in input.identities

	# lib.last_reviewed(id), written out: a function call for every
	# identity costs more than the comparison.
	object.get(lib.last_attested, id.name, id.review.lastReviewed) < object.get(due_before[id.review.intervalDays], id.criticality, "9999-12-31")
	not lib.retired(id)
	f := object.union(review_finding(id), {
		"identity": id.name,
		"resource": lib.identity_resource(id),
	})
}

finding contains f if {
	some id in input.identities
	id.review.intervalDays > 90
	declared_interval(id) > max_interval(id)
	not lib.retired(id)
	f := {
		"message": sprintf("Identity %s declares a review every %d days; %s identities are reviewed at least every %d days", [id.name, declared_interval(id), criticality_label(id), max_interval(id)]),
		"identity": id.name,
		"resource": lib.identity_resource(id),
	}
}

overdue_severity(over, period) := "high" if {
	over > period
} else := "medium"

criticality_label(id) := id.criticality if {
	id.criticality in {"high", "critical"}
} else := "all"

review_finding(id) := {
	"message": sprintf("Identity %s has no recorded review (review.lastReviewed is empty)%s", [id.name, open_note(id)]),
	"severity": "medium",
} if {
	lib.last_reviewed(id) == ""
} else := {
	"message": sprintf("Identity %s was last reviewed on %s%s, %s ago: the review due every %d days is %s overdue%s", [id.name, last, source_note(id), lib.days_text(age), period, lib.days_text(age - period), open_note(id)]),
	"severity": overdue_severity(age - period, period),
} if {
	last := lib.last_reviewed(id)
	period := interval(id)
	age := lib.days_since(last)
	age > period
}

# Where the last review comes from, when it is Steward's store.
source_note(id) := " (attested in Steward)" if {
	object.get(input, ["reviewStore", "lastAttested", id.name], "") != ""
} else := ""

# The review items open in Steward's store, if any.
open_note(id) := sprintf("; %d review item(s) open in Steward", [n]) if {
	n := object.get(input, ["reviewStore", "open", id.name], 0)
	n > 0
} else := ""
