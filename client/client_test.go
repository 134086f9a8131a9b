package client

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
)

// fakeBroker answers token exchanges for subject "good" and refuses others.
func fakeBroker(t *testing.T, calls *atomic.Int64, subjects chan<- string) *httptest.Server {
	t.Helper()
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.Method != http.MethodPost || r.URL.Path != "/v1/token" || r.PostFormValue("grant_type") != grantTokenExchange ||
			r.PostFormValue("audience") != "erp-connector-prod" || r.PostFormValue("subject_token_type") != tokenTypeJWT {
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(map[string]string{"error": "invalid_request", "error_description": "bad request"})
			return
		}
		sub := r.PostFormValue("subject_token")
		if subjects != nil {
			subjects <- sub
		}
		switch sub {
		case "good", "rotated":
			json.NewEncoder(w).Encode(map[string]any{
				"access_token": "00Dtoken-" + sub, "issued_token_type": "urn:ietf:params:oauth:token-type:access_token",
				"token_type": "Bearer", "expires_in": 600, "instance_url": "https://acme.my.salesforce.com",
			})
		case "down":
			w.WriteHeader(http.StatusServiceUnavailable)
			json.NewEncoder(w).Encode(map[string]string{"error": "temporarily_unavailable", "error_description": "org down"})
		default:
			w.WriteHeader(http.StatusForbidden)
			json.NewEncoder(w).Encode(map[string]string{"error": "unauthorized_client", "error_description": "denied by policy: consumer_not_allowed"})
		}
	}))
	t.Cleanup(ts.Close)
	return ts
}

func static(s string) func(context.Context) (string, error) {
	return func(context.Context) (string, error) { return s, nil }
}

func TestTokenSourceReuses(t *testing.T) {
	var calls atomic.Int64
	ts := fakeBroker(t, &calls, nil)
	src := Config{BrokerURL: ts.URL + "/", Identity: "erp-connector-prod", SubjectToken: static("good"), HTTPClient: ts.Client()}.TokenSource(context.Background())
	for range 3 {
		tok, err := src.Token()
		if err != nil {
			t.Fatal(err)
		}
		if tok.AccessToken != "00Dtoken-good" || tok.Type() != "Bearer" || InstanceURL(tok) != "https://acme.my.salesforce.com" || !tok.Valid() {
			t.Fatalf("token = %+v, instance %q", tok, InstanceURL(tok))
		}
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("%d exchanges for three Token calls, want 1", n)
	}
}

func TestTokenSourceErrors(t *testing.T) {
	var calls atomic.Int64
	ts := fakeBroker(t, &calls, nil)
	tests := []struct {
		subject   string
		status    int
		code      string
		temporary bool
	}{
		{"other", 403, "unauthorized_client", false},
		{"down", 503, "temporarily_unavailable", true},
	}
	for _, tt := range tests {
		_, err := Config{BrokerURL: ts.URL, Identity: "erp-connector-prod", SubjectToken: static(tt.subject), HTTPClient: ts.Client()}.TokenSource(context.Background()).Token()
		var be *Error
		if !errors.As(err, &be) || be.Status != tt.status || be.Code != tt.code || be.Temporary() != tt.temporary {
			t.Errorf("%s: error %v, want %d %s", tt.subject, err, tt.status, tt.code)
		}
	}
	boom := errors.New("no token on disk")
	_, err := Config{BrokerURL: ts.URL, Identity: "x", SubjectToken: func(context.Context) (string, error) { return "", boom }, HTTPClient: ts.Client()}.TokenSource(context.Background()).Token()
	if !errors.Is(err, boom) {
		t.Errorf("subject token failure: %v", err)
	}
}

func TestFileSubjectTokenRotates(t *testing.T) {
	var calls atomic.Int64
	subjects := make(chan string, 2)
	ts := fakeBroker(t, &calls, subjects)
	path := filepath.Join(t.TempDir(), "token")
	os.WriteFile(path, []byte("good\n"), 0o600)
	cfg := Config{BrokerURL: ts.URL, Identity: "erp-connector-prod", SubjectToken: FileSubjectToken(path), HTTPClient: ts.Client()}
	if _, err := cfg.TokenSource(context.Background()).Token(); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(path, []byte("rotated"), 0o600)
	tok, err := cfg.TokenSource(context.Background()).Token()
	if err != nil {
		t.Fatal(err)
	}
	if a, b := <-subjects, <-subjects; a != "good" || b != "rotated" || tok.AccessToken != "00Dtoken-rotated" {
		t.Errorf("subjects sent %q then %q; token %q", a, b, tok.AccessToken)
	}
	if _, err := FileSubjectToken(filepath.Join(t.TempDir(), "missing"))(context.Background()); err == nil {
		t.Error("a missing token file gave no error")
	}
}
