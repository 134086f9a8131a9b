package fakeorg

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// connectTimeLayout is the Connect REST API's datetime format.
const connectTimeLayout = "2006-01-02T15:04:05.000Z"

// appUser is one user's OAuth usage of an app.
type appUser struct {
	user        *row
	first, last time.Time
	useCount    int
}

// oauthUsage collects per-app, per-user usage from the OauthToken rows and
// the live sessions. The caller holds s.mu.
func (s *Server) oauthUsage() map[*app]map[string]*appUser {
	out := map[*app]map[string]*appUser{}
	note := func(a *app, user *row, first, last time.Time, uses int) {
		if out[a] == nil {
			out[a] = map[string]*appUser{}
		}
		u := out[a][user.id]
		if u == nil {
			u = &appUser{user: user, first: first, last: last}
			out[a][user.id] = u
		}
		if first.Before(u.first) {
			u.first = first
		}
		if last.After(u.last) {
			u.last = last
		}
		u.useCount += uses
	}
	for _, t := range s.org.rows["OauthToken"] {
		for _, a := range s.org.apps {
			if a.label == t.f["AppName"] {
				last, _ := t.f["LastUsedDate"].(time.Time)
				note(a, s.org.lookup(t.f["UserId"].(string)), t.f["CreatedDate"].(time.Time), last, t.f["UseCount"].(int))
				break
			}
		}
	}
	for _, sess := range s.sessions {
		if !sess.revoked {
			note(sess.app, sess.user, sess.issued, sess.issued, 1)
		}
	}
	return out
}

// usage serves the Connect REST OAuth usage resources:
// apps/oauth/usage and apps/oauth/usage/{appId}/users.
func (s *Server) usage(d *dataRequest, rest string) (int, any) {
	usage := s.oauthUsage()
	base := d.base(false) + "/apps/oauth/usage"
	page, size := pageParams(d.r.URL.Query())
	if rest == "" {
		apps := make([]*app, 0, len(usage))
		for a := range usage {
			apps = append(apps, a)
		}
		slices.SortFunc(apps, func(a, b *app) int { return strings.Compare(a.name, b.name) })
		var items []jsonObject
		for _, a := range pageOf(apps, page, size) {
			desc := ""
			if a.ca != nil {
				desc = a.ca.Description
			} else {
				desc = a.eca.Description
			}
			items = append(items, jsonObject{
				{"accessTokenFormat", "opaque"}, {"availableActions", []string{"REVOKE"}}, {"description", nz(desc)},
				{"developerName", a.name}, {"identifier", a.id}, {"isFromPackage", s.namespace(a) != ""},
				{"usageDetailsUrl", base + "/" + a.id + "/users"},
			})
		}
		return 200, pageEnvelope("apps", items, base, page, size, len(apps))
	}
	appID, tail, _ := strings.Cut(rest, "/")
	var target *app
	for _, a := range s.org.apps {
		if idKey(a.id) == idKey(appID) {
			target = a
		}
	}
	if target == nil || tail != "users" {
		return 404, &apiError{404, "NOT_FOUND", "The requested resource does not exist"}
	}
	users := make([]*appUser, 0, len(usage[target]))
	for _, u := range usage[target] {
		users = append(users, u)
	}
	slices.SortFunc(users, func(a, b *appUser) int { return strings.Compare(a.user.id, b.user.id) })
	var items []jsonObject
	for _, u := range pageOf(users, page, size) {
		items = append(items, jsonObject{
			{"accessTokenFormat", "opaque"}, {"appDeveloperName", target.name}, {"appIdentifier", target.id},
			{"initialConnectionAt", u.first.UTC().Format(connectTimeLayout)},
			{"lastUsedAt", u.last.UTC().Format(connectTimeLayout)},
			{"revocationUrl", base + "/" + target.id + "/" + u.user.id + "/tokens"},
			{"useCount", u.useCount}, {"userIdentifier", u.user.id}, {"username", u.user.f["Username"]},
		})
	}
	return 200, pageEnvelope("users", items, base+"/"+target.id+"/users", page, size, len(users))
}

func (s *Server) namespace(a *app) string {
	if a.ca != nil {
		return a.ca.Namespace
	}
	return a.eca.Namespace
}

// pageParams reads page (from 0) and pageSize (1 to 100, default 100).
func pageParams(q url.Values) (page, size int) {
	page, _ = strconv.Atoi(q.Get("page"))
	size, _ = strconv.Atoi(q.Get("pageSize"))
	if size <= 0 || size > 100 {
		size = 100
	}
	return max(page, 0), size
}

func pageOf[T any](items []T, page, size int) []T {
	start := min(page*size, len(items))
	return items[start:min(start+size, len(items))]
}

func pageEnvelope(key string, items []jsonObject, base string, page, size, total int) jsonObject {
	if items == nil {
		items = []jsonObject{}
	}
	var next any
	if (page+1)*size < total {
		next = fmt.Sprintf("%s?page=%d&pageSize=%d", base, page+1, size)
	}
	return jsonObject{{key, items}, {"currentPageUrl", fmt.Sprintf("%s?page=%d&pageSize=%d", base, page, size)}, {"nextPageUrl", next}}
}
