package snapshot

import "time"

// Elevation is one break-glass elevation as Steward's store records it
// (see package elevation): what was asked for, who asked and approved,
// when it was in the org and whether its post-use review is closed.
type Elevation struct {
	ID            string `json:"id"`
	Identity      string `json:"identity"`
	PermissionSet string `json:"permissionSet"`
	Reason        string `json:"reason"`
	Reference     string `json:"reference"`
	Requester     string `json:"requester"`
	Approver      string `json:"approver"`
	// State is requested, approved, active, post_review_due, closed,
	// denied, expired or revoked.
	State string `json:"state"`
	// DurationSeconds is what was granted; MaxDurationSeconds the cap in
	// force when it was requested.
	DurationSeconds    int64     `json:"durationSeconds"`
	MaxDurationSeconds int64     `json:"maxDurationSeconds"`
	RequestedAt        time.Time `json:"requestedAt"`
	// AppliedAt and ExpiresAt are set once the org held the assignment,
	// RemovedAt once it no longer did.
	AppliedAt   time.Time `json:"appliedAt,omitzero"`
	ExpiresAt   time.Time `json:"expiresAt,omitzero"`
	RemovedAt   time.Time `json:"removedAt,omitzero"`
	ReviewDueAt time.Time `json:"reviewDueAt,omitzero"`
	ClosedAt    time.Time `json:"closedAt,omitzero"`
	// SecretSeen records that a person saw the identity's secret.
	SecretSeen bool `json:"secretSeen"`
}
