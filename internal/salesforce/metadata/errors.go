package metadata

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Sentinel errors wrapped by FileError for the rejections a caller may want to
// tell apart with errors.Is.
var (
	// ErrDTD: the file contains a DOCTYPE, an entity declaration or another
	// markup declaration. Metadata files never need one, and entity expansion
	// is the classic XML denial-of-service and file-disclosure vector.
	ErrDTD = errors.New("DTDs and entities are not allowed")
	// ErrTooLarge: the file is over Options.MaxFileSize.
	ErrTooLarge = errors.New("file too large")
	// ErrInvalidUTF8: the file is not valid UTF-8.
	ErrInvalidUTF8 = errors.New("invalid UTF-8")
	// ErrTooComplex: the file nests elements too deeply or has too many.
	ErrTooComplex = errors.New("document too complex")
	// ErrMalformed: the file is not well-formed XML.
	ErrMalformed = errors.New("malformed XML")
	// ErrWrongRoot: the root element does not match the file's suffix.
	ErrWrongRoot = errors.New("wrong root element")
)

// FileError is a problem that stopped one file from being read or parsed.
// Line is 0 when the problem is not tied to a line (an unreadable file).
type FileError struct {
	File string
	Line int
	Err  error
}

// Error renders the error as "file:line: message", or "file: message" when
// Line is 0.
func (e *FileError) Error() string {
	msg := "unknown error"
	if e.Err != nil {
		msg = e.Err.Error()
	}
	return formatPos(e.File, e.Line) + ": " + msg
}

// Unwrap returns the underlying error.
func (e *FileError) Unwrap() error { return e.Err }

// Errors is the error Load returns when one or more files failed. It holds one
// *FileError per failed file, sorted by file and line. Get at it with
//
//	var errs metadata.Errors
//	if errors.As(err, &errs) {
//		for _, fe := range errs { ... }
//	}
//
// errors.As with a **FileError target finds the first one, and errors.Is
// sees through to every FileError's cause.
type Errors []*FileError

// Error renders one FileError per line.
func (e Errors) Error() string {
	var b strings.Builder
	for i, fe := range e {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(fe.Error())
	}
	return b.String()
}

// Unwrap returns the individual FileErrors, for errors.Is and errors.As.
func (e Errors) Unwrap() []error {
	out := make([]error, len(e))
	for i, fe := range e {
		out[i] = fe
	}
	return out
}

// formatPos renders a position as "file:line", or "file" when line is 0.
func formatPos(file string, line int) string {
	if line <= 0 {
		return file
	}
	return file + ":" + strconv.Itoa(line)
}

// formatSize renders a byte count for messages: "10 MiB" or "64 KiB" when it
// is a whole number of MiB or KiB, "N bytes" otherwise.
func formatSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	default:
		return fmt.Sprintf("%d bytes", n)
	}
}
