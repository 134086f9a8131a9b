package fakeorg

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/steward-dev/steward/internal/salesforce/fakeorg/soql"
)

// apiError is an error a REST call returns: an HTTP status and one entry of
// Salesforce's JSON error array.
type apiError struct {
	Status int
	Code   string
	Msg    string
}

// Error formats the error as "CODE: message".
func (e *apiError) Error() string { return e.Code + ": " + e.Msg }

func malformed(msg string) *apiError { return &apiError{400, "MALFORMED_QUERY", msg} }

func invalidField(msg string) *apiError { return &apiError{400, "INVALID_FIELD", msg} }

// resolved is a field path checked against the schema: the relationship
// fields to follow, then the final field.
type resolved struct {
	path  soql.Path
	via   []*field // reference fields whose relationship names make up the path
	objs  []*object
	final *field
}

// compiled is a query checked against the schema.
type compiled struct {
	q      *soql.Query
	obj    *object
	fields []resolved
	where  cond
	order  []orderKey
}

type orderKey struct {
	p soql.Order
	r resolved
}

// cond is a compiled WHERE condition.
type cond func(r *row) bool

// resolve checks a path such as Profile.UserLicense.Name starting at obj.
// The object name may prefix the path (User.Name on User).
func (s schema) resolve(obj *object, p soql.Path) (resolved, error) {
	parts := []string(p)
	if len(parts) > 1 && strings.EqualFold(parts[0], obj.Name) {
		parts = parts[1:]
	}
	res := resolved{path: p}
	cur := obj
	for i, part := range parts {
		if i == len(parts)-1 {
			f := cur.field(part)
			if f == nil {
				return res, invalidField(fmt.Sprintf("No such column '%s' on entity '%s'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.", part, cur.Name))
			}
			res.final = f
			res.objs = append(res.objs, cur)
			return res, nil
		}
		rel := cur.relation(part)
		if rel == nil {
			return res, invalidField(fmt.Sprintf("Didn't understand relationship '%s' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names.", part))
		}
		next := s.object(rel.RefTo)
		res.via = append(res.via, rel)
		res.objs = append(res.objs, cur)
		cur = next
	}
	return res, malformed("unexpected token: '<EOF>'")
}

// value follows the path from r; it is nil when a lookup on the way is null.
func (o *org) value(r *row, p resolved) any {
	for _, via := range p.via {
		id, _ := r.f[via.Name].(string)
		if id == "" {
			return nil
		}
		if r = o.lookup(id); r == nil {
			return nil
		}
	}
	return r.f[p.final.Name]
}

func (o *org) compile(s schema, q *soql.Query) (*compiled, error) {
	obj := s.object(q.From)
	if obj == nil {
		return nil, &apiError{400, "INVALID_TYPE", fmt.Sprintf("sObject type '%s' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.", q.From)}
	}
	c := &compiled{q: q, obj: obj}
	seen := map[string]bool{}
	for _, p := range q.Fields {
		r, err := s.resolve(obj, p)
		if err != nil {
			return nil, err
		}
		key := strings.ToLower(canonicalPath(r))
		if seen[key] {
			return nil, &apiError{400, "MALFORMED_QUERY", "duplicate field selected: " + p.String()}
		}
		seen[key] = true
		c.fields = append(c.fields, r)
	}
	if q.Where != nil {
		w, err := o.compileExpr(s, obj, q.Where)
		if err != nil {
			return nil, err
		}
		c.where = w
	}
	for _, ob := range q.OrderBy {
		r, err := s.resolve(obj, ob.Path)
		if err != nil {
			return nil, err
		}
		c.order = append(c.order, orderKey{ob, r})
	}
	return c, nil
}

func canonicalPath(r resolved) string {
	var parts []string
	for _, v := range r.via {
		parts = append(parts, v.Rel)
	}
	return strings.Join(append(parts, r.final.Name), ".")
}

