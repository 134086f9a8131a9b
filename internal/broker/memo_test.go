package broker

import (
	"context"
	"crypto/sha256"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// prepared returns in with its identity, findings, secret state and review
// prepared by d, and its workload carrying the digest of credential, as
// the server decides.
func prepared(t *testing.T, d *Decider, in Input, credential string) Input {
	t.Helper()
	p, err := Prepare(in.Identity, in.Findings)
	if err != nil {
		t.Fatal(err)
	}
	if in.Prepared, err = d.PrepareState(p, in.Secret, in.Review, in.Now); err != nil {
		t.Fatal(err)
	}
	w := *in.Workload
	w.Credential = sha256.Sum256([]byte(credential))
	in.Workload = &w
	return in
}

// remembered reports whether d holds a decision for in.
func remembered(d *Decider, in Input) (Decision, bool) {
	k, ok := d.memoKeyFor(&in)
	if !ok {
		return Decision{}, false
	}
	return d.recall(in.Now.Unix(), k)
}

func decide(t *testing.T, d *Decider, in Input) Decision {
	t.Helper()
	dec, err := d.Decide(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return dec
}

// TestMemoDecidesAsEvaluation: for inputs that each default rule denies,
// and one it allows, a decision taken from the memo is the decision an
// evaluation of every request gives.
func TestMemoDecidesAsEvaluation(t *testing.T) {
	memo := newDecider(t, DecisionOptions{DenyFindings: []string{"critical"}})
	eval := newDecider(t, DecisionOptions{DenyFindings: []string{"critical"}, NoMemo: true})
	variants := map[string]func(*Input){
		"allowed": func(*Input) {},
		"killed":  func(in *Input) { in.Killed = true },
		"retired": func(in *Input) { in.Identity.Lifecycle = "retired" },
		"environment": func(in *Input) {
			w := *in.Workload
			w.Environment = "staging"
			in.Workload = &w
		},
		"consumer": func(in *Input) {
			w := *in.Workload
			w.Subject = "repo:acme/other:environment:prod"
			in.Workload = &w
		},
		"review":   func(in *Input) { in.Review.Due = now.AddDate(0, -3, 0) },
		"rotation": func(in *Input) { in.Secret.RotationDeadline = now.AddDate(0, 0, -10) },
		"finding": func(in *Input) {
			in.Findings = []Finding{{Rule: "NHI-SEC-01", Severity: "critical", Message: "inline secret"}}
		},
	}
	for name, change := range variants {
		in := goodInput()
		change(&in)
		want := decide(t, eval, in)
		if name == "allowed" != want.Allow {
			t.Fatalf("%s: the evaluation gave %+v", name, want)
		}
		// The credential names the variant: a workload changed is a
		// different token.
		in = prepared(t, memo, in, name)
		first := decide(t, memo, in)
		got, ok := remembered(memo, in)
		if !ok {
			t.Fatalf("%s: the decision was not remembered", name)
		}
		again := decide(t, memo, in)
		for _, dec := range []Decision{first, got, again} {
			if !reflect.DeepEqual(dec, want) {
				t.Errorf("%s: memo gave %+v, evaluation %+v", name, dec, want)
			}
		}
	}
}

// TestMemoKey: what is remembered is keyed by every part of the input
// that can change between requests, so a request is never given another
// input's decision.
func TestMemoKey(t *testing.T) {
	d := newDecider(t, DecisionOptions{})
	base := prepared(t, d, goodInput(), "token-a")
	if dec := decide(t, d, base); !dec.Allow {
		t.Fatalf("base input: %+v", dec)
	}

	// The kill switch applies at once, in the same second.
	killed := base
	killed.Killed = true
	if _, ok := remembered(d, killed); ok {
		t.Fatal("a killed identity's request found the allowed decision")
	}
	if dec := decide(t, d, killed); dec.Allow || codes(dec)[0] != "identity_killed" {
		t.Fatalf("killed: %+v", dec)
	}
	if dec := decide(t, d, base); !dec.Allow {
		t.Fatalf("revived: %+v", dec)
	}

	// Another credential is another workload.
	other := base
	w := *base.Workload
	w.Subject, w.Credential = "repo:acme/other:environment:prod", sha256.Sum256([]byte("token-b"))
	other.Workload = &w
	if _, ok := remembered(d, other); ok {
		t.Fatal("another credential found the first one's decision")
	}
	if dec := decide(t, d, other); dec.Allow {
		t.Fatalf("a workload that is no consumer: %+v", dec)
	}

	// New facts are a new Prepared: a refresh that finds the secret
	// overdue denies at once.
	overdue := goodInput()
	overdue.Secret.RotationDeadline = now.AddDate(0, 0, -10)
	overdue = prepared(t, d, overdue, "token-a")
	if dec := decide(t, d, overdue); dec.Allow {
		t.Fatalf("overdue secret: %+v", dec)
	}

	// Inputs not wholly prepared are evaluated every time.
	for name, in := range map[string]Input{
		"no credential digest": func() Input { in := base; w := *base.Workload; w.Credential = [32]byte{}; in.Workload = &w; return in }(),
		"not prepared":         func() Input { in := base; in.Prepared = nil; return in }(),
		"another secret state": func() Input { in := base; in.Secret.Version++; return in }(),
		"another identity":     func() Input { in := base; in.Identity = identity(); return in }(),
	} {
		if _, ok := d.memoKeyFor(&in); ok {
			t.Errorf("%s: the decision would be remembered", name)
		}
		if dec := decide(t, d, in); !dec.Allow {
			t.Errorf("%s: %+v", name, dec)
		}
	}
}

// TestMemoSecond: a decision is remembered for the rest of its second
// only, since the input's time is that second: a grace period ending at a
// second's boundary denies from the next second on.
func TestMemoSecond(t *testing.T) {
	d := newDecider(t, DecisionOptions{ReviewGrace: time.Hour})
	in := goodInput()
	in.Review.Due = now.Add(-time.Hour) // the grace period ends at now
	in = prepared(t, d, in, "token")
	for _, step := range []struct {
		at    time.Duration
		allow bool
	}{{0, true}, {200 * time.Millisecond, true}, {999 * time.Millisecond, true}, {time.Second, false}, {1500 * time.Millisecond, false}} {
		in.Now = now.Add(step.at)
		if dec := decide(t, d, in); dec.Allow != step.allow {
			t.Errorf("at now+%s: %+v, want allow %v", step.at, dec, step.allow)
		}
	}
	// A late decision of an earlier second is not kept, and does not
	// replace the current second's.
	in.Now = now.Add(200 * time.Millisecond)
	decide(t, d, in)
	if m := d.memo.Load(); m.unix != now.Unix()+1 {
		t.Errorf("the memo holds second %d, want %d", m.unix, now.Unix()+1)
	}
}

// TestMemoBounded: a second's memo holds at most memoLimit decisions.
func TestMemoBounded(t *testing.T) {
	d := newDecider(t, DecisionOptions{})
	in := prepared(t, d, goodInput(), "x")
	for i := range memoLimit + 100 {
		w := *in.Workload
		w.Credential = sha256.Sum256([]byte{byte(i), byte(i >> 8)})
		in.Workload = &w
		if dec := decide(t, d, in); !dec.Allow {
			t.Fatalf("request %d: %+v", i, dec)
		}
	}
	if n := len(d.memo.Load().m); n != memoLimit {
		t.Fatalf("the memo holds %d decisions, want %d", n, memoLimit)
	}
}

// TestMemoOff: the memo is off when asked, and for a policy that calls a
// built-in whose result may change between evaluations.
func TestMemoOff(t *testing.T) {
	if d := newDecider(t, DecisionOptions{}); !d.memoize {
		t.Fatal("the built-in policy is not remembered")
	}
	if d := newDecider(t, DecisionOptions{NoMemo: true}); d.memoize {
		t.Fatal("NoMemo left the memo on")
	}
	for name, body := range map[string]string{
		"time.now_ns": `deny contains "night" if time.clock([time.now_ns(), "UTC"])[0] < 6`,
		"rand.intn":   `deny contains "unlucky" if rand.intn("draw", 100) == 0`,
		"http.send":   `deny contains "flagged" if http.send({"method": "GET", "url": "https://flags.example"}).body.blocked`,
		"nested":      `deny contains msg if { msg := sprintf("at %d", [time.now_ns()]); false }`,
	} {
		dir := t.TempDir()
		src := "package steward.broker.custom.acme\n\n" + body + "\n"
		if err := os.WriteFile(filepath.Join(dir, "rules.rego"), []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		if d := newDecider(t, DecisionOptions{Dirs: []string{dir}}); d.memoize {
			t.Errorf("%s: a policy calling it is remembered", name)
		}
	}
	dir := t.TempDir()
	src := "package steward.broker.custom.acme\n\ndeny contains \"main only\" if not input.workload.claims.ref == \"refs/heads/main\"\n"
	if err := os.WriteFile(filepath.Join(dir, "rules.rego"), []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	if d := newDecider(t, DecisionOptions{Dirs: []string{dir}}); !d.memoize {
		t.Error("a deterministic custom rule turned the memo off")
	}
}
