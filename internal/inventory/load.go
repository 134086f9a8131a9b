package inventory

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/lexer"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// MaxFileSize is the size of the largest file Load reads: 10 MiB. Larger
// files are rejected before they are read.
const MaxFileSize = 10 << 20

// maxFlowDepth bounds the nesting of flow collections ([...] and {...}). The
// YAML parser takes time quadratic in that depth, and manifests need a few
// levels at most.
const maxFlowDepth = 64

// Options controls Load.
type Options struct {
	// RequireManifests makes every YAML file read hold Steward manifests,
	// and makes a path set without any YAML file an error. Set it for a tree
	// kept for manifests only (steward check --inventory DIR, steward
	// validate DIR). Leave it unset when scanning a Salesforce DX project,
	// where YAML files that are not Steward manifests (CI workflows and the
	// like) are skipped without a word, malformed ones included, unless they
	// mention steward.dev/.
	RequireManifests bool

	// RequireManifestsIn lists paths, among those given to Load, that are
	// read as if RequireManifests were set; the others are read with
	// manifests optional. A file is read strictly when it lies in one of
	// these paths, however it was reached. This lets one call read a
	// Salesforce DX project and an inventory tree kept elsewhere (steward
	// check PATH --inventory DIR), with names and references checked across
	// both.
	RequireManifestsIn []string
}

// Load reads the manifests in paths. Each path is a YAML file, read whatever
// its name, or a directory searched recursively for *.yaml and *.yml files
// (skipping .git and node_modules). A file may hold several documents
// separated by "---"; a document is a manifest when its apiVersion starts
// with steward.dev/. A file holding manifests must hold nothing else.
//
// Load goes on past errors: one bad file does not stop the others, nor a bad
// document the other documents of its file. It returns the Inventory of every
// valid manifest (in the order read, each with its Location) and, when
// anything was wrong, an ErrorList of every problem sorted by file and line;
// use Errors to get at the entries. In the returned Inventory names are
// unique within each kind and every reference resolves: a manifest with a
// dangling reference or a duplicate name is left out, and so is an Exception
// whose Identity was left out.
func Load(paths []string, opts Options) (*Inventory, error) {
	l := &loader{opts: opts, seen: map[string]bool{}}
	for _, p := range opts.RequireManifestsIn {
		l.strictRoots = append(l.strictRoots, canonical(p))
	}
	if len(paths) == 0 && opts.RequireManifests {
		l.errs = append(l.errs, &Error{Msg: "no manifests found: no paths given"})
	}
	for _, p := range paths {
		l.loadPath(p)
	}
	l.readFiles()
	return l.finish()
}

// loader holds the state of one Load call.
type loader struct {
	opts        Options
	strictRoots []string        // canonical RequireManifestsIn
	seen        map[string]bool // canonical paths of the files read
	docs        []*loadedDoc
	errs        []*Error
	jobs        []*fileJob // files to read, in the order found
}

// fileJob is one file to read and what reading it gave. Files are read and
// parsed concurrently; their results are merged in the order found.
type fileJob struct {
	path   string
	size   int64 // from stat; the read is bounded again
	strict bool
	errs   []*Error
	docs   []*loadedDoc
}

// loadedDoc is one manifest that passed its own checks.
type loadedDoc struct {
	kind    string
	name    string
	loc     Location
	namePos position
	// The document's reference to another: an Identity's owner Team, an
	// Exception's Identity. ref is "" when there is none.
	ref       string
	refKind   string
	refField  string
	refPos    position
	identity  *Identity
	team      *Team
	exception *Exception
	// invalid marks a document with shape errors (already reported). It is
	// kept only so that its references are still checked and its name still
	// counts as defined; it never reaches the Inventory.
	invalid bool
}

// fileResult is what one file held.
type fileResult struct {
	errs      []*Error
	manifests int        // documents whose apiVersion starts with steward.dev/
	others    []position // where the other non-empty documents start
}

