package fakeorg

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestGenerateDeterministicAndValid(t *testing.T) {
	t.Parallel()
	a, b := Generate(30, 20, 7), Generate(30, 20, 7)
	if diff := cmp.Diff(a, b, cmp.AllowUnexported(When{})); diff != "" {
		t.Fatalf("same seed, different scenarios:\n%s", diff)
	}
	if err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(a.ConnectedApps)-1+len(a.ExternalClientApps) != 30 || len(a.ExternalClientApps) != 10 || len(a.Users) != 22 {
		t.Errorf("apps %d+%d, users %d", len(a.ConnectedApps), len(a.ExternalClientApps), len(a.Users))
	}
	c := Generate(30, 20, 8)
	if cmp.Equal(a, c, cmp.AllowUnexported(When{})) {
		t.Error("different seeds gave the same scenario")
	}
	for _, app := range a.ConnectedApps {
		if len(app.ConsumerKey) != 85 || !strings.HasPrefix(app.ConsumerKey, "3MVG9") || len(app.ConsumerSecret) != 64 {
			t.Errorf("%s: key %q, secret length %d", app.Name, app.ConsumerKey, len(app.ConsumerSecret))
		}
	}
}

func BenchmarkGenerateAndBuild(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := New(Generate(1000, 1000, 42), Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
