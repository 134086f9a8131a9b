package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"modernc.org/sqlite"
)

func openSQLiteStore(t *testing.T, dir string) *sqliteStore {
	t.Helper()
	s, err := OpenSQLite(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s.(*sqliteStore)
}

// TestSQLiteSyncModes: every connection syncs at commit except the audit
// connection, whose appends are made durable by their flush; on Linux
// SQLite's syncs are fdatasync.
func TestSQLiteSyncModes(t *testing.T) {
	s := openSQLiteStore(t, t.TempDir())
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		s    *sqlStore
		want int // PRAGMA synchronous: 1 NORMAL, 2 FULL
	}{
		{"main", s.sqlStore, 2},
		{"audit", s.audit, 1},
	} {
		var mode int
		var journal string
		if err := tc.s.db.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&mode); err != nil {
			t.Fatal(err)
		}
		if err := tc.s.db.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&journal); err != nil {
			t.Fatal(err)
		}
		if mode != tc.want || journal != "wal" {
			t.Errorf("%s connection: synchronous %d, journal %s; want %d, wal", tc.name, mode, journal, tc.want)
		}
	}
	if runtime.GOOS == "linux" && !sqlite.FdatasyncEnabled() {
		t.Error("SQLite syncs with fsync; want fdatasync")
	}
}

// chainOne seals one record after the head.
func chainOne(action string) Seal {
	return func(head AuditHead) ([]AuditRecord, *Checkpoint, error) {
		body := []byte(`{"action":"` + action + `"}`)
		h := sha256.Sum256(append(append([]byte(nil), head.Hash...), body...))
		return []AuditRecord{{Seq: head.Seq + 1, At: time.Unix(1, 0), Action: action, Resource: "erp", Body: body, Hash: h[:]}}, nil, nil
	}
}

// TestAppendAuditDeferred: a deferred append is committed and visible to
// another process's handle before its flush, the flush succeeds, and the
// chain goes on from it through the synchronous path.
func TestAppendAuditDeferred(t *testing.T) {
	dir := t.TempDir()
	a, b := openSQLiteStore(t, dir), openSQLiteStore(t, dir)
	ctx := context.Background()
	flush, err := a.AppendAuditDeferred(ctx, chainOne("first"))
	if err != nil {
		t.Fatal(err)
	}
	var seen []AuditRecord
	if err := b.AuditRecords(ctx, 0, func(r AuditRecord) error { seen = append(seen, r); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 1 || seen[0].Action != "first" {
		t.Fatalf("another handle sees %+v before the flush, want the committed record", seen)
	}
	if err := flush(); err != nil {
		t.Fatal(err)
	}
	if err := b.AppendAudit(ctx, chainOne("second")); err != nil {
		t.Fatal(err)
	}
	seen = nil
	if err := a.AuditRecords(ctx, 0, func(r AuditRecord) error { seen = append(seen, r); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 2 || seen[1].Seq != 2 || seen[1].Action != "second" {
		t.Fatalf("chain after a deferred and a synchronous append: %+v", seen)
	}
}

// TestWALFileSync: the write-ahead log must exist to be synced; a file
// replaced at its path is reopened, so the sync reaches the file SQLite
// writes.
func TestWALFileSync(t *testing.T) {
	path := filepath.Join(t.TempDir(), SQLiteFile+"-wal")
	w := &walFile{path: path}
	defer w.close()
	err := w.sync()
	if err == nil || !strings.Contains(err.Error(), "write-ahead log") || !strings.Contains(err.Error(), path) {
		t.Fatalf("sync of a missing log = %v, want an error naming the write-ahead log and its path", err)
	}
	if err := os.WriteFile(path, []byte("frames"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := w.sync(); err != nil {
		t.Fatal(err)
	}
	first := w.f
	replacement := path + ".new"
	if err := os.WriteFile(replacement, []byte("other frames"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(replacement, path); err != nil {
		t.Fatal(err)
	}
	if err := w.sync(); err != nil {
		t.Fatal(err)
	}
	if w.f == first {
		t.Fatal("the replaced log was synced through the old file")
	}
	got := make([]byte, 32)
	n, _ := w.f.ReadAt(got, 0)
	if !bytes.Equal(got[:n], []byte("other frames")) {
		t.Fatalf("synced file holds %q, want the replacement", got[:n])
	}
}
