package snapshot

import (
	"slices"
	"testing"
)

func TestAddSecretStoreJoinsIdentities(t *testing.T) {
	s := &Snapshot{Identities: []Identity{
		{Name: "billing-sync-prod", Credential: Credential{SecretRef: "billing-sync-prod"}},
		{Name: "erp-eu", Credential: Credential{SecretRef: "erp-connector"}},
		{Name: "erp-us", Credential: Credential{SecretRef: "erp-connector"}},
		{Name: "support-bridge-prod"}, // names no secret (or an inline value): bound by its own name
		{Name: "support-bridge-prod", Credential: Credential{SecretRef: "other"}}, // duplicate name: the first wins
		{Name: "warehouse-feed-prod", Credential: Credential{SecretRef: "warehouse-feed"}},
	}}
	st := &SecretStore{Secrets: []Secret{
		{Name: "billing-sync-prod"}, {Name: "erp-connector"}, {Name: "support-bridge-prod"}, {Name: "other"}, {Name: "warehouse-feed-prod"},
	}}
	s.AddSecretStore(st)
	if s.SecretStore != st || !s.Capabilities.SecretStore {
		t.Fatal("the store is not attached, or the capability is not set")
	}
	want := map[string][]string{
		"billing-sync-prod":   {"billing-sync-prod"},
		"erp-connector":       {"erp-eu", "erp-us"},
		"support-bridge-prod": {"support-bridge-prod"},
		"other":               {},
		// The identity names warehouse-feed, which the store does not hold;
		// a secret named like the identity is not its secret.
		"warehouse-feed-prod": {},
	}
	for _, sec := range st.Secrets {
		if sec.Identities == nil || !slices.Equal(sec.Identities, want[sec.Name]) {
			t.Errorf("secret %s bound to %v, want %v", sec.Name, sec.Identities, want[sec.Name])
		}
	}
}
