package cli

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/steward-dev/steward/internal/audit"
	"github.com/steward-dev/steward/internal/repotest"
	"github.com/steward-dev/steward/internal/salesforce/fakeorg"
	"github.com/steward-dev/steward/internal/store"
)

// killRig is a broker served by 'steward serve' on SQLite, in front of an
// emulated org that can be taken down, with a workload JWT that may ask
// for erp-connector-prod's tokens.
type killRig struct {
	e       *storeEnv
	org     *fakeorg.Server
	orgURL  string
	key     string // the app's consumer key
	orgDown atomic.Bool
	caFile  string
	jwt     string
	secrets []string // every consumer secret and token seen, for the leak check
	serve   *served
}

// newKillRig starts the rig; credential replaces the manifest's
// credential block when set, and policy is the configuration's policy
// section when set.
func newKillRig(t *testing.T, credential, policy string) *killRig {
	r := &killRig{e: newStoreEnv(t)}
	sc, err := fakeorg.LoadScenario(filepath.Join(repotest.Root(t), "examples/acme/org/scenario.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if r.org, err = fakeorg.New(sc, fakeorg.Options{}); err != nil {
		t.Fatal(err)
	}
	orgTS := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if r.orgDown.Load() {
			panic(http.ErrAbortHandler) // the connection drops: unreachable
		}
		r.org.ServeHTTP(w, req)
	}))
	t.Cleanup(orgTS.Close)
	r.orgURL = orgTS.URL
	r.caFile = filepath.Join(r.e.dir, "org-ca.pem")
	os.WriteFile(r.caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: orgTS.Certificate().Raw}), 0o600)
	key, secret, _ := sc.Credentials("Erp_Connector")
	r.key = key
	r.secrets = append(r.secrets, secret)
	r.e.must(r.bundle(secret), "secret", "put", "erp-connector-prod")

	issuer := newTestIssuer(t)
	inv := filepath.Join(r.e.dir, "inventory")
	os.MkdirAll(inv, 0o755)
	manifest := fmt.Sprintf(serveManifest, issuer.url)
	if credential != "" {
		manifest = strings.Replace(manifest, "  credential:\n    secret: erp-connector-prod\n", credential, 1)
	}
	os.WriteFile(filepath.Join(inv, "erp.yaml"), []byte(manifest), 0o600)
	config := filepath.Join(r.e.dir, "steward.yaml")
	os.WriteFile(config, []byte(fmt.Sprintf(`listen: 127.0.0.1:0
inventory: [%s]
upstream: {caFile: %s, maxRetries: -1}
issuers:
  - {issuer: %s, jwksURL: %s, audiences: [steward], environment: production}
%s`, inv, r.caFile, issuer.url, issuer.url, policy)), 0o600)
	r.e.vars["STEWARD_DEV"] = "true"
	r.e.vars["STEWARD_ADMIN_TOKEN"] = strings.Repeat("c3", 20)
	r.secrets = append(r.secrets, r.e.vars["STEWARD_ADMIN_TOKEN"])

	r.serve = startServe(t, r.e, config)
	r.jwt = issuer.jwt(t, 10*time.Minute)
	r.secrets = append(r.secrets, r.jwt)
	return r
}

// bundle is a credential bundle for the emulated Erp_Connector app.
func (r *killRig) bundle(secret string) string {
	return fmt.Sprintf(`{"url": %q, "consumerKey": %q, "consumerSecret": %q}`, r.orgURL, r.key, secret)
}

// token asks the broker for erp-connector-prod's token and returns the
// status.
func (r *killRig) token(t *testing.T) int {
	t.Helper()
	code, _ := r.tokenError(t)
	return code
}

