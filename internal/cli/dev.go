package cli

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/spf13/cobra"

	"github.com/steward-dev/steward/internal/audit"
	"github.com/steward-dev/steward/internal/salesforce/fakeorg"
	"github.com/steward-dev/steward/internal/secrets"
	"github.com/steward-dev/steward/internal/server"
	"github.com/steward-dev/steward/internal/store"
	"github.com/steward-dev/steward/internal/workload"
)

// Names of the development setup.
const (
	devIdentity = "demo-sync"
	devSubject  = "demo-workload"
	devAudience = "steward-dev"
)

const devManifests = `apiVersion: steward.dev/v1alpha1
kind: Team
metadata: {name: demo}
spec:
  members: [dev@example.com]
---
apiVersion: steward.dev/v1alpha1
kind: Identity
metadata:
  name: %s
spec:
  service: demo-sync
  owner: demo
  environment: development
  criticality: low
  purpose: Demonstrate the token broker
  salesforce:
    url: https://bench.my.salesforce.com
    app: %s
    runAs: scanner@bench.example
  credential:
    secret: %s
    rotationDays: 90
    rotatedAt: %s
  review:
    intervalDays: 90
    lastReviewed: %s
  consumers:
    - oidc: {issuer: %s, subject: %s}
`

func newDevCmd(env Env) *cobra.Command {
	var addr, dataDir string
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run the token broker with a demo org, identity and JWT issuer, for trying it out",
		Long: `dev starts everything the token broker needs on this machine, for development and
demos only: an embedded SQLite store with a throwaway key-encryption key, an emulated
Salesforce org, a local JWT issuer, a demo Identity whose consumer secret is stored in
the secret store, and the broker itself with a generated TLS certificate. It prints a
workload JWT and a curl command that exchanges it for a Salesforce token. Nothing
listens on anything but the loopback address. Stop it with Ctrl-C.`,
		Example: `  # Start it, then paste the printed curl command into another terminal
  steward dev

  # Keep the store (and its audit log) in a directory
  steward dev --data-dir ./steward-dev`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDev(cmd.Context(), env, addr, dataDir)
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8443", "loopback address for the broker")
	cmd.Flags().StringVar(&dataDir, "data-dir", "", "directory for the store and the demo files (default: a temporary directory removed on exit)")
	return cmd
}

