package report

import (
	"strings"
	"testing"
)

func TestMarkdownCellEscaping(t *testing.T) {
	tests := []struct{ in, want string }{
		{"a | b", `a \| b`},
		{"one\ntwo\r\nthree", "one<br>two<br>three"},
		{`ends in \`, `ends in \\`},
		{"<script>", "&lt;script&gt;"},
	}
	for _, tt := range tests {
		if got := mdCell(tt.in); got != tt.want {
			t.Errorf("mdCell(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got, want := mdCode("a|b`c"), "``a\\|b`c``"; got != want {
		t.Errorf("mdCode = %q, want %q", got, want)
	}
}

// TestMarkdownTableRows checks that every table row has as many cells as
// its header, whatever the messages hold.
func TestMarkdownTableRows(t *testing.T) {
	r := testReport()
	r.Findings[0].Message = "pipes | and\nnewlines | everywhere \\"
	out := string(render(t, "markdown", r, Options{}))
	cells := func(line string) int {
		line = strings.ReplaceAll(line, `\\`, "")
		line = strings.ReplaceAll(line, `\|`, "")
		return strings.Count(line, "|") - 1
	}
	want := 0
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "|") {
			want = 0
			continue
		}
		if want == 0 {
			want = cells(line)
			continue
		}
		if got := cells(line); got != want {
			t.Errorf("row has %d cells, header %d: %q", got, want, line)
		}
	}
}
