package snapshot

import "strings"

// ReviewStore is what Steward's store says about access reviews: when each
// identity was last attested, and which expansions an attestation covered.
// The store's record wins over the manifests' review.lastReviewed.
type ReviewStore struct {
	// LastAttested maps an identity to the day (YYYY-MM-DD, UTC) of its
	// latest attestation.
	LastAttested map[string]string `json:"lastAttested"`
	// AttestedChanges maps an identity to the ChangeKey of every expansion
	// an attestation closed.
	AttestedChanges map[string][]string `json:"attestedChanges"`
	// Open maps an identity to its number of open review items.
	Open map[string]int `json:"open"`
}

// ChangeKey names a change for matching it against attested reviews: its
// resource, subject, field, kind, before and after joined by "|". The
// policy pack builds the same key.
func ChangeKey(c Change) string {
	return strings.Join([]string{c.Resource, c.Subject, c.Field, c.Kind, c.Before, c.After}, "|")
}
