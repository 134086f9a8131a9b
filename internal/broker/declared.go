package broker

import (
	"time"

	"github.com/steward-dev/steward/internal/snapshot"
)

// DeclaredSecret is the secret state an Identity's manifest declares
// (credential.rotatedAt and rotationDays), for when the secret store has no
// record of its own. An empty or malformed date gives the zero state: no
// deadline.
func DeclaredSecret(id *snapshot.Identity) SecretState {
	rotated, err := time.Parse(time.DateOnly, id.Credential.RotatedAt)
	if err != nil {
		return SecretState{Source: SourceDeclared}
	}
	s := SecretState{Source: SourceDeclared, CreatedAt: rotated, RotatedAt: rotated}
	if id.Credential.RotationDays > 0 {
		s.RotationDeadline = rotated.AddDate(0, 0, id.Credential.RotationDays)
	}
	return s
}

// DeclaredReview is the review status an Identity's manifest declares
// (review.lastReviewed and intervalDays). An identity never reviewed has no
// due date here; the posture rule NHI-REV-01 reports it.
func DeclaredReview(id *snapshot.Identity) ReviewStatus {
	last, err := time.Parse(time.DateOnly, id.Review.LastReviewed)
	if err != nil {
		return ReviewStatus{}
	}
	r := ReviewStatus{LastReviewed: last}
	if id.Review.IntervalDays > 0 {
		r.Due = last.AddDate(0, 0, id.Review.IntervalDays)
	}
	return r
}
