package metadata

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sameTree compares the trees fastTree and decodeTree build, node by node:
// names, namespaces, lines, text and the secrets seen. It returns the first
// difference, or "".
func sameTree(fast, slow *tree) string {
	if fmt.Sprint(fast.secrets) != fmt.Sprint(slow.secrets) {
		return fmt.Sprintf("secrets %q, want %q", fast.secrets, slow.secrets)
	}
	var walk func(path string, a, b *node) string
	walk = func(path string, a, b *node) string {
		path += "/" + b.name
		switch {
		case a.name != b.name || a.space != b.space:
			return fmt.Sprintf("%s: element {%s}%s, want {%s}%s", path, a.space, a.name, b.space, b.name)
		case a.line != b.line:
			return fmt.Sprintf("%s: line %d, want %d", path, a.line, b.line)
		case !bytes.Equal(a.text, b.text):
			return fmt.Sprintf("%s: text %q, want %q", path, a.text, b.text)
		case len(a.text) > 0 && a.textLine != b.textLine:
			return fmt.Sprintf("%s: text line %d, want %d", path, a.textLine, b.textLine)
		case a.secret != b.secret:
			return fmt.Sprintf("%s: secret %v, want %v", path, a.secret, b.secret)
		case len(a.children) != len(b.children):
			return fmt.Sprintf("%s: %d children, want %d", path, len(a.children), len(b.children))
		}
		for i := range a.children {
			if d := walk(path, a.children[i], b.children[i]); d != "" {
				return d
			}
		}
		return ""
	}
	return walk("", fast.root, slow.root)
}

// checkFastTree checks the fast path against encoding/xml on one document:
// when fastTree accepts it, encoding/xml must accept it too and build the
// same tree. It reports whether the fast path was taken.
func checkFastTree(t *testing.T, name string, data []byte) bool {
	t.Helper()
	if _, _, ok := checkUTF8(data); !ok || bytes.HasPrefix(data, []byte("\xEF\xBB\xBF")) {
		return false // buildTree rejects or strips these before either path
	}
	fast := fastTree(data)
	if fast == nil {
		return false
	}
	slow, err := decodeTree(data)
	if err != nil {
		t.Fatalf("%s: fast path accepted a document encoding/xml rejects (line %d: %v)", name, err.line, err.err)
	}
	if d := sameTree(fast, slow); d != "" {
		t.Fatalf("%s: fast path tree differs from encoding/xml's: %s", name, d)
	}
	return true
}

// fastTreeCases are documents of the supported subset (each must take the
// fast path) and documents outside it (each must not).
var fastTreeCases = []struct {
	doc  string
	fast bool
}{
	{`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<ConnectedApp xmlns="http://soap.sforce.com/2006/04/metadata">` + "\n    <label>App</label>\n</ConnectedApp>\n", true},
	{"<a><b/><c  /><d>x</d>\n</a>", true},
	{"<a>\n  <!-- note -->\n  <b>R&amp;D &lt;x&gt; &quot;q&quot; &apos;</b>\n</a>", true},
	{"<a>text<!-- c -->more<b>ignored</b>after</a>", true},
	{"<a>\u00a0<b>x</b></a>", true},
	{"<a>\u00a0\n</a>", true},
	{"<a><consumerSecret>\n  S3cr3tValue99\n</consumerSecret><certificate>  </certificate></a>", true},
	{"<a xmlns='urn:x'><b xmlns=\"urn:y\"><c/></b><d/></a>", true},
	{"<?xml version='1.0' encoding='utf-8' standalone=\"yes\"?>\n<a/>", true},
	{"<?xml version=\"1.0\" version=\"1.0\"?><a/>", false},
	{"<?xml encoding=\"UTF-8\"?><a/>", false},
	{" <?xml version=\"1.0\"?><a/>", false},
	{"<a>]]></a>", false},
	{"<a>&#65;</a>", false},
	{"<a>&nbsp;</a>", false},
	{"<a>x\r\ny</a>", false},
	{"<a><![CDATA[x]]></a>", false},
	{"<!DOCTYPE a><a/>", false},
	{"<?xml-stylesheet href='x'?><a/>", false},
	{"<?xml version=\"1.1\"?><a/>", false},
	{"<?xml version=\"1.0\" encoding=\"latin1\"?><a/>", false},
	{"<x:a xmlns:x='urn:x'/>", false},
	{"<a b='1'/>", false},
	{"<a xmlns='urn:x' xmlns='urn:y'/>", false},
	{"<a></b>", false},
	{"<a>", false},
	{"<a/><b/>", false},
	{"<a/>text", false},
	{"<a><!-- x -- y --></a>", false},
	{"<a>\x01</a>", false},
	{"<a>\uffff</a>", false},
	{"<1a/>", false},
	{"< a/>", false},
	{"</a>", false},
	{"", false},
	{"<a>" + strings.Repeat("<b>", maxDepth) + strings.Repeat("</b>", maxDepth) + "</a>", false},
}

func TestFastTree(t *testing.T) {
	for _, tc := range fastTreeCases {
		if got := checkFastTree(t, fmt.Sprintf("%q", tc.doc), []byte(tc.doc)); got != tc.fast {
			t.Errorf("%q: fast path taken = %v, want %v", tc.doc, got, tc.fast)
		}
	}
}

// TestFastTreeFiles runs the fixtures and the real-world corpus through both
// paths. Every fixture and corpus file written by Salesforce tools is in the
// fast path's subset except the few that use CDATA, comments with "--",
// prefixed names or carriage returns; the test only requires that most are.
func TestFastTreeFiles(t *testing.T) {
	total, fast := 0, 0
	for _, dir := range []string{filepath.Join("testdata", "valid"), corpusDir} {
		_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || Kind(p) == "" {
				return nil
			}
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			total++
			if checkFastTree(t, p, data) {
				fast++
			}
			return nil
		})
	}
	if total == 0 {
		t.Fatal("no metadata files found")
	}
	if fast*2 < total {
		t.Errorf("fast path taken for %d of %d files, want most", fast, total)
	}
	t.Logf("fast path taken for %d of %d files", fast, total)
}

// FuzzFastTree checks that the fast path never accepts a document
// encoding/xml rejects, and builds the same tree as encoding/xml whenever it
// accepts one.
func FuzzFastTree(f *testing.F) {
	for _, tc := range fastTreeCases {
		f.Add([]byte(tc.doc))
	}
	_ = filepath.WalkDir(filepath.Join("testdata", "valid"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && Kind(p) != "" {
			if data, err := os.ReadFile(p); err == nil && len(data) <= 16<<10 {
				f.Add(data)
			}
		}
		return nil
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		checkFastTree(t, "input", data)
	})
}
