package server

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/steward-dev/steward/internal/audit"
	"github.com/steward-dev/steward/internal/broker"
	"github.com/steward-dev/steward/internal/httpapi"
	"github.com/steward-dev/steward/internal/repotest"
	"github.com/steward-dev/steward/internal/secrets"
	"github.com/steward-dev/steward/internal/store/storetest"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestParseConfig(t *testing.T) {
	yml := `
listen: 0.0.0.0:9443
dev: true
inventory: [inv]
sessionTimeout: 30m
upstream: {maxRetries: 3, breakerOpen: 45s}
issuers:
  - issuer: https://token.actions.githubusercontent.com
    jwksURL: https://token.actions.githubusercontent.com/.well-known/jwks
    audiences: [steward]
operators:
  - {name: ana, role: admin, tokenFile: /etc/steward/admin.token}
`
	c, err := ParseConfig("steward.yaml", []byte(yml), env(map[string]string{EnvListen: "127.0.0.1:7443", EnvAuditorToken: "x"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:7443" {
		t.Errorf("Listen = %q, want the environment's", c.Listen)
	}
	if time.Duration(c.SessionTimeout) != 30*time.Minute || time.Duration(c.Upstream.BreakerOpen) != 45*time.Second || c.Upstream.MaxRetries != 3 {
		t.Errorf("durations: %v %v %d", c.SessionTimeout, c.Upstream.BreakerOpen, c.Upstream.MaxRetries)
	}
	if len(c.Operators) != 2 || c.Operators[1].Role != httpapi.RoleAuditor || c.Operators[1].TokenEnv != EnvAuditorToken {
		t.Errorf("operators = %+v", c.Operators)
	}
	if len(c.Issuers) != 1 || c.Issuers[0].Audiences[0] != "steward" {
		t.Errorf("issuers = %+v", c.Issuers)
	}
}

func TestParseConfigErrors(t *testing.T) {
	tests := []struct{ name, yml, want string }{
		{"unknown field", "dev: true\ninventory: [x]\nlistn: x\n", "listn"},
		{"no tls", "inventory: [x]\n", "dev: true"},
		{"half tls", "inventory: [x]\ntls: {certFile: c.pem}\n", "both certFile and keyFile"},
		{"no inventory", "dev: true\n", "inventory"},
		{"bad duration", "dev: true\ninventory: [x]\nsessionTimeout: soon\n", "soon"},
		{"bad role", "dev: true\ninventory: [x]\noperators: [{role: root, tokenEnv: X}]\n", "role must be admin, owner, approver or auditor"},
		{"owner without teams", "dev: true\ninventory: [x]\noperators: [{role: owner, tokenEnv: X}]\n", "an owner needs teams"},
		{"teams on an admin", "dev: true\ninventory: [x]\noperators: [{role: admin, teams: [erp], tokenEnv: X}]\n", "teams are only for the owner role"},
		{"two token sources", "dev: true\ninventory: [x]\noperators: [{role: admin, tokenEnv: X, tokenFile: f}]\n", "exactly one of tokenFile and tokenEnv"},
		{"bad level", "dev: true\ninventory: [x]\nlogLevel: loud\n", "logLevel"},
	}
	for _, tt := range tests {
		_, err := ParseConfig("steward.yaml", []byte(tt.yml), env(nil))
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "steward.yaml") {
			t.Errorf("%s: error %v, want one naming steward.yaml and %q", tt.name, err, tt.want)
		}
	}
	if _, err := ParseConfig("steward.yaml", []byte("dev: true\ninventory: [x]\n"), env(map[string]string{EnvDev: "maybe"})); err == nil {
		t.Error("STEWARD_DEV=maybe accepted")
	}
}

func TestOperatorTokens(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "admin.token")
	os.WriteFile(file, []byte(strings.Repeat("a", 40)+"\n"), 0o600)
	c := &Config{Operators: []OperatorConfig{{Name: "ana", Role: httpapi.RoleAdmin, TokenFile: file}, {Role: httpapi.RoleAuditor, TokenEnv: "T"}}}
	ops, err := c.operators(env(map[string]string{"T": strings.Repeat("b", 32)}))
	if err != nil {
		t.Fatal(err)
	}
	if ops[0].Token != strings.Repeat("a", 40) || ops[1].Name != "auditor" {
		t.Errorf("operators = %+v", ops)
	}
	_, err = c.operators(env(map[string]string{"T": "short"}))
	if err == nil || strings.Contains(err.Error(), "short") {
		t.Errorf("short token: %v; want an error that does not repeat it", err)
	}
}