// loadSource reads the documents of one file; strict says whether the file
// must hold manifests.
func (l *loader) loadSource(file string, data []byte, strict bool) {
	var job fileJob
	l.parseSource(&job, file, data, strict)
	l.errs = append(l.errs, job.errs...)
	l.docs = append(l.docs, job.docs...)
}

// parseSource is loadSource storing its results in job. It touches no state
// of l but its options, so files can be parsed concurrently.
func (l *loader) parseSource(job *fileJob, file string, data []byte, strict bool) {
	var fr fileResult
	var docs []*loadedDoc
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if at, ok := invalidUTF8(data); !ok {
		fr.errs = append(fr.errs, &Error{File: file, Line: at.line, Column: at.col, Msg: "invalid UTF-8"})
	} else {
		var r plainReader
		for _, ch := range splitDocuments(data) {
			docs = append(docs, l.loadChunk(file, ch, &r, &fr)...)
		}
	}
	stewardFile := fr.manifests > 0 || bytes.Contains(data, []byte(APIGroup))
	switch {
	case !stewardFile && !strict:
		return // not ours: CI workflows, Helm templates and the like
	case fr.manifests == 0 && len(fr.errs) == 0:
		if strict {
			job.errs = append(job.errs, &Error{File: file, Msg: "no Steward manifest (apiVersion " + APIGroup + "...) in file"})
		}
		return
	}
	if fr.manifests > 0 {
		for _, at := range fr.others {
			fr.errs = append(fr.errs, &Error{File: file, Line: at.line, Column: at.col,
				Msg: "document is not a Steward manifest (apiVersion " + APIGroup + "...); a file holding manifests must hold only manifests"})
		}
	}
	job.errs = append(job.errs, fr.errs...)
	job.docs = append(job.docs, docs...)
}

// invalidUTF8 returns the position of the first byte that is not UTF-8.
func invalidUTF8(data []byte) (position, bool) {
	if utf8.Valid(data) {
		return position{}, true
	}
	at := position{line: 1, col: 1}
	for len(data) > 0 {
		r, size := utf8.DecodeRune(data)
		if r == utf8.RuneError && size <= 1 {
			return at, false
		}
		if r == '\n' {
			at.line++
			at.col = 1
		} else {
			at.col++
		}
		data = data[size:]
	}
	return at, false
}

// chunk is the text of one YAML document and the line it starts on.
type chunk struct {
	data []byte
	line int
}

// splitDocuments cuts a YAML stream at the "---" lines that start documents,
// so that a syntax error in one document does not hide the others. YAML
// forbids such a line inside any scalar, so the cut matches the stream's
// structure. Comments and directives before a "---" stay with its document.
func splitDocuments(data []byte) []chunk {
	var chunks []chunk
	start, startLine, line := 0, 1, 1
	content := false
	for off := 0; off < len(data); line++ {
		end := bytes.IndexByte(data[off:], '\n')
		if end < 0 {
			end = len(data)
		} else {
			end += off + 1
		}
		text := data[off:end]
		if isDocumentStart(text) {
			if content {
				chunks = append(chunks, chunk{data: data[start:off], line: startLine})
				start, startLine = off, line
			}
			content = true
		} else if !content {
			t := bytes.TrimLeft(text, " \t")
			content = len(bytes.TrimSpace(t)) > 0 && t[0] != '#' && text[0] != '%'
		}
		off = end
	}
	if start < len(data) {
		chunks = append(chunks, chunk{data: data[start:], line: startLine})
	}
	return chunks
}

func isDocumentStart(line []byte) bool {
	if !bytes.HasPrefix(line, []byte("---")) {
		return false
	}
	return len(line) == 3 || strings.IndexByte(" \t\r\n", line[3]) >= 0
}