func runDev(ctx context.Context, env Env, addr, dataDir string) error {
	if host, _, err := net.SplitHostPort(addr); err != nil || !net.ParseIP(host).IsLoopback() {
		return usageError(fmt.Errorf("--addr %s is not a loopback address", addr), "use 127.0.0.1:PORT: dev mode is for this machine only")
	}
	server.TuneGC(env.Getenv)
	if dataDir == "" {
		tmp, err := os.MkdirTemp("", "steward-dev")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dataDir = tmp
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return err
	}

	// The emulated org, over TLS on loopback.
	sc := fakeorg.Generate(3, 3, 1)
	org, err := fakeorg.New(sc, fakeorg.Options{})
	if err != nil {
		return err
	}
	orgURL, orgCA, stopOrg, err := serveLoopbackTLS(org)
	if err != nil {
		return fmt.Errorf("start the emulated org: %w", err)
	}
	defer stopOrg()
	caFile := filepath.Join(dataDir, "org-ca.pem")
	if err := os.WriteFile(caFile, orgCA, 0o600); err != nil {
		return err
	}

	// The local JWT issuer.
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	issuerURL, stopIssuer, err := serveJWKS(key)
	if err != nil {
		return fmt.Errorf("start the JWT issuer: %w", err)
	}
	defer stopIssuer()

	// The store, with a throwaway KEK, and the demo secret.
	kek := make([]byte, 32)
	rand.Read(kek)
	keys, err := secrets.ParseKeyring("dev:"+base64.StdEncoding.EncodeToString(kek), "development KEK")
	if err != nil {
		return err
	}
	db, err := store.OpenSQLite(ctx, filepath.Join(dataDir, "data"))
	if err != nil {
		return err
	}
	defer db.Close()
	signer, err := secrets.SigningKey(ctx, db, keys)
	if err != nil {
		return keyError(err)
	}
	log, err := audit.New(audit.Config{Store: db, Signer: signer})
	if err != nil {
		return err
	}
	defer log.Close()
	ss, err := secrets.New(ctx, secrets.Config{DB: db, Keys: keys, Audit: log})
	if err != nil {
		return keyError(err)
	}
	id, secret, _ := sc.Credentials(fakeorg.ScannerApp)
	if _, err := ss.Put(ctx, audit.Actor{Kind: audit.ActorHuman, ID: "steward-dev"}, devIdentity,
		secrets.Bundle{URL: orgURL, ConsumerKey: id, ConsumerSecret: secret}, secrets.Any, time.Hour); err != nil {
		return err
	}

	// The inventory and the operator token.
	inv := filepath.Join(dataDir, "inventory")
	if err := os.MkdirAll(inv, 0o700); err != nil {
		return err
	}
	today := env.Now().UTC().Format(time.DateOnly)
	manifest := fmt.Sprintf(devManifests, devIdentity, fakeorg.ScannerApp, devIdentity, today, today, issuerURL, devSubject)
	if err := os.WriteFile(filepath.Join(inv, "demo.yaml"), []byte(manifest), 0o600); err != nil {
		return err
	}
	adminToken := make([]byte, 32)
	rand.Read(adminToken)
	adminFile := filepath.Join(dataDir, "admin.token")
	if err := os.WriteFile(adminFile, []byte(hex.EncodeToString(adminToken)), 0o600); err != nil {
		return err
	}

	cfg := &server.Config{
		Listen: addr, Dev: true, Inventory: []string{inv}, LogLevel: "info", ShutdownTimeout: server.Duration(5 * time.Second),
		Issuers:   []workload.IssuerConfig{{Issuer: issuerURL, JWKSURL: issuerURL + "/jwks", Audiences: []string{devAudience}, Environment: "development"}},
		Operators: []server.OperatorConfig{{Name: "dev-admin", Role: "admin", TokenFile: adminFile}},
	}
	cfg.Upstream.CAFile = caFile
	// Without metadata the broker cannot see the app's session timeout:
	// give it the emulated app's.
	for _, a := range sc.ConnectedApps {
		if a.Name == fakeorg.ScannerApp && a.SessionTimeout > 0 {
			cfg.SessionTimeout = server.Duration(time.Duration(a.SessionTimeout) * time.Minute)
		}
	}
	srv, err := server.New(ctx, cfg, server.Deps{Secrets: ss, Audit: log, Kills: server.StoreKills{DB: db}, Log: env.Stderr, Getenv: env.Getenv,
		Ready: func(ctx context.Context) error { return ready(ctx, db, log) }})
	if err != nil {
		return err
	}
	jwt, err := devJWT(key, issuerURL, env.Now())
	if err != nil {
		return err
	}
	base := "https://" + srv.Addr()
	fmt.Fprintf(env.Stdout, `Steward broker (development mode) listening on %s
  emulated org:   %s
  JWT issuer:     %s
  identity:       %s (consumer: %s)
  data directory: %s (admin token in admin.token)

A workload JWT, valid for one hour:

JWT=%s

Exchange it for a Salesforce token (-k: the certificate is generated):

curl -sk %s/v1/token \
  -d grant_type=urn:ietf:params:oauth:grant-type:token-exchange \
  -d subject_token_type=urn:ietf:params:oauth:token-type:jwt \
  -d subject_token="$JWT" -d audience=%s

Press Ctrl-C to stop.
`, base, orgURL, issuerURL, devIdentity, devSubject, dataDir, jwt, base, devIdentity)
	return srv.Serve(ctx)
}

// serveLoopbackTLS serves h over TLS with a development certificate on a
// free loopback port. It returns the URL, the certificate as PEM and a stop
// function.
func serveLoopbackTLS(h http.Handler) (string, []byte, func(), error) {
	cert, err := server.DevCertificate(time.Now())
	if err != nil {
		return "", nil, nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}}
	go srv.ServeTLS(ln, "", "")
	pemCert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]})
	return "https://" + ln.Addr().String(), pemCert, func() { srv.Close() }, nil
}

// serveJWKS publishes key's public half at /jwks on a free loopback port;
// the URL returned is the issuer.
func serveJWKS(key *ecdsa.PrivateKey) (string, func(), error) {
	set, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: "dev", Algorithm: string(jose.ES256), Use: "sig"}}})
	if err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(set)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), func() { srv.Close() }, nil
}

// devJWT signs the demo workload's token.
func devJWT(key *ecdsa.PrivateKey, issuer string, now time.Time) (string, error) {
	tok, err := signJWT(key, "dev", map[string]any{"iss": issuer, "sub": devSubject, "aud": devAudience, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()})
	if err != nil {
		return "", fmt.Errorf("sign the demo JWT: %w", err)
	}
	return tok, nil
}

// signJWT signs claims with key as an ES256 JWT whose header names the key
// kid.
func signJWT(key *ecdsa.PrivateKey, kid string, claims map[string]any) (string, error) {
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key, KeyID: kid}}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	obj, err := s.Sign(payload)
	if err != nil {
		return "", err
	}
	return obj.CompactSerialize()
}
