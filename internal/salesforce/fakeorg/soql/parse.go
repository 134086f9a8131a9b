package soql

import (
	"strconv"
	"strings"
	"time"
)

// Query is a parsed SELECT statement.
type Query struct {
	Fields  []Path // selected fields; empty when Count is set
	Count   bool   // SELECT count()
	From    string
	Where   Expr // nil without a WHERE clause
	OrderBy []Order
	Limit   int // -1 when absent
	Offset  int // -1 when absent
}

// Path is a field reference as written, split on dots: ["Profile", "Name"].
type Path []string

// String joins the path with dots.
func (p Path) String() string { return strings.Join(p, ".") }

// Order is one ORDER BY item.
type Order struct {
	Path       Path
	Desc       bool
	NullsFirst bool // defaults: true for ASC, false for DESC
}

// Expr is a WHERE condition: *And, *Or, *Not, *Compare or *In.
type Expr interface{ expr() }

// And is a conjunction.
type And struct{ Left, Right Expr }

// Or is a disjunction.
type Or struct{ Left, Right Expr }

// Not negates a condition.
type Not struct{ X Expr }

// Compare is `field op value`, op one of = != < <= > >= LIKE.
type Compare struct {
	Field Path
	Op    string
	Value Value
}

// In is `field [NOT] IN (values)` or `field [NOT] IN (SELECT ...)`.
type In struct {
	Field  Path
	Negate bool
	Values []Value
	Sub    *Query // a semi-join subquery selecting one field
}

func (*And) expr()     {}
func (*Or) expr()      {}
func (*Not) expr()     {}
func (*Compare) expr() {}
func (*In) expr()      {}

// ValueKind says what a literal is.
type ValueKind int

// Literal kinds.
const (
	String ValueKind = iota
	Number
	Bool
	Null
	Date        // Time holds midnight UTC of the day
	DateTime    // Time holds the instant
	DateLiteral // a relative date such as TODAY or LAST_N_DAYS:30; see Name and N
)

// Value is a literal.
type Value struct {
	Kind ValueKind
	Str  string
	Num  float64
	Bool bool
	Time time.Time
	Name string // DateLiteral name, upper case
	N    int    // DateLiteral argument
}

// dateLiterals lists the relative date literals the parser accepts and
// whether they take an :n argument.
var dateLiterals = map[string]bool{
	"TODAY": false, "YESTERDAY": false, "TOMORROW": false,
	"LAST_N_DAYS": true, "NEXT_N_DAYS": true,
}

// Parse parses one SOQL query.
func Parse(q string) (*Query, error) {
	toks, err := lex(q)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	query, err := p.query(0)
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tokEOF {
		return nil, unexpected(t)
	}
	return query, nil
}

type parser struct {
	toks []token
	i    int
}

// maxDepth bounds nesting of parentheses and subqueries.
const maxDepth = 64

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

func unexpected(t token) error {
	if t.kind == tokEOF {
		return errorf(t.pos, "unexpected token: '<EOF>'")
	}
	text := t.text
	if t.kind == tokString {
		text = "'" + text + "'"
	}
	return errorf(t.pos, "unexpected token: '%s'", text)
}

func (p *parser) keyword(kw string) bool {
	t := p.peek()
	if t.kind == tokIdent && strings.EqualFold(t.text, kw) {
		p.i++
		return true
	}
	return false
}

func (p *parser) expectKeyword(kw string) error {
	if !p.keyword(kw) {
		return unexpected(p.peek())
	}
	return nil
}

func (p *parser) expect(k tokenKind) (token, error) {
	t := p.peek()
	if t.kind != k {
		return t, unexpected(t)
	}
	return p.next(), nil
}

var reserved = map[string]bool{
	"SELECT": true, "FROM": true, "WHERE": true, "AND": true, "OR": true, "NOT": true, "IN": true,
	"LIKE": true, "ORDER": true, "BY": true, "LIMIT": true, "OFFSET": true, "ASC": true, "DESC": true,
	"NULLS": true, "FIRST": true, "LAST": true, "NULL": true, "TRUE": true, "FALSE": true, "GROUP": true,
	"HAVING": true, "WITH": true, "FOR": true, "USING": true, "INCLUDES": true, "EXCLUDES": true,
}

