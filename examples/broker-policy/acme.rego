# Custom runtime decision rules: each deny element adds a reason to refuse a
# token. Load with the broker's decision policy directories.
package steward.broker.custom.acme

# No tokens while a critical posture finding is open against the identity.
deny contains {"code": "critical_finding", "message": sprintf("open critical finding %s", [f.rule])} if {
	some f in input.findings
	f.severity == "critical"
}

# Production identities only for GitHub Actions runs of the main branch.
deny contains "production tokens are for the main branch only" if {
	input.identity.environment == "production"
	input.workload.issuer == "https://token.actions.githubusercontent.com"
	not input.workload.claims.ref == "refs/heads/main"
}
