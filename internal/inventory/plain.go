package inventory

import (
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// The plain reader. Generated and hand-written manifests alike are mostly
// written in a small part of YAML: block mappings and sequences indented
// with spaces, one-line flow collections, and one-line scalars. A
// plainReader reads a document written in that part alone into the node
// tree go.yaml.in/yaml/v3 would build for it, without the library's general
// scanner and parser, which took most of the time of loading a large
// inventory and most of its memory. It gives up on anything outside that
// part (comments after content, multi-line scalars, escapes, anchors, a
// sequence at its key's indentation, ...), and fastDocument then has the
// library parse the document. FuzzPlainReader checks that wherever the
// plain reader succeeds the library builds the same tree.

// plainLine is one line of a document that holds content.
type plainLine struct {
	num    int // 1-based line number within the document
	start  int // offset of the line's first content byte in the document
	end    int // offset of the line's end, trailing spaces left out
	indent int // 0-based column of the first content byte
}

// plainReader reads documents one after another. It keeps its memory from
// one document to the next: a tree it returns is valid until the next read,
// while the scalars' values, substrings of the document, stay valid.
type plainReader struct {
	src   string // the document; scalars' values are substrings of it
	lines []plainLine
	i     int // the line being read
	// blocks hold the nodes, a block at a time so that pointers to them
	// stay valid; the current document uses blocks up to blocks[block][next].
	blocks [][]yaml.Node
	block  int
	next   int
}

// nodeBlock is how many nodes a block of a plainReader holds.
const nodeBlock = 64

// body returns the root mapping of the document in data, as
// go.yaml.in/yaml/v3 would build it, or false when the document is not
// written in the part of YAML the plain reader knows. data must hold only
// what fastBytes accepts.
func (p *plainReader) body(data []byte) (*yaml.Node, bool) {
	p.src, p.lines, p.i, p.block, p.next = string(data), p.lines[:0], 0, 0, 0
	if !p.split() || len(p.lines) == 0 || p.lines[0].indent != 0 {
		return nil, false
	}
	body, ok := p.blockNode(-1)
	if !ok || body.Kind != yaml.MappingNode || p.i != len(p.lines) {
		return nil, false
	}
	return body, true
}

// split lists the lines that hold content, skipping blank lines, whole-line
// comments and a leading "---". It fails on anything else that is not
// content: directives, a later "---", "...", and comments after content.
func (p *plainReader) split() bool {
	s := p.src
	content := false
	for off, num := 0, 1; off < len(s); num++ {
		end := len(s)
		if n := strings.IndexByte(s[off:], '\n'); n >= 0 {
			end = off + n
		}
		line := s[off:end]
		next := end + 1
		indent := 0
		for indent < len(line) && line[indent] == ' ' {
			indent++
		}
		trimmed := len(line)
		for trimmed > indent && line[trimmed-1] == ' ' {
			trimmed--
		}
		switch {
		case indent == len(line) || line[indent] == '#':
			// blank or a comment line
		case line == "---" && !content:
			// the document's start marker
		case line[0] == '%' || (len(line) >= 3 && (line[:3] == "---" || line[:3] == "...")):
			return false
		case strings.IndexByte(line, '#') >= 0:
			return false // a comment after content, or a '#' in a scalar
		default:
			content = true
			p.lines = append(p.lines, plainLine{num: num, start: off + indent, end: off + trimmed, indent: indent})
		}
		off = next
	}
	return true
}

// node returns a node set to n, reusing a node of an earlier document and
// the array of its Content.
func (p *plainReader) node(n yaml.Node) *yaml.Node {
	if p.next == nodeBlock {
		p.block, p.next = p.block+1, 0
	}
	if p.block == len(p.blocks) {
		p.blocks = append(p.blocks, make([]yaml.Node, nodeBlock))
	}
	slot := &p.blocks[p.block][p.next]
	p.next++
	n.Content = slot.Content[:0]
	*slot = n
	return slot
}

// blockNode reads the block node starting on the current line, which must be
// indented more than parent.
func (p *plainReader) blockNode(parent int) (*yaml.Node, bool) {
	if p.i >= len(p.lines) || p.lines[p.i].indent <= parent {
		return nil, false // an empty value: a null
	}
	l := p.lines[p.i]
	if p.src[l.start] == '-' {
		return p.sequence(l.indent)
	}
	return p.mapping(l.indent)
}

// mapping reads a block mapping whose keys are at column col.
func (p *plainReader) mapping(col int) (*yaml.Node, bool) {
	m := p.node(yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: p.lines[p.i].num, Column: col + 1})
	for p.i < len(p.lines) && p.lines[p.i].indent == col {
		l := p.lines[p.i]
		text := p.src[l.start:l.end]
		n := plainKeyLen(text)
		if n == 0 || n == len(text) || text[n] != ':' || (n+1 < len(text) && text[n+1] != ' ') {
			return nil, false
		}
		key := p.node(yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: p.src[l.start : l.start+n], Line: l.num, Column: col + 1})
		var value *yaml.Node
		var ok bool
		if rest := l.start + n + 1; rest == l.end {
			p.i++
			value, ok = p.blockNode(col)
		} else {
			value, ok = p.inline(l, rest+1, col)
		}
		if !ok {
			return nil, false
		}
		m.Content = append(m.Content, key, value)
	}
	return m, p.i == len(p.lines) || p.lines[p.i].indent < col
}

