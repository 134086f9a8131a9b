package metadata

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Limits on one document. Real metadata files nest four or five levels deep;
// a 10 MiB retrieved profile holds a few hundred thousand elements.
const (
	maxDepth    = 64
	maxElements = 500_000
)

// metadataNS is the namespace every Metadata API document uses.
const metadataNS = "http://soap.sforce.com/2006/04/metadata"

// minSecretLen is the shortest secret value scrubbed from messages. Salesforce
// consumer secrets are at least 8 characters; shorter values would turn
// ordinary words of a message into "[redacted]".
const minSecretLen = 8

const redacted = "[redacted]"

// isSecretElement reports whether an element's text is never kept: the tree
// records only whether it was non-blank.
func isSecretElement(name string) bool {
	return name == "consumerSecret" || name == "certificate"
}

// node is one element of the generic tree the typed mappers read.
type node struct {
	name     string // local name
	space    string // namespace URL
	line     int    // line of the start tag
	text     []byte // direct character data before the first child; nil for secret elements
	textLine int    // line where text begins
	secret   bool   // a secret element that held non-blank text (the text is dropped)
	children []*node
}

// tree is a parsed document.
type tree struct {
	root *node
	// secrets holds the values of secret elements while one file is parsed,
	// only so that they can be scrubbed from messages. It never leaves the
	// parser.
	secrets []string
}

// scrub replaces every secret value seen so far in s.
func (t *tree) scrub(s string) string {
	for _, v := range t.secrets {
		if len(v) >= minSecretLen {
			s = strings.ReplaceAll(s, v, redacted)
		}
	}
	return s
}

// treeError is a failure to build the tree, at a line.
type treeError struct {
	line int
	err  error
}

// buildTree decodes data into an element tree. It rejects DTDs, undefined
// entities, malformed markup, content outside the root element and documents
// past the depth and element limits.
//
// Documents in the shape Salesforce tools write take a fast path (see
// fastTree); every other document, and every error, goes through
// encoding/xml.
func buildTree(data []byte) (*tree, *treeError) {
	if line, off, ok := checkUTF8(data); !ok {
		return nil, &treeError{line, fmt.Errorf("%w at byte offset %d", ErrInvalidUTF8, off)}
	}
	data = bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF"))
	if t := fastTree(data); t != nil {
		return t, nil
	}
	return decodeTree(data)
}

// decodeTree is buildTree with encoding/xml, for valid UTF-8 without a byte
// order mark.
func decodeTree(data []byte) (*tree, *treeError) {
	t := &tree{}
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	d.CharsetReader = charsetReader

	// Nodes come from slabs, and the text of all nodes from one buffer, to
	// spare an allocation per element. A node's text is always at the end of
	// the buffer while it is being collected, since text is kept only before
	// a node's first child; when the buffer grows, the text collected so far
	// is moved along with it.
	tags := bytes.Count(data, []byte("<")) / 2 // about the number of elements: start and end tags
	var slab []node
	textBuf := make([]byte, 0, len(data)/2)
	stack := make([]*node, 0, 16)
	elements := 0
	for {
		line, _ := d.InputPos() // where the next token starts
		tok, err := d.Token()
		if err == io.EOF {
			if t.root == nil {
				return nil, &treeError{line, fmt.Errorf("%w: no root element", ErrMalformed)}
			}
			return t, nil
		}
		if err != nil {
			return nil, t.decodeError(err, stack, line)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if len(stack) == 0 && t.root != nil {
				return nil, &treeError{line, fmt.Errorf("%w: element <%s> after the root element", ErrMalformed, t.scrub(tok.Name.Local))}
			}
			elements++
			if elements > maxElements {
				return nil, &treeError{line, fmt.Errorf("%w: more than %d elements", ErrTooComplex, maxElements)}
			}
			if len(stack) >= maxDepth {
				return nil, &treeError{line, fmt.Errorf("%w: elements nested more than %d deep", ErrTooComplex, maxDepth)}
			}
			if len(slab) == cap(slab) {
				slab = make([]node, 0, max(min(tags-elements, 256), 16))
			}
			slab = append(slab, node{name: tok.Name.Local, space: tok.Name.Space, line: line})
			n := &slab[len(slab)-1]
			if len(stack) == 0 {
				t.root = n
			} else {
				parent := stack[len(stack)-1]
				parent.children = append(parent.children, n)
			}
			stack = append(stack, n)
		case xml.EndElement:
			// The decoder has already matched it to the open start tag.
			n := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if isSecretElement(n.name) {
				if v := string(bytes.TrimSpace(n.text)); v != "" {
					n.secret = true
					t.secrets = append(t.secrets, v)
				}
				n.text = nil
			}
		case xml.CharData:
			if len(stack) == 0 {
				if len(bytes.TrimSpace(tok)) != 0 {
					return nil, &treeError{line, fmt.Errorf("%w: text outside the root element", ErrMalformed)}
				}
				continue
			}
			n := stack[len(stack)-1]
			if len(n.children) > 0 || (len(n.text) == 0 && len(bytes.TrimSpace(tok)) == 0) {
				continue // layout whitespace, or mixed content nothing reads
			}
			if len(n.text) == 0 {
				n.textLine = line
				n.text = textBuf[len(textBuf):len(textBuf)]
			}
			start := len(textBuf) - len(n.text)
			textBuf = append(textBuf, tok...)
			n.text = textBuf[start:len(textBuf):len(textBuf)]
		case xml.Directive:
			return nil, &treeError{line, ErrDTD}
		}
	}
}

// decodeError turns a decoder error into a treeError. A syntax error inside a
// secret element may quote part of its text (an entity name, say), so its
// details are withheld; any other message is scrubbed of the secret values
// seen so far.
func (t *tree) decodeError(err error, stack []*node, line int) *treeError {
	// Decoder errors that are not syntax errors come from the XML declaration
	// (version, encoding) and quote it, so a fixed message replaces them.
	msg := "unsupported XML declaration: only version 1.0 and UTF-8 are accepted"
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		msg, line = se.Msg, se.Line
	}
	for _, n := range stack {
		if isSecretElement(n.name) {
			msg = fmt.Sprintf("inside <%s> (details withheld: the element holds a secret)", n.name)
			break
		}
	}
	return &treeError{line, fmt.Errorf("%w: %s", ErrMalformed, t.scrub(msg))}
}

// charsetReader accepts the encoding labels that mean UTF-8 (or its ASCII
// subset) and refuses everything else: metadata files are UTF-8.
func charsetReader(label string, r io.Reader) (io.Reader, error) {
	switch strings.ToLower(label) {
	case "utf8", "us-ascii", "ascii":
		return r, nil
	}
	return nil, errors.New("unsupported encoding")
}

// checkUTF8 reports whether data is valid UTF-8 and, if not, the line and
// byte offset of the first bad byte.
func checkUTF8(data []byte) (line, offset int, ok bool) {
	if utf8.Valid(data) {
		return 0, 0, true
	}
	line = 1
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size <= 1 {
			return line, i, false
		}
		if r == '\n' {
			line++
		}
		i += size
	}
	return line, len(data), false // unreachable: utf8.Valid said otherwise
}
