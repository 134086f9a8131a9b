package cli

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/steward-dev/steward/internal/repotest"
	"github.com/steward-dev/steward/internal/sprawl"
	"github.com/steward-dev/steward/internal/sprawl/sprawltest"
)

// writeSprawlSamples plants one of every credential format under a new
// directory and returns it with the samples.
func writeSprawlSamples(t *testing.T, seed uint64) (string, []sprawltest.Sample) {
	t.Helper()
	dir := t.TempDir()
	samples := sprawltest.New(seed).Samples()
	for i, s := range samples {
		writeFile(t, filepath.Join(dir, fmt.Sprintf("%02d", i), s.Name), s.Text)
	}
	return dir, samples
}

type sprawlReport struct {
	Findings []struct {
		Rule       string                            `json:"rule"`
		Severity   string                            `json:"severity"`
		Message    string                            `json:"message"`
		Credential *sprawl.Finding                   `json:"credential"`
		Resource   struct{ Kind, Name, File string } `json:"resource"`
	} `json:"findings"`
	Suppressed []struct {
		SuppressedBy string `json:"suppressedBy"`
	} `json:"suppressed"`
	Errors  []sprawl.Problem `json:"errors"`
	Summary map[string]int   `json:"summary"`
	Stats   sprawl.Stats     `json:"stats"`
}

func TestSprawlScanJSON(t *testing.T) {
	dir, samples := writeSprawlSamples(t, 5)
	code, stdout, stderr := run(t, "sprawl", "scan", dir, "-o", "json")
	if code != ExitFindings {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	var r sprawlReport
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("decode: %v\n%s", err, stdout)
	}
	want := 0
	for _, s := range samples {
		want += len(s.Expect)
	}
	if len(r.Findings) != want {
		t.Errorf("%d findings, want %d", len(r.Findings), want)
	}
	for _, f := range r.Findings {
		c := f.Credential
		if f.Rule != sprawl.RuleUnmanaged || c == nil || c.File == "" || c.Line == 0 || c.Detector == "" || c.Excerpt == "" || c.Confidence == "" {
			t.Errorf("incomplete finding: %+v", f)
			continue
		}
		wantSev := "high"
		if c.Kind == sprawl.KindConsumerKey {
			wantSev = "medium"
		}
		if f.Severity != wantSev || f.Resource.Kind != "Secret" || f.Resource.Name != c.Fingerprint {
			t.Errorf("%s: severity %s, resource %+v", c.Location(), f.Severity, f.Resource)
		}
	}
	if r.Summary["high"] == 0 || r.Stats.Files != int64(len(samples)) {
		t.Errorf("summary %v, stats %+v", r.Summary, r.Stats)
	}
}

func TestSprawlNeverPrintsASecret(t *testing.T) {
	dir, samples := writeSprawlSamples(t, 6)
	for _, format := range []string{"table", "json", "sarif", "markdown"} {
		_, stdout, stderr := run(t, "sprawl", "scan", dir, "-o", format)
		for _, s := range samples {
			for _, e := range s.Expect {
				for i := max(0, e.Shown-9); i+10 <= len(e.Secret); i++ {
					if part := e.Secret[i : i+10]; strings.Contains(stdout+stderr, part) {
						t.Fatalf("-o %s shows part of a %s (%s, offset %d)", format, e.Kind, s.Format, i)
					}
				}
			}
		}
	}
}

func TestSprawlExitCodes(t *testing.T) {
	dir, _ := writeSprawlSamples(t, 7)
	clean := t.TempDir()
	writeFile(t, filepath.Join(clean, "main.go"), "package main\n")
	keyOnly := t.TempDir()
	writeFile(t, filepath.Join(keyOnly, "app.connectedApp-meta.xml"), "<consumerKey>"+sprawltest.New(1).ConsumerKey()+"</consumerKey>\n")
	badAllow := filepath.Join(t.TempDir(), "allow")
	writeFile(t, badAllow, "not a fingerprint\n")
	tests := []struct {
		name string
		args []string
		want int
		msg  string
	}{
		{"clean", []string{clean}, ExitOK, ""},
		{"findings", []string{dir}, ExitFindings, ""},
		{"fail-on none", []string{dir, "--fail-on", "none"}, ExitOK, ""},
		{"consumer key below the default threshold", []string{keyOnly}, ExitOK, ""},
		{"consumer key at medium", []string{keyOnly, "--fail-on", "medium"}, ExitFindings, ""},
		{"missing path, nothing scanned", []string{filepath.Join(clean, "nope")}, ExitUsage, "nothing could be scanned"},
		{"missing path beside a good one", []string{filepath.Join(clean, "nope"), dir}, ExitFindings, ""},
		{"no path", nil, ExitUsage, "no PATH"},
		{"not a repository", []string{"--git", clean}, ExitUsage, "nothing could be scanned"},
		{"ref without git", []string{dir, "--ref", "main"}, ExitUsage, "--ref needs --git"},
		{"bad format", []string{dir, "-o", "xml"}, ExitUsage, "unknown output format"},
		{"bad allow-list", []string{dir, "--allowlist", badAllow}, ExitUsage, "allow:1: not a fingerprint"},
		{"bad fail-on", []string{dir, "--fail-on", "severe"}, ExitUsage, "invalid --fail-on"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := run(t, append([]string{"sprawl", "scan"}, tc.args...)...)
			if code != tc.want {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tc.want, stderr)
			}
			if tc.msg != "" && !strings.Contains(stderr, tc.msg) {
				t.Errorf("stderr %q lacks %q", stderr, tc.msg)
			}
			if tc.want == ExitUsage && !strings.Contains(stderr, "Try: ") {
				t.Errorf("no hint on what to do next: %q", stderr)
			}
			_ = stdout
		})
	}
}

