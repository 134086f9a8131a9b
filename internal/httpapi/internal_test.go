package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/steward-dev/steward/internal/audit"
	"github.com/steward-dev/steward/internal/broker"
	"github.com/steward-dev/steward/internal/snapshot"
	"github.com/steward-dev/steward/internal/workload"
)

// fakeAuth accepts the subject token "good" as the consumer of "erp".
type fakeAuth struct{}

func (fakeAuth) Authenticate(_ context.Context, r *http.Request) (*workload.Workload, error) {
	switch r.PostForm.Get("subject_token") {
	case "":
		return nil, workload.ErrNoCredential
	case "good":
		return &workload.Workload{Method: workload.MethodOIDC, Issuer: "iss", Subject: "sub", Environment: "production"}, nil
	}
	return nil, workload.ErrInvalidCredential
}

type fakeDecider struct{}

func (fakeDecider) Decide(_ context.Context, in broker.Input) (broker.Decision, error) {
	return broker.Decision{Allow: in.Workload.Environment == in.Identity.Environment, Reasons: []broker.Reason{{Code: "allowed"}}}, nil
}

type fakeAudit struct{}

func (fakeAudit) Append(context.Context, audit.Event) (audit.Record, error) {
	return audit.Record{}, nil
}

type fakeTokens struct{}

func (fakeTokens) Token(_ context.Context, _ string, lifetime time.Duration) (broker.Grant, error) {
	return broker.Grant{AccessToken: "00Dx", InstanceURL: "https://acme.my.salesforce.com", ExpiresAt: time.Now().Add(lifetime)}, nil
}
func (fakeTokens) Cached(string) bool                          { return true }
func (fakeTokens) Drop(string)                                 {}
func (fakeTokens) Revoke(context.Context, string) (int, error) { return 0, nil }

// FuzzToken sends arbitrary bodies to the token endpoint: every answer is a
// JSON object with a token or an RFC 6749 error, never a panic.
func FuzzToken(f *testing.F) {
	api, err := New(context.Background(), Config{
		Auth: fakeAuth{}, Decider: fakeDecider{}, Audit: fakeAudit{}, Tokens: fakeTokens{},
		Snapshot: &snapshot.Snapshot{Identities: []snapshot.Identity{{Name: "erp", Environment: "production"}}},
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Add("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange&subject_token=good&audience=erp", "application/x-www-form-urlencoded")
	f.Add("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange&subject_token=good&resource=steward:identity:erp&audience=erp", "application/x-www-form-urlencoded")
	f.Add("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange&subject_token=bad&resource=x", "application/x-www-form-urlencoded")
	f.Add("%zz&&==;", "application/x-www-form-urlencoded; charset=utf-8")
	f.Add(`{"grant_type":"x"}`, "application/json")
	f.Fuzz(func(t *testing.T, body, contentType string) {
		req := httptest.NewRequest(http.MethodPost, "/v1/token", strings.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, req)
		var out struct {
			AccessToken string `json:"access_token"`
			Error       string `json:"error"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("status %d, body is not JSON: %q", rec.Code, rec.Body.String())
		}
		if (rec.Code == http.StatusOK) != (out.AccessToken != "") || (rec.Code != http.StatusOK && out.Error == "") {
			t.Fatalf("status %d with %+v", rec.Code, out)
		}
		if rec.Header().Get("Cache-Control") != "no-store" {
			t.Fatal("no Cache-Control: no-store")
		}
	})
}

// failingAudit refuses every record.
type failingAudit struct{}

func (failingAudit) Append(context.Context, audit.Event) (audit.Record, error) {
	return audit.Record{}, audit.ErrUnavailable
}

func TestReadyAndDropFailClosed(t *testing.T) {
	api, err := New(context.Background(), Config{
		Auth: fakeAuth{}, Decider: fakeDecider{}, Audit: failingAudit{}, Tokens: fakeTokens{},
		Snapshot:  &snapshot.Snapshot{Identities: []snapshot.Identity{{Name: "erp", Environment: "production"}}},
		Operators: []Operator{{Name: "ana", Role: RoleAdmin, Token: "admin-token-000000000000000000000000"}},
		Ready:     func(context.Context) error { return context.DeadlineExceeded },
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		method, path string
		want         int
	}{
		{http.MethodGet, "/readyz", http.StatusServiceUnavailable},
		{http.MethodGet, "/healthz", http.StatusOK},
		{http.MethodDelete, "/v1/identities/erp/token", http.StatusServiceUnavailable},
		{http.MethodDelete, "/v1/identities/nobody/token", http.StatusNotFound},
		{http.MethodGet, "/nowhere", http.StatusNotFound},
	}
	for _, tt := range tests {
		req := httptest.NewRequest(tt.method, tt.path, nil)
		req.Header.Set("Authorization", "Bearer admin-token-000000000000000000000000")
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, req)
		if rec.Code != tt.want {
			t.Errorf("%s %s: %d, want %d", tt.method, tt.path, rec.Code, tt.want)
		}
	}
	// A token request whose decision cannot be audited gets no token.
	req := httptest.NewRequest(http.MethodPost, "/v1/token", strings.NewReader("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange&subject_token=good&audience=erp"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	api.ServeHTTP(rec, req)
	if rec.Code != http.StatusServiceUnavailable || strings.Contains(rec.Body.String(), "access_token") {
		t.Errorf("unaudited token request: %d %s", rec.Code, rec.Body.String())
	}
	if _, err := New(context.Background(), Config{Auth: fakeAuth{}, Decider: fakeDecider{}, Audit: fakeAudit{}, Tokens: fakeTokens{}, Snapshot: &snapshot.Snapshot{},
		Operators: []Operator{{Role: "root", Token: "x"}}}); err == nil {
		t.Error("an operator with role root was accepted")
	}
}
