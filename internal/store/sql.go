package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// dialect holds what differs between the two SQL backends.
type dialect struct {
	name   string
	bigint string
	// lockHead selects the audit chain head so that no other writer can
	// move it until the transaction ends.
	lockHead string
	// migrationLock, when set, serialises migrators.
	migrationLock string
	// exchangeLock, when set, takes a transaction-scoped lock on one
	// identity's upstream exchange ($1 is the identity); without it
	// LockExchange locks nothing (one process per database).
	exchangeLock string
	// isConflict reports a unique-constraint violation.
	isConflict func(error) bool
	// auditChain, when set, replaces the generic AuditChain with a faster
	// driver-specific one.
	auditChain func(ctx context.Context, db *sql.DB, from int64, fn func(seq int64, body, hash []byte) error) error
}

// sqlStore implements Store on database/sql for both dialects.
type sqlStore struct {
	db *sql.DB
	d  *dialect
	// stmts caches prepared statements of the hot paths by query text, so
	// SQLite does not parse them again on every call.
	stmts sync.Map
	// cache, when set, serves Version without a round trip; listen keeps
	// it in step with other processes (PostgreSQL only).
	cache  *versionCache
	listen *listener
}

// changed drops identity's cached rows after this process changed them,
// so the change shows in this process at once, before any notification.
func (s *sqlStore) changed(identity string) {
	if s.cache != nil {
		s.cache.invalidate(identity)
	}
}

// prepared returns the cached prepared statement for query.
func (s *sqlStore) prepared(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := s.stmts.Load(query); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := s.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if prev, loaded := s.stmts.LoadOrStore(query, st); loaded {
		st.Close()
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

var _ Store = (*sqlStore)(nil)

func nowNanos() int64 { return time.Now().UnixNano() }

func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// withTx runs fn in a transaction and commits it.
func (s *sqlStore) withTx(ctx context.Context, what string, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s: begin: %w", what, err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		if s.d.isConflict(err) {
			return fmt.Errorf("%s: %w", what, ErrConflict)
		}
		return fmt.Errorf("%s: commit: %w", what, err)
	}
	return nil
}

