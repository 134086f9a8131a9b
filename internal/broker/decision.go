// Package broker serves workloads short-lived Salesforce tokens. Its runtime
// decision is Rego on the same OPA engine as the posture pack: a built-in
// policy, embedded in the binary, that users extend with deny rules of their
// own, compiled once and evaluated for every token request.
package broker

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/metrics"
	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/steward-dev/steward/internal/snapshot"
	"github.com/steward-dev/steward/internal/workload"
)

//go:embed rego/*.rego
var policyFS embed.FS

// customPrefix is the package path every user decision rule lives under,
// one level down (customDepth terms: data.steward.broker.custom.NAME).
const (
	customPrefix = "data.steward.broker.custom."
	customDepth  = 5
)

// Default grace periods.
const (
	DefaultReviewGrace   = 30 * 24 * time.Hour
	DefaultRotationGrace = 7 * 24 * time.Hour
)

// DecisionOptions configure a Decider.
type DecisionOptions struct {
	// Dirs are directories of user Rego files whose packages live under
	// steward.broker.custom and whose deny rules add reasons. Files ending
	// in _test.rego are skipped.
	Dirs []string
	// ReviewGrace is how long past its due date a review may be before
	// issuance is denied (default DefaultReviewGrace).
	ReviewGrace time.Duration
	// RotationGrace is how long past its rotation deadline a secret may be
	// before issuance is denied (default DefaultRotationGrace).
	RotationGrace time.Duration
	// NoMemo evaluates the policy for every request. By default a
	// decision is remembered for the rest of its second and reused for
	// requests with the same input (see Decider.Decide).
	NoMemo bool
	// DenyFindings are posture rule ids (NHI-SEC-01) and severities
	// (critical): an open finding against the identity whose rule or
	// severity is listed denies issuance (reason open_finding). Empty, the
	// default, denies on none.
	DenyFindings []string
}

// Input is what one decision is made on. It never holds a secret value.
type Input struct {
	// Workload is the authenticated caller.
	Workload *workload.Workload
	// Identity is the Identity the workload asks a token for.
	Identity *snapshot.Identity
	// Killed is true while the identity's kill switch is on.
	Killed bool
	// Secret is the state of the identity's current secret.
	Secret SecretState
	// Review is the identity's review status.
	Review ReviewStatus
	// Findings are the posture findings open against the identity.
	Findings []Finding
	// Prepared, when made by Prepare from this Identity and these Findings,
	// spares converting them for every decision.
	Prepared *Prepared
	// Now is the decision time (default time.Now).
	Now time.Time
}

// SecretState is what the decision knows of an identity's current secret:
// never the value.
type SecretState struct {
	// Source says where the state comes from: SourceStore, or
	// SourceDeclared for the manifest's dates when the store holds no
	// secret for the identity.
	Source string
	// Version is the secret store's active version number (0 when unknown
	// or when no version is active).
	Version int
	// CreatedAt is when this version was stored; zero when unknown.
	CreatedAt time.Time
	// RotatedAt is when this version became active; zero when unknown (the
	// age then counts from CreatedAt).
	RotatedAt time.Time
	// RotationDeadline is when it must be rotated by; zero for none.
	RotationDeadline time.Time
	// Rotation is the state of an unfinished rotation's new version
	// (staged or verified), or "" when none is in progress.
	Rotation string
}

// Where a SecretState comes from.
const (
	SourceStore    = "store"
	SourceDeclared = "declared"
)

// ReviewStatus is an identity's review standing.
type ReviewStatus struct {
	// LastReviewed is the last recorded review; zero for none.
	LastReviewed time.Time
	// Due is when the next review is due; zero for no cadence.
	Due time.Time
}

// Finding is an open posture finding against the identity: the rule's id
// and the finding's severity, with its message.
type Finding struct {
	Rule     string `json:"rule"`
	Severity string `json:"severity"`
	Message  string `json:"message"`
}

// Decision is the outcome: allow or deny, and why. A denial lists every
// reason, sorted by code; an allowance carries one "allowed" reason naming
// the consumer.
type Decision struct {
	Allow   bool     `json:"allow"`
	Reasons []Reason `json:"reasons"`
	// Consumer is the index in Identity.Consumers the workload matched, or
	// -1.
	Consumer int `json:"consumer"`
}

// Reason is one reason of a decision.
type Reason struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Decider evaluates the runtime policy. It is safe for concurrent use.
type Decider struct {
	query                      rego.PreparedEvalQuery
	reviewGrace, rotationGrace time.Duration
	settings                   ast.Value // input.settings, the same for every decision
	digest                     string
	now                        atomic.Pointer[nowStamp]
	memoize                    bool
	memo                       atomic.Pointer[memoTable]
}

