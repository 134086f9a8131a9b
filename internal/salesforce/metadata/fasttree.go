package metadata

import (
	"bytes"
	"sync"

	"github.com/orisano/gosax"
)

// fastTree builds the tree of a document written the way Salesforce tools
// write metadata files, with the gosax tokenizer instead of encoding/xml,
// which spends most of a small file's parse time on generality these files
// do not use. It handles a strict subset of XML:
//
//   - an optional XML declaration first (version 1.0, UTF-8), comments, and
//     elements whose names are ASCII letters, digits, '_', '-' and '.',
//     without a namespace prefix;
//   - no attribute but xmlns, whose value holds no markup, entity or white
//     space;
//   - text with no entity but the five predefined ones, and no carriage
//     return;
//   - every character one XML allows.
//
// On anything else (a DTD, CDATA, processing instructions, prefixes, any
// other attribute, malformed markup, a limit exceeded) it returns nil and the
// caller decodes the document with encoding/xml, which then reports the
// error or builds the tree. So every error, and the tree of every document
// outside the subset, still comes from encoding/xml. On the subset, the tree
// is the one encoding/xml gives, down to the lines and the whitespace kept;
// FuzzFastTree checks that.
//
// data is valid UTF-8 without a byte order mark.
func fastTree(data []byte) (t *tree) {
	if !plainChars(data) {
		return nil
	}
	defer func() {
		if recover() != nil {
			t = nil // a tokenizer failure: encoding/xml decides
		}
	}()
	buf := readerBufs.Get().(*[]byte)
	defer readerBufs.Put(buf)
	r := gosax.NewReaderBuf(bytes.NewReader(data), (*buf)[:0])
	b := fastBuilder{
		t:       &tree{},
		line:    1,
		tags:    bytes.Count(data, []byte("<")) / 2,
		textBuf: make([]byte, 0, len(data)/2),
		stack:   make([]*node, 0, 16),
		spaces:  make([]string, 0, 16),
	}
	for first := true; ; first = false {
		ev, err := r.Event()
		if err != nil {
			return nil
		}
		line := b.line
		b.line += bytes.Count(ev.Bytes, []byte{'\n'})
		var ok bool
		switch ev.Type() {
		case gosax.EventStart:
			ok = b.start(ev.Bytes, line)
		case gosax.EventEnd:
			ok = b.end(ev.Bytes)
		case gosax.EventText:
			ok = b.text(ev.Bytes, line)
		case gosax.EventComment:
			ok = validComment(ev.Bytes)
		case gosax.EventProcessingInstruction:
			ok = first && xmlDeclaration(ev.Bytes)
		case gosax.EventEOF:
			if b.t.root == nil || len(b.stack) > 0 {
				return nil
			}
			return b.t
		}
		if !ok {
			return nil
		}
	}
}

// readerBufs recycles the tokenizer's read buffers across files.
var readerBufs = sync.Pool{New: func() any {
	buf := make([]byte, 0, 64<<10)
	return &buf
}}

// plainChars reports whether every character of data is one XML allows and
// none is a carriage return (encoding/xml turns line ends into "\n", which
// fastTree does not do).
func plainChars(data []byte) bool {
	for i, c := range data {
		switch {
		case c < 0x20 && c != '\t' && c != '\n':
			return false
		case c == 0xEF && i+2 < len(data) && data[i+1] == 0xBF && data[i+2] >= 0xBE:
			return false // U+FFFE, U+FFFF
		}
	}
	return true
}

// fastBuilder is the state of one fastTree call. The nodes and text are
// kept as buildTree keeps them.
type fastBuilder struct {
	t        *tree
	line     int // line of the next event
	tags     int
	elements int
	slab     []node
	textBuf  []byte
	stack    []*node
	spaces   []string // default namespace of each open element
}

