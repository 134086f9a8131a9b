// Package store persists Steward's managed secrets and audit log. One
// interface, Store, has two implementations: SQLite through modernc.org/sqlite
// (the embedded default, one file under the data directory, WAL mode) and
// PostgreSQL through pgx (for several Steward replicas sharing one database).
// Both run the same embedded, versioned migrations and pass the conformance
// suite in package storetest.
//
// The store keeps ciphertext, wrapped keys and keyed fingerprints; it never
// sees a secret value. Encryption lives in package secrets, hashing and
// signing of the audit chain in package audit.
package store

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors callers branch on.
var (
	// ErrNotFound means the secret, version or key does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict means a check-and-set or state precondition did not hold:
	// someone else changed the secret first.
	ErrConflict = errors.New("conflict")
	// ErrSchemaTooNew means the database was migrated by a newer Steward.
	ErrSchemaTooNew = errors.New("database schema is newer than this steward")
)

// Version states. A version moves staged → verified → active → retired;
// a manual put creates it active directly.
const (
	StateStaged   = "staged"
	StateVerified = "verified"
	StateActive   = "active"
	StateRetired  = "retired"
)

// AuditActionToken is the audit action of the broker's token decisions:
// one record per grant, the bulk of the log. The index on resource and
// action leaves these records out, since every group commit would rewrite
// an index page per identity for records nobody looks up by resource.
const AuditActionToken = "broker.token"

// Version is one version of a secret as stored: metadata and ciphertext.
type Version struct {
	Identity  string
	Version   int
	State     string
	CreatedAt time.Time
	CreatedBy string
	// StateAt is when the version entered its current state.
	StateAt time.Time
	// OverlapUntil is, for a retired version, until when it stays readable.
	OverlapUntil time.Time
	// DeletedAt is set while the version is soft-deleted (recoverable).
	DeletedAt time.Time
	// DestroyedAt is set once the ciphertext has been erased for good.
	DestroyedAt time.Time
	KEKID       string
	WrappedKey  []byte
	Nonce       []byte
	Ciphertext  []byte
	// Fingerprints are keyed HMACs of the version's sensitive fields, for
	// matching candidate strings without decrypting anything. InsertVersion
	// stores them; Version and Versions leave them out (see Fingerprints).
	Fingerprints []Fingerprint
}

// Fingerprint is a keyed HMAC of one field of a secret version.
type Fingerprint struct {
	Field string
	MAC   []byte
}

// FingerprintMatch names the secret version a fingerprint belongs to.
type FingerprintMatch struct {
	Identity string
	Version  int
	Field    string
}

// Wrapped is a version's data key wrapped under a key-encryption key.
type Wrapped struct {
	KEKID      string
	WrappedKey []byte
}

// AuditHead is the end of the audit chain at the moment it was locked.
type AuditHead struct {
	Seq  int64
	Hash []byte
	// Checkpoint is the latest signed checkpoint (zero Seq when none).
	Checkpoint Checkpoint
}

// AuditRecord is one stored link of the audit chain. Hash covers the
// previous record's hash, Seq and Body; Action and Resource repeat fields
// of Body for indexing.
type AuditRecord struct {
	Seq      int64
	At       time.Time
	Action   string
	Resource string
	Body     []byte
	Hash     []byte
}

// Checkpoint is a signed statement of the chain's hash at a sequence number.
type Checkpoint struct {
	Seq       int64
	Hash      []byte
	At        time.Time
	KeyID     string
	Signature []byte
}

// SharedToken is an upstream access token that broker replicas share, as
// stored: sealed by the broker (Nonce and Ciphertext of an AEAD whose key
// the store never sees), with its issue and expiry times.
type SharedToken struct {
	Identity   string
	IssuedAt   time.Time
	ExpiresAt  time.Time
	Nonce      []byte
	Ciphertext []byte
}

// Seal turns a locked chain head into the records (and optionally a
// checkpoint) to append after it. It runs inside the store's transaction
// while the chain is locked, so it must not block.
type Seal func(head AuditHead) ([]AuditRecord, *Checkpoint, error)

