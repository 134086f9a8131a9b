# METADATA
# title: Org bypass permissions held outside a small admin set
# description: |
#   Use Any API Client, Approve Uninstalled Connected Apps, View Client
#   Secret and Manage Connected Apps each bypass a guardrail on connected
#   apps, so they belong to a small, documented admin set. Live data only:
#   for each bypass permission, active holders outside the System
#   Administrator profile are reported with what grants them the
#   permission, and so is a permission held by more than 5 active users.
#   Run-as users holding one are left to NHI-RUN-02.
# custom:
#   id: NHI-ORG-01
#   severity: high
#   live: true
#   controls:
#     - NIST CSF PR.AA-05
#     - NIST 800-53 AC-6(1)
#     - NIST 800-53 AC-6(5)
#   remediation: |
#     Remove the permission from profiles and broad permission sets and grant
#     it through one permission set assigned to a few named administrators;
#     document who they are. Turn on API Access Control so that only
#     approved apps can be used.
package steward.rules.nhi_org_01

import data.steward.lib

max_holders := 5

# Metadata permission names and their labels in Setup.
bypass := {
	"UseAnyApiAuth": "Use Any API Client",
	"CanApproveUninstalledApps": "Approve Uninstalled Connected Apps",
	"ViewClientSecret": "View Client Secret",
	"ManageRemoteAccess": "Manage Connected Apps",
}

admin_profile := "System Administrator"

finding contains f if {
	input.capabilities.live
	some perm, holders in object.get(input, ["org", "bypass"], {})
	outside := {sprintf("%s (%s)", [h.username, concat(", ", h.grantedBy)]) |
		some h in holders
		h.profile != admin_profile
		not run_as_user(h.username)
	}
	count(outside) > 0
	label := bypass[perm]
	f := {
		"message": sprintf("%s (%s) is held outside the %s profile by %s", [label, perm, admin_profile, lib.short_list(outside)]),
		"identity": null,
		"resource": org_resource,
	}
}

finding contains f if {
	input.capabilities.live
	some perm, holders in object.get(input, ["org", "bypass"], {})
	count(holders) > max_holders
	label := bypass[perm]
	f := {
		"message": sprintf("%s (%s) is held by %d active users, more than %d: %s", [label, perm, count(holders), max_holders, lib.short_list({h.username | some h in holders})]),
		"identity": null,
		"resource": org_resource,
	}
}

# Whether a user is the run-as user of an inventoried identity.
run_as_user(username) if count(object.get(lib.identities_by_runas, lower(username), [])) > 0

org_resource := {"kind": "Org", "name": name, "file": "", "line": 0} if {
	name := object.get(input, ["org", "url"], "")
	name != ""
} else := {"kind": "Org", "name": object.get(input, ["org", "id"], ""), "file": "", "line": 0}