func (o *org) compileExpr(s schema, obj *object, e soql.Expr) (cond, error) {
	switch e := e.(type) {
	case *soql.And:
		l, err := o.compileExpr(s, obj, e.Left)
		if err != nil {
			return nil, err
		}
		r, err := o.compileExpr(s, obj, e.Right)
		if err != nil {
			return nil, err
		}
		return func(x *row) bool { return l(x) && r(x) }, nil
	case *soql.Or:
		l, err := o.compileExpr(s, obj, e.Left)
		if err != nil {
			return nil, err
		}
		r, err := o.compileExpr(s, obj, e.Right)
		if err != nil {
			return nil, err
		}
		return func(x *row) bool { return l(x) || r(x) }, nil
	case *soql.Not:
		x, err := o.compileExpr(s, obj, e.X)
		if err != nil {
			return nil, err
		}
		return func(r *row) bool { return !x(r) }, nil
	case *soql.Compare:
		p, err := o.filterField(s, obj, e.Field)
		if err != nil {
			return nil, err
		}
		if err := checkLiteral(p.final, e.Value, e.Op); err != nil {
			return nil, err
		}
		lo, hi := o.bounds(e.Value)
		return func(r *row) bool { return compare(p.final, o.value(r, p), e.Op, e.Value, lo, hi) }, nil
	case *soql.In:
		p, err := o.filterField(s, obj, e.Field)
		if err != nil {
			return nil, err
		}
		set := map[string]bool{}
		if e.Sub != nil {
			if p.final.Type != tID {
				return nil, &apiError{400, "INVALID_FIELD", fmt.Sprintf("Invalid semi join field: %s. Semi join filters must use an ID or reference field.", e.Field)}
			}
			sub, err := o.compile(s, e.Sub)
			if err != nil {
				return nil, err
			}
			if sub.fields[0].final.Type != tID {
				return nil, &apiError{400, "INVALID_FIELD", fmt.Sprintf("Invalid semi join sub-select field: %s. The sub-select must select an ID or reference field.", e.Sub.Fields[0])}
			}
			for _, r := range o.run(sub) {
				if v, ok := o.value(r, sub.fields[0]).(string); ok {
					set[idKey(v)] = true
				}
			}
		} else {
			for _, v := range e.Values {
				if err := checkLiteral(p.final, v, "IN"); err != nil {
					return nil, err
				}
				set[inKey(p.final, v)] = true
			}
		}
		return func(r *row) bool {
			v := o.value(r, p)
			in := set[inKey(p.final, literalOf(v))]
			if v == nil {
				in = set["\x00null"]
			}
			return in != e.Negate
		}, nil
	}
	return nil, malformed("unsupported condition")
}

func (o *org) filterField(s schema, obj *object, path soql.Path) (resolved, error) {
	p, err := s.resolve(obj, path)
	if err != nil {
		return p, err
	}
	if p.final.NoFilter {
		return p, invalidField(fmt.Sprintf("field '%s' can not be filtered in query call", p.final.Name))
	}
	return p, nil
}

// literalOf turns a stored value into a literal for IN-set lookups.
func literalOf(v any) soql.Value {
	switch v := v.(type) {
	case string:
		return soql.Value{Kind: soql.String, Str: v}
	case bool:
		return soql.Value{Kind: soql.Bool, Bool: v}
	case int:
		return soql.Value{Kind: soql.Number, Num: float64(v)}
	case time.Time:
		return soql.Value{Kind: soql.DateTime, Time: v}
	}
	return soql.Value{Kind: soql.Null}
}

func inKey(f *field, v soql.Value) string {
	switch v.Kind {
	case soql.Null:
		return "\x00null"
	case soql.String:
		if f.Type == tID {
			return idKey(v.Str)
		}
		return strings.ToLower(v.Str)
	case soql.Bool:
		return fmt.Sprint(v.Bool)
	case soql.Number:
		return fmt.Sprint(v.Num)
	default:
		return v.Time.UTC().Format(time.RFC3339Nano)
	}
}

var typeNames = map[fieldType]string{tID: "id", tString: "string", tBool: "boolean", tInt: "int", tDateTime: "dateTime"}

// checkLiteral rejects a literal whose type does not fit the field, with
// Salesforce's INVALID_QUERY_FILTER_OPERATOR wording.
func checkLiteral(f *field, v soql.Value, op string) error {
	ok := false
	switch v.Kind {
	case soql.Null:
		ok = op == "=" || op == "!=" || op == "IN"
	case soql.String:
		ok = f.Type == tString || f.Type == tID
	case soql.Bool:
		ok = f.Type == tBool && (op == "=" || op == "!=" || op == "IN")
	case soql.Number:
		ok = f.Type == tInt
	case soql.DateTime, soql.DateLiteral:
		ok = f.Type == tDateTime
	}
	if op == "LIKE" && f.Type != tString {
		ok = false
	}
	if ok {
		return nil
	}
	quote := ""
	if v.Kind == soql.String {
		quote = " and should not be enclosed in quotes"
	}
	return &apiError{400, "INVALID_QUERY_FILTER_OPERATOR", fmt.Sprintf("value of filter criterion for field '%s' must be of type %s%s", f.Name, typeNames[f.Type], quote)}
}

