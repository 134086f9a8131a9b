package sprawl

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
)

// AllowList is a set of credential fingerprints whose findings are
// accepted, for example the fake credentials of a test fixture. It is
// keyed by fingerprint, not by file or line, so a new credential on an
// allow-listed line is still reported and an accepted one stays accepted
// when it moves.
type AllowList map[string]string // fingerprint → reason

// Allows reports whether fingerprint is on the list.
func (a AllowList) Allows(fingerprint string) bool {
	_, ok := a[fingerprint]
	return ok
}

// ReadAllowList reads an allow-list file: one fingerprint per line,
// optionally followed by "#" and the reason; blank lines and lines starting
// with "#" are ignored.
func ReadAllowList(path string) (AllowList, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read allow-list: %w", err)
	}
	defer f.Close()
	return parseAllowList(f, path)
}

func parseAllowList(r io.Reader, name string) (AllowList, error) {
	a := AllowList{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fp, reason, _ := strings.Cut(line, "#")
		fp = strings.TrimSpace(fp)
		if !validFingerprint(fp) {
			// The value is not echoed: a credential pasted by mistake must not
			// reach the terminal or a CI log.
			return nil, fmt.Errorf("%s:%d: not a fingerprint: give sfp1: and 32 hex digits, as findings print them", name, n)
		}
		a[fp] = strings.TrimSpace(reason)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read allow-list %s: %w", name, err)
	}
	return a, nil
}

func validFingerprint(fp string) bool {
	hexPart, ok := strings.CutPrefix(fp, fingerprintPrefix)
	if !ok || len(hexPart) != 32 {
		return false
	}
	for _, c := range hexPart {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
