package policy

import (
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/topdown"
)

// sharedCache holds the values of complete rules and function calls that
// the queries of one evaluation compute, so that an index of
// data.steward.lib built for one rule serves every other rule, whichever
// query and goroutine evaluates it.
//
// OPA's cache is a stack of frames: a `with` statement pushes a frame, whose
// values hold only under that statement's replacements, and pops it when it
// ends. Only the bottom frame, computed from the evaluation's input and data
// alone, is shared; each query pushes its frames on a stack of its own (see
// view), so that no value computed under a `with` reaches another query.
//
// Only the values of rules (references into data) are shared. The results
// of function calls, cached under the function and its arguments, are many
// and mostly of use to the rule that made them: sharing them made the
// queries wait on each other's writes, so each query keeps its own.
type sharedCache struct {
	mu   sync.RWMutex
	base topdown.VirtualCache
}

func newSharedCache() *sharedCache {
	return &sharedCache{base: topdown.NewVirtualCache()}
}

// view returns the cache of one query evaluation.
func (c *sharedCache) view() *cacheView {
	return &cacheView{shared: c, calls: topdown.NewVirtualCache()}
}

// cacheView is a topdown.VirtualCache for one query evaluation: the shared
// bottom frame, the query's own function results, and the frames the query
// pushed. It is used by one goroutine.
type cacheView struct {
	shared *sharedCache
	calls  topdown.VirtualCache   // function results in the bottom frame
	frames []topdown.VirtualCache // pushed by `with`, innermost last
}

// isCall reports whether a cache key is a function call: OPA keys those by
// the function's reference followed by the arguments, so the first term is a
// reference, where a rule's key starts with the variable data.
func isCall(ref ast.Ref) bool {
	if len(ref) == 0 {
		return false
	}
	_, isVar := ref[0].Value.(ast.Var)
	return !isVar
}

// Push starts a frame of the query's own.
func (v *cacheView) Push() { v.frames = append(v.frames, topdown.NewVirtualCache()) }

// Pop ends the innermost frame the query pushed.
func (v *cacheView) Pop() {
	if n := len(v.frames); n > 0 {
		v.frames = v.frames[:n-1]
	}
}

// Get looks ref up in the innermost frame, as OPA's own cache does.
func (v *cacheView) Get(ref ast.Ref) (*ast.Term, bool) {
	if n := len(v.frames); n > 0 {
		return v.frames[n-1].Get(ref)
	}
	if isCall(ref) {
		return v.calls.Get(ref)
	}
	v.shared.mu.RLock()
	defer v.shared.mu.RUnlock()
	return v.shared.base.Get(ref)
}

// Put records ref's value (nil: undefined) in the innermost frame.
func (v *cacheView) Put(ref ast.Ref, value *ast.Term) {
	if n := len(v.frames); n > 0 {
		v.frames[n-1].Put(ref, value)
		return
	}
	if isCall(ref) {
		v.calls.Put(ref, value)
		return
	}
	v.shared.mu.Lock()
	defer v.shared.mu.Unlock()
	v.shared.base.Put(ref, value)
}

// Keys lists the references cached in the innermost frame.
func (v *cacheView) Keys() []ast.Ref {
	if n := len(v.frames); n > 0 {
		return v.frames[n-1].Keys()
	}
	v.shared.mu.RLock()
	defer v.shared.mu.RUnlock()
	return append(v.shared.base.Keys(), v.calls.Keys()...)
}
