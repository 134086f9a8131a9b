package sprawl

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/steward-dev/steward/internal/policy"
)

// Rule IDs sprawl findings are reported under (controls catalogue §8).
const (
	RuleLeak      = "NHI-SEC-01" // a managed secret exists outside the store
	RuleRotate    = "NHI-SEC-04" // a leaked secret must be rotated now
	RuleUnmanaged = "NHI-INV-01" // a credential no managed identity accounts for
)

// SuppressedBy is what allow-listed findings carry as their suppression.
const SuppressedBy = "allow-list"

// Rules returns the metadata of the rules sprawl findings use.
func Rules() []policy.Rule {
	return []policy.Rule{
		{
			ID: RuleLeak, Title: "Managed Salesforce secret found outside the secret store", Severity: "critical",
			Controls: []string{"OWASP NHI2:2025", "OWASP NHI6:2025", "NIST CSF PR.AA-01", "NIST CSF PR.DS-01",
				"NIST 800-53 IA-5(g)", "NIST 800-53 IA-5(7)", "NIST 800-53 SC-28"},
			Remediation: "Treat the copy as leaked: rotate the secret now, remove the copy from the file and from the " +
				"repository's history, and let workloads obtain tokens from the broker instead of holding the secret.",
			Description: "A credential found in files or history is a copy of a secret Steward manages.",
		},
		{
			ID: RuleRotate, Title: "Leaked secret needs immediate rotation", Severity: "critical",
			Controls: []string{"OWASP NHI2:2025", "OWASP NHI3:2025", "NIST CSF RS.MI-01", "NIST CSF RS.MI-02",
				"NIST 800-53 IA-5(d)", "NIST 800-53 IA-5(i)", "NIST 800-53 AC-2(k)"},
			Remediation: "Stage a new secret, store it, verify a token exchange with it, then revoke the leaked " +
				"version. A scanner hit is a suspected leak: rotate within 24 hours.",
			Description: "A secret-scanner hit on a managed secret is an event that requires rotation.",
		},
		{
			ID: RuleUnmanaged, Title: "Unmanaged Salesforce credential found", Severity: "high",
			Controls: []string{"OWASP NHI1:2025", "OWASP NHI2:2025", "OWASP NHI9:2025", "NIST CSF ID.AM-02",
				"NIST CSF PR.AA-01", "NIST 800-53 AC-2(a)", "NIST 800-53 IA-5(7)", "CIS 5.1", "CIS 6.6"},
			Remediation: "Find the integration the credential belongs to. If it is live, register it with an Identity " +
				"manifest, put its secret in the store and rotate it, since this copy is exposed. If it is a revoked " +
				"or test credential, add its fingerprint to the allow-list with the reason.",
			Description: "A Salesforce credential found in files or history matches no secret Steward manages.",
		},
	}
}

// Reported is a classified finding: the findings-JSON shape, plus the
// credential it is about (absent on rotation findings, which are about a
// secret rather than one copy of it).
type Reported struct {
	policy.Finding
	Credential *Finding `json:"credential,omitempty"`
}

// kindLabel names a kind of credential in messages.
var kindLabel = map[Kind]string{
	KindConsumerKey:    "consumer key",
	KindConsumerSecret: "consumer secret",
	KindClientBundle:   "client_id:client_secret pair",
	KindAccessToken:    "access token",
	KindRefreshToken:   "refresh token",
	KindAuthURL:        "SFDX auth URL",
}

