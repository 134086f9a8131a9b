CREATE TABLE secret_versions (
	identity      TEXT    NOT NULL,
	version       INTEGER NOT NULL,
	state         TEXT    NOT NULL,
	created_at    INTEGER NOT NULL,
	created_by    TEXT    NOT NULL,
	state_at      INTEGER NOT NULL,
	overlap_until INTEGER NOT NULL DEFAULT 0,
	deleted_at    INTEGER NOT NULL DEFAULT 0,
	destroyed_at  INTEGER NOT NULL DEFAULT 0,
	kek_id        TEXT    NOT NULL,
	wrapped_key   BLOB,
	nonce         BLOB,
	ciphertext    BLOB,
	PRIMARY KEY (identity, version)
);
CREATE UNIQUE INDEX secret_one_active ON secret_versions (identity) WHERE state = 'active';

CREATE TABLE secret_fingerprints (
	mac      BLOB    NOT NULL,
	identity TEXT    NOT NULL,
	version  INTEGER NOT NULL,
	field    TEXT    NOT NULL,
	PRIMARY KEY (mac, identity, version, field)
);
CREATE INDEX secret_fingerprints_version ON secret_fingerprints (identity, version);

CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value BLOB NOT NULL
);

CREATE TABLE audit_head (
	id   INTEGER PRIMARY KEY CHECK (id = 1),
	seq  INTEGER NOT NULL,
	hash BLOB    NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, zeroblob(32));

CREATE TABLE audit_records (
	seq      INTEGER PRIMARY KEY,
	at       INTEGER NOT NULL,
	action   TEXT    NOT NULL,
	resource TEXT    NOT NULL,
	body     BLOB    NOT NULL,
	hash     BLOB    NOT NULL
);
CREATE INDEX audit_records_resource ON audit_records (resource, action, seq);

CREATE TABLE audit_checkpoints (
	seq       INTEGER PRIMARY KEY,
	hash      BLOB    NOT NULL,
	at        INTEGER NOT NULL,
	key_id    TEXT    NOT NULL,
	signature BLOB    NOT NULL
);