// Store is the persistence contract both backends implement.
type Store interface {
	Elevations
	// InsertVersion adds version expect+1 of v.Identity. It fails with
	// ErrConflict unless the latest version number is expect (check-and-set;
	// 0 means the secret must not exist yet). When v.State is active, the
	// active version it replaces becomes retired, readable until
	// overlapUntil.
	InsertVersion(ctx context.Context, v Version, expect int, overlapUntil time.Time) (int, error)
	// Version returns one version; version 0 means the active one.
	Version(ctx context.Context, identity string, version int) (Version, error)
	// Versions returns every version of a secret, oldest first.
	Versions(ctx context.Context, identity string) ([]Version, error)
	// Identities lists the identities that have a secret, sorted.
	Identities(ctx context.Context) ([]string, error)
	// SetState moves a version from one state to another at a time; it
	// fails with ErrConflict when the version is not in state from.
	SetState(ctx context.Context, identity string, version int, from, to string, at time.Time) error
	// Promote makes a verified version active and retires the active one
	// with the given overlap, in one transaction.
	Promote(ctx context.Context, identity string, version int, at, overlapUntil time.Time) error
	// SetDeleted soft-deletes a version (at non-zero) or restores it (zero).
	SetDeleted(ctx context.Context, identity string, version int, at time.Time) error
	// Destroy erases a version's ciphertext, wrapped key and fingerprints.
	Destroy(ctx context.Context, identity string, version int, at time.Time) error
	// Rewrap replaces a version's wrapped data key if it is still wrapped
	// as old (ErrConflict otherwise).
	Rewrap(ctx context.Context, identity string, version int, old, new Wrapped) error
	// Fingerprints returns a version's keyed fingerprints (none once destroyed).
	Fingerprints(ctx context.Context, identity string, version int) ([]Fingerprint, error)
	// MatchFingerprint returns the versions that carry this keyed fingerprint.
	MatchFingerprint(ctx context.Context, mac []byte) ([]FingerprintMatch, error)

	// Meta returns a stored value by key (ErrNotFound when absent).
	Meta(ctx context.Context, key string) ([]byte, error)
	// InitMeta stores value under key unless a value is already there, and
	// returns the value that is stored after the call.
	InitMeta(ctx context.Context, key string, value []byte) ([]byte, error)
	// SwapMeta replaces the value under key if it is still old.
	SwapMeta(ctx context.Context, key string, old, new []byte) error

	// AppendAudit locks the chain head, calls seal with it, stores what it
	// returns and moves the head, in one durable transaction.
	AppendAudit(ctx context.Context, seal Seal) error
	// AuditRecords calls fn for each record with Seq ≥ from, in order.
	AuditRecords(ctx context.Context, from int64, fn func(AuditRecord) error) error
	// AuditChain calls fn with the sequence number, body and hash of each
	// record with Seq ≥ from, in order; the slices are only valid during
	// the call. It is the fast path for verification.
	AuditChain(ctx context.Context, from int64, fn func(seq int64, body, hash []byte) error) error
	// LastAudit returns the latest record for a resource and action. It
	// refuses AuditActionToken, whose records are not indexed by resource.
	LastAudit(ctx context.Context, resource, action string) (AuditRecord, error)
	// Checkpoints returns every stored checkpoint in order.
	Checkpoints(ctx context.Context) ([]Checkpoint, error)

	// LockExchange runs fn while holding identity's exchange lock, which
	// every process on the database shares (PostgreSQL: a
	// transaction-scoped advisory lock, released when fn returns or the
	// process dies). On SQLite, where one process owns the database, it
	// only runs fn. Waiting for the lock ends with ctx.
	LockExchange(ctx context.Context, identity string, fn func(ctx context.Context) error) error
	// SharedToken returns identity's shared token (ErrNotFound when none).
	SharedToken(ctx context.Context, identity string) (SharedToken, error)
	// PutSharedToken stores t as its identity's shared token, replacing
	// any other.
	PutSharedToken(ctx context.Context, t SharedToken) error
	// DeleteSharedToken forgets identity's shared token, if any.
	DeleteSharedToken(ctx context.Context, identity string) error

	Reviews // access-review items (reviews.go)
	Rosters // team roster and decommissioning progress (rosters.go)

	// Close releases the database.
	Close() error
}
