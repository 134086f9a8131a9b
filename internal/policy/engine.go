// Package policy evaluates snapshots against Rego rules with OPA embedded as a
// library. The built-in pack is embedded in the binary; users add their own
// rules from directories. Each rule is a package under steward.rules whose
// METADATA annotation carries its id, title, severity, framework references
// and remediation, and whose `finding` set holds one object per violation.
package policy

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/steward-dev/steward/internal/snapshot"
)

//go:embed rego/*.rego
var builtinFS embed.FS

// rulesPrefix is the package path every rule lives under.
const rulesPrefix = "data.steward.rules."

// Options configure an Engine.
type Options struct {
	// Dirs are directories of user Rego files added to the built-in pack.
	// Files ending in _test.rego are skipped here; `steward policy test`
	// runs them.
	Dirs []string
	// NoBuiltin leaves the built-in pack out (user rules may still import
	// data.steward.lib, which is always loaded).
	NoBuiltin bool
}

// Engine evaluates snapshots against a compiled rule set. It is safe for
// concurrent use.
type Engine struct {
	rules   []Rule
	queries []rego.PreparedEvalQuery // rules[i]'s finding set is queries[i]
}

// New loads, parses and compiles the built-in pack and the user rules, and
// checks every rule's metadata. Errors name the file and line.
func New(ctx context.Context, opts Options) (*Engine, error) {
	mods, err := loadModules(opts, false)
	if err != nil {
		return nil, err
	}
	rules, err := rulesFromModules(mods)
	if err != nil {
		return nil, err
	}
	set := make(map[string]*ast.Module, len(mods))
	for _, m := range mods {
		set[m.name] = m.module
	}
	compiler := ast.NewCompiler().WithStrict(false)
	if compiler.Compile(set); compiler.Failed() {
		return nil, fmt.Errorf("compile policy: %w", compiler.Errors)
	}
	e := &Engine{rules: rules}
	for _, r := range e.rules {
		pq, err := rego.New(
			rego.Compiler(compiler),
			rego.Query("x := "+rulesPrefix+r.Package+".finding"),
		).PrepareForEval(ctx)
		if err != nil {
			return nil, fmt.Errorf("prepare policy query: %w", err)
		}
		e.queries = append(e.queries, pq)
	}
	return e, nil
}

// Rules returns the metadata of every loaded rule, sorted by id.
func (e *Engine) Rules() []Rule { return append([]Rule(nil), e.rules...) }

// regoFinding is what a rule's finding set holds.
type regoFinding struct {
	Message  string
	Severity string
	Identity *string
	Resource Resource
}

// Evaluate runs every rule against the snapshot, one query per rule, on
// GOMAXPROCS workers that share one cache (see sharedCache): the indexes of
// data.steward.lib are built once per evaluation, by the first rule that
// needs them, and the rules still spread evenly over the CPUs. Rules that
// need live data, or a capability they require (custom.requires), are
// skipped when the snapshot lacks it. Findings accepted
// by an unexpired Exception move to Result.Suppressed.
func (e *Engine) Evaluate(ctx context.Context, snap *snapshot.Snapshot) (*Result, error) {
	// Past the conversion only these are read, so that a caller that keeps
	// no other reference lets the collector have the rest of the snapshot
	// while the rules run.
	caps, exceptions, now := snap.Capabilities, snap.Exceptions, snap.Now
	input, err := inputValue(snap)
	if err != nil {
		return nil, err
	}
	cache := newSharedCache()
	found := make([][]Finding, len(e.rules))
	errs := make([]error, len(e.rules))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(e.rules)) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(e.rules); i = int(next.Add(1) - 1) {
				if !e.rules[i].runs(caps) {
					continue
				}
				found[i], errs[i] = e.eval(ctx, i, input, cache)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	all := slices.Concat(found...)
	res := &Result{Rules: slices.DeleteFunc(e.Rules(), func(r Rule) bool { return !r.runs(caps) })}
	res.Findings, res.Suppressed = suppress(all, exceptions, now)
	return res, nil
}

