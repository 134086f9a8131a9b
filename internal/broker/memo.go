package broker

import (
	"crypto/sha256"
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"
)

// memoLimit bounds the decisions remembered within one second.
const memoLimit = 4096

// memoKey determines a decision's input completely when the Identity, its
// findings, secret state and review all come from one Prepared: the
// workload by the credential it was verified from, the Identity's part by
// that Prepared, then the kill switch and the secret's age in days. The
// decision time, the input's other part, is the second the memo holds.
type memoKey struct {
	credential [sha256.Size]byte
	prepared   *Prepared
	killed     bool
	age        int
}

// memoTable holds the decisions made within one second of decision time. The
// input's now is that second, so an evaluation in the same second on the
// same key is an evaluation on the same input: a deterministic policy
// gives the same decision.
type memoTable struct {
	unix int64
	mu   sync.RWMutex
	m    map[memoKey]Decision
}

// memoKeyFor is the key of in's decision, and false when in cannot be
// remembered: the memo is off, the workload carries no credential digest,
// or part of the input does not come from in.Prepared.
func (d *Decider) memoKeyFor(in *Input) (memoKey, bool) {
	p := in.Prepared
	if !d.memoize || in.Workload.Credential == ([sha256.Size]byte{}) || p == nil || p.identity != in.Identity {
		return memoKey{}, false
	}
	if st := p.state; st == nil || st.decider != d || st.secret != in.Secret || st.review != in.Review {
		return memoKey{}, false
	}
	return memoKey{credential: in.Workload.Credential, prepared: p, killed: in.Killed, age: secretAge(in.Secret, in.Now)}, true
}

// recall returns the decision remembered for k in second unix.
func (d *Decider) recall(unix int64, k memoKey) (Decision, bool) {
	m := d.memo.Load()
	if m == nil || m.unix != unix {
		return Decision{}, false
	}
	m.mu.RLock()
	dec, ok := m.m[k]
	m.mu.RUnlock()
	return dec, ok
}

// remember keeps dec for k in second unix. The first decision of a new
// second replaces the memo of the previous one; a decision of a second
// already past is not kept; a full memo keeps no more.
func (d *Decider) remember(unix int64, k memoKey, dec Decision) {
	m := d.memo.Load()
	if m == nil || m.unix < unix {
		next := &memoTable{unix: unix, m: make(map[memoKey]Decision)}
		if !d.memo.CompareAndSwap(m, next) {
			// Another decision replaced it first.
			d.remember(unix, k, dec)
			return
		}
		m = next
	}
	if m.unix != unix {
		return
	}
	m.mu.Lock()
	if len(m.m) < memoLimit {
		m.m[k] = dec
	}
	m.mu.Unlock()
}

// deterministic reports whether the compiled policy calls no built-in
// whose result may change between two evaluations on the same input
// (http.send, time.now_ns, rand.intn, …): only then may a decision be
// remembered.
func deterministic(c *ast.Compiler) bool {
	ok := true
	vis := ast.NewGenericVisitor(func(x any) bool {
		var op ast.Ref
		switch x := x.(type) {
		case *ast.Expr:
			if x.IsCall() {
				op = x.Operator()
			}
		case ast.Call:
			op, _ = x[0].Value.(ast.Ref)
		}
		if b := ast.BuiltinMap[op.String()]; op != nil && b != nil && b.Nondeterministic {
			ok = false
		}
		return !ok
	})
	for _, m := range c.Modules {
		vis.Walk(m)
	}
	return ok
}
