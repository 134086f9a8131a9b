package discovery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"sync"

	"github.com/steward-dev/steward/internal/salesforce"
	"github.com/steward-dev/steward/internal/salesforce/metadata"
	"github.com/steward-dev/steward/internal/snapshot"
)

// readWorkers is how many readMetadata calls run at once.
const readWorkers = 4

func (d *run) signIn(ctx context.Context) error {
	tok, err := d.c.Token(ctx)
	if err != nil {
		return err
	}
	d.org.Org = snapshot.Org{URL: d.c.URL(), Kind: snapshot.OrgKind(d.c.URL()), ID: orgID(tok.ID)}
	d.appIDs, d.appNames = map[string]string{}, map[string]string{}
	return nil
}

// orgID takes the organization id from a token's identity URL
// (https://login.salesforce.com/id/<org id>/<user id>).
func orgID(identity string) string {
	u, err := url.Parse(identity)
	if err != nil {
		return ""
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) == 3 && parts[0] == "id" {
		return parts[1]
	}
	return ""
}

// connectedApps lists the org's connected apps through the Metadata API and
// reads each one's OAuth configuration (client-credentials switch and run-as
// user live only there), ten names a call, a few calls at a time.
func (d *run) connectedApps(ctx context.Context) error {
	type row struct {
		ID          string `json:"Id"`
		Name        string `json:"Name"`
		CreatedDate sfTime `json:"CreatedDate"`
	}
	rows, err := salesforce.QueryAll[row](ctx, d.c, "SELECT Id, Name, CreatedDate FROM ConnectedApplication")
	if err != nil {
		return err
	}
	created := map[string]sfTime{}
	for _, r := range rows {
		created[strings.ToLower(r.Name)] = r.CreatedDate
		d.appIDs[r.ID] = r.Name
	}
	files, err := d.c.ListMetadata(ctx, salesforce.ListMetadataQuery{Type: "ConnectedApp"})
	if err != nil {
		return err
	}
	names := make([]string, 0, len(files))
	for _, f := range files {
		names = append(names, f.FullName)
	}
	sort.Strings(names)
	records, err := d.readMetadata(ctx, "ConnectedApp", names)
	if err != nil {
		return err
	}
	for _, rec := range records {
		if rec.Nil {
			continue // deleted between the list and the read
		}
		path, data, err := rec.Document()
		if err != nil {
			return err
		}
		parsed, warnings, err := metadata.Parse(path, data)
		if err != nil {
			return fmt.Errorf("ConnectedApp %s: %w", rec.FullName, err)
		}
		ca, ok := parsed.(*metadata.ConnectedApp)
		if !ok {
			return fmt.Errorf("ConnectedApp %s: the Metadata API returned a %T", rec.FullName, parsed)
		}
		ca.Name = rec.FullName
		ca.Location = metadata.Location{File: "ConnectedApp/" + rec.FullName}
		for _, w := range warnings {
			w.Location = ca.Location
			d.md.Warnings = append(d.md.Warnings, w)
		}
		d.md.ConnectedApps = append(d.md.ConnectedApps, ca)
		d.md.Files++
		d.nameApp(ca.Name, ca.Label.Value)
		live := snapshot.AppLive{InOrg: true}
		if t, ok := created[strings.ToLower(ca.Name)]; ok {
			live.Created = t.Time
		} else if t, ok := created[strings.ToLower(ca.Label.Value)]; ok {
			live.Created = t.Time
		}
		d.org.Apps[ca.Name] = live
	}
	// ConnectedApplication names are labels; map their ids to API names.
	for id, name := range d.appIDs {
		if api, ok := d.appNames[strings.ToLower(name)]; ok {
			d.appIDs[id] = api
		}
	}
	return nil
}