func TestSprawlAllowList(t *testing.T) {
	g := sprawltest.New(8)
	accepted, fresh := g.HexSecret(), g.HexSecret()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "fixture.env"), "SF_CONSUMER_SECRET="+accepted+"\n")
	allow := filepath.Join(t.TempDir(), "allow")
	writeFile(t, allow, "# test fixture\n"+sprawl.Fingerprint([]byte(accepted))+" # fake secret of the test org\n")
	code, stdout, stderr := run(t, "sprawl", "scan", dir, "--allowlist", allow, "-o", "json")
	if code != ExitOK {
		t.Fatalf("allow-listed only: exit %d\n%s", code, stderr)
	}
	var r sprawlReport
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Findings) != 0 || len(r.Suppressed) != 1 || r.Suppressed[0].SuppressedBy != sprawl.SuppressedBy {
		t.Fatalf("findings %d, suppressed %+v", len(r.Findings), r.Suppressed)
	}
	// A new secret on the same line is still found.
	writeFile(t, filepath.Join(dir, "fixture.env"), "SF_CONSUMER_SECRET="+accepted+" SF_CONSUMER_SECRET_2="+fresh+"\n")
	if code, _, _ := run(t, "sprawl", "scan", dir, "--allowlist", allow); code != ExitFindings {
		t.Errorf("new secret on an allow-listed line: exit %d, want %d", code, ExitFindings)
	}
}

