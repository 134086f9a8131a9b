package salesforce

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"
)

// DefaultAPIVersion is the API version used when Config.APIVersion is empty:
// the newest generally available one (Summer '26).
const DefaultAPIVersion = "67.0"

// Defaults for the zero values of Config.
const (
	DefaultMaxAPIShare    = 0.5                    // Config.MaxAPIShare
	DefaultMaxRetries     = 4                      // Config.MaxRetries
	DefaultMaxRetryWait   = 30 * time.Second       // Config.MaxRetryWait
	DefaultInitialBackoff = 500 * time.Millisecond // Config.InitialBackoff
	DefaultTimeout        = 2 * time.Minute        // timeout of the default HTTP client
)

// redacted stands in for a secret wherever a value would otherwise be shown.
const redacted = "[redacted]"

// Config configures a Client.
type Config struct {
	// URL is the org's My Domain, https://<domain>.my.salesforce.com (or a
	// sandbox's https://<domain>--<sandbox>.sandbox.my.salesforce.com). Plain
	// http is accepted only for loopback hosts (127.0.0.1, ::1, localhost),
	// for tests and the local emulator.
	URL string
	// ClientID and ClientSecret are the app's consumer key and secret. The
	// secret is never printed: Config's String, GoString and LogValue hide it.
	ClientID     string
	ClientSecret string
	// APIVersion is the REST and Metadata API version, such as "67.0".
	// Empty means DefaultAPIVersion.
	APIVersion string
	// HTTPClient sends the requests; nil means a client with DefaultTimeout.
	// The Client uses a copy that does not follow redirects.
	HTTPClient *http.Client
	// BasicAuth sends the consumer key and secret in an Authorization: Basic
	// header instead of the form body.
	BasicAuth bool
	// MaxAPIShare is the share of the org's daily API request limit the
	// Client may use up; a call that would go past it fails with ErrBudget.
	// Zero means DefaultMaxAPIShare; values above 1 are refused.
	MaxAPIShare float64
	// MaxRetries is how many times a failed call is retried (server errors,
	// timeouts, REQUEST_LIMIT_EXCEEDED). Zero means DefaultMaxRetries; a
	// negative value turns retries off.
	MaxRetries int
	// MaxRetryWait caps the total time spent waiting between retries of one
	// call. Zero means DefaultMaxRetryWait.
	MaxRetryWait time.Duration
	// InitialBackoff is the first wait before a retry; later waits grow
	// exponentially, with jitter. Zero means DefaultInitialBackoff.
	InitialBackoff time.Duration
	// Logger receives a debug record per retry and token mint; nil discards
	// them. No record holds a secret or token.
	Logger *slog.Logger
}

// String describes the configuration with the secret hidden.
func (c Config) String() string {
	return fmt.Sprintf("salesforce.Config{URL:%q ClientID:%q ClientSecret:%s APIVersion:%q BasicAuth:%t MaxAPIShare:%g MaxRetries:%d}",
		c.URL, c.ClientID, hidden(c.ClientSecret), c.APIVersion, c.BasicAuth, c.MaxAPIShare, c.MaxRetries)
}

// GoString is String, so that %#v hides the secret too.
func (c Config) GoString() string { return c.String() }

// LogValue logs the configuration with the secret hidden.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("url", c.URL),
		slog.String("client_id", c.ClientID),
		slog.String("client_secret", hidden(c.ClientSecret)),
		slog.String("api_version", c.APIVersion),
	)
}

// hidden shows whether a secret is set, never its value.
func hidden(s string) string {
	if s == "" {
		return `""`
	}
	return redacted
}

// Client calls one org's APIs. It is safe for concurrent use.
type Client struct {
	base         string // scheme://host of the org
	clientID     string
	clientSecret string
	version      string
	basicAuth    bool
	maxShare     float64
	maxRetries   int
	maxRetryWait time.Duration
	backoff      time.Duration
	http         *http.Client
	log          *slog.Logger

	// sleep waits between retries; tests replace it to avoid real waits.
	sleep func(ctx context.Context, d time.Duration) error

	mint  singleflight.Group
	mu    sync.Mutex
	token *Token // current token, nil until minted
	usage APIUsage
	calls atomic.Int64
}

