package policy

import (
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/steward-dev/steward/internal/snapshot"
)

// inputValue converts the snapshot to the AST value OPA evaluates. It walks
// the Go value directly, following the json tags, instead of encoding JSON
// and parsing it back: on large snapshots that round trip dominated the cost
// of an evaluation. The result is the same value encoding/json would give.
//
// Long slices (the identities, apps and users of a large fleet) are
// converted in parallel, one chunk per CPU.
func inputValue(snap *snapshot.Snapshot) (ast.Value, error) {
	c := converter{strs: make(map[string]*ast.Term), workers: runtime.GOMAXPROCS(0)}
	t, err := c.toTerm(reflect.ValueOf(snap))
	if err != nil {
		return nil, err
	}
	return t.Value, nil
}

var timeType = reflect.TypeOf(time.Time{})

// converter holds the state of one conversion. Terms are immutable once
// built, so equal strings (kinds, environments, names repeated in joins)
// share one term.
type converter struct {
	strs map[string]*ast.Term
	// base holds the strings of the converter a chunk converter works for,
	// read-only while chunks are converted.
	base map[string]*ast.Term
	// workers is how many goroutines may convert the elements of a long
	// slice; a converter working on one chunk has none to spare.
	workers int
	// pairs is scratch space for the key-value pairs of the objects being
	// built, used as a stack: ast.NewObject copies the pairs it is given.
	pairs [][2]*ast.Term
}

// parallelMin is the length from which a slice is converted in parallel.
const parallelMin = 1024

var nullTerm = ast.NullTerm()

// str returns a term for s, shared with every earlier equal string.
func (c *converter) str(s string) *ast.Term {
	if t, ok := c.strs[s]; ok {
		return t
	}
	if t, ok := c.base[s]; ok {
		return t
	}
	t := ast.StringTerm(s)
	c.strs[s] = t
	return t
}

func (c *converter) toTerm(v reflect.Value) (*ast.Term, error) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nullTerm, nil
		}
		return c.toTerm(v.Elem())
	case reflect.String:
		return c.str(v.String()), nil
	case reflect.Bool:
		return ast.InternedTerm(v.Bool()), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n := v.Int()
		if n >= -1 && n <= 512 {
			return ast.InternedTerm(int(n)), nil
		}
		return ast.NumberTerm(json.Number(strconv.FormatInt(n, 10))), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n := v.Uint()
		if n <= 512 {
			return ast.InternedTerm(int(n)), nil
		}
		return ast.NumberTerm(json.Number(strconv.FormatUint(n, 10))), nil
	case reflect.Float32, reflect.Float64:
		return ast.NewTerm(ast.Number(fmt.Sprint(v.Float()))), nil
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() {
			return nullTerm, nil
		}
		if v.Len() == 0 {
			// Terms are never modified, so every empty array can be
			// OPA's own.
			return ast.InternedEmptyArray, nil
		}
		terms := make([]*ast.Term, v.Len())
		if err := c.elements(v, terms); err != nil {
			return nil, err
		}
		return ast.NewTerm(ast.NewArray(terms...)), nil
	case reflect.Map:
		if v.IsNil() {
			return nullTerm, nil
		}
		if v.Type().Key().Kind() != reflect.String {
			return nil, fmt.Errorf("policy input: map key type %s is not a string", v.Type().Key())
		}
		if v.Len() == 0 {
			return ast.InternedEmptyObject, nil
		}
		start := len(c.pairs)
		defer func() { c.pairs = c.pairs[:start] }()
		// One key and one value reused for every entry: MapIter.Key and
		// Value would copy each entry into a new allocation.
		key, val := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		it := v.MapRange()
		for it.Next() {
			key.SetIterKey(it)
			val.SetIterValue(it)
			e, err := c.toTerm(val)
			if err != nil {
				return nil, err
			}
			c.pairs = append(c.pairs, [2]*ast.Term{c.str(key.String()), e})
		}
		return ast.NewTerm(ast.NewObject(c.pairs[start:]...)), nil
	case reflect.Struct:
		if v.Type() == timeType {
			b, err := v.Interface().(encoding.TextMarshaler).MarshalText()
			if err != nil {
				return nil, fmt.Errorf("policy input: %w", err)
			}
			return c.str(string(b)), nil
		}
		start := len(c.pairs)
		defer func() { c.pairs = c.pairs[:start] }()
		for _, f := range structFields(v.Type()) {
			fv := v.Field(f.index)
			if (f.omitEmpty && emptyJSON(fv)) || (f.omitZero && fv.IsZero()) {
				continue
			}
			e, err := c.toTerm(fv)
			if err != nil {
				return nil, err
			}
			c.pairs = append(c.pairs, [2]*ast.Term{f.key, e})
		}
		return ast.NewTerm(ast.NewObject(c.pairs[start:]...)), nil
	}
	return nil, fmt.Errorf("policy input: cannot convert %s", v.Type())
}

// elements converts the elements of the slice or array v into terms. A long
// slice is cut into one chunk per worker, each converted by a converter of
// its own that reads c's strings but adds new ones to its own cache; the
// new strings join c's cache once every chunk is done.
func (c *converter) elements(v reflect.Value, terms []*ast.Term) error {
	if c.workers < 2 || len(terms) < parallelMin || v.Kind() != reflect.Slice {
		for i := range terms {
			e, err := c.toTerm(v.Index(i))
			if err != nil {
				return err
			}
			terms[i] = e
		}
		return nil
	}
	size := (len(terms) + c.workers - 1) / c.workers
	subs := make([]converter, c.workers)
	errs := make([]error, c.workers)
	var wg sync.WaitGroup
	for w := range subs {
		lo, hi := min(w*size, len(terms)), min((w+1)*size, len(terms))
		// A few new strings per element: sizing the cache up front spares
		// growing it step by step.
		subs[w] = converter{strs: make(map[string]*ast.Term, 4*(hi-lo)), base: c.strs}
		wg.Go(func() { errs[w] = subs[w].elements(v.Slice(lo, hi), terms[lo:hi]) })
	}
	wg.Wait()
	for _, sub := range subs {
		for s, t := range sub.strs {
			if _, ok := c.strs[s]; !ok {
				c.strs[s] = t
			}
		}
	}
	return errors.Join(errs...)
}

type field struct {
	index     int
	key       *ast.Term
	omitEmpty bool
	omitZero  bool
}

// emptyJSON is encoding/json's notion of empty for omitempty.
func emptyJSON(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Pointer, reflect.Interface:
		return v.IsNil()
	}
	return v.IsZero() && v.Kind() != reflect.Struct
}

var fieldCache sync.Map // reflect.Type → []field

// structFields lists a struct's exported fields under their json names.
func structFields(t reflect.Type) []field {
	if f, ok := fieldCache.Load(t); ok {
		return f.([]field)
	}
	var fields []field
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		fields = append(fields, field{
			index:     i,
			key:       ast.StringTerm(name),
			omitEmpty: strings.Contains(","+opts+",", ",omitempty,"),
			omitZero:  strings.Contains(","+opts+",", ",omitzero,"),
		})
	}
	fieldCache.Store(t, fields)
	return fields
}
