-- Upstream access tokens shared by broker replicas, sealed: the nonce and
-- ciphertext of an AEAD under a key the store never sees.
CREATE TABLE shared_tokens (
	identity   TEXT PRIMARY KEY,
	issued_at  BIGINT NOT NULL,
	expires_at BIGINT NOT NULL,
	nonce      BYTEA NOT NULL,
	ciphertext BYTEA NOT NULL
);
