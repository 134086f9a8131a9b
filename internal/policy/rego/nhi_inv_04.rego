# METADATA
# title: Owning team left without active members or with a departed backup
# description: |
#   When the people behind an integration leave, ownership must move to
#   another team or the integration must be decommissioned, within 14 days,
#   and its secret rotated, since those who left may hold a copy. Each
#   finding is that transfer-or-decommission task for one identity whose
#   lifecycle is not retired.
#
#   The roster comes from the Team manifests (members and backup) and, when
#   a store is given, from the roster imported into it with
#   'steward roster import', which adds people, roles and departures. A
#   person counts as departed from a team when the imported roster lists
#   them in that team as departed, or lists them only as departed (they left
#   the organisation); manifest entries match a roster row by member name or
#   e-mail address, ignoring case. A finding is raised when:
#
#   - the owning team has no active member or owner left (manifest members
#     and imported owners and members, minus those who departed);
#   - a backup contact of the team (the manifest's backup or an imported
#     backup) departed;
#   - with an imported roster, the owning team is neither in a Team manifest
#     nor in the roster: it was deleted from the directory.
#
#   The task is due 14 days after the latest departure it is about (the
#   roster's since date); once overdue it is critical.
# custom:
#   id: NHI-INV-04
#   severity: high
#   controls:
#     - OWASP NHI1:2025
#     - NIST CSF GV.RR-04
#     - NIST 800-53 AC-2(h)
#     - NIST 800-53 AC-2(l)
#     - NIST 800-53 AC-2(k)
#     - NIST 800-53 IA-5(i)
#     - CIS 6.2
#   remediation: |
#     Transfer the identity to a team with active members (set spec.owner to
#     that Team and name a backup who is still here), or decommission it
#     with 'steward decommission IDENTITY'. Either way rotate its secret
#     ('steward secret rotate'): the people who left may have kept a copy.
#     Then update the Team manifest or import the current directory roster.
package steward.rules.nhi_inv_04

import data.steward.lib

# Days allowed to transfer or decommission after a departure.
grace_days := 14

rows := object.get(input, ["roster", "members"], [])

has_roster := input.capabilities.roster

# The keys a roster row matches on: member name and e-mail, lower case.
row_keys(r) := {k |
	some v in [r.member, object.get(r, "email", "")]
	v != ""
	k := lower(v)
}

# [team, person key, since] of every departed row.
departures := {[r.team, k, object.get(r, "since", "")] |
	some r in rows
	r.status == "departed"
	some k in row_keys(r)
}

departed_pairs := {[t, k] | some [t, k, _] in departures}

active_keys := {k |
	some r in rows
	r.status == "active"
	some k in row_keys(r)
}

# People the roster lists only as departed: they left the organisation.
gone := {k | some [_, k, _] in departures} - active_keys

roster_teams := {r.team | some r in rows}

# Roster rows by team: team → array of rows, grouped once.
rows_by_team := {t: rs |
	some t in roster_teams
	rs := [r | some r in rows; r.team = t]
}

teams_by_name := {t.name: t | some t in input.teams}

# Teams that own an identity still in service (not lib.retired(id), written
# out: this runs for every identity).
owning_teams := {id.owner |
	some id in input.identities
	not id.lifecycle == "retired"
	id.owner != ""
}

departed(team, key) if [team, key] in departed_pairs

departed(_, key) if key in gone

# The latest since date of the given people's departures from a team, or
# from the organisation ("" if none is dated).
last_departure(team, keys) := max((({s |
	some [t, k, s] in departures
	t == team
	k in keys
} | {s |
	some [_, k, s] in departures
	k in keys
	k in gone
}) | {""}))

# Active members of an owning team: manifest members and imported owners
# and members who have not departed.
active_members(team) := {k |
	some m in object.get(teams_by_name, [team, "members"], [])
	k := lower(m)
	not departed(team, k)
} | {lower(r.member) |
	some r in object.get(rows_by_team, team, [])
	r.status == "active"
	r.role != "backup"
}

