package inventory

import (
	"fmt"
	"math"
	"math/bits"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml/ast"
)

// The shape check walks a document's YAML tree against the Go type it decodes
// into and the same `jsonschema` struct tags the JSON Schema is generated
// from, so that the loader and the schema accept the same documents. It
// collects every problem in the document with its position, which goccy's
// decoder cannot do (it stops at the first), and it is stricter than that
// decoder, which turns 123 into "123" and "5" into 5.

// maxDocumentValues bounds the values one document may hold, counting every
// expansion of an alias, so that an alias bomb cannot exhaust memory or time.
const maxDocumentValues = 100_000

var dateType = reflect.TypeFor[Date]()

// position is a line and column in a file, both 1-based.
type position struct{ line, col int }

// path names a value inside a document. raw is used for lookups, disp in
// messages: map keys that do not look like identifiers are shown as "*"
// there, since a key is manifest text. at is where a missing field is
// reported: the key that holds the value.
type path struct {
	raw, disp string
	at        position
}

func (p path) field(name string, at position) path {
	if p.raw == "" {
		return path{raw: name, disp: name, at: at}
	}
	return path{raw: p.raw + "." + name, disp: p.disp + "." + name, at: at}
}

func (p path) key(k string, at position) path {
	shown := k
	if !safeName(k) {
		shown = "*"
	}
	return path{raw: p.raw + "." + strconv.Quote(k), disp: p.disp + "." + shown, at: at}
}

func (p path) index(i int, at position) path {
	s := "[" + strconv.Itoa(i) + "]"
	return path{raw: p.raw + s, disp: p.disp + s, at: at}
}

// prefix returns "disp: " or "" at the document root.
func (p path) prefix() string {
	if p.disp == "" {
		return ""
	}
	return p.disp + ": "
}

var safeNamePattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,39}$`)

// safeName reports whether a key written in a manifest may be repeated in an
// error message: a short identifier that does not look like a credential.
func safeName(s string) bool {
	return safeNamePattern.MatchString(s) && !randomToken(strings.ToLower(s)) && !strings.Contains(s, "3MVG9")
}

// shapeChecker checks one document.
type shapeChecker struct {
	file    string
	errs    []*Error
	aliases map[*ast.AliasNode]ast.Node
	pos     map[string]position // positions of the values the loader reads, by raw path
	offset  int                 // lines before the document's chunk
	visits  int
	over    bool
}

func newShapeChecker(file string, offset int, body ast.Node) *shapeChecker {
	c := &shapeChecker{
		file:    file,
		offset:  offset,
		aliases: map[*ast.AliasNode]ast.Node{},
		pos:     map[string]position{},
	}
	c.collectAnchors(body, map[string]ast.Node{})
	return c
}

// collectAnchors resolves every alias to the node of the anchor it names, in
// document order. An anchor is registered after its own value, so an alias
// cannot refer to a node that contains it.
func (c *shapeChecker) collectAnchors(n ast.Node, anchors map[string]ast.Node) {
	switch n := n.(type) {
	case *ast.MappingNode:
		for _, mv := range n.Values {
			c.collectAnchors(mv, anchors)
		}
	case *ast.MappingValueNode:
		c.collectAnchors(n.Key, anchors)
		c.collectAnchors(n.Value, anchors)
	case *ast.MappingKeyNode:
		c.collectAnchors(n.Value, anchors)
	case *ast.SequenceNode:
		for _, v := range n.Values {
			c.collectAnchors(v, anchors)
		}
	case *ast.TagNode:
		c.collectAnchors(n.Value, anchors)
	case *ast.AnchorNode:
		c.collectAnchors(n.Value, anchors)
		if n.Name != nil && n.Name.GetToken() != nil {
			anchors[n.Name.GetToken().Value] = n.Value
		}
	case *ast.AliasNode:
		if n.Value != nil && n.Value.GetToken() != nil {
			c.aliases[n] = anchors[n.Value.GetToken().Value]
		}
	}
}

// resolve follows anchors and aliases to the node that holds the value, or
// returns nil for an alias to an unknown anchor.
func (c *shapeChecker) resolve(n ast.Node) ast.Node {
	for range 16 {
		switch v := n.(type) {
		case *ast.AnchorNode:
			n = v.Value
		case *ast.AliasNode:
			n = c.aliases[v]
		default:
			return n
		}
	}
	return nil
}

// posOf returns where a node starts in the file: for a block mapping its
// first key, for other nodes their first token.
func (c *shapeChecker) posOf(n ast.Node) position {
	p := nodePos(n)
	if p.line > 0 {
		p.line += c.offset
	}
	return p
}

// nodePos is posOf within the document's chunk.
func nodePos(n ast.Node) position {
	switch v := n.(type) {
	case nil:
		return position{}
	case *ast.MappingNode:
		if !v.IsFlowStyle && len(v.Values) > 0 {
			return nodePos(v.Values[0].Key)
		}
	case *ast.MappingValueNode:
		return nodePos(v.Key)
	}
	tk := n.GetToken()
	if tk == nil || tk.Position == nil {
		return position{}
	}
	return position{line: tk.Position.Line, col: tk.Position.Column}
}

func (c *shapeChecker) add(at position, msg string) {
	c.errs = append(c.errs, &Error{File: c.file, Line: at.line, Column: at.col, Msg: msg})
}

// describe names a node's YAML type for messages, without its value.
func describe(n ast.Node) string {
	switch n.(type) {
	case *ast.NullNode:
		return "null"
	case *ast.StringNode, *ast.LiteralNode:
		return "a string"
	case *ast.IntegerNode:
		return "an integer"
	case *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		return "a number"
	case *ast.BoolNode:
		return "a boolean"
	case *ast.SequenceNode:
		return "a list"
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a mapping"
	}
	return "an unsupported value"
}

// expected names what a Go type needs, for messages.
func expected(t reflect.Type) string {
	if t == dateType {
		return "a date (YYYY-MM-DD)"
	}
	switch t.Kind() {
	case reflect.Pointer:
		return expected(t.Elem())
	case reflect.String:
		return "a string"
	case reflect.Int:
		return "an integer"
	case reflect.Bool:
		return "a boolean"
	case reflect.Slice:
		return "a list"
	}
	return "a mapping"
}

// check checks node n against type t and the rules of the field holding it,
// and stores the value in dst, a settable value of type t. The check and the
// decoding are one walk; dst is only meaningful when no error was added.
func (c *shapeChecker) check(n ast.Node, t reflect.Type, r *rules, p path, dst reflect.Value) {
	if c.over {
		return
	}
	if c.visits++; c.visits > maxDocumentValues {
		c.over = true
		c.add(c.posOf(n), fmt.Sprintf("document too large: more than %d values, counting alias expansions", maxDocumentValues))
		return
	}
	at := c.posOf(n)
	switch p.raw {
	case "metadata.name", "spec.owner", "spec.identity": // what the loader reads
		c.pos[p.raw] = at
	}
	v := c.resolve(n)
	if v == nil {
		c.add(at, p.prefix()+"alias to an unknown anchor")
		return
	}
	if _, ok := v.(*ast.TagNode); ok {
		c.add(at, p.prefix()+"YAML tags are not supported in manifests")
		return
	}
	if _, ok := v.(*ast.NullNode); ok {
		if t.Kind() == reflect.Pointer && r != nil && r.nullable {
			return
		}
		c.add(at, p.prefix()+"must be "+expected(t)+", got null")
		return
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
		elem := reflect.New(t)
		dst.Set(elem)
		dst = elem.Elem()
	}
	mismatch := func() { c.add(at, p.prefix()+"must be "+expected(t)+", got "+describe(v)) }
	if t == dateType {
		s, ok := scalarString(v)
		if !ok {
			mismatch()
			return
		}
		d, err := ParseDate(s)
		if err != nil {
			c.add(at, p.prefix()+"must be a date (YYYY-MM-DD)")
			return
		}
		dst.Set(reflect.ValueOf(d))
		return
	}
	switch t.Kind() {
	case reflect.String:
		s, ok := scalarString(v)
		if !ok {
			mismatch()
			return
		}
		if r != nil {
			if msg := r.checkString(s); msg != "" {
				c.add(at, p.prefix()+msg)
			}
		}
		dst.SetString(s)
	case reflect.Int:
		i, ok := integerValue(v)
		if !ok {
			if _, isInt := v.(*ast.IntegerNode); isInt {
				c.add(at, p.prefix()+"integer out of range")
				return
			}
			mismatch()
			return
		}
		if r != nil && r.minimum != nil && i < *r.minimum {
			c.add(at, fmt.Sprintf("%smust be at least %d", p.prefix(), *r.minimum))
		}
		if dst.OverflowInt(i) {
			c.add(at, p.prefix()+"integer out of range")
			return
		}
		dst.SetInt(i)
	case reflect.Bool:
		b, ok := v.(*ast.BoolNode)
		if !ok {
			mismatch()
			return
		}
		dst.SetBool(b.Value)
	case reflect.Slice:
		seq, ok := v.(*ast.SequenceNode)
		if !ok {
			mismatch()
			return
		}
		var items *rules
		if r != nil {
			items = r.items
		}
		list := reflect.MakeSlice(t, len(seq.Values), len(seq.Values))
		dst.Set(list)
		for i, item := range seq.Values {
			c.check(item, t.Elem(), items, p.index(i, c.posOf(item)), list.Index(i))
		}
	case reflect.Map:
		var values *rules
		if r != nil {
			values = r.values
		}
		c.checkMap(v, t, values, p, mismatch, dst)
	case reflect.Struct:
		c.checkStruct(v, t, p, mismatch, dst)
	default:
		mismatch()
	}
}

// entries returns the key/value pairs of a mapping node.
func entries(n ast.Node) ([]*ast.MappingValueNode, bool) {
	switch v := n.(type) {
	case *ast.MappingNode:
		return v.Values, true
	case *ast.MappingValueNode:
		return []*ast.MappingValueNode{v}, true
	}
	return nil, false
}

// keyOf returns a mapping key as a string; ok is false for merge keys and
// keys that are not strings.
func (c *shapeChecker) keyOf(n ast.Node) (key string, merge, ok bool) {
	if k, isKey := n.(*ast.MappingKeyNode); isKey {
		n = k.Value
	}
	n = c.resolve(n)
	if _, isMerge := n.(*ast.MergeKeyNode); isMerge {
		return "", true, false
	}
	s, ok := n.(*ast.StringNode)
	if !ok {
		return "", false, false
	}
	return s.Value, false, true
}

func (c *shapeChecker) checkMap(v ast.Node, t reflect.Type, r *rules, p path, mismatch func(), dst reflect.Value) {
	values, ok := entries(v)
	if !ok {
		mismatch()
		return
	}
	m := reflect.MakeMapWithSize(t, len(values))
	dst.Set(m)
	for _, mv := range values {
		at := c.posOf(mv.Key)
		k, merge, ok := c.keyOf(mv.Key)
		if !ok {
			c.keyError(at, p, merge)
			continue
		}
		elem := reflect.New(t.Elem()).Elem()
		c.check(mv.Value, t.Elem(), r, p.key(k, at), elem)
		m.SetMapIndex(reflect.ValueOf(k).Convert(t.Key()), elem)
	}
}

func (c *shapeChecker) keyError(at position, p path, merge bool) {
	if merge {
		c.add(at, p.prefix()+"merge keys (<<) are not supported in manifests")
		return
	}
	c.add(at, p.prefix()+"keys must be strings")
}

func (c *shapeChecker) checkStruct(v ast.Node, t reflect.Type, p path, mismatch func(), dst reflect.Value) {
	values, ok := entries(v)
	if !ok {
		mismatch()
		return
	}
	info := structInfoOf(t)
	var seen uint64 // bit i: the field with index i was set
	for _, mv := range values {
		at := c.posOf(mv.Key)
		k, merge, ok := c.keyOf(mv.Key)
		if !ok {
			c.keyError(at, p, merge)
			continue
		}
		f, known := info.byName[k]
		if !known {
			msg := "unknown field"
			if safeName(k) {
				msg += " " + strconv.Quote(k)
			}
			c.add(at, fmt.Sprintf("%s%s (valid fields: %s)", p.prefix(), msg, strings.Join(info.names, ", ")))
			continue
		}
		seen |= 1 << f.index
		c.check(mv.Value, f.typ, &f.rules, p.field(k, at), dst.Field(f.index))
	}
	for _, f := range info.fields {
		if f.rules.required && seen&(1<<f.index) == 0 {
			c.add(p.at, fmt.Sprintf("%smissing required field %q", p.prefix(), f.name))
		}
	}
	if info.exactlyOne && bits.OnesCount64(seen) != 1 {
		c.add(p.at, p.prefix()+"must set exactly one of "+strings.Join(info.names, ", "))
	}
}

// scalarString returns the value of a string scalar, plain, quoted or block.
func scalarString(n ast.Node) (string, bool) {
	switch v := n.(type) {
	case *ast.StringNode:
		return v.Value, true
	case *ast.LiteralNode:
		if v.Value == nil {
			return "", true
		}
		return v.Value.Value, true
	}
	return "", false
}

// integerValue returns the value of an integer, or of a number with no
// fractional part (JSON Schema's "integer" accepts 90.0 too).
func integerValue(n ast.Node) (int64, bool) {
	switch v := n.(type) {
	case *ast.IntegerNode:
		switch i := v.Value.(type) {
		case int64:
			return i, true
		case uint64:
			if i <= math.MaxInt64 {
				return int64(i), true
			}
		}
	case *ast.FloatNode:
		if v.Value == math.Trunc(v.Value) && math.Abs(v.Value) < 1<<53 {
			return int64(v.Value), true
		}
	}
	return 0, false
}
