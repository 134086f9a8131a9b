package secrets_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/steward-dev/steward/internal/audit"
	"github.com/steward-dev/steward/internal/secrets"
	"github.com/steward-dev/steward/internal/store"
	"github.com/steward-dev/steward/internal/store/storetest"
)

// exercise runs every operation with the known secret.
func exercise(t *testing.T, e *env) []byte {
	ctx := context.Background()
	id := "billing-sync-prod"
	b := bundle(knownSecret)
	b.PrivateKey = knownPEM
	if _, err := e.s.Put(ctx, ana, id, b, 0, time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.Rotate(ctx, ana, id, b, secrets.Any, nil, time.Hour); err != nil {
		t.Fatal(err)
	}
	for v := 0; v <= 2; v++ {
		if _, _, err := e.s.Read(ctx, billing, id, v); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.s.MatchFingerprint(ctx, []byte(knownSecret)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.Show(ctx, id, 0); err != nil {
		t.Fatal(err)
	}
	var exp bytes.Buffer
	if err := audit.Export(ctx, e.db, e.pub, &exp, false); err != nil {
		t.Fatal(err)
	}
	return exp.Bytes()
}

// knownPEM is a private key (in shape) whose body the leak checks look for.
var knownPEM = string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte(knownSecret + knownSecret)}))

func assertNoSecret(t *testing.T, what string, data []byte) {
	t.Helper()
	if len(data) == 0 {
		t.Fatalf("%s is empty: nothing was checked", what)
	}
	pemBody := strings.Split(knownPEM, "\n")[1]
	for _, needle := range []string{knownSecret, knownSecret[8:40], pemBody} {
		if bytes.Contains(data, []byte(needle)) {
			t.Errorf("the secret appears in %s", what)
		}
	}
}

func TestNoLeakSQLite(t *testing.T) {
	open, dir := storetest.SQLite(t)
	e := newEnv(t, open(), keyring(t, newKEK("k1")))
	assertNoSecret(t, "the audit export", exercise(t, e))
	e.log.Close()
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > 0 {
			assertNoSecret(t, filepath.Base(f), b)
		}
	}
}

func TestNoLeakPostgres(t *testing.T) {
	if !storetest.PostgresAvailable(t) {
		t.Skip("PostgreSQL not configured")
	}
	dsn := storetest.PostgresDSN(t)
	db, err := store.OpenPostgres(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	e := newEnv(t, db, keyring(t, newKEK("k1")))
	assertNoSecret(t, "the audit export", exercise(t, e))
	e.log.Close()
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(pgDump(t), "--no-owner", "-h", cfg.Host, "-p", strconv.Itoa(int(cfg.Port)), "-U", cfg.User, cfg.Database)
	cmd.Env = append(os.Environ(), "PGPASSWORD="+cfg.Password)
	dump, err := cmd.Output()
	if err != nil {
		t.Fatalf("pg_dump: %v", err)
	}
	if !bytes.Contains(dump, []byte("audit_records")) {
		t.Fatal("pg_dump output lacks the tables")
	}
	assertNoSecret(t, "the PostgreSQL dump", dump)
	// bytea columns are dumped in hex.
	if bytes.Contains(dump, []byte(hex.EncodeToString([]byte(knownSecret[8:40])))) {
		t.Error("the secret appears hex-encoded in the PostgreSQL dump")
	}
}

func pgDump(t *testing.T) string {
	if p, err := exec.LookPath("pg_dump"); err == nil {
		return p
	}
	ms, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_dump")
	if len(ms) == 0 {
		t.Fatal("pg_dump not found: install postgresql-client")
	}
	return ms[len(ms)-1]
}
