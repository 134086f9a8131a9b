package policy

// Severities, most severe first.
var Severities = []string{"critical", "high", "medium", "low", "info"}

// SeverityRank orders severities: critical is 4, info is 0, anything else -1.
func SeverityRank(s string) int {
	for i, v := range Severities {
		if v == s {
			return len(Severities) - 1 - i
		}
	}
	return -1
}

// Resource is what a finding is about.
type Resource struct {
	Kind string `json:"kind"` // ConnectedApp, ExternalClientApp, User, PermissionSet, Profile, Identity, Team, Secret, Org
	Name string `json:"name"`
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
}

// Finding is one violation of one rule.
type Finding struct {
	Rule        string   `json:"rule"`
	Severity    string   `json:"severity"`
	Title       string   `json:"title"`
	Message     string   `json:"message"`
	Identity    *string  `json:"identity"`
	Resource    Resource `json:"resource"`
	Controls    []string `json:"controls"`
	Remediation string   `json:"remediation"`
	// SuppressedBy names the Exception that accepts this finding; set only on
	// suppressed findings.
	SuppressedBy string `json:"suppressedBy,omitempty"`
}

// Rule is a rule's metadata, read from its Rego METADATA annotation.
type Rule struct {
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Severity    string   `json:"severity"` // default severity; a finding may raise or lower it
	Controls    []string `json:"controls"`
	Remediation string   `json:"remediation"`
	Description string   `json:"description"`
	Live        bool     `json:"live"` // needs live org data
	Package     string   `json:"package"`
	File        string   `json:"file"`
	Builtin     bool     `json:"builtin"`
	// Requires names the snapshot capabilities the rule needs
	// (custom.requires), e.g. secretStore.
	Requires []string `json:"requires,omitempty"`
}

// Result is the outcome of evaluating a snapshot.
type Result struct {
	Findings   []Finding `json:"findings"`   // active findings, in no set order (reporters sort)
	Suppressed []Finding `json:"suppressed"` // accepted by an unexpired Exception
	Rules      []Rule    `json:"-"`          // the rules that ran
}
