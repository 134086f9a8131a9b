-- The imported team roster (a directory export): one row per person and
-- team. An import replaces every row in one transaction.
CREATE TABLE roster_members (
	team     TEXT    NOT NULL,
	member   TEXT    NOT NULL,
	role     TEXT    NOT NULL,
	status   TEXT    NOT NULL,
	email    TEXT    NOT NULL DEFAULT '',
	since    TEXT    NOT NULL DEFAULT '',
	source   TEXT    NOT NULL,
	imported BIGINT  NOT NULL,
	PRIMARY KEY (team, member)
);

-- Decommissioning progress: one row per identity and checklist step, with
-- the step's outcome, when it last ran and its evidence (JSON).
CREATE TABLE decommission_steps (
	identity TEXT    NOT NULL,
	step     TEXT    NOT NULL,
	status   TEXT    NOT NULL,
	at       BIGINT  NOT NULL,
	actor    TEXT    NOT NULL,
	detail   TEXT    NOT NULL DEFAULT '',
	PRIMARY KEY (identity, step)
);
