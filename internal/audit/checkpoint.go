package audit

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"github.com/steward-dev/steward/internal/store"
)

// KeyID names a checkpoint signing key: the first 8 bytes of the SHA-256
// of its public key, in hex.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

// checkpointMessage is what a checkpoint signature covers.
func checkpointMessage(seq int64, hash []byte, at time.Time) []byte {
	return []byte("steward audit checkpoint v1\n" + strconv.FormatInt(seq, 10) + "\n" + hex.EncodeToString(hash) + "\n" + at.UTC().Format(time.RFC3339Nano) + "\n")
}

// signCheckpoint signs the chain's hash at seq.
func signCheckpoint(key ed25519.PrivateKey, seq int64, hash []byte, at time.Time) *store.Checkpoint {
	at = at.UTC()
	return &store.Checkpoint{
		Seq:       seq,
		Hash:      hash,
		At:        at,
		KeyID:     KeyID(key.Public().(ed25519.PublicKey)),
		Signature: ed25519.Sign(key, checkpointMessage(seq, hash, at)),
	}
}

// checkSignature verifies a checkpoint's signature with pub.
func checkSignature(pub ed25519.PublicKey, cp store.Checkpoint) error {
	if cp.KeyID != KeyID(pub) {
		return fmt.Errorf("checkpoint %d is signed by key %s, not by %s", cp.Seq, cp.KeyID, KeyID(pub))
	}
	if !ed25519.Verify(pub, checkpointMessage(cp.Seq, cp.Hash, cp.At), cp.Signature) {
		return fmt.Errorf("checkpoint %d has an invalid signature", cp.Seq)
	}
	return nil
}
