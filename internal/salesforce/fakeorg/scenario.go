package fakeorg

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
)

// Scenario is the content of a fake org: its settings, apps, users,
// permissions and history. Load one from YAML with LoadScenario, or build one
// with Generate. docs/fakeorg.md describes every field.
type Scenario struct {
	Org                 Org                  `yaml:"org"`
	API                 APISettings          `yaml:"api,omitempty"`
	ConnectedApps       []ConnectedApp       `yaml:"connectedApps,omitempty"`
	ExternalClientApps  []ExternalClientApp  `yaml:"externalClientApps,omitempty"`
	Users               []User               `yaml:"users,omitempty"`
	Profiles            []Profile            `yaml:"profiles,omitempty"`
	PermissionSets      []PermissionSet      `yaml:"permissionSets,omitempty"`
	PermissionSetGroups []PermissionSetGroup `yaml:"permissionSetGroups,omitempty"`
	Assignments         []Assignment         `yaml:"assignments,omitempty"`
	SetupEntityAccess   []SetupEntityGrant   `yaml:"setupEntityAccess,omitempty"`
	LoginHistory        []Login              `yaml:"loginHistory,omitempty"`
	OauthTokens         []OauthToken         `yaml:"oauthTokens,omitempty"`
	SetupAuditTrail     []AuditEntry         `yaml:"setupAuditTrail,omitempty"`
	Faults              []Fault              `yaml:"faults,omitempty"`
}

// Org is the organization's identity and limits.
type Org struct {
	Name           string `yaml:"name,omitempty"`
	MyDomain       string `yaml:"myDomain"`              // "acme" for acme.my.salesforce.com
	ID             string `yaml:"id"`                    // 18-character org ID, 00D…
	Kind           string `yaml:"kind,omitempty"`        // production (default) | sandbox
	SandboxName    string `yaml:"sandboxName,omitempty"` // for kind sandbox
	APIDailyMax    int    `yaml:"apiDailyMax,omitempty"` // DailyApiRequests.Max; default 100000
	APIUsed        int    `yaml:"apiUsed,omitempty"`     // calls already made today
	SessionTimeout int    `yaml:"sessionTimeoutMinutes,omitempty"`
}

// APISettings tunes the emulator's API behaviour.
type APISettings struct {
	// BatchSize is the default query batch size (2000 when zero). Values
	// below 200 are allowed here so that small scenarios can exercise paging.
	BatchSize int `yaml:"batchSize,omitempty"`
	// LocatorTTL is how long an unused query locator stays valid (15m default).
	LocatorTTL Duration `yaml:"locatorTTL,omitempty"`
}

// ConnectedApp is a connected app with its OAuth settings.
type ConnectedApp struct {
	Name                   string   `yaml:"name"` // API name (fullName / DeveloperName)
	Label                  string   `yaml:"label,omitempty"`
	ContactEmail           string   `yaml:"contactEmail,omitempty"`
	Description            string   `yaml:"description,omitempty"`
	Namespace              string   `yaml:"namespace,omitempty"`
	ConsumerKey            string   `yaml:"consumerKey,omitempty"`
	ConsumerSecret         string   `yaml:"consumerSecret,omitempty"` // test value; needed to log in
	CallbackURL            string   `yaml:"callbackUrl,omitempty"`
	ClientCredentials      bool     `yaml:"clientCredentials,omitempty"` // isClientCredentialEnabled
	RunAs                  string   `yaml:"runAs,omitempty"`             // oauthClientCredentialUser
	Scopes                 []string `yaml:"scopes,omitempty"`            // metadata enum names: Api, Full…
	IPRelaxation           string   `yaml:"ipRelaxation,omitempty"`      // ENFORCE (default) | BYPASS | …
	RefreshTokenPolicy     string   `yaml:"refreshTokenPolicy,omitempty"`
	SessionTimeout         int      `yaml:"sessionTimeout,omitempty"` // minutes
	AdminApproved          bool     `yaml:"adminApproved,omitempty"`
	IntrospectAllTokens    bool     `yaml:"introspectAllTokens,omitempty"`
	ConsumerSecretOptional bool     `yaml:"consumerSecretOptional,omitempty"`
	PKCERequired           bool     `yaml:"pkceRequired,omitempty"`
	PermissionSets         []string `yaml:"permissionSets,omitempty"`
	Profiles               []string `yaml:"profiles,omitempty"`
	StartURL               string   `yaml:"startUrl,omitempty"`
	APIUsed                int      `yaml:"apiUsed,omitempty"`   // calls today, shown under /limits DailyApiRequests
	APIMax                 int      `yaml:"apiMax,omitempty"`    // per-app daily cap; 0 for none
	CreatedBy              string   `yaml:"createdBy,omitempty"` // username
	Created                When     `yaml:"created,omitempty"`
	ModifiedBy             string   `yaml:"modifiedBy,omitempty"`
	Modified               When     `yaml:"modified,omitempty"`
}