// New validates cfg and returns a Client. No request is sent until a call
// needs one.
func New(cfg Config) (*Client, error) {
	base, err := checkURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	if cfg.ClientID == "" {
		return nil, errors.New("salesforce: the consumer key (client ID) is empty")
	}
	if cfg.ClientSecret == "" {
		return nil, errors.New("salesforce: the consumer secret is empty")
	}
	version := cfg.APIVersion
	if version == "" {
		version = DefaultAPIVersion
	}
	if !versionRE.MatchString(version) {
		return nil, fmt.Errorf("salesforce: API version %q is not of the form 67.0", version)
	}
	share := cfg.MaxAPIShare
	if share == 0 {
		share = DefaultMaxAPIShare
	}
	if share < 0 || share > 1 {
		return nil, fmt.Errorf("salesforce: MaxAPIShare %g is outside (0, 1]", share)
	}
	retries := cfg.MaxRetries
	switch {
	case retries == 0:
		retries = DefaultMaxRetries
	case retries < 0:
		retries = 0
	}
	c := &Client{
		base:         base,
		clientID:     cfg.ClientID,
		clientSecret: cfg.ClientSecret,
		version:      version,
		basicAuth:    cfg.BasicAuth,
		maxShare:     share,
		maxRetries:   retries,
		maxRetryWait: cmp.Or(cfg.MaxRetryWait, DefaultMaxRetryWait),
		backoff:      cmp.Or(cfg.InitialBackoff, DefaultInitialBackoff),
		log:          cfg.Logger,
		sleep:        sleepCtx,
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	hc := http.Client{Timeout: DefaultTimeout}
	if cfg.HTTPClient != nil {
		hc = *cfg.HTTPClient
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c.http = &hc
	return c, nil
}

var versionRE = regexp.MustCompile(`^[1-9][0-9]?[0-9]?\.0$`)

// String describes the client without its credentials.
func (c *Client) String() string {
	return fmt.Sprintf("salesforce.Client{URL:%q ClientID:%q APIVersion:%q}", c.base, c.clientID, c.version)
}

// GoString is String, so that %#v hides the credentials too.
func (c *Client) GoString() string { return c.String() }

// LogValue logs the client without its credentials.
func (c *Client) LogValue() slog.Value {
	return slog.GroupValue(slog.String("url", c.base), slog.String("client_id", c.clientID), slog.String("api_version", c.version))
}

// URL returns the org's base URL (scheme and host).
func (c *Client) URL() string { return c.base }

// APIVersion returns the API version the client calls, such as "67.0".
func (c *Client) APIVersion() string { return c.version }

// Calls returns how many requests counting against the org's daily API limit
// the client has sent, retries included.
func (c *Client) Calls() int { return int(c.calls.Load()) }

// DataPath returns the path of a REST resource of the client's API version:
// DataPath("limits") is "/services/data/v67.0/limits".
func (c *Client) DataPath(resource string) string {
	return "/services/data/v" + c.version + "/" + strings.TrimPrefix(resource, "/")
}

// QueryPath returns the path and query of a SOQL query resource, as a
// composite subrequest's URL needs it.
func (c *Client) QueryPath(soql string) string {
	return c.DataPath("query") + "?q=" + url.QueryEscape(soql)
}

// checkURL validates an org URL and returns its scheme://host form.
func checkURL(raw string) (string, error) {
	if raw == "" {
		return "", errors.New("salesforce: the org URL is empty; use https://<domain>.my.salesforce.com")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("salesforce: org URL %q: %w", raw, err)
	}
	if u.User != nil {
		return "", errors.New("salesforce: the org URL must not carry credentials")
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("salesforce: org URL %q must be a bare scheme and host, like https://acme.my.salesforce.com", u.Redacted())
	}
	host := u.Hostname()
	switch u.Scheme {
	case "https":
		if isLoopback(host) {
			break
		}
		if !isMyDomainHost(host) {
			return "", fmt.Errorf("salesforce: org URL host %q is not a My Domain host (<domain>.my.salesforce.com); the client-credentials flow is refused on login.salesforce.com and test.salesforce.com", host)
		}
	case "http":
		if !isLoopback(host) {
			return "", fmt.Errorf("salesforce: org URL %q uses http; only https is allowed, except for loopback hosts", u.Redacted())
		}
	default:
		return "", fmt.Errorf("salesforce: org URL %q must use https", u.Redacted())
	}
	return u.Scheme + "://" + u.Host, nil
}

// isMyDomainHost reports whether host is a My Domain host. The reference
// verifies <domain>.my.salesforce.com and its sandbox form
// <domain>--<sandbox>.sandbox.my.salesforce.com, both covered by the suffix.
func isMyDomainHost(host string) bool {
	host = strings.ToLower(host)
	name, ok := strings.CutSuffix(host, ".my.salesforce.com")
	return ok && name != "" && !strings.HasPrefix(name, ".") && !strings.HasSuffix(name, ".")
}

// isLoopback reports whether host names the local machine.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
