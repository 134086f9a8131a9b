package secrets

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/steward-dev/steward/internal/store"
)

// Names of the keys Steward keeps for itself in the database, each sealed
// under the KEK like a secret's data key.
const (
	fingerprintKeyName = "fingerprint-key"
	signingKeyName     = "audit-signing-key"
	// signingPublicName holds the checkpoint public key in clear, so that
	// the log can be verified without the KEK.
	signingPublicName = "audit-signing-public-key"
)

// SharedTokenKeyName names the system key that seals the Salesforce tokens
// broker replicas share through the database. Rewrap moves it to a new KEK
// with the others.
const SharedTokenKeyName = "broker-shared-token-key"

var systemKeyNames = []string{fingerprintKeyName, signingKeyName, SharedTokenKeyName}

type sealedKey struct {
	KEK     string `json:"kek"`
	Wrapped []byte `json:"wrapped"`
}

func systemAAD(name string) []byte { return []byte("steward system key v1\x00" + name) }

// SystemKey returns the named key of size bytes, generating and storing it
// sealed under the current KEK on first use. Concurrent first uses agree on
// one key.
func SystemKey(ctx context.Context, db store.Store, keys KeyProvider, name string, size int) ([]byte, error) {
	raw, err := db.Meta(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		raw, err = initSystemKey(ctx, db, keys, name, size)
	}
	if err != nil {
		return nil, err
	}
	var sk sealedKey
	if err := json.Unmarshal(raw, &sk); err != nil {
		return nil, fmt.Errorf("stored %s is malformed", name)
	}
	key, err := keys.Unwrap(ctx, sk.KEK, sk.Wrapped, systemAAD(name))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", name, err)
	}
	return key, nil
}

// initSystemKey generates a key, seals it and stores it unless another
// process got there first; it returns the sealed key that is stored.
func initSystemKey(ctx context.Context, db store.Store, keys KeyProvider, name string, size int) ([]byte, error) {
	fresh := make([]byte, size)
	defer clear(fresh)
	if _, err := rand.Read(fresh); err != nil {
		return nil, fmt.Errorf("generate %s: %w", name, err)
	}
	kek, wrapped, err := keys.Wrap(ctx, fresh, systemAAD(name))
	if err != nil {
		return nil, fmt.Errorf("seal %s: %w", name, err)
	}
	enc, _ := json.Marshal(sealedKey{KEK: kek, Wrapped: wrapped})
	return db.InitMeta(ctx, name, enc)
}

// SigningKey returns the audit log's Ed25519 checkpoint key and records its
// public half in clear for verifiers.
func SigningKey(ctx context.Context, db store.Store, keys KeyProvider) (ed25519.PrivateKey, error) {
	seed, err := SystemKey(ctx, db, keys, signingKeyName, ed25519.SeedSize)
	if err != nil {
		return nil, err
	}
	priv := ed25519.NewKeyFromSeed(seed)
	clear(seed)
	pub := priv.Public().(ed25519.PublicKey)
	stored, err := db.InitMeta(ctx, signingPublicName, pub)
	if err != nil {
		return nil, err
	}
	if !pub.Equal(ed25519.PublicKey(stored)) {
		return nil, errors.New("the stored audit checkpoint public key does not match the sealed signing key: the database was tampered with")
	}
	return priv, nil
}

// PublicSigningKey returns the audit checkpoint public key without the KEK.
func PublicSigningKey(ctx context.Context, db store.Store) (ed25519.PublicKey, error) {
	b, err := db.Meta(ctx, signingPublicName)
	if err != nil {
		return nil, fmt.Errorf("audit checkpoint public key: %w", err)
	}
	if len(b) != ed25519.PublicKeySize {
		return nil, errors.New("stored audit checkpoint public key is malformed")
	}
	return ed25519.PublicKey(b), nil
}

// rewrapSystemKey moves a system key to the current KEK; it reports
// whether it did.
func rewrapSystemKey(ctx context.Context, db store.Store, keys KeyProvider, name string) (bool, error) {
	raw, err := db.Meta(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	var sk sealedKey
	if err := json.Unmarshal(raw, &sk); err != nil {
		return false, fmt.Errorf("stored %s is malformed", name)
	}
	if sk.KEK == keys.CurrentKeyID() {
		return false, nil
	}
	key, err := keys.Unwrap(ctx, sk.KEK, sk.Wrapped, systemAAD(name))
	if err != nil {
		return false, fmt.Errorf("rewrap %s: %w", name, err)
	}
	kek, wrapped, err := keys.Wrap(ctx, key, systemAAD(name))
	clear(key)
	if err != nil {
		return false, fmt.Errorf("rewrap %s: %w", name, err)
	}
	enc, _ := json.Marshal(sealedKey{KEK: kek, Wrapped: wrapped})
	if err := db.SwapMeta(ctx, name, raw, enc); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return false, nil
		}
		return false, err
	}
	return true, nil
}