// start handles a start tag, "<name ...>" or "<name .../>".
func (b *fastBuilder) start(tag []byte, line int) bool {
	body := tag[1 : len(tag)-1]
	selfClosing := len(body) > 0 && body[len(body)-1] == '/'
	if selfClosing {
		body = body[:len(body)-1]
	}
	n := nameLen(body)
	if n == 0 || (len(b.stack) == 0 && b.t.root != nil) {
		return false
	}
	name, rest := body[:n], body[n:]
	space := ""
	if len(b.spaces) > 0 {
		space = b.spaces[len(b.spaces)-1]
	}
	if ns, ok := xmlnsAttribute(rest); !ok {
		return false
	} else if ns != nil {
		space = string(ns)
	}
	b.elements++
	if b.elements > maxElements || len(b.stack) >= maxDepth {
		return false
	}
	if len(b.slab) == cap(b.slab) {
		b.slab = make([]node, 0, max(min(b.tags-b.elements, 256), 16))
	}
	b.slab = append(b.slab, node{name: string(name), space: space, line: line})
	nd := &b.slab[len(b.slab)-1]
	if len(b.stack) == 0 {
		b.t.root = nd
	} else {
		parent := b.stack[len(b.stack)-1]
		parent.children = append(parent.children, nd)
	}
	b.stack = append(b.stack, nd)
	b.spaces = append(b.spaces, space)
	if selfClosing {
		b.close()
	}
	return true
}

// end handles an end tag, which must close the innermost open element.
func (b *fastBuilder) end(tag []byte) bool {
	if len(b.stack) == 0 || len(tag) < 4 || tag[1] != '/' {
		return false
	}
	body := tag[2 : len(tag)-1]
	n := nameLen(body)
	if n == 0 || string(body[:n]) != b.stack[len(b.stack)-1].name || !blankASCII(body[n:]) {
		return false
	}
	b.close()
	return true
}

// close ends the innermost open element, as buildTree does on an end tag.
func (b *fastBuilder) close() {
	n := b.stack[len(b.stack)-1]
	b.stack = b.stack[:len(b.stack)-1]
	b.spaces = b.spaces[:len(b.spaces)-1]
	if isSecretElement(n.name) {
		if v := string(bytes.TrimSpace(n.text)); v != "" {
			n.secret = true
			b.t.secrets = append(b.t.secrets, v)
		}
		n.text = nil
	}
}

// text handles character data, as buildTree does: white space before an
// element's text is layout, and text after its first child is ignored.
func (b *fastBuilder) text(raw []byte, line int) bool {
	if bytes.Contains(raw, []byte("]]>")) {
		return false
	}
	if len(b.stack) == 0 {
		return blankASCII(raw) // only layout outside the root element
	}
	n := b.stack[len(b.stack)-1]
	if len(n.children) > 0 || (len(n.text) == 0 && blankASCII(raw)) {
		return bytes.IndexByte(raw, '&') < 0 || unescapedLen(raw) >= 0
	}
	// The node's text so far is at the end of the buffer; the piece is
	// decoded after it.
	start := len(b.textBuf) - len(n.text)
	pieceStart := len(b.textBuf)
	var ok bool
	if b.textBuf, ok = appendUnescaped(b.textBuf, raw); !ok {
		return false
	}
	if len(n.text) == 0 {
		if len(bytes.TrimSpace(b.textBuf[pieceStart:])) == 0 {
			b.textBuf = b.textBuf[:pieceStart] // white space only, such as U+00A0
			return true
		}
		n.textLine = line
	}
	n.text = b.textBuf[start:len(b.textBuf):len(b.textBuf)]
	return true
}

// nameLen returns the length of the element name at the start of b: ASCII
// letters, digits, '_', '-' and '.', not starting with a digit, '-' or '.'.
// It returns 0 when b does not start with such a name followed by white
// space or the end of b.
func nameLen(b []byte) int {
	i := 0
	for ; i < len(b); i++ {
		c := b[i]
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
		other := c >= '0' && c <= '9' || c == '-' || c == '.'
		if !letter && (!other || i == 0) {
			break
		}
	}
	if i < len(b) && !isLayout(b[i]) {
		return 0
	}
	return i
}