// readMetadata reads the named components in calls of MaxReadNames, a few
// calls at a time, and returns the records in the order of names.
func (d *run) readMetadata(ctx context.Context, typ string, names []string) ([]salesforce.MetadataRecord, error) {
	var batches [][]string
	for start := 0; start < len(names); start += salesforce.MaxReadNames {
		batches = append(batches, names[start:min(start+salesforce.MaxReadNames, len(names))])
	}
	results := make([][]salesforce.MetadataRecord, len(batches))
	errs := make([]error, len(batches))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(readWorkers, len(batches)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				results[i], errs[i] = d.c.ReadMetadata(ctx, typ, batches[i])
				if errs[i] != nil {
					cancel()
				}
			}
		}()
	}
	for i := range batches {
		next <- i
	}
	close(next)
	wg.Wait()
	if err := firstError(errs); err != nil {
		return nil, err
	}
	var out []salesforce.MetadataRecord
	for _, r := range results {
		out = append(out, r...)
	}
	return out, nil
}

// firstError returns the first error that is not a cancellation caused by
// another one.
func firstError(errs []error) error {
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// nameApp records an app's API name and label for matching the names other
// objects use (login history, /limits, the audit trail).
func (d *run) nameApp(api, label string) {
	d.appNames[strings.ToLower(api)] = api
	if label != "" {
		if _, taken := d.appNames[strings.ToLower(label)]; !taken {
			d.appNames[strings.ToLower(label)] = api
		}
	}
}

// externalClientApps reads External Client Apps and their OAuth settings
// and policies through SOQL: three queries whatever the number of apps,
// where the Metadata API would need several calls per ten apps.
func (d *run) externalClientApps(ctx context.Context) error {
	type header struct {
		ID                string `json:"Id"`
		DeveloperName     string `json:"DeveloperName"`
		MasterLabel       string `json:"MasterLabel"`
		ContactEmail      string `json:"ContactEmail"`
		DistributionState string `json:"DistributionState"`
		CreatedDate       sfTime `json:"CreatedDate"`
	}
	headers, err := salesforce.QueryAll[header](ctx, d.c,
		"SELECT Id, DeveloperName, MasterLabel, ContactEmail, DistributionState, CreatedDate FROM ExternalClientApplication")
	if err != nil {
		return ecaUnavailable(d, err)
	}
	if len(headers) == 0 {
		return nil
	}
	apps := map[string]*metadata.ECA{}
	for _, h := range headers {
		e := &metadata.ECA{
			Name: h.DeveloperName,
			Header: &metadata.ECAHeader{
				Location:          metadata.Location{File: "ExternalClientApplication/" + h.DeveloperName},
				Label:             metadata.Text{Value: h.MasterLabel},
				ContactEmail:      metadata.Text{Value: h.ContactEmail},
				DistributionState: metadata.Text{Value: h.DistributionState},
			},
		}
		apps[h.ID] = e
		d.appIDs[h.ID] = h.DeveloperName
		d.nameApp(h.DeveloperName, h.MasterLabel)
		d.org.Apps[h.DeveloperName] = snapshot.AppLive{InOrg: true, Created: h.CreatedDate.Time}
	}

	type policy struct {
		App                        string `json:"ExternalClientApplicationId"`
		ClientCredentialsFlowUser  string `json:"ClientCredentialsFlowUser"`
		ClientCredentialsEnabled   bool   `json:"IsClientCredentialsFlowEnabled"`
		TokenExchangeEnabled       bool   `json:"IsTokenExchangeFlowEnabled"`
		IPRelaxation               string `json:"IpRelaxationPolicyType"`
		PermittedUsers             string `json:"PermittedUsersPolicyType"`
		RefreshTokenPolicy         string `json:"RefreshTokenPolicyType"`
		RefreshTokenValidityPeriod *int   `json:"RefreshTokenValidityPeriod"`
		RefreshTokenValidityUnit   string `json:"RefreshTokenValidityUnit"`
		SessionTimeout             *int   `json:"SessionTimeoutInMinutes"`
	}
	policies, err := salesforce.QueryAll[policy](ctx, d.c, "SELECT ExternalClientApplicationId, ClientCredentialsFlowUser, "+
		"IsClientCredentialsFlowEnabled, IsTokenExchangeFlowEnabled, IpRelaxationPolicyType, PermittedUsersPolicyType, "+
		"RefreshTokenPolicyType, RefreshTokenValidityPeriod, RefreshTokenValidityUnit, SessionTimeoutInMinutes "+
		"FROM ExtlClntAppOauthPlcyCnfg")
	if err != nil {
		return ecaUnavailable(d, err)
	}
	for _, p := range policies {
		e := apps[p.App]
		if e == nil {
			continue
		}
		e.OAuthPolicy = &metadata.ECAOAuthPolicy{
			Location:                   metadata.Location{File: "ExtlClntAppOauthPlcyCnfg/" + e.Name},
			App:                        e.Name,
			ClientCredentialsEnabled:   metadata.Bool{Value: p.ClientCredentialsEnabled, Set: true},
			ClientCredentialsUser:      metadata.Text{Value: p.ClientCredentialsFlowUser},
			IPRelaxation:               metadata.Text{Value: p.IPRelaxation},
			PermittedUsers:             metadata.Text{Value: p.PermittedUsers},
			RefreshTokenPolicy:         metadata.Text{Value: p.RefreshTokenPolicy},
			RefreshTokenValidityPeriod: optionalInt(p.RefreshTokenValidityPeriod),
			RefreshTokenValidityUnit:   metadata.Text{Value: p.RefreshTokenValidityUnit},
			SessionTimeout:             optionalInt(p.SessionTimeout),
			TokenExchangeEnabled:       metadata.Bool{Value: p.TokenExchangeEnabled, Set: true},
		}
	}

	fields := make([]string, 0, len(ecaScopeFields)+1)
	fields = append(fields, "ExternalClientApplicationId")
	for _, f := range sortedKeys(ecaScopeFields) {
		fields = append(fields, "OauthScopes"+f)
	}
	err = d.c.Query(ctx, "SELECT "+strings.Join(fields, ", ")+" FROM ExtlClntAppOauthSettings", func(raw json.RawMessage) error {
		var row map[string]any
		if err := json.Unmarshal(raw, &row); err != nil {
			return err
		}
		id, _ := row["ExternalClientApplicationId"].(string)
		e := apps[id]
		if e == nil {
			return nil
		}
		o := &metadata.ECAOAuth{Location: metadata.Location{File: "ExtlClntAppOauthSettings/" + e.Name}, App: e.Name}
		for _, suffix := range sortedKeys(ecaScopeFields) {
			if on, _ := row["OauthScopes"+suffix].(bool); on {
				o.Scopes = append(o.Scopes, metadata.Scope{Name: ecaScopeFields[suffix]})
			}
		}
		e.OAuth = o
		return nil
	})
	if err != nil {
		return ecaUnavailable(d, err)
	}
	for _, e := range apps {
		d.md.ECAs = append(d.md.ECAs, e)
		d.md.Files++
	}
	sort.Slice(d.md.ECAs, func(i, j int) bool { return d.md.ECAs[i].Name < d.md.ECAs[j].Name })
	return nil
}

// ecaUnavailable turns an org that does not expose the External Client App
// sObjects (Salesforce marks them "for internal use only") into a warning:
// connected apps are still discovered, and the report says what is missing.
func ecaUnavailable(d *run, err error) error {
	var apiErr *salesforce.APIError
	if errors.As(err, &apiErr) && (apiErr.Code == "INVALID_TYPE" || apiErr.Code == "INSUFFICIENT_ACCESS") {
		d.md.Warnings = append(d.md.Warnings, metadata.Warning{
			Location: metadata.Location{File: d.c.URL()},
			Message:  "External Client Apps not discovered: " + apiErr.Message,
		})
		d.md.ECAs = nil
		return nil
	}
	return err
}

func optionalInt(v *int) metadata.Int {
	if v == nil {
		return metadata.Int{}
	}
	return metadata.Int{Value: *v, Set: true}
}

// ecaScopeFields maps the suffixes of ExtlClntAppOauthSettings' OauthScopes*
// fields to the scope names metadata files use. The field names follow the
// wire scope strings, except where the reference notes otherwise; the
// mapping is inferred from the field names, not documented.
var ecaScopeFields = map[string]string{
	"ADDRESS": "Address", "API": "Api", "CDP_API": "CDP", "CDP_CALCULATED_INSIGHT_API": "CDPCalculatedInsight",
	"CDP_IDENTITYRESOLUTION_API": "CDPIdentityResolution", "CDP_INGEST_API": "CDPIngest",
	"CDP_PROFILE_API": "CDPProfile", "CDP_QUERY_API": "CDPQuery", "CDP_SEGMENT_API": "CDPSegment",
	"CHATBOT_API": "Chatbot", "CHATTER_REST_API": "Chatter", "CONTENT": "Content",
	"CUSTOM_PERMISSIONS": "CustomPermissions", "DATA_CLOUD_USER_CLAIMS": "DataCloudUserClaims",
	"ECLAIR_REST_API": "Eclair", "EINSTEIN_GPT_API": "EinsteinGPT", "EMAIL": "Email",
	"FORGOT_PASSWORD": "ForgotPassword", "FULL": "Full", "INTERACTION_API": "Interaction",
	"LIGHTNING": "Lightning", "MCP_API": "MCP", "OFFLINE_ACCESS": "OfflineAccess", "OPENID": "OpenID",
	"PARDOT_API": "Pardot", "PHONE": "Phone", "PROFILE": "Profile", "PWDLESS_LOGIN_API": "PwdlessLogin",
	"REFRESH_TOKEN": "RefreshToken", "SCRT_API": "SCRT", "SFAP_API": "SFAP",
	"USER_REGISTRATION_API": "UserRegistration", "VF": "CustomApplications", "WAVE_REST_API": "Wave",
	"WEB": "Web",
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// appAccess reads which permission sets and profiles are granted each app
// (SetupEntityAccess): the app's pre-authorised users.
func (d *run) appAccess(ctx context.Context) error {
	type row struct {
		Parent struct {
			Name             string `json:"Name"`
			IsOwnedByProfile bool   `json:"IsOwnedByProfile"`
			Profile          *named `json:"Profile"`
		} `json:"Parent"`
		SetupEntityID string `json:"SetupEntityId"`
	}
	rows, err := salesforce.QueryAll[row](ctx, d.c, "SELECT Parent.Name, Parent.IsOwnedByProfile, Parent.Profile.Name, "+
		"SetupEntityId, SetupEntityType FROM SetupEntityAccess "+
		"WHERE SetupEntityType IN ('ConnectedApplication', 'ExternalClientApplication')")
	if err != nil {
		return err
	}
	cas := map[string]*metadata.ConnectedApp{}
	for _, ca := range d.md.ConnectedApps {
		cas[ca.Name] = ca
	}
	ecas := map[string]*metadata.ECA{}
	for _, e := range d.md.ECAs {
		ecas[e.Name] = e
	}
	for _, r := range rows {
		app := d.appIDs[r.SetupEntityID]
		profile := ""
		if r.Parent.IsOwnedByProfile && r.Parent.Profile != nil {
			profile = r.Parent.Profile.Name
		}
		if ca := cas[app]; ca != nil {
			if profile != "" {
				ca.Profiles = appendNew(ca.Profiles, profile)
			} else {
				ca.PermissionSets = appendNew(ca.PermissionSets, r.Parent.Name)
			}
		}
		if e := ecas[app]; e != nil && e.OAuthPolicy != nil {
			if profile != "" {
				e.OAuthPolicy.Profiles = appendNew(e.OAuthPolicy.Profiles, profile)
			} else {
				e.OAuthPolicy.PermissionSets = appendNew(e.OAuthPolicy.PermissionSets, r.Parent.Name)
			}
		}
	}
	return nil
}

func appendNew(xs []string, x string) []string {
	for _, have := range xs {
		if strings.EqualFold(have, x) {
			return xs
		}
	}
	return append(xs, x)
}
