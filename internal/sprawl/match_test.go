package sprawl_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/steward-dev/steward/internal/sprawl"
	"github.com/steward-dev/steward/internal/sprawl/sprawltest"
)

// fakeStore matches like the secret store does: by HMAC-SHA256 under a
// key of its own, holding no plaintext.
type fakeStore struct {
	key   []byte
	byMAC map[string]sprawl.Match
}

func newFakeStore(values map[string]sprawl.Match) *fakeStore {
	s := &fakeStore{key: []byte("0123456789abcdef0123456789abcdef"), byMAC: map[string]sprawl.Match{}}
	for v, m := range values {
		s.byMAC[s.mac([]byte(v))] = m
	}
	return s
}

func (s *fakeStore) mac(v []byte) string {
	m := hmac.New(sha256.New, s.key)
	m.Write(v)
	return string(m.Sum(nil))
}

func (s *fakeStore) Match(_ context.Context, candidate []byte) (sprawl.Match, bool, error) {
	m, ok := s.byMAC[s.mac(candidate)]
	return m, ok, nil
}

// failingMatcher stands in for a store that cannot be reached.
type failingMatcher struct{}

func (failingMatcher) Match(context.Context, []byte) (sprawl.Match, bool, error) {
	return sprawl.Match{}, false, errors.New("store unavailable")
}

func TestClassifyLeaks(t *testing.T) {
	t.Parallel()
	g := sprawltest.New(41)
	managedKey, managedSecret, loose := g.ConsumerKey(), g.HexSecret(), g.HexSecret()
	prod := sprawl.Match{Identity: "billing-sync-prod", Secret: "billing-sync-prod", Version: 3, Environment: "production", Field: sprawl.FieldConsumerSecret}
	id := sprawl.Match{Identity: "billing-sync-prod", Secret: "billing-sync-prod", Version: 3, Environment: "production", Field: sprawl.FieldConsumerKey}
	m := newFakeStore(map[string]sprawl.Match{managedSecret: prod, managedKey: id})
	dir := t.TempDir()
	files := map[string]string{
		"prod.env":   "SF_CLIENT_ID=" + managedKey + "\nSF_CLIENT_SECRET=" + managedSecret + "\n",
		"copy.http":  "Authorization: Basic " + b64(managedKey+":"+managedSecret) + "\n",
		"other.env":  "SF_CONSUMER_SECRET=" + loose + "\n",
		"other2.env": "SF_CONSUMER_SECRET=" + loose + "\n",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	res := scanDir(t, sprawl.Options{Matcher: m}, dir)
	active, _ := sprawl.Classify(res.Findings, res.Allowed, true)
	count := map[string]int{}
	for _, r := range active {
		count[r.Rule+" "+r.Severity]++
		if r.Rule == sprawl.RuleLeak && r.Severity == "critical" {
			if r.Identity == nil || *r.Identity != "billing-sync-prod" || !strings.Contains(r.Message, "version 3") || !strings.Contains(r.Message, "Production consumer secret") && !strings.Contains(r.Message, "Production client_id:client_secret") {
				t.Errorf("leak finding: %+v", r.Finding)
			}
		}
		if r.Rule == sprawl.RuleRotate && !strings.Contains(r.Message, "2 places") {
			t.Errorf("rotation finding: %s", r.Message)
		}
	}
	want := map[string]int{
		"NHI-SEC-01 critical": 2, // the secret in prod.env and in the Basic header
		"NHI-SEC-04 critical": 1, // one rotation for the one secret version
		"NHI-SEC-01 info":     1, // the managed consumer key
		"NHI-INV-01 high":     2, // the unmanaged secret, twice
	}
	if len(count) != len(want) {
		t.Errorf("findings by rule: %v, want %v", count, want)
	}
	for k, n := range want {
		if count[k] != n {
			t.Errorf("%s: %d findings, want %d (all: %v)", k, count[k], n, count)
		}
	}
}

func TestMatcherErrorsAreReportedOnce(t *testing.T) {
	t.Parallel()
	g := sprawltest.New(42)
	dir := t.TempDir()
	for i := range 3 {
		p := filepath.Join(dir, string(rune('a'+i))+".env")
		if err := os.WriteFile(p, []byte("SF_CONSUMER_SECRET="+g.HexSecret()+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	res := scanDir(t, sprawl.Options{Matcher: failingMatcher{}}, dir)
	if len(res.Findings) != 3 {
		t.Errorf("%d findings, want 3 (unmatched)", len(res.Findings))
	}
	if len(res.Problems) != 1 || !strings.Contains(res.Problems[0].Message, "store unavailable") {
		t.Errorf("problems = %v, want one store error", res.Problems)
	}
}
