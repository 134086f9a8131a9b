// Package policy evaluates snapshots against Rego rules with OPA embedded as a
// library. The built-in pack is embedded in the binary; users add their own
// rules from directories. Each rule is a package under steward.rules whose
// METADATA annotation carries its id, title, severity, framework references
// and remediation, and whose `finding` set holds one object per violation.
package policy

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
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
	rules  []Rule
	byPkg  map[string]*Rule
	query  rego.PreparedEvalQuery
	source map[string]string // module name → source, for policy test
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
	regoOpts := []func(*rego.Rego){
		rego.Query("f := data.steward.rules[pkg].finding"),
	}
	for _, m := range mods {
		regoOpts = append(regoOpts, rego.ParsedModule(m.module))
	}
	pq, err := rego.New(regoOpts...).PrepareForEval(ctx)
	if err != nil {
		return nil, fmt.Errorf("compile policy: %w", err)
	}
	e := &Engine{rules: rules, byPkg: map[string]*Rule{}, query: pq}
	for i := range e.rules {
		e.byPkg[e.rules[i].Package] = &e.rules[i]
	}
	return e, nil
}

// Rules returns the metadata of every loaded rule, sorted by id.
func (e *Engine) Rules() []Rule { return append([]Rule(nil), e.rules...) }

// regoFinding is what a rule's finding set holds.
type regoFinding struct {
	Message  string   `json:"message"`
	Severity string   `json:"severity"`
	Identity *string  `json:"identity"`
	Resource Resource `json:"resource"`
}

// Evaluate runs every rule against the snapshot. Findings of rules that need
// live data are dropped when the snapshot has none. Findings accepted by an
// unexpired Exception move to Result.Suppressed.
func (e *Engine) Evaluate(ctx context.Context, snap *snapshot.Snapshot) (*Result, error) {
	input, err := inputValue(snap)
	if err != nil {
		return nil, err
	}
	rs, err := e.query.Eval(ctx, rego.EvalParsedInput(input))
	if err != nil {
		return nil, fmt.Errorf("evaluate policy: %w", err)
	}
	res := &Result{Findings: []Finding{}, Suppressed: []Finding{}, Rules: e.Rules()}
	for _, r := range rs {
		pkg, _ := r.Bindings["pkg"].(string)
		rule, ok := e.byPkg[pkg]
		if !ok {
			continue // a package under steward.rules without metadata: rejected by New
		}
		if rule.Live && !snap.Capabilities.Live {
			continue
		}
		raw, err := json.Marshal(r.Bindings["f"])
		if err != nil {
			return nil, fmt.Errorf("rule %s: encode findings: %w", rule.ID, err)
		}
		var found []regoFinding
		if err := json.Unmarshal(raw, &found); err != nil {
			return nil, fmt.Errorf("rule %s: finding is not an object with message, resource and identity: %w", rule.ID, err)
		}
		for _, f := range found {
			res.Findings = append(res.Findings, rule.finding(f))
		}
	}
	res.Findings, res.Suppressed = suppress(res.Findings, snap.Exceptions, snap.Now)
	return res, nil
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
	type key struct{ identity, rule string }
	valid := map[key]string{}
	today := now.UTC().Format(time.DateOnly)
	for _, x := range exceptions {
		if x.Expires == "" || x.Expires < today || x.Rule == "NHI-REV-03" {
			continue
		}
		valid[key{x.Identity, x.Rule}] = x.Name
	}
	active, suppressed = []Finding{}, []Finding{}
	for _, f := range findings {
		if f.Identity != nil {
			if name, ok := valid[key{*f.Identity, f.Rule}]; ok {
				f.SuppressedBy = name
				suppressed = append(suppressed, f)
				continue
			}
		}
		active = append(active, f)
	}
	return active, suppressed
}

// inputValue converts the snapshot to the AST value OPA evaluates, once.
func inputValue(snap *snapshot.Snapshot) (ast.Value, error) {
	raw, err := json.Marshal(snap)
	if err != nil {
		return nil, fmt.Errorf("encode snapshot: %w", err)
	}
	v, err := ast.ValueFromReader(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("convert snapshot to policy input: %w", err)
	}
	return v, nil
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
	r := Rule{Title: a.Title, Description: strings.TrimSpace(a.Description)}
	c := a.Custom
	str := func(k string) string { s, _ := c[k].(string); return strings.TrimSpace(s) }
	r.ID, r.Severity, r.Remediation = str("id"), str("severity"), str("remediation")
	r.Live, _ = c["live"].(bool)
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
