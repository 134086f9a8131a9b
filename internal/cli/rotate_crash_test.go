package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/steward-dev/steward/internal/audit"
	"github.com/steward-dev/steward/internal/broker"
	"github.com/steward-dev/steward/internal/secrets"
	"github.com/steward-dev/steward/internal/store"
)

// rotateChildEnv turns the test binary into a child that rotates a secret
// with steward secret rotate until it is killed. It names the directory
// holding the bundle files and the org's CA.
const rotateChildEnv = "STEWARD_ROTATE_CRASH_CHILD"

func TestMain(m *testing.M) {
	if dir := os.Getenv(rotateChildEnv); dir != "" {
		os.Exit(rotateChild(dir))
	}
	os.Exit(m.Run())
}

// rotateChild runs rotations with bundles the org accepts (good-*.json)
// and one it refuses (refused.json), abandoning a rotation whose proof
// fails, until it is killed.
func rotateChild(dir string) int {
	env := Env{
		Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: io.Discard,
		Getenv: os.Getenv, Now: time.Now, IsTerminal: func(io.Writer) bool { return false },
	}
	files := []string{"good-a.json", "good-b.json", "refused.json"}
	ca := filepath.Join(dir, "org-ca.pem")
	fmt.Println("ready")
	for {
		f := filepath.Join(dir, files[rand.IntN(len(files))])
		code := Main(context.Background(), []string{"secret", "rotate", "billing-sync-prod", "--file", f, "--org-ca-file", ca, "--overlap", "1h"}, env)
		if code != ExitOK {
			Main(context.Background(), []string{"secret", "rotate", "billing-sync-prod", "--abandon"}, env)
		}
	}
}

// TestRotateCrash kills steward secret rotate with SIGKILL at random
// moments and checks after each kill that the active version is usable at
// the org (a real exchange succeeds with it), and that an unfinished
// rotation can be resumed or abandoned.
func TestRotateCrash(t *testing.T) {
	trials := 40
	if testing.Short() {
		trials = 8
	}
	e := newStoreEnv(t)
	org := startRotationOrg(t, e)
	secretA := strings.Replace(storeSecret, "STORE0", "GOODA0", 1)
	secretB := strings.Replace(storeSecret, "STORE0", "GOODB0", 1)
	// The org accepts A (current) and B (staged) throughout; it never
	// accepts the refused one.
	if err := org.srv.StageSecret("Erp_Connector", secretA); err != nil {
		t.Fatal(err)
	}
	if err := org.srv.ApplySecret("Erp_Connector"); err != nil {
		t.Fatal(err)
	}
	if err := org.srv.StageSecret("Erp_Connector", secretB); err != nil {
		t.Fatal(err)
	}
	first := org.bundleFile(t, e, "good-a.json", secretA)
	org.bundleFile(t, e, "good-b.json", secretB)
	org.bundleFile(t, e, "refused.json", strings.Replace(storeSecret, "STORE0", "REFUSE", 1))
	e.must("", "secret", "put", "billing-sync-prod", "--file", first)

	versions := 0
	for trial := range trials {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), rotateChildEnv+"="+e.dir, "STEWARD_DATA_DIR="+e.vars["STEWARD_DATA_DIR"], "STEWARD_KEK="+e.vars["STEWARD_KEK"], "USER=crash")
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		if !sc.Scan() || sc.Text() != "ready" {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("trial %d: the child did not start", trial)
		}
		time.Sleep(rand.N(400 * time.Millisecond))
		cmd.Process.Signal(syscall.SIGKILL)
		err = cmd.Wait()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("trial %d: the child ended on its own: %v", trial, err)
		}
		versions = usableAfterCrash(t, e, org, trial)
	}
	t.Logf("%d kills; %d versions written", trials, versions)
	if versions <= trials {
		t.Errorf("only %d versions in %d trials: the kills did not land during rotations", versions, trials)
	}
}

// usableAfterCrash checks the active version at the org, then finishes or
// abandons an unfinished rotation and checks again. It returns how many
// versions the secret has.
func usableAfterCrash(t *testing.T, e *storeEnv, org *rotationOrg, trial int) int {
	t.Helper()
	mint := func(when string) {
		t.Helper()
		ctx := context.Background()
		db, err := store.OpenSQLite(ctx, e.vars["STEWARD_DATA_DIR"])
		if err != nil {
			t.Fatalf("trial %d: open the store %s: %v", trial, when, err)
		}
		defer db.Close()
		keys, err := secrets.EnvKeyProvider(func(k string) string { return e.vars[k] }, secrets.KEKEnv)
		if err != nil {
			t.Fatal(err)
		}
		s, err := secrets.New(ctx, secrets.Config{DB: db, Keys: keys, Audit: nopAuditor{}})
		if err != nil {
			t.Fatalf("trial %d: %v", trial, err)
		}
		// The active version itself, with no fallback to the one it
		// replaced: a real exchange at the org.
		b, _, err := s.Read(ctx, audit.Actor{Kind: audit.ActorSystem, ID: "check"}, "billing-sync-prod", 0)
		if err != nil {
			t.Fatalf("trial %d: no readable active version %s: %v", trial, when, err)
		}
		if err := broker.Prove(org.client)(ctx, b); err != nil {
			t.Fatalf("trial %d: the active version is not usable at the org %s: %v", trial, when, err)
		}
	}
	mint("after the kill")
	args := []string{"secret", "rotate", "billing-sync-prod", "--resume", "--org-ca-file", org.caFile}
	if rand.IntN(2) == 0 {
		args = []string{"secret", "rotate", "billing-sync-prod", "--abandon"}
	}
	switch code, _, errOut := e.run("", args...); {
	case code == ExitOK, code == ExitUsage && strings.Contains(errOut, "no unfinished rotation"):
	case code == ExitFindings && strings.Contains(errOut, "invalid_client"):
		// The refused bundle was pending: resume proved it again, the
		// org refused it again; abandon it.
		e.must("", "secret", "rotate", "billing-sync-prod", "--abandon")
	default:
		t.Fatalf("trial %d: steward %s: exit %d: %s", trial, strings.Join(args, " "), code, errOut)
	}
	if code, _, errOut := e.run("", "secret", "rotate", "billing-sync-prod", "--abandon"); code != ExitUsage || !strings.Contains(errOut, "no unfinished rotation") {
		t.Fatalf("trial %d: a rotation is still unfinished after resume/abandon: exit %d: %s", trial, code, errOut)
	}
	mint("after resume/abandon")
	h := e.must("", "secret", "history", "billing-sync-prod", "-o", "json")
	e.outputs = nil
	return strings.Count(h, `"version"`)
}

// nopAuditor keeps nothing: the checks must not change the audit log.
type nopAuditor struct{}

func (nopAuditor) Append(context.Context, audit.Event) (audit.Record, error) {
	return audit.Record{}, nil
}