// eval runs rule i and completes its findings with the rule's metadata.
func (e *Engine) eval(ctx context.Context, i int, input ast.Value, cache *sharedCache) ([]Finding, error) {
	r := &e.rules[i]
	rs, err := e.queries[i].Eval(ctx, rego.EvalParsedInput(input), rego.EvalVirtualCache(cache.view()), rego.EvalGenerateJSON(resultTerm))
	if err != nil {
		return nil, fmt.Errorf("evaluate rule %s: %w", r.ID, err)
	}
	if len(rs) != 1 {
		return nil, fmt.Errorf("evaluate rule %s: %d results, want 1", r.ID, len(rs))
	}
	set, err := findingTerms(rs[0].Bindings["x"])
	if err != nil {
		return nil, fmt.Errorf("rule %s: %w", r.ID, err)
	}
	out := make([]Finding, 0, len(set))
	for _, v := range set {
		f, err := decodeFinding(v)
		if err != nil {
			return nil, fmt.Errorf("rule %s: %w", r.ID, err)
		}
		out = append(out, r.finding(f))
	}
	return out, nil
}

// resultTerm keeps a query result as the AST term OPA computed, for
// rego.EvalGenerateJSON: findings are read from it directly instead of
// being converted to Go maps first.
func resultTerm(t *ast.Term, _ *rego.EvalContext) (any, error) { return t, nil }

// findingTerms lists the elements of a rule's finding set (a set, or an
// array) from a result kept by resultTerm, in the order OPA's conversion to
// JSON lists them.
func findingTerms(binding any) ([]*ast.Term, error) {
	t, _ := binding.(*ast.Term)
	if t != nil {
		switch v := t.Value.(type) {
		case ast.Set:
			return v.Slice(), nil
		case *ast.Array:
			terms := make([]*ast.Term, v.Len())
			for i := range terms {
				terms[i] = v.Elem(i)
			}
			return terms, nil
		}
	}
	return nil, errors.New("finding is not a set")
}

var (
	messageKey  = ast.StringTerm("message")
	severityKey = ast.StringTerm("severity")
	identityKey = ast.StringTerm("identity")
	resourceKey = ast.StringTerm("resource")
	kindKey     = ast.StringTerm("kind")
	nameKey     = ast.StringTerm("name")
	fileKey     = ast.StringTerm("file")
	lineKey     = ast.StringTerm("line")
)

// decodeFinding reads one element of a rule's finding set.
func decodeFinding(v *ast.Term) (regoFinding, error) {
	obj, ok := v.Value.(ast.Object)
	if !ok {
		return regoFinding{}, fmt.Errorf("finding %v is not an object with message, resource and identity", jsonOf(v))
	}
	var f regoFinding
	f.Message, _ = stringAt(obj, messageKey)
	f.Severity, _ = stringAt(obj, severityKey)
	if id, ok := stringAt(obj, identityKey); ok {
		f.Identity = &id
	}
	var res ast.Object
	if t := obj.Get(resourceKey); t != nil {
		res, _ = t.Value.(ast.Object)
	}
	if res == nil || f.Message == "" {
		return f, fmt.Errorf("finding %v lacks a message or a resource object", jsonOf(v))
	}
	f.Resource.Kind, _ = stringAt(res, kindKey)
	f.Resource.Name, _ = stringAt(res, nameKey)
	f.Resource.File, _ = stringAt(res, fileKey)
	if t := res.Get(lineKey); t != nil {
		if n, ok := t.Value.(ast.Number); ok {
			line, _ := json.Number(n).Int64()
			f.Resource.Line = int(line)
		}
	}
	return f, nil
}

// stringAt returns the string under key in obj, if it is one.
func stringAt(obj ast.Object, key *ast.Term) (string, bool) {
	t := obj.Get(key)
	if t == nil {
		return "", false
	}
	s, ok := t.Value.(ast.String)
	return string(s), ok
}