func (p *parser) query(depth int) (*Query, error) {
	if depth > maxDepth {
		return nil, errorf(p.peek().pos, "query is nested too deeply")
	}
	if err := p.expectKeyword("SELECT"); err != nil {
		return nil, err
	}
	q := &Query{Limit: -1, Offset: -1}
	if t := p.peek(); t.kind == tokIdent && strings.EqualFold(t.text, "count") && p.toks[p.i+1].kind == tokLParen {
		p.i += 2
		if t := p.peek(); t.kind != tokRParen {
			// count(field) is an aggregate with GROUP BY semantics, which the
			// subset does not serve.
			return nil, errorf(t.pos, "unexpected token: '%s'", t.text)
		}
		p.next()
		q.Count = true
	} else {
		for {
			f, err := p.path()
			if err != nil {
				return nil, err
			}
			q.Fields = append(q.Fields, f)
			if p.peek().kind != tokComma {
				break
			}
			p.next()
		}
	}
	if err := p.expectKeyword("FROM"); err != nil {
		return nil, err
	}
	from, err := p.expect(tokIdent)
	if err != nil {
		return nil, err
	}
	if strings.Contains(from.text, ".") || reserved[strings.ToUpper(from.text)] {
		return nil, unexpected(from)
	}
	q.From = from.text
	if p.keyword("WHERE") {
		if q.Where, err = p.or(depth); err != nil {
			return nil, err
		}
	}
	if p.keyword("ORDER") {
		if err := p.expectKeyword("BY"); err != nil {
			return nil, err
		}
		for {
			o, err := p.order()
			if err != nil {
				return nil, err
			}
			q.OrderBy = append(q.OrderBy, o)
			if p.peek().kind != tokComma {
				break
			}
			p.next()
		}
	}
	if p.keyword("LIMIT") {
		if q.Limit, err = p.count(); err != nil {
			return nil, err
		}
	}
	if p.keyword("OFFSET") {
		if q.Offset, err = p.count(); err != nil {
			return nil, err
		}
	}
	return q, nil
}

func (p *parser) count() (int, error) {
	t, err := p.expect(tokNumber)
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(t.text)
	if err != nil || n < 0 {
		return 0, errorf(t.pos, "unexpected token: '%s'", t.text)
	}
	return n, nil
}

func (p *parser) path() (Path, error) {
	t := p.peek()
	if t.kind != tokIdent || reserved[strings.ToUpper(t.text)] {
		return nil, unexpected(t)
	}
	p.next()
	parts := strings.Split(t.text, ".")
	for _, s := range parts {
		if s == "" || isDigit(s[0]) {
			return nil, errorf(t.pos, "unexpected token: '%s'", t.text)
		}
	}
	return parts, nil
}

func (p *parser) order() (Order, error) {
	f, err := p.path()
	if err != nil {
		return Order{}, err
	}
	o := Order{Path: f, NullsFirst: true}
	if p.keyword("DESC") {
		o.Desc, o.NullsFirst = true, false
	} else {
		p.keyword("ASC")
	}
	if p.keyword("NULLS") {
		switch {
		case p.keyword("FIRST"):
			o.NullsFirst = true
		case p.keyword("LAST"):
			o.NullsFirst = false
		default:
			return Order{}, unexpected(p.peek())
		}
	}
	return o, nil
}

func (p *parser) or(depth int) (Expr, error) {
	left, err := p.and(depth)
	if err != nil {
		return nil, err
	}
	for p.keyword("OR") {
		right, err := p.and(depth)
		if err != nil {
			return nil, err
		}
		left = &Or{left, right}
	}
	return left, nil
}

func (p *parser) and(depth int) (Expr, error) {
	left, err := p.unary(depth)
	if err != nil {
		return nil, err
	}
	for p.keyword("AND") {
		right, err := p.unary(depth)
		if err != nil {
			return nil, err
		}
		left = &And{left, right}
	}
	return left, nil
}

func (p *parser) unary(depth int) (Expr, error) {
	if depth > maxDepth {
		return nil, errorf(p.peek().pos, "query is nested too deeply")
	}
	if p.keyword("NOT") {
		x, err := p.unary(depth + 1)
		if err != nil {
			return nil, err
		}
		return &Not{x}, nil
	}
	if p.peek().kind == tokLParen {
		p.next()
		x, err := p.or(depth + 1)
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tokRParen); err != nil {
			return nil, err
		}
		return x, nil
	}
	return p.condition(depth)
}

