# METADATA
# title: Run-as user is not a dedicated integration user
# description: |
#   Every client-credentials token acts as the app's run-as user. That user
#   should exist for the integration alone: the Salesforce Integration
#   license, the "Minimum Access - API Only Integrations" profile (or API Only
#   User on another license), and no administrator or standard human profile.
#
#   The API Only User check runs only when the user's profile is known and
#   every declared profile and permission set resolved to a metadata file;
#   otherwise the effective permissions are incomplete and NHI-RUN-03
#   reports the gap. The license check runs only when the license is known.
# custom:
#   id: NHI-RUN-01
#   severity: high
#   controls:
#     - OWASP NHI5:2025
#     - OWASP NHI10:2025
#     - NIST CSF PR.AA-05
#     - NIST 800-53 AC-6
#     - NIST 800-53 AC-6(2)
#     - CIS 5.4
#   remediation: |
#     Create a user for this integration alone with the Salesforce
#     Integration license and the "Minimum Access - API Only Integrations"
#     profile, grant its data access through a permission set made for the
#     integration, and make it the app's run-as user.
package steward.rules.nhi_run_01

import data.steward.lib

admin_profiles := {"system administrator", "admin"}

human_profiles := {
	"standard user", "standard", "read only", "readonly",
	"marketing user", "contract manager", "solution manager",
}

integration_license := "Salesforce Integration"

finding contains f if {
	some user in input.users
	not dedicated(user)
	problems := {[sev, text] | some [sev, text] in problems_of(user)}
	count(problems) > 0
	f := {
		"message": sprintf("Run-as user %s is not a dedicated integration user: %s", [user.username, concat("; ", sort({text | some [_, text] in problems}))]),
		"severity": lib.max_severity({sev | some [sev, _] in problems}),
		"identity": lib.user_identity(user),
		"resource": lib.user_resource(user),
	}
}

# Fast path: a user on the Salesforce Integration license (which neither
# System Administrator nor the standard human profiles carry) holding API
# Only User.
dedicated(user) if {
	user.license == integration_license
	user.effective.user.ApiUserOnly != false
}

problems_of(user) := {p |
	some p in [
		admin_profile(user),
		human_profile(user),
		not_api_only(user),
		license(user),
	]
	p != null
}

admin_profile(user) := ["critical", sprintf("it has the System Administrator profile (%s)", [user.profile])] if {
	lower(user.profile) in admin_profiles
} else := null

human_profile(user) := ["high", sprintf("it has the standard profile %s, made for people", [user.profile])] if {
	lower(user.profile) in human_profiles
} else := null

not_api_only(user) := ["high", "it lacks the API Only User permission (ApiUserOnly), so it can log in to the user interface"] if {
	resolved(user)
	not user.effective.user.ApiUserOnly
} else := null

license(user) := ["low", sprintf("its license is %s, not %s", [user.license, integration_license])] if {
	not lib.blank(object.get(user, "license", ""))
	user.license != integration_license
} else := null

# The user's effective permissions are complete: its profile is known and
# every declared name resolved.
resolved(user) if {
	not lib.blank(object.get(user, "profile", ""))
	count(object.get(user, "unresolved", [])) == 0
}
