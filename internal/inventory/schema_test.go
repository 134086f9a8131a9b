package inventory

import (
	"bytes"
	"encoding/json"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/parser"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// update rewrites the committed schema:
//
//	go test ./internal/inventory -run TestSchemaUpToDate -update
var update = flag.Bool("update", false, "rewrite schema/steward.schema.json from Schema()")

const schemaFile = "../../schema/steward.schema.json"

// TestSchemaUpToDate checks that the committed schema is what Schema()
// generates; with -update it rewrites the committed file.
func TestSchemaUpToDate(t *testing.T) {
	got, err := Schema()
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(schemaFile, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(schemaFile)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/inventory -run TestSchemaUpToDate -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is out of date: run go test ./internal/inventory -run TestSchemaUpToDate -update", schemaFile)
	}
}

// compiledSchema compiles the committed schema, with format assertions on.
func compiledSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(SchemaID, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(SchemaID)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// yamlDocuments converts each non-empty document of a YAML stream to a JSON
// value, as an editor does before applying a schema.
func yamlDocuments(t *testing.T, src []byte) ([]any, error) {
	t.Helper()
	f, err := parser.ParseBytes(src, 0)
	if err != nil {
		return nil, err
	}
	var docs []any
	for _, d := range f.Docs {
		if d.Body == nil {
			continue
		}
		var v any
		if err := yaml.NodeToValue(d.Body, &v); err != nil {
			return nil, err
		}
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			return nil, err
		}
		docs = append(docs, inst)
	}
	return docs, nil
}

func testdataFiles(t testing.TB, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && isYAMLName(p) {
			files = append(files, p)
		}
		return err
	})
	if err != nil || len(files) == 0 {
		t.Fatalf("no YAML under %s: %v", dir, err)
	}
	return files
}

func TestSchemaAcceptsValidManifests(t *testing.T) {
	t.Parallel()
	s := compiledSchema(t)
	for _, file := range testdataFiles(t, "testdata/valid") {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		docs, err := yamlDocuments(t, src)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		for i, doc := range docs {
			if err := s.Validate(doc); err != nil {
				t.Errorf("%s: document %d rejected: %v", file, i+1, err)
			}
		}
	}
}

// TestSchemaRejectsInvalidManifests checks that the schema rejects each file
// under testdata/invalid, except those marked "# schema: accepts": the
// problems the schema cannot see (names and references across documents,
// YAML merge keys and tags, which are resolved before a schema sees the
// data).
func TestSchemaRejectsInvalidManifests(t *testing.T) {
	t.Parallel()
	s := compiledSchema(t)
	for _, file := range testdataFiles(t, "testdata/invalid") {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		accepts := bytes.Contains(src, []byte("\n# schema: accepts")) || bytes.HasPrefix(src, []byte("# schema: accepts"))
		docs, err := yamlDocuments(t, src)
		rejected := err != nil
		for _, doc := range docs {
			if s.Validate(doc) != nil {
				rejected = true
			}
		}
		if rejected == accepts {
			t.Errorf("%s: schema rejected=%v, want %v", file, rejected, !accepts)
		}
	}
}

func identityDoc(spec string) string {
	return "apiVersion: steward.dev/v1alpha1\nkind: Identity\nmetadata: {name: agree}\nspec: " + spec + "\n"
}

func exceptionDoc(spec string) string {
	return "apiVersion: steward.dev/v1alpha1\nkind: Exception\nmetadata: {name: agree}\nspec: " + spec + "\n"
}