// sequence reads a block sequence whose dashes are at column col.
func (p *plainReader) sequence(col int) (*yaml.Node, bool) {
	s := p.node(yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Line: p.lines[p.i].num, Column: col + 1})
	for p.i < len(p.lines) && p.lines[p.i].indent == col {
		l := p.lines[p.i]
		if p.src[l.start] != '-' || l.end-l.start < 3 || p.src[l.start+1] != ' ' {
			return nil, false
		}
		at := p.skipSpaces(l.start+2, l.end)
		var item *yaml.Node
		var ok bool
		text := p.src[at:l.end]
		if n := plainKeyLen(text); n > 0 && n < len(text) && text[n] == ':' {
			// A mapping that starts on the dash's line: its keys line up
			// with the first one.
			p.lines[p.i] = plainLine{num: l.num, start: at, end: l.end, indent: col + at - l.start}
			item, ok = p.mapping(p.lines[p.i].indent)
		} else {
			item, ok = p.inline(l, at, col)
		}
		if !ok {
			return nil, false
		}
		s.Content = append(s.Content, item)
	}
	return s, p.i == len(p.lines) || p.lines[p.i].indent < col
}

// inline reads the value that fills line l from offset at on, the value of
// a key or a sequence entry at column col, and moves past the line; the
// value must not go on over the next lines.
func (p *plainReader) inline(l plainLine, at, col int) (*yaml.Node, bool) {
	at = p.skipSpaces(at, l.end)
	var n *yaml.Node
	var ok bool
	switch p.src[at] {
	case '[', '{':
		var end int
		n, end, ok = p.flow(l, at)
		ok = ok && end == l.end
	default:
		n, ok = p.scalar(l, at, l.end, false)
	}
	p.i++
	return n, ok && (p.i == len(p.lines) || p.lines[p.i].indent <= col)
}

// flow reads the flow collection starting at offset at of line l and
// returns it with the offset past its end.
func (p *plainReader) flow(l plainLine, at int) (*yaml.Node, int, bool) {
	open := p.src[at]
	n := p.node(yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Style: yaml.FlowStyle, Line: l.num, Column: p.column(l, at)})
	closing := byte(']')
	if open == '{' {
		n.Kind, n.Tag, closing = yaml.MappingNode, "!!map", '}'
	}
	at = p.skipSpaces(at+1, l.end)
	if at < l.end && p.src[at] == closing {
		return n, p.skipSpaces(at+1, l.end), true
	}
	for {
		if open == '{' {
			k := plainKeyLen(p.src[at:l.end])
			if k == 0 || at+k+1 >= l.end || p.src[at+k] != ':' || p.src[at+k+1] != ' ' {
				return nil, 0, false
			}
			key := p.node(yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: p.src[at : at+k], Line: l.num, Column: p.column(l, at)})
			n.Content = append(n.Content, key)
			at = p.skipSpaces(at+k+1, l.end)
		}
		if at >= l.end {
			return nil, 0, false
		}
		var item *yaml.Node
		var ok bool
		if c := p.src[at]; c == '[' || c == '{' {
			item, at, ok = p.flow(l, at)
		} else {
			end := at
			for end < l.end && p.src[end] != ',' && p.src[end] != closing {
				end++
			}
			item, ok = p.scalar(l, at, end, true)
			at = end
		}
		if !ok || at >= l.end {
			return nil, 0, false
		}
		n.Content = append(n.Content, item)
		switch p.src[at] {
		case ',':
			at = p.skipSpaces(at+1, l.end)
		case closing:
			return n, p.skipSpaces(at+1, l.end), true
		default:
			return nil, 0, false
		}
	}
}

