package workload

import "github.com/steward-dev/steward/internal/snapshot"

// MatchConsumer returns the index of the first of an Identity's consumers
// the workload is, or -1. Matching is exact and has no wildcards: an OIDC
// consumer matches a token-authenticated workload whose issuer and subject
// equal its own, byte for byte; a SPIFFE consumer matches an SVID whose
// SPIFFE ID equals its own. A consumer with an empty issuer, subject or
// SPIFFE ID matches nothing. A pattern such as "repo:acme/*" is compared as
// the literal string it is, so it matches no real workload.
func MatchConsumer(w *Workload, consumers []snapshot.Consumer) int {
	if w == nil {
		return -1
	}
	for i, c := range consumers {
		switch w.Method {
		case MethodOIDC:
			if c.OIDCIssuer != "" && c.OIDCSubject != "" && c.OIDCIssuer == w.Issuer && c.OIDCSubject == w.Subject {
				return i
			}
		case MethodSPIFFE:
			if c.SPIFFE != "" && c.SPIFFE == w.SPIFFEID {
				return i
			}
		}
	}
	return -1
}
