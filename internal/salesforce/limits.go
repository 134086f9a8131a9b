package salesforce

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/textproto"
	"sort"
	"strconv"
	"strings"
)

// limitInfoHeader carries the org's daily API usage on every REST response.
var limitInfoHeader = textproto.CanonicalMIMEHeaderKey("Sforce-Limit-Info")

// APIUsage is the org's daily API request usage as Salesforce last reported
// it.
type APIUsage struct {
	Known bool       // false until a response reported usage
	Used  int64      // requests used in the last 24 hours
	Max   int64      // the daily maximum
	Apps  []AppUsage // per-app usage, when reported
}

// AppUsage is one connected app's share of the daily API usage.
type AppUsage struct {
	Name string
	Used int64
	Max  int64
}

// Usage returns the daily API usage from the last Sforce-Limit-Info header
// or Limits call; Known is false before either.
func (c *Client) Usage() APIUsage {
	c.mu.Lock()
	defer c.mu.Unlock()
	u := c.usage
	u.Apps = append([]AppUsage(nil), u.Apps...)
	return u
}

// recordUsage updates the usage from a response's Sforce-Limit-Info header.
// Without a valid header the known usage is counted up by one, the call just
// made.
func (c *Client) recordUsage(h http.Header) {
	v := h.Get(limitInfoHeader)
	u, err := parseLimitInfo(v)
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case err == nil:
		c.usage = u
	case c.usage.Known:
		c.usage.Used++
	}
	if err != nil && v != "" {
		c.log.Debug("salesforce limit header ignored", "error", err.Error())
	}
}

// checkBudget fails when one more request would take the usage past the
// configured share of the daily maximum.
func (c *Client) checkBudget(endpoint string) error {
	c.mu.Lock()
	u := c.usage
	c.mu.Unlock()
	if !u.Known || u.Max <= 0 {
		return nil
	}
	if float64(u.Used+1) > c.maxShare*float64(u.Max) {
		return &BudgetError{Endpoint: endpoint, Used: u.Used, Max: u.Max, Share: c.maxShare}
	}
	return nil
}

// parseLimitInfo parses a Sforce-Limit-Info value: ";"-separated
// key=used/max pairs, where a pair may end in "(k=v)", as in
// "api-usage=25/5000; per-app-api-usage=17/250(appName=sample-connected-app)".
// Keys other than api-usage and per-app-api-usage (api-bursts) are checked
// for form and skipped. api-usage is required.
func parseLimitInfo(v string) (APIUsage, error) {
	var u APIUsage
	if strings.TrimSpace(v) == "" {
		return u, fmt.Errorf("no Sforce-Limit-Info header")
	}
	for part := range strings.SplitSeq(v, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		key, val, ok := strings.Cut(part, "=")
		if !ok {
			return APIUsage{}, fmt.Errorf("Sforce-Limit-Info: %s has no '='", quoteStart([]byte(part)))
		}
		var attrs string
		if i := strings.IndexByte(val, '('); i >= 0 {
			if !strings.HasSuffix(val, ")") {
				return APIUsage{}, fmt.Errorf("Sforce-Limit-Info: %s has an unclosed '('", quoteStart([]byte(part)))
			}
			val, attrs = val[:i], val[i+1:len(val)-1]
		}
		used, max, err := parseRatio(val)
		if err != nil {
			return APIUsage{}, fmt.Errorf("Sforce-Limit-Info: %s: %w", strings.TrimSpace(key), err)
		}
		switch strings.TrimSpace(key) {
		case "api-usage":
			u.Known, u.Used, u.Max = true, used, max
		case "per-app-api-usage":
			name := attrs
			for kv := range strings.SplitSeq(attrs, ",") {
				if k, v, ok := strings.Cut(strings.TrimSpace(kv), "="); ok && k == "appName" {
					name = v
				}
			}
			u.Apps = append(u.Apps, AppUsage{Name: name, Used: used, Max: max})
		}
	}
	if !u.Known {
		return APIUsage{}, fmt.Errorf("Sforce-Limit-Info: no api-usage in %s", quoteStart([]byte(v)))
	}
	return u, nil
}

// parseRatio parses "used/max" of non-negative integers.
func parseRatio(s string) (used, max int64, err error) {
	a, b, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return 0, 0, fmt.Errorf("%s is not used/max", quoteStart([]byte(s)))
	}
	used, err1 := strconv.ParseInt(a, 10, 64)
	max, err2 := strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil || used < 0 || max < 0 {
		return 0, 0, fmt.Errorf("%s is not used/max", quoteStart([]byte(s)))
	}
	return used, max, nil
}

