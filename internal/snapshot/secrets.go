package snapshot

import "time"

// SecretStore is what Steward's own secret store and audit log say about
// the secrets: their versions, rotation and who read them, and whether the
// audit log verifies. It holds metadata only: never a secret value, a
// fingerprint or a key.
type SecretStore struct {
	Secrets []Secret `json:"secrets"`
	Audit   AuditLog `json:"audit"`
}

// Secret is one secret in the store.
type Secret struct {
	// Name is the store's name for the secret: an identity's
	// credential.secret, or the identity's name.
	Name string `json:"name"`
	// Identities are the inventoried identities bound to the secret (see
	// AddSecretStore).
	Identities []string `json:"identities"`
	// Version is the active version, 0 when no version is active.
	Version int `json:"version"`
	// Created is when the active version was written, Rotated when it
	// became active, RotatedOn the same day as YYYY-MM-DD ("" with no
	// active version).
	Created   time.Time `json:"created,omitzero"`
	Rotated   time.Time `json:"rotated,omitzero"`
	RotatedOn string    `json:"rotatedOn"`
	// Rotation is "idle", or the state (staged, verified) of the newer
	// version an unfinished rotation left.
	Rotation string `json:"rotation"`
	// LastRead and LastReadBy (kind:id) are the latest successful read of
	// any version.
	LastRead   time.Time `json:"lastRead,omitzero"`
	LastReadBy string    `json:"lastReadBy,omitempty"`
	// Readers are who read the active version, from the audit log's
	// successful secret.read records. Rotating the secret starts the list
	// afresh.
	Readers []Reader `json:"readers"`
}

// Reader kinds, as the audit log records actors.
const (
	ReaderHuman    = "human"
	ReaderWorkload = "workload"
	ReaderSystem   = "system"
)

// Reader is one actor that read a secret version.
type Reader struct {
	Kind string `json:"kind"` // human | workload | system
	// ID is the person, or the workload as the broker names it: its SPIFFE
	// ID, or its OIDC issuer#subject.
	ID    string    `json:"id"`
	Count int       `json:"count"`
	Last  time.Time `json:"last"`
}

// AuditLog is the outcome of verifying the audit log's hash chain and
// signed checkpoints.
type AuditLog struct {
	OK bool `json:"ok"`
	// FirstBad is the first sequence number that cannot be trusted (0 when
	// the log verified), and Problem says why.
	FirstBad int64  `json:"firstBad,omitempty"`
	Problem  string `json:"problem,omitempty"`
	Records  int64  `json:"records"`
	Head     int64  `json:"head"`
	// LastCheckpoint is the sequence number the latest verified checkpoint
	// covers, LastCheckpointAt when it was signed.
	LastCheckpoint   int64     `json:"lastCheckpoint"`
	LastCheckpointAt time.Time `json:"lastCheckpointAt,omitzero"`
	// Uncheckpointed counts the records after the last checkpoint, and
	// OldestUncheckpointed is when the first of them was written.
	Uncheckpointed       int64     `json:"uncheckpointed"`
	OldestUncheckpointed time.Time `json:"oldestUncheckpointed,omitzero"`
}

// AddSecretStore attaches what the secret store says and joins each
// secret to the identities bound to it: those whose credential names it,
// and, for an identity that names no secret, the secret named like the
// identity. Each identity name is bound to at most one secret.
func (s *Snapshot) AddSecretStore(st *SecretStore) {
	byName := make(map[string]int, len(st.Secrets))
	for i := range st.Secrets {
		st.Secrets[i].Identities = []string{}
		byName[st.Secrets[i].Name] = i
	}
	seen := make(map[string]bool, len(s.Identities))
	for _, id := range s.Identities {
		if seen[id.Name] {
			continue // a duplicate name is reported by validation; bind the first
		}
		seen[id.Name] = true
		name := id.Credential.SecretRef
		if name == "" {
			name = id.Name
		}
		if i, ok := byName[name]; ok {
			st.Secrets[i].Identities = append(st.Secrets[i].Identities, id.Name)
		}
	}
	s.SecretStore = st
	s.Capabilities.SecretStore = true
}
