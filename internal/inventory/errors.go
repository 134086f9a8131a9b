package inventory

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Error is one problem found while loading manifests, with the position it
// was found at. Line and Column are 1-based; Column is 0 when unknown, and
// Line is 0 for a problem with a whole file or directory (unreadable, too
// large, holding no manifest). Msg never contains a field value or any other
// text copied from the manifest source, so an Error is safe to print even
// when a secret was pasted into a manifest.
type Error struct {
	File   string
	Line   int
	Column int
	Msg    string
}

// Error formats the error as "file:line:col: msg", leaving out the column
// when it is unknown and the line when the error is about the whole file.
func (e *Error) Error() string {
	switch {
	case e.File == "":
		return e.Msg
	case e.Line <= 0:
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	case e.Column <= 0:
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	default:
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Msg)
	}
}

// ErrorList is the error Load returns: every problem found, sorted by file,
// line and column. Use Errors to get at the entries from a plain error value.
type ErrorList []*Error

// Error joins the entries, one per line.
func (l ErrorList) Error() string {
	var b strings.Builder
	for i, e := range l {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Unwrap returns the entries, so that errors.As finds an *Error in the list.
func (l ErrorList) Unwrap() []error {
	errs := make([]error, len(l))
	for i, e := range l {
		errs[i] = e
	}
	return errs
}

// Errors returns every *Error held by err: the entries of an ErrorList (also
// when wrapped, for example with fmt.Errorf and %w), or err itself when it is
// an *Error. It returns nil when err holds none.
func Errors(err error) []*Error {
	var list ErrorList
	if errors.As(err, &list) {
		return list
	}
	var e *Error
	if errors.As(err, &e) {
		return []*Error{e}
	}
	return nil
}

// sortErrors orders errors by file, line, column and message.
func sortErrors(errs []*Error) {
	slices.SortStableFunc(errs, func(a, b *Error) int {
		return cmp.Or(
			cmp.Compare(a.File, b.File),
			cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Column, b.Column),
			cmp.Compare(a.Msg, b.Msg),
		)
	})
}