// Limit is one entry of the limits resource.
type Limit struct {
	Max       int64
	Remaining int64
	// Apps holds per-app sub-limits keyed by connected app name, as
	// DailyApiRequests and a few others report them.
	Apps map[string]Limit
}

// Used returns Max minus Remaining.
func (l Limit) Used() int64 { return l.Max - l.Remaining }

// Limits is the org's limits resource.
type Limits struct {
	// DailyAPIRequests is the DailyApiRequests entry.
	DailyAPIRequests Limit
	// All holds every entry by its key, DailyApiRequests included.
	All map[string]Limit
}

// Names returns the keys of All, sorted.
func (l *Limits) Names() []string {
	names := make([]string, 0, len(l.All))
	for k := range l.All {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// Limits reads the org's limits resource. It also updates Usage from the
// DailyApiRequests entry.
func (c *Client) Limits(ctx context.Context) (*Limits, error) {
	resp, err := c.do(ctx, &call{method: http.MethodGet, path: c.DataPath("limits"), kind: restCall})
	if err != nil {
		return nil, err
	}
	l, err := decodeLimits(resp)
	if err != nil {
		return nil, err
	}
	if d, ok := l.All["DailyApiRequests"]; ok && d.Max > 0 {
		c.mu.Lock()
		c.usage = APIUsage{Known: true, Used: d.Used(), Max: d.Max, Apps: c.usage.Apps}
		c.mu.Unlock()
	}
	return l, nil
}

// limitJSON is one limits entry: Max, Remaining and sub-limits.
type limitJSON map[string]json.RawMessage

// decodeLimits decodes the limits resource. Entries must be objects with
// numeric Max and Remaining; other object members are per-app sub-limits.
func decodeLimits(resp *response) (*Limits, error) {
	var raw map[string]json.RawMessage
	if err := decodeJSON(resp, &raw); err != nil {
		return nil, err
	}
	l := &Limits{All: make(map[string]Limit, len(raw))}
	for name, v := range raw {
		var entry limitJSON
		if json.Unmarshal(v, &entry) != nil || entry == nil {
			return nil, &ResponseError{Endpoint: resp.endpoint, Reason: fmt.Sprintf("limit %q is not an object", name)}
		}
		lim, err := decodeLimit(entry)
		if err != nil {
			return nil, &ResponseError{Endpoint: resp.endpoint, Reason: fmt.Sprintf("limit %q: %v", name, err)}
		}
		for sub, v := range entry {
			if sub == "Max" || sub == "Remaining" {
				continue
			}
			var obj limitJSON
			if json.Unmarshal(v, &obj) != nil {
				continue // not a sub-limit
			}
			s, err := decodeLimit(obj)
			if err != nil {
				return nil, &ResponseError{Endpoint: resp.endpoint, Reason: fmt.Sprintf("limit %q, app %q: %v", name, sub, err)}
			}
			if lim.Apps == nil {
				lim.Apps = map[string]Limit{}
			}
			lim.Apps[sub] = s
		}
		l.All[name] = lim
	}
	l.DailyAPIRequests = l.All["DailyApiRequests"]
	return l, nil
}

// decodeLimit reads Max and Remaining of one entry.
func decodeLimit(entry limitJSON) (Limit, error) {
	var l Limit
	for _, f := range []struct {
		name string
		dst  *int64
	}{{"Max", &l.Max}, {"Remaining", &l.Remaining}} {
		v, ok := entry[f.name]
		if !ok {
			return Limit{}, fmt.Errorf("no %s", f.name)
		}
		if err := json.Unmarshal(v, f.dst); err != nil {
			return Limit{}, fmt.Errorf("%s is not an integer", f.name)
		}
	}
	return l, nil
}

// Version is one API version the org serves.
type Version struct {
	Label   string `json:"label"`   // release name, such as "Summer '26"
	URL     string `json:"url"`     // such as "/services/data/v67.0"
	Version string `json:"version"` // such as "67.0"
}

// Versions lists the API versions the org serves. The call needs no token
// and does not count against the API limit.
func (c *Client) Versions(ctx context.Context) ([]Version, error) {
	resp, err := c.do(ctx, &call{method: http.MethodGet, path: "/services/data/", kind: publicCall})
	if err != nil {
		return nil, err
	}
	var vs []Version
	if err := decodeJSON(resp, &vs); err != nil {
		return nil, err
	}
	return vs, nil
}