// xmlnsAttribute reads the attributes of a start tag: nothing, or one
// xmlns="URI" attribute. ns is the URI (nil when there is no attribute); ok
// is false for anything else.
func xmlnsAttribute(attrs []byte) (ns []byte, ok bool) {
	rest := bytes.TrimLeft(attrs, " \t\n")
	if len(rest) == 0 {
		return nil, true
	}
	if len(rest) == len(attrs) {
		return nil, false // no space between name and attribute
	}
	rest, ok = bytes.CutPrefix(rest, []byte("xmlns"))
	if !ok {
		return nil, false
	}
	rest = bytes.TrimLeft(rest, " \t\n")
	if len(rest) < 3 || rest[0] != '=' {
		return nil, false
	}
	rest = bytes.TrimLeft(rest[1:], " \t\n")
	if len(rest) < 2 || (rest[0] != '"' && rest[0] != '\'') {
		return nil, false
	}
	end := bytes.IndexByte(rest[1:], rest[0])
	if end < 0 {
		return nil, false
	}
	ns = rest[1 : 1+end]
	for _, c := range ns {
		if c <= ' ' || c == '<' || c == '&' || c == '"' || c == '\'' {
			return nil, false
		}
	}
	return ns, blankASCII(rest[2+end:])
}

// xmlDeclaration reports whether a processing instruction is an XML
// declaration encoding/xml accepts: <?xml version="1.0"?>, optionally with
// encoding="UTF-8" (in any case) and a standalone declaration.
func xmlDeclaration(pi []byte) bool {
	body, ok := bytes.CutPrefix(pi, []byte("<?xml"))
	if !ok {
		return false
	}
	body = bytes.TrimSuffix(body, []byte("?>"))
	if len(body) == 0 || !isLayout(body[0]) {
		return false
	}
	var version, encoding, standalone bool
	for f := range bytes.FieldsSeq(body) {
		key, value, ok := bytes.Cut(f, []byte("="))
		if !ok || len(value) < 2 || (value[0] != '"' && value[0] != '\'') || value[len(value)-1] != value[0] {
			return false
		}
		v := value[1 : len(value)-1]
		switch string(key) {
		case "version":
			ok = !version && string(v) == "1.0"
			version = true
		case "encoding":
			ok = !encoding && bytes.EqualFold(v, []byte("utf-8"))
			encoding = true
		case "standalone":
			ok = !standalone && (string(v) == "yes" || string(v) == "no")
			standalone = true
		default:
			ok = false
		}
		if !ok {
			return false
		}
	}
	return version
}

// validComment reports whether a comment "<!--...-->" is one encoding/xml
// accepts: no "--" inside.
func validComment(c []byte) bool {
	if len(c) < 7 || !bytes.HasPrefix(c, []byte("<!--")) {
		return false
	}
	inner := c[4 : len(c)-3]
	return !bytes.Contains(inner, []byte("--")) && !bytes.HasSuffix(inner, []byte("-"))
}

// predefined are the entities XML defines without a DTD.
var predefined = map[string]byte{"lt": '<', "gt": '>', "amp": '&', "apos": '\'', "quot": '"'}

// appendUnescaped appends text to dst with the predefined entities
// replaced. ok is false when the text holds any other reference.
func appendUnescaped(dst, text []byte) ([]byte, bool) {
	for {
		i := bytes.IndexByte(text, '&')
		if i < 0 {
			return append(dst, text...), true
		}
		dst = append(dst, text[:i]...)
		semi := bytes.IndexByte(text[i:], ';')
		if semi < 0 {
			return dst, false
		}
		c, ok := predefined[string(text[i+1:i+semi])]
		if !ok {
			return dst, false
		}
		dst = append(dst, c)
		text = text[i+semi+1:]
	}
}

// unescapedLen returns the length of text with the predefined entities
// replaced, or -1 when it holds any other reference.
func unescapedLen(text []byte) int {
	n := 0
	for {
		i := bytes.IndexByte(text, '&')
		if i < 0 {
			return n + len(text)
		}
		semi := bytes.IndexByte(text[i:], ';')
		if semi < 0 {
			return -1
		}
		if _, ok := predefined[string(text[i+1:i+semi])]; !ok {
			return -1
		}
		n += i + 1
		text = text[i+semi+1:]
	}
}

func isLayout(c byte) bool { return c == ' ' || c == '\t' || c == '\n' }

// blankASCII reports whether b holds only spaces, tabs and newlines.
func blankASCII(b []byte) bool {
	for _, c := range b {
		if !isLayout(c) {
			return false
		}
	}
	return true
}
