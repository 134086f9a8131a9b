package secrets_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/steward-dev/steward/internal/secrets"
	"github.com/steward-dev/steward/internal/snapshot"
	"github.com/steward-dev/steward/internal/store/storetest"
)

func TestPosture(t *testing.T) {
	each(t, func(t *testing.T, open storetest.Opener) {
		ctx := context.Background()
		e := newEnv(t, open(), keyring(t, newKEK("k1")))
		start := e.clock.Now()
		step := func() { e.clock.Add(10 * time.Second) }

		// Nothing recorded yet: an empty store verifies.
		st, err := secrets.Posture(ctx, e.db, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(st.Secrets) != 0 || !st.Audit.OK || st.Audit.Records != 0 {
			t.Fatalf("empty store: %+v", st)
		}

		// seq 1 (checkpointed: the first record), then 2 to 6 within the
		// checkpoint interval.
		if _, err := e.s.Put(ctx, ana, "billing-sync-prod", bundle(knownSecret), 0, time.Hour); err != nil {
			t.Fatal(err)
		}
		for _, who := range []struct {
			actor   string
			version int
		}{{"billing", 0}, {"billing", 0}, {"ana", 0}, {"ana", 7}} {
			step()
			a := billing
			if who.actor == "ana" {
				a = ana
			}
			_, _, err := e.s.Read(ctx, a, "billing-sync-prod", who.version)
			if (err != nil) != (who.version == 7) {
				t.Fatalf("read version %d: %v", who.version, err)
			}
		}
		step()
		if _, err := e.s.Stage(ctx, billing, "billing-sync-prod", bundle(knownSecret), secrets.Any); err != nil {
			t.Fatal(err)
		}
		st, err = secrets.Posture(ctx, e.db, nil)
		if err != nil {
			t.Fatal(err)
		}
		want := &snapshot.SecretStore{
			Secrets: []snapshot.Secret{{
				Name: "billing-sync-prod", Version: 1, Created: start, Rotated: start, RotatedOn: "2026-11-25",
				Rotation: "staged", LastRead: start.Add(30 * time.Second), LastReadBy: "human:ana@acme.com",
				Readers: []snapshot.Reader{
					{Kind: "human", ID: "ana@acme.com", Count: 1, Last: start.Add(30 * time.Second)},
					{Kind: "workload", ID: "spiffe://acme.org/billing", Count: 2, Last: start.Add(20 * time.Second)},
				},
			}},
			Audit: snapshot.AuditLog{
				OK: true, Records: 6, Head: 6, LastCheckpoint: 1, LastCheckpointAt: start,
				Uncheckpointed: 5, OldestUncheckpointed: start.Add(10 * time.Second),
			},
		}
		if diff := cmp.Diff(want, st); diff != "" {
			t.Errorf("posture after reads (-want +got):\n%s", diff)
		}

		// Finishing the rotation makes version 2 active: no one has read it.
		e.clock.Add(time.Minute)
		if _, err := e.s.Resume(ctx, billing, "billing-sync-prod", nil, time.Hour); err != nil {
			t.Fatal(err)
		}
		st, err = secrets.Posture(ctx, e.db, nil)
		if err != nil {
			t.Fatal(err)
		}
		got := st.Secrets[0]
		rotated := start.Add(110 * time.Second)
		if got.Version != 2 || got.Rotation != "idle" || len(got.Readers) != 0 || !got.Rotated.Equal(rotated) || got.LastReadBy != "human:ana@acme.com" {
			t.Errorf("after the rotation: %+v, want version 2 active since %s, idle, no readers", got, rotated)
		}
		if st.Audit.LastCheckpoint != 7 || st.Audit.Uncheckpointed != 1 {
			t.Errorf("after the rotation: audit %+v, want the checkpoint at 7 (the interval passed) and record 8 uncovered", st.Audit)
		}
	})
}
