package report

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/steward-dev/steward/internal/policy"

	// The official SARIF 2.1.0 schema comes from this module, which embeds
	// it; importing the package keeps the module in go.mod and makes
	// `go test` download it. See sarifSchemaDoc.
	_ "github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"
)

const (
	// sarifSchemaModule publishes the OASIS SARIF 2.1.0 schema (errata 01)
	// as the constant "schema" in sarifSchemaFile.
	sarifSchemaModule = "github.com/owenrumney/go-sarif/v3"
	sarifSchemaFile   = "pkg/report/v210/sarif/schema.go"
	// sarifSchemaID and sarifSchemaSHA256 identify the OASIS document
	// https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json;
	// the same bytes ship as a file in github.com/securego/gosec/v2's test
	// data. A different hash means the module changed what it embeds.
	sarifSchemaID     = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
	sarifSchemaSHA256 = "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e"
)

// sarifSchemaDoc reads the official SARIF 2.1.0 JSON schema from the module
// cache, out of the Go source that embeds it.
func sarifSchemaDoc(t *testing.T) []byte {
	t.Helper()
	// go test puts the go command that runs it first on PATH.
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", sarifSchemaModule).Output()
	if err != nil {
		t.Fatalf("locate %s: %v", sarifSchemaModule, err)
	}
	dir := strings.TrimSpace(string(out))
	if dir == "" {
		t.Fatalf("%s is not in the module cache; run go mod download", sarifSchemaModule)
	}
	path := filepath.Join(dir, filepath.FromSlash(sarifSchemaFile))
	file, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	var schema []byte
	ast.Inspect(file, func(n ast.Node) bool {
		spec, ok := n.(*ast.ValueSpec)
		if !ok || len(spec.Names) != 1 || spec.Names[0].Name != "schema" || len(spec.Values) != 1 {
			return true
		}
		if lit, ok := spec.Values[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
			s, err := strconv.Unquote(lit.Value)
			if err != nil {
				t.Fatalf("unquote the schema in %s: %v", path, err)
			}
			schema = []byte(s)
		}
		return false
	})
	if schema == nil {
		t.Fatalf("no schema constant in %s", path)
	}
	sum := sha256.Sum256(schema)
	if got := hex.EncodeToString(sum[:]); got != sarifSchemaSHA256 {
		t.Fatalf("schema in %s has SHA-256 %s, want %s (the OASIS SARIF 2.1.0 errata 01 schema)", path, got, sarifSchemaSHA256)
	}
	return schema
}

func compileSARIFSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(sarifSchemaDoc(t)))
	if err != nil {
		t.Fatalf("decode the SARIF schema: %v", err)
	}
	if id := doc.(map[string]any)["id"]; id != sarifSchemaID {
		t.Fatalf("schema id = %v, want %s", id, sarifSchemaID)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(sarifSchemaID, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(sarifSchemaID)
	if err != nil {
		t.Fatalf("compile the SARIF schema: %v", err)
	}
	return sch
}

func TestSARIFValidatesAgainstSchema(t *testing.T) {
	sch := compileSARIFSchema(t)
	base := t.TempDir()
	inside := testReport()
	inside.Findings[0].Resource.File = filepath.Join(base, "force-app", "a b.xml")
	inside.Errors = append(inside.Errors, Problem{File: "/elsewhere/x.xml", Message: "outside the base"}, Problem{Message: "no file at all"})
	reports := map[string]struct {
		r    *Report
		opts Options
	}{
		"full":     {testReport(), Options{}},
		"base dir": {inside, Options{BaseDir: base}},
		"empty":    {&Report{}, Options{}},
	}
	for name, tc := range reports {
		t.Run(name, func(t *testing.T) {
			out := render(t, "sarif", tc.r, tc.opts)
			inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(out))
			if err != nil {
				t.Fatal(err)
			}
			if err := sch.Validate(inst); err != nil {
				t.Errorf("SARIF output is not valid SARIF 2.1.0: %v\n%s", err, out)
			}
		})
	}
}

