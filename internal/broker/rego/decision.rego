# METADATA
# title: Runtime token decision
# description: |
#   Decides whether an authenticated workload may obtain a token for an
#   Identity. The decision allows only when no deny rule applies; every deny
#   rule adds a reason. Operators add deny rules in their own packages under
#   steward.broker.custom; those reasons join the built-in ones.
package steward.broker

# Times in the input are RFC 3339 in UTC ("" for none), so comparing the
# strings compares the times. The broker computes the ends of the grace
# periods (review.graceEnds, secret.graceEnds) from its configuration.
#
# Every request is decided here, so the rules are written for the common
# allowed request: a condition compared with a constant (==) lets OPA's
# rule index skip the rule without evaluating it, and the condition that
# fails on an allowed request comes first in each body.

# deny holds one {"code", "message"} object per reason to refuse.
deny contains {
	"code": "identity_killed",
	"message": sprintf("identity %s is killed: issuance is blocked until an operator revives it", [input.identity.name]),
} if {
	input.killed == true
}

deny contains {
	"code": "identity_retired",
	"message": sprintf("identity %s is retired", [input.identity.name]),
} if {
	input.identity.lifecycle == "retired"
}

# A workload asserts no environment when its environment is empty or
# absent: two rules, so that the first one is indexed and the common case
# of an asserted environment skips it.
deny contains no_environment if {
	input.workload.environment == ""
}

deny contains no_environment if {
	not input.workload.environment
}

no_environment := {
	"code": "environment_mismatch",
	"message": sprintf("workload %s asserts no environment; identity %s is for %s (set environment or environmentClaim on its issuer or trust domain)", [input.workload.name, input.identity.name, input.identity.environment]),
}

deny contains {
	"code": "environment_mismatch",
	"message": sprintf("workload %s runs in %s but identity %s is for %s", [input.workload.name, input.workload.environment, input.identity.name, input.identity.environment]),
} if {
	input.workload.environment != input.identity.environment
	input.workload.environment != ""
}

deny contains {
	"code": "consumer_not_allowed",
	"message": sprintf("workload %s is not among the consumers of identity %s", [input.workload.name, input.identity.name]),
} if {
	not input.consumer
}

deny contains {
	"code": "review_overdue",
	"message": sprintf("review of identity %s was due %s and its grace period ended %s", [input.identity.name, input.review.due, input.review.graceEnds]),
} if {
	input.now > input.review.graceEnds
	input.review.graceEnds != ""
}

deny contains {
	"code": "secret_rotation_overdue",
	"message": sprintf("secret of identity %s was due for rotation %s and its grace period ended %s", [input.identity.name, input.secret.rotationDeadline, input.secret.graceEnds]),
} if {
	input.now > input.secret.graceEnds
	input.secret.graceEnds != ""
}

# An open posture finding denies when its rule id or its severity is in
# the broker's policy.denyFindings setting (input.settings.denyFindings),
# empty by default: findings come from the manifests as they were when the
# broker started, and a new posture rule must not stop production
# integrations unless the operator chose so. The setting is iterated
# first, so that with none listed the findings are not read at all.
deny contains open_finding(f) if {
	some listed in input.settings.denyFindings
	some f in input.findings
	listed in {f.rule, f.severity}
}

open_finding(f) := {
	"code": "open_finding",
	"message": sprintf("identity %s has an open %s finding %s: %s", [input.identity.name, f.severity, f.rule, f.message]),
}

# reasons are the built-in and the custom deny reasons. A custom reason may
# be an object with a code and a message, or a plain message.
reasons := deny | {reason(r) | some r in data.steward.broker.custom[_].deny}

reason(r) := r if is_object(r)

reason(r) := {"code": "custom", "message": r} if is_string(r)

# decision allows when no reason denies.
decision := {"allow": count(reasons) == 0, "reasons": reasons}
