// Package discovery reads a live Salesforce org's OAuth integrations into
// the sources a snapshot is built from: connected apps and External Client
// Apps with their OAuth policies, the users they run as and what those users
// may do, logins, OAuth grants, Setup changes and API usage.
//
// Discovery batches its reads so that their number grows with the number of
// apps only through the Metadata API's ten-names-a-call readMetadata; every
// other read is a handful of SOQL queries with IN lists. docs/benchmarks.md
// gives the formula.
package discovery

import (
	"context"
	"fmt"
	"time"

	"github.com/steward-dev/steward/internal/salesforce"
	"github.com/steward-dev/steward/internal/salesforce/metadata"
	"github.com/steward-dev/steward/internal/snapshot"
)

// Defaults for Options.
const (
	DefaultLoginDays = 90
	DefaultAuditDays = 180
	// inChunk is how many values one IN list carries, which keeps a query's
	// URL well under the REST API's limits.
	inChunk = 200
)

// Steps is the number of steps a discovery reports to Options.Progress.
const Steps = 11

// Options tune a discovery.
type Options struct {
	// Now is the time the snapshot describes.
	Now time.Time
	// LoginDays is how far back login history is read; AuditDays how far
	// back the Setup audit trail is.
	LoginDays int
	AuditDays int
	// Usernames are users to read besides the apps' run-as users: those
	// the inventory's identities name.
	Usernames []string
	// Progress, when set, is told each step as it starts.
	Progress func(step string)
}

// Result is what a discovery read: the org's apps and permission sets as
// metadata records, and the live rest.
type Result struct {
	Metadata *metadata.Set
	Org      *snapshot.OrgSource
	// Calls is the number of API calls the discovery made.
	Calls int
}

// Discover reads the org behind c. An error names the step and the
// endpoint that failed; a partial read is never returned as complete.
func Discover(ctx context.Context, c *salesforce.Client, opts Options) (*Result, error) {
	if opts.LoginDays <= 0 {
		opts.LoginDays = DefaultLoginDays
	}
	if opts.AuditDays <= 0 {
		opts.AuditDays = DefaultAuditDays
	}
	d := &run{c: c, opts: opts, md: &metadata.Set{}, org: &snapshot.OrgSource{Apps: map[string]snapshot.AppLive{}}}
	steps := []struct {
		name string
		fn   func(context.Context) error
	}{
		{"signing in", d.signIn},
		{"reading connected apps", d.connectedApps},
		{"reading External Client Apps", d.externalClientApps},
		{"reading app access grants", d.appAccess},
		{"reading run-as users", d.readUsers},
		{"reading permission sets", d.permissionSets},
		{"reading org-wide grants", d.orgGrants},
		{"reading login history", d.logins},
		{"reading OAuth grants", d.oauthTokens},
		{"reading the Setup audit trail", d.setupChanges},
		{"reading API limits", d.limits},
	}
	for _, s := range steps {
		if opts.Progress != nil {
			opts.Progress(s.name)
		}
		if err := s.fn(ctx); err != nil {
			return nil, fmt.Errorf("discovery: %s: %w", s.name, err)
		}
	}
	d.finish()
	return &Result{Metadata: d.md, Org: d.org, Calls: c.Calls()}, nil
}

// run holds one discovery's state as its steps fill it.
type run struct {
	c    *salesforce.Client
	opts Options
	md   *metadata.Set
	org  *snapshot.OrgSource

	// appIDs maps a ConnectedApplication or ExternalClientApplication id
	// to the app's API name; appNames maps an app's API name and label, in
	// lower case, to its API name.
	appIDs   map[string]string
	appNames map[string]string
	// users are the run-as users found, by lower-case username; userIDs
	// maps their ids to usernames.
	users   map[string]*snapshot.OrgUser
	userIDs map[string]string
	// assigned are the permission set ids assigned to the run-as users.
	assigned map[string]bool
	// sets are every permission set of the org by id; licenses map
	// profile names to their user license.
	sets     map[string]*permissionSet
	licenses map[string]string
}
