package elevation

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/steward-dev/steward/internal/salesforce"
)

// SalesforceOrgs applies elevations through the Salesforce REST API, one
// client per org, connected with Steward's own governance app (which needs
// the Assign Permission Sets permission).
type SalesforceOrgs struct {
	// Connect returns a client for an org's URL.
	Connect func(orgURL string) (*salesforce.Client, error)

	mu      sync.Mutex
	clients map[string]*salesforce.Client
}

var _ Org = (*SalesforceOrgs)(nil)

func (o *SalesforceOrgs) client(orgURL string) (*salesforce.Client, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if c := o.clients[orgURL]; c != nil {
		return c, nil
	}
	c, err := o.Connect(orgURL)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", orgURL, err)
	}
	if o.clients == nil {
		o.clients = map[string]*salesforce.Client{}
	}
	o.clients[orgURL] = c
	return c, nil
}

// PermissionSetID looks the permission set up by API name.
func (o *SalesforceOrgs) PermissionSetID(ctx context.Context, orgURL, name string) (string, error) {
	c, err := o.client(orgURL)
	if err != nil {
		return "", err
	}
	type row struct {
		ID               string `json:"Id"`
		IsOwnedByProfile bool   `json:"IsOwnedByProfile"`
	}
	rows, err := salesforce.QueryAll[row](ctx, c, "SELECT Id, IsOwnedByProfile FROM PermissionSet WHERE Name = "+soqlString(name))
	if err != nil {
		return "", err
	}
	switch {
	case len(rows) == 0:
		return "", fmt.Errorf("%w: %s has no permission set named %s", ErrUnknownPermSet, orgURL, name)
	case rows[0].IsOwnedByProfile:
		return "", fmt.Errorf("%w: %s is a profile's own permission set, which cannot be assigned", ErrUnknownPermSet, name)
	}
	return rows[0].ID, nil
}

// UserID looks the user up by username.
func (o *SalesforceOrgs) UserID(ctx context.Context, orgURL, username string) (string, error) {
	c, err := o.client(orgURL)
	if err != nil {
		return "", err
	}
	type row struct {
		ID string `json:"Id"`
	}
	rows, err := salesforce.QueryAll[row](ctx, c, "SELECT Id FROM User WHERE Username = "+soqlString(username))
	if err != nil {
		return "", err
	}
	if len(rows) == 0 {
		return "", fmt.Errorf("%w: %s has no user %s", ErrOrgRefused, orgURL, username)
	}
	return rows[0].ID, nil
}

// Assign creates the PermissionSetAssignment with its ExpirationDate.
func (o *SalesforceOrgs) Assign(ctx context.Context, orgURL, userID, permSetID string, expires time.Time) (string, error) {
	c, err := o.client(orgURL)
	if err != nil {
		return "", err
	}
	id, err := c.CreateRecord(ctx, "PermissionSetAssignment", map[string]any{
		"AssigneeId": userID, "PermissionSetId": permSetID, "ExpirationDate": restTime(expires),
	})
	if err != nil {
		return "", orgError(err)
	}
	return id, nil
}

// Unassign deletes the assignment; one that is gone already (the org's
// own expiry, or someone in Setup) counts as removed.
func (o *SalesforceOrgs) Unassign(ctx context.Context, orgURL, assignmentID string) error {
	c, err := o.client(orgURL)
	if err != nil {
		return err
	}
	err = c.DeleteRecord(ctx, "PermissionSetAssignment", assignmentID)
	if errors.Is(err, salesforce.ErrRecordNotFound) {
		return nil
	}
	return orgError(err)
}

// orgError marks the org's refusals of a write, as opposed to a failure
// to reach it.
func orgError(err error) error {
	if errors.Is(err, salesforce.ErrDuplicate) || errors.Is(err, salesforce.ErrInvalidRecord) || errors.Is(err, salesforce.ErrInsufficientAccess) {
		return fmt.Errorf("%w: %w", ErrOrgRefused, err)
	}
	return err
}

func isOrgRefusal(err error) bool {
	return errors.Is(err, ErrOrgRefused) || errors.Is(err, ErrUnknownPermSet)
}

// restTime writes a REST API datetime: 2026-11-26T10:00:00.000+0000.
func restTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000-0700") }

// soqlString quotes s as a SOQL string literal.
func soqlString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}
