package server

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml"

	"github.com/steward-dev/steward/internal/httpapi"
	"github.com/steward-dev/steward/internal/workload"
)

// Environment variables that override the configuration file.
const (
	EnvListen         = "STEWARD_LISTEN"
	EnvTLSCert        = "STEWARD_TLS_CERT"
	EnvTLSKey         = "STEWARD_TLS_KEY"
	EnvDev            = "STEWARD_DEV"
	EnvLogLevel       = "STEWARD_LOG_LEVEL"
	EnvSessionTimeout = "STEWARD_SESSION_TIMEOUT"
	EnvAdminToken     = "STEWARD_ADMIN_TOKEN"
	EnvAuditorToken   = "STEWARD_AUDITOR_TOKEN"
)

// DefaultListen is the default listen address.
const DefaultListen = "127.0.0.1:8443"

// Duration is a time.Duration written as "90s", "15m" or "2h".
type Duration time.Duration

// UnmarshalText parses a Go duration.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	if v < 0 {
		return fmt.Errorf("duration %s is negative", b)
	}
	*d = Duration(v)
	return nil
}

// Config is the server's configuration file (steward.yaml).
type Config struct {
	// Listen is the address to serve on (default DefaultListen).
	Listen string `yaml:"listen"`
	// TLS names the operator's certificate and key.
	TLS struct {
		CertFile string `yaml:"certFile"`
		KeyFile  string `yaml:"keyFile"`
	} `yaml:"tls"`
	// Dev serves with a generated, self-signed development certificate
	// when no certificate is configured.
	Dev bool `yaml:"dev"`
	// Inventory are manifest files or directories holding the Identities.
	Inventory []string `yaml:"inventory"`
	// Metadata are Salesforce metadata directories whose apps give the
	// session timeouts (optional).
	Metadata []string `yaml:"metadata"`
	// SessionTimeout is the token lifetime of identities whose app names
	// none (default 2h, Salesforce's default).
	SessionTimeout Duration `yaml:"sessionTimeout"`
	// SafetyMargin is taken off every token lifetime (default 2m).
	SafetyMargin Duration `yaml:"safetyMargin"`
	// Policy holds the runtime decision's options.
	Policy struct {
		Dirs          []string `yaml:"dirs"`
		ReviewGrace   Duration `yaml:"reviewGrace"`
		RotationGrace Duration `yaml:"rotationGrace"`
		// DenyFindings are posture rule ids and severities whose open
		// findings deny issuance (default none).
		DenyFindings []string `yaml:"denyFindings"`
		// PostureDirs are directories of user posture rules run with the
		// built-in pack at start to find each identity's open findings.
		PostureDirs []string `yaml:"postureDirs"`
		// Refresh is how often secret states and reviews are re-read
		// (default 30s).
		Refresh Duration `yaml:"refresh"`
	} `yaml:"policy"`
	// Issuers and TrustDomains are the workload credentials accepted.
	Issuers      []workload.IssuerConfig      `yaml:"issuers"`
	TrustDomains []workload.TrustDomainConfig `yaml:"trustDomains"`
	// Operators are the admin and auditor credentials, each read from a
	// file or an environment variable.
	Operators []OperatorConfig `yaml:"operators"`
	// Upstream tunes the exchanges with Salesforce.
	Upstream struct {
		// CAFile holds PEM roots to trust for the orgs instead of the
		// system roots (a TLS-inspecting proxy, a test org).
		CAFile          string   `yaml:"caFile"`
		MaxRetries      int      `yaml:"maxRetries"`
		InitialBackoff  Duration `yaml:"initialBackoff"`
		BreakerFailures uint32   `yaml:"breakerFailures"`
		BreakerOpen     Duration `yaml:"breakerOpen"`
	} `yaml:"upstream"`
	// Elevation configures break-glass elevation (see elevation.go).
	Elevation ElevationConfig `yaml:"elevation"`
	// ShutdownTimeout bounds the graceful shutdown (default 20s).
	ShutdownTimeout Duration `yaml:"shutdownTimeout"`
	// LogLevel is debug, info, warn or error (default info).
	LogLevel string `yaml:"logLevel"`
}

// OperatorConfig is one operator credential.
type OperatorConfig struct {
	Name string       `yaml:"name"`
	Role httpapi.Role `yaml:"role"`
	// Teams are the teams an owner acts for: it may act only on the
	// identities whose spec.owner is one of them. Only for role owner.
	Teams []string `yaml:"teams"`
	// TokenFile holds the bearer token; TokenEnv names an environment
	// variable holding it. Exactly one is set.
	TokenFile string `yaml:"tokenFile"`
	TokenEnv  string `yaml:"tokenEnv"`
}

// LoadConfig reads the configuration file at path and applies the
// environment overrides. getenv is os.Getenv in production.
func LoadConfig(path string, getenv func(string) string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read configuration: %w", err)
	}
	return ParseConfig(path, data, getenv)
}