// loadChunk loads the manifests one document holds: through the fast path
// when it can (see fastload.go), reading with r, else through parseChunk.
func (l *loader) loadChunk(file string, ch chunk, r *plainReader, fr *fileResult) []*loadedDoc {
	if d, ok := fastDocument(file, ch, r); ok {
		fr.manifests++
		return []*loadedDoc{d}
	}
	return l.parseChunk(file, ch, fr)
}

// parseChunk parses one document with goccy/go-yaml, reporting every
// problem, and loads the manifests it holds.
func (l *loader) parseChunk(file string, ch chunk, fr *fileResult) []*loadedDoc {
	offset := ch.line - 1
	tokens := lexer.Tokenize(string(ch.data))
	if tk := tokens.InvalidToken(); tk != nil {
		fr.errs = append(fr.errs, syntaxError(file, offset, tk, tk.Error))
		return nil
	}
	depth := 0
	for _, tk := range tokens {
		switch tk.Type {
		case token.SequenceStartType, token.MappingStartType:
			if depth++; depth > maxFlowDepth {
				fr.errs = append(fr.errs, syntaxError(file, offset, tk, fmt.Sprintf("collections nested more than %d deep", maxFlowDepth)))
				return nil
			}
		case token.SequenceEndType, token.MappingEndType:
			depth = max(depth-1, 0)
		}
	}
	var f *ast.File
	err := safely(func() (err error) {
		f, err = parser.Parse(tokens, 0)
		return err
	})
	if err != nil {
		fr.errs = append(fr.errs, parseError(file, offset, err, ch.line))
		return nil
	}
	var docs []*loadedDoc
	for _, doc := range f.Docs {
		if d := l.loadDocument(file, offset, doc.Body, fr); d != nil {
			docs = append(docs, d)
		}
	}
	return docs
}

// safely runs f, turning a panic in the YAML library into an error.
func safely(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errors.New("internal YAML parser failure")
		}
	}()
	return f()
}

var (
	safeAPIVersion = regexp.MustCompile(`^steward\.dev/[a-z0-9]{1,16}$`)
	doubleQuoted   = regexp.MustCompile(`"(?:[^"\\\n]|\\.)*"`)
	spaces         = regexp.MustCompile(`\s+`)
	positionRef    = regexp.MustCompile(`\[([0-9]{1,9}):[0-9]{1,9}\]`)
)

// sanitize removes from a YAML library message everything that may be text
// of the document (the library puts such text in double quotes), and turns
// the positions it mentions, which count lines from the start of the
// document's chunk, into file line numbers.
func sanitize(msg string, offset int) string {
	msg, _, _ = strings.Cut(msg, "\n")
	msg = doubleQuoted.ReplaceAllString(msg, "")
	msg = positionRef.ReplaceAllStringFunc(msg, func(m string) string {
		n, _ := strconv.Atoi(positionRef.FindStringSubmatch(m)[1])
		return "line " + strconv.Itoa(n+offset)
	})
	msg = strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return -1
		}
		return r
	}, msg)
	msg = strings.TrimRight(strings.TrimSpace(spaces.ReplaceAllString(msg, " ")), ":")
	if len(msg) > 120 {
		msg = msg[:120]
	}
	return msg
}

func syntaxError(file string, offset int, tk *token.Token, msg string) *Error {
	e := &Error{File: file, Line: offset + 1, Msg: "malformed YAML"}
	if tk != nil && tk.Position != nil {
		e.Line, e.Column = tk.Position.Line+offset, tk.Position.Column
	}
	if m := sanitize(msg, offset); m != "" {
		e.Msg += ": " + m
	}
	return e
}

// parseError turns an error of the YAML parser into an Error at its
// position, with the parser's description sanitized.
func parseError(file string, offset int, err error, line int) *Error {
	var ye yaml.Error
	if errors.As(err, &ye) {
		return syntaxError(file, offset, ye.GetToken(), ye.GetMessage())
	}
	return &Error{File: file, Line: line, Msg: "malformed YAML: " + sanitize(err.Error(), offset)}
}

