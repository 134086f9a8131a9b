package fakeorg

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// defaultSessionTimeout applies when neither the app, the run-as user's
// profile nor the org sets one (the org default of two hours).
const defaultSessionTimeout = 120

const tokenAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._"

// newAccessToken returns an opaque token: the 15-character org ID, "!" and
// 96 random characters.
func (s *Server) newAccessToken() string {
	var raw [96]byte
	if _, err := rand.Read(raw[:]); err != nil {
		panic("crypto/rand: " + err.Error()) // never fails on supported platforms
	}
	b := []byte(s.org.orgID[:15] + "!AQ")
	for _, c := range raw[:94] {
		b = append(b, tokenAlphabet[int(c)%len(tokenAlphabet)])
	}
	return string(b)
}

// formRequest parses a form body; it reports false when the body is not a
// form, as a JSON body is not.
func formRequest(w http.ResponseWriter, r *http.Request) (url.Values, bool) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	form := url.Values{}
	if r.Method == http.MethodPost && mt == "application/x-www-form-urlencoded" {
		body, err := readBody(w, r, 64<<10)
		if err != nil {
			return nil, false
		}
		if form, err = url.ParseQuery(string(body)); err != nil {
			return nil, false
		}
	}
	for k, v := range r.URL.Query() {
		if _, ok := form[k]; !ok {
			form[k] = v
		}
	}
	return form, true
}

// clientAuth reads client credentials from HTTP Basic (preferred) or the
// form body.
func clientAuth(r *http.Request, form url.Values) (id, secret string) {
	if u, p, ok := r.BasicAuth(); ok {
		// RFC 6749 §2.3.1: the Basic values are form-encoded.
		if du, err := url.QueryUnescape(u); err == nil {
			u = du
		}
		if dp, err := url.QueryUnescape(p); err == nil {
			p = dp
		}
		return u, p
	}
	return form.Get("client_id"), form.Get("client_secret")
}

// foreignHost reports a Salesforce host that is not this org's My Domain:
// login.salesforce.com, test.salesforce.com or another org. Loopback and
// other test hosts are accepted.
func (s *Server) foreignHost(r *http.Request) bool {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.ToLower(host)
	if !strings.HasSuffix(host, ".salesforce.com") {
		return false
	}
	return host != s.MyDomainHost()
}

func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "must use HTTP POST")
		return
	}
	if s.foreignHost(r) {
		writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "request not supported on this domain")
		return
	}
	form, ok := formRequest(w, r)
	if !ok || form.Get("grant_type") != "client_credentials" {
		writeOAuthError(w, http.StatusBadRequest, "unsupported_grant_type", "grant type not supported")
		return
	}
	if form.Has("scope") {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "scope parameter not supported")
		return
	}
	id, secret := clientAuth(r, form)
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.org.byKey[id]
	if id == "" || a == nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_client_id", "client identifier invalid")
		return
	}
	if !a.acceptsSecret(secret) {
		writeOAuthError(w, http.StatusBadRequest, "invalid_client", "invalid client credentials")
		return
	}
	if !a.cc {
		writeOAuthError(w, http.StatusBadRequest, "invalid_client", "app must be enabled for client credentials")
		return
	}
	if a.runAs == "" {
		writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "no client credentials user enabled")
		return
	}
	user := s.org.users[strings.ToLower(a.runAs)]
	if user == nil || user.f["IsActive"] != true || s.org.frozen(user) {
		writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "authentication failure")
		return
	}
	var scopes []string
	for _, sc := range a.scopes {
		if !ccDropped[sc] {
			scopes = append(scopes, sc)
		}
	}
	if len(scopes) == 0 {
		writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "no valid scopes defined")
		return
	}
	now := s.clock()
	sess := &session{
		token: s.newAccessToken(), app: a, user: user, issued: now,
		expires: now.Add(time.Duration(s.sessionTimeout(a, user)) * time.Minute),
	}
	s.sessions[sess.token] = sess
	s.recordLogin(a, user, r, now)

	issuedAt := strconv.FormatInt(now.UnixMilli(), 10)
	idURL := s.identityURL(user)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(idURL + issuedAt))
	writeJSON(w, http.StatusOK, jsonObject{
		{"access_token", sess.token},
		{"signature", base64.StdEncoding.EncodeToString(mac.Sum(nil))},
		{"scope", strings.Join(scopes, " ")},
		{"instance_url", instanceURL(r)},
		{"id", idURL},
		{"token_type", "Bearer"},
		{"issued_at", issuedAt},
		{"token_format", "opaque"},
	})
}

