package discovery

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/steward-dev/steward/internal/salesforce"
	"github.com/steward-dev/steward/internal/snapshot"
)

// oauthLoginType is LoginHistory.LoginType for OAuth logins. Whether SOQL
// takes the API name or the label is not documented; the label is the one
// seen in queries.
const oauthLoginType = "Remote Access 2.0"

// loginSubTypes maps LoginHistory.LoginSubType labels to their API names,
// so that the snapshot holds one spelling whichever the org returns.
var loginSubTypes = map[string]string{
	"OAuth Client Credentials":   "OauthClientCredentials",
	"OAuth Web Server":           "OauthWebServer",
	"OAuth User-Agent":           "OauthUserAgent",
	"OAuth Refresh Token":        "OauthRefreshToken",
	"OAuth Username-Password":    "OauthUsernamePassword",
	"OAuth Token Exchange":       "OauthTokenExchange",
	"Username Password UI Login": "UsernamePasswordUiLogin",
}

// loginSubType returns the API name of a LoginSubType value.
func loginSubType(v string) string {
	if api, ok := loginSubTypes[v]; ok {
		return api
	}
	return v
}

// isClientCredentials reports whether a login used the client-credentials
// flow.
func isClientCredentials(subType string) bool { return subType == "OauthClientCredentials" }

type loginRow struct {
	UserID       string `json:"UserId"`
	LoginTime    sfTime `json:"LoginTime"`
	LoginType    string `json:"LoginType"`
	LoginSubType string `json:"LoginSubType"`
	Application  string `json:"Application"`
	SourceIP     string `json:"SourceIp"`
	Status       string `json:"Status"`
}

const loginFields = "SELECT UserId, LoginTime, LoginType, LoginSubType, Application, SourceIp, Status FROM LoginHistory "

// logins reads the org's OAuth logins and every login of the run-as users
// in the window: the first show which apps are in use and by whom, the
// second whether a person uses an integration's user.
func (d *run) logins(ctx context.Context) error {
	window := fmt.Sprintf("LoginTime = LAST_N_DAYS:%d", d.opts.LoginDays)
	oauth, err := salesforce.QueryAll[loginRow](ctx, d.c, loginFields+"WHERE "+window+
		" AND LoginType = "+quote(oauthLoginType)+" ORDER BY LoginTime DESC")
	if err != nil {
		return err
	}
	ids := make([]string, 0, len(d.userIDs))
	for id := range d.userIDs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	other, err := queryIn[loginRow](ctx, d.c, loginFields+"WHERE "+window+
		" AND LoginType != "+quote(oauthLoginType)+" AND UserId IN :values", ids)
	if err != nil {
		return err
	}
	if err := d.resolveUserIDs(ctx, oauth); err != nil {
		return err
	}
	d.org.LoginHistory = true

	summaries := map[string]map[[3]string]*snapshot.LoginSummary{} // username → (type, subtype, app) → summary
	seen := map[string]*snapshot.OAuthApp{}
	for _, l := range append(oauth, other...) {
		if !strings.EqualFold(l.Status, "Success") {
			continue
		}
		sub := loginSubType(l.LoginSubType)
		user := d.userIDs[l.UserID]
		if u := d.users[strings.ToLower(user)]; u != nil {
			k := [3]string{l.LoginType, sub, l.Application}
			m := summaries[user]
			if m == nil {
				m = map[[3]string]*snapshot.LoginSummary{}
				summaries[user] = m
			}
			s := m[k]
			if s == nil {
				s = &snapshot.LoginSummary{LoginType: l.LoginType, LoginSubType: sub, Application: l.Application}
				m[k] = s
			}
			s.Count++
			if l.LoginTime.After(s.Last) {
				s.Last = l.LoginTime.Time
			}
			if l.SourceIP != "" && len(s.SourceIPs) < 10 && !slices.Contains(s.SourceIPs, l.SourceIP) {
				s.SourceIPs = append(s.SourceIPs, l.SourceIP)
			}
		}
		if l.LoginType != oauthLoginType || l.Application == "" {
			continue
		}
		if app, ok := d.appNames[strings.ToLower(l.Application)]; ok {
			live := d.org.Apps[app]
			if isClientCredentials(sub) {
				live.ClientCredentialsLogins++
				if l.LoginTime.After(live.LastClientCredentialsLogin) {
					live.LastClientCredentialsLogin = l.LoginTime.Time
				}
			} else {
				live.OtherLogins++
			}
			d.org.Apps[app] = live
		}
		o := seen[l.Application]
		if o == nil {
			o = &snapshot.OAuthApp{Name: l.Application}
			seen[l.Application] = o
		}
		o.Sources = appendNew(o.Sources, snapshot.SourceLoginHistory)
		if user != "" {
			o.Users = appendNew(o.Users, user)
		}
		if l.LoginTime.After(o.LastUsed) {
			o.LastUsed = l.LoginTime.Time
		}
	}
	for user, m := range summaries {
		u := d.users[strings.ToLower(user)]
		for _, s := range m {
			sort.Strings(s.SourceIPs)
			u.Live.Logins = append(u.Live.Logins, *s)
		}
		sort.Slice(u.Live.Logins, func(i, j int) bool {
			a, b := u.Live.Logins[i], u.Live.Logins[j]
			return a.LoginType+"\x00"+a.LoginSubType+"\x00"+a.Application < b.LoginType+"\x00"+b.LoginSubType+"\x00"+b.Application
		})
	}
	d.mergeOAuthApps(seen)
	return nil
}