// scalar reads the scalar that fills offsets [at, end) of line l, trailing
// spaces left out; inFlow says whether it is inside a flow collection.
func (p *plainReader) scalar(l plainLine, at, end int, inFlow bool) (*yaml.Node, bool) {
	for end > at && p.src[end-1] == ' ' {
		end--
	}
	if at >= end {
		return nil, false
	}
	n := p.node(yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Line: l.num, Column: p.column(l, at)})
	text := p.src[at:end]
	if q := text[0]; q == '"' || q == '\'' {
		// A quoted string without escapes.
		if len(text) < 2 || text[len(text)-1] != q {
			return nil, false
		}
		inner := text[1 : len(text)-1]
		if strings.IndexByte(inner, q) >= 0 || (q == '"' && strings.IndexByte(inner, '\\') >= 0) {
			return nil, false
		}
		n.Value = inner
		n.Style = yaml.DoubleQuotedStyle
		if q == '\'' {
			n.Style = yaml.SingleQuotedStyle
		}
		return n, true
	}
	for i := range len(text) {
		c := text[i]
		switch {
		case isLetter(c) || ('0' <= c && c <= '9'):
		case c == ':':
			if inFlow || i+1 == len(text) || text[i+1] == ' ' {
				return nil, false
			}
		case strings.IndexByte(" ._/@+=~()-", c) >= 0:
		default:
			return nil, false
		}
	}
	n.Value = text
	tag, ok := plainTag(text)
	n.Tag = tag
	return n, ok
}

// plainTag is the tag go.yaml.in/yaml/v3 resolves a plain scalar to, for
// the scalars the plain reader takes: words, true and false, decimal
// integers without a leading zero, and YYYY-MM-DD dates.
func plainTag(s string) (string, bool) {
	if isLetter(s[0]) {
		switch s {
		case "true", "false":
			return "!!bool", true
		case "True", "TRUE", "False", "FALSE", "Null", "NULL", "null":
			return "", false
		}
		return "!!str", true
	}
	digits := 0
	for digits < len(s) && '0' <= s[digits] && s[digits] <= '9' {
		digits++
	}
	switch {
	case digits == len(s) && digits <= 18 && (s[0] != '0' || digits == 1):
		return "!!int", true
	case len(s) == len(time.DateOnly) && digits == 4:
		if _, err := time.Parse(time.DateOnly, s); err == nil {
			return "!!timestamp", true
		}
	}
	return "", false
}

// plainKeyLen is the length of the mapping key text starts with: a word
// starting with a letter, made of letters, digits and "_-./", that is not
// read as a boolean or a null. It is 0 when text starts with no such key.
func plainKeyLen(text string) int {
	if text == "" || !isLetter(text[0]) {
		return 0
	}
	n := 1
	for n < len(text) && n < 128 && (isLetter(text[n]) || ('0' <= text[n] && text[n] <= '9') || strings.IndexByte("_-./", text[n]) >= 0) {
		n++
	}
	if tag, ok := plainTag(text[:n]); !ok || tag != "!!str" {
		return 0
	}
	return n
}

// column is the 1-based column of offset at on line l.
func (p *plainReader) column(l plainLine, at int) int {
	return l.indent + at - l.start + 1
}

// skipSpaces returns the offset of the first byte from at on, before end,
// that is not a space.
func (p *plainReader) skipSpaces(at, end int) int {
	for at < end && p.src[at] == ' ' {
		at++
	}
	return at
}
