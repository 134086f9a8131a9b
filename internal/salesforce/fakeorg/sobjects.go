package fakeorg

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
)

// maxRecordBody bounds a record write's request body.
const maxRecordBody = 1 << 20

// writable are the sObjects the emulator creates and deletes, with the
// fields a create may set. Everything else it serves is read-only.
var writable = map[string][]string{
	"PermissionSetAssignment": {"AssigneeId", "PermissionSetId", "PermissionSetGroupId", "ExpirationDate"},
}

// fieldError is a REST error entry that names fields.
type fieldError struct {
	apiError
	fields []string
}

// writeFieldError writes the error array with a fields member, as a
// create's validation errors carry it.
func writeFieldError(w http.ResponseWriter, e *fieldError) {
	writeJSON(w, e.Status, []jsonObject{{{"message", e.Msg}, {"errorCode", e.Code}, {"fields", e.fields}}})
}

// sobjects serves /sobjects/{type}/ (POST creates) and
// /sobjects/{type}/{id} (DELETE deletes); the caller holds s.mu.
func (s *Server) sobjects(d *dataRequest, rest string) (int, any) {
	obj, id, _ := strings.Cut(rest, "/")
	sch := s.org.rest.object(obj)
	if sch == nil {
		return 404, &apiError{404, "NOT_FOUND", "The requested resource does not exist"}
	}
	name := sch.Name
	switch {
	case id == "" && d.r.Method == http.MethodPost:
		if writable[name] == nil {
			return 400, &apiError{400, "INVALID_TYPE_FOR_OPERATION", "entity type " + name + " does not support create"}
		}
		return s.createRecord(d, name)
	case id != "" && !strings.Contains(id, "/") && d.r.Method == http.MethodDelete:
		if writable[name] == nil {
			return 400, &apiError{400, "INVALID_TYPE_FOR_OPERATION", "entity type " + name + " does not support delete"}
		}
		return s.deleteRecord(name, id)
	case id == "":
		return 405, &apiError{405, "METHOD_NOT_ALLOWED", "HTTP Method '" + d.r.Method + "' not allowed. Allowed are POST"}
	case !strings.Contains(id, "/"):
		return 405, &apiError{405, "METHOD_NOT_ALLOWED", "HTTP Method '" + d.r.Method + "' not allowed. Allowed are DELETE"}
	}
	return 404, &apiError{404, "NOT_FOUND", "The requested resource does not exist"}
}