// resolveUserIDs finds the usernames of the users in logins that are not
// run-as users.
func (d *run) resolveUserIDs(ctx context.Context, logins []loginRow) error {
	var missing []string
	seen := map[string]bool{}
	for _, l := range logins {
		if _, ok := d.userIDs[l.UserID]; !ok && l.UserID != "" && !seen[l.UserID] {
			seen[l.UserID] = true
			missing = append(missing, l.UserID)
		}
	}
	sort.Strings(missing)
	type row struct {
		ID       string `json:"Id"`
		Username string `json:"Username"`
	}
	rows, err := queryIn[row](ctx, d.c, "SELECT Id, Username FROM User WHERE Id IN :values", missing)
	if err != nil {
		return err
	}
	for _, r := range rows {
		d.userIDs[r.ID] = r.Username
	}
	return nil
}

// oauthTokens reads the OAuth grants the org holds (OauthToken: refresh
// tokens; client credentials issues none), counting them per app. The token
// values are never selected.
func (d *run) oauthTokens(ctx context.Context) error {
	type row struct {
		AppName      string    `json:"AppName"`
		User         *username `json:"User"`
		UseCount     int       `json:"UseCount"`
		LastUsedDate sfTime    `json:"LastUsedDate"`
	}
	// Salesforce caps OauthToken queries at 2,500 rows.
	rows, err := salesforce.QueryAll[row](ctx, d.c,
		"SELECT AppName, User.Username, UseCount, LastUsedDate FROM OauthToken ORDER BY LastUsedDate DESC LIMIT 2500")
	if err != nil {
		return err
	}
	seen := map[string]*snapshot.OAuthApp{}
	for _, r := range rows {
		if r.AppName == "" {
			continue
		}
		o := seen[r.AppName]
		if o == nil {
			o = &snapshot.OAuthApp{Name: r.AppName, Sources: []string{snapshot.SourceOAuthToken}}
			seen[r.AppName] = o
		}
		o.Tokens++
		if r.User != nil {
			o.Users = appendNew(o.Users, r.User.Username)
		}
		if r.LastUsedDate.After(o.LastUsed) {
			o.LastUsed = r.LastUsedDate.Time
		}
		if app, ok := d.appNames[strings.ToLower(r.AppName)]; ok {
			live := d.org.Apps[app]
			live.Tokens++
			if r.LastUsedDate.After(live.LastTokenUse) {
				live.LastTokenUse = r.LastUsedDate.Time
			}
			d.org.Apps[app] = live
		}
	}
	d.mergeOAuthApps(seen)
	return nil
}

