package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/steward-dev/steward/internal/audit"
	"github.com/steward-dev/steward/internal/store"
)

func TestRosterImportAndOwnershipCheck(t *testing.T) {
	e := newStoreEnv(t)
	inv := filepath.Join(e.dir, "inventory")
	os.MkdirAll(inv, 0o755)
	os.WriteFile(filepath.Join(inv, "billing.yaml"), []byte(decommissionManifest), 0o644)
	good := filepath.Join(e.dir, "hr.csv")
	os.WriteFile(good, []byte("team,member,role,status,email,since\nfinance-platform,ana,owner,departed,ana@acme.com,2026-11-20\nfinance-platform,sec,backup,active,sec-oncall@acme.com,\n"), 0o644)
	bad := filepath.Join(e.dir, "bad.csv")
	os.WriteFile(bad, []byte("team,member,role,status\nfinance-platform,ana,owner,active\nfinance-platform,raj,lead,active\n"), 0o644)

	// Before any import the manifest's member counts as active.
	e.must(storeBundle, "secret", "put", "billing-sync-prod")
	code, out, _ := e.run("", "check", inv, "--data-dir", e.vars["STEWARD_DATA_DIR"], "-o", "json", "--fail-on", "none")
	if code == 2 || strings.Contains(out, "NHI-INV-04") {
		t.Fatalf("NHI-INV-04 without a roster:\n%s", out)
	}

	out = e.must("", "roster", "import", good)
	if !strings.Contains(out, "imported 2 members of 1 teams from "+good+" (1 departed)") {
		t.Fatalf("import output: %s", out)
	}
	code, _, errOut := e.run("", "roster", "import", bad)
	if code != 2 || !strings.Contains(errOut, bad+":3: column 3 (role): \"lead\" is not owner, backup or member") || !strings.Contains(errOut, "the roster was left as it was") {
		t.Fatalf("malformed import: exit %d\n%s", code, errOut)
	}
	if code, _, errOut := e.run("", "roster", "import", filepath.Join(e.dir, "hr.txt")); code != 2 || !strings.Contains(errOut, "pass --format csv or --format json") {
		t.Fatalf("unknown format: exit %d %s", code, errOut)
	}
	out = e.must("", "roster", "list", "-o", "json")
	var listed struct {
		Source  string `json:"source"`
		Members []struct{ Member, Status string }
	}
	if err := json.Unmarshal([]byte(out), &listed); err != nil || listed.Source != good || len(listed.Members) != 2 {
		t.Fatalf("list after a refused import = %s (%v); want the first import", out, err)
	}
	table := e.must("", "roster", "list")
	if !strings.Contains(table, "finance-platform  ana     owner   departed  2026-11-20") {
		t.Fatalf("list table:\n%s", table)
	}

	code, out, errOut = e.run("", "check", inv, "--data-dir", e.vars["STEWARD_DATA_DIR"], "-o", "json")
	if code != 1 {
		t.Fatalf("check with the roster: exit %d\n%s%s", code, out, errOut)
	}
	var rep jsonReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range rep.Findings {
		if f.Rule == "NHI-INV-04" {
			found = true
			if !strings.Contains(f.Message, "team finance-platform has no active members left (departed: ana)") || !strings.Contains(f.Message, "(due 2026-12-04)") {
				t.Errorf("NHI-INV-04 message: %s", f.Message)
			}
		}
	}
	if !found {
		t.Fatalf("no NHI-INV-04 finding:\n%s", out)
	}
	if acts := auditOf(t, e, "roster.import"); acts != "success failure" {
		t.Errorf("roster imports audited as %q", acts)
	}
}

// auditOf lists the outcomes of the audit records of one action, in order.
func auditOf(t *testing.T, e *storeEnv, action string) string {
	t.Helper()
	db, err := store.OpenSQLite(context.Background(), e.vars["STEWARD_DATA_DIR"])
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var out []string
	err = db.AuditRecords(context.Background(), 1, func(r store.AuditRecord) error {
		ev, err := audit.ParseEvent(r.Body)
		if err == nil && ev.Action == action {
			out = append(out, ev.Outcome)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(out, " ")
}
