package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// SQLiteFile is the database file's name inside the data directory.
const SQLiteFile = "steward.db"

var sqliteDialect = &dialect{
	name:     "sqlite",
	bigint:   "INTEGER",
	lockHead: `SELECT seq, hash FROM audit_head WHERE id = 1`,
	isConflict: func(err error) bool {
		var se *sqlite.Error
		if !errors.As(err, &se) {
			return false
		}
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_CONSTRAINT_UNIQUE:
			return true
		}
		return false
	},
}

// OpenSQLite opens (creating if needed) the SQLite database in dataDir and
// brings its schema up to date. The database runs in WAL mode with full
// synchronous commits, so a committed transaction survives a crash; write
// transactions take the write lock when they begin, so concurrent writers
// in one or several processes queue instead of failing. Reads go through a
// memory map and a 16 MiB page cache, which matters when verifying a long
// audit chain.
//
// SQLite syncs with fdatasync where the system has it (see useFdatasync).
//
// The store also offers AppendAuditDeferred, which commits audit records
// on connections of their own that leave the sync to disk to a separate
// flush (see there).
func OpenSQLite(ctx context.Context, dataDir string) (Store, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory %s: %w", dataDir, err)
	}
	file := filepath.Join(dataDir, SQLiteFile)
	useFdatasync()
	db, err := sql.Open("sqlite", sqliteDSN(file, "FULL", "cache_size(-16384)"))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", file, err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", file, err)
	}
	if err := os.Chmod(file, 0o600); err != nil {
		db.Close()
		return nil, fmt.Errorf("restrict %s: %w", file, err)
	}
	if err := migrate(ctx, db, sqliteDialect); err != nil {
		db.Close()
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	// The audit connections open when the first deferred append needs one.
	adb, err := sql.Open("sqlite", sqliteDSN(file, "NORMAL"))
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", file, err)
	}
	return &sqliteStore{
		sqlStore: &sqlStore{db: db, d: sqliteDialect},
		audit:    &sqlStore{db: adb, d: sqliteDialect},
		wal:      &walFile{path: file + "-wal"},
	}, nil
}

// useFdatasync makes SQLite's own syncs (commits at synchronous=FULL,
// checkpoints) fdatasync instead of fsync, as SQLite's Linux builds do: the
// library is transpiled without that configuration and keeps fsync, whose
// timestamp update costs a journal commit of the file system. It is a
// process-wide setting; where fdatasync does not exist SQLite keeps fsync.
func useFdatasync() {
	// The only error is ErrFdatasyncUnavailable (macOS, Windows), where
	// SQLite keeps its own, as safe, sync.
	_, _ = sqlite.Fdatasync(true)
}

// sqliteDSN is the connection string of file with the given synchronous
// mode and extra pragmas.
func sqliteDSN(file, synchronous string, pragmas ...string) string {
	q := url.Values{}
	for _, p := range append([]string{"journal_mode(WAL)", "synchronous(" + synchronous + ")", "busy_timeout(10000)", "foreign_keys(1)", "mmap_size(268435456)"}, pragmas...) {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	return "file:" + file + "?" + q.Encode()
}

// sqliteStore is the SQLite store: the shared SQL implementation, plus
// connections for deferred audit appends and the write-ahead log that
// makes them durable.
type sqliteStore struct {
	*sqlStore
	audit *sqlStore
	wal   *walFile
}

// AppendAuditDeferred is AppendAudit on connections that commit without
// syncing the write-ahead log (synchronous=NORMAL): when it returns, the
// records are committed, ordered in the chain and visible to every reader,
// and they are durable once flush returns nil. A flush syncs the whole log,
// so it also makes every earlier append durable: a writer that commits its
// next batch while the previous one is being flushed needs to call only
// the latest flush. After a failed flush nothing committed since the last
// successful one can be trusted to be on disk.
func (s *sqliteStore) AppendAuditDeferred(ctx context.Context, seal Seal) (flush func() error, err error) {
	if err := s.audit.AppendAudit(ctx, seal); err != nil {
		return nil, err
	}
	return s.wal.sync, nil
}

// Close closes both connections' pools.
func (s *sqliteStore) Close() error {
	return errors.Join(s.audit.Close(), s.wal.close(), s.sqlStore.Close())
}

// walFile is the database's write-ahead log, opened only to sync it. In
// WAL mode a transaction is committed once its frames, ending with the
// commit frame, are in the log, and durable once the log is synced: what
// synchronous=FULL does at every commit, done here at a chosen time. The
// log keeps its file while any connection is open; SQLite deletes it when
// the last one closes, after checkpointing it into the database.
type walFile struct {
	path string
	mu   sync.Mutex
	f    *os.File
	info os.FileInfo // f's, taken when it was opened: an open file keeps its identity
}

// sync makes everything written to the log so far durable. The log must
// exist: the append it follows was committed to it on a connection that
// is still open, so a missing or replaced file is an error, not a reason
// to believe the records are safe.
func (w *walFile) sync() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f != nil && !w.same() {
		w.f.Close()
		w.f = nil
	}
	if w.f == nil {
		f, err := os.Open(w.path)
		if err != nil {
			return fmt.Errorf("sync the write-ahead log: %w", err)
		}
		info, err := f.Stat()
		if err != nil {
			f.Close()
			return fmt.Errorf("sync the write-ahead log: %w", err)
		}
		// The log may be new: its directory entry must be durable too.
		if err := syncDir(filepath.Dir(w.path)); err != nil {
			f.Close()
			return err
		}
		w.f, w.info = f, info
	}
	if err := datasync(w.f); err != nil {
		return fmt.Errorf("sync the write-ahead log %s: %w", w.path, err)
	}
	return nil
}

// same reports whether the open file is still the one at the path.
func (w *walFile) same() bool {
	now, err := os.Stat(w.path)
	return err == nil && os.SameFile(w.info, now)
}

func (w *walFile) close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return nil
	}
	err := w.f.Close()
	w.f = nil
	return err
}

// syncDir makes dir's entries durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}