// tokenError asks for a token and returns the status and the error
// description.
func (r *killRig) tokenError(t *testing.T) (int, string) {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err := client.PostForm(r.serve.url+"/v1/token", url.Values{
		"grant_type": {"urn:ietf:params:oauth:grant-type:token-exchange"}, "subject_token": {r.jwt}, "audience": {"erp-connector-prod"},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
		Error       string `json:"error_description"`
	}
	json.NewDecoder(resp.Body).Decode(&out)
	if out.AccessToken != "" {
		r.secrets = append(r.secrets, out.AccessToken)
	}
	return resp.StatusCode, out.Error
}

// kill runs steward kill against the rig's broker.
func (r *killRig) kill(stdin string, args ...string) (int, string, string) {
	return r.e.run(stdin, append([]string{"kill", "erp-connector-prod", "--broker", r.serve.url, "--insecure"}, args...)...)
}

// auditActions lists the audit log's actions from seq on, with their
// outcomes, and fails the test if a record holds a secret.
func (r *killRig) auditActions(t *testing.T, from int64) []string {
	t.Helper()
	db, err := store.OpenSQLite(context.Background(), r.e.vars["STEWARD_DATA_DIR"])
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var acts []string
	err = db.AuditRecords(context.Background(), from, func(rec store.AuditRecord) error {
		for _, s := range r.secrets {
			if strings.Contains(string(rec.Body), s) {
				t.Errorf("audit record %d (%s) holds a secret or token", rec.Seq, rec.Action)
			}
		}
		ev, err := audit.ParseEvent(rec.Body)
		if err != nil {
			return err
		}
		if ev.Action != "broker.token" && ev.Action != "secret.read" {
			acts = append(acts, ev.Action+":"+ev.Outcome)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return acts
}

// seq is the number of audit records so far.
func (r *killRig) seq(t *testing.T) int64 {
	t.Helper()
	db, err := store.OpenSQLite(context.Background(), r.e.vars["STEWARD_DATA_DIR"])
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var last int64
	db.AuditRecords(context.Background(), 0, func(rec store.AuditRecord) error { last = rec.Seq; return nil })
	return last + 1
}

// TestKillRotateDestroy runs steward kill --rotate and --destroy against a
// served broker and an emulated org: the steps run in order, each is
// audited, a failing step leaves the kill in force and says what to do, and
// no secret reaches any output.
func TestKillRotateDestroy(t *testing.T) {
	r := newKillRig(t, "", "")
	if code := r.token(t); code != http.StatusOK {
		t.Fatalf("token before the kill: %d\n%s", code, r.serve.stderr.String())
	}

	// Nothing changes when the bundle cannot be read or the flags clash.
	for _, c := range []struct {
		stdin string
		args  []string
		want  string
	}{
		{"not json", []string{"--rotate"}, "consumerSecret"},
		{"", []string{"--rotate", "--destroy"}, "exclude each other"},
		{"", []string{"--lift", "--destroy"}, "--lift takes neither"},
		{"", []string{"--file", "x.json"}, "go with --rotate"},
	} {
		if code, _, errOut := r.kill(c.stdin, c.args...); code != 2 || !strings.Contains(errOut, c.want) {
			t.Errorf("kill %v: exit %d %q, want 2 and %q", c.args, code, errOut, c.want)
		}
	}
	if code := r.token(t); code != http.StatusOK {
		t.Fatalf("a refused kill changed something: token %d", code)
	}

	// --rotate: block, revoke, then stage, prove and promote the secret the
	// administrator staged in the org.
	from := r.seq(t)
	second := "s2-" + strings.Repeat("Q", 40)
	r.secrets = append(r.secrets, second)
	if err := r.org.StageSecret("Erp_Connector", second); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := r.kill(r.bundle(second), "--rotate", "--org-ca-file", r.caFile)
	if code != 0 {
		t.Fatalf("kill --rotate: exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"killed erp-connector-prod: issuance blocked, 1 token(s) revoked", "block ok", "revoke ok 1 token(s)", "rotate ok version 2", "steward kill erp-connector-prod --lift"} {
		if !strings.Contains(strings.Join(strings.Fields(out), " "), want) {
			t.Errorf("kill --rotate output lacks %q:\n%s", want, out)
		}
	}
	want := []string{"broker.kill:success", "broker.kill.revoke:success", "secret.stage:success", "secret.verify:success", "secret.promote:success"}
	if got := r.auditActions(t, from); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("audit after kill --rotate:\n got %v\nwant %v", got, want)
	}
	if code := r.token(t); code != http.StatusForbidden {
		t.Errorf("token after the kill: %d, want 403", code)
	}
	hist := r.e.must("", "secret", "history", "erp-connector-prod", "-o", "json")
	var versions []struct {
		Version      int       `json:"version"`
		State        string    `json:"state"`
		Rotated      time.Time `json:"rotated"`
		OverlapUntil time.Time `json:"overlapUntil"`
		Destroyed    time.Time `json:"destroyed"`
	}
	json.Unmarshal([]byte(hist), &versions)
	if len(versions) != 2 || versions[0].State != "retired" || versions[1].State != "active" || versions[0].OverlapUntil.After(versions[1].Rotated) {
		t.Errorf("after kill --rotate, want v1 retired with no overlap and v2 active:\n%s", hist)
	}
	// The administrator applies the new secret at the org and lifts the
	// kill: the broker exchanges the new secret.
	if err := r.org.ApplySecret("Erp_Connector"); err != nil {
		t.Fatal(err)
	}
	if code, out, _ := r.kill("", "--lift"); code != 0 || !strings.Contains(out, "lifted") {
		t.Fatalf("lift: exit %d %s", code, out)
	}
	if code := r.token(t); code != http.StatusOK {
		t.Fatalf("token with the rotated secret: %d\n%s", code, r.serve.stderr.String())
	}

	// The org is unreachable: the revocation and the rotation fail, the
	// kill stays in force, and the command says how to finish.
	from = r.seq(t)
	third := "s3-" + strings.Repeat("R", 40)
	r.secrets = append(r.secrets, third)
	r.orgDown.Store(true)
	code, out, errOut = r.kill(r.bundle(third), "--rotate", "--org-ca-file", r.caFile, "-o", "json")
	if code != 1 {
		t.Fatalf("kill --rotate with the org down: exit %d, want 1\n%s%s", code, out, errOut)
	}
	var rep killReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("kill -o json: %v\n%s", err, out)
	}
	if !rep.Killed || len(rep.Steps) != 3 || !rep.Steps[0].OK || rep.Steps[1].OK || rep.Steps[2].OK ||
		!strings.Contains(rep.Steps[1].Next, "Connected Apps OAuth Usage") || !strings.Contains(rep.Steps[2].Next, "--resume --overlap 0s") ||
		!strings.Contains(rep.Steps[2].Detail, "version 3 is staged") {
		t.Errorf("kill with the org down: %+v", rep)
	}
	if !strings.Contains(errOut, "revoke and rotate of erp-connector-prod failed; the kill stays in force") {
		t.Errorf("kill with the org down: stderr %q", errOut)
	}
	want = []string{"broker.kill:success", "broker.kill.revoke:failure", "secret.stage:success", "secret.verify:failure"}
	if got := r.auditActions(t, from); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("audit after the failed kill:\n got %v\nwant %v", got, want)
	}
	r.orgDown.Store(false)
	if code := r.token(t); code != http.StatusForbidden {
		t.Errorf("token after a kill whose later steps failed: %d, want 403", code)
	}
	// What it said to do next works.
	r.org.StageSecret("Erp_Connector", third)
	if code, out, errOut := r.e.run("", "secret", "rotate", "erp-connector-prod", "--resume", "--overlap", "0s", "--org-ca-file", r.caFile); code != 0 {
		t.Fatalf("rotate --resume: exit %d\n%s%s", code, out, errOut)
	}

	// --destroy: every version is soft-deleted, then destroyed.
	from = r.seq(t)
	code, out, errOut = r.kill("", "--destroy")
	if code != 0 || !strings.Contains(strings.Join(strings.Fields(out), " "), "destroy ok 3 version(s) soft-deleted, then destroyed") {
		t.Fatalf("kill --destroy: exit %d\n%s%s", code, out, errOut)
	}
	want = []string{"broker.kill:success", "broker.kill.revoke:success",
		"secret.delete:success", "secret.delete:success", "secret.delete:success",
		"secret.destroy:success", "secret.destroy:success", "secret.retire:success", "secret.destroy:success"}
	if got := r.auditActions(t, from); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("audit after kill --destroy:\n got %v\nwant %v", got, want)
	}
	hist = r.e.must("", "secret", "history", "erp-connector-prod", "-o", "json")
	versions = nil
	json.Unmarshal([]byte(hist), &versions)
	for _, v := range versions {
		if v.Destroyed.IsZero() || v.State == "active" {
			t.Errorf("after kill --destroy: version %d is %s, destroyed %v", v.Version, v.State, v.Destroyed)
		}
	}
	if code, out, _ := r.kill("", "--lift"); code != 0 {
		t.Fatalf("lift: exit %d %s", code, out)
	}
	if code := r.token(t); code == http.StatusOK {
		t.Error("a token was issued for an identity whose secret was destroyed")
	}

	all := strings.Join(r.e.outputs, "\n") + r.serve.stderr.String()
	for _, s := range r.secrets {
		if strings.Contains(all, s) {
			t.Errorf("a secret, token or JWT (%d chars) reached the output", len(s))
		}
	}
}

// TestServeDecisionFacts checks what the served broker decides on: the
// secret state in the store wins over the manifest's declared dates, and
// open posture findings deny when policy.denyFindings lists them.
func TestServeDecisionFacts(t *testing.T) {
	// Declared rotated long ago with a 30-day cadence: overdue by the
	// manifest, but 'steward secret put' just stored it.
	overdue := "  credential:\n    secret: erp-connector-prod\n    rotationDays: 30\n    rotatedAt: \"2024-01-01\"\n"
	r := newKillRig(t, overdue, "")
	if code, desc := r.tokenError(t); code != http.StatusOK {
		t.Errorf("token with a fresh stored secret: %d %s, want 200", code, desc)
	}
	r = newKillRig(t, overdue, "policy: {denyFindings: [critical, high, medium, low, info]}\n")
	if code, desc := r.tokenError(t); code != http.StatusForbidden || !strings.Contains(desc, "open_finding") || strings.Contains(desc, "secret_rotation_overdue") {
		t.Errorf("token with denyFindings on every severity: %d %q, want 403 open_finding", code, desc)
	}
}

// ttyReader is a terminal as stdin.
type ttyReader struct{ io.Reader }

func (ttyReader) Write(p []byte) (int, error) { return len(p), nil }

// TestKillRotateRefusesTerminal does not wait for a bundle typed on a
// terminal before the kill: it asks for --file or a pipe at once.
func TestKillRotateRefusesTerminal(t *testing.T) {
	var out, errb strings.Builder
	env := Env{
		Stdin: ttyReader{strings.NewReader("")}, Stdout: &out, Stderr: &errb,
		Getenv:     func(k string) string { return map[string]string{"STEWARD_ADMIN_TOKEN": strings.Repeat("d4", 20)}[k] },
		Now:        time.Now,
		IsTerminal: func(w io.Writer) bool { _, ok := w.(ttyReader); return ok },
	}
	code := Main(context.Background(), []string{"kill", "erp-connector-prod", "--rotate", "--broker", "https://127.0.0.1:1"}, env)
	if code != 2 || !strings.Contains(errb.String(), "pass --file new-bundle.json or pipe the bundle in") {
		t.Errorf("kill --rotate on a terminal: exit %d %q", code, errb.String())
	}
}