// nowStamp is the last decision time formatted, reused by the decisions
// within the same second.
type nowStamp struct {
	unix  int64
	stamp string
}

// stampNow is stamp(t) for decision times, formatting each second once.
func (d *Decider) stampNow(t time.Time) string {
	unix := t.Unix()
	if c := d.now.Load(); c != nil && c.unix == unix {
		return c.stamp
	}
	c := &nowStamp{unix: unix, stamp: stamp(t)}
	d.now.Store(c)
	return c.stamp
}

// NewDecider parses and compiles the built-in policy and the user rules
// once, and prepares the decision query. Errors name the file and line.
func NewDecider(ctx context.Context, opts DecisionOptions) (*Decider, error) {
	if opts.ReviewGrace <= 0 {
		opts.ReviewGrace = DefaultReviewGrace
	}
	if opts.RotationGrace <= 0 {
		opts.RotationGrace = DefaultRotationGrace
	}
	mods, err := decisionModules(opts.Dirs)
	if err != nil {
		return nil, err
	}
	compiler := ast.NewCompiler()
	if compiler.Compile(mods); compiler.Failed() {
		return nil, fmt.Errorf("compile decision policy: %w", compiler.Errors)
	}
	pq, err := rego.New(
		rego.Compiler(compiler),
		rego.Query("x := data.steward.broker.decision"),
	).PrepareForEval(ctx)
	if err != nil {
		return nil, fmt.Errorf("prepare decision policy: %w", err)
	}
	settings, err := ast.InterfaceToValue(map[string]any{"denyFindings": stringList(opts.DenyFindings, false)})
	if err != nil {
		return nil, fmt.Errorf("decision settings: %w", err)
	}
	return &Decider{
		query: pq, reviewGrace: opts.ReviewGrace, rotationGrace: opts.RotationGrace, settings: settings, digest: digest(mods),
		memoize: !opts.NoMemo && deterministic(compiler),
	}, nil
}

// Policy identifies the rules in force, built-in and custom, as
// "sha256:" and the hex digest of their file names and parsed text, for
// audit records to say which policy made a decision.
func (d *Decider) Policy() string { return d.digest }

