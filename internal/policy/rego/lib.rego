# Shared helpers for the built-in rules.
#
# Performance. `steward check` evaluates every rule over every integration,
# and a fleet may have ten thousand of them, so rules are written to cost
# as little as possible on a compliant integration:
#
#   - Each rule body tests the cheapest condition that rules the common,
#     compliant case out first (a "fast path"), and builds messages, looks
#     up related records and works out details only after it.
#   - Complete rules (the indexes and sets below) are evaluated at most once
#     per evaluation, and only when a rule body first refers to them. The
#     grouping indexes are meant for the slow path: keep them out of the
#     fast path.
#   - The indexes group with an inner comprehension that unifies (=) on the
#     group key, which OPA evaluates once for all keys (comprehension
#     indexing). Partial rules (`x[k] contains v`) looked up by a ground key
#     are evaluated again for every key, and a comprehension inside a
#     function is evaluated again for every call: both make a rule quadratic
#     in the number of integrations.
#   - Dates are compared as YYYY-MM-DD strings against thresholds computed
#     once per distinct period; parsing a date per identity is expensive.
#   - Apps and users carry the names of the identities joined to them
#     (app.identities, user.identities, user.apps): the snapshot computes the
#     joins, and rules use them instead of joining again.
#   - On the fast path, an expression costs about a microsecond and a
#     function call several: OPA keeps a function's result for its
#     arguments, and an identity, app or user is a new argument every time.
#     Hot paths test fields directly, or call a function with a small value
#     that repeats across the fleet (kind_label(app.kind)), whose result is
#     then reused.
#   - A condition that is a bare reference (`app.flows.clientCredentials`,
#     `user.apps[1]`) makes OPA allocate a variable for each evaluation. On
#     the fast path it is written as a comparison instead: `== true` for a
#     boolean, `!= false` for any other value (which means the same as the
#     bare reference: defined and not false).
package steward.lib

# Apps by API name: name → array of apps. Two apps of different kinds (or in
# two package directories) may share a name; the index holds every app under
# the name.
apps_by_name := {name: apps |
	some name in app_names
	apps := [app | some app in input.apps; app.name = name]
}

# The names of the apps in the metadata.
app_names := {app.name | some app in input.apps}

# The app names identities declare.
named_apps := {id.salesforce.app | some id in input.identities}

# Identities by name. Names are unique in a loaded inventory; should two
# share one anyway, the first wins.
identity_by_name := {id.name: id | some id in input.identities} if {
	count({id.name | some id in input.identities}) == count(input.identities)
} else := {name: ids[0] |
	some name in {id.name | some id in input.identities}
	ids := [id | some id in input.identities; id.name = name]
}

# Identities by the app they name: app name → array of identities.
identities_by_app := {name: ids |
	some name in named_apps
	name != ""
	ids := [id | some id in input.identities; id.salesforce.app = name]
}

# Identities by their run-as username in lower case → array of identities.
identities_by_runas := {user: ids |
	some user in {lower(id.salesforce.runAs) | some id in input.identities; id.salesforce.runAs != ""}
	ids := [id | some id in input.identities; lower(id.salesforce.runAs) = user]
}

# Identities by their credential's secret reference → array of identities.
identities_by_secret := {ref: ids |
	some ref in {id.credential.secretRef | some id in input.identities; id.credential.secretRef != ""}
	ids := [id | some id in input.identities; id.credential.secretRef = ref]
}

# Apps named by more than one identity: app name → identity names. Apps in
# the metadata carry the join; app names no app in the metadata has are
# grouped from the identities.
multi_identity_apps := object.union(
	{app.name: app.identities | some app in input.apps; app.identities[1] != false},
	{name: [id.name | some id in ids] |
		some name in (named_apps - app_names)
		ids := object.get(identities_by_app, name, [])
		count(ids) > 1
	},
)

# Users by username in lower case. Usernames are unique without case; should
# two users differ only in case anyway, the first wins.
user_by_name := {lower(u.username): u | some u in input.users} if {
	count({lower(u.username) | some u in input.users}) == count(input.users)
} else := {name: users[0] |
	some name in {lower(u.username) | some u in input.users}
	users := [u | some u in input.users; lower(u.username) = name]
}

# An identity's last review: the day of its latest attestation in
# Steward's store when check or scan is given one (the store's record
# wins), else the manifest's review.lastReviewed.
last_reviewed(id) := object.get(last_attested, id.name, id.review.lastReviewed)

# The days of the latest attestations in Steward's store by identity name;
# empty without a store.
last_attested := attested if {
	attested := input.reviewStore.lastAttested
	is_object(attested)
} else := {}

# The names of the Team manifests.
team_names := {t.name | some t in input.teams}

# Teams by name. Names are unique; should two share one anyway, the first
# wins.
team_by_name := {t.name: t | some t in input.teams} if {
	count(team_names) == count(input.teams)
} else := {name: teams[0] |
	some name in team_names
	teams := [t | some t in input.teams; t.name = name]
}

# cc_apps are the apps with the client-credentials flow enabled, fully or
# half-way (an External Client App that enables it in only one of its
# files).
cc_apps := array.concat(
	[app | some app in input.apps; app.flows.clientCredentials == true],
	[app | some app in input.apps; app.flows.clientCredentialsPartial == true],
)

