// Package secrets is Steward's managed secret store: Salesforce credential
// bundles, each bound to one Identity, kept in versions with check-and-set,
// soft delete and destroy, and rotated through a persisted state machine
// (staged → verified → active → retired, with an overlap window).
//
// Every version is sealed with envelope encryption: a fresh AES-256-GCM
// data key encrypts the bundle with the identity name and version number
// bound as associated data, and a KeyProvider wraps the data key under a
// key-encryption key (KEK). Rewrap moves every data key to the current KEK
// without touching the ciphertext. Values only leave the store through
// Read, which first makes an audit record durable; metadata and keyed
// fingerprints (HMAC-SHA256 under a store-held key) are what everything
// else sees.
package secrets

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/steward-dev/steward/internal/audit"
	"github.com/steward-dev/steward/internal/store"
)

// Errors callers branch on.
var (
	// ErrDeleted means the version is soft-deleted; restore it to read it.
	ErrDeleted = errors.New("secret version is deleted")
	// ErrDestroyed means the version's ciphertext is gone for good.
	ErrDestroyed = errors.New("secret version is destroyed")
	// ErrExpired means a retired version's overlap window has ended.
	ErrExpired = errors.New("secret version is retired and its overlap window has ended")
)

// Auditor makes an audit record durable.
type Auditor interface {
	Append(ctx context.Context, ev audit.Event) (audit.Record, error)
}

// Audit actions recorded by the store.
const (
	ActionPut     = "secret.put"
	ActionRead    = "secret.read"
	ActionStage   = "secret.stage"
	ActionVerify  = "secret.verify"
	ActionPromote = "secret.promote"
	ActionDelete  = "secret.delete"
	ActionRestore = "secret.restore"
	ActionDestroy = "secret.destroy"
	ActionRewrap  = "secret.rewrap"
)