// sarifDoc decodes SARIF output into the parts the tests look at.
type sarifDoc struct {
	Runs []struct {
		Tool struct {
			Driver struct {
				Rules []struct {
					ID         string `json:"id"`
					Properties struct {
						Tags             []string `json:"tags"`
						SecuritySeverity string   `json:"security-severity"`
					} `json:"properties"`
					DefaultConfiguration struct {
						Level string `json:"level"`
					} `json:"defaultConfiguration"`
				} `json:"rules"`
			} `json:"driver"`
		} `json:"tool"`
		Invocations []struct {
			ExecutionSuccessful bool              `json:"executionSuccessful"`
			Notifications       []json.RawMessage `json:"toolExecutionNotifications"`
		} `json:"invocations"`
		Results []struct {
			RuleID              string            `json:"ruleId"`
			RuleIndex           int               `json:"ruleIndex"`
			Level               string            `json:"level"`
			PartialFingerprints map[string]string `json:"partialFingerprints"`
			Suppressions        []struct {
				Kind          string `json:"kind"`
				Justification string `json:"justification"`
			} `json:"suppressions"`
			Locations []struct {
				PhysicalLocation *struct {
					ArtifactLocation struct {
						URI string `json:"uri"`
					} `json:"artifactLocation"`
					Region *struct {
						StartLine int `json:"startLine"`
					} `json:"region"`
				} `json:"physicalLocation"`
				LogicalLocations []struct {
					Name string `json:"name"`
					Kind string `json:"kind"`
				} `json:"logicalLocations"`
			} `json:"locations"`
		} `json:"results"`
	} `json:"runs"`
}

func decodeSARIF(t *testing.T, r *Report, opts Options) sarifDoc {
	t.Helper()
	var doc sarifDoc
	if err := json.Unmarshal(render(t, "sarif", r, opts), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Runs) != 1 {
		t.Fatalf("%d runs, want 1", len(doc.Runs))
	}
	return doc
}

