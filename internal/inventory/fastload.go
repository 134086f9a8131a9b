package inventory

import (
	"bytes"
	"io"
	"math/bits"
	"reflect"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// The fast path. Almost every manifest is written in a plain subset of YAML,
// and go.yaml.in/yaml/v3 builds a node tree for such a document in about half
// the time and memory goccy/go-yaml's lexer and parser take. fastDocument
// decodes a document with it when the document is a valid manifest inside
// that subset: ASCII without tabs, carriage returns, "!" or spaces at the
// end of a line; no anchors, aliases, tags, block scalars, nulls or repeated
// keys; and only scalars that both libraries read the same way (quoted
// strings, plain strings starting with a letter, plain decimal integers,
// true and false, dates). Anything
// else, and every document with a problem, goes through the goccy path
// (parseChunk), which alone reports errors, so messages and positions do
// not depend on which path read a document. The node tree comes from the
// plain reader (plain.go) when the document is written in its smaller part of
// YAML, else from go.yaml.in/yaml/v3. FuzzFastDocument checks that the
// fast path never accepts a document the goccy path rejects and decodes what
// it accepts to the same manifest.

// fastDocument returns the manifest in ch, or false when the goccy path must
// read the chunk. r reads the chunk when it can; it may have read earlier
// chunks.
func fastDocument(file string, ch chunk, r *plainReader) (*loadedDoc, bool) {
	if !bytes.Contains(ch.data, []byte(APIVersion)) || !fastBytes(ch.data) {
		return nil, false // not a manifest (a CI workflow, say), or outside the subset
	}
	body, ok := r.body(ch.data)
	if !ok {
		if body, ok = yamlBody(ch.data); !ok {
			return nil, false
		}
	}
	var apiVersion, kind string
	for i := 0; i+1 < len(body.Content); i += 2 {
		switch body.Content[i].Value {
		case "apiVersion":
			apiVersion, _ = fastString(body.Content[i+1])
		case "kind":
			kind, _ = fastString(body.Content[i+1])
		}
	}
	t, ok := documentTypes[kind]
	if apiVersion != APIVersion || !ok {
		return nil, false
	}
	c := fastChecker{offset: ch.line - 1, pos: map[string]position{}}
	v := reflect.New(t)
	if !c.check(body, t, nil, "", v.Elem()) {
		return nil, false
	}
	start := c.posOf(body)
	d := newLoadedDoc(v.Elem().Interface(), Location{File: file, Line: start.line}, c.pos)
	if d.exception != nil && d.exception.Spec.Identity == "" && d.exception.Spec.Resource == "" {
		return nil, false
	}
	return d, true
}

// yamlBody returns the root mapping of the one document in data, as
// go.yaml.in/yaml/v3 parses it, or false when data holds anything else.
func yamlBody(data []byte) (*yaml.Node, bool) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc, next yaml.Node
	if dec.Decode(&doc) != nil || dec.Decode(&next) != io.EOF {
		return nil, false // a syntax error, no document or more than one
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, false
	}
	return doc.Content[0], true
}

// fastBytes reports whether data holds only printable ASCII, spaces and line
// feeds, no "!", which starts a tag, and no space at the end of a line
// (goccy/go-yaml places some scalars followed by one a column further).
func fastBytes(data []byte) bool {
	for i, b := range data {
		if (b < 0x20 && b != '\n') || b >= 0x7f || b == '!' || (b == '\n' && i > 0 && data[i-1] == ' ') {
			return false
		}
	}
	return true
}

// fastChecker is the fast path's shapeChecker: the same walk, which gives up
// at the first problem instead of describing it.
type fastChecker struct {
	offset int                 // lines before the document's chunk
	pos    map[string]position // as shapeChecker.pos
}

func (c *fastChecker) posOf(n *yaml.Node) position {
	return position{line: n.Line + c.offset, col: n.Column}
}