// bounds gives the [lo, hi) range a date literal stands for, in UTC.
func (o *org) bounds(v soql.Value) (lo, hi time.Time) {
	day := o.clockNow().UTC().Truncate(24 * time.Hour)
	switch v.Kind {
	case soql.DateTime:
		return v.Time, v.Time.Add(time.Millisecond)
	case soql.DateLiteral:
		switch v.Name {
		case "TODAY":
			return day, day.AddDate(0, 0, 1)
		case "YESTERDAY":
			return day.AddDate(0, 0, -1), day
		case "TOMORROW":
			return day.AddDate(0, 0, 1), day.AddDate(0, 0, 2)
		case "LAST_N_DAYS":
			return day.AddDate(0, 0, -v.N), day.AddDate(0, 0, 1)
		case "NEXT_N_DAYS":
			return day.AddDate(0, 0, 1), day.AddDate(0, 0, v.N+1)
		}
	}
	return time.Time{}, time.Time{}
}

func compare(f *field, got any, op string, lit soql.Value, lo, hi time.Time) bool {
	if lit.Kind == soql.Null {
		return (got == nil) == (op == "=")
	}
	if got == nil {
		return op == "!="
	}
	var c int
	switch g := got.(type) {
	case string:
		if op == "LIKE" {
			return like(g, lit.Str)
		}
		if f.Type == tID {
			c = cmp.Compare(idKey(g), idKey(lit.Str))
		} else {
			c = cmp.Compare(strings.ToLower(g), strings.ToLower(lit.Str))
		}
	case bool:
		c = boolInt(g) - boolInt(lit.Bool)
	case int:
		c = cmp.Compare(float64(g), lit.Num)
	case time.Time:
		switch {
		case g.Before(lo):
			c = -1
		case !g.Before(hi):
			c = 1
		}
	}
	switch op {
	case "=":
		return c == 0
	case "!=":
		return c != 0
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	case ">=":
		return c >= 0
	}
	return false
}

// idKey is the case-sensitive 15-character form of a 15- or 18-character
// ID; other strings are returned unchanged.
func idKey(s string) string {
	if len(s) == 18 {
		return s[:15]
	}
	return s
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// like matches SOQL LIKE: % any run, _ one character, case-insensitive;
// \% and \_ are literal.
func like(s, pattern string) bool {
	s, pattern = strings.ToLower(s), strings.ToLower(pattern)
	type tok struct {
		c   byte
		any bool // %
		one bool // _
	}
	var toks []tok
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; {
		case c == '\\' && i+1 < len(pattern):
			i++
			toks = append(toks, tok{c: pattern[i]})
		case c == '%':
			toks = append(toks, tok{any: true})
		case c == '_':
			toks = append(toks, tok{one: true})
		default:
			toks = append(toks, tok{c: c})
		}
	}
	// Iterative matching with backtracking to the last %.
	si, ti, star, mark := 0, 0, -1, 0
	for si < len(s) {
		switch {
		case ti < len(toks) && !toks[ti].any && (toks[ti].one || toks[ti].c == s[si]):
			si++
			ti++
		case ti < len(toks) && toks[ti].any:
			star, mark = ti, si
			ti++
		case star >= 0:
			ti = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for ti < len(toks) && toks[ti].any {
		ti++
	}
	return ti == len(toks)
}

// run evaluates a compiled query: filter, sort, offset and limit.
func (o *org) run(c *compiled) []*row {
	var out []*row
	for _, r := range o.rows[c.obj.Name] {
		if c.where == nil || c.where(r) {
			out = append(out, r)
		}
	}
	if len(c.order) > 0 {
		slices.SortStableFunc(out, func(a, b *row) int {
			for _, k := range c.order {
				if d := orderCompare(o.value(a, k.r), o.value(b, k.r), k.p); d != 0 {
					return d
				}
			}
			return 0
		})
	}
	if c.q.Offset > 0 {
		out = out[min(c.q.Offset, len(out)):]
	}
	if c.q.Limit >= 0 && c.q.Limit < len(out) {
		out = out[:c.q.Limit]
	}
	return out
}

func orderCompare(a, b any, o soql.Order) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		if o.NullsFirst {
			return -1
		}
		return 1
	case b == nil:
		if o.NullsFirst {
			return 1
		}
		return -1
	}
	var d int
	switch av := a.(type) {
	case string:
		d = cmp.Compare(strings.ToLower(av), strings.ToLower(b.(string)))
	case bool:
		d = boolInt(av) - boolInt(b.(bool))
	case int:
		d = cmp.Compare(av, b.(int))
	case time.Time:
		d = av.Compare(b.(time.Time))
	}
	if o.Desc {
		d = -d
	}
	return d
}
