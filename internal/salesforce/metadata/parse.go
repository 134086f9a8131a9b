package metadata

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Metadata kinds, as Kind returns them. Each is also the root element name of
// the files of that kind.
const (
	KindConnectedApp        = "ConnectedApp"
	KindECA                 = "ExternalClientApplication"
	KindECAOAuth            = "ExtlClntAppOauthSettings"
	KindECAGlobalOAuth      = "ExtlClntAppGlobalOauthSettings"
	KindECAOAuthPolicy      = "ExtlClntAppOauthConfigurablePolicies"
	KindECAPluginPolicy     = "ExtlClntAppConfigurablePolicies"
	KindPermissionSet       = "PermissionSet"
	KindMutingPermissionSet = "MutingPermissionSet"
	KindPermissionSetGroup  = "PermissionSetGroup"
	KindProfile             = "Profile"
)

// DefaultMaxFileSize is the size limit on one metadata file when
// Options.MaxFileSize is zero, and the limit Parse applies.
const DefaultMaxFileSize int64 = 10 << 20

// suffixes maps file-name suffixes to kinds. Files are matched by suffix
// alone: real repositories use non-standard folder names.
var suffixes = []struct{ suffix, kind string }{
	{".connectedApp-meta.xml", KindConnectedApp},
	{".connectedApp", KindConnectedApp}, // Metadata API (package.xml) format
	{".eca-meta.xml", KindECA},
	{".ecaOauth-meta.xml", KindECAOAuth},
	{".ecaGlblOauth-meta.xml", KindECAGlobalOAuth},
	{".ecaOauthPlcy-meta.xml", KindECAOAuthPolicy},
	{".ecaPlcy-meta.xml", KindECAPluginPolicy},
	{".permissionset-meta.xml", KindPermissionSet},
	{".mutingpermissionset-meta.xml", KindMutingPermissionSet},
	{".permissionsetgroup-meta.xml", KindPermissionSetGroup},
	{".profile-meta.xml", KindProfile},
}

// Kind returns the metadata kind of a file path (one of the Kind constants),
// judged by the file name's suffix, or "" when the path is not a metadata file
// this package reads. The name before the suffix must not be empty.
func Kind(path string) string {
	kind, _ := classify(path)
	return kind
}

// classify returns a path's kind and its API name: the base name without the
// suffix.
func classify(path string) (kind, name string) {
	base := filepath.Base(path)
	for _, s := range suffixes {
		if len(base) > len(s.suffix) && strings.HasSuffix(base, s.suffix) {
			return s.kind, strings.TrimSuffix(base, s.suffix)
		}
	}
	return "", ""
}

// Record is one parsed metadata file. Its dynamic type is one of
// *ConnectedApp, *PermissionSet (also for muting permission sets),
// *PermissionSetGroup, *Profile, or *ECA for any file of the External Client
// App family, with exactly the part that file holds set.
type Record interface {
	record()
}

func (*ConnectedApp) record()       {}
func (*ECA) record()                {}
func (*PermissionSet) record()      {}
func (*PermissionSetGroup) record() {}
func (*Profile) record()            {}

// Parse parses the bytes of one metadata file. path decides the kind (see
// Kind) and the record's name, and is the file named in every Location,
// Warning and error; it is not read. Data over DefaultMaxFileSize is refused.
//
// On failure the record and warnings are nil and the error is a *FileError.
//
// The value of a consumerSecret or certificate element is never kept, only
// its presence and line. Messages do not quote it either: a syntax error
// inside such an element withholds its details, and a secret value of 8
// characters or more is replaced by "[redacted]" wherever else a warning or
// error would quote it.
func Parse(path string, data []byte) (Record, []Warning, error) {
	if n := int64(len(data)); n > DefaultMaxFileSize {
		return nil, nil, &FileError{File: path, Err: tooLarge(n, DefaultMaxFileSize)}
	}
	rec, warnings, ferr := parse(path, data)
	if ferr != nil {
		return nil, nil, ferr
	}
	return rec, warnings, nil
}

// parse is Parse without the size check; Load checks sizes before reading.
func parse(path string, data []byte) (Record, []Warning, *FileError) {
	kind, name := classify(path)
	if kind == "" {
		return nil, nil, &FileError{File: path, Err: errors.New("not a metadata file this parser reads")}
	}
	t, terr := buildTree(data)
	if terr != nil {
		return nil, nil, &FileError{File: path, Line: terr.line, Err: terr.err}
	}
	root := t.root
	if root.name != kind {
		return nil, nil, &FileError{File: path, Line: root.line,
			Err: fmt.Errorf("%w: <%s>, expected <%s>", ErrWrongRoot, t.scrub(root.name), kind)}
	}
	p := &parser{file: path}
	switch root.space {
	case metadataNS:
	case "":
		p.warn(root.line, "root element <%s> has no namespace; expected %s", root.name, metadataNS)
	default:
		p.warn(root.line, "root element <%s> is in namespace %q; expected %s", root.name, root.space, metadataNS)
	}

	var rec Record
	switch kind {
	case KindConnectedApp:
		rec = p.connectedApp(root, name)
	case KindECA:
		rec = &ECA{Name: name, Header: p.ecaHeader(root)}
	case KindECAOAuth:
		o := p.ecaOAuth(root)
		rec = &ECA{Name: p.ecaName(o.App, root, name), OAuth: o}
	case KindECAGlobalOAuth:
		g := p.ecaGlobalOAuth(root)
		rec = &ECA{Name: p.ecaName(g.App, root, name), GlobalOAuth: g}
	case KindECAOAuthPolicy:
		o := p.ecaOAuthPolicy(root)
		rec = &ECA{Name: p.ecaName(o.App, root, name), OAuthPolicy: o}
	case KindECAPluginPolicy:
		o := p.ecaPluginPolicy(root)
		rec = &ECA{Name: p.ecaName(o.App, root, name), PluginPolicy: o}
	case KindPermissionSet, KindMutingPermissionSet:
		rec = p.permissionSet(root, name, kind == KindMutingPermissionSet)
	case KindPermissionSetGroup:
		rec = p.permissionSetGroup(root, name)
	case KindProfile:
		rec = p.profile(root, name)
	}
	for i := range p.warnings {
		p.warnings[i].Message = t.scrub(p.warnings[i].Message)
	}
	return rec, p.warnings, nil
}

