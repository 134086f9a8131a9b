package cli

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/steward-dev/steward/internal/repotest"
	"github.com/steward-dev/steward/internal/salesforce/fakeorg"
	"github.com/steward-dev/steward/internal/store"
)

// storeSecret is the consumer secret the store tests look for everywhere.
const storeSecret = "STORE0SECRET0a8c1d2e3f405162738495a6b7c8d9e0f1a2b3c4d5e6f708192a3"

const storeBundle = `{"url": "https://acme.my.salesforce.com", "consumerKey": "3MVG9-consumer-key", "consumerSecret": "` + storeSecret + `"}`

// storeEnv runs commands against one data directory and KEK.
type storeEnv struct {
	t       *testing.T
	dir     string
	vars    map[string]string
	outputs []string
	// now is the commands' clock; nil is 2026-11-25 12:00 UTC, for
	// reproducible output.
	now func() time.Time
}

func newStoreEnv(t *testing.T) *storeEnv {
	dir := t.TempDir()
	kek := "k1:" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	return &storeEnv{t: t, dir: dir, vars: map[string]string{
		"STEWARD_DATA_DIR": filepath.Join(dir, "data"),
		"STEWARD_KEK":      kek,
		"USER":             "ana",
	}}
}

func (e *storeEnv) run(stdin string, args ...string) (int, string, string) {
	e.t.Helper()
	var out, errb bytes.Buffer
	now := e.now
	if now == nil {
		now = func() time.Time { return time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC) }
	}
	env := Env{
		Stdin:      strings.NewReader(stdin),
		Stdout:     &out,
		Stderr:     &errb,
		Getenv:     func(k string) string { return e.vars[k] },
		Now:        now,
		IsTerminal: func(io.Writer) bool { return false },
	}
	code := Main(context.Background(), args, env)
	e.outputs = append(e.outputs, out.String(), errb.String())
	return code, out.String(), errb.String()
}

