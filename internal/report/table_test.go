package report

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/steward-dev/steward/internal/policy"
)

var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

func TestNoEscapesWithoutColor(t *testing.T) {
	for _, format := range Formats() {
		if out := render(t, format, testReport(), Options{}); bytes.ContainsRune(out, '\x1b') {
			t.Errorf("%s output without colour holds an escape sequence:\n%s", format, out)
		}
	}
	for _, format := range []string{"json", "sarif", "markdown"} {
		if out := render(t, format, testReport(), Options{Color: true}); bytes.ContainsRune(out, '\x1b') {
			t.Errorf("%s output holds an escape sequence even though only the table is coloured", format)
		}
	}
}

// TestColorKeepsAlignment checks that colour only adds escape sequences:
// without them the coloured table is the plain one, columns included.
func TestColorKeepsAlignment(t *testing.T) {
	plain := render(t, "table", testReport(), Options{})
	colored := render(t, "table", testReport(), Options{Color: true})
	if !bytes.Contains(colored, []byte(severityColors["critical"]+"critical"+resetColor)) {
		t.Errorf("coloured table has no coloured critical severity:\n%q", colored)
	}
	if diff := cmp.Diff(string(plain), ansi.ReplaceAllString(string(colored), "")); diff != "" {
		t.Errorf("coloured table differs from the plain one once escapes are removed (-plain +stripped):\n%s", diff)
	}
}

func TestTableNoFindings(t *testing.T) {
	r := &Report{Tool: Tool{Name: "steward", Version: "1"}, Suppressed: testReport().Suppressed}
	got := string(render(t, "table", r, Options{}))
	want := "No findings.\n\n0 findings: 0 critical, 0 high, 0 medium, 0 low, 0 info; 1 suppressed; 0 input errors, 0 warnings\n"
	if got != want {
		t.Errorf("table for no findings:\n got %q\nwant %q", got, want)
	}
}

func TestTableNeutralisesControlCharacters(t *testing.T) {
	r := &Report{Findings: []policy.Finding{{
		Rule: "X-01", Severity: "high", Message: "line one\nline\ttwo \x1b[2Jcleared \u202eesrever\xff",
		Resource: policy.Resource{Kind: "ConnectedApp", Name: "App\x1b]0;title\x07"},
	}}}
	got := string(render(t, "table", r, Options{}))
	if strings.ContainsAny(got, "\x1b\x07\u202e\t") || !strings.Contains(got, "line one line two") {
		t.Errorf("table passed control characters through:\n%q", got)
	}
}

func TestColorDecision(t *testing.T) {
	env := func(vars map[string]string) func(string) string {
		return func(k string) string { return vars[k] }
	}
	tests := []struct {
		name string
		tty  bool
		vars map[string]string
		want bool
	}{
		{"terminal", true, map[string]string{"TERM": "xterm-256color"}, true},
		{"terminal without TERM", true, nil, true},
		{"NO_COLOR set", true, map[string]string{"NO_COLOR": "1", "TERM": "xterm"}, false},
		{"NO_COLOR empty", true, map[string]string{"NO_COLOR": "", "TERM": "xterm"}, true},
		{"TERM dumb", true, map[string]string{"TERM": "dumb"}, false},
		{"not a terminal", false, map[string]string{"TERM": "xterm"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ColorAllowed(tt.tty, env(tt.vars)); got != tt.want {
				t.Errorf("ColorAllowed(%v, %v) = %v, want %v", tt.tty, tt.vars, got, tt.want)
			}
		})
	}

	t.Run("regular file", func(t *testing.T) {
		f, err := os.Create(filepath.Join(t.TempDir(), "out"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if IsTerminal(f) {
			t.Error("IsTerminal(regular file) = true")
		}
	})
	t.Run("pipe", func(t *testing.T) {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		defer w.Close()
		if IsTerminal(w) {
			t.Error("IsTerminal(pipe) = true")
		}
	})
	t.Run("nil file", func(t *testing.T) {
		var f *os.File
		if IsTerminal(f) || IsTerminal(nil) {
			t.Error("IsTerminal(nil) = true")
		}
	})
	t.Run("pseudo-terminal", func(t *testing.T) {
		f, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
		if err != nil {
			t.Skipf("no pseudo-terminal to test with: %v", err)
		}
		defer f.Close()
		if !IsTerminal(f) {
			t.Skip("/dev/ptmx is not reported as a terminal here")
		}
		if ColorAllowed(IsTerminal(f), env(map[string]string{"TERM": "xterm", "NO_COLOR": "1"})) {
			t.Error("colour on a terminal with NO_COLOR")
		}
		if ColorAllowed(IsTerminal(f), env(map[string]string{"TERM": "dumb"})) {
			t.Error("colour on a terminal with TERM=dumb")
		}
	})
}
