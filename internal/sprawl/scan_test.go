package sprawl_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/steward-dev/steward/internal/sprawl"
	"github.com/steward-dev/steward/internal/sprawl/sprawltest"
)

// writeSamples writes each sample to its own directory under dir and
// returns the paths, in order.
func writeSamples(t *testing.T, dir string, samples []sprawltest.Sample) []string {
	t.Helper()
	paths := make([]string, len(samples))
	for i, s := range samples {
		p := filepath.Join(dir, fmt.Sprintf("%02d-%s", i, s.Format), s.Name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s.Text), 0o644); err != nil {
			t.Fatal(err)
		}
		paths[i] = p
	}
	return paths
}

func scanDir(t *testing.T, opts sprawl.Options, paths ...string) *sprawl.Result {
	t.Helper()
	res, err := sprawl.Scan(context.Background(), paths, opts)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestEveryFormatIsFound(t *testing.T) {
	t.Parallel()
	for seed := uint64(1); seed <= 20; seed++ {
		samples := sprawltest.New(seed).Samples()
		dir := t.TempDir()
		paths := writeSamples(t, dir, samples)
		res := scanDir(t, sprawl.Options{}, dir)
		if len(res.Problems) > 0 {
			t.Fatalf("seed %d: problems: %v", seed, res.Problems)
		}
		type key struct {
			file string
			line int
			kind sprawl.Kind
		}
		got := map[key]sprawl.Finding{}
		for _, f := range res.Findings {
			got[key{f.File, f.Line, f.Kind}] = f
		}
		want := 0
		for i, s := range samples {
			for _, e := range s.Expect {
				want++
				f, ok := got[key{paths[i], e.Line, sprawl.Kind(e.Kind)}]
				if !ok {
					t.Errorf("seed %d, %s: no %s on line %d; found %s", seed, s.Format, e.Kind, e.Line, describe(res.Findings, paths[i]))
					continue
				}
				if f.Detector == "" || f.Confidence == "" || f.Excerpt == "" || !strings.HasPrefix(f.Fingerprint, "sfp1:") {
					t.Errorf("seed %d, %s: incomplete finding %+v", seed, s.Format, f)
				}
			}
		}
		if len(res.Findings) != want {
			t.Errorf("seed %d: %d findings, want %d:\n%s", seed, len(res.Findings), want, describe(res.Findings, ""))
		}
	}
}

func describe(fs []sprawl.Finding, file string) string {
	var b strings.Builder
	for _, f := range fs {
		if file == "" || f.File == file {
			fmt.Fprintf(&b, "  %s %s %s %s %q\n", f.Location(), f.Kind, f.Detector, f.Confidence, f.Excerpt)
		}
	}
	return b.String()
}

func TestNearMissesAreNotReported(t *testing.T) {
	t.Parallel()
	for seed := uint64(1); seed <= 20; seed++ {
		dir := t.TempDir()
		writeSamples(t, dir, sprawltest.New(seed).NearMisses())
		res := scanDir(t, sprawl.Options{}, dir)
		if len(res.Findings) > 0 {
			t.Errorf("seed %d: false positives:\n%s", seed, describe(res.Findings, ""))
		}
	}
}

func TestFindingsNeverHoldTheSecret(t *testing.T) {
	t.Parallel()
	samples := sprawltest.New(7).Samples()
	dir := t.TempDir()
	writeSamples(t, dir, samples)
	res := scanDir(t, sprawl.Options{}, dir)
	out, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range samples {
		for _, e := range s.Expect {
			assertRedacted(t, string(out), e)
		}
	}
}

// assertRedacted fails when text holds any 10 characters of the secret
// that reach past the part an excerpt may show.
func assertRedacted(t *testing.T, text string, e sprawltest.Expect) {
	t.Helper()
	const window = 10
	for i := max(0, e.Shown-window+1); i+window <= len(e.Secret); i++ {
		if part := e.Secret[i : i+window]; strings.Contains(text, part) {
			t.Fatalf("output shows part of a %s (offset %d)", e.Kind, i)
		}
	}
}

func TestFingerprintIsStableAcrossEncodings(t *testing.T) {
	t.Parallel()
	g := sprawltest.New(3)
	key, secret := g.ConsumerKey(), g.HexSecret()
	dir := t.TempDir()
	plain := "consumer_secret=" + secret + "\n"
	bundle := "curl -u " + key + ":" + secret + " https://x.my.salesforce.com\n"
	for name, text := range map[string]string{"a.env": plain, "b.sh": bundle} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	res := scanDir(t, sprawl.Options{}, dir)
	if len(res.Findings) != 2 {
		t.Fatalf("got %d findings, want 2:\n%s", len(res.Findings), describe(res.Findings, ""))
	}
	want := sprawl.Fingerprint([]byte(secret))
	for _, f := range res.Findings {
		if f.Fingerprint != want {
			t.Errorf("%s: fingerprint %s, want %s", f.Location(), f.Fingerprint, want)
		}
	}
}

func TestAllowListIsKeyedByFingerprint(t *testing.T) {
	t.Parallel()
	g := sprawltest.New(4)
	accepted, fresh := g.HexSecret(), g.HexSecret()
	dir := t.TempDir()
	// Both secrets on one line: allow-listing the first must not hide the second.
	text := "SF_CONSUMER_SECRET=" + accepted + " SF_CONSUMER_SECRET_NEXT=" + fresh + "\n"
	if err := os.WriteFile(filepath.Join(dir, "a.env"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	allow := sprawl.AllowList{sprawl.Fingerprint([]byte(accepted)): "test fixture"}
	res := scanDir(t, sprawl.Options{Allow: allow}, dir)
	if len(res.Allowed) != 1 || res.Allowed[0].Fingerprint != sprawl.Fingerprint([]byte(accepted)) {
		t.Errorf("allowed = %v, want the accepted secret", res.Allowed)
	}
	if len(res.Findings) != 1 || res.Findings[0].Fingerprint != sprawl.Fingerprint([]byte(fresh)) {
		t.Errorf("findings = %v, want the fresh secret", res.Findings)
	}
}

func TestReadAllowList(t *testing.T) {
	t.Parallel()
	fp := sprawl.Fingerprint([]byte("x"))
	tests := []struct {
		name, text, wantErr string
		want                int
	}{
		{name: "entries and comments", text: "# accepted\n\n" + fp + "  # fixture in testdata\n", want: 1},
		{name: "not a fingerprint", text: "# ok\nABCDEF0123456789ABCDEF0123456789\n", wantErr: "allow.txt:2: not a fingerprint"},
		{name: "wrong prefix", text: strings.Replace(fp, "sfp1:", "sfp9:", 1) + "\n", wantErr: "allow.txt:1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := filepath.Join(t.TempDir(), "allow.txt")
			if err := os.WriteFile(p, []byte(tc.text), 0o644); err != nil {
				t.Fatal(err)
			}
			a, err := sprawl.ReadAllowList(p)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "ABCDEF0123") {
					t.Fatalf("error echoes the line: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(a) != tc.want || !a.Allows(fp) {
				t.Fatalf("allow-list = %v", a)
			}
		})
	}
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