// loadDocument checks one document and decodes it when it is a valid
// manifest. Documents that are not manifests are counted in fr.
func (l *loader) loadDocument(file string, offset int, body ast.Node, fr *fileResult) *loadedDoc {
	if body == nil {
		return nil // empty document
	}
	c := newShapeChecker(file, offset, body)
	start := c.posOf(body)
	values, isMap := entries(c.resolve(body))
	apiVersion, avNode := c.field(values, "apiVersion")
	if !isMap || !strings.HasPrefix(apiVersion, APIGroup) {
		fr.others = append(fr.others, start)
		return nil
	}
	fr.manifests++
	if apiVersion != APIVersion {
		msg := "unsupported apiVersion"
		if safeAPIVersion.MatchString(apiVersion) {
			msg += " " + apiVersion
		}
		c.add(c.posOf(avNode), msg+" (supported: "+APIVersion+")")
		fr.errs = append(fr.errs, c.errs...)
		return nil
	}
	kind, kindNode := c.field(values, "kind")
	t, ok := documentTypes[kind]
	if !ok {
		valid := " (valid kinds: " + strings.Join(kinds, ", ") + ")"
		switch {
		case kindNode == nil:
			c.add(start, `missing required field "kind"`+valid)
		case safeName(kind):
			c.add(c.posOf(kindNode), "kind: unknown kind "+kind+valid)
		default:
			c.add(c.posOf(kindNode), "kind: unknown kind"+valid)
		}
		fr.errs = append(fr.errs, c.errs...)
		return nil
	}
	// The shape check decodes as it goes: it accepts only what fits t exactly
	// (no unknown fields, no coercion), so one walk both checks and decodes.
	v := reflect.New(t)
	c.check(body, t, nil, path{at: start}, v.Elem())
	d := newLoadedDoc(v.Elem().Interface(), Location{File: file, Line: start.line}, c.pos)
	if d.exception != nil && d.exception.Spec.Identity == "" && d.exception.Spec.Resource == "" && len(c.errs) == 0 {
		c.add(start, `spec: missing required field "identity" (or "resource", for an exception no identity covers)`)
	}
	if len(c.errs) > 0 {
		fr.errs = append(fr.errs, c.errs...)
		d.invalid = true
	}
	return d
}

// field returns the value of a top-level string field and its node; the
// value is "" when the field is missing or not a string.
func (c *shapeChecker) field(values []*ast.MappingValueNode, name string) (string, ast.Node) {
	for _, mv := range values {
		if k, _, ok := c.keyOf(mv.Key); ok && k == name {
			s, _ := scalarString(c.resolve(mv.Value))
			return s, mv.Value
		}
	}
	return "", nil
}

// newLoadedDoc wraps a decoded document; pos holds the positions of the
// values the loader reads, by path (see shapeChecker.pos).
func newLoadedDoc(v any, loc Location, pos map[string]position) *loadedDoc {
	d := &loadedDoc{loc: loc, namePos: pos["metadata.name"]}
	switch doc := v.(type) {
	case identityDocument:
		d.kind, d.name = KindIdentity, doc.Metadata.Name
		d.ref, d.refKind, d.refField, d.refPos = doc.Spec.Owner, KindTeam, "spec.owner", pos["spec.owner"]
		d.identity = &Identity{Metadata: doc.Metadata, Spec: doc.Spec, Location: loc}
	case teamDocument:
		d.kind, d.name = KindTeam, doc.Metadata.Name
		d.team = &Team{Metadata: doc.Metadata, Spec: doc.Spec, Location: loc}
	case exceptionDocument:
		d.kind, d.name = KindException, doc.Metadata.Name
		d.ref, d.refKind, d.refField, d.refPos = doc.Spec.Identity, KindIdentity, "spec.identity", pos["spec.identity"]
		d.exception = &Exception{Metadata: doc.Metadata, Spec: doc.Spec, Location: loc}
	}
	return d
}
