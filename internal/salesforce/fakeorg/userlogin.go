package fakeorg

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
)

// userLoginPrefix is the key prefix of UserLogin IDs.
const userLoginPrefix = "060"

// userLoginObject is the UserLogin sObject: one record per user holding
// its frozen and password-locked state. Freezing a user is an update of
// its IsFrozen field.
func userLoginObject() *object {
	return newObject("UserLogin",
		id("Id"), ref("UserId", "User", "User"), boolean("IsFrozen"), boolean("IsPasswordLocked"),
		ref("LastModifiedById", "User", "LastModifiedBy"), datetime("LastModifiedDate"),
	)
}

// addUserLogins gives every user its UserLogin record, not frozen.
func (o *org) addUserLogins() {
	for i, u := range o.rows["User"] {
		id := makeID(userLoginPrefix, i+1)
		r := &row{obj: "UserLogin", id: id, f: map[string]any{
			"Id": id, "UserId": u.id, "IsFrozen": false, "IsPasswordLocked": false,
			"LastModifiedById": u.f["CreatedById"], "LastModifiedDate": u.f["CreatedDate"],
		}}
		o.rows["UserLogin"] = append(o.rows["UserLogin"], r)
		o.byID[id[:15]] = r
	}
}

// frozen reports whether an administrator froze the user. A frozen user
// cannot log in, so the token endpoint refuses its app a token as it
// refuses an inactive run-as user's.
func (o *org) frozen(user *row) bool {
	for _, r := range o.rows["UserLogin"] {
		if r.f["UserId"] == user.id {
			return r.f["IsFrozen"] == true
		}
	}
	return false
}

// patchUserLogin serves PATCH /sobjects/UserLogin/{id}: IsFrozen and
// IsPasswordLocked may be set; the answer is 204 with no body. The caller
// holds s.mu.
func (s *Server) patchUserLogin(d *dataRequest, id string) (int, any) {
	r := s.org.lookup(id)
	if r == nil || r.obj != "UserLogin" || strings.Contains(id, "/") {
		return 404, &apiError{404, "NOT_FOUND", "Provided external ID field does not exist or is not accessible: " + id}
	}
	body, err := io.ReadAll(io.LimitReader(d.r.Body, maxRecordBody+1))
	if err != nil || len(body) > maxRecordBody {
		return 400, &apiError{400, "JSON_PARSER_ERROR", "The request body could not be read"}
	}
	var in map[string]any
	if err := json.NewDecoder(bytes.NewReader(body)).Decode(&in); err != nil || in == nil {
		return 400, &apiError{400, "JSON_PARSER_ERROR", "Unexpected character in the request body: a JSON object of field values is expected"}
	}
	update := map[string]bool{}
	for k, v := range in {
		if strings.EqualFold(k, "attributes") {
			continue
		}
		f := userLoginObject().field(k)
		switch {
		case f == nil:
			return 400, &apiError{400, "INVALID_FIELD", "No such column '" + k + "' on sobject of type UserLogin"}
		case f.Name != "IsFrozen" && f.Name != "IsPasswordLocked":
			return 400, &fieldError{apiError{400, "INVALID_FIELD_FOR_INSERT_UPDATE", "Unable to create/update fields: " + f.Name + ". Please check the security settings of this field and verify that it is read/write for your profile or permission set."}, []string{f.Name}}
		}
		b, ok := v.(bool)
		if !ok {
			return 400, &fieldError{apiError{400, "JSON_PARSER_ERROR", "Cannot deserialize instance of boolean from " + jsonKind(v) + " value for " + f.Name}, []string{f.Name}}
		}
		update[f.Name] = b
	}
	for k, v := range update {
		r.f[k] = v
	}
	r.f["LastModifiedById"], r.f["LastModifiedDate"] = d.sess.user.id, s.clock().UTC()
	return http.StatusNoContent, nil
}
