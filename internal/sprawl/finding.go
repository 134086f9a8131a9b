package sprawl

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Finding is one piece of Salesforce credential material found in a file
// or in a file of a commit. It never holds the credential itself: only
// where it is, what it is, a redacted excerpt and a fingerprint.
type Finding struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	Commit string `json:"commit,omitempty"` // set for findings in git history
	Kind   Kind   `json:"kind"`
	// Detector names the detector that found it, for example
	// "sfdx-auth-url" or "metadata-consumer-secret".
	Detector string `json:"detector"`
	// Encoding is "base64" when the credential was found inside base64
	// text, "base64x2" inside two layers, and so on; empty in plain text.
	Encoding   string     `json:"encoding,omitempty"`
	Confidence Confidence `json:"confidence"`
	// Excerpt is the line around the credential with every credential on
	// it redacted.
	Excerpt string `json:"excerpt"`
	// Fingerprint identifies the credential's value without revealing it;
	// allow-list files are keyed by it.
	Fingerprint string `json:"fingerprint"`
	// Managed is the managed secret the credential is a copy of, when a
	// Matcher recognised it.
	Managed *Match `json:"managed,omitempty"`
}

// Location renders where the finding is: file:line, with the commit when
// it was found in history.
func (f Finding) Location() string {
	loc := fmt.Sprintf("%s:%d", f.File, f.Line)
	if f.Commit != "" {
		loc += "@" + shortCommit(f.Commit)
	}
	return loc
}

func shortCommit(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}

// fingerprintPrefix names the fingerprint scheme and its version.
const fingerprintPrefix = "sfp1:"

// Fingerprint returns the fingerprint of a credential value: a truncated
// SHA-256 of the value under a fixed domain-separation prefix, printed as
// "sfp1:" and 32 hex digits. The same value always has the same
// fingerprint, wherever and however it was found.
func Fingerprint(value []byte) string {
	h := sha256.New()
	h.Write([]byte("steward sprawl fingerprint v1\x00"))
	h.Write(value)
	return fingerprintPrefix + hex.EncodeToString(h.Sum(nil)[:16])
}

// fileHit is a hit placed in a file, with what is needed to report it and
// nothing of the credential.
type fileHit struct {
	start, end  int
	layers      int
	kind        Kind
	detector    string
	confidence  Confidence
	fingerprint string
	redacted    string
	managed     *Match
}

// redact renders the span of a hit for an excerpt: at most its non-secret
// prefix and suffix, and an ellipsis for the rest.
func redact(span []byte, h hit, layers int) string {
	if layers > 0 {
		return fmt.Sprintf("[base64 %d chars]", len(span))
	}
	shown := min(h.shown, len(span))
	suffix := min(h.suffix, len(span)-shown)
	var b strings.Builder
	b.Write(span[:shown])
	b.WriteString("…")
	b.Write(span[len(span)-suffix:])
	if suffix == 0 {
		fmt.Fprintf(&b, "[%d chars]", len(span))
	}
	return b.String()
}

// excerptContext is how many bytes of the line an excerpt shows either
// side of the credential.
const excerptContext = 40

// findingsFor turns the hits of one file into findings: one per
// credential and line, with line numbers and redacted excerpts.
func findingsFor(buf []byte, file, commit string, hits []fileHit) []Finding {
	slices.SortFunc(hits, func(a, b fileHit) int {
		return cmp.Or(cmp.Compare(a.start, b.start), cmp.Compare(a.end, b.end), cmp.Compare(a.fingerprint, b.fingerprint))
	})
	out := make([]Finding, 0, len(hits))
	line, counted := 1, 0
	seen := map[string]bool{}
	for i, h := range hits {
		line += bytes.Count(buf[counted:h.start], newline)
		counted = h.start
		key := fmt.Sprintf("%d\x00%s", line, h.fingerprint)
		if seen[key] {
			continue
		}
		seen[key] = true
		f := Finding{
			File:        file,
			Line:        line,
			Commit:      commit,
			Kind:        h.kind,
			Detector:    h.detector,
			Confidence:  h.confidence,
			Excerpt:     excerpt(buf, hits, i),
			Fingerprint: h.fingerprint,
			Managed:     h.managed,
		}
		switch {
		case h.layers == 1:
			f.Encoding = "base64"
		case h.layers > 1:
			f.Encoding = fmt.Sprintf("base64x%d", h.layers)
		}
		out = append(out, f)
	}
	return out
}

var newline = []byte("\n")

// excerpt renders the text around hits[i] on its line, with every hit
// that overlaps it replaced by its redacted form.
func excerpt(buf []byte, hits []fileHit, i int) string {
	h := hits[i]
	lo := h.start
	for lo > 0 && h.start-lo < excerptContext && buf[lo-1] != '\n' {
		lo--
	}
	hi := h.end
	for hi < len(buf) && hi-h.end < excerptContext && buf[hi] != '\n' && buf[hi] != '\r' {
		hi++
	}
	// Widen the window over hits it cuts, so that none shows in part.
	for changed := true; changed; {
		changed = false
		for _, o := range hits {
			if o.start < hi && o.end > lo && (o.start < lo || o.end > hi) {
				lo, hi = min(lo, o.start), max(hi, o.end)
				changed = true
			}
		}
	}
	var b strings.Builder
	if lo > 0 && buf[lo-1] != '\n' {
		b.WriteString("…")
	}
	at := lo
	for _, o := range hits {
		if o.start < at || o.start >= hi {
			continue
		}
		writeClean(&b, buf[at:o.start])
		b.WriteString(o.redacted)
		at = o.end
	}
	if at < hi {
		writeClean(&b, buf[at:hi])
	}
	if hi < len(buf) && buf[hi] != '\n' && buf[hi] != '\r' {
		b.WriteString("…")
	}
	return strings.TrimSpace(b.String())
}

// writeClean writes text for display: invalid UTF-8 and control
// characters become U+FFFD, tabs and line breaks become spaces.
func writeClean(b *strings.Builder, text []byte) {
	for len(text) > 0 {
		r, n := utf8.DecodeRune(text)
		text = text[n:]
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			b.WriteByte(' ')
		case r == utf8.RuneError || unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r):
			b.WriteRune(unicode.ReplacementChar)
		default:
			b.WriteRune(r)
		}
	}
}

// sortFindings orders findings by file, commit, line, detector and
// fingerprint.
func sortFindings(fs []Finding) {
	slices.SortFunc(fs, func(a, b Finding) int {
		return cmp.Or(
			cmp.Compare(a.File, b.File),
			cmp.Compare(a.Commit, b.Commit),
			cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Detector, b.Detector),
			cmp.Compare(a.Fingerprint, b.Fingerprint),
		)
	})
}