func TestSARIFResults(t *testing.T) {
	r := testReport()
	run := decodeSARIF(t, r, Options{}).Runs[0]
	rules := run.Tool.Driver.Rules
	if len(run.Results) != len(r.Findings)+len(r.Suppressed) {
		t.Fatalf("%d results, want %d", len(run.Results), len(r.Findings)+len(r.Suppressed))
	}
	wantLevel := map[string]string{"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
	wantScore := map[string]string{"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "1.0"}
	sevOf := map[string]string{}
	for _, f := range r.Findings {
		sevOf[f.Rule] = f.Severity
	}
	fingerprints := map[string]bool{}
	suppressed := 0
	for i, res := range run.Results {
		if res.RuleIndex < 0 || res.RuleIndex >= len(rules) || rules[res.RuleIndex].ID != res.RuleID {
			t.Errorf("result %d: ruleIndex %d does not point at rule %s", i, res.RuleIndex, res.RuleID)
		}
		if sev, ok := sevOf[res.RuleID]; ok && len(res.Suppressions) == 0 && res.Level != wantLevel[sev] {
			t.Errorf("result %d (%s): level %s, want %s", i, sev, res.Level, wantLevel[sev])
		}
		fp := res.PartialFingerprints[fingerprintKey]
		if fp == "" || fingerprints[fp] {
			t.Errorf("result %d: fingerprint %q missing or repeated", i, fp)
		}
		fingerprints[fp] = true
		if len(res.Locations) != 1 || len(res.Locations[0].LogicalLocations) != 1 {
			t.Fatalf("result %d: want one location with a logical location", i)
		}
		if pl := res.Locations[0].PhysicalLocation; pl != nil {
			if strings.Contains(pl.ArtifactLocation.URI, `\`) || strings.HasPrefix(pl.ArtifactLocation.URI, "/") {
				t.Errorf("result %d: uri %q is not a relative path with forward slashes", i, pl.ArtifactLocation.URI)
			}
			if pl.Region != nil && pl.Region.StartLine < 1 {
				t.Errorf("result %d: startLine %d", i, pl.Region.StartLine)
			}
		}
		if len(res.Suppressions) > 0 {
			suppressed++
			if s := res.Suppressions[0]; s.Kind != "external" || s.Justification != "exception marketing-refresh-token" {
				t.Errorf("result %d: suppression %+v", i, s)
			}
		}
	}
	if suppressed != 1 {
		t.Errorf("%d suppressed results, want 1", suppressed)
	}
	for _, rule := range rules {
		sev := ""
		for _, pr := range append(r.Rules, policy.Rule{ID: "ACME-01", Severity: "info"}) {
			if pr.ID == rule.ID {
				sev = pr.Severity
			}
		}
		if rule.Properties.SecuritySeverity != wantScore[sev] || rule.DefaultConfiguration.Level != wantLevel[sev] {
			t.Errorf("rule %s (%s): security-severity %s level %s", rule.ID, sev, rule.Properties.SecuritySeverity, rule.DefaultConfiguration.Level)
		}
	}
	inv := run.Invocations[0]
	if inv.ExecutionSuccessful || len(inv.Notifications) != len(r.Errors)+len(r.Warnings) {
		t.Errorf("invocation: successful %v with %d notifications, want false with %d", inv.ExecutionSuccessful, len(inv.Notifications), len(r.Errors)+len(r.Warnings))
	}
}

func TestSARIFFingerprint(t *testing.T) {
	f := testReport().Findings[2] // NHI-APP-02 on Billing_Sync
	fp := func(f policy.Finding) string { return fingerprint(f, map[string]int{}) }
	base := fp(f)

	moved := f
	moved.Resource.Line += 10
	moved.Message = "Connected app Billing_Sync requests full"
	if fp(moved) != base {
		t.Error("fingerprint changed with the line or message")
	}
	for name, change := range map[string]func(*policy.Finding){
		"rule":     func(f *policy.Finding) { f.Rule = "NHI-APP-03" },
		"identity": func(f *policy.Finding) { f.Identity = ptr("other") },
		"no identity": func(f *policy.Finding) {
			f.Identity = nil
		},
		"kind": func(f *policy.Finding) { f.Resource.Kind = "ExternalClientApp" },
		"name": func(f *policy.Finding) { f.Resource.Name = "Other_App" },
	} {
		g := f
		change(&g)
		if fp(g) == base {
			t.Errorf("fingerprint did not change with the %s", name)
		}
	}

	seen := map[string]int{}
	if first, second := fingerprint(f, seen), fingerprint(f, seen); first != base || second == first {
		t.Errorf("repeated finding: fingerprints %s, %s; want %s then a different one", first, second, base)
	}
}

func TestArtifactURI(t *testing.T) {
	base := t.TempDir()
	abs := func(parts ...string) string { return filepath.Join(append([]string{base}, parts...)...) }
	outside, err := filepath.Abs(filepath.Join(base, "..", "elsewhere", "x.xml"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, file, base, want string
	}{
		{"relative, no base", filepath.Join("force-app", "a.xml"), "", "force-app/a.xml"},
		{"relative with dot, no base", "./force-app/../force-app/a.xml", "", "force-app/a.xml"},
		{"space escaped", "force-app/a b.xml", "", "force-app/a%20b.xml"},
		{"colon in first segment", "a:b.xml", "", "./a:b.xml"},
		{"under base", abs("force-app", "a.xml"), base, "force-app/a.xml"},
		{"outside base", outside, base, "file://" + filepath.ToSlash(outside)},
		{"absolute, no base", abs("a.xml"), "", "file://" + filepath.ToSlash(abs("a.xml"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := artifactURI(tt.file, tt.base); got != tt.want {
				t.Errorf("artifactURI(%q, %q) = %q, want %q", tt.file, tt.base, got, tt.want)
			}
		})
	}
}
