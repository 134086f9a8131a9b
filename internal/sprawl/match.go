package sprawl

import "context"

// Match names the managed secret a credential found is a copy of.
type Match struct {
	Identity    string `json:"identity"`    // the Identity the secret belongs to
	Secret      string `json:"secret"`      // the secret's name in the store
	Version     int    `json:"version"`     // the secret version the copy matches
	Environment string `json:"environment"` // production, staging, sandbox or development
	// Field is the field of the secret the copy matches, as the store
	// names it: FieldConsumerSecret or FieldPrivateKey (a leak), or
	// FieldConsumerKey (an identifier, not a secret).
	Field string `json:"field"`
}

// Fields of a managed credential bundle.
const (
	FieldConsumerKey    = "consumerKey"
	FieldConsumerSecret = "consumerSecret"
	FieldPrivateKey     = "privateKey"
)

// Matcher tells whether a candidate credential value is a copy of a
// managed secret. Implementations compare keyed fingerprints, so that no
// plaintext leaves the store; they must be safe for concurrent use.
type Matcher interface {
	Match(ctx context.Context, candidate []byte) (Match, bool, error)
}
