package inventory

import (
	"fmt"
	"regexp"
)

var builtinRule = regexp.MustCompile(builtinRulePattern)

// finish runs the checks across documents and builds the Inventory.
func (l *loader) finish() (*Inventory, error) {
	inv := &Inventory{}
	first := map[string]*loadedDoc{}
	defined := map[string]bool{} // kind/name of every document, valid or not
	var unique, invalid []*loadedDoc
	for _, d := range l.docs {
		key := d.kind + "/" + d.name
		if d.name != "" {
			defined[key] = true
		}
		if d.invalid {
			invalid = append(invalid, d)
			continue
		}
		if f, dup := first[key]; dup {
			l.errs = append(l.errs, &Error{File: d.loc.File, Line: d.namePos.line, Column: d.namePos.col,
				Msg: fmt.Sprintf("metadata.name: duplicate %s name, first defined at %s:%d", d.kind, f.loc.File, f.loc.Line)})
			continue
		}
		first[key] = d
		unique = append(unique, d)
	}
	kept := map[string]bool{} // identities kept in the inventory
	for _, d := range unique {
		switch {
		case d.team != nil:
			inv.Teams = append(inv.Teams, d.team)
		case d.identity != nil:
			// An owner that is undefined is an error; one whose manifest is
			// invalid was reported there, and its identities stay out too,
			// so every kept identity's owner is in the inventory.
			if l.dangling(d, defined) || (d.ref != "" && first[KindTeam+"/"+d.ref] == nil) {
				continue
			}
			kept[d.name] = true
			inv.Identities = append(inv.Identities, d.identity)
		}
	}
	for _, d := range unique {
		if d.exception == nil {
			continue
		}
		id := d.exception.Spec.Identity
		switch {
		case l.dangling(d, defined):
		case kept[id], id == "" && d.exception.Spec.Resource != "":
			inv.Exceptions = append(inv.Exceptions, d.exception)
		}
	}
	// Documents with shape errors still get their references checked, so
	// one run reports every problem.
	for _, d := range invalid {
		l.dangling(d, defined)
	}
	if len(l.errs) == 0 {
		return inv, nil
	}
	sortErrors(l.errs)
	return inv, ErrorList(l.errs)
}

// dangling reports a document whose reference names nothing defined.
func (l *loader) dangling(d *loadedDoc, defined map[string]bool) bool {
	if d.ref == "" || defined[d.refKind+"/"+d.ref] {
		return false
	}
	l.errs = append(l.errs, &Error{File: d.loc.File, Line: d.refPos.line, Column: d.refPos.col,
		Msg: d.refField + ": no " + d.refKind + " with this name is defined"})
	return true
}

// Identity returns the identity with the given name, or nil.
func (inv *Inventory) Identity(name string) *Identity {
	for _, id := range inv.Identities {
		if id.Metadata.Name == name {
			return id
		}
	}
	return nil
}

// Team returns the team with the given name, or nil.
func (inv *Inventory) Team(name string) *Team {
	for _, t := range inv.Teams {
		if t.Metadata.Name == name {
			return t
		}
	}
	return nil
}