func (e *storeEnv) must(stdin string, args ...string) string {
	e.t.Helper()
	code, out, errOut := e.run(stdin, args...)
	if code != 0 {
		e.t.Fatalf("steward %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

func TestSecretCommands(t *testing.T) {
	e := newStoreEnv(t)
	sink := filepath.Join(e.dir, "siem.jsonl")
	out := e.must(storeBundle, "secret", "put", "billing-sync-prod", "--audit-jsonl", sink)
	if !strings.Contains(out, "billing-sync-prod") || !strings.Contains(out, "hmac-sha256:") {
		t.Fatalf("put output:\n%s", out)
	}
	// The rotation proves the new secret at the org, where it is staged.
	org := startRotationOrg(t, e)
	nextSecret := strings.Replace(storeSecret, "STORE0", "NEXT00", 1)
	if err := org.srv.StageSecret("Erp_Connector", nextSecret); err != nil {
		t.Fatal(err)
	}
	bundleFile := org.bundleFile(t, e, "next.json", nextSecret)
	e.must("", "secret", "rotate", "billing-sync-prod", "--file", bundleFile, "--org-ca-file", org.caFile, "--overlap", "1h", "--actor", "human:raj@acme.com")
	var hist []struct {
		Version   int
		State     string
		CreatedBy string
	}
	if err := json.Unmarshal([]byte(e.must("", "secret", "history", "billing-sync-prod", "-o", "json")), &hist); err != nil {
		t.Fatal(err)
	}
	if len(hist) != 2 || hist[0].State != "retired" || hist[1].State != "active" || hist[1].CreatedBy != "human:raj@acme.com" {
		t.Fatalf("history = %+v", hist)
	}
	show := e.must("", "secret", "show", "billing-sync-prod")
	for _, col := range []string{"VERSION", "ROTATED", "AGE", "LAST READ", "FINGERPRINT", "k1"} {
		if !strings.Contains(show, col) {
			t.Errorf("show lacks %s:\n%s", col, show)
		}
	}
	if list := e.must("", "secret", "list", "-o", "json"); !strings.Contains(list, `"version": 2`) {
		t.Fatalf("list:\n%s", list)
	}
	if code, _, errOut := e.run("", "secret", "put", "billing-sync-prod", "--cas", "1", "--file", bundleFile); code != ExitFindings || !strings.Contains(errOut, "--cas") {
		t.Fatalf("stale --cas: exit %d, %s", code, errOut)
	}
	e.must("", "secret", "destroy", "billing-sync-prod", "--version", "1")
	if code, _, errOut := e.run("", "secret", "destroy", "billing-sync-prod", "--version", "2"); code == 0 || !strings.Contains(errOut, "active version") {
		t.Fatalf("destroying the active version: exit %d, %s", code, errOut)
	}
	// KEK rotation: k2 first, k1 kept, rewrap, then k1 alone no longer opens it.
	k1 := e.vars["STEWARD_KEK"]
	e.vars["STEWARD_KEK"] = "k2:" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{9}, 32)) + "," + k1
	if out := e.must("", "secret", "rewrap"); !strings.Contains(out, "rewrapped 1 versions and 2 store keys") {
		t.Fatalf("rewrap: %s", out)
	}
	e.vars["STEWARD_KEK"] = k1
	if code, _, errOut := e.run("", "secret", "list"); code != ExitUsage || !strings.Contains(errOut, `"k2"`) {
		t.Fatalf("old KEK after rewrap: exit %d, %s", code, errOut)
	}
	e.vars["STEWARD_KEK"] = strings.Split(e.vars["STEWARD_KEK"], ",")[0]

	// The audit log holds every change, and verifies.
	verify := e.must("", "audit", "verify")
	if !strings.HasPrefix(verify, "ok: ") {
		t.Fatalf("audit verify: %s", verify)
	}
	tail := e.must("", "audit", "tail", "-n", "50")
	for _, action := range []string{"secret.put", "secret.stage", "secret.verify", "secret.promote", "secret.destroy", "secret.rewrap", "human:raj@acme.com"} {
		if !strings.Contains(tail, action) {
			t.Errorf("audit tail lacks %s:\n%s", action, tail)
		}
	}
	export := filepath.Join(e.dir, "audit.jsonl")
	e.must("", "audit", "export", "--output", export)
	if out := e.must("", "audit", "verify", "--file", export); !strings.HasPrefix(out, "ok: ") {
		t.Fatalf("verify export: %s", out)
	}
	sinkData, err := os.ReadFile(sink)
	if err != nil || !strings.Contains(string(sinkData), `"action":"secret.put"`) {
		t.Fatalf("SIEM sink: %q, %v", sinkData, err)
	}
	leakCheck(t, e, export, sink)
}

// rotationOrg is an emulated org on loopback TLS for rotations to prove
// their secrets against.
type rotationOrg struct {
	srv    *fakeorg.Server
	url    string
	key    string
	caFile string
	client *http.Client
}

func startRotationOrg(t *testing.T, e *storeEnv) *rotationOrg {
	t.Helper()
	sc, err := fakeorg.LoadScenario(filepath.Join(repotest.Root(t), "examples/acme/org/scenario.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := fakeorg.New(sc, fakeorg.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(srv)
	// Killed clients leave handshakes half done; that is expected here.
	ts.Config.ErrorLog = log.New(io.Discard, "", 0)
	ts.StartTLS()
	t.Cleanup(ts.Close)
	o := &rotationOrg{srv: srv, url: ts.URL, caFile: filepath.Join(e.dir, "org-ca.pem"), client: ts.Client()}
	o.key, _, _ = sc.Credentials("Erp_Connector")
	if err := os.WriteFile(o.caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return o
}

// bundleFile writes a bundle for the org's Erp_Connector app with secret.
func (o *rotationOrg) bundleFile(t *testing.T, e *storeEnv, name, secret string) string {
	t.Helper()
	path := filepath.Join(e.dir, name)
	data := fmt.Sprintf(`{"url": %q, "consumerKey": %q, "consumerSecret": %q}`, o.url, o.key, secret)
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestSecretRotateProvesAtOrg checks that rotate promotes a version only
// after a real exchange with it succeeds, and that a refused one leaves the
// old version active, to be resumed or abandoned.
func TestSecretRotateProvesAtOrg(t *testing.T) {
	e := newStoreEnv(t)
	org := startRotationOrg(t, e)
	e.must(storeBundle, "secret", "put", "billing-sync-prod")
	nextSecret := strings.Replace(storeSecret, "STORE0", "NEXT00", 1)
	next := org.bundleFile(t, e, "next.json", nextSecret)
	states := func() string {
		var hist []struct {
			Version int
			State   string
			Deleted time.Time
		}
		if err := json.Unmarshal([]byte(e.must("", "secret", "history", "billing-sync-prod", "-o", "json")), &hist); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, h := range hist {
			st := h.State
			if !h.Deleted.IsZero() {
				st += "(deleted)"
			}
			out = append(out, st)
		}
		return strings.Join(out, " ")
	}

	// Not staged at the org: refused, the old version stays active.
	code, _, errOut := e.run("", "secret", "rotate", "billing-sync-prod", "--file", next, "--org-ca-file", org.caFile)
	if code != ExitFindings || !strings.Contains(errOut, "invalid_client") || !strings.Contains(errOut, "--resume") || !strings.Contains(errOut, "still active") {
		t.Fatalf("refused rotation: exit %d\n%s", code, errOut)
	}
	if got := states(); got != "active staged" {
		t.Fatalf("after a refused proof: %s", got)
	}
	// Without the org's CA the org cannot be reached: still unfinished.
	if code, _, errOut := e.run("", "secret", "rotate", "billing-sync-prod", "--resume"); code != ExitFindings || !strings.Contains(errOut, "certificate") {
		t.Fatalf("resume without the CA: exit %d\n%s", code, errOut)
	}
	// Staged at the org now: resume proves it and promotes it.
	if err := org.srv.StageSecret("Erp_Connector", nextSecret); err != nil {
		t.Fatal(err)
	}
	e.must("", "secret", "rotate", "billing-sync-prod", "--resume", "--org-ca-file", org.caFile, "--overlap", "30m")
	if got := states(); got != "retired active" {
		t.Fatalf("after resume: %s", got)
	}
	// A second rotation that fails is abandoned: the active one stays.
	bad := org.bundleFile(t, e, "bad.json", strings.Replace(storeSecret, "STORE0", "BAD000", 1))
	if code, _, _ := e.run("", "secret", "rotate", "billing-sync-prod", "--file", bad, "--org-ca-file", org.caFile); code != ExitFindings {
		t.Fatalf("refused rotation: exit %d", code)
	}
	e.must("", "secret", "rotate", "billing-sync-prod", "--abandon")
	if got := states(); got != "retired active staged(deleted)" {
		t.Fatalf("after abandon: %s", got)
	}
	if code, _, _ := e.run("", "secret", "rotate", "billing-sync-prod", "--resume", "--org-ca-file", org.caFile); code != ExitUsage {
		t.Fatalf("resume after abandon: exit %d, want %d", code, ExitUsage)
	}
	tail := e.must("", "audit", "tail", "-n", "50")
	for _, want := range []string{`secret.verify`, `secret.promote`, `secret.delete`} {
		if !strings.Contains(tail, want) {
			t.Errorf("audit tail lacks %s:\n%s", want, tail)
		}
	}
	leakCheck(t, e)
}

// leakCheck looks for the known secret's bytes in every file of the data
// directory, the exports and every command's output.
func leakCheck(t *testing.T, e *storeEnv, files ...string) {
	t.Helper()
	dataFiles, _ := filepath.Glob(filepath.Join(e.vars["STEWARD_DATA_DIR"], "*"))
	if len(dataFiles) == 0 {
		t.Fatal("no data files to check")
	}
	for _, needle := range []string{storeSecret, strings.Replace(storeSecret, "STORE0", "NEXT00", 1), storeSecret[10:40]} {
		for _, f := range append(dataFiles, files...) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(b, []byte(needle)) {
				t.Errorf("the secret appears in %s", filepath.Base(f))
			}
		}
		for _, o := range e.outputs {
			if strings.Contains(o, needle) {
				t.Errorf("the secret appears in command output: %s", o)
			}
		}
	}
}

func TestSecretBadInput(t *testing.T) {
	e := newStoreEnv(t)
	keyFile := filepath.Join(e.dir, "kek")
	os.WriteFile(keyFile, []byte(e.vars["STEWARD_KEK"]+"\n"), 0o644)
	for _, tc := range []struct {
		name  string
		stdin string
		vars  map[string]string
		args  []string
		code  int
		want  string
	}{
		{"value as a flag", "", nil, []string{"secret", "put", "x", "--consumer-secret", storeSecret}, ExitUsage, "unknown flag"},
		{"malformed bundle", `{"url": "https://a.my.salesforce.com", "consumerSecret": "` + storeSecret + `",}`, nil, []string{"secret", "put", "billing"}, ExitUsage, "stdin: line 1: malformed JSON"},
		{"empty stdin", "", nil, []string{"secret", "put", "billing"}, ExitUsage, "empty input"},
		{"bad identity", storeBundle, nil, []string{"secret", "put", "Billing Sync"}, ExitUsage, "not a valid identity name"},
		{"no KEK", storeBundle, map[string]string{"STEWARD_KEK": ""}, []string{"secret", "put", "billing"}, ExitUsage, "STEWARD_KEK is not set"},
		{"missing key file", storeBundle, nil, []string{"secret", "put", "billing", "--kek-file", filepath.Join(e.dir, "nope")}, ExitUsage, "does not exist"},
		{"world-readable key file", storeBundle, nil, []string{"secret", "put", "billing", "--kek-file", keyFile}, ExitUsage, "chmod 600"},
		{"unknown secret", "", nil, []string{"secret", "show", "nope"}, ExitUsage, "no active version"},
		{"resume with nothing pending", "", nil, []string{"secret", "rotate", "nope", "--resume"}, ExitUsage, "secret nope: not found"},
		{"bad actor", storeBundle, nil, []string{"secret", "put", "billing", "--actor", "ana"}, ExitUsage, "not kind:id"},
		{"bad export file", "", nil, []string{"audit", "verify", "--file", keyFile}, ExitUsage, keyFile + ":1: malformed JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			saved := map[string]string{}
			for k, v := range tc.vars {
				saved[k] = e.vars[k]
				e.vars[k] = v
			}
			defer func() {
				for k, v := range saved {
					e.vars[k] = v
				}
			}()
			code, _, errOut := e.run(tc.stdin, tc.args...)
			if code != tc.code || !strings.Contains(errOut, tc.want) || !strings.Contains(errOut, "Try:") {
				t.Fatalf("exit %d, stderr:\n%s\nwant exit %d and %q with a hint", code, errOut, tc.code, tc.want)
			}
			if strings.Contains(errOut, storeSecret) {
				t.Fatal("stderr repeats the secret")
			}
		})
	}
}

func TestSchemaTooNewFromCLI(t *testing.T) {
	e := newStoreEnv(t)
	e.must(storeBundle, "secret", "put", "billing")
	db, err := sql.Open("sqlite", filepath.Join(e.vars["STEWARD_DATA_DIR"], store.SQLiteFile))
	if err != nil {
		t.Fatal(err)
	}
	db.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, '9999_future.sql', 0)`)
	db.Close()
	code, _, errOut := e.run("", "secret", "list")
	if code != ExitUsage || !strings.Contains(errOut, "schema version 9999") || !strings.Contains(errOut, "newer steward") {
		t.Fatalf("newer schema: exit %d, %s", code, errOut)
	}
}

func TestAuditVerifyDetectsTampering(t *testing.T) {
	e := newStoreEnv(t)
	for i := 0; i < 3; i++ {
		e.must(storeBundle, "secret", "put", "billing", "--checkpoint-every", "1")
	}
	cps := filepath.Join(e.dir, "checkpoints.jsonl")
	e.must("", "audit", "export", "--checkpoints-only", "--output", cps)
	db, err := sql.Open("sqlite", filepath.Join(e.vars["STEWARD_DATA_DIR"], store.SQLiteFile))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`DELETE FROM audit_records WHERE seq = 2`); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := e.run("", "audit", "verify")
	if code != ExitFindings || !strings.Contains(errOut, "first bad record 2") {
		t.Fatalf("verify after deleting record 2: exit %d, %s", code, errOut)
	}
	// Truncating the tail is only visible against the exported checkpoints.
	db.Exec(`DELETE FROM audit_records WHERE seq >= 2`)
	db.Exec(`DELETE FROM audit_checkpoints WHERE seq >= 2`)
	if code, _, _ := e.run("", "audit", "verify"); code != 0 {
		t.Fatalf("truncated log without exported checkpoints: exit %d", code)
	}
	code, out, errOut := e.run("", "audit", "verify", "--checkpoints", cps, "-o", "json")
	if code != ExitFindings || !strings.Contains(out, `"firstBad":2`) || !strings.Contains(errOut, "truncated") {
		t.Fatalf("truncated log against exported checkpoints: exit %d, %s %s", code, out, errOut)
	}
}
