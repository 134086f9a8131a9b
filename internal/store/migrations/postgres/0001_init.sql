CREATE TABLE secret_versions (
	identity      TEXT    NOT NULL,
	version       BIGINT NOT NULL,
	state         TEXT    NOT NULL,
	created_at    BIGINT NOT NULL,
	created_by    TEXT    NOT NULL,
	state_at      BIGINT NOT NULL,
	overlap_until BIGINT NOT NULL DEFAULT 0,
	deleted_at    BIGINT NOT NULL DEFAULT 0,
	destroyed_at  BIGINT NOT NULL DEFAULT 0,
	kek_id        TEXT    NOT NULL,
	wrapped_key   BYTEA,
	nonce         BYTEA,
	ciphertext    BYTEA,
	PRIMARY KEY (identity, version)
);
CREATE UNIQUE INDEX secret_one_active ON secret_versions (identity) WHERE state = 'active';

CREATE TABLE secret_fingerprints (
	mac      BYTEA    NOT NULL,
	identity TEXT    NOT NULL,
	version  BIGINT NOT NULL,
	field    TEXT    NOT NULL,
	PRIMARY KEY (mac, identity, version, field)
);
CREATE INDEX secret_fingerprints_version ON secret_fingerprints (identity, version);

CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value BYTEA NOT NULL
);

CREATE TABLE audit_head (
	id   INTEGER PRIMARY KEY CHECK (id = 1),
	seq  BIGINT NOT NULL,
	hash BYTEA    NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, decode(repeat('00', 32), 'hex'));

CREATE TABLE audit_records (
	seq      BIGINT PRIMARY KEY,
	at       BIGINT NOT NULL,
	action   TEXT    NOT NULL,
	resource TEXT    NOT NULL,
	body     BYTEA    NOT NULL,
	hash     BYTEA    NOT NULL
);
CREATE INDEX audit_records_resource ON audit_records (resource, action, seq);

CREATE TABLE audit_checkpoints (
	seq       BIGINT PRIMARY KEY,
	hash      BYTEA    NOT NULL,
	at        BIGINT NOT NULL,
	key_id    TEXT    NOT NULL,
	signature BYTEA    NOT NULL
);
