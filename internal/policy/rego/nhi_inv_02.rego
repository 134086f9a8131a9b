# METADATA
# title: Identity has no accountable owning team
# description: |
#   Every identity is owned by a team, never by a person: people leave, and an
#   integration owned by someone who left has nobody to review it, rotate its
#   secret or retire it. The owning team must be defined by a Team manifest,
#   have members, and name a backup contact.
#
#   Problems with an identity's owner field are reported on the Identity.
#   Problems with the team itself (no members, no backup) are reported once
#   per team, on the Team, listing the identities it owns; the finding carries
#   the identity only when the team owns exactly one. Teams that own no
#   identity are not judged.
# custom:
#   id: NHI-INV-02
#   severity: high
#   controls:
#     - OWASP NHI1:2025
#     - NIST CSF GV.RR-02
#     - NIST CSF GV.RR-04
#     - NIST 800-53 AC-2(b)
#     - NIST 800-53 AC-2(h)
#     - CIS 5.5
#   remediation: |
#     Set spec.owner of the Identity to the name of a Team manifest (not a
#     person's address), and give that Team at least one member and a backup
#     contact that stays valid when members change.
package steward.rules.nhi_inv_02

import data.steward.lib

finding contains f if {
	some id in input.identities
	not id.owner in lib.team_names
	f := {
		"message": owner_problem(id),
		"identity": id.name,
		"resource": lib.identity_resource(id),
	}
}

finding contains f if {
	some team in input.teams
	count(object.get(team, "members", [])) == 0
	name := team.name
	ids := [id | some id in input.identities; id.owner = name]
	count(ids) > 0
	f := {
		"message": sprintf("Team %s owns %s but has no members", [team.name, owns(ids)]),
		"identity": lib.only([id.name | some id in ids]),
		"resource": lib.team_resource(team),
	}
}

finding contains f if {
	some team in input.teams
	object.get(team, "backup", "") == ""
	name := team.name
	ids := [id | some id in input.identities; id.owner = name]
	count(ids) > 0
	f := {
		"message": sprintf("Team %s owns %s but names no backup contact", [team.name, owns(ids)]),
		"severity": "medium",
		"identity": lib.only([id.name | some id in ids]),
		"resource": lib.team_resource(team),
	}
}

owner_problem(id) := sprintf("Identity %s has no owner", [id.name]) if {
	lib.blank(object.get(id, "owner", ""))
} else := sprintf("Identity %s is owned by %s, a person; the owner must be a team", [id.name, id.owner]) if {
	contains(id.owner, "@")
} else := sprintf("Identity %s is owned by team %s, which no Team manifest defines", [id.name, id.owner])

owns(ids) := sprintf("identity %s", [ids[0].name]) if {
	count(ids) == 1
} else := sprintf("%d identities (%s)", [count(ids), lib.short_list({id.name | some id in ids})])
