package fakeorg

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestTokenErrors(t *testing.T) {
	t.Parallel()
	o := startBasic(t)
	cc := func(key, secret string) url.Values {
		return url.Values{"grant_type": {"client_credentials"}, "client_id": {key}, "client_secret": {secret}}
	}
	tests := []struct {
		name      string
		form      url.Values
		header    map[string]string
		wantError string
		wantDesc  string
	}{
		{"unknown key", cc("3MVG9nope", "x"), nil, "invalid_client_id", "client identifier invalid"},
		{"missing key", url.Values{"grant_type": {"client_credentials"}}, nil, "invalid_client_id", "client identifier invalid"},
		{"wrong secret", cc(scannerKey, "WRONG"), nil, "invalid_client", "invalid client credentials"},
		{"no grant type", url.Values{"client_id": {scannerKey}}, nil, "unsupported_grant_type", "grant type not supported"},
		{"password grant", url.Values{"grant_type": {"password"}}, nil, "unsupported_grant_type", "grant type not supported"},
		{"json body", nil, map[string]string{"Content-Type": "application/json"}, "unsupported_grant_type", "grant type not supported"},
		{"scope parameter", func() url.Values { v := cc(scannerKey, scannerSecret); v.Set("scope", "api"); return v }(), nil, "invalid_request", "scope parameter not supported"},
		{"no run-as", cc("3MVG9norunas", "NORUNASSECRET0001"), nil, "invalid_grant", "no client credentials user enabled"},
		{"flow disabled", cc("3MVG9notcc", "NOTCCSECRET000001"), nil, "invalid_client", "app must be enabled for client credentials"},
		{"ECA enabled on one side only", cc("3MVG9halfKEY", "HALFSECRET0000001"), nil, "invalid_client", "app must be enabled for client credentials"},
		{"only dropped scopes", cc("3MVG9fullonly", "FULLONLYSECRET001"), nil, "invalid_grant", "no valid scopes defined"},
		{"inactive run-as", cc("3MVG9inactive", "INACTIVESECRET001"), nil, "invalid_grant", "authentication failure"},
		{"login.salesforce.com", cc(scannerKey, scannerSecret), map[string]string{"Host": "login.salesforce.com"}, "invalid_grant", "request not supported on this domain"},
		{"another org", cc(scannerKey, scannerSecret), map[string]string{"Host": "other.my.salesforce.com"}, "invalid_grant", "request not supported on this domain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := tt.form.Encode()
			h := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
			for k, v := range tt.header {
				h[k] = v
			}
			req, _ := http.NewRequest(http.MethodPost, o.URL+"/services/oauth2/token", strings.NewReader(body))
			for k, v := range h {
				req.Header.Set(k, v)
			}
			if host := h["Host"]; host != "" {
				req.Host = host
			}
			resp, err := o.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var got struct{ Error, ErrorDescription string }
			r := response{status: resp.StatusCode}
			r.body = readAll(t, resp)
			v := r.json(t)
			got.Error, _ = v["error"].(string)
			got.ErrorDescription, _ = v["error_description"].(string)
			if r.status != 400 || got.Error != tt.wantError || got.ErrorDescription != tt.wantDesc {
				t.Errorf("got %d %q %q, want 400 %q %q", r.status, got.Error, got.ErrorDescription, tt.wantError, tt.wantDesc)
			}
		})
	}
}

var tokenPattern = regexp.MustCompile(`^00D[0-9A-Za-z]{12}![0-9A-Za-z._]{80,260}$`)

func TestTokenSuccess(t *testing.T) {
	t.Parallel()
	o := startBasic(t)
	r := o.form(t, "/services/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, map[string]string{
		"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(scannerKey+":"+scannerSecret)),
	})
	if r.status != 200 || r.header.Get("Content-Type") != "application/json;charset=UTF-8" {
		t.Fatalf("status %d, content type %q: %s", r.status, r.header.Get("Content-Type"), r.body)
	}
	if !strings.HasPrefix(string(r.body), `{"access_token":`) {
		t.Errorf("members out of order: %s", r.body)
	}
	v := r.json(t)
	tok := v["access_token"].(string)
	if !tokenPattern.MatchString(tok) || !strings.HasPrefix(tok, "00D000000000001!") {
		t.Errorf("token %q does not look like a Salesforce opaque token", tok)
	}
	if v["instance_url"] != o.URL || v["token_type"] != "Bearer" || v["scope"] != "api" || v["token_format"] != "opaque" {
		t.Errorf("unexpected members: %v", v)
	}
	if v["id"] != "https://login.salesforce.com/id/00D000000000001EAA/005Ak0000000002IAA" {
		t.Errorf("id = %v", v["id"])
	}
	issued := v["issued_at"].(string)
	if issued != strconv.FormatInt(o.clock.Now().UnixMilli(), 10) {
		t.Errorf("issued_at = %q, want epoch milliseconds of the clock", issued)
	}
	mac := hmac.New(sha256.New, []byte(scannerSecret))
	mac.Write([]byte(v["id"].(string) + issued))
	if v["signature"] != base64.StdEncoding.EncodeToString(mac.Sum(nil)) {
		t.Errorf("signature does not verify")
	}
	if _, ok := v["refresh_token"]; ok {
		t.Error("client credentials must not return a refresh token")
	}
	if _, ok := v["expires_in"]; ok {
		t.Error("the token response has no expires_in")
	}
	// Two logins give two different random tokens.
	if other := o.login(t, scannerKey, scannerSecret); other == tok {
		t.Error("tokens are not random")
	}
	// The login is recorded.
	q := o.query(t, tok, "SELECT Application, LoginSubType FROM LoginHistory WHERE LoginTime = TODAY AND Application = 'Scanner App'")
	if got := q.json(t)["totalSize"]; got != float64(2) {
		t.Errorf("LoginHistory rows for today's logins = %v, want 2", got)
	}
}