// ParseConfig parses a configuration file's content; path names it in
// errors.
func ParseConfig(path string, data []byte, getenv func(string) string) (*Config, error) {
	var c Config
	if err := decodeYAML(data, &c); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := c.applyEnv(getenv); err != nil {
		return nil, err
	}
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = Duration(20 * time.Second)
	}
	if c.LogLevel == "" {
		c.LogLevel = "info"
	}
	if err := c.validate(path); err != nil {
		return nil, err
	}
	return &c, nil
}

// decodeYAML decodes strictly. The YAML library panics on some malformed
// input (a tag on an empty sequence item); that becomes an error too.
func decodeYAML(data []byte, v any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errors.New("the YAML decoder cannot read this file")
		}
	}()
	if err := yaml.UnmarshalWithOptions(data, v, yaml.Strict(), yaml.DisallowUnknownField()); err != nil {
		return errors.New(yaml.FormatError(err, false, true))
	}
	return nil
}

func (c *Config) applyEnv(getenv func(string) string) error {
	if v := getenv(EnvListen); v != "" {
		c.Listen = v
	}
	if v := getenv(EnvTLSCert); v != "" {
		c.TLS.CertFile = v
	}
	if v := getenv(EnvTLSKey); v != "" {
		c.TLS.KeyFile = v
	}
	if v := getenv(EnvDev); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("$%s: %q is not true or false", EnvDev, v)
		}
		c.Dev = b
	}
	if v := getenv(EnvLogLevel); v != "" {
		c.LogLevel = v
	}
	if v := getenv(EnvSessionTimeout); v != "" {
		if err := c.SessionTimeout.UnmarshalText([]byte(v)); err != nil {
			return fmt.Errorf("$%s: %w", EnvSessionTimeout, err)
		}
	}
	// The two well-known token variables add an operator each.
	if getenv(EnvAdminToken) != "" {
		c.Operators = append(c.Operators, OperatorConfig{Name: "admin", Role: httpapi.RoleAdmin, TokenEnv: EnvAdminToken})
	}
	if getenv(EnvAuditorToken) != "" {
		c.Operators = append(c.Operators, OperatorConfig{Name: "auditor", Role: httpapi.RoleAuditor, TokenEnv: EnvAuditorToken})
	}
	return nil
}

func (c *Config) validate(path string) error {
	var errs []error
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		errs = append(errs, errors.New("tls: set both certFile and keyFile"))
	}
	if c.TLS.CertFile == "" && !c.Dev {
		errs = append(errs, errors.New("tls: no certificate; set tls.certFile and tls.keyFile, or dev: true for a generated development certificate"))
	}
	if len(c.Inventory) == 0 {
		errs = append(errs, errors.New("inventory: name the manifest files or directories holding the Identities"))
	}
	switch strings.ToLower(c.LogLevel) {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("logLevel: %q is not debug, info, warn or error", c.LogLevel))
	}
	for i, op := range c.Operators {
		switch op.Role {
		case httpapi.RoleAdmin, httpapi.RoleApprover, httpapi.RoleAuditor:
			if len(op.Teams) > 0 {
				errs = append(errs, fmt.Errorf("operators[%d]: teams are only for the owner role", i))
			}
		case httpapi.RoleOwner:
			if len(op.Teams) == 0 || slices.Contains(op.Teams, "") {
				errs = append(errs, fmt.Errorf("operators[%d]: an owner needs teams: the Team names whose identities it acts on", i))
			}
		default:
			errs = append(errs, fmt.Errorf("operators[%d]: role must be admin, owner, approver or auditor", i))
		}
		if (op.TokenFile == "") == (op.TokenEnv == "") {
			errs = append(errs, fmt.Errorf("operators[%d]: set exactly one of tokenFile and tokenEnv", i))
		}
	}
	errs = append(errs, c.Elevation.validate()...)
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// operators reads the operator tokens.
func (c *Config) operators(getenv func(string) string) ([]httpapi.Operator, error) {
	var out []httpapi.Operator
	for i, oc := range c.Operators {
		var tok string
		if oc.TokenFile != "" {
			b, err := os.ReadFile(oc.TokenFile)
			if err != nil {
				return nil, fmt.Errorf("operators[%d]: %w", i, err)
			}
			tok = strings.TrimSpace(string(b))
		} else {
			tok = strings.TrimSpace(getenv(oc.TokenEnv))
		}
		if len(tok) < 32 {
			return nil, fmt.Errorf("operators[%d] (%s): the token must be at least 32 characters (generate one with: openssl rand -hex 32)", i, oc.Name)
		}
		name := oc.Name
		if name == "" {
			name = string(oc.Role)
		}
		out = append(out, httpapi.Operator{Name: name, Role: oc.Role, Token: tok, Teams: oc.Teams})
	}
	return out, nil
}
