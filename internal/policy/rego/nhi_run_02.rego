# METADATA
# title: Run-as user holds a high-risk permission
# description: |
#   A client-credentials token can do whatever its run-as user can. A run-as
#   user holding an administrative or data-wide permission turns a leaked
#   consumer secret into control of the org: Modify All Data, View All Data,
#   user and permission management, Apex and metadata deployment, connected
#   app and secret management, and object-level View All or Modify All.
#
#   Permissions are the user's effective ones, across its profile, permission
#   sets and permission set groups, where Modify All on an object implies View
#   All; the message names what grants each. An
#   accepted, time-bound Exception (NHI-REV-03) can suppress the finding for
#   one identity.
# custom:
#   id: NHI-RUN-02
#   severity: high
#   controls:
#     - OWASP NHI5:2025
#     - NIST CSF PR.AA-05
#     - NIST 800-53 AC-6
#     - NIST 800-53 AC-6(1)
#     - NIST 800-53 AC-6(5)
#     - NIST 800-53 AC-2(7)
#     - CIS 5.4
#     - CIS 6.8
#   remediation: |
#     Remove the listed permissions from the profile, permission sets or
#     groups that grant them to the run-as user, and grant only the object
#     and field access the integration declares. If the integration truly
#     needs one for a while, record a time-bound Exception with compensating
#     controls.
package steward.rules.nhi_run_02

import data.steward.lib

denied := {
	"ModifyAllData", "ViewAllData", "ViewAllFieldsGlobal", "ManageUsers", "ManageInternalUsers",
	"ResetPasswords", "ManageProfilesPermissionsets", "AssignPermissionSets", "CustomizeApplication",
	"ModifyMetadata", "AuthorApex", "ViewSetup", "ManageRemoteAccess", "ViewClientSecret", "UseAnyApiAuth",
	"CanApproveUninstalledApps", "ManageAuthProviders", "DelegatedTwoFactor", "ExportReport", "ManageSharing",
	"BulkApiHardDelete", "QueryAllFiles", "ManageEncryptionKeys", "ManageCertificates", "ManageNamedCredentials",
	"ManageIpAddresses", "ManageLoginAccessPolicies", "ManagePasswordPolicies",
}

critical := {"ModifyAllData", "ViewAllData", "ManageUsers", "AuthorApex", "ModifyMetadata", "CustomizeApplication"}

finding contains f if {
	some user in input.users
	wide(user)
	perms := {p | some p, _ in object.get(user, ["effective", "user"], {}); p in denied}
	objects := {[o, a] |
		some o, a in object.get(user, ["effective", "objects"], {})
		object_wide(a)
	}
	count(perms) + count(objects) > 0
	held := array.concat(
		sort([sprintf("%s (%s)", [p, sources(user.effective.user[p])]) | some p in perms]),
		sort([sprintf("%s on %s (%s)", [object_label(a), o, sources(object.get(a, "grantedBy", []))]) | some [o, a] in objects]),
	)
	f := {
		"message": sprintf("Run-as user %s holds %s", [user.username, concat("; ", held)]),
		"severity": severity(perms),
		"identity": lib.user_identity(user),
		"resource": lib.user_resource(user),
	}
}

# Fast path: whether the user holds anything this rule reports.
wide(user) if {
	some p, _ in user.effective.user
	p in denied
}

wide(user) if {
	some _, access in user.effective.objects
	access.viewAll == true
}

object_wide(a) if a.viewAll == true

object_wide(a) if a.modifyAll == true

object_label(a) := "Modify All" if {
	a.modifyAll
} else := "View All"

sources(granted) := lib.join_sorted(granted) if {
	count(granted) > 0
} else := "source unknown"

severity(perms) := "critical" if {
	some p in perms
	p in critical
} else := "high"
