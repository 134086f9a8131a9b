package report

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/goccy/go-yaml"
)

// The framework catalogues name and title the controls of each framework a
// compliance report can be written for. They hold titles only: which rule
// covers which control comes from the rules' METADATA (their controls
// list), never from here.
//
//go:embed frameworks/*.yaml
var frameworkFS embed.FS

// Framework is a control framework's catalogue: the controls the policy
// pack refers to, and those close to non-human identities that no rule
// covers, in the framework's own order.
type Framework struct {
	ID      string `json:"id" yaml:"id"`           // the --framework name: owasp-nhi, nist-csf, cis, nist-800-53
	Name    string `json:"name" yaml:"name"`       // "NIST Cybersecurity Framework"
	Version string `json:"version" yaml:"version"` // "2.0"
	// Reference is the prefix rules write before a control ID in their
	// controls list ("NIST CSF " in "NIST CSF PR.AA-05").
	Reference string    `json:"reference" yaml:"reference"`
	Source    string    `json:"source" yaml:"source"` // where the framework is published
	Controls  []Control `json:"-" yaml:"controls"`
}

// Control is one control, safeguard, subcategory or item of a framework.
type Control struct {
	ID    string `json:"id" yaml:"id"`
	Title string `json:"title" yaml:"title"`
	// Group is the function, family or control the item belongs to
	// ("Protect", "AC Access Control"); empty for a flat list.
	Group string `json:"group,omitempty" yaml:"group"`
}

// Title is the framework's name and version: "NIST Cybersecurity
// Framework 2.0".
func (f *Framework) Title() string {
	if f.Version == "" {
		return f.Name
	}
	return f.Name + " " + f.Version
}

// ControlID returns the control a rule's reference names in this
// framework ("PR.AA-05" for "NIST CSF PR.AA-05"), or false when the
// reference belongs to another framework.
func (f *Framework) ControlID(ref string) (string, bool) {
	id, ok := strings.CutPrefix(ref, f.Reference)
	if !ok || id == "" {
		return "", false
	}
	return id, true
}

// builtinFrameworks parses the embedded catalogues once.
var builtinFrameworks = sync.OnceValues(func() (map[string]*Framework, error) {
	out := map[string]*Framework{}
	err := fs.WalkDir(frameworkFS, "frameworks", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := frameworkFS.ReadFile(p)
		if err != nil {
			return err
		}
		f, err := decodeFramework(path.Base(p), data)
		if err != nil {
			return err
		}
		if _, dup := out[f.ID]; dup {
			return fmt.Errorf("%s: framework %s is defined twice", p, f.ID)
		}
		out[f.ID] = f
		return nil
	})
	return out, err
})

// Frameworks returns the IDs of the built-in frameworks, sorted.
func Frameworks() []string {
	all, err := builtinFrameworks()
	if err != nil {
		return nil
	}
	ids := make([]string, 0, len(all))
	for id := range all {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// LoadFramework returns the built-in catalogue of the framework with this
// ID. The caller may keep and modify it.
func LoadFramework(id string) (*Framework, error) {
	all, err := builtinFrameworks()
	if err != nil {
		return nil, fmt.Errorf("read the framework catalogues: %w", err)
	}
	f, ok := all[id]
	if !ok {
		return nil, fmt.Errorf("unknown framework %q: use one of %s", id, strings.Join(Frameworks(), ", "))
	}
	c := *f
	c.Controls = slices.Clone(f.Controls)
	return &c, nil
}

// decodeFramework reads and checks one catalogue file: strict fields, an
// ID, a name, a reference prefix, and controls with unique IDs and titles.
func decodeFramework(name string, data []byte) (*Framework, error) {
	var f Framework
	if err := yaml.UnmarshalWithOptions(data, &f, yaml.Strict(), yaml.DisallowUnknownField()); err != nil {
		return nil, fmt.Errorf("%s: %s", name, yaml.FormatError(err, false, false))
	}
	var errs []error
	if f.ID == "" || f.Name == "" || strings.TrimSpace(f.Reference) == "" {
		errs = append(errs, fmt.Errorf("%s: a framework needs an id, a name and a reference prefix", name))
	}
	seen := map[string]bool{}
	for i, c := range f.Controls {
		switch {
		case c.ID == "" || c.Title == "":
			errs = append(errs, fmt.Errorf("%s: control %d needs an id and a title", name, i+1))
		case seen[c.ID]:
			errs = append(errs, fmt.Errorf("%s: control %s is listed twice", name, c.ID))
		}
		seen[c.ID] = true
	}
	if len(f.Controls) == 0 {
		errs = append(errs, fmt.Errorf("%s: no controls", name))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &f, nil
}
