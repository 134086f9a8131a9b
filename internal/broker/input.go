package broker

import (
	"fmt"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/steward-dev/steward/internal/snapshot"
)

// inputValue builds the policy input:
//
//	now                 decision time
//	workload            name, method, issuer, subject, spiffeId, audience,
//	                    environment, expiresAt, claims
//	consumer            the matched consumer with its index; absent for none
//	identity            the Identity as in a snapshot
//	killed              kill switch
//	secret              source (store or declared), version, createdAt,
//	                    rotatedAt, ageDays (since rotatedAt, else createdAt),
//	                    rotationDeadline, graceEnds (rotationDeadline +
//	                    rotation grace), rotation (staged, verified or "")
//	review              lastReviewed, due, graceEnds (due + review grace)
//	findings            [{rule, severity, message}]: open posture findings
//	settings            denyFindings: rule ids and severities that deny
//
// Times are RFC 3339 in UTC, or "" for none, so that the policy compares
// them as strings: OPA's arithmetic on numbers cost more than the rest of
// the evaluation.
//
// The input is a lazy object: OPA converts only the parts the rules read, so
// an identity's or a token's unused fields cost a map entry, not an AST
// value. Converting the whole input up front cost more than evaluating it.
func (d *Decider) inputValue(in *Input, consumer int) ast.Value {
	w := in.Workload
	age := secretAge(in.Secret, in.Now)
	var identity, findings, secret, review, matched any
	if p := in.Prepared; p != nil && p.identity == in.Identity {
		identity, findings = p.identityValue, p.findings
		if consumer >= 0 {
			matched = p.consumers[consumer]
		}
		if st := p.state; st != nil && st.decider == d && st.secret == in.Secret && st.review == in.Review {
			review = st.reviewValue
			if st.age == age {
				secret = st.secretValue
			}
		}
	} else {
		identity, findings = identityValue(in.Identity), findingsValue(in.Findings)
	}
	if secret == nil {
		secret = d.secretValue(in.Secret, age)
	}
	if review == nil {
		review = d.reviewValue(in.Review)
	}
	claims := w.Claims
	if claims == nil {
		claims = map[string]any{}
	}
	// Sized for every key, consumer included, so that it never grows.
	input := make(map[string]any, 11)
	input["now"] = d.stampNow(in.Now)
	input["workload"] = map[string]any{
		"name":        w.String(),
		"method":      string(w.Method),
		"issuer":      w.Issuer,
		"subject":     w.Subject,
		"spiffeId":    w.SPIFFEID,
		"audience":    stringList(w.Audience, false),
		"environment": w.Environment,
		"expiresAt":   stamp(w.ExpiresAt),
		"claims":      claims,
	}
	input["identity"] = identity
	input["killed"] = in.Killed
	input["secret"] = secret
	input["review"] = review
	input["findings"] = findings
	input["settings"] = d.settings
	if consumer >= 0 {
		if matched == nil {
			matched = matchedConsumer(in.Identity.Consumers[consumer], consumer)
		}
		input["consumer"] = matched
	}
	return ast.LazyObject(input)
}

// matchedConsumer is the input's consumer object: the consumer the
// workload matched, with its index.
func matchedConsumer(c snapshot.Consumer, index int) map[string]any {
	o := consumerValue(c)
	o["index"] = index
	return o
}

// secretAge is the secret's age in whole days at now: since it became
// active, else since it was stored; 0 when unknown.
func secretAge(s SecretState, now time.Time) int {
	since := s.RotatedAt
	if since.IsZero() {
		since = s.CreatedAt
	}
	if since.IsZero() {
		return 0
	}
	return int(now.Sub(since) / (24 * time.Hour))
}

// secretValue is the input's secret object.
func (d *Decider) secretValue(s SecretState, age int) map[string]any {
	return map[string]any{
		"source":           s.Source,
		"version":          s.Version,
		"createdAt":        stamp(s.CreatedAt),
		"rotatedAt":        stamp(s.RotatedAt),
		"ageDays":          age,
		"rotationDeadline": stamp(s.RotationDeadline),
		"graceEnds":        graceEnds(s.RotationDeadline, d.rotationGrace),
		"rotation":         s.Rotation,
	}
}

// reviewValue is the input's review object.
func (d *Decider) reviewValue(r ReviewStatus) map[string]any {
	return map[string]any{
		"lastReviewed": stamp(r.LastReviewed),
		"due":          stamp(r.Due),
		"graceEnds":    graceEnds(r.Due, d.reviewGrace),
	}
}

// Prepared is an identity's and its findings' part of the decision input,
// converted to policy values once instead of for every decision. It is
// read-only and safe to share between concurrent decisions.
type Prepared struct {
	identity      *snapshot.Identity
	identityValue ast.Value
	findings      ast.Value
	consumers     []ast.Value // input.consumer for each consumer index
	state         *preparedState
}

// preparedState is the secret and review part of the input as one decider
// builds it, for a secret of a given age in days.
type preparedState struct {
	decider                  *Decider
	secret                   SecretState
	review                   ReviewStatus
	age                      int
	secretValue, reviewValue ast.Value
}