func (s *sqlStore) InsertVersion(ctx context.Context, v Version, expect int, overlapUntil time.Time) (int, error) {
	what := "insert secret version of " + v.Identity
	defer s.changed(v.Identity)
	var next int
	err := s.withTx(ctx, what, func(tx *sql.Tx) error {
		var latest int
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM secret_versions WHERE identity = $1`, v.Identity).Scan(&latest); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if latest != expect {
			return fmt.Errorf("%s: latest version is %d, expected %d: %w", what, latest, expect, ErrConflict)
		}
		next = latest + 1
		if v.State == StateActive {
			if _, err := tx.ExecContext(ctx, `UPDATE secret_versions SET state = $1, state_at = $2, overlap_until = $3 WHERE identity = $4 AND state = $5`,
				StateRetired, nanos(v.CreatedAt), nanos(overlapUntil), v.Identity, StateActive); err != nil {
				return fmt.Errorf("%s: retire active version: %w", what, err)
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO secret_versions (identity, version, state, created_at, created_by, state_at, kek_id, wrapped_key, nonce, ciphertext)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			v.Identity, next, v.State, nanos(v.CreatedAt), v.CreatedBy, nanos(v.CreatedAt), v.KEKID, v.WrappedKey, v.Nonce, v.Ciphertext)
		if err != nil {
			if s.d.isConflict(err) {
				return fmt.Errorf("%s: %w", what, ErrConflict)
			}
			return fmt.Errorf("%s: %w", what, err)
		}
		for _, f := range v.Fingerprints {
			if _, err := tx.ExecContext(ctx, `INSERT INTO secret_fingerprints (mac, identity, version, field) VALUES ($1, $2, $3, $4)`, f.MAC, v.Identity, next, f.Field); err != nil {
				return fmt.Errorf("%s: fingerprint: %w", what, err)
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return next, nil
}

const versionColumns = `identity, version, state, created_at, created_by, state_at, overlap_until, deleted_at, destroyed_at, kek_id, wrapped_key, nonce, ciphertext`

type scanner interface{ Scan(...any) error }

func scanVersion(r scanner) (Version, error) {
	var v Version
	var created, stateAt, overlap, deleted, destroyed int64
	err := r.Scan(&v.Identity, &v.Version, &v.State, &created, &v.CreatedBy, &stateAt, &overlap, &deleted, &destroyed, &v.KEKID, &v.WrappedKey, &v.Nonce, &v.Ciphertext)
	v.CreatedAt, v.StateAt, v.OverlapUntil = fromNanos(created), fromNanos(stateAt), fromNanos(overlap)
	v.DeletedAt, v.DestroyedAt = fromNanos(deleted), fromNanos(destroyed)
	return v, err
}

// Version serves from the cache when there is one and it holds the row,
// and fills it otherwise.
func (s *sqlStore) Version(ctx context.Context, identity string, version int) (Version, error) {
	if s.cache == nil {
		return s.readVersion(ctx, identity, version)
	}
	if v, ok := s.cache.get(identity, version); ok {
		return v, nil
	}
	gen := s.cache.begin()
	v, err := s.readVersion(ctx, identity, version)
	if err == nil {
		s.cache.put(gen, identity, version, v)
	}
	return v, err
}

// readVersion reads a version from the database.
func (s *sqlStore) readVersion(ctx context.Context, identity string, version int) (Version, error) {
	query, arg := `SELECT `+versionColumns+` FROM secret_versions WHERE identity = $1 AND version = $2`, any(version)
	if version == 0 {
		query, arg = `SELECT `+versionColumns+` FROM secret_versions WHERE identity = $1 AND state = $2`, StateActive
	}
	st, err := s.prepared(ctx, query)
	if err != nil {
		return Version{}, fmt.Errorf("read secret %s: %w", identity, err)
	}
	v, err := scanVersion(st.QueryRowContext(ctx, identity, arg))
	if errors.Is(err, sql.ErrNoRows) {
		if version == 0 {
			return Version{}, fmt.Errorf("secret %s has no active version: %w", identity, ErrNotFound)
		}
		return Version{}, fmt.Errorf("secret %s version %d: %w", identity, version, ErrNotFound)
	}
	if err != nil {
		return Version{}, fmt.Errorf("read secret %s: %w", identity, err)
	}
	return v, nil
}

func (s *sqlStore) Versions(ctx context.Context, identity string) ([]Version, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+versionColumns+` FROM secret_versions WHERE identity = $1 ORDER BY version`, identity)
	if err != nil {
		return nil, fmt.Errorf("read versions of %s: %w", identity, err)
	}
	defer rows.Close()
	var out []Version
	for rows.Next() {
		v, err := scanVersion(rows)
		if err != nil {
			return nil, fmt.Errorf("read versions of %s: %w", identity, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read versions of %s: %w", identity, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("secret %s: %w", identity, ErrNotFound)
	}
	return out, nil
}

func (s *sqlStore) Identities(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT identity FROM secret_versions ORDER BY identity`)
	if err != nil {
		return nil, fmt.Errorf("list secrets: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("list secrets: %w", err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// exec runs one statement that must change exactly one row; no row means
// the precondition in its WHERE clause failed.
func (s *sqlStore) execOne(ctx context.Context, q execer, what string, query string, args ...any) error {
	res, err := q.ExecContext(ctx, query, args...)
	return oneRow(what, res, err)
}

// oneRow is nil when a statement that returned res and err changed exactly
// one row, and ErrConflict when it changed none or several.
func oneRow(what string, res sql.Result, err error) error {
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if n != 1 {
		return fmt.Errorf("%s: %w", what, ErrConflict)
	}
	return nil
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func (s *sqlStore) SetState(ctx context.Context, identity string, version int, from, to string, at time.Time) error {
	what := fmt.Sprintf("move secret %s version %d from %s to %s", identity, version, from, to)
	defer s.changed(identity)
	return s.execOne(ctx, s.db, what, `UPDATE secret_versions SET state = $1, state_at = $2 WHERE identity = $3 AND version = $4 AND state = $5 AND destroyed_at = 0`,
		to, nanos(at), identity, version, from)
}

func (s *sqlStore) Promote(ctx context.Context, identity string, version int, at, overlapUntil time.Time) error {
	what := fmt.Sprintf("promote secret %s version %d", identity, version)
	defer s.changed(identity)
	return s.withTx(ctx, what, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE secret_versions SET state = $1, state_at = $2, overlap_until = $3 WHERE identity = $4 AND state = $5`,
			StateRetired, nanos(at), nanos(overlapUntil), identity, StateActive); err != nil {
			return fmt.Errorf("%s: retire active version: %w", what, err)
		}
		return s.execOne(ctx, tx, what, `UPDATE secret_versions SET state = $1, state_at = $2 WHERE identity = $3 AND version = $4 AND state = $5 AND destroyed_at = 0`,
			StateActive, nanos(at), identity, version, StateVerified)
	})
}

func (s *sqlStore) SetDeleted(ctx context.Context, identity string, version int, at time.Time) error {
	what := fmt.Sprintf("delete secret %s version %d", identity, version)
	if at.IsZero() {
		what = fmt.Sprintf("restore secret %s version %d", identity, version)
	}
	defer s.changed(identity)
	return s.execOne(ctx, s.db, what, `UPDATE secret_versions SET deleted_at = $1 WHERE identity = $2 AND version = $3 AND destroyed_at = 0`, nanos(at), identity, version)
}

func (s *sqlStore) Destroy(ctx context.Context, identity string, version int, at time.Time) error {
	what := fmt.Sprintf("destroy secret %s version %d", identity, version)
	defer s.changed(identity)
	return s.withTx(ctx, what, func(tx *sql.Tx) error {
		if err := s.execOne(ctx, tx, what, `UPDATE secret_versions SET destroyed_at = $1, wrapped_key = NULL, nonce = NULL, ciphertext = NULL WHERE identity = $2 AND version = $3 AND destroyed_at = 0`,
			nanos(at), identity, version); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM secret_fingerprints WHERE identity = $1 AND version = $2`, identity, version); err != nil {
			return fmt.Errorf("%s: fingerprints: %w", what, err)
		}
		return nil
	})
}

func (s *sqlStore) Rewrap(ctx context.Context, identity string, version int, old, new Wrapped) error {
	what := fmt.Sprintf("rewrap secret %s version %d", identity, version)
	defer s.changed(identity)
	return s.execOne(ctx, s.db, what, `UPDATE secret_versions SET kek_id = $1, wrapped_key = $2 WHERE identity = $3 AND version = $4 AND kek_id = $5 AND wrapped_key = $6 AND destroyed_at = 0`,
		new.KEKID, new.WrappedKey, identity, version, old.KEKID, old.WrappedKey)
}

func (s *sqlStore) Fingerprints(ctx context.Context, identity string, version int) ([]Fingerprint, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT field, mac FROM secret_fingerprints WHERE identity = $1 AND version = $2 ORDER BY field`, identity, version)
	if err != nil {
		return nil, fmt.Errorf("read fingerprints of %s version %d: %w", identity, version, err)
	}
	defer rows.Close()
	var out []Fingerprint
	for rows.Next() {
		var f Fingerprint
		if err := rows.Scan(&f.Field, &f.MAC); err != nil {
			return nil, fmt.Errorf("read fingerprints of %s version %d: %w", identity, version, err)
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

func (s *sqlStore) MatchFingerprint(ctx context.Context, mac []byte) ([]FingerprintMatch, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT identity, version, field FROM secret_fingerprints WHERE mac = $1 ORDER BY identity, version, field`, mac)
	if err != nil {
		return nil, fmt.Errorf("match fingerprint: %w", err)
	}
	defer rows.Close()
	var out []FingerprintMatch
	for rows.Next() {
		var m FingerprintMatch
		if err := rows.Scan(&m.Identity, &m.Version, &m.Field); err != nil {
			return nil, fmt.Errorf("match fingerprint: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

func (s *sqlStore) Meta(ctx context.Context, key string) ([]byte, error) {
	var v []byte
	err := s.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = $1`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("key %s: %w", key, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read key %s: %w", key, err)
	}
	return v, nil
}

func (s *sqlStore) InitMeta(ctx context.Context, key string, value []byte) ([]byte, error) {
	if _, err := s.db.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`, key, value); err != nil {
		return nil, fmt.Errorf("store key %s: %w", key, err)
	}
	return s.Meta(ctx, key)
}

func (s *sqlStore) SwapMeta(ctx context.Context, key string, old, new []byte) error {
	return s.execOne(ctx, s.db, "replace key "+key, `UPDATE meta SET value = $1 WHERE key = $2 AND value = $3`, new, key, old)
}

func (s *sqlStore) AppendAudit(ctx context.Context, seal Seal) error {
	return s.withTx(ctx, "append audit records", func(tx *sql.Tx) error {
		var head AuditHead
		lock, err := s.prepared(ctx, s.d.lockHead)
		if err != nil {
			return fmt.Errorf("lock audit head: %w", err)
		}
		if err := tx.StmtContext(ctx, lock).QueryRowContext(ctx).Scan(&head.Seq, &head.Hash); err != nil {
			return fmt.Errorf("lock audit head: %w", err)
		}
		lastCP, err := s.prepared(ctx, `SELECT seq, hash, at, key_id, signature FROM audit_checkpoints ORDER BY seq DESC LIMIT 1`)
		if err != nil {
			return fmt.Errorf("read last checkpoint: %w", err)
		}
		var cpAt int64
		err = tx.StmtContext(ctx, lastCP).QueryRowContext(ctx).
			Scan(&head.Checkpoint.Seq, &head.Checkpoint.Hash, &cpAt, &head.Checkpoint.KeyID, &head.Checkpoint.Signature)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("read last checkpoint: %w", err)
		}
		head.Checkpoint.At = fromNanos(cpAt)
		recs, cp, err := seal(head)
		if err != nil {
			return err
		}
		if len(recs) == 0 {
			return nil
		}
		for i, r := range recs {
			if r.Seq != head.Seq+int64(i)+1 {
				return fmt.Errorf("append audit records: sequence %d does not follow %d", r.Seq, head.Seq+int64(i))
			}
		}
		if err := s.insertAuditRecords(ctx, tx, recs); err != nil {
			return err
		}
		last := recs[len(recs)-1]
		if cp != nil {
			if cp.Seq != last.Seq || !bytes.Equal(cp.Hash, last.Hash) {
				return fmt.Errorf("append audit checkpoint: checkpoint %d does not sign the new head %d", cp.Seq, last.Seq)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO audit_checkpoints (seq, hash, at, key_id, signature) VALUES ($1, $2, $3, $4, $5)`,
				cp.Seq, cp.Hash, nanos(cp.At), cp.KeyID, cp.Signature); err != nil {
				return fmt.Errorf("append audit checkpoint %d: %w", cp.Seq, err)
			}
		}
		move, err := s.prepared(ctx, `UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1 AND seq = $3`)
		if err != nil {
			return fmt.Errorf("move audit head: %w", err)
		}
		res, err := tx.StmtContext(ctx, move).ExecContext(ctx, last.Seq, last.Hash, head.Seq)
		return oneRow("move audit head", res, err)
	})
}

// auditInsertRows bounds the rows of one INSERT: 6 parameters a row stays
// far below both databases' parameter limits.
const auditInsertRows = 500

// auditPreparedRows is the largest INSERT kept prepared: group commits of
// up to this many records (the usual sizes) skip the statement's parsing,
// and at most this many statements are cached.
const auditPreparedRows = 64

// insertAuditRecords writes records with multi-row INSERTs: one round trip
// per 500 records instead of one per record.
func (s *sqlStore) insertAuditRecords(ctx context.Context, tx *sql.Tx, recs []AuditRecord) error {
	for len(recs) > 0 {
		n := min(len(recs), auditInsertRows)
		var q strings.Builder
		q.WriteString(`INSERT INTO audit_records (seq, at, action, resource, body, hash) VALUES `)
		args := make([]any, 0, 6*n)
		for i, r := range recs[:n] {
			if i > 0 {
				q.WriteByte(',')
			}
			p := 6 * i
			fmt.Fprintf(&q, "($%d, $%d, $%d, $%d, $%d, $%d)", p+1, p+2, p+3, p+4, p+5, p+6)
			args = append(args, r.Seq, nanos(r.At), r.Action, r.Resource, r.Body, r.Hash)
		}
		var err error
		if n <= auditPreparedRows {
			var st *sql.Stmt
			if st, err = s.prepared(ctx, q.String()); err == nil {
				_, err = tx.StmtContext(ctx, st).ExecContext(ctx, args...)
			}
		} else {
			_, err = tx.ExecContext(ctx, q.String(), args...)
		}
		if err != nil {
			return fmt.Errorf("append audit records %d to %d: %w", recs[0].Seq, recs[n-1].Seq, err)
		}
		recs = recs[n:]
	}
	return nil
}

func (s *sqlStore) AuditRecords(ctx context.Context, from int64, fn func(AuditRecord) error) error {
	rows, err := s.db.QueryContext(ctx, `SELECT seq, at, action, resource, body, hash FROM audit_records WHERE seq >= $1 ORDER BY seq`, from)
	if err != nil {
		return fmt.Errorf("read audit records: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r AuditRecord
		var at int64
		if err := rows.Scan(&r.Seq, &at, &r.Action, &r.Resource, &r.Body, &r.Hash); err != nil {
			return fmt.Errorf("read audit records: %w", err)
		}
		r.At = fromNanos(at)
		if err := fn(r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read audit records: %w", err)
	}
	return nil
}

func (s *sqlStore) AuditChain(ctx context.Context, from int64, fn func(seq int64, body, hash []byte) error) error {
	if s.d.auditChain != nil {
		return s.d.auditChain(ctx, s.db, from, fn)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT seq, body, hash FROM audit_records WHERE seq >= $1 ORDER BY seq`, from)
	if err != nil {
		return fmt.Errorf("read audit records: %w", err)
	}
	defer rows.Close()
	var seq int64
	var body, hash sql.RawBytes
	for rows.Next() {
		if err := rows.Scan(&seq, &body, &hash); err != nil {
			return fmt.Errorf("read audit records: %w", err)
		}
		if err := fn(seq, body, hash); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read audit records: %w", err)
	}
	return nil
}

// lastAuditQuery reads the latest record of a resource and action. Its
// condition on action is the index's own, so that the index, which leaves
// token decisions out, serves it on both databases.
const lastAuditQuery = `SELECT seq, at, action, resource, body, hash FROM audit_records
	WHERE resource = $1 AND action = $2 AND action <> 'broker.token' ORDER BY seq DESC LIMIT 1`

func (s *sqlStore) LastAudit(ctx context.Context, resource, action string) (AuditRecord, error) {
	if action == AuditActionToken {
		return AuditRecord{}, fmt.Errorf("last %s record for %s: token decisions are not indexed by resource; read the log in order instead", action, resource)
	}
	var r AuditRecord
	var at int64
	err := s.db.QueryRowContext(ctx, lastAuditQuery, resource, action).
		Scan(&r.Seq, &at, &r.Action, &r.Resource, &r.Body, &r.Hash)
	if errors.Is(err, sql.ErrNoRows) {
		return AuditRecord{}, fmt.Errorf("no %s record for %s: %w", action, resource, ErrNotFound)
	}
	if err != nil {
		return AuditRecord{}, fmt.Errorf("read audit records: %w", err)
	}
	r.At = fromNanos(at)
	return r, nil
}

func (s *sqlStore) Checkpoints(ctx context.Context) ([]Checkpoint, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT seq, hash, at, key_id, signature FROM audit_checkpoints ORDER BY seq`)
	if err != nil {
		return nil, fmt.Errorf("read audit checkpoints: %w", err)
	}
	defer rows.Close()
	var out []Checkpoint
	for rows.Next() {
		var c Checkpoint
		var at int64
		if err := rows.Scan(&c.Seq, &c.Hash, &at, &c.KeyID, &c.Signature); err != nil {
			return nil, fmt.Errorf("read audit checkpoints: %w", err)
		}
		c.At = fromNanos(at)
		out = append(out, c)
	}
	return out, rows.Err()
}

func (s *sqlStore) Close() error {
	if s.listen != nil {
		s.listen.stop()
	}
	s.stmts.Range(func(_, st any) bool { st.(*sql.Stmt).Close(); return true })
	return s.db.Close()
}
