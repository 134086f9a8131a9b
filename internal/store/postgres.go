package store

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

var postgresDialect = &dialect{
	name:   "postgres",
	bigint: "BIGINT",
	// FOR UPDATE makes replicas queue on the head row, so the chain stays
	// one sequence however many processes append.
	lockHead:      `SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE`,
	migrationLock: `SELECT pg_advisory_xact_lock(7365776172640001)`,
	// The two-key form keeps these locks apart from the migration lock;
	// two identities whose names hash alike only share a lock.
	exchangeLock: `SELECT pg_advisory_xact_lock(1937012068, hashtext($1))`,
	isConflict: func(err error) bool {
		var pe *pgconn.PgError
		return errors.As(err, &pe) && pe.Code == "23505"
	},
	auditChain: pgAuditChain,
}

// pgAuditChain reads the chain through pgx directly: rows arrive in
// PostgreSQL's binary format and are handed over without copying, which
// makes verification several times cheaper than through database/sql.
func pgAuditChain(ctx context.Context, db *sql.DB, from int64, fn func(seq int64, body, hash []byte) error) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("read audit records: %w", err)
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		pc := dc.(*stdlib.Conn).Conn()
		rows, err := pc.Query(ctx, `SELECT seq, body, hash FROM audit_records WHERE seq >= $1 ORDER BY seq`, from)
		if err != nil {
			return fmt.Errorf("read audit records: %w", err)
		}
		defer rows.Close()
		binaryRows := true
		for _, fd := range rows.FieldDescriptions() {
			binaryRows = binaryRows && fd.Format == pgx.BinaryFormatCode
		}
		var seq int64
		var body, hash []byte
		for rows.Next() {
			raw := rows.RawValues()
			if binaryRows && len(raw) == 3 && len(raw[0]) == 8 {
				seq, body, hash = int64(binary.BigEndian.Uint64(raw[0])), raw[1], raw[2]
			} else if err := rows.Scan(&seq, &body, &hash); err != nil {
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
	})
}

// OpenPostgres connects to PostgreSQL with a libpq-style DSN or URL and
// brings the schema up to date. Several Steward processes may share one
// database. Errors never repeat the DSN, which may hold a password.
//
// The store caches secret version rows as stored (ciphertext and wrapped
// data key) and keeps one more connection that listens for the
// notifications migration 0006's trigger sends on every version change;
// see versionCache and listener.
func OpenPostgres(ctx context.Context, dsn string) (Store, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, errors.New("parse PostgreSQL DSN: malformed connection string (not repeated here: it may hold a password)")
	}
	host := fmt.Sprintf("%s:%d/%s", cfg.Host, cfg.Port, cfg.Database)
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(16)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to PostgreSQL at %s: %w", host, err)
	}
	if err := migrate(ctx, db, postgresDialect); err != nil {
		db.Close()
		return nil, fmt.Errorf("PostgreSQL at %s: %w", host, err)
	}
	cache := newVersionCache(listenStaleAfter)
	return &sqlStore{db: db, d: postgresDialect, cache: cache, listen: startListener(&cfg.Config, cache)}, nil
}