func TestSessionLifetime(t *testing.T) {
	t.Parallel()
	o := startBasic(t)
	tok := o.login(t, scannerKey, scannerSecret) // app session timeout: 15 minutes
	if r := o.query(t, tok, "SELECT Id FROM User LIMIT 1"); r.status != 200 {
		t.Fatalf("fresh token refused: %d %s", r.status, r.body)
	}
	o.clock.Advance(15 * time.Minute)
	r := o.query(t, tok, "SELECT Id FROM User LIMIT 1")
	if r.status != 401 || r.errorCode(t) != "INVALID_SESSION_ID" || r.header.Get("WWW-Authenticate") != "Token" {
		t.Fatalf("expired token: %d %s", r.status, r.body)
	}
	// The ECA's policy sets 30 minutes; the run-as profile's 60 does not apply.
	eca := o.login(t, billingKey, billingSecret)
	o.clock.Advance(29 * time.Minute)
	if r := o.query(t, eca, "SELECT Id FROM User LIMIT 1"); r.status != 200 {
		t.Errorf("ECA token expired early: %d", r.status)
	}
	o.clock.Advance(time.Minute)
	if r := o.query(t, eca, "SELECT Id FROM User LIMIT 1"); r.status != 401 {
		t.Errorf("ECA token outlived its policy: %d", r.status)
	}
}

func TestRevokeAndIntrospect(t *testing.T) {
	t.Parallel()
	o := startBasic(t)
	tok := o.login(t, scannerKey, scannerSecret)
	introspect := func(key, secret, token string) map[string]any {
		r := o.form(t, "/services/oauth2/introspect", url.Values{"token": {token}, "client_id": {key}, "client_secret": {secret}, "token_type_hint": {"access_token"}}, nil)
		if r.status != 200 {
			t.Fatalf("introspect: %d %s", r.status, r.body)
		}
		return r.json(t)
	}
	got := introspect(scannerKey, scannerSecret, tok)
	if got["active"] != true || got["client_id"] != scannerKey || got["username"] != "scanner@test.example" || got["token_type"] != "access_token" {
		t.Errorf("introspect own token: %v", got)
	}
	if exp, iat := got["exp"].(float64), got["iat"].(float64); exp-iat != 15*60 {
		t.Errorf("exp-iat = %v, want the 15-minute session", exp-iat)
	}
	// Another app sees it only with isIntrospectAllTokens (Billing has it, ERP does not).
	if got := introspect(billingKey, billingSecret, tok); got["active"] != true {
		t.Errorf("introspect-all app: %v", got)
	}
	if got := introspect("3MVG9erpKEY", "ERPSECRET00000001", tok); len(got) != 1 || got["active"] != false {
		t.Errorf("other app: %v, want only active=false", got)
	}
	if r := o.form(t, "/services/oauth2/introspect", url.Values{"token": {tok}, "client_id": {scannerKey}, "client_secret": {"bad"}}, nil); r.status != 401 {
		t.Errorf("bad client auth: %d", r.status)
	}

	if r := o.form(t, "/services/oauth2/revoke", url.Values{"token": {"00Dnope"}}, nil); r.status != 400 || r.json(t)["error"] != "invalid_token" {
		t.Errorf("revoke unknown: %d %s", r.status, r.body)
	}
	if r := o.form(t, "/services/oauth2/revoke", url.Values{"token": {tok}}, nil); r.status != 200 || len(r.body) != 0 {
		t.Errorf("revoke: %d %q", r.status, r.body)
	}
	if got := introspect(scannerKey, scannerSecret, tok); got["active"] != false {
		t.Errorf("revoked token still active")
	}
	if r := o.query(t, tok, "SELECT Id FROM User"); r.status != 401 {
		t.Errorf("revoked token accepted: %d", r.status)
	}
	// GET revoke with a DeleteToken removes the OauthToken row.
	admin := o.login(t, scannerKey, scannerSecret)
	rows := o.query(t, admin, "SELECT DeleteToken FROM OauthToken").json(t)["records"].([]any)
	del := rows[0].(map[string]any)["DeleteToken"].(string)
	if r := o.do(t, http.MethodGet, "/services/oauth2/revoke?token="+url.QueryEscape(del), "", nil, nil); r.status != 200 {
		t.Fatalf("revoke grant: %d %s", r.status, r.body)
	}
	if n := o.query(t, admin, "SELECT count() FROM OauthToken").json(t)["totalSize"]; n != float64(0) {
		t.Errorf("OauthToken rows after revoke = %v", n)
	}
}

func readAll(t testing.TB, resp *http.Response) []byte {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
