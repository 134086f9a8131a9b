package secrets

import (
	"fmt"
	"regexp"
)

var identityName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$`)

// ValidIdentity checks a secret's name: an Identity manifest's name (lower
// case letters, digits, '-' and '.', at most 253 characters).
func ValidIdentity(name string) error {
	if !identityName.MatchString(name) {
		return fmt.Errorf("%q is not a valid identity name: use lower case letters, digits, '-' and '.', as in the Identity manifest's metadata.name", name)
	}
	return nil
}
