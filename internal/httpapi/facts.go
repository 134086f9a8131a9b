package httpapi

import (
	"time"

	"github.com/steward-dev/steward/internal/broker"
	"github.com/steward-dev/steward/internal/snapshot"
	"github.com/steward-dev/steward/internal/workload"
)

// Facts build a decision's input from what is known of the identity: its
// secret state, review status and open findings. *broker.Facts is one; it
// answers from memory, as the token route needs.
type Facts interface {
	Input(w *workload.Workload, id *snapshot.Identity, killed bool, now time.Time) broker.Input
}

// decisionInput is the decision input for wl asking for id's token.
// Without Facts, the manifest's declared dates stand in.
func (a *API) decisionInput(wl *workload.Workload, id *snapshot.Identity, now time.Time) broker.Input {
	killed := a.isKilled(id.Name)
	if a.cfg.Facts == nil {
		return broker.Input{
			Workload: wl, Identity: id, Killed: killed,
			Secret: broker.DeclaredSecret(id), Review: broker.DeclaredReview(id), Now: now,
		}
	}
	return a.cfg.Facts.Input(wl, id, killed, now)
}
