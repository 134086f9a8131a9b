-- Access-review items: one per identity and reason (a periodic campaign's
-- due date, an expansion's evidence), opened idempotently by their key and
-- closed once by the owning team's attestation.
CREATE TABLE review_items (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	identity   TEXT    NOT NULL,
	kind       TEXT    NOT NULL,
	dedup_key  TEXT    NOT NULL,
	campaign   TEXT    NOT NULL,
	opened_at  INTEGER NOT NULL,
	opened_by  TEXT    NOT NULL,
	due_at     INTEGER NOT NULL,
	evidence   BLOB    NOT NULL,
	status     TEXT    NOT NULL,
	decision   TEXT    NOT NULL DEFAULT '',
	comment    TEXT    NOT NULL DEFAULT '',
	closed_at  INTEGER NOT NULL DEFAULT 0,
	closed_by  TEXT    NOT NULL DEFAULT '',
	UNIQUE (identity, dedup_key)
);
CREATE INDEX review_items_status ON review_items (status, identity);
CREATE INDEX review_items_closed ON review_items (identity, closed_at);
