package snapshot

import "time"

// Roster is the team roster imported from a directory export into
// Steward's store ('steward roster import'): who belongs to which team, in
// which role, and whether they are still active. Rules join it to the Team
// manifests; nil unless a store with an imported roster was given.
type Roster struct {
	Source   string         `json:"source"`
	Imported time.Time      `json:"imported,omitzero"`
	Members  []RosterMember `json:"members"`
}

// RosterMember is one person's membership of one team.
type RosterMember struct {
	Team   string `json:"team"`
	Member string `json:"member"`
	Role   string `json:"role"`   // owner | backup | member
	Status string `json:"status"` // active | departed
	Email  string `json:"email,omitempty"`
	// Since is the date (YYYY-MM-DD) the status took effect, or "".
	Since string `json:"since,omitempty"`
}

// AddRoster attaches an imported roster and marks the capability.
func (s *Snapshot) AddRoster(r *Roster) {
	if r.Members == nil {
		r.Members = []RosterMember{}
	}
	s.Roster = r
	s.Capabilities.Roster = true
}