// jsonOf is v as OPA converts it to Go values, for error messages.
func jsonOf(v *ast.Term) any {
	j, err := ast.JSON(v.Value)
	if err != nil {
		return v
	}
	return j
}

// finding completes a rule's raw finding with the rule's metadata.
func (r *Rule) finding(f regoFinding) Finding {
	sev := f.Severity
	if SeverityRank(sev) < 0 {
		sev = r.Severity
	}
	if f.Identity != nil && *f.Identity == "" {
		f.Identity = nil
	}
	return Finding{
		Rule:        r.ID,
		Severity:    sev,
		Title:       r.Title,
		Message:     f.Message,
		Identity:    f.Identity,
		Resource:    f.Resource,
		Controls:    r.Controls,
		Remediation: r.Remediation,
	}
}

// suppress moves the findings an unexpired Exception accepts out of the
// active list. An exception matches on identity and rule; one without an
// expiry date, or past it, accepts nothing (NHI-REV-03 reports it).
func suppress(findings []Finding, exceptions []snapshot.Exception, now time.Time) (active, suppressed []Finding) {
	// Unexpired exceptions by rule. An exception names an identity, a
	// resource (for findings no identity covers, such as an OAuth app in
	// use), or both; a finding must match every one it names.
	valid := map[string][]snapshot.Exception{}
	today := now.UTC().Format(time.DateOnly)
	for _, x := range exceptions {
		if x.Expires == "" || x.Expires < today || x.Rule == "NHI-REV-03" || (x.Identity == "" && x.Resource == "") {
			continue
		}
		valid[x.Rule] = append(valid[x.Rule], x)
	}
	active, suppressed = make([]Finding, 0, len(findings)), []Finding{}
	for _, f := range findings {
		if name := acceptedBy(f, valid[f.Rule]); name != "" {
			f.SuppressedBy = name
			suppressed = append(suppressed, f)
			continue
		}
		active = append(active, f)
	}
	return active, suppressed
}

// acceptedBy returns the name of the first exception that accepts f.
func acceptedBy(f Finding, exceptions []snapshot.Exception) string {
	for _, x := range exceptions {
		if x.Identity != "" && (f.Identity == nil || *f.Identity != x.Identity) {
			continue
		}
		if x.Resource != "" && f.Resource.Name != x.Resource {
			continue
		}
		return x.Name
	}
	return ""
}

// module is one parsed Rego file.
type module struct {
	name    string // file path (builtin/… for embedded files)
	builtin bool
	module  *ast.Module
}

// loadModules reads the embedded pack and the user directories. withTests
// includes *_test.rego files.
func loadModules(opts Options, withTests bool) ([]module, error) {
	var mods []module
	var errs []error
	err := fs.WalkDir(builtinFS, "rego", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".rego") {
			return err
		}
		if strings.HasSuffix(path, "_test.rego") && !withTests {
			return nil
		}
		if opts.NoBuiltin && path != "rego/lib.rego" {
			return nil
		}
		src, err := builtinFS.ReadFile(path)
		if err != nil {
			return err
		}
		m, err := parseModule("builtin/"+strings.TrimPrefix(path, "rego/"), src)
		if err != nil {
			errs = append(errs, err)
			return nil
		}
		mods = append(mods, module{name: m.name, builtin: true, module: m.module})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read built-in policy: %w", err)
	}
	for _, dir := range opts.Dirs {
		info, err := os.Stat(dir)
		if err != nil {
			errs = append(errs, fmt.Errorf("policy directory %s: %w", dir, err))
			continue
		}
		if !info.IsDir() {
			errs = append(errs, fmt.Errorf("policy directory %s: not a directory", dir))
			continue
		}
		n := 0
		err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() || !strings.HasSuffix(path, ".rego") {
				return nil
			}
			n++
			if strings.HasSuffix(path, "_test.rego") && !withTests {
				return nil
			}
			src, err := os.ReadFile(path)
			if err != nil {
				return fmt.Errorf("read %s: %w", path, err)
			}
			m, err := parseModule(path, src)
			if err != nil {
				errs = append(errs, err)
				return nil
			}
			mods = append(mods, m)
			return nil
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("walk %s: %w", dir, err))
		}
		if err == nil && n == 0 {
			errs = append(errs, fmt.Errorf("policy directory %s: no .rego files", dir))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return mods, nil
}