// nullSecrets has no secrets: the server test needs none.
type nullSecrets struct{}

func (nullSecrets) Read(context.Context, audit.Actor, string, int) (secrets.Bundle, secrets.Metadata, error) {
	return secrets.Bundle{}, secrets.Metadata{}, errors.New("no secrets here")
}

// memAudit keeps events in memory.
type memAudit struct {
	mu     sync.Mutex
	events []audit.Event
}

func (m *memAudit) Append(_ context.Context, ev audit.Event) (audit.Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.events = append(m.events, ev)
	return audit.Record{}, nil
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestServeAndShutdown(t *testing.T) {
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, `{"keys":[]}`) }))
	defer jwks.Close()
	adminToken := strings.Repeat("0123456789abcdef", 3)
	yml := fmt.Sprintf(`
listen: 127.0.0.1:0
dev: true
inventory: [%s]
issuers:
  - {issuer: %s, jwksURL: %s, audiences: [steward]}
`, filepath.Join(repotest.Root(t), "examples/acme/inventory"), jwks.URL, jwks.URL)
	getenv := env(map[string]string{EnvAdminToken: adminToken})
	cfg, err := ParseConfig("steward.yaml", []byte(yml), getenv)
	if err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuffer{}
	srv, err := New(context.Background(), cfg, Deps{Secrets: nullSecrets{}, Audit: &memAudit{}, Log: logs, Getenv: getenv})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()

	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	base := "https://" + srv.Addr()
	resp, err := client.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.TLS == nil || resp.TLS.PeerCertificates[0].VerifyHostname("127.0.0.1") != nil {
		t.Fatalf("healthz: %d, TLS %v", resp.StatusCode, resp.TLS != nil)
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/v1/identities", nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		Identities []struct{ Name string } `json:"identities"`
	}
	json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || len(list.Identities) == 0 {
		t.Fatalf("identities: %d, %+v", resp.StatusCode, list)
	}

	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve after cancel: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
	if _, err := client.Get(base + "/healthz"); err == nil {
		t.Error("server still answers after shutdown")
	}
	out := logs.String()
	if strings.Contains(out, adminToken) {
		t.Error("logs hold the admin token")
	}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if !json.Valid([]byte(line)) {
			t.Errorf("log line is not JSON: %s", line)
		}
	}
	for _, want := range []string{"development certificate", `"msg":"request"`, `"msg":"stopped"`} {
		if !strings.Contains(out, want) {
			t.Errorf("logs lack %s", want)
		}
	}
}

// TestSharedTokensNeedKey refuses to share tokens between replicas without
// a sealing key of the right size, and starts with one.
func TestSharedTokensNeedKey(t *testing.T) {
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, `{"keys":[]}`) }))
	defer jwks.Close()
	yml := fmt.Sprintf(`
listen: 127.0.0.1:0
dev: true
inventory: [%s]
issuers:
  - {issuer: %s, jwksURL: %s, audiences: [steward]}
`, filepath.Join(repotest.Root(t), "examples/acme/inventory"), jwks.URL, jwks.URL)
	getenv := env(map[string]string{EnvAdminToken: strings.Repeat("0123456789abcdef", 3)})
	cfg, err := ParseConfig("steward.yaml", []byte(yml), getenv)
	if err != nil {
		t.Fatal(err)
	}
	open, _ := storetest.SQLite(t)
	db := open()
	deps := Deps{Secrets: nullSecrets{}, Audit: &memAudit{}, Log: io.Discard, Getenv: getenv, Shared: db, SharedKey: make([]byte, 16)}
	if _, err := New(context.Background(), cfg, deps); err == nil || !strings.Contains(err.Error(), "sealing key") {
		t.Fatalf("a 16-byte sealing key: err = %v, want it refused", err)
	}
	deps.SharedKey = make([]byte, broker.SharedTokenKeySize)
	srv, err := New(context.Background(), cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	srv.ln.Close()
}