// Config configures a Store.
type Config struct {
	DB    store.Store
	Keys  KeyProvider
	Audit Auditor
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Store is the managed secret store.
type Store struct {
	db    store.Store
	keys  KeyProvider
	audit Auditor
	now   func() time.Time
	fpKey []byte
}

// New opens the secret store, creating its fingerprint key on first use.
func New(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.DB == nil || cfg.Keys == nil || cfg.Audit == nil {
		return nil, errors.New("secret store: a database, a key provider and an audit log are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	fp, err := SystemKey(ctx, cfg.DB, cfg.Keys, fingerprintKeyName, 32)
	if err != nil {
		return nil, err
	}
	return &Store{db: cfg.DB, keys: cfg.Keys, audit: cfg.Audit, now: cfg.Now, fpKey: fp}, nil
}

// Metadata is what may be shown about a secret version: never its value.
type Metadata struct {
	Identity  string    `json:"identity"`
	Version   int       `json:"version"`
	State     string    `json:"state"`
	Created   time.Time `json:"created"`
	CreatedBy string    `json:"createdBy"`
	// Rotated is when the version entered its current state (for the
	// active version: when it became active).
	Rotated      time.Time `json:"rotated"`
	OverlapUntil time.Time `json:"overlapUntil,omitzero"`
	Deleted      time.Time `json:"deleted,omitzero"`
	Destroyed    time.Time `json:"destroyed,omitzero"`
	LastRead     time.Time `json:"lastRead,omitzero"`
	LastReadBy   string    `json:"lastReadBy,omitempty"`
	KEKID        string    `json:"kek,omitempty"`
	// Fingerprint is a keyed HMAC of the consumer secret, shortened: it
	// tells two versions apart without revealing anything.
	Fingerprint string `json:"fingerprint,omitempty"`
}

func resource(identity string) string { return "secret/" + identity }

// aad binds a ciphertext and its wrapped data key to one identity and version.
func aad(identity string, version int) []byte {
	return []byte("steward secret v1\x00" + identity + "\x00" + strconv.Itoa(version))
}

func (s *Store) mac(v []byte) []byte {
	m := hmac.New(sha256.New, s.fpKey)
	m.Write(v)
	return m.Sum(nil)
}

func shortFingerprint(mac []byte) string {
	if len(mac) == 0 {
		return ""
	}
	return "hmac-sha256:" + hex.EncodeToString(mac[:8])
}

// seal encrypts a bundle as version of identity.
func (s *Store) seal(ctx context.Context, identity string, version int, b Bundle, state, actor string) (store.Version, error) {
	plain, err := json.Marshal(b)
	if err != nil {
		return store.Version{}, fmt.Errorf("encode bundle: %w", err)
	}
	defer clear(plain)
	dek := make([]byte, 32)
	defer clear(dek)
	if _, err := rand.Read(dek); err != nil {
		return store.Version{}, fmt.Errorf("generate data key: %w", err)
	}
	block, _ := aes.NewCipher(dek)
	gcm, _ := cipher.NewGCM(block)
	nonce := make([]byte, gcm.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return store.Version{}, fmt.Errorf("generate nonce: %w", err)
	}
	ad := aad(identity, version)
	kekID, wrapped, err := s.keys.Wrap(ctx, dek, ad)
	if err != nil {
		return store.Version{}, fmt.Errorf("wrap data key for %s version %d: %w", identity, version, err)
	}
	fps := []store.Fingerprint{
		{Field: "consumerKey", MAC: s.mac([]byte(b.ConsumerKey))},
		{Field: "consumerSecret", MAC: s.mac([]byte(b.ConsumerSecret))},
	}
	if b.PrivateKey != "" {
		fps = append(fps, store.Fingerprint{Field: "privateKey", MAC: s.mac([]byte(b.PrivateKey))})
	}
	now := s.now().UTC()
	return store.Version{
		Identity: identity, State: state, CreatedAt: now, CreatedBy: actor, KEKID: kekID,
		WrappedKey: wrapped, Nonce: nonce, Ciphertext: gcm.Seal(nil, nonce, plain, ad), Fingerprints: fps,
	}, nil
}

// open decrypts a stored version.
func (s *Store) open(ctx context.Context, v store.Version) (Bundle, error) {
	ad := aad(v.Identity, v.Version)
	dek, err := s.keys.Unwrap(ctx, v.KEKID, v.WrappedKey, ad)
	if err != nil {
		return Bundle{}, fmt.Errorf("secret %s version %d: %w", v.Identity, v.Version, err)
	}
	defer clear(dek)
	block, _ := aes.NewCipher(dek)
	gcm, _ := cipher.NewGCM(block)
	if len(v.Nonce) != gcm.NonceSize() {
		return Bundle{}, fmt.Errorf("secret %s version %d: %w", v.Identity, v.Version, ErrDecrypt)
	}
	plain, err := gcm.Open(nil, v.Nonce, v.Ciphertext, ad)
	if err != nil {
		return Bundle{}, fmt.Errorf("secret %s version %d: %w", v.Identity, v.Version, ErrDecrypt)
	}
	defer clear(plain)
	var b Bundle
	if err := json.Unmarshal(plain, &b); err != nil {
		return Bundle{}, fmt.Errorf("secret %s version %d: decrypted bundle is malformed", v.Identity, v.Version)
	}
	return b, nil
}

// record appends an audit event for a secret operation.
func (s *Store) record(ctx context.Context, actor audit.Actor, action, identity, outcome string, details map[string]string) error {
	_, err := s.audit.Append(ctx, audit.Event{Time: s.now(), Actor: actor, Action: action, Resource: resource(identity), Outcome: outcome, Details: details})
	if err != nil {
		return fmt.Errorf("%s %s: %w", action, identity, err)
	}
	return nil
}

// recorded finishes a mutation: it records the outcome and returns the
// operation's error, or the audit error when the record failed.
func (s *Store) recorded(ctx context.Context, actor audit.Actor, action, identity string, opErr error, details map[string]string) error {
	outcome := audit.OutcomeSuccess
	if opErr != nil {
		outcome = audit.OutcomeFailure
		if details == nil {
			details = map[string]string{}
		}
		details["error"] = errorClass(opErr)
	}
	if err := s.record(ctx, actor, action, identity, outcome, details); err != nil {
		if opErr == nil {
			return fmt.Errorf("the change to %s was made but its audit record was not written; check the audit log's database and run steward audit verify: %w", identity, err)
		}
		return errors.Join(opErr, err)
	}
	return opErr
}

// errorClass names an error's kind for the audit record without its text.
func errorClass(err error) string {
	switch {
	case errors.Is(err, store.ErrConflict):
		return "conflict"
	case errors.Is(err, store.ErrNotFound):
		return "not-found"
	case errors.Is(err, ErrDecrypt), errors.Is(err, ErrUnknownKEK):
		return "decrypt"
	case errors.Is(err, ErrDeleted):
		return "deleted"
	case errors.Is(err, ErrDestroyed):
		return "destroyed"
	case errors.Is(err, ErrExpired):
		return "expired"
	}
	return "error"
}

// Any makes Put and Stage write after whatever the latest version is.
const Any = -1

// Put writes a new active version of identity's bundle; the version it
// replaces is retired and stays readable for overlap. expect is the latest
// version the caller saw (0 for a new secret), or Any.
func (s *Store) Put(ctx context.Context, actor audit.Actor, identity string, b Bundle, expect int, overlap time.Duration) (Metadata, error) {
	return s.insert(ctx, actor, ActionPut, identity, b, expect, store.StateActive, overlap)
}

// Stage writes a new version in state staged: the first step of a
// rotation. The active version is untouched.
func (s *Store) Stage(ctx context.Context, actor audit.Actor, identity string, b Bundle, expect int) (Metadata, error) {
	return s.insert(ctx, actor, ActionStage, identity, b, expect, store.StateStaged, 0)
}

func (s *Store) insert(ctx context.Context, actor audit.Actor, action, identity string, b Bundle, expect int, state string, overlap time.Duration) (Metadata, error) {
	if err := ValidIdentity(identity); err != nil {
		return Metadata{}, err
	}
	if err := b.validate(); err != nil {
		return Metadata{}, fmt.Errorf("secret %s: %w", identity, err)
	}
	var n int
	var v store.Version
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		e := expect
		if e == Any {
			e, err = s.latest(ctx, identity)
			if err != nil {
				return Metadata{}, err
			}
		}
		v, err = s.seal(ctx, identity, e+1, b, state, actor.String())
		if err != nil {
			return Metadata{}, err
		}
		n, err = s.db.InsertVersion(ctx, v, e, v.CreatedAt.Add(overlap))
		if err == nil || expect != Any || !errors.Is(err, store.ErrConflict) {
			break
		}
	}
	v.Version = n
	details := map[string]string{"version": strconv.Itoa(n), "state": state, "fingerprint": shortFingerprint(v.Fingerprints[1].MAC)}
	if err := s.recorded(ctx, actor, action, identity, err, details); err != nil {
		return Metadata{}, err
	}
	v.StateAt = v.CreatedAt
	return s.metadata(v), nil
}

func (s *Store) latest(ctx context.Context, identity string) (int, error) {
	vs, err := s.db.Versions(ctx, identity)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return vs[len(vs)-1].Version, nil
}

// Read returns a version's bundle (0: the active version) after making an
// audit record of the read durable. If the record cannot be written, Read
// fails and returns nothing.
func (s *Store) Read(ctx context.Context, actor audit.Actor, identity string, version int) (Bundle, Metadata, error) {
	v, err := s.db.Version(ctx, identity, version)
	if err == nil {
		err = s.readable(v)
	}
	var b Bundle
	if err == nil {
		b, err = s.open(ctx, v)
	}
	details := map[string]string{"version": strconv.Itoa(v.Version)}
	if err != nil {
		return Bundle{}, Metadata{}, s.recorded(ctx, actor, ActionRead, identity, err, details)
	}
	if err := s.record(ctx, actor, ActionRead, identity, audit.OutcomeSuccess, details); err != nil {
		b = Bundle{}
		return Bundle{}, Metadata{}, err
	}
	return b, s.metadata(v), nil
}

// readable checks a version may be read now.
func (s *Store) readable(v store.Version) error {
	switch {
	case !v.DestroyedAt.IsZero():
		return fmt.Errorf("secret %s version %d: %w", v.Identity, v.Version, ErrDestroyed)
	case !v.DeletedAt.IsZero():
		return fmt.Errorf("secret %s version %d: %w (restore it with steward secret destroy --restore)", v.Identity, v.Version, ErrDeleted)
	case v.State == store.StateRetired && !s.now().Before(v.OverlapUntil):
		return fmt.Errorf("secret %s version %d: %w", v.Identity, v.Version, ErrExpired)
	}
	return nil
}

func (s *Store) metadata(v store.Version) Metadata {
	m := Metadata{
		Identity: v.Identity, Version: v.Version, State: v.State, Created: v.CreatedAt, CreatedBy: v.CreatedBy,
		Rotated: v.StateAt, OverlapUntil: v.OverlapUntil, Deleted: v.DeletedAt, Destroyed: v.DestroyedAt, KEKID: v.KEKID,
	}
	for _, f := range v.Fingerprints {
		if f.Field == "consumerSecret" {
			m.Fingerprint = shortFingerprint(f.MAC)
		}
	}
	return m
}

// Show returns a version's metadata (0: the active version), with when it
// was last read and by whom, from the audit log.
func (s *Store) Show(ctx context.Context, identity string, version int) (Metadata, error) {
	v, err := s.db.Version(ctx, identity, version)
	if err != nil {
		return Metadata{}, err
	}
	m, err := s.withFingerprint(ctx, v)
	if err != nil {
		return Metadata{}, err
	}
	rec, err := s.db.LastAudit(ctx, resource(identity), ActionRead)
	switch {
	case err == nil:
		if ev, err := audit.ParseEvent(rec.Body); err == nil {
			m.LastRead, m.LastReadBy = ev.Time, ev.Actor.String()
		}
	case !errors.Is(err, store.ErrNotFound):
		return Metadata{}, err
	}
	return m, nil
}

// History returns the metadata of every version, oldest first.
func (s *Store) History(ctx context.Context, identity string) ([]Metadata, error) {
	vs, err := s.db.Versions(ctx, identity)
	if err != nil {
		return nil, err
	}
	out := make([]Metadata, 0, len(vs))
	for _, v := range vs {
		m, err := s.withFingerprint(ctx, v)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// List returns the active (or else latest) version's metadata of every secret.
func (s *Store) List(ctx context.Context) ([]Metadata, error) {
	ids, err := s.db.Identities(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Metadata, 0, len(ids))
	for _, id := range ids {
		m, err := s.Show(ctx, id, 0)
		if errors.Is(err, store.ErrNotFound) {
			var h []Metadata
			h, err = s.History(ctx, id)
			if err == nil {
				m = h[len(h)-1]
			}
		}
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// Delete soft-deletes a version: it can no longer be read until restored.
func (s *Store) Delete(ctx context.Context, actor audit.Actor, identity string, version int) error {
	err := s.db.SetDeleted(ctx, identity, version, s.now())
	return s.recorded(ctx, actor, ActionDelete, identity, err, map[string]string{"version": strconv.Itoa(version)})
}

// Restore undoes Delete.
func (s *Store) Restore(ctx context.Context, actor audit.Actor, identity string, version int) error {
	err := s.db.SetDeleted(ctx, identity, version, time.Time{})
	return s.recorded(ctx, actor, ActionRestore, identity, err, map[string]string{"version": strconv.Itoa(version)})
}

// Destroy erases a version's ciphertext and key for good. The active
// version cannot be destroyed: put or rotate a new one first.
func (s *Store) Destroy(ctx context.Context, actor audit.Actor, identity string, version int) error {
	v, err := s.db.Version(ctx, identity, version)
	if err == nil && v.State == store.StateActive {
		err = fmt.Errorf("secret %s version %d is the active version: put or rotate a new version first, or delete it instead", identity, version)
	}
	if err == nil {
		err = s.db.Destroy(ctx, identity, version, s.now())
	}
	return s.recorded(ctx, actor, ActionDestroy, identity, err, map[string]string{"version": strconv.Itoa(version)})
}

// MatchFingerprint tells whether candidate equals a sensitive field
// (consumer key, consumer secret or private key) of a stored, not
// destroyed version. The candidate is HMACed with the store's fingerprint
// key inside this process and compared with the stored HMACs; nothing is
// decrypted and no value leaves the store. A secret-sprawl scanner calls
// it for each string it finds.
func (s *Store) MatchFingerprint(ctx context.Context, candidate []byte) ([]store.FingerprintMatch, error) {
	return s.db.MatchFingerprint(ctx, s.mac(candidate))
}

// withFingerprint is a version's metadata with its fingerprint.
func (s *Store) withFingerprint(ctx context.Context, v store.Version) (Metadata, error) {
	fps, err := s.db.Fingerprints(ctx, v.Identity, v.Version)
	if err != nil {
		return Metadata{}, err
	}
	v.Fingerprints = fps
	return s.metadata(v), nil
}