// parseModule parses one Rego v1 file with its annotations.
func parseModule(name string, src []byte) (module, error) {
	m, err := ast.ParseModuleWithOpts(name, string(src), ast.ParserOptions{
		ProcessAnnotation: true,
		RegoVersion:       ast.RegoV1,
	})
	if err != nil {
		return module{}, fmt.Errorf("parse %w", err)
	}
	return module{name: name, module: m}, nil
}

// rulesFromModules reads every rule package's METADATA and checks it.
func rulesFromModules(mods []module) ([]Rule, error) {
	var rules []Rule
	var errs []error
	seen := map[string]string{}
	for _, m := range mods {
		pkg := m.module.Package.Path.String()
		if !strings.HasPrefix(pkg, rulesPrefix) || strings.HasSuffix(m.name, "_test.rego") {
			continue
		}
		short := strings.TrimPrefix(pkg, rulesPrefix)
		var ann *ast.Annotations
		for _, a := range m.module.Annotations {
			if a.Scope == "package" {
				ann = a
			}
		}
		if ann == nil {
			errs = append(errs, fmt.Errorf("%s:%d: rule package %s has no package METADATA annotation (title and custom id, severity, controls, remediation)", m.name, m.module.Package.Location.Row, pkg))
			continue
		}
		r, err := ruleFromAnnotation(ann)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s:%d: %w", m.name, ann.Location.Row, err))
			continue
		}
		r.Package, r.File, r.Builtin = short, m.name, m.builtin
		if prev, dup := seen[r.ID]; dup {
			errs = append(errs, fmt.Errorf("%s: rule id %s is already used by %s", m.name, r.ID, prev))
			continue
		}
		seen[r.ID] = m.name
		rules = append(rules, r)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	sort.Slice(rules, func(i, j int) bool { return rules[i].ID < rules[j].ID })
	return rules, nil
}

// ruleFromAnnotation reads and checks one rule's metadata.
func ruleFromAnnotation(a *ast.Annotations) (Rule, error) {
	// Annotation text is wrapped in the Rego source; fold it onto one line.
	fold := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	r := Rule{Title: a.Title, Description: fold(a.Description)}
	c := a.Custom
	str := func(k string) string { s, _ := c[k].(string); return fold(s) }
	r.ID, r.Severity, r.Remediation = str("id"), str("severity"), str("remediation")
	r.Live, _ = c["live"].(bool)
	requires, err := readRequires(c["requires"])
	if err != nil {
		return r, fmt.Errorf("rule %s: %w", r.ID, err)
	}
	r.Requires = requires
	if list, ok := c["controls"].([]any); ok {
		for _, v := range list {
			if s, ok := v.(string); ok {
				r.Controls = append(r.Controls, s)
			}
		}
	}
	var missing []string
	for k, v := range map[string]string{"title": r.Title, "custom.id": r.ID, "custom.severity": r.Severity, "custom.remediation": r.Remediation} {
		if v == "" {
			missing = append(missing, k)
		}
	}
	if len(r.Controls) == 0 {
		missing = append(missing, "custom.controls")
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return r, fmt.Errorf("rule METADATA is missing %s", strings.Join(missing, ", "))
	}
	if SeverityRank(r.Severity) < 0 {
		return r, fmt.Errorf("rule %s: severity %q is not one of %s", r.ID, r.Severity, strings.Join(Severities, ", "))
	}
	return r, nil
}
