// Package soql parses the subset of the Salesforce Object Query Language that
// the fake org serves: field lists with relationship paths, count(), WHERE
// with boolean operators, comparison, IN lists and semi-join subqueries, LIKE,
// date literals, ORDER BY, LIMIT and OFFSET. It is a hand-written tokenizer
// and recursive-descent parser; anything outside the subset is an *Error whose
// message follows Salesforce's MALFORMED_QUERY wording.
package soql

import (
	"fmt"
	"strings"
)

type tokenKind int

const (
	tokEOF tokenKind = iota
	tokIdent
	tokString
	tokNumber
	tokDate     // 2024-07-03
	tokDateTime // 2024-07-03T13:12:59Z, with optional fraction and offset
	tokComma
	tokLParen
	tokRParen
	tokColon
	tokOp // = != <> < <= > >=
)

type token struct {
	kind tokenKind
	text string // raw text; for strings the unescaped value
	pos  int    // byte offset in the query
}

// Error is a query the parser rejects. Msg follows Salesforce's wording, for
// example "unexpected token: 'FROM'".
type Error struct {
	Pos int
	Msg string
}

// Error returns the Salesforce-style message.
func (e *Error) Error() string { return e.Msg }

func errorf(pos int, format string, args ...any) *Error {
	return &Error{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

// maxQueryLen is the longest query accepted; Salesforce's limit is 100,000
// characters.
const maxQueryLen = 100000

func lex(q string) ([]token, error) {
	if len(q) > maxQueryLen {
		return nil, errorf(0, "Query is too long: %d characters; the limit is %d", len(q), maxQueryLen)
	}
	var toks []token
	i := 0
	for i < len(q) {
		c := q[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == ',':
			toks = append(toks, token{tokComma, ",", i})
			i++
		case c == '(':
			toks = append(toks, token{tokLParen, "(", i})
			i++
		case c == ')':
			toks = append(toks, token{tokRParen, ")", i})
			i++
		case c == ':':
			toks = append(toks, token{tokColon, ":", i})
			i++
		case c == '=':
			toks = append(toks, token{tokOp, "=", i})
			i++
		case c == '!' || c == '<' || c == '>':
			start := i
			i++
			if i < len(q) && (q[i] == '=' || (c == '<' && q[i] == '>')) {
				i++
			}
			op := q[start:i]
			if op == "!" {
				return nil, errorf(start, "unexpected token: '!'")
			}
			if op == "<>" {
				op = "!="
			}
			toks = append(toks, token{tokOp, op, start})
		case c == '\'':
			s, n, err := lexString(q, i)
			if err != nil {
				return nil, err
			}
			toks = append(toks, token{tokString, s, i})
			i = n
		case isDigit(c) || ((c == '-' || c == '+') && i+1 < len(q) && isDigit(q[i+1])):
			t, n := lexNumberOrDate(q, i)
			toks = append(toks, t)
			i = n
		case isIdentStart(c):
			start := i
			for i < len(q) && isIdentPart(q[i]) {
				i++
			}
			toks = append(toks, token{tokIdent, q[start:i], start})
		default:
			return nil, errorf(i, "unexpected token: '%s'", string(rune(c)))
		}
	}
	toks = append(toks, token{tokEOF, "", len(q)})
	return toks, nil
}

func lexString(q string, start int) (string, int, error) {
	var b strings.Builder
	i := start + 1
	for i < len(q) {
		c := q[i]
		switch c {
		case '\'':
			return b.String(), i + 1, nil
		case '\\':
			if i+1 >= len(q) {
				return "", 0, errorf(i, "line 1:%d no viable alternative at character '\\'", i)
			}
			e := q[i+1]
			switch e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case '\'', '"', '\\', '_', '%':
				if e == '_' || e == '%' {
					b.WriteByte('\\') // kept for LIKE, which treats them as literals
				}
				b.WriteByte(e)
			default:
				return "", 0, errorf(i, "Invalid string literal '%s'. Illegal character sequence '\\%c' in string literal.", q[start:min(len(q), i+2)], e)
			}
			i += 2
		default:
			b.WriteByte(c)
			i++
		}
	}
	return "", 0, errorf(start, "line 1:%d mismatched character '<EOF>' expecting '''", len(q))
}

// lexNumberOrDate reads a number, a date (YYYY-MM-DD) or a datetime
// (YYYY-MM-DDThh:mm:ss[.fff](Z|±hh:mm)).
func lexNumberOrDate(q string, start int) (token, int) {
	i := start
	if q[i] == '-' || q[i] == '+' {
		i++
	}
	for i < len(q) && isDigit(q[i]) {
		i++
	}
	// A date: four digits then '-'.
	if i-start == 4 && i < len(q) && q[i] == '-' {
		j := i
		for j < len(q) && (isDigit(q[j]) || strings.IndexByte("-:T.Z+", q[j]) >= 0) {
			// A '+' or '-' after the time part is an offset; a '-' in the
			// date part is a separator. Both are literal characters here.
			j++
		}
		text := q[start:j]
		if strings.Contains(text, "T") {
			return token{tokDateTime, text, start}, j
		}
		return token{tokDate, text, start}, j
	}
	if i < len(q) && q[i] == '.' {
		i++
		for i < len(q) && isDigit(q[i]) {
			i++
		}
	}
	return token{tokNumber, q[start:i], start}, i
}

func isDigit(c byte) bool      { return c >= '0' && c <= '9' }
func isIdentStart(c byte) bool { return c == '_' || (c|0x20 >= 'a' && c|0x20 <= 'z') }
func isIdentPart(c byte) bool  { return isIdentStart(c) || isDigit(c) || c == '.' }
