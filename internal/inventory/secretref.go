package inventory

import (
	"math"
	"regexp"
	"strings"
)

// MaxSecretRefLength is the longest secret reference accepted.
const MaxSecretRefLength = 253

// secretRefPattern is what a secret reference looks like: a name in
// Steward's secret store (billing-sync-prod) or a path
// (salesforce/billing-sync-prod).
var secretRefPattern = regexp.MustCompile(`^[a-z0-9]([-a-z0-9._/]*[a-z0-9])?$`)

// InlineValue reports whether credential.secret holds something that looks
// like a secret value rather than a reference to one (see
// LooksLikeSecretValue). Load accepts such a manifest; a posture rule reports
// it. The value itself must never be logged or copied anywhere.
func (c Credential) InlineValue() bool {
	return c.Secret != "" && LooksLikeSecretValue(c.Secret)
}

// SecretRef returns the secret reference, or "" when there is none or when
// credential.secret looks like an inline value.
func (c Credential) SecretRef() string {
	if c.InlineValue() {
		return ""
	}
	return c.Secret
}

// LooksLikeSecretValue reports whether s, found where a secret reference is
// expected, looks like a credential instead. It is true when s is not a valid
// reference (lower-case letters, digits and "-._/", starting and ending with
// a letter or digit, at most MaxSecretRefLength characters), and also for
// valid-looking strings that have the shape of a credential: 32 or more hex
// digits, 16 or more decimal digits (older Salesforce consumer secrets are 19
// digits), a Salesforce consumer key (3MVG9...), a PEM block, or a long
// random-looking token. The empty string is false.
func LooksLikeSecretValue(s string) bool {
	if s == "" {
		return false
	}
	if len(s) > MaxSecretRefLength || !secretRefPattern.MatchString(s) {
		return true
	}
	if strings.Contains(s, "3MVG9") || strings.Contains(s, "-----BEGIN") {
		return true
	}
	for _, part := range strings.FieldsFunc(s, isRefSeparator) {
		if credentialShaped(part) {
			return true
		}
	}
	return randomToken(s)
}

// isRefSeparator splits a reference into its path segments.
func isRefSeparator(r rune) bool {
	return r == '/' || r == '.'
}

// credentialShaped reports whether one path segment is all hex digits (32 or
// more, with at least one letter and one digit: a hex-encoded key) or all
// decimal digits (16 or more).
func credentialShaped(seg string) bool {
	digits, hexLetters := 0, 0
	for i := 0; i < len(seg); i++ {
		switch c := seg[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c >= 'a' && c <= 'f':
			hexLetters++
		default:
			return false
		}
	}
	if hexLetters == 0 {
		return digits >= 16
	}
	return len(seg) >= 32 && digits > 0
}

// randomToken reports whether s is at least 24 characters long and holds a
// run of 16 or more letters and digits that mixes both classes (at least
// three of each) and has high Shannon entropy. Reference names are made of
// words, which are short, rarely carry digits and repeat letters.
func randomToken(s string) bool {
	if len(s) < 24 {
		return false
	}
	for _, run := range strings.FieldsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
	}) {
		if len(run) < 16 {
			continue
		}
		digits := 0
		for i := 0; i < len(run); i++ {
			if run[i] >= '0' && run[i] <= '9' {
				digits++
			}
		}
		if digits >= 3 && len(run)-digits >= 3 && shannonEntropy(run) >= 3.5 {
			return true
		}
	}
	return false
}

// shannonEntropy returns the entropy of s in bits per byte.
func shannonEntropy(s string) float64 {
	var counts [256]int
	for i := 0; i < len(s); i++ {
		counts[s[i]]++
	}
	n := float64(len(s))
	h := 0.0
	for _, c := range counts {
		if c == 0 {
			continue
		}
		p := float64(c) / n
		h -= p * math.Log2(p)
	}
	return h
}
