package policy

import (
	"fmt"
	"slices"
	"strings"

	"github.com/steward-dev/steward/internal/snapshot"
)

// capabilities names the snapshot capabilities a rule may require, as
// they appear in the snapshot's JSON.
var capabilities = map[string]func(snapshot.Capabilities) bool{
	"inventory":    func(c snapshot.Capabilities) bool { return c.Inventory },
	"metadata":     func(c snapshot.Capabilities) bool { return c.Metadata },
	"live":         func(c snapshot.Capabilities) bool { return c.Live },
	"loginHistory": func(c snapshot.Capabilities) bool { return c.LoginHistory },
	"secretStore":  func(c snapshot.Capabilities) bool { return c.SecretStore },
	"roster":       func(c snapshot.Capabilities) bool { return c.Roster },
}

// runs reports whether the rule applies to a snapshot with these
// capabilities: a live rule needs live data, and a rule that requires
// capabilities (custom.requires in its METADATA) needs every one of them.
func (r *Rule) runs(c snapshot.Capabilities) bool {
	if r.Live && !c.Live {
		return false
	}
	for _, name := range r.Requires {
		if !capabilities[name](c) {
			return false
		}
	}
	return true
}

// readRequires reads custom.requires: a list of capability names.
func readRequires(v any) ([]string, error) {
	if v == nil {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("custom.requires must be a list of capabilities (%s)", knownCapabilities())
	}
	var out []string
	for _, x := range list {
		name, _ := x.(string)
		if capabilities[name] == nil {
			return nil, fmt.Errorf("custom.requires: unknown capability %v; use one of %s", x, knownCapabilities())
		}
		out = append(out, name)
	}
	return out, nil
}

func knownCapabilities() string {
	names := make([]string, 0, len(capabilities))
	for n := range capabilities {
		names = append(names, n)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}