// ExternalClientApp is an External Client App: the header, its developer
// OAuth settings (global and scopes) and its admin policies.
type ExternalClientApp struct {
	Name                   string    `yaml:"name"`
	Label                  string    `yaml:"label,omitempty"`
	ContactEmail           string    `yaml:"contactEmail,omitempty"`
	Description            string    `yaml:"description,omitempty"`
	DistributionState      string    `yaml:"distributionState,omitempty"` // Local (default) | Packaged
	Namespace              string    `yaml:"namespace,omitempty"`
	ConsumerKey            string    `yaml:"consumerKey,omitempty"`
	ConsumerSecret         string    `yaml:"consumerSecret,omitempty"`
	CallbackURL            string    `yaml:"callbackUrl,omitempty"`
	ClientCredentials      bool      `yaml:"clientCredentials,omitempty"` // global isClientCredentialsFlowEnabled
	Scopes                 []string  `yaml:"scopes,omitempty"`            // commaSeparatedOauthScopes entries
	TrustedIPRanges        []IPRange `yaml:"trustedIpRanges,omitempty"`
	IntrospectAllTokens    bool      `yaml:"introspectAllTokens,omitempty"`
	ConsumerSecretOptional bool      `yaml:"consumerSecretOptional,omitempty"`
	PKCERequired           *bool     `yaml:"pkceRequired,omitempty"` // default true for ECAs
	Policy                 ECAPolicy `yaml:"policy,omitempty"`
	Enabled                *bool     `yaml:"enabled,omitempty"`            // ExtlClntAppConfigurablePolicies.isEnabled, default true
	OauthPluginEnabled     *bool     `yaml:"oauthPluginEnabled,omitempty"` // default true
	// Component full names; defaults <Name>_oauth, <Name>_glbl, <Name>_plcy.
	OauthSettingsName  string `yaml:"oauthSettingsName,omitempty"`
	GlobalSettingsName string `yaml:"globalSettingsName,omitempty"`
	PolicyName         string `yaml:"policyName,omitempty"`
	APIUsed            int    `yaml:"apiUsed,omitempty"`
	APIMax             int    `yaml:"apiMax,omitempty"`
	CreatedBy          string `yaml:"createdBy,omitempty"`
	Created            When   `yaml:"created,omitempty"`
	ModifiedBy         string `yaml:"modifiedBy,omitempty"`
	Modified           When   `yaml:"modified,omitempty"`
}

// ECAPolicy is the admin side of an External Client App
// (ExtlClntAppOauthConfigurablePolicies).
type ECAPolicy struct {
	ClientCredentials  bool     `yaml:"clientCredentials,omitempty"`
	RunAs              string   `yaml:"runAs,omitempty"`
	IPRelaxation       string   `yaml:"ipRelaxation,omitempty"`       // Enforce (default) | Bypass | …
	PermittedUsers     string   `yaml:"permittedUsers,omitempty"`     // AllSelfAuthorized (default) | AdminApprovedPreAuthorized
	RefreshTokenPolicy string   `yaml:"refreshTokenPolicy,omitempty"` // Infinite (default) | Zero | …
	SessionTimeout     int      `yaml:"sessionTimeout,omitempty"`     // minutes
	PermissionSets     []string `yaml:"permissionSets,omitempty"`
	Profiles           []string `yaml:"profiles,omitempty"`
}

