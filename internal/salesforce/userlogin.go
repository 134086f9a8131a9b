package salesforce

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// User is the part of a User record decommissioning needs.
type User struct {
	ID       string `json:"Id"`
	Username string `json:"Username"`
	IsActive bool   `json:"IsActive"`
}

// UserLogin is a user's login state: whether an administrator froze the
// user, which stops every login, API logins included, without deactivating
// the user.
type UserLogin struct {
	ID       string `json:"Id"`
	UserID   string `json:"UserId"`
	IsFrozen bool   `json:"IsFrozen"`
}

// ErrNoUser means no user has the username asked for.
var ErrNoUser = fmt.Errorf("salesforce: no such user")

// UserByUsername finds a user by username (SOQL on User, case-insensitive
// as Salesforce compares usernames).
func (c *Client) UserByUsername(ctx context.Context, username string) (*User, error) {
	if username == "" || strings.ContainsAny(username, "\x00\r\n") {
		return nil, fmt.Errorf("salesforce: %q is not a username", username)
	}
	users, err := QueryAll[User](ctx, c, "SELECT Id, Username, IsActive FROM User WHERE Username = "+soqlString(username))
	if err != nil {
		return nil, err
	}
	if len(users) == 0 {
		return nil, fmt.Errorf("%w %s", ErrNoUser, username)
	}
	return &users[0], nil
}

// UserLoginOf returns the UserLogin record of a user.
func (c *Client) UserLoginOf(ctx context.Context, userID string) (*UserLogin, error) {
	if !recordID.MatchString(userID) {
		return nil, fmt.Errorf("salesforce: %q is not a user ID", userID)
	}
	logins, err := QueryAll[UserLogin](ctx, c, userLoginQuery(userID))
	if err != nil {
		return nil, err
	}
	if len(logins) == 0 {
		return nil, fmt.Errorf("salesforce: user %s has no UserLogin record", userID)
	}
	return &logins[0], nil
}

// SetFrozen freezes (or unfreezes) the user of a UserLogin record by
// updating the record (PATCH /sobjects/UserLogin/{id}). Setting the value
// it already has changes nothing, so the call may be repeated.
func (c *Client) SetFrozen(ctx context.Context, userLoginID string, frozen bool) error {
	if !recordID.MatchString(userLoginID) {
		return fmt.Errorf("salesforce: freeze: %q is not a record ID", userLoginID)
	}
	body, err := json.Marshal(frozenPatch(frozen))
	if err != nil {
		return fmt.Errorf("salesforce: freeze: %w", err)
	}
	cl := &call{
		method: http.MethodPatch, path: c.DataPath("sobjects/" + userLoginObject + "/" + url.PathEscape(userLoginID)),
		kind: restCall, contentType: "application/json",
		body: func(*Token) ([]byte, error) { return body, nil },
	}
	resp, err := c.do(ctx, cl)
	if err != nil {
		return err
	}
	if resp.status != http.StatusNoContent && resp.status != http.StatusOK {
		return &ResponseError{Endpoint: resp.endpoint, Status: resp.status, Reason: "an update answers 204 No Content"}
	}
	return nil
}

// userLoginObject is the sObject that carries a user's frozen state.
const userLoginObject = "UserLogin"

// userLoginQuery is the SOQL that reads a user's UserLogin record. That
// the frozen state lives on UserLogin.IsFrozen, keyed by UserId, rather
// than on User is not confirmed by a primary source; this function and
// frozenPatch hold that assumption.
func userLoginQuery(userID string) string {
	return "SELECT Id, UserId, IsFrozen FROM " + userLoginObject + " WHERE UserId = '" + userID + "'"
}

// frozenPatch is the update body that sets a UserLogin's frozen state.
func frozenPatch(frozen bool) map[string]bool {
	return map[string]bool{"IsFrozen": frozen}
}

// soqlString renders s as a SOQL string literal, escaping what SOQL
// reserves inside quotes.
func soqlString(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for _, r := range s {
		switch r {
		case '\'', '\\', '"':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\t':
			b.WriteString(`\t`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('\'')
	return b.String()
}

// RevokeAppTokens revokes every OAuth token grant the org holds for the
// connected app whose API name is appName: it reads the app's OauthToken
// records and passes each one's DeleteToken to the revocation endpoint. It returns how
// many it revoked; on an error, those revoked before it stay revoked and a
// repeated call revokes the rest.
func (c *Client) RevokeAppTokens(ctx context.Context, appName string) (int, error) {
	if appName == "" {
		return 0, fmt.Errorf("salesforce: revoke tokens: no app name")
	}
	type grant struct {
		ID          string `json:"Id"`
		DeleteToken string `json:"DeleteToken"`
	}
	type menuItem struct {
		Label string `json:"Label"`
	}
	items, err := QueryAll[menuItem](ctx, c, "SELECT Label FROM AppMenuItem WHERE Name = "+soqlString(appName))
	if err != nil {
		return 0, err
	}
	names := []string{soqlString(appName)}
	for _, it := range items {
		if it.Label != "" && it.Label != appName {
			names = append(names, soqlString(it.Label))
		}
	}
	grants, err := QueryAll[grant](ctx, c, appTokenQuery(names))
	if err != nil {
		return 0, err
	}
	n := 0
	for _, g := range grants {
		if g.DeleteToken == "" {
			continue
		}
		if err := c.Revoke(ctx, g.DeleteToken); err != nil {
			return n, fmt.Errorf("revoke OAuth token %s of %s: %w", g.ID, appName, err)
		}
		n++
	}
	return n, nil
}

// appTokenQuery is the SOQL that reads an app's OauthToken records.
// Whether OauthToken.AppName holds the app's API name or its label is not
// confirmed by a primary source, so the query matches both: names are the
// quoted API name and the labels of the app's AppMenuItem records.
func appTokenQuery(names []string) string {
	return "SELECT Id, DeleteToken FROM OauthToken WHERE AppName IN (" + strings.Join(names, ", ") + ")"
}
