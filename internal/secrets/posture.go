package secrets

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/steward-dev/steward/internal/audit"
	"github.com/steward-dev/steward/internal/snapshot"
	"github.com/steward-dev/steward/internal/store"
)

// Posture reads what the posture checks need from a store: each secret's
// active version, rotation state and readers, and the outcome of verifying
// the audit log (see audit.Verify; trusted are checkpoints exported
// earlier, or nil). It needs no key-encryption key, decrypts nothing and
// writes nothing, so it leaves no audit record of its own.
func Posture(ctx context.Context, db store.Store, trusted []store.Checkpoint) (*snapshot.SecretStore, error) {
	names, err := db.Identities(ctx)
	if err != nil {
		return nil, fmt.Errorf("list secrets: %w", err)
	}
	st := &snapshot.SecretStore{Secrets: make([]snapshot.Secret, 0, len(names))}
	index := make(map[string]int, len(names))
	for _, name := range names {
		vs, err := db.Versions(ctx, name)
		if err != nil {
			return nil, fmt.Errorf("read secret %s: %w", name, err)
		}
		index[resource(name)] = len(st.Secrets)
		st.Secrets = append(st.Secrets, secretPosture(name, vs))
	}
	if err := addReaders(ctx, db, st.Secrets, index); err != nil {
		return nil, err
	}
	st.Audit, err = auditPosture(ctx, db, trusted)
	if err != nil {
		return nil, err
	}
	return st, nil
}

// secretPosture summarises a secret's versions, oldest first.
func secretPosture(name string, vs []store.Version) snapshot.Secret {
	s := snapshot.Secret{Name: name, Rotation: "idle", Readers: []snapshot.Reader{}}
	for _, v := range vs {
		switch {
		case v.State == store.StateActive:
			s.Version, s.Created, s.Rotated = v.Version, v.CreatedAt.UTC(), v.StateAt.UTC()
			s.RotatedOn = s.Rotated.Format(time.DateOnly)
			s.Rotation = "idle"
		case (v.State == store.StateStaged || v.State == store.StateVerified) && v.DeletedAt.IsZero() && v.DestroyedAt.IsZero():
			s.Rotation = v.State
		}
	}
	return s
}

// addReaders reads the successful secret.read records and counts, for
// each secret, the reads of its active version by actor.
func addReaders(ctx context.Context, db store.Store, secrets []snapshot.Secret, index map[string]int) error {
	readers := make([]map[string]int, len(secrets)) // actor kind:id → index in Readers
	err := db.AuditRecords(ctx, 1, func(r store.AuditRecord) error {
		if r.Action != ActionRead {
			return nil
		}
		i, ok := index[r.Resource]
		if !ok {
			return nil
		}
		ev, err := audit.ParseEvent(r.Body)
		if err != nil || ev.Outcome != audit.OutcomeSuccess {
			return nil // verification reports a malformed record
		}
		s := &secrets[i]
		t := ev.Time.UTC()
		if !t.Before(s.LastRead) {
			s.LastRead, s.LastReadBy = t, ev.Actor.String()
		}
		if v, err := strconv.Atoi(ev.Details["version"]); err != nil || v != s.Version || s.Version == 0 {
			return nil
		}
		if readers[i] == nil {
			readers[i] = map[string]int{}
		}
		key := ev.Actor.String()
		j, ok := readers[i][key]
		if !ok {
			j = len(s.Readers)
			readers[i][key] = j
			s.Readers = append(s.Readers, snapshot.Reader{Kind: ev.Actor.Kind, ID: ev.Actor.ID})
		}
		rd := &s.Readers[j]
		rd.Count++
		if t.After(rd.Last) {
			rd.Last = t
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read audit records: %w", err)
	}
	for i := range secrets {
		slices.SortFunc(secrets[i].Readers, func(a, b snapshot.Reader) int {
			return strings.Compare(a.Kind+":"+a.ID, b.Kind+":"+b.ID)
		})
	}
	return nil
}

// auditPosture verifies the audit log and says how much of it no
// checkpoint covers yet.
func auditPosture(ctx context.Context, db store.Store, trusted []store.Checkpoint) (snapshot.AuditLog, error) {
	pub, err := PublicSigningKey(ctx, db)
	if errors.Is(err, store.ErrNotFound) {
		pub = make(ed25519.PublicKey, ed25519.PublicKeySize) // nothing was ever recorded
	} else if err != nil {
		return snapshot.AuditLog{}, err
	}
	rep, err := audit.Verify(ctx, db, pub, trusted)
	if err != nil {
		return snapshot.AuditLog{}, fmt.Errorf("verify audit log: %w", err)
	}
	out := snapshot.AuditLog{
		OK: rep.OK(), FirstBad: rep.FirstBad, Problem: rep.Problem, Records: rep.Records, Head: rep.Head,
		LastCheckpoint: rep.LastCheckpoint, Uncheckpointed: rep.Head - rep.LastCheckpoint,
	}
	cps, err := db.Checkpoints(ctx)
	if err != nil {
		return out, fmt.Errorf("read audit checkpoints: %w", err)
	}
	for _, cp := range cps {
		if cp.Seq == rep.LastCheckpoint {
			out.LastCheckpointAt = cp.At.UTC()
		}
	}
	if out.Uncheckpointed > 0 {
		errFound := errors.New("found")
		err := db.AuditRecords(ctx, rep.LastCheckpoint+1, func(r store.AuditRecord) error {
			out.OldestUncheckpointed = r.At.UTC()
			return errFound
		})
		if err != nil && !errors.Is(err, errFound) {
			return out, fmt.Errorf("read audit records: %w", err)
		}
	}
	return out, nil
}
