package sprawl_test

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/steward-dev/steward/internal/sprawl"
	"github.com/steward-dev/steward/internal/sprawl/sprawltest"
)

func TestGitignoreOnlyWhenAsked(t *testing.T) {
	t.Parallel()
	g := sprawltest.New(21)
	dir := t.TempDir()
	files := map[string]string{
		".gitignore":             "*.local\n/build/\n",
		"app/.gitignore":         "secrets/\n!keep.local\n",
		"a.env":                  "SF_CONSUMER_SECRET=" + g.HexSecret() + "\n",
		"b.local":                "SF_CONSUMER_SECRET=" + g.HexSecret() + "\n",
		"build/out.env":          "SF_CONSUMER_SECRET=" + g.HexSecret() + "\n",
		"app/secrets/prod.env":   "SF_CONSUMER_SECRET=" + g.HexSecret() + "\n",
		"app/keep.local":         "SF_CONSUMER_SECRET=" + g.HexSecret() + "\n",
		"app/src/build/note.env": "SF_CONSUMER_SECRET=" + g.HexSecret() + "\n", // /build/ is anchored to the root
		".git/config.env":        "SF_CONSUMER_SECRET=" + g.HexSecret() + "\n", // never entered
	}
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rel := func(res *sprawl.Result) []string {
		var out []string
		for _, f := range res.Findings {
			r, _ := filepath.Rel(dir, f.File)
			out = append(out, filepath.ToSlash(r))
		}
		return out
	}
	all := rel(scanDir(t, sprawl.Options{}, dir))
	if want := "a.env app/keep.local app/secrets/prod.env app/src/build/note.env b.local build/out.env"; strings.Join(all, " ") != want {
		t.Errorf("without --gitignore: %v, want %s", all, want)
	}
	res := scanDir(t, sprawl.Options{Gitignore: true}, dir)
	if got, want := strings.Join(rel(res), " "), "a.env app/keep.local app/src/build/note.env"; got != want {
		t.Errorf("with --gitignore: %s, want %s", got, want)
	}
	if res.Stats.Ignored != 1 { // b.local; the two directories are skipped whole
		t.Errorf("ignored = %d, want 1", res.Stats.Ignored)
	}
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	g := sprawltest.New(31)
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// A 24 MiB file of one line, the token at its very end.
	token := g.AccessToken()
	huge := append([]byte(strings.Repeat("a,b;", 6<<20)), []byte(" token="+token+"\n")...)
	hugeFile := write("huge.min.js", huge)
	// Invalid UTF-8 around a secret.
	invalid := write("invalid.env", []byte("\xff\xfe\xc3(SF_CONSUMER_SECRET="+g.HexSecret()+"\xc3\x28\n"))
	// A NUL byte makes a file binary, whatever else it holds.
	binary := write("blob.bin", append([]byte{0, 1, 2}, []byte("SF_CONSUMER_SECRET="+g.HexSecret())...))
	// Six layers of base64: four are decoded, the rest is reported.
	deep := g.ConsumerKey() + ":" + g.HexSecret()
	for range 6 {
		deep = b64(deep)
	}
	deepFile := write("deep.env", []byte("# nested\nX="+deep+"\n"))
	// Too large for the limit.
	big := write("big.env", []byte(strings.Repeat("x", 2048)))
	unreadable := write("unreadable.env", []byte("SF_CONSUMER_SECRET="+g.HexSecret()+"\n"))
	if err := os.Chmod(unreadable, 0); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing")

	res := scanDir(t, sprawl.Options{MaxFileSize: 32 << 20}, dir, missing)
	byFile := map[string][]sprawl.Finding{}
	for _, f := range res.Findings {
		byFile[f.File] = append(byFile[f.File], f)
	}
	if fs := byFile[hugeFile]; len(fs) != 1 || fs[0].Kind != sprawl.KindAccessToken || fs[0].Line != 1 || len(fs[0].Excerpt) > 200 {
		t.Errorf("huge file: %+v", fs)
	}
	if fs := byFile[invalid]; len(fs) != 1 || !strings.Contains(fs[0].Excerpt, "\uFFFD") {
		t.Errorf("invalid UTF-8: %+v", fs)
	}
	if len(byFile[binary]) != 0 || res.Stats.Binary != 1 {
		t.Errorf("binary file scanned: %+v, %d binary", byFile[binary], res.Stats.Binary)
	}
	problems := map[string]string{}
	for _, p := range res.Problems {
		problems[p.File] += p.String()
	}
	if !strings.Contains(problems[deepFile], ":2: base64 nested more than 4 layers") {
		t.Errorf("deep base64: problems %q", problems[deepFile])
	}
	if !strings.Contains(problems[missing], "no such file") {
		t.Errorf("missing path: problems %q", problems[missing])
	}
	if os.Geteuid() != 0 && runtime.GOOS != "windows" { // root reads anything
		if !strings.Contains(problems[unreadable], "permission denied") {
			t.Errorf("unreadable file: problems %q", problems[unreadable])
		}
	}

	res = scanDir(t, sprawl.Options{MaxFileSize: 1024}, big)
	if len(res.Problems) != 1 || !strings.Contains(res.Problems[0].String(), "larger than the 1024-byte limit") || res.Stats.TooLarge != 1 {
		t.Errorf("too large: %v", res.Problems)
	}
}
