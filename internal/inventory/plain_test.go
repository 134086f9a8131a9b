package inventory

import (
	"fmt"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// checkPlainReader fails the test when r reads data and go.yaml.in/yaml/v3
// builds a different tree for it; it reports whether r read data.
func checkPlainReader(t *testing.T, r *plainReader, data []byte) bool {
	t.Helper()
	if !fastBytes(data) {
		return false
	}
	plain, ok := r.body(data)
	if !ok {
		return false
	}
	want, ok := yamlBody(data)
	if !ok {
		t.Fatalf("plain reader read %q, which go.yaml.in/yaml/v3 rejects", data)
	}
	if got, want := dumpNode(plain), dumpNode(want); got != want {
		t.Fatalf("plain reader read %q as\n%s\ngo.yaml.in/yaml/v3 reads it as\n%s", data, got, want)
	}
	return true
}

// dumpNode prints the parts of a node tree fastChecker reads.
func dumpNode(n *yaml.Node) string {
	var b strings.Builder
	var dump func(n *yaml.Node, depth int)
	dump = func(n *yaml.Node, depth int) {
		fmt.Fprintf(&b, "%s%d style=%d tag=%s value=%q anchor=%q at %d:%d\n", strings.Repeat("  ", depth), n.Kind, n.Style, n.Tag, n.Value, n.Anchor, n.Line, n.Column)
		for _, c := range n.Content {
			dump(c, depth+1)
		}
	}
	dump(n, 0)
	return b.String()
}

func TestPlainReader(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		doc   string
		plain bool
	}{
		{"team", benchTeam, true},
		{"identity", benchIdentity, true},
		{"after a comment and a start marker", benchException, true},
		{"blank lines and indented comments", "a: b\n\n  # note\nc:\n  d: 1\n", true},
		{"compact mappings in a sequence", "a:\n  - b: c\n    d: [e, 'f']\n  -   g: 2026-01-31\n", true},
		{"scalars in a sequence", "a:\n  - b\n  - \"c d\"\n  - 12\n", true},
		{"nested flow collections", "a: {b: [c, {d: e}], f: {}}\ng: []\n", true},
		{"spaces around flow entries", "a: [ b ,  c ]\n", true},
		{"words that look special", "a: yes\nb: on\nc: Off\nd: nulls\n", true},
		{"flow document", "{a: b}\n", false},
		{"comment after content", "a: b # note\n", false},
		{"multi-line plain scalar", "a: b\n  c\n", false},
		{"multi-line flow sequence", "a: [b,\n  c]\n", false},
		{"sequence at its key's indentation", "a:\n- b\n", false},
		{"escape in a double-quoted string", "a: \"b\\nc\"\n", false},
		{"doubled quote in a single-quoted string", "a: 'it''s'\n", false},
		{"null value", "a:\nb: c\n", false},
		{"null word", "a: null\n", false},
		{"capitalised boolean", "a: True\n", false},
		{"leading zero", "a: 090\n", false},
		{"float", "a: 1.5\n", false},
		{"not a date", "a: 2026-13-01\n", false},
		{"quoted key", "'a': b\n", false},
		{"key without a space after the colon", "a:b\n", false},
		{"bad indentation", "a:\n    b: c\n  d: e\n", false},
		{"second document", "a: b\n---\nc: d\n", false},
		{"document end", "a: b\n...\n", false},
		{"directive", "%YAML 1.2\n---\na: b\n", false},
		{"trailing comma", "a: [b, ]\n", false},
		{"colon in a flow scalar", "a: [b:c]\n", false},
		{"text after a flow collection", "a: [b] c\n", false},
		{"indented document", "  a: b\n", false},
		{"top-level sequence", "- a\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := checkPlainReader(t, &plainReader{}, []byte(tt.doc)); got != tt.plain {
				t.Errorf("plain reader took %q = %v, want %v", tt.doc, got, tt.plain)
			}
		})
	}
}

// FuzzPlainReader checks that the plain reader builds the tree
// go.yaml.in/yaml/v3 builds wherever it reads a document at all, with memory
// fresh or left over from another document: one reader reads every document
// of data in turn.
func FuzzPlainReader(f *testing.F) {
	for _, s := range []string{
		benchTeam, benchIdentity, benchException,
		"a:\n  - b: c\n    d: [e, 'f']\n  -   g: 2026-01-31\n",
		"a: {b: [c, {d: e}], f: {}}\ng: []\n",
		"a: b\n\n  # note\nc:\n  d: 1\n",
		benchIdentity + "---\n" + benchTeam,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var r plainReader
		for _, ch := range splitDocuments(data) {
			checkPlainReader(t, &r, ch.data)
		}
	})
}