// TestSchemaAgreesWithLoader runs single documents through both the loader
// and the schema: both must accept or both reject.
func TestSchemaAgreesWithLoader(t *testing.T) {
	t.Parallel()
	s := compiledSchema(t)
	// References resolve against these.
	companions := "apiVersion: steward.dev/v1alpha1\nkind: Team\nmetadata: {name: platform}\nspec: {}\n---\n" +
		"apiVersion: steward.dev/v1alpha1\nkind: Identity\nmetadata: {name: billing-sync-prod}\nspec: {}\n"
	tests := []struct {
		name string
		doc  string
		ok   bool
	}{
		{"empty identity spec", identityDoc("{}"), true},
		{"owner", identityDoc("{owner: platform}"), true},
		{"vendor null", identityDoc("{vendor: null}"), true},
		{"vendor", identityDoc("{vendor: Northwind}"), true},
		{"plain date", identityDoc("{credential: {rotatedAt: 2026-10-01}}"), true},
		{"quoted date", identityDoc(`{credential: {rotatedAt: "2026-10-01"}}`), true},
		{"integral float", identityDoc("{credential: {rotationDays: 90.0}}"), true},
		{"inline secret loads", identityDoc("{credential: {secret: 3MVG9abcDEF}}"), true},
		{"viewAll action", identityDoc("{access: {objects: {Account: [read, viewAll]}}}"), true},
		{"spiffe consumer", identityDoc("{consumers: [{spiffe: 'spiffe://acme.org/x'}]}"), true},
		{"block purpose", identityDoc("\n  purpose: |\n    two\n    lines"), true},
		{"labels", "apiVersion: steward.dev/v1alpha1\nkind: Team\nmetadata: {name: t, labels: {tier: '3'}}\nspec: {}\n", true},
		{"user rule", exceptionDoc("{identity: billing-sync-prod, rule: ACME-DATA-01}"), true},
		{"built-in rule", exceptionDoc("{identity: billing-sync-prod, rule: NHI-RUN-02, expires: 2026-12-31}"), true},
		{"name at 253", "apiVersion: steward.dev/v1alpha1\nkind: Team\nmetadata: {name: " + strings.Repeat("a", 253) + "}\nspec: {}\n", true},

		{"integer for string", identityDoc("{service: 123}"), false},
		{"string for boolean", identityDoc(`{agent: "true"}`), false},
		{"null string", identityDoc("{purpose: null}"), false},
		{"integer vendor", identityDoc("{vendor: 5}"), false},
		{"enum case", identityDoc("{environment: Production}"), false},
		{"below minimum", identityDoc("{credential: {rotationDays: 0}}"), false},
		{"fraction", identityDoc("{credential: {rotationDays: 1.5}}"), false},
		{"timestamp for date", identityDoc("{credential: {rotatedAt: 2026-10-01T00:00:00Z}}"), false},
		{"impossible date", identityDoc("{credential: {rotatedAt: 2026-02-30}}"), false},
		{"empty consumer", identityDoc("{consumers: [{}]}"), false},
		{"two consumer kinds", identityDoc("{consumers: [{spiffe: 'spiffe://a', oidc: {issuer: 'https://i', subject: s}}]}"), false},
		{"oidc without subject", identityDoc("{consumers: [{oidc: {issuer: 'https://i'}}]}"), false},
		{"relative issuer", identityDoc("{consumers: [{oidc: {issuer: issuer.example, subject: s}}]}"), false},
		{"relative url", identityDoc("{salesforce: {url: /services}}"), false},
		{"spiffe scheme", identityDoc("{consumers: [{spiffe: 'https://a'}]}"), false},
		{"unknown action", identityDoc("{access: {objects: {Account: [fly]}}}"), false},
		{"scalar for list", identityDoc("{access: {scopes: api}}"), false},
		{"unknown spec field", identityDoc("{owners: [platform]}"), false},
		{"unknown nested field", identityDoc("{credential: {value: x}}"), false},
		{"null spec", identityDoc("null"), false},
		{"name too long", "apiVersion: steward.dev/v1alpha1\nkind: Team\nmetadata: {name: " + strings.Repeat("a", 254) + "}\nspec: {}\n", false},
		{"name pattern", "apiVersion: steward.dev/v1alpha1\nkind: Team\nmetadata: {name: Bad_Name}\nspec: {}\n", false},
		{"integer label", "apiVersion: steward.dev/v1alpha1\nkind: Team\nmetadata: {name: t, labels: {tier: 3}}\nspec: {}\n", false},
		{"missing spec", "apiVersion: steward.dev/v1alpha1\nkind: Team\nmetadata: {name: t}\n", false},
		{"missing metadata", "apiVersion: steward.dev/v1alpha1\nkind: Team\nspec: {}\n", false},
		{"extra top-level field", "apiVersion: steward.dev/v1alpha1\nkind: Team\nmetadata: {name: t}\nspec: {}\nstatus: {}\n", false},
		{"team field in identity", identityDoc("{members: [a]}"), false},
		{"unsupported version", "apiVersion: steward.dev/v2\nkind: Team\nmetadata: {name: t}\nspec: {}\n", false},
		{"unknown kind", "apiVersion: steward.dev/v1alpha1\nkind: Robot\nmetadata: {name: t}\nspec: {}\n", false},
		{"short rule number", exceptionDoc("{identity: billing-sync-prod, rule: NHI-RUN-2}"), false},
		{"lower-case rule", exceptionDoc("{identity: billing-sync-prod, rule: acme-data-01}"), false},
		{"missing rule", exceptionDoc("{identity: billing-sync-prod}"), false},
		{"resource instead of identity", exceptionDoc("{resource: Data Loader, rule: NHI-MON-03}"), true},
		{"neither identity nor resource", exceptionDoc("{rule: NHI-MON-03}"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := writeFiles(t, map[string]string{"case.yaml": tt.doc, "companions.yaml": companions})
			_, err := Load([]string{dir}, Options{RequireManifests: true})
			if loaderOK := err == nil; loaderOK != tt.ok {
				t.Errorf("loader accepted=%v, want %v: %v", loaderOK, tt.ok, err)
			}
			docs, err := yamlDocuments(t, []byte(tt.doc))
			if err != nil || len(docs) != 1 {
				t.Fatalf("convert: %v", err)
			}
			if schemaOK := s.Validate(docs[0]) == nil; schemaOK != tt.ok {
				t.Errorf("schema accepted=%v, want %v", schemaOK, tt.ok)
			}
		})
	}
}

// TestTagsUnderstood checks that every jsonschema tag option on the manifest
// types is one the loader enforces, so that the schema cannot require what
// the loader lets through.
func TestTagsUnderstood(t *testing.T) {
	t.Parallel()
	defer func() {
		if r := recover(); r != nil {
			t.Fatal(r)
		}
	}()
	for _, typ := range documentTypes {
		walkStructs(typ, map[string]bool{})
	}
}

func walkStructs(t reflect.Type, seen map[string]bool) {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || t == dateType || seen[t.String()] {
		return
	}
	seen[t.String()] = true
	for _, f := range structInfoOf(t).fields {
		walkStructs(f.typ, seen)
	}
}