func tooLarge(size, limit int64) error {
	return fmt.Errorf("%w: file is %d bytes, over the %s limit", ErrTooLarge, size, formatSize(limit))
}

// parser maps one document's tree onto a typed record, collecting warnings.
type parser struct {
	file     string
	warnings []Warning
}

func (p *parser) loc(n *node) Location { return Location{File: p.file, Line: n.line} }

func (p *parser) warn(line int, format string, args ...any) {
	p.warnings = append(p.warnings, Warning{Location{p.file, line}, fmt.Sprintf(format, args...)})
}

// unknown reports an element the schema does not have.
func (p *parser) unknown(n, parent *node) {
	p.warn(n.line, "unknown element <%s> in <%s>", n.name, parent.name)
}

// duplicate reports a second occurrence of a single-valued element.
func (p *parser) duplicate(n, parent *node) {
	p.warn(n.line, "duplicate <%s> in <%s>; the first is used", n.name, parent.name)
}

// leaf returns an element's text, trimmed, warning when a simple-valued
// element has child elements (which are ignored).
func (p *parser) leaf(n *node) string {
	return strings.TrimSpace(p.rawLeaf(n))
}

// rawLeaf is leaf without the trimming, for values split into items.
func (p *parser) rawLeaf(n *node) string {
	if len(n.children) > 0 {
		p.warn(n.children[0].line, "unexpected element <%s> in <%s>", n.children[0].name, n.name)
	}
	return string(n.text)
}

// setText maps a single-valued text element.
func (p *parser) setText(dst *Text, n, parent *node) {
	if dst.Line != 0 {
		p.duplicate(n, parent)
		return
	}
	*dst = Text{Value: p.leaf(n), Line: n.line}
}

// setBool maps a single-valued xsd:boolean element. A value that is not a
// boolean is reported and ignored.
func (p *parser) setBool(dst *Bool, n, parent *node) {
	if dst.Set {
		p.duplicate(n, parent)
		return
	}
	v := p.leaf(n)
	switch v {
	case "true", "1":
		*dst = Bool{Value: true, Set: true, Line: n.line}
	case "false", "0":
		*dst = Bool{Value: false, Set: true, Line: n.line}
	default:
		p.warn(n.line, "invalid boolean %s in <%s>; value ignored", quote(v), n.name)
	}
}

// setInt maps a single-valued xsd:int element. A value that is not an integer
// is reported and ignored.
func (p *parser) setInt(dst *Int, n, parent *node) {
	if dst.Set {
		p.duplicate(n, parent)
		return
	}
	v := p.leaf(n)
	i, err := strconv.ParseInt(v, 10, 32)
	if err != nil {
		p.warn(n.line, "invalid integer %s in <%s>; value ignored", quote(v), n.name)
		return
	}
	*dst = Int{Value: int(i), Set: true, Line: n.line}
}

// setSecret records that a secret-bearing element is present: its line, and
// whether it held a value. The value itself never reached the tree.
func (p *parser) setSecret(present *bool, line *int, n, parent *node) {
	if *line != 0 {
		p.duplicate(n, parent)
		return
	}
	if len(n.children) > 0 {
		p.warn(n.children[0].line, "unexpected element <%s> in <%s>", n.children[0].name, n.name)
	}
	*present, *line = n.secret, n.line
}

// item is one value of a list written into a single element, with its line.
type item struct {
	value string
	line  int
}

// items splits an element's text on sep, trimming space around each item and
// dropping empty ones; each item keeps the line it starts on.
func (p *parser) items(n *node, sep string) []item {
	text := p.rawLeaf(n)
	line := n.textLine
	sepLines := strings.Count(sep, "\n")
	var out []item
	for _, part := range strings.Split(text, sep) {
		lead := len(part) - len(strings.TrimLeftFunc(part, unicode.IsSpace))
		if v := strings.TrimSpace(part); v != "" {
			out = append(out, item{v, line + strings.Count(part[:lead], "\n")})
		}
		line += strings.Count(part, "\n") + sepLines
	}
	return out
}

// values is items without the lines.
func (p *parser) values(n *node, sep string) []string {
	var out []string
	for _, it := range p.items(n, sep) {
		out = append(out, it.value)
	}
	return out
}

// ipRange maps an IP range element whose start and end children have the
// given names.
func (p *parser) ipRange(n *node, startName, endName string) IPRange {
	var r IPRange
	var start, end, desc Text
	for _, c := range n.children {
		switch c.name {
		case startName:
			p.setText(&start, c, n)
		case endName:
			p.setText(&end, c, n)
		case "description":
			p.setText(&desc, c, n)
		default:
			p.unknown(c, n)
		}
	}
	if start.Line == 0 || end.Line == 0 {
		p.warn(n.line, "<%s> is missing <%s> or <%s>", n.name, startName, endName)
	}
	r.Start, r.End, r.Description = start.Value, end.Value, desc.Value
	return r
}

// quote renders a value from the file for a message: quoted, and cut short
// when long.
func quote(s string) string {
	const limit = 64
	if utf8.RuneCountInString(s) > limit {
		s = string([]rune(s)[:limit]) + "…"
	}
	return strconv.Quote(s)
}