// IPRange is a trusted IP range.
type IPRange struct {
	Start       string `yaml:"start"`
	End         string `yaml:"end"`
	Description string `yaml:"description,omitempty"`
}

// User is an org user.
type User struct {
	Username     string `yaml:"username"`
	Name         string `yaml:"name,omitempty"`
	Email        string `yaml:"email,omitempty"`
	Active       *bool  `yaml:"active,omitempty"`   // default true
	UserType     string `yaml:"userType,omitempty"` // Standard (default)
	Profile      string `yaml:"profile"`
	LastLogin    When   `yaml:"lastLogin,omitempty"`
	Created      When   `yaml:"created,omitempty"`
	FederationID string `yaml:"federationId,omitempty"`
}

// Profile is a user profile. Its permissions live in the permission set the
// profile owns, as in a real org.
type Profile struct {
	Name           string       `yaml:"name"`
	License        string       `yaml:"license"` // user license name, e.g. Salesforce Integration
	Custom         bool         `yaml:"custom,omitempty"`
	SessionTimeout int          `yaml:"sessionTimeout,omitempty"` // minutes
	Permissions    []string     `yaml:"permissions,omitempty"`    // user permission names: ApiEnabled…
	Objects        []ObjectPerm `yaml:"objects,omitempty"`
}

// PermissionSet is a permission set.
type PermissionSet struct {
	Name        string       `yaml:"name"`
	Label       string       `yaml:"label,omitempty"`
	Description string       `yaml:"description,omitempty"`
	License     string       `yaml:"license,omitempty"`
	Permissions []string     `yaml:"permissions,omitempty"`
	Objects     []ObjectPerm `yaml:"objects,omitempty"`
	Created     When         `yaml:"created,omitempty"`
	Modified    When         `yaml:"modified,omitempty"`
}

// ObjectPerm is an object-level permission.
type ObjectPerm struct {
	Object    string `yaml:"object"`
	Read      bool   `yaml:"read,omitempty"`
	Create    bool   `yaml:"create,omitempty"`
	Edit      bool   `yaml:"edit,omitempty"`
	Delete    bool   `yaml:"delete,omitempty"`
	ViewAll   bool   `yaml:"viewAll,omitempty"`
	ModifyAll bool   `yaml:"modifyAll,omitempty"`
}

// PermissionSetGroup bundles permission sets.
type PermissionSetGroup struct {
	Name           string   `yaml:"name"`
	Label          string   `yaml:"label,omitempty"`
	PermissionSets []string `yaml:"permissionSets"`
}

// Assignment assigns a permission set or a permission set group to a user.
type Assignment struct {
	User               string `yaml:"user"`
	PermissionSet      string `yaml:"permissionSet,omitempty"`
	PermissionSetGroup string `yaml:"permissionSetGroup,omitempty"`
	Expires            When   `yaml:"expires,omitempty"`
}

// SetupEntityGrant gives a permission set or a profile access to an app.
type SetupEntityGrant struct {
	PermissionSet string `yaml:"permissionSet,omitempty"`
	Profile       string `yaml:"profile,omitempty"`
	App           string `yaml:"app"` // connected app or External Client App name
}