// TestSprawlCorpus scans the real-world metadata corpus: the two real
// consumer keys are reported, the placeholder key and the references to a
// Consumer_Secret__c field without a value are not.
func TestSprawlCorpus(t *testing.T) {
	corpus := filepath.Join(repotest.Root(t), "..", "shared", "corpus")
	if _, err := os.Stat(corpus); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("corpus not present in CI: %v", err)
		}
		t.Skipf("corpus not present: %v", err)
	}
	code, stdout, stderr := run(t, "sprawl", "scan", corpus, "-o", "json", "--fail-on", "medium")
	if code != ExitFindings {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	var r sprawlReport
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range r.Findings {
		got = append(got, fmt.Sprintf("%s:%d %s %s", filepath.Base(f.Credential.File), f.Credential.Line, f.Credential.Kind, f.Severity))
	}
	want := "OAppS_Omni_Channel.connectedApp-meta.xml:10 consumer-key medium, Postman.connectedApp-meta.xml:7 consumer-key medium"
	if strings.Join(got, ", ") != want {
		t.Errorf("findings:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), want)
	}
	if len(r.Errors) != 0 {
		t.Errorf("errors: %v", r.Errors)
	}
}

// TestSprawlSARIFValidates checks the SARIF output against the official
// SARIF 2.1.0 schema, which github.com/owenrumney/go-sarif embeds.
func TestSprawlSARIFValidates(t *testing.T) {
	sch := sarifSchema(t)
	dir, _ := writeSprawlSamples(t, 9)
	// Six layers of base64: an input problem with a file and line.
	g := sprawltest.New(10)
	deep := g.ConsumerKey() + ":" + g.HexSecret()
	for range 6 {
		deep = base64.StdEncoding.EncodeToString([]byte(deep))
	}
	writeFile(t, filepath.Join(dir, "deep.env"), "# nested\nX="+deep+"\n")
	for _, args := range [][]string{{dir}, {t.TempDir()}, {filepath.Join(dir, "missing"), dir}} {
		_, stdout, stderr := run(t, append([]string{"sprawl", "scan", "-o", "sarif"}, args...)...)
		doc, err := jsonschema.UnmarshalJSON(strings.NewReader(stdout))
		if err != nil {
			t.Fatalf("not JSON: %v\n%s", err, stderr)
		}
		if err := sch.Validate(doc); err != nil {
			t.Fatalf("%v: invalid SARIF: %v", args, err)
		}
		if args[0] == dir && !strings.Contains(stdout, "base64 nested more than 4 layers") {
			t.Errorf("the nesting problem has no location:\n%s", stdout)
		}
	}
}

func sarifSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	const (
		module = "github.com/owenrumney/go-sarif/v3"
		file   = "pkg/report/v210/sarif/schema.go"
		id     = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
		sha    = "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e"
	)
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", module).Output()
	if err != nil || len(bytes.TrimSpace(out)) == 0 {
		t.Fatalf("locate %s: %v", module, err)
	}
	path := filepath.Join(string(bytes.TrimSpace(out)), filepath.FromSlash(file))
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	var schema []byte
	ast.Inspect(f, func(n ast.Node) bool {
		if spec, ok := n.(*ast.ValueSpec); ok && len(spec.Names) == 1 && spec.Names[0].Name == "schema" {
			if lit, ok := spec.Values[0].(*ast.BasicLit); ok {
				s, err := strconv.Unquote(lit.Value)
				if err != nil {
					t.Fatal(err)
				}
				schema = []byte(s)
			}
		}
		return schema == nil
	})
	if sum := sha256.Sum256(schema); hex.EncodeToString(sum[:]) != sha {
		t.Fatalf("%s no longer embeds the OASIS SARIF 2.1.0 errata 01 schema", module)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(id, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(id)
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

// TestSprawlGolden pins the table and JSON output for one of every format,
// generated from a fixed seed and scanned by relative path.
func TestSprawlGolden(t *testing.T) {
	old := version
	version = "test"
	t.Cleanup(func() { version = old })
	testdata, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	dir, _ := writeSprawlSamples(t, 1)
	t.Chdir(dir)
	for _, format := range []string{"table", "json"} {
		t.Run(format, func(t *testing.T) {
			_, stdout, _ := run(t, "sprawl", "scan", ".", "-o", format)
			golden := filepath.Join(testdata, "sprawl."+format)
			if *update {
				if err := os.WriteFile(golden, []byte(stdout), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./internal/cli -run TestSprawlGolden -update and review the file)", err)
			}
			if diff := cmp.Diff(string(want), stdout); diff != "" {
				t.Errorf("output differs from %s (-want +got):\n%s", golden, diff)
			}
		})
	}
}

// TestSprawlWithStore checks the correlation end to end: a copy of a
// secret kept in the store is a critical leak of that identity's version,
// with a rotation finding; another credential stays unmanaged.
func TestSprawlWithStore(t *testing.T) {
	e := newStoreEnv(t)
	g := sprawltest.New(13)
	key, secret, loose := g.ConsumerKey(), g.HexSecret(), g.HexSecret()
	e.must(`{"url": "https://acme.my.salesforce.com", "consumerKey": "`+key+`", "consumerSecret": "`+secret+`"}`,
		"secret", "put", "billing-sync-prod")
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "prod.env"), "SF_CLIENT_ID="+key+"\nSF_CLIENT_SECRET="+secret+"\n")
	writeFile(t, filepath.Join(dir, "other.env"), "SF_CONSUMER_SECRET="+loose+"\n")
	code, stdout, stderr := e.run("", "sprawl", "scan", dir, "--store", "-o", "json")
	if code != ExitFindings {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	var r sprawlReport
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range r.Findings {
		got = append(got, f.Rule+" "+f.Severity+" "+filepath.Base(f.Resource.File))
		if f.Rule == sprawl.RuleLeak && f.Severity == "critical" && !strings.Contains(f.Message, "identity billing-sync-prod (secret billing-sync-prod, version 1)") {
			t.Errorf("leak message: %s", f.Message)
		}
	}
	want := "NHI-SEC-01 critical prod.env, NHI-SEC-04 critical prod.env, NHI-INV-01 high other.env, NHI-SEC-01 info prod.env"
	if strings.Join(got, ", ") != want {
		t.Errorf("findings:\n  %s\nwant:\n  %s", strings.Join(got, ", "), want)
	}
	for _, out := range e.outputs {
		if strings.Contains(out, secret) || strings.Contains(out, loose) {
			t.Fatal("a secret reached the output")
		}
	}

	// Without the KEK the store cannot be opened: a usage error, no scan.
	delete(e.vars, "STEWARD_KEK")
	if code, _, _ := e.run("", "sprawl", "scan", dir, "--store"); code != ExitUsage {
		t.Errorf("no KEK: exit %d, want %d", code, ExitUsage)
	}
}