func secretMatches(want, got string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
}

// sessionTimeout picks the app's timeout, then the run-as user's profile's,
// then the org's, in minutes.
func (s *Server) sessionTimeout(a *app, user *row) int {
	if a.sessionTimeout > 0 {
		return a.sessionTimeout
	}
	for _, p := range s.org.sc.Profiles {
		if s.org.profiles[p.Name].id == user.f["ProfileId"] && p.SessionTimeout > 0 {
			return p.SessionTimeout
		}
	}
	if s.org.sc.Org.SessionTimeout > 0 {
		return s.org.sc.Org.SessionTimeout
	}
	return defaultSessionTimeout
}

func (s *Server) identityURL(user *row) string {
	host := "login.salesforce.com"
	if s.org.sc.Org.Kind == "sandbox" {
		host = "test.salesforce.com"
	}
	return "https://" + host + "/id/" + s.org.orgID + "/" + user.id
}

func instanceURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// recordLogin adds the LoginHistory row a real org writes for a
// client-credentials login and updates the user's LastLoginDate. The caller
// holds s.mu.
func (s *Server) recordLogin(a *app, user *row, r *http.Request, now time.Time) {
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr
	}
	s.org.add("LoginHistory", map[string]any{
		"UserId": user.id, "LoginTime": now.UTC(), "LoginType": loginTypeOAuth, "LoginSubType": loginSubTypeCC,
		"Application": a.label, "ApiType": "REST API", "ApiVersion": "N/A", "AuthMethodReference": nil,
		"Browser": "Unknown", "ClientVersion": "N/A", "CountryIso": nil, "LoginUrl": r.Host, "Platform": "Unknown",
		"SourceIp": ip, "Status": loginStatusSuccess, "TlsProtocol": "TLS 1.3",
	})
	user.f["LastLoginDate"] = now.UTC()
}

func (s *Server) serveRevoke(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "must use HTTP POST or GET")
		return
	}
	form, ok := formRequest(w, r)
	token := form.Get("token")
	if !ok || token == "" {
		writeOAuthError(w, http.StatusBadRequest, "unsupported_token_type", "this token type is not supported")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if sess := s.sessions[token]; sess != nil && !sess.revoked {
		sess.revoked = true
		w.WriteHeader(http.StatusOK)
		return
	}
	// A DeleteToken of an OauthToken row revokes that grant.
	rows := s.org.rows["OauthToken"]
	for i, t := range rows {
		if t.f["DeleteToken"] == token {
			s.org.rows["OauthToken"] = append(rows[:i:i], rows[i+1:]...)
			delete(s.org.byID, t.id[:15])
			w.WriteHeader(http.StatusOK)
			return
		}
	}
	writeOAuthError(w, http.StatusBadRequest, "invalid_token", "invalid token")
}

func (s *Server) serveIntrospect(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "must use HTTP POST")
		return
	}
	form, ok := formRequest(w, r)
	if !ok {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "invalid request")
		return
	}
	id, secret := clientAuth(r, form)
	s.mu.Lock()
	defer s.mu.Unlock()
	caller := s.org.byKey[id]
	if caller == nil || !caller.acceptsSecret(secret) {
		writeOAuthError(w, http.StatusUnauthorized, "invalid_client", "invalid client credentials")
		return
	}
	sess, live := s.authenticate(form.Get("token"))
	if !live || (sess.app != caller && !caller.introspectAll) {
		writeJSON(w, http.StatusOK, jsonObject{{"active", false}})
		return
	}
	var scopes []string
	for _, sc := range sess.app.scopes {
		if !ccDropped[sc] {
			scopes = append(scopes, sc)
		}
	}
	writeJSON(w, http.StatusOK, jsonObject{
		{"active", true},
		{"scope", strings.Join(scopes, " ")},
		{"client_id", sess.app.consumerKey},
		{"username", sess.user.f["Username"]},
		{"sub", s.identityURL(sess.user)},
		{"token_type", "access_token"},
		{"exp", sess.expires.Unix()},
		{"iat", sess.issued.Unix()},
		{"nbf", sess.issued.Unix()},
	})
}