func (p *parser) condition(depth int) (Expr, error) {
	field, err := p.path()
	if err != nil {
		return nil, err
	}
	switch t := p.peek(); {
	case t.kind == tokOp:
		p.next()
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		return &Compare{Field: field, Op: t.text, Value: v}, nil
	case p.keyword("LIKE"):
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		if v.Kind != String {
			return nil, errorf(t.pos, "invalid operator on field: %s; LIKE needs a string value", field)
		}
		return &Compare{Field: field, Op: "LIKE", Value: v}, nil
	case p.keyword("NOT"):
		if err := p.expectKeyword("IN"); err != nil {
			return nil, err
		}
		return p.in(field, true, depth)
	case p.keyword("IN"):
		return p.in(field, false, depth)
	default:
		return nil, unexpected(t)
	}
}

func (p *parser) in(field Path, negate bool, depth int) (Expr, error) {
	if _, err := p.expect(tokLParen); err != nil {
		return nil, err
	}
	in := &In{Field: field, Negate: negate}
	if t := p.peek(); t.kind == tokIdent && strings.EqualFold(t.text, "SELECT") {
		sub, err := p.query(depth + 1)
		if err != nil {
			return nil, err
		}
		if sub.Count || len(sub.Fields) != 1 {
			return nil, errorf(t.pos, "Semi join sub-selects are only allowed to select one field")
		}
		in.Sub = sub
	} else {
		for {
			v, err := p.value()
			if err != nil {
				return nil, err
			}
			if v.Kind == DateLiteral {
				return nil, errorf(t.pos, "unexpected token: '%s'", v.Name)
			}
			in.Values = append(in.Values, v)
			if p.peek().kind != tokComma {
				break
			}
			p.next()
		}
	}
	if _, err := p.expect(tokRParen); err != nil {
		return nil, err
	}
	return in, nil
}

func (p *parser) value() (Value, error) {
	t := p.next()
	switch t.kind {
	case tokString:
		return Value{Kind: String, Str: t.text}, nil
	case tokNumber:
		n, err := strconv.ParseFloat(t.text, 64)
		if err != nil {
			return Value{}, errorf(t.pos, "unexpected token: '%s'", t.text)
		}
		return Value{Kind: Number, Num: n, Str: t.text}, nil
	case tokDate:
		d, err := time.Parse("2006-01-02", t.text)
		if err != nil {
			return Value{}, errorf(t.pos, "line 1:%d no viable alternative at character '%s'", t.pos, t.text)
		}
		return Value{Kind: Date, Time: d, Str: t.text}, nil
	case tokDateTime:
		d, err := parseDateTime(t.text)
		if err != nil {
			return Value{}, errorf(t.pos, "line 1:%d no viable alternative at character '%s'", t.pos, t.text)
		}
		return Value{Kind: DateTime, Time: d, Str: t.text}, nil
	case tokIdent:
		up := strings.ToUpper(t.text)
		switch up {
		case "NULL":
			return Value{Kind: Null}, nil
		case "TRUE", "FALSE":
			return Value{Kind: Bool, Bool: up == "TRUE"}, nil
		}
		takesN, ok := dateLiterals[up]
		if !ok {
			return Value{}, unexpected(t)
		}
		v := Value{Kind: DateLiteral, Name: up}
		if takesN {
			if _, err := p.expect(tokColon); err != nil {
				return Value{}, err
			}
			n, err := p.count()
			if err != nil {
				return Value{}, err
			}
			v.N = n
		}
		return v, nil
	default:
		return Value{}, unexpected(t)
	}
}

// parseDateTime accepts the SOQL dateTime forms: YYYY-MM-DDThh:mm:ss with an
// optional fraction, then Z or ±hh:mm (or ±hhmm).
func parseDateTime(s string) (time.Time, error) {
	for _, layout := range []string{
		"2006-01-02T15:04:05Z07:00", "2006-01-02T15:04:05.999999999Z07:00",
		"2006-01-02T15:04:05-0700", "2006-01-02T15:04:05.999999999-0700",
	} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, errorf(0, "bad datetime %q", s)
}
