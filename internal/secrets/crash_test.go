package secrets_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/steward-dev/steward/internal/audit"
	"github.com/steward-dev/steward/internal/secrets"
	"github.com/steward-dev/steward/internal/store"
	"github.com/steward-dev/steward/internal/store/storetest"
)

// Environment variables that turn the test binary into the crash child.
const (
	crashDirEnv = "STEWARD_CRASH_CHILD_DIR"
	crashDSNEnv = "STEWARD_CRASH_CHILD_DSN"
)

func TestMain(m *testing.M) {
	if os.Getenv(crashDirEnv) != "" || os.Getenv(crashDSNEnv) != "" {
		os.Exit(crashChild())
	}
	os.Exit(m.Run())
}

var crashIDs = []string{"app-0", "app-1", "app-2"}

func crashBundle(tag string) secrets.Bundle {
	return secrets.Bundle{URL: "https://acme.my.salesforce.com", ConsumerKey: "key-" + tag, ConsumerSecret: "crash-secret-" + tag + "-0123456789abcdef"}
}

func openCrashStore(ctx context.Context) (store.Store, error) {
	if dsn := os.Getenv(crashDSNEnv); dsn != "" {
		return store.OpenPostgres(ctx, dsn)
	}
	return store.OpenSQLite(ctx, os.Getenv(crashDirEnv))
}

// crashChild writes secrets, runs rotations step by step and appends audit
// records until it is killed, printing a line for each acknowledged write.
func crashChild() int {
	ctx := context.Background()
	fail := func(err error) int { fmt.Fprintln(os.Stderr, "crash child:", err); return 3 }
	db, err := openCrashStore(ctx)
	if err != nil {
		return fail(err)
	}
	keys, err := secrets.EnvKeyProvider(os.Getenv, secrets.KEKEnv)
	if err != nil {
		return fail(err)
	}
	signer, err := secrets.SigningKey(ctx, db, keys)
	if err != nil {
		return fail(err)
	}
	log, err := audit.New(audit.Config{Store: db, Signer: signer, CheckpointEvery: 7, Timeout: 10 * time.Second})
	if err != nil {
		return fail(err)
	}
	s, err := secrets.New(ctx, secrets.Config{DB: db, Keys: keys, Audit: log})
	if err != nil {
		return fail(err)
	}
	actor := audit.Actor{Kind: audit.ActorSystem, ID: "crash"}
	fmt.Fprintln(os.Stdout, "ready")
	ack := func(format string, args ...any) { fmt.Fprintf(os.Stdout, format+"\n", args...) }
	ok := func(err error) bool {
		if err != nil && !errors.Is(err, store.ErrConflict) {
			os.Exit(fail(err))
		}
		return err == nil
	}
	for i := 0; ; i++ {
		id := crashIDs[rand.IntN(len(crashIDs))]
		tag := fmt.Sprintf("%d-%d", os.Getpid(), i)
		switch rand.IntN(4) {
		case 0:
			if m, err := s.Put(ctx, actor, id, crashBundle(tag), secrets.Any, time.Hour); ok(err) {
				ack("put %s %d %s", id, m.Version, tag)
			}
		case 1:
			if _, err := s.Show(ctx, id, 0); err != nil {
				continue
			}
			m, err := s.Stage(ctx, actor, id, crashBundle(tag), secrets.Any)
			if !ok(err) {
				continue
			}
			ack("put %s %d %s", id, m.Version, tag)
			if !ok(s.Verify(ctx, actor, id, m.Version, nil)) {
				continue
			}
			ack("verify %s %d", id, m.Version)
			if ok(s.Promote(ctx, actor, id, m.Version, time.Hour)) {
				ack("promote %s %d", id, m.Version)
			}
		case 2:
			rec, err := log.Append(ctx, audit.Event{Actor: actor, Action: "test.append", Resource: "crash", Outcome: audit.OutcomeSuccess})
			if ok(err) {
				ack("audit %d", rec.Seq)
			}
		case 3:
			if _, _, err := s.Read(ctx, actor, id, 0); err != nil && !errors.Is(err, store.ErrNotFound) {
				return fail(err)
			}
		}
	}
}

