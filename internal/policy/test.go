package policy

import (
	"context"
	"fmt"
	"sort"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/tester"
)

// TestResult is the outcome of one Rego unit test.
type TestResult struct {
	Package  string `json:"package"`
	Name     string `json:"name"`
	File     string `json:"file"`
	Line     int    `json:"line"`
	Passed   bool   `json:"passed"`
	Skipped  bool   `json:"skipped"`
	Error    string `json:"error,omitempty"`
	Duration string `json:"duration"`
}

// RunTests runs the Rego unit tests (rules named test_*) in the user
// directories against the built-in pack and the users' rules, or, with no
// directories, the built-in pack's own tests. Results are sorted by file
// and line.
func RunTests(ctx context.Context, opts Options) ([]TestResult, error) {
	mods, err := loadModules(opts, true)
	if err != nil {
		return nil, err
	}
	if _, err := rulesFromModules(mods); err != nil {
		return nil, err
	}
	set := make(map[string]*ast.Module, len(mods))
	for _, m := range mods {
		set[m.name] = m.module
	}
	runner := tester.NewRunner().SetModules(set).SetDefaultRegoVersion(ast.RegoV1).RaiseBuiltinErrors(true)
	ch, err := runner.RunTests(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("run policy tests: %w", err)
	}
	// With user directories, report only the users' tests: the built-in
	// pack is loaded to be imported and tested against.
	userOnly := len(opts.Dirs) > 0
	var out []TestResult
	for r := range ch {
		if userOnly && r.Location != nil && isBuiltin(mods, r.Location.File) {
			continue
		}
		tr := TestResult{Package: r.Package, Name: r.Name, Passed: r.Pass(), Skipped: r.Skip, Duration: r.Duration.String()}
		if r.Location != nil {
			tr.File, tr.Line = r.Location.File, r.Location.Row
		}
		if r.Error != nil {
			tr.Error = r.Error.Error()
		}
		out = append(out, tr)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].File != out[j].File {
			return out[i].File < out[j].File
		}
		return out[i].Line < out[j].Line
	})
	return out, nil
}

func isBuiltin(mods []module, file string) bool {
	for _, m := range mods {
		if m.name == file {
			return m.builtin
		}
	}
	return false
}
