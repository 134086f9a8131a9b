package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

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
func OpenSQLite(ctx context.Context, dataDir string) (Store, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory %s: %w", dataDir, err)
	}
	file := filepath.Join(dataDir, SQLiteFile)
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "synchronous(FULL)", "busy_timeout(10000)", "foreign_keys(1)", "mmap_size(268435456)", "cache_size(-16384)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+file+"?"+q.Encode())
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
	return &sqlStore{db: db, d: sqliteDialect}, nil
}
