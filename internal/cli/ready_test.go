package cli

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/steward-dev/steward/internal/audit"
	"github.com/steward-dev/steward/internal/store"
	"github.com/steward-dev/steward/internal/store/storetest"
)

// failingFlushes is an audit store whose commits succeed and whose
// flushes to disk fail, as on a disk that reports an I/O error.
type failingFlushes struct{ store.Store }

func (f failingFlushes) AppendAuditDeferred(ctx context.Context, seal store.Seal) (func() error, error) {
	if err := f.Store.AppendAudit(ctx, seal); err != nil {
		return nil, err
	}
	return func() error { return errors.New("sync steward.db-wal: input/output error") }, nil
}

// TestReadyAuditLog: the server is ready while its audit log takes
// records, and not ready once a flush to disk has failed.
func TestReadyAuditLog(t *testing.T) {
	open, _ := storetest.SQLite(t)
	db := open()
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	log, err := audit.New(audit.Config{Store: failingFlushes{db}, Signer: key, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	ctx := context.Background()
	if err := ready(ctx, db, log); err != nil {
		t.Fatalf("ready before any failure: %v", err)
	}
	ev := audit.Event{Actor: audit.Actor{Kind: audit.ActorWorkload, ID: "w"}, Action: "token", Resource: "erp", Outcome: audit.OutcomeSuccess}
	if _, err := log.Append(ctx, ev); !errors.Is(err, audit.ErrUnavailable) {
		t.Fatalf("append with a failing flush = %v, want ErrUnavailable", err)
	}
	err = ready(ctx, db, log)
	if err == nil || !strings.Contains(err.Error(), "audit log") || !strings.Contains(err.Error(), "input/output error") {
		t.Fatalf("ready after a failed flush = %v, want the audit log's failure", err)
	}
}