// TestCrashSafety kills a writer with SIGKILL at random moments and checks,
// after each kill, that the store opens, the audit chain verifies, every
// secret that has an active version can be read, and no acknowledged write
// is lost.
func TestCrashSafety(t *testing.T) {
	trials := 200
	if testing.Short() {
		trials = 20
	}
	t.Run("sqlite", func(t *testing.T) {
		dir := t.TempDir()
		crashTrials(t, trials, 100*time.Millisecond, crashDirEnv+"="+dir, func() store.Store {
			db, err := store.OpenSQLite(context.Background(), dir)
			if err != nil {
				t.Fatalf("open after crash: %v", err)
			}
			return db
		})
	})
	if storetest.PostgresAvailable(t) {
		t.Run("postgres", func(t *testing.T) {
			dsn := storetest.PostgresDSN(t)
			crashTrials(t, trials/4, 400*time.Millisecond, crashDSNEnv+"="+dsn, func() store.Store {
				db, err := store.OpenPostgres(context.Background(), dsn)
				if err != nil {
					t.Fatalf("open after crash: %v", err)
				}
				return db
			})
		})
	}
}

// crashTrials runs the child trials times, killing it at a random moment
// up to window after it is ready.
func crashTrials(t *testing.T, trials int, window time.Duration, childEnv string, open func() store.Store) {
	ctx := context.Background()
	kek := newKEK("k1")
	keys := keyring(t, kek)
	var acks []string
	killed := 0
	for trial := 0; trial < trials; trial++ {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), childEnv, secrets.KEKEnv+"="+kek)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		ready := make(chan struct{})
		lines := make(chan []string)
		go func() {
			var ls []string
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				if sc.Text() == "ready" {
					close(ready)
					continue
				}
				ls = append(ls, sc.Text())
			}
			lines <- ls
		}()
		select {
		case <-ready:
			time.Sleep(rand.N(window))
		case <-time.After(time.Minute):
		}
		cmd.Process.Signal(syscall.SIGKILL)
		got := <-lines
		err = cmd.Wait()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("trial %d: child ended on its own (%v): %s", trial, err, stderr.String())
		}
		killed++
		acks = append(acks, got...)
		checkAfterCrash(t, ctx, open(), keys, acks, trial)
	}
	t.Logf("%d kills, %d acknowledged writes checked", killed, len(acks))
}

func checkAfterCrash(t *testing.T, ctx context.Context, db store.Store, keys secrets.KeyProvider, acks []string, trial int) {
	t.Helper()
	defer db.Close()
	pub, err := secrets.PublicSigningKey(ctx, db)
	if errors.Is(err, store.ErrNotFound) && len(acks) == 0 {
		return // killed before anything was set up
	}
	if err != nil {
		t.Fatalf("trial %d: %v", trial, err)
	}
	rep, err := audit.Verify(ctx, db, pub, nil)
	if err != nil || !rep.OK() {
		t.Fatalf("trial %d: audit chain after the crash: %+v, %v", trial, rep, err)
	}
	versions := map[string][]store.Version{}
	for _, id := range crashIDs {
		vs, err := db.Versions(ctx, id)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Fatal(err)
		}
		versions[id] = vs
	}
	// Decrypt through the secret store without auditing: the check must
	// not change what it checks.
	s, err := secrets.New(ctx, secrets.Config{DB: db, Keys: keys, Audit: discard{}})
	if err != nil {
		t.Fatalf("trial %d: open secret store: %v", trial, err)
	}
	state := func(id string, v int) string {
		vs := versions[id]
		if v < 1 || v > len(vs) {
			return "missing"
		}
		return vs[v-1].State
	}
	for _, a := range acks {
		f := strings.Fields(a)
		switch f[0] {
		case "put":
			v, _ := strconv.Atoi(f[2])
			b, _, err := s.Read(ctx, audit.Actor{Kind: audit.ActorSystem, ID: "check"}, f[1], v)
			if err != nil || b.ConsumerSecret != crashBundle(f[3]).ConsumerSecret {
				t.Fatalf("trial %d: acknowledged %q lost or changed: %v", trial, a, err)
			}
		case "verify", "promote":
			v, _ := strconv.Atoi(f[2])
			st := state(f[1], v)
			if st == "missing" || st == store.StateStaged || (f[0] == "promote" && st == store.StateVerified) {
				t.Fatalf("trial %d: acknowledged %q but the version is %s", trial, a, st)
			}
		case "audit":
			seq, _ := strconv.ParseInt(f[1], 10, 64)
			if seq > rep.Head {
				t.Fatalf("trial %d: acknowledged audit record %d lost (head %d)", trial, seq, rep.Head)
			}
		}
	}
	for id, vs := range versions {
		if len(vs) == 0 {
			continue
		}
		if _, _, err := s.Read(ctx, audit.Actor{Kind: audit.ActorSystem, ID: "check"}, id, 0); err != nil {
			t.Fatalf("trial %d: %s has no usable active version after the crash: %v", trial, id, err)
		}
	}
}

// discard is an Auditor that keeps nothing, for checks that must not
// write.
type discard struct{}

func (discard) Append(context.Context, audit.Event) (audit.Record, error) { return audit.Record{}, nil }
