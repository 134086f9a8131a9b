package snapshot

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/steward-dev/steward/internal/inventory"
	"github.com/steward-dev/steward/internal/salesforce/metadata"
)

// Sources are the inputs of a snapshot. Any may be nil. Offline, only
// Inventory and Metadata are set; a live scan adds Org, and its Metadata
// holds what the org's Metadata API and sObjects describe.
type Sources struct {
	Inventory *inventory.Inventory
	Metadata  *metadata.Set
	Org       *OrgSource
	Now       time.Time
}

// Build joins manifests and SFDX metadata into one snapshot: apps are joined
// to identities by API name, and each identity's run-as user gets the
// effective permissions of its declared profile and permission sets, resolved
// against the metadata files.
func Build(src Sources) *Snapshot {
	s := &Snapshot{
		Format:     FormatVersion,
		Now:        src.Now.UTC(),
		Source:     "metadata",
		Identities: []Identity{},
		Teams:      []Team{},
		Exceptions: []Exception{},
		Apps:       []App{},
		Users:      []User{},
	}
	inv := src.Inventory
	if inv == nil {
		inv = &inventory.Inventory{}
	}
	md := src.Metadata
	if md == nil {
		md = &metadata.Set{}
	}
	s.Capabilities.Inventory = len(inv.Identities)+len(inv.Teams)+len(inv.Exceptions) > 0
	s.Capabilities.Metadata = md.Files > 0

	// Sized up front: on a large fleet, growing these slices of large
	// structs by appending cost more than filling them.
	s.Identities = make([]Identity, 0, len(inv.Identities))
	for _, id := range inv.Identities {
		s.Identities = append(s.Identities, identityFrom(id))
	}
	for _, t := range inv.Teams {
		s.Teams = append(s.Teams, Team{
			Name:     t.Metadata.Name,
			Location: Location(t.Location),
			Members:  nonNil(t.Spec.Members),
			Backup:   t.Spec.Backup,
		})
	}
	for _, x := range inv.Exceptions {
		s.Exceptions = append(s.Exceptions, Exception{
			Name:                 x.Metadata.Name,
			Location:             Location(x.Location),
			Identity:             x.Spec.Identity,
			Resource:             x.Spec.Resource,
			Rule:                 x.Spec.Rule,
			Reason:               x.Spec.Reason,
			ApprovedBy:           x.Spec.ApprovedBy,
			Expires:              dateString(x.Spec.Expires),
			CompensatingControls: nonNil(x.Spec.CompensatingControls),
		})
	}

	s.Apps = make([]App, 0, len(md.ConnectedApps)+len(md.ECAs))
	for _, ca := range md.ConnectedApps {
		s.Apps = append(s.Apps, appFromConnectedApp(ca))
	}
	for _, eca := range md.ECAs {
		s.Apps = append(s.Apps, appFromECA(eca))
	}
	joinApps(s)
	if src.Org != nil {
		applyOrg(s, src.Org, newResolver(md))
		return s
	}
	s.Users = buildUsers(s, newResolver(md))
	return s
}

// identityFrom copies a manifest into the snapshot shape. A credential that
// holds a value instead of a reference is recorded as such; the value is not
// copied.
func identityFrom(id *inventory.Identity) Identity {
	sp := id.Spec
	out := Identity{
		Name:        id.Metadata.Name,
		Location:    Location(id.Location),
		Service:     sp.Service,
		Owner:       sp.Owner,
		Environment: sp.Environment,
		Criticality: sp.Criticality,
		Lifecycle:   sp.Lifecycle,
		Agent:       sp.Agent,
		Purpose:     sp.Purpose,
		Salesforce: Binding{
			URL:                 sp.Salesforce.URL,
			OrgKind:             OrgKind(sp.Salesforce.URL),
			App:                 sp.Salesforce.App,
			RunAs:               sp.Salesforce.RunAs,
			RunAsProfile:        sp.Salesforce.RunAsProfile,
			RunAsPermissionSets: nonNil(sp.Salesforce.RunAsPermissionSets),
		},
		Access: Access{Scopes: nonNil(sp.Access.Scopes), Objects: sp.Access.Objects},
		Credential: Credential{
			RotationDays: sp.Credential.RotationDays,
			RotatedAt:    dateString(sp.Credential.RotatedAt),
		},
		Consumers: []Consumer{},
		Review: Review{
			IntervalDays: sp.Review.IntervalDays,
			LastReviewed: dateString(sp.Review.LastReviewed),
		},
	}
	if out.Lifecycle == "" {
		out.Lifecycle = "active"
	}
	if sp.Vendor != nil {
		out.Vendor = *sp.Vendor
	}
	if out.Access.Objects == nil {
		out.Access.Objects = map[string][]string{}
	}
	out.Credential.SecretRef = sp.Credential.SecretRef()
	out.Credential.InlineValue = sp.Credential.InlineValue()
	for _, c := range sp.Consumers {
		var sc Consumer
		if c.OIDC != nil {
			sc.OIDCIssuer, sc.OIDCSubject = c.OIDC.Issuer, c.OIDC.Subject
		}
		sc.SPIFFE = c.SPIFFE
		out.Consumers = append(out.Consumers, sc)
	}
	return out
}

// OrgKind classifies an org URL by its My Domain suffix: production,
// sandbox, developer, scratch, or unknown. Sandbox My Domains
// (NAME--SANDBOX.sandbox.my.salesforce.com) and test.salesforce.com are
// documented; the developer and scratch suffixes follow Salesforce's enhanced
// domain naming and are the least certain part of this mapping.
func OrgKind(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" {
		return "unknown"
	}
	host := strings.ToLower(u.Hostname())
	switch {
	case strings.HasSuffix(host, ".sandbox.my.salesforce.com"), host == "test.salesforce.com":
		return "sandbox"
	case strings.HasSuffix(host, ".develop.my.salesforce.com"):
		return "developer"
	case strings.HasSuffix(host, ".scratch.my.salesforce.com"):
		return "scratch"
	case strings.HasSuffix(host, ".my.salesforce.com"), host == "login.salesforce.com":
		return "production"
	}
	return "unknown"
}

// joinApps records, on each app, the identities that name it.
func joinApps(s *Snapshot) {
	byName := map[string][]int{}
	for i, a := range s.Apps {
		byName[a.Name] = append(byName[a.Name], i)
	}
	for _, id := range s.Identities {
		for _, i := range byName[id.Salesforce.App] {
			s.Apps[i].Identities = append(s.Apps[i].Identities, id.Name)
		}
	}
	for i := range s.Apps {
		s.Apps[i].Identities = nonNil(s.Apps[i].Identities)
		sort.Strings(s.Apps[i].Identities)
	}
}

// fingerprint is a short SHA-256 prefix of a consumer key.
func fingerprint(key string) string {
	if key == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:8])
}

func dateString(d inventory.Date) string {
	if d.IsZero() {
		return ""
	}
	return d.String()
}

// nonNil returns s, or an empty slice for nil, so that JSON shows [].
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// sortedUnique sorts and deduplicates.
func sortedUnique(xs []string) []string {
	sort.Strings(xs)
	out := xs[:0]
	for i, x := range xs {
		if i == 0 || x != xs[i-1] {
			out = append(out, x)
		}
	}
	return nonNil(out)
}
