package inventory

import (
	"fmt"
	"net/url"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// rules are the constraints a `jsonschema` struct tag puts on a field.
type rules struct {
	required    bool
	nullable    bool
	enum        []string
	pattern     *regexp.Regexp
	format      string
	minimum     *int64
	maxLength   int    // -1 when unset
	items       *rules // rules for the items of a list
	values      *rules // rules for the values of a map
	builtinOnly bool   // IDs starting with NHI- must be built-in rule IDs
}

// checkString returns what is wrong with s, or "".
func (r *rules) checkString(s string) string {
	if len(r.enum) > 0 && !contains(r.enum, s) {
		return "must be one of " + strings.Join(r.enum, ", ")
	}
	if r.pattern != nil && !r.pattern.MatchString(s) {
		return "must match " + r.pattern.String()
	}
	if r.builtinOnly && strings.HasPrefix(s, "NHI-") && !builtinRule.MatchString(s) {
		return "IDs starting with NHI- are reserved for built-in rules and must match " + builtinRulePattern
	}
	if r.maxLength >= 0 && utf8.RuneCountInString(s) > r.maxLength {
		return fmt.Sprintf("must be at most %d characters", r.maxLength)
	}
	switch r.format {
	case "uri":
		if u, err := url.Parse(s); err != nil || !u.IsAbs() {
			return "must be an absolute URI"
		}
	case "date":
		if _, err := ParseDate(s); err != nil {
			return "must be a date (YYYY-MM-DD)"
		}
	}
	return ""
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// fieldInfo is one decodable struct field.
type fieldInfo struct {
	name  string
	index int // index of the field in its struct
	typ   reflect.Type
	rules rules
}

// structInfo is a struct's decodable fields, by YAML name and in order.
type structInfo struct {
	fields     []*fieldInfo
	byName     map[string]*fieldInfo
	names      []string
	exactlyOne bool // exactly one field must be set
}

// Constraints the struct tags cannot express, which JSONSchemaExtend
// methods add to the schema (see manifest.go).
var (
	accessType        = reflect.TypeFor[Access]()
	consumerType      = reflect.TypeFor[Consumer]()
	exceptionSpecType = reflect.TypeFor[ExceptionSpec]()
)

var structInfoCache sync.Map // reflect.Type → *structInfo

func structInfoOf(t reflect.Type) *structInfo {
	if v, ok := structInfoCache.Load(t); ok {
		return v.(*structInfo)
	}
	info := &structInfo{byName: map[string]*fieldInfo{}, exactlyOne: t == consumerType}
	if t.NumField() > 64 {
		panic("inventory: " + t.Name() + " has more than 64 fields") // checkStruct keeps a bit per field
	}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !f.IsExported() || name == "-" || f.Tag.Get("json") == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		r, err := parseRules(f.Tag.Get("jsonschema"), f.Type.Kind() == reflect.Slice)
		if err != nil {
			panic(fmt.Sprintf("inventory: field %s.%s: %v", t.Name(), f.Name, err))
		}
		switch {
		case t == accessType && f.Name == "Objects":
			r.values = &rules{maxLength: -1, items: &rules{maxLength: -1, enum: objectActions}}
		case t == exceptionSpecType && f.Name == "Rule":
			r.builtinOnly = true
		}
		fi := &fieldInfo{name: name, index: i, typ: f.Type, rules: r}
		info.fields = append(info.fields, fi)
		info.byName[name] = fi
		info.names = append(info.names, name)
	}
	v, _ := structInfoCache.LoadOrStore(t, info)
	return v.(*structInfo)
}

// parseRules reads a `jsonschema` tag the way invopop/jsonschema does: on a
// list field, pattern, format, enum and maxLength constrain the items.
func parseRules(tag string, list bool) (rules, error) {
	field := rules{maxLength: -1}
	item := rules{maxLength: -1}
	target := &field
	if list {
		target = &item
		field.items = &item
	}
	for _, part := range splitTag(tag) {
		name, val, hasVal := strings.Cut(part, "=")
		switch {
		case part == "":
		case name == "required" && !hasVal:
			field.required = true
		case name == "nullable" && !hasVal:
			field.nullable = true
		case name == "description" || name == "title":
		case name == "enum":
			target.enum = append(target.enum, val)
		case name == "pattern":
			re, err := regexp.Compile(val)
			if err != nil {
				return rules{}, err
			}
			target.pattern = re
		case name == "format":
			target.format = val
		case name == "maxLength":
			n, err := strconv.Atoi(val)
			if err != nil {
				return rules{}, err
			}
			target.maxLength = n
		case name == "minimum":
			n, err := strconv.ParseInt(val, 10, 64)
			if err != nil {
				return rules{}, err
			}
			field.minimum = &n
		default:
			return rules{}, fmt.Errorf("jsonschema tag option %q is not understood by the loader", name)
		}
	}
	return field, nil
}

// splitTag splits a tag on commas not preceded by a backslash, and removes
// the backslashes, as invopop/jsonschema does.
func splitTag(tag string) []string {
	var parts []string
	var cur strings.Builder
	for i := 0; i < len(tag); i++ {
		switch {
		case tag[i] == '\\' && i+1 < len(tag) && tag[i+1] == ',':
			cur.WriteByte(',')
			i++
		case tag[i] == ',':
			parts = append(parts, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(tag[i])
		}
	}
	return append(parts, cur.String())
}