// Login is a LoginHistory row; Count > 1 repeats it every Every back in time.
type Login struct {
	User     string   `yaml:"user"`
	Time     When     `yaml:"time"`
	Type     string   `yaml:"type,omitempty"`    // LoginType; default Remote Access 2.0
	SubType  string   `yaml:"subType,omitempty"` // LoginSubType
	App      string   `yaml:"app,omitempty"`     // app name; Application shows its label
	SourceIP string   `yaml:"sourceIp,omitempty"`
	Status   string   `yaml:"status,omitempty"` // default Success
	Platform string   `yaml:"platform,omitempty"`
	Browser  string   `yaml:"browser,omitempty"`
	Count    int      `yaml:"count,omitempty"`
	Every    Duration `yaml:"every,omitempty"`
}

// OauthToken is an OauthToken row: a persisted OAuth grant of a user to an app.
type OauthToken struct {
	App      string `yaml:"app"`
	User     string `yaml:"user"`
	Created  When   `yaml:"created,omitempty"`
	LastUsed When   `yaml:"lastUsed,omitempty"`
	UseCount int    `yaml:"useCount,omitempty"`
}

// AuditEntry is a SetupAuditTrail row.
type AuditEntry struct {
	Action  string `yaml:"action"`
	Section string `yaml:"section,omitempty"`
	Display string `yaml:"display,omitempty"`
	By      string `yaml:"by"` // username
	Date    When   `yaml:"date"`
	Context string `yaml:"context,omitempty"`
}

// When is a point in time written either absolutely (2026-07-03,
// 2026-07-03T13:12:59Z) or relative to the emulator's start ("-45d", "-3h",
// "-30m", "now", "+10d").
type When struct {
	abs time.Time
	rel time.Duration
	set bool
	isR bool
}

// At returns an absolute When.
func At(t time.Time) When { return When{abs: t.UTC(), set: true} }

// Ago returns a When d before the emulator's start.
func Ago(d time.Duration) When { return When{rel: -d, set: true, isR: true} }

// IsZero reports whether the value is absent.
func (w When) IsZero() bool { return !w.set }

// resolve gives the instant relative to now.
func (w When) resolve(now time.Time) time.Time {
	if w.isR {
		return now.Add(w.rel).UTC()
	}
	return w.abs
}

// UnmarshalYAML reads the forms described on When.
func (w *When) UnmarshalYAML(b []byte) error {
	s := strings.Trim(strings.TrimSpace(string(b)), `"'`)
	if s == "now" {
		*w = When{set: true, isR: true}
		return nil
	}
	if len(s) > 1 && (s[0] == '-' || s[0] == '+') && !strings.Contains(s[1:], "-") {
		d, err := parseSpan(s[1:])
		if err != nil {
			return &valueError{value: s, msg: err.Error()}
		}
		if s[0] == '-' {
			d = -d
		}
		*w = When{rel: d, set: true, isR: true}
		return nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			*w = At(t)
			return nil
		}
	}
	return &valueError{value: s, msg: "want a date (2026-07-03), a datetime (2026-07-03T13:12:59Z) or a relative time (-45d, -3h, now)"}
}

// valueError is a bad time or duration value. The YAML decoder does not say
// where a custom decoder failed, so ParseScenario finds the value's line.
type valueError struct {
	value, msg string
}

// Error names the bad value and what is expected.
func (e *valueError) Error() string { return fmt.Sprintf("bad value %q: %s", e.value, e.msg) }

// MarshalYAML writes the value back in the form it was read.
func (w When) MarshalYAML() ([]byte, error) {
	if w.isR {
		return []byte(spanString(w.rel)), nil
	}
	return []byte(w.abs.Format(time.RFC3339)), nil
}

// Duration is a span written as 90s, 15m, 3h or 45d.
type Duration time.Duration

