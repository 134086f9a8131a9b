package sprawl

import (
	"bytes"
	"encoding/base64"
)

const (
	// minBase64Run is the shortest base64 text worth decoding: the
	// shortest credential that can be recognised inside it (a client_id
	// of 80 characters, or an 80-character opaque token) encodes to at
	// least 107 characters.
	minBase64Run = 96
	// base64Stride is how far apart base64 runs are sampled. Every run of
	// minBase64Run characters, and every full line of base64 wrapped at
	// 64 or 76 columns, holds at least one sampled offset.
	base64Stride = 48
	// maxLayers is how many base64 layers are decoded, one inside another.
	maxLayers = 4
	// printableProbe is how much of a decoded run is checked for text
	// before the rest is decoded.
	printableProbe = 4096
)

// wrapWidths are the line widths base64 tools wrap at (PEM and MIME).
var wrapWidths = [...]int{64, 76}

// forEachBase64Run calls fn with the bounds of every run of base64 text in
// buf of at least minBase64Run characters. A run is either one unbroken
// stretch or a block of lines wrapped at a usual width (each line the full
// width but the last, optionally indented); fn decodes with the line
// breaks and indentation removed. Instead of classifying every byte, it
// samples every base64Stride-th byte and grows a run around each sample
// that lands in one, so ordinary text, where base64 characters come in
// short words, costs a fraction of a pass.
func forEachBase64Run(buf []byte, fn func(s, e int)) {
	next := 0
	for p := 0; p < len(buf); p += base64Stride {
		if p < next || !is(buf[p], clsB64) {
			continue
		}
		s := p
		for s > next && is(buf[s-1], clsB64) {
			s--
		}
		e := runEnd(buf, p, clsB64, len(buf))
		n := e - s
		if w := e - s; isWrapWidth(w) && lineStartsAt(buf, s) {
			for {
				ls, le, ok := nextWrappedLine(buf, e, w)
				if !ok {
					break
				}
				n += le - ls
				e = le
				if le-ls < w {
					break
				}
			}
		}
		next = e
		if n >= minBase64Run {
			fn(s, e)
		}
	}
}

func isWrapWidth(w int) bool {
	for _, ww := range wrapWidths {
		if w == ww {
			return true
		}
	}
	return false
}

// lineStartsAt reports whether s begins a line, after optional
// indentation.
func lineStartsAt(buf []byte, s int) bool {
	for s > 0 && (buf[s-1] == ' ' || buf[s-1] == '\t') {
		s--
	}
	return s == 0 || buf[s-1] == '\n'
}

// nextWrappedLine returns the base64 run on the line after the one ending
// at e, when that line holds nothing else and is at most w characters.
func nextWrappedLine(buf []byte, e, w int) (s, end int, ok bool) {
	i := e
	if i < len(buf) && buf[i] == '\r' {
		i++
	}
	if i >= len(buf) || buf[i] != '\n' {
		return 0, 0, false
	}
	i++
	for i < len(buf) && (buf[i] == ' ' || buf[i] == '\t') {
		i++
	}
	end = runEnd(buf, i, clsB64, w+1)
	if end == i || end-i > w {
		return 0, 0, false
	}
	t := end
	for t < len(buf) && buf[t] == '=' {
		t++
	}
	if t < len(buf) && buf[t] != '\n' && buf[t] != '\r' {
		return 0, 0, false
	}
	return i, end, true
}

// decodeBase64 decodes a run found by forEachBase64Run, with line breaks
// and indentation removed, in whichever alphabet it uses. It returns nil
// when the run is not base64 or does not decode to text.
func decodeBase64(run []byte) []byte {
	text := run
	if bytes.ContainsAny(run, " \t\r\n") {
		text = make([]byte, 0, len(run))
		for _, c := range run {
			if is(c, clsB64) {
				text = append(text, c)
			}
		}
	}
	enc := base64.RawStdEncoding
	if bytes.ContainsAny(text, "-_") {
		if bytes.ContainsAny(text, "+/") {
			return nil
		}
		enc = base64.RawURLEncoding
	}
	if len(text)%4 == 1 {
		text = text[:len(text)-1]
	}
	// Decode a probe first: most long runs in source code (hashes,
	// minified identifiers, paths) decode to noise.
	probe := text[:min(len(text), printableProbe/3*4)]
	out := make([]byte, enc.DecodedLen(len(text)))
	n, err := enc.Decode(out, probe)
	if err != nil || !printable(out[:n]) {
		return nil
	}
	if len(probe) < len(text) {
		m, err := enc.Decode(out[n:], text[len(probe):])
		if err != nil {
			return nil
		}
		n += m
	}
	return out[:n]
}

// printable reports whether b is text: at least 95 % printable ASCII,
// tabs and line breaks.
func printable(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	bad := 0
	for _, c := range b {
		if (c < 0x20 || c > 0x7e) && c != '\t' && c != '\n' && c != '\r' {
			bad++
		}
	}
	return bad*20 <= len(b)
}
