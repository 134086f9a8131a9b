package cli

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/steward-dev/steward/internal/audit"
	"github.com/steward-dev/steward/internal/store"
)

// ciWorkload is the example billing identity's OIDC consumer as the broker
// names it.
const ciWorkload = "https://token.actions.githubusercontent.com#repo:acme/billing:environment:prod"

// readSecret reads a secret through the store the way the secret commands
// open it, as the given --actor.
func readSecret(t *testing.T, e *storeEnv, actor, identity string) {
	t.Helper()
	env := Env{
		Getenv: func(k string) string { return e.vars[k] },
		Now:    func() time.Time { return time.Date(2026, 11, 25, 12, 5, 0, 0, time.UTC) },
	}
	sf := storeFlags{actor: actor, auditTimeout: audit.DefaultTimeout, cpEvery: 1, cpInterval: audit.DefaultCheckpointInterval}
	b, err := sf.openBackend(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, _, err := b.secrets.Read(context.Background(), b.actor, identity, 0); err != nil {
		t.Fatal(err)
	}
}

// storeFindings returns the messages of one rule's findings, by identity
// (or resource name when a finding has no identity).
func storeFindings(r jsonReport, rule string) map[string]string {
	out := map[string]string{}
	for _, f := range r.Findings {
		if f.Rule != rule {
			continue
		}
		subject := f.Resource.Name
		if f.Identity != nil {
			subject = *f.Identity
		}
		out[subject] = f.Message
	}
	return out
}

// TestCheckWithSecretStore puts a secret into a store, reads it as a person
// and as the identity's workload, and checks the example project against
// the store: the person's read is NHI-SEC-03, the secret's age comes from
// the store (NHI-SEC-02), and a tampered audit log is NHI-MON-01.
func TestCheckWithSecretStore(t *testing.T) {
	e := newStoreEnv(t)
	dataDir := e.vars["STEWARD_DATA_DIR"]
	e.must(storeBundle, "secret", "put", "billing-sync-prod", "--checkpoint-every", "1")
	readSecret(t, e, "human:ana@acme.com", "billing-sync-prod")
	readSecret(t, e, "workload:"+ciWorkload, "billing-sync-prod")

	// The declared rotation (2026-11-10) would be 71 days old on 2027-01-20;
	// the store's (2026-11-25) is 56 days old.
	check := func() jsonReport {
		t.Helper()
		code, out, errOut := runWithEnv(t, nil, "check", exampleDir, "--data-dir", dataDir, "-o", "json", "--now", "2027-01-20")
		if code != ExitFindings {
			t.Fatalf("check with the store: exit %d\n%s", code, errOut)
		}
		e.outputs = append(e.outputs, out, errOut)
		return decode(t, out)
	}
	r := check()
	sec03 := storeFindings(r, "NHI-SEC-03")
	if len(sec03) != 1 || !strings.Contains(sec03["billing-sync-prod"], "human ana@acme.com read the secret of identity billing-sync-prod (version 1) once") {
		t.Errorf("NHI-SEC-03 findings = %v, want one for ana's read of billing-sync-prod", sec03)
	}
	want := "The secret of identity billing-sync-prod (version 1 in Steward's secret store) was last rotated on 2026-11-25, 56 days ago: 26 days past its 30-day rotation period"
	if got := storeFindings(r, "NHI-SEC-02")["billing-sync-prod"]; got != want {
		t.Errorf("NHI-SEC-02 for billing-sync-prod = %q, want %q", got, want)
	}
	if got := storeFindings(r, "NHI-MON-01"); len(got) != 0 {
		t.Errorf("NHI-MON-01 on an intact, checkpointed log: %v", got)
	}

	// Rewrite who read the secret: the chain no longer verifies.
	db, err := sql.Open("sqlite", filepath.Join(dataDir, store.SQLiteFile))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE audit_records SET body = replace(body, 'ana@acme.com', 'svc@acme.com') WHERE seq = 2`); err != nil {
		t.Fatal(err)
	}
	mon01 := storeFindings(check(), "NHI-MON-01")
	if got := mon01["steward"]; !strings.Contains(got, "record 2 is the first that cannot be trusted") {
		t.Errorf("NHI-MON-01 after tampering = %v, want record 2 named", mon01)
	}
	leakCheck(t, e)
}

// TestCheckSnapshotWithSecretStore checks what the snapshot carries from
// the store: metadata and readers, never a value or a fingerprint.
func TestCheckSnapshotWithSecretStore(t *testing.T) {
	e := newStoreEnv(t)
	e.must(storeBundle, "secret", "put", "billing-sync-prod")
	readSecret(t, e, "workload:"+ciWorkload, "billing-sync-prod")
	code, out, errOut := runWithEnv(t, map[string]string{"STEWARD_DATA_DIR": e.vars["STEWARD_DATA_DIR"]}, "check", exampleDir, "--dump-snapshot")
	if code != 0 {
		t.Fatalf("dump snapshot: exit %d\n%s", code, errOut)
	}
	e.outputs = append(e.outputs, out)
	for _, want := range []string{`"secretStore": true`, `"name": "billing-sync-prod"`, `"identities": [`, `"kind": "workload"`, `"id": "` + ciWorkload + `"`, `"rotatedOn": "2026-11-25"`, `"ok": true`} {
		if !strings.Contains(out, want) {
			t.Errorf("snapshot lacks %s", want)
		}
	}
	if strings.Contains(out, "hmac-sha256") || strings.Contains(out, "3MVG9-consumer-key") {
		t.Errorf("snapshot carries a fingerprint or the consumer key")
	}
	leakCheck(t, e)

	// Without a store the snapshot says nothing about one.
	_, out, _ = run(t, "check", exampleDir, "--dump-snapshot")
	if strings.Contains(out, `"secretStore": {`) || !strings.Contains(out, `"secretStore": false`) {
		t.Errorf("a check without a store has a secret store section")
	}
}

func TestCheckWithMissingStore(t *testing.T) {
	dir := t.TempDir()
	code, _, errOut := run(t, "check", exampleDir, "--data-dir", dir)
	if code != ExitUsage || !strings.Contains(errOut, "no Steward store in "+dir) {
		t.Fatalf("check --data-dir of an empty directory: exit %d, %s", code, errOut)
	}
	code, _, errOut = run(t, "check", exampleDir, "--audit-checkpoints", filepath.Join(dir, "cps.jsonl"))
	if code != ExitUsage || !strings.Contains(errOut, "--audit-checkpoints needs a store") {
		t.Fatalf("--audit-checkpoints without a store: exit %d, %s", code, errOut)
	}
}

// TestCheckAgainstExportedCheckpoints truncates the audit log's tail: only
// the exported checkpoints show it.
func TestCheckAgainstExportedCheckpoints(t *testing.T) {
	e := newStoreEnv(t)
	dataDir := e.vars["STEWARD_DATA_DIR"]
	for range 3 {
		e.must(storeBundle, "secret", "put", "billing-sync-prod", "--checkpoint-every", "1")
	}
	cps := filepath.Join(e.dir, "checkpoints.jsonl")
	e.must("", "audit", "export", "--checkpoints-only", "--output", cps)
	db, err := sql.Open("sqlite", filepath.Join(dataDir, store.SQLiteFile))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{`DELETE FROM audit_records WHERE seq >= 2`, `DELETE FROM audit_checkpoints WHERE seq >= 2`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	check := func(args ...string) map[string]string {
		t.Helper()
		_, out, errOut := runWithEnv(t, nil, append([]string{"check", exampleDir, "--data-dir", dataDir, "-o", "json", "--now", "2026-11-25"}, args...)...)
		if !strings.HasPrefix(out, "{") {
			t.Fatalf("check: %s", errOut)
		}
		return storeFindings(decode(t, out), "NHI-MON-01")
	}
	if got := check(); len(got) != 0 {
		t.Errorf("a cleanly truncated log verifies on its own, yet: %v", got)
	}
	if got := check("--audit-checkpoints", cps)["steward"]; !strings.Contains(got, "the tail was truncated") {
		t.Errorf("NHI-MON-01 against the exported checkpoints = %q, want the truncation named", got)
	}
}

// TestScanWithSecretStore checks that scan joins the store as check does.
func TestScanWithSecretStore(t *testing.T) {
	e := newStoreEnv(t)
	e.must(storeBundle, "secret", "put", "billing-sync-prod", "--checkpoint-every", "1")
	readSecret(t, e, "human:raj@acme.com", "billing-sync-prod")
	url, vars := serveOrg(t, loadAcmeScenario(t))
	_, out, errOut := runWithEnv(t, vars, scanArgs(url, "-o", "json", "--data-dir", e.vars["STEWARD_DATA_DIR"])...)
	if !strings.HasPrefix(out, "{") {
		t.Fatalf("scan with the store: %s", errOut)
	}
	got := storeFindings(decode(t, out), "NHI-SEC-03")
	if len(got) != 1 || !strings.Contains(got["billing-sync-prod"], "human raj@acme.com read the secret") {
		t.Errorf("NHI-SEC-03 from scan = %v, want raj's read of billing-sync-prod", got)
	}
}