# The names of the identities that name an app: the snapshot's join, or,
# when the app does not carry it, the identities found by name.
app_identity_names(app) := app.identities if {
	is_array(app.identities)
} else := [id.name | some id in object.get(identities_by_app, app.name, [])]

# The names of the identities that declare a run-as user.
user_identity_names(user) := user.identities if {
	is_array(user.identities)
} else := [id.name | some id in object.get(identities_by_runas, lower(user.username), [])]

# The identity an app belongs to when exactly one identity names it; null
# otherwise (the finding then carries no identity).
app_identity(app) := app.identities[0] if {
	count(app.identities) == 1
} else := only(app_identity_names(app))

# The identity that declares a run-as user when exactly one does; null
# otherwise.
user_identity(user) := user.identities[0] if {
	count(user.identities) == 1
} else := only(user_identity_names(user))

# The single distinct element of xs; null when there are none or several.
only(xs) := xs[0] if {
	count(xs) == 1
} else := x if {
	distinct := {y | some y in xs}
	count(distinct) == 1
	some x in distinct
} else := null

# The identities an app or a user names, as identity objects.
identities_named(names) := [identity_by_name[name] | some name in names]

# The element of xs (identities, teams, apps) with the smallest name, for a
# deterministic resource when a finding is about several of them.
first_by_name(xs) := x if {
	first := min({y.name | some y in xs})
	some x in xs
	x.name == first
}

# A human label for an app's kind, for messages.
app_label(app) := kind_label(app.kind)

# The label of an app kind. Rules call it with app.kind rather than
# app_label with the app: OPA keeps a function's result for its arguments,
# so the few kinds are labelled once per query instead of once per app.
kind_label(kind) := object.get({"ConnectedApp": "Connected app", "ExternalClientApp": "External Client App"}, kind, kind)

# A resource object for an app setting: where the setting is written,
# falling back to the app's own location.
app_resource(app, key) := object.union({"kind": app.kind, "name": app.name, "file": "", "line": 0}, location) if {
	location := app.locations[key]
} else := object.union(
	{"kind": app.kind, "name": app.name, "file": "", "line": 0},
	object.get(app, "location", {}),
)

# A resource object for an app known by name only: the first app of that
# name in the metadata, or, when the metadata has none, the first of the
# identities that name it.
app_name_resource(name, ids) := app_resource(apps_by_name[name][0], "flows") if {
	name in app_names
} else := identity_resource(first_by_name(ids))

# A resource object for an identity manifest.
identity_resource(id) := object.union(
	{"kind": "Identity", "name": id.name, "file": "", "line": 0},
	object.get(id, "location", {}),
)

# A resource object for a user.
user_resource(user) := object.union(
	{"kind": "User", "name": user.username, "file": "", "line": 0},
	object.get(user, "location", {}),
)

# A resource object for a Team manifest.
team_resource(team) := object.union(
	{"kind": "Team", "name": team.name, "file": "", "line": 0},
	object.get(team, "location", {}),
)

# Whether an identity is retired (lifecycle retired). An identity with no
# lifecycle counts as active.
retired(id) if id.lifecycle == "retired"

# The snapshot's time in nanoseconds and its UTC date (YYYY-MM-DD).
now_ns := time.parse_rfc3339_ns(input.now)

today := time.format([now_ns, "UTC", "2006-01-02"])

day_ns := ((24 * 60) * 60) * 1e9

# The UTC date (YYYY-MM-DD) the given number of days before now. A date
# string d is more than n days old exactly when d < date_before(n).
date_before(n) := time.format([now_ns - (n * day_ns), "UTC", "2006-01-02"])

# Whole days from the date string d (YYYY-MM-DD) to the snapshot's now, by
# UTC calendar date.
days_since(d) := round((time.parse_ns("2006-01-02", today) - time.parse_ns("2006-01-02", d)) / day_ns)

# Whole days from the snapshot's now to the date string d.
days_until(d) := 0 - days_since(d)

# "1 day", "2 days": a number of days for messages.
days_text(n) := "1 day" if {
	n == 1
} else := sprintf("%d days", [n])

# "1 token", "3 tokens": a count and a noun for messages (plural with -s).
count_text(n, noun) := sprintf("1 %s", [noun]) if {
	n == 1
} else := sprintf("%d %ss", [n, noun])

# production reports whether an identity is a production identity.
production(id) if id.environment == "production"

# Severities by rank, and the most severe of a collection of severities.
severity_rank := {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}

max_severity(sevs) := s if {
	top := max({severity_rank[x] | some x in sevs})
	some s, rank in severity_rank
	rank == top
}

# Sorted, comma-separated list for messages.
join_sorted(xs) := concat(", ", sort([x | some x in xs]))

# Like join_sorted, but lists at most five and counts the rest, so that a
# message about a group of thousands stays readable.
short_list(xs) := join_sorted(xs) if {
	count(xs) <= 5
} else := sprintf("%s and %d more", [concat(", ", array.slice(sort([x | some x in xs]), 0, 5)), count(xs) - 5])

# "name (environment)" labels of identities, sorted, for messages.
names_with_environments(ids) := short_list({sprintf("%s (%s)", [id.name, env]) |
	some id in ids
	env := environment_label(id)
})

environment_label(id) := id.environment if {
	id.environment != ""
} else := "no environment"

# Whether a string is empty or only white space.
blank(s) if trim_space(s) == ""
