# METADATA
# title: API Enabled granted to the general user population
# description: |
#   A user with API Enabled can authorise any OAuth app to act as them,
#   which is how voice-phishing attacks take data out of an org. Live data
#   only: a profile that grants API Enabled to active users is reported,
#   since a profile reaches everyone who has it, and so is a permission set
#   that grants it to more than 20 active users. Grants for integration
#   users (the Salesforce Integration and Salesforce API Integration
#   licenses) and the System Administrator profile are left out.
# custom:
#   id: NHI-ORG-02
#   severity: medium
#   live: true
#   controls:
#     - NIST CSF PR.AA-05
#     - NIST 800-53 AC-6
#   remediation: |
#     Remove API Enabled from the profile or permission set and grant it
#     through a permission set assigned only to the integration users, admins
#     and developers who need the API.
package steward.rules.nhi_org_02

max_users := 20

integration_licenses := {"Salesforce Integration", "Salesforce API Integration"}

finding contains f if {
	input.capabilities.live
	some g in object.get(input, ["org", "apiEnabled"], [])
	g.users > limit(g)
	not exempt(g)
	f := {
		"message": sprintf("%s %s grants API Enabled to %d active users: keep API access to integration users, admins and developers", [kind_label(g), g.name, g.users]),
		"identity": null,
		"resource": {"kind": g.kind, "name": g.name, "file": "", "line": 0},
	}
}

# How many active users a grant may reach: none for a profile.
limit(g) := 0 if {
	g.kind == "Profile"
} else := max_users

exempt(g) if g.license in integration_licenses

exempt(g) if {
	g.kind == "Profile"
	g.name == "System Administrator"
}

kind_label(g) := "Profile" if {
	g.kind == "Profile"
} else := "Permission set"