// check is shapeChecker.check for the fast path's subset: it decodes n into
// dst and reports whether n is valid. parent is the path of the field
// holding n when that field is a top-level one ("metadata", "spec"), "" at the
// root, and "-" deeper down.
func (c *fastChecker) check(n *yaml.Node, t reflect.Type, r *rules, parent string, dst reflect.Value) bool {
	if n.Anchor != "" || n.Style&yaml.TaggedStyle != 0 {
		return false
	}
	if t.Kind() == reflect.Pointer { // a null goes to the goccy path
		t = t.Elem()
		elem := reflect.New(t)
		dst.Set(elem)
		dst = elem.Elem()
	}
	if t == dateType {
		s, ok := fastString(n)
		if !ok && n.Kind == yaml.ScalarNode && n.Style == 0 && n.Tag == "!!timestamp" {
			s, ok = n.Value, true
		}
		if !ok {
			return false
		}
		d, err := ParseDate(s)
		if err != nil {
			return false
		}
		dst.Set(reflect.ValueOf(d))
		return true
	}
	switch t.Kind() {
	case reflect.String:
		s, ok := fastString(n)
		if !ok || (r != nil && r.checkString(s) != "") {
			return false
		}
		dst.SetString(s)
	case reflect.Int:
		i, ok := fastInt(n)
		if !ok || (r != nil && r.minimum != nil && i < *r.minimum) || dst.OverflowInt(i) {
			return false
		}
		dst.SetInt(i)
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.Style != 0 || (n.Value != "true" && n.Value != "false") {
			return false
		}
		dst.SetBool(n.Value == "true")
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return false
		}
		var items *rules
		if r != nil {
			items = r.items
		}
		list := reflect.MakeSlice(t, len(n.Content), len(n.Content))
		dst.Set(list)
		for i, item := range n.Content {
			if !c.check(item, t.Elem(), items, "-", list.Index(i)) {
				return false
			}
		}
	case reflect.Map:
		return c.checkMap(n, t, r, dst)
	case reflect.Struct:
		return c.checkStruct(n, t, parent, dst)
	default:
		return false
	}
	return true
}

func (c *fastChecker) checkMap(n *yaml.Node, t reflect.Type, r *rules, dst reflect.Value) bool {
	if n.Kind != yaml.MappingNode {
		return false
	}
	var values *rules
	if r != nil {
		values = r.values
	}
	m := reflect.MakeMapWithSize(t, len(n.Content)/2)
	dst.Set(m)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, ok := fastKey(n.Content[i])
		if !ok {
			return false
		}
		key := reflect.ValueOf(k).Convert(t.Key())
		if m.MapIndex(key).IsValid() {
			return false // a repeated key
		}
		elem := reflect.New(t.Elem()).Elem()
		if !c.check(n.Content[i+1], t.Elem(), values, "-", elem) {
			return false
		}
		m.SetMapIndex(key, elem)
	}
	return true
}

func (c *fastChecker) checkStruct(n *yaml.Node, t reflect.Type, parent string, dst reflect.Value) bool {
	if n.Kind != yaml.MappingNode {
		return false
	}
	info := structInfoOf(t)
	var seen uint64
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, ok := fastKey(n.Content[i])
		if !ok {
			return false
		}
		f, known := info.byName[k]
		if !known || seen&(1<<f.index) != 0 {
			return false // an unknown or repeated field
		}
		seen |= 1 << f.index
		value := n.Content[i+1]
		child := "-"
		switch parent {
		case "":
			child = k
		case "metadata":
			if k == "name" {
				c.pos["metadata.name"] = c.posOf(value)
			}
		case "spec":
			if k == "owner" || k == "identity" {
				c.pos["spec."+k] = c.posOf(value)
			}
		}
		if !c.check(value, f.typ, &f.rules, child, dst.Field(f.index)) {
			return false
		}
	}
	for _, f := range info.fields {
		if f.rules.required && seen&(1<<f.index) == 0 {
			return false
		}
	}
	return !info.exactlyOne || bits.OnesCount64(seen) == 1
}

// fastKey returns a mapping key written as a string.
func fastKey(n *yaml.Node) (string, bool) {
	if n.Anchor != "" || n.Style&yaml.TaggedStyle != 0 {
		return "", false
	}
	return fastString(n)
}

// fastString returns the value of a quoted string, or of a plain one that
// starts with a letter, does not end in ':' (the two libraries split "a::"
// differently) and that goccy/go-yaml does not read as null or a boolean.
func fastString(n *yaml.Node) (string, bool) {
	if n.Kind != yaml.ScalarNode {
		return "", false
	}
	switch n.Style {
	case yaml.DoubleQuotedStyle, yaml.SingleQuotedStyle:
		return n.Value, true
	case 0:
		s := n.Value
		if n.Tag != "!!str" || s == "" || !isLetter(s[0]) || s[len(s)-1] == ':' {
			return "", false
		}
		switch s {
		case "null", "Null", "NULL", "true", "True", "TRUE", "false", "False", "FALSE":
			return "", false
		}
		return s, true
	}
	return "", false
}

func isLetter(b byte) bool {
	return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z'
}

// fastInt returns the value of a plain decimal integer without sign or
// leading zero.
func fastInt(n *yaml.Node) (int64, bool) {
	s := n.Value
	if n.Kind != yaml.ScalarNode || n.Style != 0 || n.Tag != "!!int" || s == "" || len(s) > 18 || (s[0] == '0' && len(s) > 1) {
		return 0, false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	i, err := strconv.ParseInt(s, 10, 64)
	return i, err == nil
}
