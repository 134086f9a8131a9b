package salesforce

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestNewValidatesURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, url, want, wantErr string
	}{
		{name: "my domain", url: "https://acme.my.salesforce.com", want: "https://acme.my.salesforce.com"},
		{name: "trailing slash", url: "https://acme.my.salesforce.com/", want: "https://acme.my.salesforce.com"},
		{name: "sandbox", url: "https://acme--uat.sandbox.my.salesforce.com", want: "https://acme--uat.sandbox.my.salesforce.com"},
		{name: "upper case host", url: "https://ACME.My.Salesforce.com", want: "https://ACME.My.Salesforce.com"},
		{name: "loopback ipv4", url: "http://127.0.0.1:8443", want: "http://127.0.0.1:8443"},
		{name: "loopback name", url: "http://localhost:9000", want: "http://localhost:9000"},
		{name: "loopback ipv6", url: "http://[::1]:9000", want: "http://[::1]:9000"},
		{name: "https loopback", url: "https://127.0.0.1:9000", want: "https://127.0.0.1:9000"},
		{name: "empty", url: "", wantErr: "is empty"},
		{name: "login host", url: "https://login.salesforce.com", wantErr: "not a My Domain host"},
		{name: "test host", url: "https://test.salesforce.com", wantErr: "not a My Domain host"},
		{name: "look-alike", url: "https://acme.my.salesforce.com.evil.example", wantErr: "not a My Domain host"},
		{name: "bare suffix", url: "https://my.salesforce.com", wantErr: "not a My Domain host"},
		{name: "http remote", url: "http://acme.my.salesforce.com", wantErr: "only https"},
		{name: "http private ip", url: "http://10.0.0.1", wantErr: "only https"},
		{name: "other scheme", url: "ftp://acme.my.salesforce.com", wantErr: "must use https"},
		{name: "path", url: "https://acme.my.salesforce.com/services/oauth2/token", wantErr: "bare scheme and host"},
		{name: "query", url: "https://acme.my.salesforce.com/?x=1", wantErr: "bare scheme and host"},
		{name: "credentials", url: "https://u:p@acme.my.salesforce.com", wantErr: "must not carry credentials"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(Config{URL: tt.url, ClientID: "id", ClientSecret: "s3cret-value"})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("New(%q) error = %v, want one containing %q", tt.url, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("New(%q): %v", tt.url, err)
			}
			if got := c.URL(); got != tt.want {
				t.Errorf("URL() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNewValidatesSettings(t *testing.T) {
	t.Parallel()
	base := Config{URL: "https://acme.my.salesforce.com", ClientID: "id", ClientSecret: "s3cret-value"}
	tests := []struct {
		name    string
		mutate  func(*Config)
		wantErr string
	}{
		{"no id", func(c *Config) { c.ClientID = "" }, "consumer key"},
		{"no secret", func(c *Config) { c.ClientSecret = "" }, "consumer secret is empty"},
		{"bad version", func(c *Config) { c.APIVersion = "v67" }, "not of the form"},
		{"bad version 2", func(c *Config) { c.APIVersion = "67.1" }, "not of the form"},
		{"share over 1", func(c *Config) { c.MaxAPIShare = 1.5 }, "outside"},
		{"negative share", func(c *Config) { c.MaxAPIShare = -0.1 }, "outside"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := base
			tt.mutate(&cfg)
			_, err := New(cfg)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
			}
			assertNoSecret(t, "error", err.Error())
			if strings.Contains(err.Error(), "s3cret-value") {
				t.Errorf("error holds the secret: %v", err)
			}
		})
	}
	c, err := New(base)
	if err != nil {
		t.Fatal(err)
	}
	if c.APIVersion() != DefaultAPIVersion || c.maxShare != DefaultMaxAPIShare || c.maxRetries != DefaultMaxRetries {
		t.Errorf("defaults not applied: version %s share %g retries %d", c.APIVersion(), c.maxShare, c.maxRetries)
	}
	if got, want := c.DataPath("limits"), "/services/data/v67.0/limits"; got != want {
		t.Errorf("DataPath = %q, want %q", got, want)
	}
	if got, want := c.QueryPath("SELECT Id FROM User LIMIT 1"), "/services/data/v67.0/query?q=SELECT+Id+FROM+User+LIMIT+1"; got != want {
		t.Errorf("QueryPath = %q, want %q", got, want)
	}
	noRetry := base
	noRetry.MaxRetries = -1
	if c, _ := New(noRetry); c.maxRetries != 0 {
		t.Errorf("MaxRetries -1 gave %d retries, want 0", c.maxRetries)
	}
}

// TestPrintedFormsHideSecrets prints a Config, a Client and a Token every
// way fmt and slog can and searches the output.
func TestPrintedFormsHideSecrets(t *testing.T) {
	t.Parallel()
	cfg := Config{URL: "https://acme.my.salesforce.com", ClientID: testClientID, ClientSecret: testSecret}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tok := &Token{AccessToken: fixtureToken, InstanceURL: "https://acme.my.salesforce.com"}
	c.token = tok
	var out bytes.Buffer
	for _, v := range []any{cfg, &cfg, c, tok, *tok} {
		fmt.Fprintf(&out, "%v|%+v|%#v|%s\n", v, v, v, v)
	}
	for _, h := range []slog.Handler{slog.NewTextHandler(&out, nil), slog.NewJSONHandler(&out, nil)} {
		slog.New(h).Info("x", "cfg", cfg, "client", c, "token", tok)
	}
	assertNoSecret(t, "printed output", out.String())
	if !strings.Contains(out.String(), redacted) {
		t.Errorf("printed output does not show that a secret is set:\n%s", out.String())
	}
}
