-- Break-glass elevations: one row per request, moved through its states
-- (requested, approved, active, post_review_due, closed; or denied,
-- expired, revoked) by check-and-set on state. Times are Unix nanoseconds,
-- 0 for none.
CREATE TABLE elevations (
	id             TEXT PRIMARY KEY,
	identity       TEXT NOT NULL,
	permission_set TEXT NOT NULL,
	reason         TEXT NOT NULL,
	reference      TEXT NOT NULL,
	requester      TEXT NOT NULL,
	duration       INTEGER NOT NULL,
	max_duration   INTEGER NOT NULL,
	state          TEXT NOT NULL,
	requested_at   INTEGER NOT NULL,
	request_expires_at INTEGER NOT NULL,
	approver       TEXT NOT NULL DEFAULT '',
	decided_at     INTEGER NOT NULL DEFAULT 0,
	decision_note  TEXT NOT NULL DEFAULT '',
	assignment_id  TEXT NOT NULL DEFAULT '',
	applied_at     INTEGER NOT NULL DEFAULT 0,
	expires_at     INTEGER NOT NULL DEFAULT 0,
	apply_error    TEXT NOT NULL DEFAULT '',
	removed_at     INTEGER NOT NULL DEFAULT 0,
	removed_by     TEXT NOT NULL DEFAULT '',
	secret_seen    INTEGER NOT NULL DEFAULT 0,
	review_due_at  INTEGER NOT NULL DEFAULT 0,
	closed_at      INTEGER NOT NULL DEFAULT 0,
	closed_by      TEXT NOT NULL DEFAULT '',
	review_note    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX elevations_identity ON elevations (identity, requested_at);
CREATE INDEX elevations_state ON elevations (state, expires_at);
