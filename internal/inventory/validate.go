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
	var unique []*loadedDoc
	for _, d := range l.docs {
		key := d.kind + "/" + d.name
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
			if owner := d.identity.Spec.Owner; owner != "" && first[KindTeam+"/"+owner] == nil {
				l.errs = append(l.errs, &Error{File: d.loc.File, Line: d.refPos.line, Column: d.refPos.col,
					Msg: "spec.owner: no Team with this name is defined"})
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
		case first[KindIdentity+"/"+id] == nil:
			l.errs = append(l.errs, &Error{File: d.loc.File, Line: d.refPos.line, Column: d.refPos.col,
				Msg: "spec.identity: no Identity with this name is defined"})
		case kept[id]:
			inv.Exceptions = append(inv.Exceptions, d.exception)
		}
	}
	if len(l.errs) == 0 {
		return inv, nil
	}
	sortErrors(l.errs)
	return inv, ErrorList(l.errs)
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