// PrepareState returns a copy of p that also holds the secret and review
// parts of the input as d builds them, for decisions whose Input carries
// this SecretState and ReviewStatus. The secret's age is taken at now; a
// decision on another day builds the secret part again.
func (d *Decider) PrepareState(p *Prepared, s SecretState, r ReviewStatus, now time.Time) (*Prepared, error) {
	age := secretAge(s, now)
	sv, err := ast.InterfaceToValue(d.secretValue(s, age))
	if err != nil {
		return nil, fmt.Errorf("prepare the secret state of %s: %w", p.identity.Name, err)
	}
	rv, err := ast.InterfaceToValue(d.reviewValue(r))
	if err != nil {
		return nil, fmt.Errorf("prepare the review status of %s: %w", p.identity.Name, err)
	}
	q := *p
	q.state = &preparedState{decider: d, secret: s, review: r, age: age, secretValue: sv, reviewValue: rv}
	return &q, nil
}

// Prepare converts id and its open findings for the policy. Pass the
// result as Input.Prepared along with the same Identity and Findings; it is
// ignored for any other Identity.
func Prepare(id *snapshot.Identity, findings []Finding) (*Prepared, error) {
	iv, err := ast.InterfaceToValue(identityValue(id))
	if err != nil {
		return nil, fmt.Errorf("prepare identity %s: %w", id.Name, err)
	}
	fv, err := ast.InterfaceToValue(findingsValue(findings))
	if err != nil {
		return nil, fmt.Errorf("prepare the findings of %s: %w", id.Name, err)
	}
	consumers := make([]ast.Value, len(id.Consumers))
	for i, c := range id.Consumers {
		if consumers[i], err = ast.InterfaceToValue(matchedConsumer(c, i)); err != nil {
			return nil, fmt.Errorf("prepare consumer %d of identity %s: %w", i+1, id.Name, err)
		}
	}
	return &Prepared{identity: id, identityValue: iv, findings: fv, consumers: consumers}, nil
}

// findingsValue is the findings as native values for the input.
func findingsValue(list []Finding) []any {
	out := make([]any, len(list))
	for i, f := range list {
		out[i] = map[string]any{"rule": f.Rule, "severity": f.Severity, "message": f.Message}
	}
	return out
}

// identityValue is the Identity as the snapshot's JSON shows it, as native
// values for a lazy object. TestIdentityValue holds it to encoding/json.
func identityValue(id *snapshot.Identity) map[string]any {
	loc := map[string]any{}
	if id.Location.File != "" {
		loc["file"] = id.Location.File
	}
	if id.Location.Line != 0 {
		loc["line"] = id.Location.Line
	}
	var consumers any
	if id.Consumers != nil {
		list := make([]any, len(id.Consumers))
		for i, c := range id.Consumers {
			list[i] = consumerValue(c)
		}
		consumers = list
	}
	var objects any
	if id.Access.Objects != nil {
		o := make(map[string]any, len(id.Access.Objects))
		for name, perms := range id.Access.Objects {
			o[name] = stringList(perms, true)
		}
		objects = o
	}
	b := id.Salesforce
	return map[string]any{
		"name":        id.Name,
		"location":    loc,
		"service":     id.Service,
		"owner":       id.Owner,
		"environment": id.Environment,
		"criticality": id.Criticality,
		"lifecycle":   id.Lifecycle,
		"agent":       id.Agent,
		"purpose":     id.Purpose,
		"vendor":      id.Vendor,
		"salesforce": map[string]any{
			"url":                 b.URL,
			"orgKind":             b.OrgKind,
			"app":                 b.App,
			"runAs":               b.RunAs,
			"runAsProfile":        b.RunAsProfile,
			"runAsPermissionSets": stringList(b.RunAsPermissionSets, true),
		},
		"access": map[string]any{
			"scopes":  stringList(id.Access.Scopes, true),
			"objects": objects,
		},
		"credential": map[string]any{
			"secretRef":    id.Credential.SecretRef,
			"inlineValue":  id.Credential.InlineValue,
			"rotationDays": id.Credential.RotationDays,
			"rotatedAt":    id.Credential.RotatedAt,
		},
		"consumers": consumers,
		"review": map[string]any{
			"intervalDays": id.Review.IntervalDays,
			"lastReviewed": id.Review.LastReviewed,
		},
	}
}

// consumerValue is a consumer as the snapshot's JSON shows it.
func consumerValue(c snapshot.Consumer) map[string]any {
	o := map[string]any{}
	if c.OIDCIssuer != "" {
		o["oidcIssuer"] = c.OIDCIssuer
	}
	if c.OIDCSubject != "" {
		o["oidcSubject"] = c.OIDCSubject
	}
	if c.SPIFFE != "" {
		o["spiffe"] = c.SPIFFE
	}
	return o
}

// stringList is a string slice for the input; a nil slice is null when
// nullable (as encoding/json writes it), else an empty array.
func stringList(list []string, nullable bool) any {
	if list == nil && nullable {
		return nil
	}
	if list == nil {
		return []string{}
	}
	return list
}

// stamp formats a time as RFC 3339 in UTC, or "" for the zero time.
func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// graceEnds is the end of a grace period starting at t, or "" when t is
// zero.
func graceEnds(t time.Time, grace time.Duration) string {
	if t.IsZero() {
		return ""
	}
	return stamp(t.Add(grace))
}