// UnmarshalYAML reads a span.
func (d *Duration) UnmarshalYAML(b []byte) error {
	s := strings.Trim(strings.TrimSpace(string(b)), `"'`)
	v, err := parseSpan(s)
	if err != nil {
		return &valueError{value: s, msg: err.Error()}
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the span.
func (d Duration) MarshalYAML() ([]byte, error) {
	return []byte(strings.TrimPrefix(spanString(time.Duration(d)), "+")), nil
}

// MarshalJSON writes the span as a string such as "500ms".
func (d Duration) MarshalJSON() ([]byte, error) {
	return []byte(strconv.Quote(time.Duration(d).String())), nil
}

func parseSpan(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days < 0 || days > 100000 {
			return 0, errors.New("want a number of days such as 45d")
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, errors.New("want a duration such as 90s, 15m, 3h or 45d")
	}
	return d, nil
}

func spanString(d time.Duration) string {
	sign := "+"
	if d < 0 {
		sign, d = "-", -d
	}
	if d%(24*time.Hour) == 0 && d != 0 {
		return fmt.Sprintf("%s%dd", sign, d/(24*time.Hour))
	}
	if d == 0 {
		return "now"
	}
	return sign + d.String()
}

// ScenarioError is a problem in a scenario file, at a line when known.
type ScenarioError struct {
	File string
	Line int
	Msg  string
}

// Error formats the problem as "file:line: message".
func (e *ScenarioError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// maxScenarioBytes bounds the size of a scenario file.
const maxScenarioBytes = 64 << 20

// LoadScenario reads and checks a scenario file.
func LoadScenario(path string) (*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read scenario: %w", err)
	}
	return ParseScenario(path, data)
}

// ParseScenario decodes a scenario strictly (unknown fields are errors) and
// checks its references; name is used in error messages.
func ParseScenario(name string, data []byte) (*Scenario, error) {
	if len(data) > maxScenarioBytes {
		return nil, &ScenarioError{File: name, Msg: fmt.Sprintf("file is larger than %d bytes", maxScenarioBytes)}
	}
	var sc Scenario
	if err := decodeYAML(data, &sc); err != nil {
		var ve *valueError
		if errors.As(err, &ve) {
			return nil, &ScenarioError{File: name, Line: valueLine(data, ve.value), Msg: ve.Error()}
		}
		var ye yaml.Error
		if errors.As(err, &ye) {
			line := 0
			if tk := ye.GetToken(); tk != nil && tk.Position != nil {
				line = tk.Position.Line
			}
			return nil, &ScenarioError{File: name, Line: line, Msg: ye.GetMessage()}
		}
		return nil, &ScenarioError{File: name, Msg: "malformed YAML: " + err.Error()}
	}
	if err := sc.Validate(); err != nil {
		var se *ScenarioError
		if errors.As(err, &se) {
			se.File = name
			se.Line = lineOf(data, se.Msg)
		}
		return nil, err
	}
	return &sc, nil
}

// decodeYAML decodes strictly. The YAML library can panic on some malformed
// input (a tag on an empty sequence item); that becomes an error too.
func decodeYAML(data []byte, v any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errors.New("the decoder cannot read this document")
		}
	}()
	return yaml.UnmarshalWithOptions(data, v, yaml.Strict(), yaml.DisallowUnknownField())
}

// valueLine finds the first line holding a mapping value equal to v.
func valueLine(data []byte, v string) int {
	for i, line := range strings.Split(string(data), "\n") {
		for _, sep := range []string{": ", ":"} {
			if _, after, ok := strings.Cut(line, sep); ok && strings.Trim(strings.TrimSpace(strings.TrimRight(after, "},")), `"'`) == v {
				return i + 1
			}
		}
		if strings.Contains(line, ": "+v+",") || strings.Contains(line, ": "+v+"}") {
			return i + 1
		}
	}
	return 0
}

// lineOf finds the line of the YAML path that a validation message starts
// with ("users[2].profile: …"), so that reference errors name a line too.
func lineOf(data []byte, msg string) int {
	path, _, ok := strings.Cut(msg, ": ")
	if !ok {
		return 0
	}
	p, err := yaml.PathString("$." + path)
	if err != nil {
		return 0
	}
	node, err := p.ReadNode(strings.NewReader(string(data)))
	if err != nil || node == nil || node.GetToken() == nil || node.GetToken().Position == nil {
		return 0
	}
	return node.GetToken().Position.Line
}
