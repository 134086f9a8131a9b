package secrets

import (
	"bufio"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// KeyProvider wraps and unwraps data keys under key-encryption keys
// (KEKs). The file and environment providers hold the KEKs in memory; a
// cloud KMS or Vault Transit provider would send the data key to the
// service instead. aad binds a wrapped key to what it protects.
type KeyProvider interface {
	// CurrentKeyID names the KEK that Wrap uses.
	CurrentKeyID() string
	// Wrap encrypts a data key under the current KEK.
	Wrap(ctx context.Context, dek, aad []byte) (kekID string, wrapped []byte, err error)
	// Unwrap decrypts a data key wrapped under the named KEK.
	Unwrap(ctx context.Context, kekID string, wrapped, aad []byte) ([]byte, error)
}

// Errors from key handling.
var (
	// ErrUnknownKEK means a version is wrapped under a KEK the provider
	// does not hold.
	ErrUnknownKEK = errors.New("key-encryption key not available")
	// ErrDecrypt means authenticated decryption failed: the wrong KEK under
	// the right name, or corrupted data.
	ErrDecrypt = errors.New("decryption failed: wrong key-encryption key or corrupted data")
)

// KEKEnv is the environment variable the environment provider reads.
const KEKEnv = "STEWARD_KEK"

// Keyring is a KeyProvider holding AES-256 KEKs in memory. The first key
// is the current one; the others are kept to unwrap data keys that have
// not been rewrapped yet.
type Keyring struct {
	current string
	keys    map[string]cipher.AEAD
}

var _ KeyProvider = (*Keyring)(nil)

// ParseKeyring reads KEKs written as "id:base64" entries, one per line or
// separated by commas, the current key first; '#' starts a comment. Each
// key is 32 random bytes (generate one with `openssl rand -base64 32`).
// source names the input in errors, which never contain key material.
func ParseKeyring(text, source string) (*Keyring, error) {
	kr := &Keyring{keys: map[string]cipher.AEAD{}}
	sc := bufio.NewScanner(strings.NewReader(text))
	line := 0
	for sc.Scan() {
		line++
		l, _, _ := strings.Cut(sc.Text(), "#")
		for _, entry := range strings.Split(l, ",") {
			entry = strings.TrimSpace(entry)
			if entry == "" {
				continue
			}
			id, b64, ok := strings.Cut(entry, ":")
			id = strings.TrimSpace(id)
			if !ok || id == "" || strings.ContainsAny(id, " \t") {
				return nil, fmt.Errorf("%s:%d: a key entry is written id:base64-key", source, line)
			}
			key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
			if err != nil || len(key) != 32 {
				return nil, fmt.Errorf("%s:%d: key %s is not 32 bytes of base64 (generate one with: openssl rand -base64 32)", source, line, id)
			}
			if _, dup := kr.keys[id]; dup {
				return nil, fmt.Errorf("%s:%d: key %s appears twice", source, line, id)
			}
			block, _ := aes.NewCipher(key)
			kr.keys[id], _ = cipher.NewGCM(block)
			if kr.current == "" {
				kr.current = id
			}
		}
	}
	if kr.current == "" {
		return nil, fmt.Errorf("%s: no key-encryption key (write id:base64-key, current key first)", source)
	}
	return kr, nil
}

// FileKeyProvider reads a keyring from a file that only its owner may read.
func FileKeyProvider(path string) (*Keyring, error) {
	info, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("key file %s does not exist: create it with one id:base64-key line (openssl rand -base64 32), mode 600", path)
	}
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	if info.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("key file %s is readable by others (mode %04o): chmod 600 %s", path, info.Mode().Perm(), path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read key file %s: %w", path, err)
	}
	return ParseKeyring(string(b), path)
}

// EnvKeyProvider reads a keyring from the environment variable name.
func EnvKeyProvider(getenv func(string) string, name string) (*Keyring, error) {
	v := getenv(name)
	if v == "" {
		return nil, fmt.Errorf("%s is not set: set it to id:base64-key (openssl rand -base64 32) or use --kek-file", name)
	}
	return ParseKeyring(v, name)
}

// CurrentKeyID names the key that Wrap uses.
func (k *Keyring) CurrentKeyID() string { return k.current }

// Wrap encrypts dek with AES-256-GCM under the current key; the result is
// the nonce followed by the sealed key.
func (k *Keyring) Wrap(_ context.Context, dek, aad []byte) (string, []byte, error) {
	aead := k.keys[k.current]
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(dek)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", nil, fmt.Errorf("wrap data key: %w", err)
	}
	return k.current, aead.Seal(nonce, nonce, dek, aad), nil
}

// Unwrap decrypts a data key wrapped under kekID.
func (k *Keyring) Unwrap(_ context.Context, kekID string, wrapped, aad []byte) ([]byte, error) {
	aead, ok := k.keys[kekID]
	if !ok {
		return nil, fmt.Errorf("%w: the data is wrapped under %q, which the keyring does not hold (add it after the current key until `steward secret rewrap` has run)", ErrUnknownKEK, kekID)
	}
	if len(wrapped) < aead.NonceSize()+aead.Overhead() {
		return nil, ErrDecrypt
	}
	dek, err := aead.Open(nil, wrapped[:aead.NonceSize()], wrapped[aead.NonceSize():], aad)
	if err != nil {
		return nil, ErrDecrypt
	}
	return dek, nil
}