// Classify turns findings into policy findings. A copy of a managed secret
// is critical (NHI-SEC-01), and each leaked secret version gets one
// rotation finding (NHI-SEC-04); a consumer key of a managed identity is
// informational; a credential no managed secret matches is an unmanaged
// credential (NHI-INV-01). compared says whether a Matcher was consulted,
// for the messages. allowed findings come back suppressed.
func Classify(found, allowed []Finding, compared bool) (active, suppressed []Reported) {
	rules := map[string]policy.Rule{}
	for _, r := range Rules() {
		rules[r.ID] = r
	}
	type leak struct {
		m     Match
		first Finding
		n     int
	}
	leaks := map[string]*leak{}
	for _, f := range found {
		r := classify(f, rules, compared)
		active = append(active, r)
		if m := f.Managed; m != nil && m.Field != FieldConsumerKey {
			k := fmt.Sprintf("%s\x00%d", m.Secret, m.Version)
			if leaks[k] == nil {
				leaks[k] = &leak{m: *m, first: f}
			}
			leaks[k].n++
		}
	}
	for _, l := range leaks {
		rule := rules[RuleRotate]
		id := l.m.Identity
		active = append(active, Reported{Finding: policy.Finding{
			Rule: rule.ID, Severity: rule.Severity, Title: rule.Title,
			Message: fmt.Sprintf("Rotate secret %s (version %d) of identity %s now: a copy was found in %s, first at %s",
				l.m.Secret, l.m.Version, id, plural(l.n, "place", "places"), l.first.Location()),
			Identity:    &id,
			Resource:    policy.Resource{Kind: "Secret", Name: l.m.Secret, File: l.first.File, Line: l.first.Line},
			Controls:    rule.Controls,
			Remediation: rule.Remediation,
		}})
	}
	for _, f := range allowed {
		r := classify(f, rules, compared)
		r.SuppressedBy = SuppressedBy
		suppressed = append(suppressed, r)
	}
	order := func(a, b Reported) int {
		return cmp.Or(
			cmp.Compare(policy.SeverityRank(b.Severity), policy.SeverityRank(a.Severity)),
			cmp.Compare(a.Rule, b.Rule),
			cmp.Compare(a.Resource.File, b.Resource.File),
			cmp.Compare(a.Resource.Line, b.Resource.Line),
			cmp.Compare(a.Message, b.Message),
		)
	}
	slices.SortStableFunc(active, order)
	slices.SortStableFunc(suppressed, order)
	return active, suppressed
}

func classify(f Finding, rules map[string]policy.Rule, compared bool) Reported {
	label := kindLabel[f.Kind]
	where := ""
	if f.Commit != "" {
		where = " in commit " + shortCommit(f.Commit)
	}
	how := f.Detector
	if f.Encoding != "" {
		how += ", inside " + f.Encoding
	}
	how += ", confidence " + string(f.Confidence)
	cred := f
	res := policy.Resource{Kind: "Secret", Name: f.Fingerprint, File: f.File, Line: f.Line}
	if m := f.Managed; m != nil {
		rule := rules[RuleLeak]
		id := m.Identity
		// "The production consumer secret of identity X (secret S, version N)".
		env := ""
		if m.Environment != "" {
			env = m.Environment + " "
		}
		sev, msg := rule.Severity, fmt.Sprintf("%s of identity %s (secret %s, version %d) found%s (%s): %s",
			capitalize(env+label), id, m.Secret, m.Version, where, how, f.Excerpt)
		if m.Field == FieldConsumerKey {
			sev = "info"
			msg = fmt.Sprintf("%s of identity %s found%s (%s), an identifier rather than a secret: %s",
				capitalize(env+label), id, where, how, f.Excerpt)
		}
		res.Name = m.Secret
		return Reported{Finding: policy.Finding{
			Rule: rule.ID, Severity: sev, Title: rule.Title, Message: msg, Identity: &id, Resource: res,
			Controls: rule.Controls, Remediation: rule.Remediation,
		}, Credential: &cred}
	}
	rule := rules[RuleUnmanaged]
	sev := rule.Severity
	if f.Kind == KindConsumerKey {
		sev = "medium" // an identifier: it names an app, it does not open it
	}
	why := "it matches no secret in the store"
	if !compared {
		why = "not compared with managed secrets"
	}
	return Reported{Finding: policy.Finding{
		Rule: rule.ID, Severity: sev, Title: rule.Title,
		Message:  fmt.Sprintf("Salesforce %s found%s (%s; %s): %s", label, where, how, why, f.Excerpt),
		Resource: res, Controls: rule.Controls, Remediation: rule.Remediation,
	}, Credential: &cred}
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
