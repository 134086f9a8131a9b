package broker

import (
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
//	secret              version, createdAt, ageDays, rotationDeadline,
//	                    graceEnds (rotationDeadline + rotation grace)
//	review              lastReviewed, due, graceEnds (due + review grace)
//	findings            [{rule, severity, message}]
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
	age := 0
	if !in.Secret.CreatedAt.IsZero() {
		age = int(in.Now.Sub(in.Secret.CreatedAt) / (24 * time.Hour))
	}
	findings := make([]any, len(in.Findings))
	for i, f := range in.Findings {
		findings[i] = map[string]any{"rule": f.Rule, "severity": f.Severity, "message": f.Message}
	}
	claims := w.Claims
	if claims == nil {
		claims = map[string]any{}
	}
	input := map[string]any{
		"now": stamp(in.Now),
		"workload": map[string]any{
			"name":        w.String(),
			"method":      string(w.Method),
			"issuer":      w.Issuer,
			"subject":     w.Subject,
			"spiffeId":    w.SPIFFEID,
			"audience":    stringList(w.Audience, false),
			"environment": w.Environment,
			"expiresAt":   stamp(w.ExpiresAt),
			"claims":      claims,
		},
		"identity": identityValue(in.Identity),
		"killed":   in.Killed,
		"secret": map[string]any{
			"version":          in.Secret.Version,
			"createdAt":        stamp(in.Secret.CreatedAt),
			"ageDays":          age,
			"rotationDeadline": stamp(in.Secret.RotationDeadline),
			"graceEnds":        graceEnds(in.Secret.RotationDeadline, d.rotationGrace),
		},
		"review": map[string]any{
			"lastReviewed": stamp(in.Review.LastReviewed),
			"due":          stamp(in.Review.Due),
			"graceEnds":    graceEnds(in.Review.Due, d.reviewGrace),
		},
		"findings": findings,
	}
	if consumer >= 0 {
		c := consumerValue(in.Identity.Consumers[consumer])
		c["index"] = consumer
		input["consumer"] = c
	}
	return ast.LazyObject(input)
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
