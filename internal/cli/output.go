package cli

import (
	"fmt"
	"io"

	"github.com/steward-dev/steward/internal/report"
)

// colorFor reports whether output to w may use colour: only on a terminal,
// never with NO_COLOR set or TERM=dumb.
func colorFor(env Env, w io.Writer) bool {
	tty := env.IsTerminal != nil && env.IsTerminal(w)
	return report.ColorAllowed(tty, env.Getenv)
}

// status shows which phase a long command is in, on one line of stderr that
// it rewrites, and only when stderr is a terminal.
type status struct {
	w       io.Writer
	enabled bool
}

func newStatus(env Env) *status {
	return &status{w: env.Stderr, enabled: env.IsTerminal != nil && env.IsTerminal(env.Stderr)}
}

// step replaces the status line with msg.
func (s *status) step(msg string) {
	if s.enabled {
		fmt.Fprintf(s.w, "\r\x1b[2Ksteward: %s…", msg)
	}
}

// done clears the status line.
func (s *status) done() {
	if s.enabled {
		fmt.Fprint(s.w, "\r\x1b[2K")
	}
}