// mergeOAuthApps adds apps seen in one source to those seen in others.
func (d *run) mergeOAuthApps(seen map[string]*snapshot.OAuthApp) {
	index := map[string]int{}
	for i, o := range d.org.OAuthApps {
		index[strings.ToLower(o.Name)] = i
	}
	for _, name := range sortedKeys(seen) {
		o := seen[name]
		i, ok := index[strings.ToLower(name)]
		if !ok {
			d.org.OAuthApps = append(d.org.OAuthApps, *o)
			continue
		}
		have := &d.org.OAuthApps[i]
		for _, s := range o.Sources {
			have.Sources = appendNew(have.Sources, s)
		}
		for _, u := range o.Users {
			have.Users = appendNew(have.Users, u)
		}
		have.Tokens += o.Tokens
		if o.LastUsed.After(have.LastUsed) {
			have.LastUsed = o.LastUsed
		}
	}
}

// setupChanges reads the Setup audit trail and keeps the entries that name
// an app or a run-as user. Section and Display cannot be filtered in SOQL,
// so the matching happens here, on the entry's display text.
func (d *run) setupChanges(ctx context.Context) error {
	type row struct {
		Action      string    `json:"Action"`
		Section     string    `json:"Section"`
		Display     string    `json:"Display"`
		CreatedDate sfTime    `json:"CreatedDate"`
		CreatedBy   *username `json:"CreatedBy"`
	}
	rows, err := salesforce.QueryAll[row](ctx, d.c, fmt.Sprintf("SELECT Action, Section, Display, CreatedDate, "+
		"CreatedBy.Username FROM SetupAuditTrail WHERE CreatedDate = LAST_N_DAYS:%d ORDER BY CreatedDate DESC", d.opts.AuditDays))
	if err != nil {
		return err
	}
	apps := sortedKeys(d.appNames)
	users := sortedKeys(d.users)
	for _, r := range rows {
		text := strings.ToLower(r.Display)
		change := snapshot.SetupChange{Time: r.CreatedDate.Time, Action: r.Action, Section: r.Section, Display: r.Display}
		if r.CreatedBy != nil {
			change.By = r.CreatedBy.Username
		}
		for _, name := range apps {
			if mentions(text, name) {
				change.App = d.appNames[name]
				break
			}
		}
		for _, name := range users {
			if mentions(text, name) {
				change.User = d.users[name].Username
				break
			}
		}
		if change.App != "" || change.User != "" {
			d.org.SetupChanges = append(d.org.SetupChanges, change)
		}
	}
	return nil
}

// mentions reports whether text holds name as a whole word: not inside a
// longer name.
func mentions(text, name string) bool {
	for start := 0; ; {
		i := strings.Index(text[start:], name)
		if i < 0 {
			return false
		}
		i += start
		end := i + len(name)
		if (i == 0 || !wordByte(text[i-1])) && (end == len(text) || !wordByte(text[end])) {
			return true
		}
		start = i + 1
	}
}

func wordByte(b byte) bool {
	return b == '_' || b == '.' || b == '@' || b >= '0' && b <= '9' || b >= 'a' && b <= 'z'
}

// limits reads the org's daily API allowance and each app's share of it.
func (d *run) limits(ctx context.Context) error {
	l, err := d.c.Limits(ctx)
	if err != nil {
		return err
	}
	d.org.Org.APIUsage = snapshot.APIUsage{Used: int(l.DailyAPIRequests.Used()), Max: int(l.DailyAPIRequests.Max)}
	for name, used := range l.DailyAPIRequests.Apps {
		if app, ok := d.appNames[strings.ToLower(name)]; ok {
			live := d.org.Apps[app]
			live.APIRequests = int(used.Used())
			d.org.Apps[app] = live
		}
	}
	return nil
}

// finish puts the run-as users in a stable order.
func (d *run) finish() {
	for _, key := range sortedKeys(d.users) {
		d.org.Users = append(d.org.Users, *d.users[key])
	}
	if d.org.OAuthApps == nil {
		d.org.OAuthApps = []snapshot.OAuthApp{}
	}
}
