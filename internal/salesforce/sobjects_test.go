package salesforce

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
)

const psaPath = "/services/data/v67.0/sobjects/PermissionSetAssignment/"

func writeBody(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

func TestCreateRecord(t *testing.T) {
	o := newFakeOrg(t)
	var got map[string]any
	o.route("POST "+psaPath, func(w http.ResponseWriter, r *http.Request) {
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type = %q", ct)
		}
		json.NewDecoder(r.Body).Decode(&got)
		writeBody(w, http.StatusCreated, `{"id":"0PaAk0000000001AAA","errors":[],"success":true}`)
	})
	c, _, _ := testClient(t, o)
	id, err := c.CreateRecord(context.Background(), "PermissionSetAssignment", map[string]any{
		"AssigneeId": "005Ak0000000001AAA", "PermissionSetId": "0PSAk0000000001AAA", "ExpirationDate": "2026-11-26T10:00:00.000+0000",
	})
	if err != nil || id != "0PaAk0000000001AAA" {
		t.Fatalf("CreateRecord = %q, %v", id, err)
	}
	if got["ExpirationDate"] != "2026-11-26T10:00:00.000+0000" || got["AssigneeId"] != "005Ak0000000001AAA" {
		t.Fatalf("the org received %v", got)
	}
}

func TestCreateRecordErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		body   string
		is     error
		want   string
	}{
		{"duplicate", 400, `[{"message":"duplicate value found: <unknown> duplicates value on record with id: 0PaAk0000000001AAA","errorCode":"DUPLICATE_VALUE","fields":[]}]`, ErrDuplicate, "DUPLICATE_VALUE"},
		{"missing field", 400, `[{"message":"Required fields are missing: [AssigneeId]","errorCode":"REQUIRED_FIELD_MISSING","fields":["AssigneeId"]}]`, ErrInvalidRecord, "(fields: AssigneeId)"},
		{"wrong reference", 400, `[{"message":"PermissionSetId: id value of incorrect type","errorCode":"FIELD_INTEGRITY_EXCEPTION","fields":["PermissionSetId"]}]`, ErrInvalidRecord, "FIELD_INTEGRITY_EXCEPTION"},
		{"no access", 403, `[{"message":"insufficient access rights on cross-reference id","errorCode":"INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY"}]`, ErrInsufficientAccess, "HTTP 403"},
		{"unsuccessful 201", 201, `{"id":null,"success":false,"errors":[{"message":"bad","errorCode":"FIELD_INTEGRITY_EXCEPTION","fields":["ExpirationDate"]}]}`, ErrInvalidRecord, "bad"},
		{"no success member", 201, `{"id":"0PaAk0000000001AAA"}`, ErrUnexpectedResponse, "no success member"},
		{"bad id", 201, `{"id":"../../x","success":true,"errors":[]}`, ErrUnexpectedResponse, "no valid record id"},
		{"html", 201, `<html><title>Maintenance</title></html>`, ErrUnexpectedResponse, "Maintenance"},
		{"wrong status", 200, `{"id":"0PaAk0000000001AAA","success":true,"errors":[]}`, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := newFakeOrg(t)
			o.route("POST "+psaPath, func(w http.ResponseWriter, r *http.Request) { writeBody(w, tc.status, tc.body) })
			c, _, _ := testClient(t, o)
			_, err := c.CreateRecord(context.Background(), "PermissionSetAssignment", map[string]any{"AssigneeId": "x"})
			if tc.is == nil {
				if err != nil {
					t.Fatalf("err = %v; want none", err)
				}
				return
			}
			if !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v; want %v mentioning %q", err, tc.is, tc.want)
			}
			if !strings.Contains(err.Error(), "POST "+psaPath) {
				t.Errorf("err %v does not name the endpoint", err)
			}
			assertNoSecret(t, "error", err.Error())
		})
	}
}

// A create that fails with a server error is not sent again: the org may
// have made the record.
func TestCreateRecordNotRetried(t *testing.T) {
	o := newFakeOrg(t)
	o.route("POST "+psaPath, func(w http.ResponseWriter, r *http.Request) {
		writeBody(w, 503, `[{"message":"Server unavailable","errorCode":"SERVER_UNAVAILABLE"}]`)
	})
	c, sleeps, _ := testClient(t, o)
	if _, err := c.CreateRecord(context.Background(), "PermissionSetAssignment", map[string]any{}); err == nil {
		t.Fatal("want an error")
	}
	if n := o.hit("POST " + psaPath); n != 1 || len(sleeps.waits()) != 0 {
		t.Fatalf("create sent %d times, waited %v; want once, no retry", n, sleeps.waits())
	}
	// A rejected session is retried: the org did nothing.
	o.route("POST "+psaPath, func(w http.ResponseWriter, r *http.Request) {
		writeBody(w, http.StatusCreated, `{"id":"0PaAk0000000002AAA","errors":[],"success":true}`)
	})
	o.expireAll()
	if id, err := c.CreateRecord(context.Background(), "PermissionSetAssignment", map[string]any{}); err != nil || id != "0PaAk0000000002AAA" {
		t.Fatalf("after a session expiry: %q, %v", id, err)
	}
}

func TestDeleteRecord(t *testing.T) {
	o := newFakeOrg(t)
	o.route("DELETE "+psaPath+"0PaAk0000000001AAA", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	o.route("DELETE "+psaPath+"0PaAk0000000002AAA", func(w http.ResponseWriter, r *http.Request) {
		writeBody(w, 404, `[{"message":"entity is deleted","errorCode":"ENTITY_IS_DELETED"}]`)
	})
	c, _, _ := testClient(t, o)
	ctx := context.Background()
	if err := c.DeleteRecord(ctx, "PermissionSetAssignment", "0PaAk0000000001AAA"); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteRecord(ctx, "PermissionSetAssignment", "0PaAk0000000002AAA"); !errors.Is(err, ErrRecordNotFound) {
		t.Fatalf("delete of a deleted record: %v; want ErrRecordNotFound", err)
	}
	if err := c.DeleteRecord(ctx, "PermissionSetAssignment", "0PaAk0000000003AAA"); !errors.Is(err, ErrRecordNotFound) {
		t.Fatalf("delete of an unknown record: %v; want ErrRecordNotFound", err)
	}
	for _, bad := range [][2]string{{"PermissionSetAssignment", "../User/005"}, {"Permission Set", "0PaAk0000000001AAA"}} {
		if err := c.DeleteRecord(ctx, bad[0], bad[1]); err == nil {
			t.Errorf("DeleteRecord(%q, %q) sent a request", bad[0], bad[1])
		}
	}
}

func FuzzDecodeSaveResult(f *testing.F) {
	for _, s := range []string{
		`{"id":"0PaAk0000000001AAA","errors":[],"success":true}`,
		`{"id":null,"success":false,"errors":[{"message":"m","errorCode":"X","fields":["A"]}]}`,
		`{"success":"yes"}`, `[]`, ``, `{"id":1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		id, err := decodeSaveResult(&response{endpoint: "POST /x", status: 201, contentType: "application/json", body: body})
		if err == nil && !recordID.MatchString(id) {
			t.Fatalf("accepted id %q", id)
		}
	})
}