// digest hashes the modules in name order.
func digest(mods map[string]*ast.Module) string {
	names := make([]string, 0, len(mods))
	for name := range mods {
		names = append(names, name)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, name := range names {
		fmt.Fprintf(h, "%s\x00%s\x00", name, mods[name])
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// decisionModules parses the built-in policy and the user rules in dirs.
func decisionModules(dirs []string) (map[string]*ast.Module, error) {
	mods := map[string]*ast.Module{}
	var errs []error
	builtin, err := fs.Glob(policyFS, "rego/*.rego")
	if err != nil {
		return nil, err
	}
	for _, path := range builtin {
		if strings.HasSuffix(path, "_test.rego") {
			continue
		}
		src, err := policyFS.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read built-in decision policy: %w", err)
		}
		name := "builtin/broker/" + strings.TrimPrefix(path, "rego/")
		if mods[name], err = parseRego(name, src); err != nil {
			return nil, err
		}
	}
	for _, dir := range dirs {
		n := 0
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() || !strings.HasSuffix(path, ".rego") {
				return nil
			}
			n++
			if strings.HasSuffix(path, "_test.rego") {
				return nil
			}
			src, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			m, err := parseRego(path, src)
			if err != nil {
				errs = append(errs, err)
				return nil
			}
			// One package level below custom: the policy gathers
			// data.steward.broker.custom[_].deny, and a deny rule any
			// deeper would silently never apply.
			if pkg := m.Package.Path.String(); !strings.HasPrefix(pkg, customPrefix) || len(m.Package.Path) != customDepth {
				errs = append(errs, fmt.Errorf("%s:%d: package %s: decision rules live in a package directly under steward.broker.custom, e.g. package steward.broker.custom.acme",
					path, m.Package.Location.Row, strings.TrimPrefix(pkg, "data.")))
				return nil
			}
			mods[path] = m
			return nil
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("decision policy directory %s: %w", dir, err))
		} else if n == 0 {
			errs = append(errs, fmt.Errorf("decision policy directory %s: no .rego files", dir))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return mods, nil
}

// parseRego parses one Rego v1 file.
func parseRego(name string, src []byte) (*ast.Module, error) {
	m, err := ast.ParseModuleWithOpts(name, string(src), ast.ParserOptions{RegoVersion: ast.RegoV1})
	if err != nil {
		return nil, fmt.Errorf("parse Rego: %w", err)
	}
	return m, nil
}

// Decide evaluates the policy for one request. An error (a broken user
// rule, a cancelled context) is not a decision: the caller must refuse the
// request.
//
// A decision is remembered for the rest of its second (the input's now)
// when the policy calls no non-deterministic built-in, the workload
// carries its credential's digest and the rest of the input comes from
// in.Prepared: a request in the same second with the same credential,
// Prepared, kill switch and secret age has the same input, and gets the
// same decision without an evaluation. Its Reasons are then shared with
// the other requests given it, and must not be modified.
func (d *Decider) Decide(ctx context.Context, in Input) (Decision, error) {
	if in.Workload == nil || in.Identity == nil {
		return Decision{}, errors.New("decide: workload and identity are required")
	}
	if in.Now.IsZero() {
		in.Now = time.Now()
	}
	key, remembered := d.memoKeyFor(&in)
	unix := in.Now.Unix()
	if remembered {
		if dec, ok := d.recall(unix, key); ok {
			return dec, nil
		}
	}
	dec, err := d.evaluate(ctx, &in)
	if err == nil && remembered {
		d.remember(unix, key, dec)
	}
	return dec, err
}

// evaluate runs the policy on in.
func (d *Decider) evaluate(ctx context.Context, in *Input) (Decision, error) {
	consumer := workload.MatchConsumer(in.Workload, in.Identity.Consumers)
	// No metrics: a decision's timers cost allocations nobody reads. The
	// result stays a policy value, read by decodeDecision without a
	// conversion to maps first.
	rs, err := d.query.Eval(ctx, rego.EvalParsedInput(d.inputValue(in, consumer)),
		rego.EvalMetrics(metrics.NoOp()), rego.EvalGenerateJSON(rawResult))
	if err != nil {
		return Decision{}, fmt.Errorf("evaluate decision policy: %w", err)
	}
	if len(rs) != 1 {
		return Decision{}, fmt.Errorf("decision policy gave %d results, want 1 (does a custom rule define decision?)", len(rs))
	}
	dec, err := decodeDecision(rs[0].Bindings["x"])
	if err != nil {
		return Decision{}, err
	}
	dec.Consumer = consumer
	if dec.Allow {
		dec.Reasons = []Reason{{Code: "allowed", Message: "workload " + in.Workload.String() + " is consumer " + strconv.Itoa(consumer+1) +
			" of identity " + in.Identity.Name + " and no deny rule applies"}}
	}
	return dec, nil
}

// rawResult keeps a query result as its policy value.
func rawResult(t *ast.Term, _ *rego.EvalContext) (any, error) { return t.Value, nil }

// Keys of the decision and reason objects.
var (
	allowKey   = ast.StringTerm("allow")
	reasonsKey = ast.StringTerm("reasons")
	codeKey    = ast.StringTerm("code")
	messageKey = ast.StringTerm("message")
)

// decodeDecision reads the policy's decision object.
func decodeDecision(v any) (Decision, error) {
	obj, ok := v.(ast.Object)
	if !ok {
		return Decision{}, fmt.Errorf("decision policy: decision %v is not an object", v)
	}
	t := obj.Get(allowKey)
	if t == nil {
		return Decision{}, errors.New("decision policy: decision.allow is not a boolean")
	}
	allow, ok := t.Value.(ast.Boolean)
	if !ok {
		return Decision{}, errors.New("decision policy: decision.allow is not a boolean")
	}
	var list []*ast.Term
	if t := obj.Get(reasonsKey); t != nil {
		switch c := t.Value.(type) {
		case ast.Set:
			list = c.Slice()
		case *ast.Array:
			for i := range c.Len() {
				list = append(list, c.Elem(i))
			}
		}
	}
	dec := Decision{Allow: bool(allow), Reasons: make([]Reason, 0, len(list))}
	for _, r := range list {
		code, msg := reasonField(r, codeKey), reasonField(r, messageKey)
		if msg == "" {
			return Decision{}, fmt.Errorf("decision policy: reason %v has no message (deny with {\"code\": ..., \"message\": ...} or a string)", r)
		}
		if code == "" {
			code = "custom"
		}
		dec.Reasons = append(dec.Reasons, Reason{Code: code, Message: msg})
	}
	if dec.Allow != (len(dec.Reasons) == 0) {
		return Decision{}, fmt.Errorf("decision policy: allow is %v with %d reasons", dec.Allow, len(dec.Reasons))
	}
	sort.Slice(dec.Reasons, func(i, j int) bool {
		a, b := dec.Reasons[i], dec.Reasons[j]
		return a.Code < b.Code || a.Code == b.Code && a.Message < b.Message
	})
	return dec, nil
}

// reasonField is the string field key of reason r, or "" when r is not an
// object or the field is not a string.
func reasonField(r *ast.Term, key *ast.Term) string {
	obj, ok := r.Value.(ast.Object)
	if !ok {
		return ""
	}
	if t := obj.Get(key); t != nil {
		if s, ok := t.Value.(ast.String); ok {
			return string(s)
		}
	}
	return ""
}
