-- Upstream access tokens shared by broker replicas, sealed: the nonce and
-- ciphertext of an AEAD under a key the store never sees.
CREATE TABLE shared_tokens (
	identity   TEXT PRIMARY KEY,
	issued_at  INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	nonce      BLOB NOT NULL,
	ciphertext BLOB NOT NULL
);
