package sprawl

import (
	"strings"
	"testing"
)

func TestGeneratedSecretShape(t *testing.T) {
	t.Parallel()
	tests := []struct {
		v         string
		upperOnly bool
		want      bool
	}{
		{"2293692252599639223", false, true}, // five distinct digits: still random enough
		{"1955279925675241571", false, true},
		{"1111111111222222222", false, false},
		{"123456789012345678", false, false}, // 18 digits
		{strings.Repeat("0123456789ABCDEF", 4), true, true},
		{strings.Repeat("0123456789abcdef", 4), true, false},
		{strings.Repeat("0123456789abcdef", 4), false, true},
		{strings.Repeat("AB", 32), false, false},
		{strings.Repeat("0123456789ABCDEG", 4), false, false},
	}
	for _, tc := range tests {
		if got := generatedSecretShape([]byte(tc.v), tc.upperOnly); got != tc.want {
			t.Errorf("generatedSecretShape(%q, %v) = %v, want %v", tc.v, tc.upperOnly, got, tc.want)
		}
	}
}

func TestPlaceholder(t *testing.T) {
	t.Parallel()
	for v, want := range map[string]bool{
		"YOUR_CONSUMER_SECRET":   true,
		"${SF_SECRET}":           true,
		"3MVG9AOp4k...":          true,
		"<client-secret>":        true,
		"changeme123":            true,
		"Zk3q9VbX2mLw7RtY":       false,
		"your":                   false, // too short a word to judge by
		"":                       true,
		"EXAMPLE0NOT0A0REAL0KEY": true,
	} {
		if got := placeholder([]byte(v)); got != want {
			t.Errorf("placeholder(%q) = %v, want %v", v, got, want)
		}
	}
}

func TestLineWindow(t *testing.T) {
	t.Parallel()
	buf := []byte("l1\nl2\nl3\nl4\nl5\n")
	i := strings.Index(string(buf), "l3")
	for n, want := range map[int]string{0: "l3\n", 1: "l2\nl3\nl4\n", 5: string(buf)} {
		lo, hi := lineWindow(buf, i, n)
		if got := string(buf[lo:hi]); got != want {
			t.Errorf("lineWindow(n=%d) = %q, want %q", n, got, want)
		}
	}
	long := []byte(strings.Repeat("x", 10*maxContextSpan))
	if lo, hi := lineWindow(long, 5*maxContextSpan, 3); hi-lo != 2*maxContextSpan {
		t.Errorf("window on one long line spans %d bytes, want %d", hi-lo, 2*maxContextSpan)
	}
}

func TestContainsFold(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]bool{
		"Login to SalesForce now": true,
		"SALESFORCE":              true,
		"salesforc":               false,
		"":                        false,
	} {
		if got := containsFold([]byte(s), "salesforce"); got != want {
			t.Errorf("containsFold(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestForEachRunFindsEveryLongRun(t *testing.T) {
	t.Parallel()
	// Runs of every length around the threshold, at every offset modulo
	// the stride, must be found exactly when they are long enough.
	for n := minTokenRun - 2; n <= minTokenRun+45; n++ {
		for off := 0; off < minTokenRun; off++ {
			buf := []byte(strings.Repeat(" ", off) + strings.Repeat("a", n) + " x")
			var got [][2]int
			forEachRun(buf, clsKey, minTokenRun, func(s, e int) { got = append(got, [2]int{s, e}) })
			want := n >= minTokenRun
			if want && (len(got) != 1 || got[0] != [2]int{off, off + n}) || !want && len(got) != 0 {
				t.Fatalf("run of %d at %d: got %v", n, off, got)
			}
		}
	}
}

func TestForEachBase64RunFindsWrappedBlocks(t *testing.T) {
	t.Parallel()
	line := strings.Repeat("QUJD", 19) // 76 characters
	for off := range base64Stride + 1 {
		text := strings.Repeat("-", off) + "\n  " + line + "\n  " + line + "\n  QUJD==\nend"
		var runs []string
		forEachBase64Run([]byte(text), func(s, e int) { runs = append(runs, text[s:e]) })
		if len(runs) != 1 || !strings.HasPrefix(runs[0], line) || !strings.HasSuffix(runs[0], "QUJD") {
			t.Fatalf("offset %d: runs %q", off, runs)
		}
		if dec := decodeBase64([]byte(runs[0])); !strings.HasPrefix(string(dec), "ABCABC") || len(dec) != 3*(2*19+1) {
			t.Fatalf("offset %d: decoded %q", off, dec)
		}
	}
}