# Departed members of a team, as the roster names them, or as the manifest
# does when the team's roster rows do not list them.
departed_members(team) := {r.member |
	some r in object.get(rows_by_team, team, [])
	r.status == "departed"
	r.role != "backup"
} | {m |
	some m in object.get(teams_by_name, [team, "members"], [])
	k := lower(m)
	departed(team, k)
	not k in team_row_keys(team)
}

team_row_keys(team) := {k |
	some r in object.get(rows_by_team, team, [])
	some k in row_keys(r)
}

# Departed backups of a team: [the keys they match on, how they are named].
# An imported backup row that is the manifest's backup is named once.
departed_backups(team) := {[{k}, b] |
	b := object.get(teams_by_name, [team, "backup"], "")
	b != ""
	k := lower(b)
	departed(team, k)
} | {[keys, r.member] |
	some r in object.get(rows_by_team, team, [])
	r.role == "backup"
	r.status == "departed"
	keys := row_keys(r)
	not lower(object.get(teams_by_name, [team, "backup"], "")) in keys
}

# Whether the roster lists anyone as departed. Without such a row nobody
# counts as departed, so no backup departed and a team with a manifest
# member has an active one: the fast path for most teams.
any_departed if {
	some r in rows
	r.status == "departed"
}

# The owning teams that may have no active member left.
member_checks := owning_teams if {
	any_departed
} else := {team |
	some team in owning_teams
	not has_members(team)
}

has_members(team) if {
	some m in teams_by_name[team].members
	is_string(m)
}

# Team defined by a manifest or the roster.
known(team) if teams_by_name[team]

known(team) if team in roster_teams

problems contains [team, "members", msg, since] if {
	some team in member_checks
	known(team)
	count(active_members(team)) == 0
	gone_people := departed_members(team)
	since := last_departure(team, {lower(p) | some p in gone_people})
	msg := no_members_text(team, gone_people)
}

problems contains [team, "backup", msg, since] if {
	any_departed
	some team in owning_teams
	some [keys, name] in departed_backups(team)
	since := last_departure(team, keys)
	msg := sprintf("backup contact %s of team %s departed%s", [name, team, on_date(since)])
}

problems contains [team, "deleted", msg, ""] if {
	has_roster
	some team in owning_teams
	not contains(team, "@")
	not known(team)
	msg := sprintf("team %s is in no Team manifest and no longer in the imported roster", [team])
}

no_members_text(team, gone_people) := sprintf("team %s has no active members left (departed: %s)", [team, lib.short_list(gone_people)]) if {
	count(gone_people) > 0
} else := sprintf("team %s has no members", [team])

on_date(since) := sprintf(" on %s", [since]) if {
	since != ""
} else := ""

finding contains f if {
	some [team, _, msg, since] in problems
	some id in input.identities
	id.owner == team
	not lib.retired(id)
	f := object.union(
		{
			"message": sprintf("Identity %s: %s; transfer it to an active team or decommission it, and rotate its secret%s", [id.name, msg, due_text(since)]),
			"identity": id.name,
			"resource": resource(team, id),
		},
		overdue_severity(since),
	)
}

due_date(since) := time.format([time.parse_ns("2006-01-02", since) + (grace_days * lib.day_ns), "UTC", "2006-01-02"])

due_text(since) := "" if {
	since == ""
} else := sprintf(" (overdue: due %s, %d days after the departure)", [due_date(since), grace_days]) if {
	due_date(since) < lib.today
} else := sprintf(" (due %s)", [due_date(since)])

overdue_severity(since) := {"severity": "critical"} if {
	since != ""
	due_date(since) < lib.today
} else := {}

# The Team manifest when there is one, else the identity.
resource(team, id) := lib.team_resource(teams_by_name[team]) if {
	teams_by_name[team]
} else := lib.identity_resource(id)
