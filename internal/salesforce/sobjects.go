package salesforce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
)

// Errors of record writes, matched with errors.Is on the *APIError a write
// returns.
var (
	// ErrRecordNotFound: the record to delete does not exist or was
	// deleted already.
	ErrRecordNotFound = errors.New("record not found")
	// ErrDuplicate: an equal record exists, such as a second assignment of
	// one permission set to one user.
	ErrDuplicate = errors.New("duplicate record")
	// ErrInvalidRecord: the org refused the record's fields (a missing
	// required field, a field it does not know, a reference to a record
	// of the wrong type, a date in the past).
	ErrInvalidRecord = errors.New("invalid record")
	// ErrInsufficientAccess: the integration user may not make this change.
	ErrInsufficientAccess = errors.New("insufficient access")
)

// writeErrorIs maps the error codes of the sObject write resources onto
// the sentinels above. The codes a PermissionSetAssignment write returns
// for each case are not all in the public documentation; this one
// function holds the mapping so that it can change in one place.
func writeErrorIs(code string, target error) bool {
	switch target {
	case ErrRecordNotFound:
		return code == "NOT_FOUND" || code == "ENTITY_IS_DELETED" || code == "INVALID_CROSS_REFERENCE_KEY"
	case ErrDuplicate:
		return code == "DUPLICATE_VALUE"
	case ErrInvalidRecord:
		switch code {
		case "REQUIRED_FIELD_MISSING", "INVALID_FIELD", "FIELD_INTEGRITY_EXCEPTION", "MALFORMED_ID",
			"INVALID_TYPE", "JSON_PARSER_ERROR", "INVALID_FIELD_FOR_INSERT_UPDATE", "FIELD_CUSTOM_VALIDATION_EXCEPTION":
			return true
		}
	case ErrInsufficientAccess:
		return code == "INSUFFICIENT_ACCESS" || code == "INSUFFICIENT_ACCESS_OR_READONLY" || code == "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY"
	}
	return false
}

// sObjectName is an sObject API name: letters, digits and underscores,
// starting with a letter.
var sObjectName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,79}$`)

// recordID is a 15- or 18-character Salesforce ID.
var recordID = regexp.MustCompile(`^[A-Za-z0-9]{15}([A-Za-z0-9]{3})?$`)

// saveResult is the body of a successful create: {"id","success","errors"}.
type saveResult struct {
	ID      string          `json:"id"`
	Success *bool           `json:"success"`
	Errors  []apiErrorEntry `json:"errors"`
}

// decodeSaveResult reads a create response and returns the new record's ID.
func decodeSaveResult(resp *response) (string, error) {
	var r saveResult
	if err := decodeJSON(resp, &r); err != nil {
		return "", err
	}
	if r.Success == nil {
		return "", &ResponseError{Endpoint: resp.endpoint, Status: resp.status, Reason: "create result has no success member"}
	}
	if !*r.Success {
		e := &APIError{Status: resp.status, Endpoint: resp.endpoint, Code: "UNKNOWN_EXCEPTION", Message: "the org reported the create as unsuccessful"}
		if len(r.Errors) > 0 {
			e.Code, e.Message, e.Fields = r.Errors[0].ErrorCode, r.Errors[0].Message, r.Errors[0].Fields
		}
		return "", e
	}
	if !recordID.MatchString(r.ID) {
		return "", &ResponseError{Endpoint: resp.endpoint, Status: resp.status, Reason: "create result has no valid record id"}
	}
	return r.ID, nil
}

// CreateRecord creates one record of sObject type obj with the given
// fields (POST /services/data/vXX.X/sobjects/{obj}/) and returns its ID.
// Errors are *APIError values that match ErrDuplicate, ErrInvalidRecord,
// ErrInsufficientAccess or the transport's sentinels. A create is not
// retried after the org may have received it, so that a record is never
// made twice; a lost response is reported, not repeated.
func (c *Client) CreateRecord(ctx context.Context, obj string, fields map[string]any) (string, error) {
	if !sObjectName.MatchString(obj) {
		return "", fmt.Errorf("salesforce: create: %q is not an sObject name", obj)
	}
	body, err := json.Marshal(fields)
	if err != nil {
		return "", fmt.Errorf("salesforce: create %s: encode fields: %w", obj, err)
	}
	cl := &call{
		method: http.MethodPost, path: c.DataPath("sobjects/" + obj + "/"), kind: restCall, contentType: "application/json",
		body: func(*Token) ([]byte, error) { return body, nil }, once: true,
	}
	resp, err := c.do(ctx, cl)
	if err != nil {
		return "", err
	}
	if resp.status != http.StatusCreated && resp.status != http.StatusOK {
		return "", &ResponseError{Endpoint: resp.endpoint, Status: resp.status, Reason: "a create answers 201 Created"}
	}
	return decodeSaveResult(resp)
}

// DeleteRecord deletes one record (DELETE
// /services/data/vXX.X/sobjects/{obj}/{id}). A record that is already gone
// yields an error matching ErrRecordNotFound.
func (c *Client) DeleteRecord(ctx context.Context, obj, id string) error {
	if !sObjectName.MatchString(obj) {
		return fmt.Errorf("salesforce: delete: %q is not an sObject name", obj)
	}
	if !recordID.MatchString(id) {
		return fmt.Errorf("salesforce: delete %s: %q is not a record ID", obj, id)
	}
	cl := &call{method: http.MethodDelete, path: c.DataPath("sobjects/" + obj + "/" + url.PathEscape(id)), kind: restCall}
	resp, err := c.do(ctx, cl)
	if err != nil {
		return err
	}
	if resp.status != http.StatusNoContent && resp.status != http.StatusOK {
		return &ResponseError{Endpoint: resp.endpoint, Status: resp.status, Reason: "a delete answers 204 No Content"}
	}
	return nil
}