// createRecord validates and stores a new record and answers 201 with
// {"id","success","errors"}.
func (s *Server) createRecord(d *dataRequest, obj string) (int, any) {
	body, err := io.ReadAll(io.LimitReader(d.r.Body, maxRecordBody+1))
	if err != nil || len(body) > maxRecordBody {
		return 400, &apiError{400, "JSON_PARSER_ERROR", "The request body could not be read"}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var in map[string]any
	if err := dec.Decode(&in); err != nil || in == nil {
		return 400, &apiError{400, "JSON_PARSER_ERROR", "Unexpected character in the request body: a JSON object of field values is expected"}
	}
	allowed := writable[obj]
	f := map[string]any{}
	for k, v := range in {
		if strings.EqualFold(k, "Id") {
			return 400, &apiError{400, "INVALID_FIELD", "The Id field should not be specified in the sobject data."}
		}
		if strings.EqualFold(k, "attributes") {
			continue
		}
		i := slices.IndexFunc(allowed, func(a string) bool { return strings.EqualFold(a, k) })
		if i < 0 {
			if s.org.rest.object(obj).field(k) != nil {
				return 400, &fieldError{apiError{400, "INVALID_FIELD_FOR_INSERT_UPDATE", "Unable to create/update fields: " + k + ". Please check the security settings of this field and verify that it is read/write for your profile or permission set."}, []string{k}}
			}
			return 400, &apiError{400, "INVALID_FIELD", fmt.Sprintf("No such column '%s' on sobject of type %s", k, obj)}
		}
		f[allowed[i]] = v
	}
	row, ferr := s.org.newAssignment(f, s.clock())
	if ferr != nil {
		return ferr.Status, ferr
	}
	return 201, jsonObject{{"id", row.id}, {"errors", []any{}}, {"success", true}}
}

// newAssignment checks a PermissionSetAssignment's fields and stores it.
func (o *org) newAssignment(in map[string]any, now time.Time) (*row, *fieldError) {
	ref := func(field, want string) (*row, *fieldError) {
		v, ok := in[field]
		if !ok || v == nil {
			return nil, nil
		}
		id, isStr := v.(string)
		if !isStr {
			return nil, &fieldError{apiError{400, "JSON_PARSER_ERROR", fmt.Sprintf("Cannot deserialize instance of reference from %s value for %s", jsonKind(v), field)}, []string{field}}
		}
		r := o.lookup(id)
		if r == nil || r.obj != want {
			return nil, &fieldError{apiError{400, "FIELD_INTEGRITY_EXCEPTION", fmt.Sprintf("%s: id value of incorrect type: %s", field, id)}, []string{field}}
		}
		return r, nil
	}
	user, err := ref("AssigneeId", "User")
	if err != nil {
		return nil, err
	}
	set, err := ref("PermissionSetId", "PermissionSet")
	if err != nil {
		return nil, err
	}
	group, err := ref("PermissionSetGroupId", "PermissionSetGroup")
	if err != nil {
		return nil, err
	}
	var missing []string
	if user == nil {
		missing = append(missing, "AssigneeId")
	}
	if set == nil && group == nil {
		missing = append(missing, "PermissionSetId")
	}
	if len(missing) > 0 {
		return nil, &fieldError{apiError{400, "REQUIRED_FIELD_MISSING", "Required fields are missing: [" + strings.Join(missing, ", ") + "]"}, missing}
	}
	if set != nil && set.f["IsOwnedByProfile"] == true {
		return nil, &fieldError{apiError{400, "FIELD_INTEGRITY_EXCEPTION", "You can't assign or unassign this permission set because it's associated with a profile."}, []string{"PermissionSetId"}}
	}
	if group != nil && set == nil {
		for _, r := range o.rows["PermissionSet"] {
			if r.f["PermissionSetGroupId"] == group.id {
				set = r
			}
		}
	}
	if user.f["IsActive"] == false {
		return nil, &fieldError{apiError{400, "FIELD_INTEGRITY_EXCEPTION", "You can't assign permission sets to an inactive user."}, []string{"AssigneeId"}}
	}
	var expires any
	if v, ok := in["ExpirationDate"]; ok && v != nil {
		str, _ := v.(string)
		t, ok := parseRESTTime(str)
		if !ok {
			return nil, &fieldError{apiError{400, "JSON_PARSER_ERROR", fmt.Sprintf("Cannot deserialize instance of datetime from %s value %s", jsonKind(v), quoteValue(v))}, []string{"ExpirationDate"}}
		}
		if !t.After(now) {
			return nil, &fieldError{apiError{400, "FIELD_INTEGRITY_EXCEPTION", "Expiration date must be in the future."}, []string{"ExpirationDate"}}
		}
		expires = t
	}
	for _, r := range o.rows["PermissionSetAssignment"] {
		if r.f["AssigneeId"] == user.id && set != nil && r.f["PermissionSetId"] == set.id {
			return nil, &fieldError{apiError{400, "DUPLICATE_VALUE", "duplicate value found: <unknown> duplicates value on record with id: " + r.id}, []string{}}
		}
	}
	f := map[string]any{
		"AssigneeId": user.id, "PermissionSetId": nil, "PermissionSetGroupId": nil, "ExpirationDate": expires,
		"IsActive": true, "IsRevoked": false, "SystemModstamp": now.UTC(),
	}
	if set != nil {
		f["PermissionSetId"] = set.id
	}
	if group != nil {
		f["PermissionSetGroupId"] = group.id
	}
	return o.add("PermissionSetAssignment", f), nil
}

// deleteRecord removes a record and answers 204.
func (s *Server) deleteRecord(obj, id string) (int, any) {
	r := s.org.lookup(id)
	switch {
	case r == nil && s.org.deleted[idKey(id)]:
		return 404, &apiError{404, "ENTITY_IS_DELETED", "entity is deleted"}
	case r == nil || r.obj != obj:
		return 404, &apiError{404, "NOT_FOUND", "Provided external ID field does not exist or is not accessible: " + id}
	}
	if set := s.org.lookup(stringValue(r.f["PermissionSetId"])); set != nil && set.f["IsOwnedByProfile"] == true {
		return 400, &apiError{400, "FIELD_INTEGRITY_EXCEPTION", "You can't assign or unassign this permission set because it's associated with a profile."}
	}
	s.org.remove(r)
	return 204, nil
}

// remove deletes a row and remembers its ID as deleted.
func (o *org) remove(r *row) {
	o.rows[r.obj] = slices.DeleteFunc(o.rows[r.obj], func(x *row) bool { return x == r })
	delete(o.byID, r.id[:15])
	if o.deleted == nil {
		o.deleted = map[string]bool{}
	}
	o.deleted[r.id[:15]] = true
}

// lapseAssignments applies ExpirationDate: an assignment whose expiry has
// passed reads IsActive = false but stays in place. When, and whether, a
// real org removes such an assignment is not documented; the emulator
// leaves the removal to whoever made it, and this one function holds the
// choice.
func (o *org) lapseAssignments(now time.Time) {
	for _, r := range o.rows["PermissionSetAssignment"] {
		if exp, ok := r.f["ExpirationDate"].(time.Time); ok && !exp.After(now) {
			r.f["IsActive"] = false
		}
	}
}

// parseRESTTime reads a REST datetime: 2026-11-26T10:00:00.000+0000, with
// or without milliseconds, or with Z or a +00:00 offset.
func parseRESTTime(s string) (time.Time, bool) {
	for _, layout := range []string{restTimeLayout, "2006-01-02T15:04:05-0700", time.RFC3339Nano} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

func stringValue(v any) string {
	s, _ := v.(string)
	return s
}

func jsonKind(v any) string {
	switch v.(type) {
	case string:
		return "VALUE_STRING"
	case json.Number:
		return "VALUE_NUMBER"
	case bool:
		return "VALUE_BOOLEAN"
	case []any:
		return "START_ARRAY"
	case map[string]any:
		return "START_OBJECT"
	}
	return "VALUE_NULL"
}

func quoteValue(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 40 {
		b = append(b[:40], "…"...)
	}
	return string(b)
}
