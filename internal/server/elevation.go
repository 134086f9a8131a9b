package server

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/steward-dev/steward/internal/elevation"
	"github.com/steward-dev/steward/internal/salesforce"
	"github.com/steward-dev/steward/internal/snapshot"
)

// Default environment variables holding the governance app's credentials,
// the same ones steward scan reads.
const (
	EnvSFClientID     = "STEWARD_SF_CLIENT_ID"
	EnvSFClientSecret = "STEWARD_SF_CLIENT_SECRET"
)

// ElevationConfig is the elevation section of steward.yaml: the
// break-glass policy and the Salesforce app Steward assigns permission
// sets with.
type ElevationConfig struct {
	// Enabled turns break-glass elevation on.
	Enabled bool `yaml:"enabled"`
	// MaxDuration caps a request (default 4h; at most 24h).
	MaxDuration Duration `yaml:"maxDuration"`
	// DefaultDuration is used when a request names none (default 1h).
	DefaultDuration Duration `yaml:"defaultDuration"`
	// RequestTTL is how long a request waits for an approver (default 1h).
	RequestTTL Duration `yaml:"requestTTL"`
	// ReviewDays is the post-use review's deadline in business days
	// (default 2).
	ReviewDays int `yaml:"reviewDays"`
	// SweepInterval is how often expired elevations are removed (default
	// 30s).
	SweepInterval Duration `yaml:"sweepInterval"`
	// Org names the governance app: a connected app or External Client App
	// with the client-credentials flow whose run-as user may assign
	// permission sets (Assign Permission Sets). Its consumer key and
	// secret come from environment variables or files, never from this
	// file.
	Org struct {
		ClientIDEnv      string `yaml:"clientIdEnv"`
		ClientSecretEnv  string `yaml:"clientSecretEnv"`
		ClientSecretFile string `yaml:"clientSecretFile"`
		APIVersion       string `yaml:"apiVersion"`
	} `yaml:"org"`
}

// policy is the elevation.Config the section describes.
func (c *ElevationConfig) policy() elevation.Config {
	return elevation.Config{
		MaxDuration: time.Duration(c.MaxDuration), DefaultDuration: time.Duration(c.DefaultDuration),
		RequestTTL: time.Duration(c.RequestTTL), ReviewDays: c.ReviewDays,
	}
}

// validate checks the section, enabled or not; errors name its fields.
func (c *ElevationConfig) validate() []error {
	var errs []error
	if err := c.policy().Check(); err != nil {
		errs = append(errs, errors.New(strings.Replace(err.Error(), "elevation ", "elevation.", 1)))
	}
	if c.Org.ClientSecretEnv != "" && c.Org.ClientSecretFile != "" {
		errs = append(errs, errors.New("elevation.org: set at most one of clientSecretEnv and clientSecretFile"))
	}
	return errs
}

// newElevations builds the elevation service, or returns nil when the
// section is off or no store was given.
func newElevations(cfg *Config, deps Deps, snap *snapshot.Snapshot, logger *slog.Logger) (*elevation.Service, error) {
	ec := &cfg.Elevation
	if !ec.Enabled || deps.Elevations == nil {
		return nil, nil
	}
	getenv := deps.Getenv
	idEnv := def(ec.Org.ClientIDEnv, EnvSFClientID)
	clientID := strings.TrimSpace(getenv(idEnv))
	var secret string
	if ec.Org.ClientSecretFile != "" {
		b, err := os.ReadFile(ec.Org.ClientSecretFile)
		if err != nil {
			return nil, fmt.Errorf("elevation.org.clientSecretFile: %w", err)
		}
		secret = strings.TrimSpace(string(b))
	} else {
		secret = strings.TrimSpace(getenv(def(ec.Org.ClientSecretEnv, EnvSFClientSecret)))
	}
	if clientID == "" || secret == "" {
		return nil, fmt.Errorf("elevation: the governance app's consumer key and secret are not set: set $%s and $%s (or elevation.org in the configuration)", idEnv, def(ec.Org.ClientSecretEnv, EnvSFClientSecret))
	}
	httpClient, err := upstreamClient(cfg.Upstream.CAFile)
	if err != nil {
		return nil, err
	}
	orgs := &elevation.SalesforceOrgs{Connect: func(url string) (*salesforce.Client, error) {
		return salesforce.New(salesforce.Config{
			URL: url, ClientID: clientID, ClientSecret: secret, APIVersion: ec.Org.APIVersion, HTTPClient: httpClient,
			MaxRetries: cfg.Upstream.MaxRetries, Logger: logger,
		})
	}}
	targets := map[string]elevation.Target{}
	for _, id := range snap.Identities {
		targets[id.Name] = elevation.Target{OrgURL: id.Salesforce.URL, RunAs: id.Salesforce.RunAs}
	}
	return elevation.New(elevation.Options{
		Config: ec.policy(), Store: deps.Elevations, Org: orgs, Audit: deps.Audit, Now: deps.Now, Logger: logger,
		Targets: func(name string) (elevation.Target, bool) { t, ok := targets[name]; return t, ok },
	})
}

func def(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
