package fakeorg

import (
	"bytes"
	"encoding/json"
	"net/http"
	"time"
)

// restTimeLayout is the REST API's datetime format: milliseconds and an
// offset without a colon.
const restTimeLayout = "2006-01-02T15:04:05.000-0700"

// jsonObject is a JSON object that keeps its members in insertion order, as
// Salesforce's responses do.
type jsonObject []member

type member struct {
	key string
	val any
}

// MarshalJSON writes the members in order.
func (o jsonObject) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(m.key)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		v, err := json.Marshal(jsonValue(m.val))
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func jsonValue(v any) any {
	if t, ok := v.(time.Time); ok {
		return t.UTC().Format(restTimeLayout)
	}
	return v
}

// record renders a row with the selected paths: attributes first, then the
// fields in select order, relationship fields as nested objects and null
// lookups as null.
type record struct {
	obj jsonObject
	sub map[string]*record // relationship name → nested record; nil entry for a null lookup
}

// MarshalJSON writes the record's members in order.
func (r *record) MarshalJSON() ([]byte, error) { return r.obj.MarshalJSON() }

func (o *org) newRecord(r *row, base string) *record {
	return &record{
		obj: jsonObject{{"attributes", jsonObject{{"type", r.obj}, {"url", base + "/sobjects/" + r.obj + "/" + r.id}}}},
		sub: map[string]*record{},
	}
}

func (o *org) renderRow(r *row, fields []resolved, base string) *record {
	rec := o.newRecord(r, base)
	for _, p := range fields {
		o.place(rec, r, p, 0, base)
	}
	return rec
}

func (o *org) place(rec *record, r *row, p resolved, depth int, base string) {
	if depth == len(p.via) {
		rec.obj = append(rec.obj, member{p.final.Name, r.f[p.final.Name]})
		return
	}
	rel := p.via[depth]
	child, seen := rec.sub[rel.Rel]
	if !seen {
		id, _ := r.f[rel.Name].(string)
		target := o.lookup(id)
		if target == nil {
			rec.sub[rel.Rel] = nil
			rec.obj = append(rec.obj, member{rel.Rel, nil})
			return
		}
		child = o.newRecord(target, base)
		rec.sub[rel.Rel] = child
		rec.obj = append(rec.obj, member{rel.Rel, child})
	}
	if child == nil {
		return
	}
	id, _ := r.f[rel.Name].(string)
	o.place(child, o.lookup(id), p, depth+1, base)
}

// writeJSON writes v with the REST content type.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status, body = http.StatusInternalServerError, []byte(`[{"message":"An unexpected error occurred.","errorCode":"UNKNOWN_EXCEPTION"}]`)
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	w.Write(body)
}

// writeAPIError writes Salesforce's JSON error array.
func writeAPIError(w http.ResponseWriter, e *apiError) {
	if e.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", "Token")
	}
	writeJSON(w, e.Status, []jsonObject{{{"message", e.Msg}, {"errorCode", e.Code}}})
}

// writeOAuthError writes the token endpoint's error object.
func writeOAuthError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, jsonObject{{"error", code}, {"error_description", desc}})
}
