package sprawl_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/steward-dev/steward/internal/sprawl"
	"github.com/steward-dev/steward/internal/sprawl/sprawltest"
)

// commitFiles writes files into the work tree of repo, commits them and
// returns the commit's hash. A nil content removes the file.
func commitFiles(t *testing.T, repo *git.Repository, dir string, when time.Time, files map[string][]byte) plumbing.Hash {
	t.Helper()
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		if content == nil {
			if _, err := wt.Remove(name); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, content, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := wt.Add(name); err != nil {
			t.Fatal(err)
		}
	}
	sig := &object.Signature{Name: "Test", Email: "test@example.org", When: when}
	h, err := wt.Commit("change", &git.CommitOptions{Author: sig, Committer: sig})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestGitHistory(t *testing.T) {
	t.Parallel()
	g := sprawltest.New(11)
	removed, onBranch := g.HexSecret(), g.HexSecret()
	dir := t.TempDir()
	repo, err := git.PlainInit(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	first := commitFiles(t, repo, dir, t0, map[string][]byte{
		"config/.env": []byte("# salesforce\nSF_CONSUMER_SECRET=" + removed + "\n"),
		"README.md":   []byte("hello\n"),
	})
	// The secret is removed from the tip: only history still has it.
	commitFiles(t, repo, dir, t0.Add(time.Hour), map[string][]byte{"config/.env": nil})
	head, err := repo.Head()
	if err != nil {
		t.Fatal(err)
	}
	wt, _ := repo.Worktree()
	if err := wt.Checkout(&git.CheckoutOptions{Branch: plumbing.NewBranchReferenceName("feature"), Create: true}); err != nil {
		t.Fatal(err)
	}
	branchCommit := commitFiles(t, repo, dir, t0.Add(2*time.Hour), map[string][]byte{
		"app.properties": []byte("salesforce.consumer.secret=" + onBranch + "\n"),
	})
	if err := wt.Checkout(&git.CheckoutOptions{Branch: head.Name()}); err != nil {
		t.Fatal(err)
	}

	// The work tree of the default branch holds no secret.
	if res := scanDir(t, sprawl.Options{}, dir); len(res.Findings) != 0 {
		t.Fatalf("work tree: %s", describe(res.Findings, ""))
	}

	res := scanDir(t, sprawl.Options{Git: true}, dir)
	if len(res.Findings) != 1 {
		t.Fatalf("HEAD history: %d findings, want 1:\n%s", len(res.Findings), describe(res.Findings, ""))
	}
	f := res.Findings[0]
	if f.Commit != first.String() || f.File != filepath.Join(dir, "config", ".env") || f.Line != 2 {
		t.Errorf("finding at %s in %s, want line 2 of config/.env in %s", f.Location(), f.Commit, first)
	}
	if res.Stats.Commits != 2 {
		t.Errorf("walked %d commits, want 2", res.Stats.Commits)
	}

	res = scanDir(t, sprawl.Options{Git: true, Refs: []string{"refs/heads/*"}}, dir)
	if len(res.Findings) != 2 {
		t.Fatalf("all branches: %d findings, want 2:\n%s", len(res.Findings), describe(res.Findings, ""))
	}
	var found bool
	for _, f := range res.Findings {
		found = found || f.Commit == branchCommit.String()
	}
	if !found {
		t.Errorf("no finding in the feature branch commit %s:\n%s", branchCommit, describe(res.Findings, ""))
	}
}

func TestGitBadRepositories(t *testing.T) {
	t.Parallel()
	good := t.TempDir()
	repo, err := git.PlainInit(good, false)
	if err != nil {
		t.Fatal(err)
	}
	secret := sprawltest.New(12).HexSecret()
	commitFiles(t, repo, good, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), map[string][]byte{
		"a.env": []byte("SF_CONSUMER_SECRET=" + secret + "\n"),
	})

	notRepo := t.TempDir()
	corrupt := t.TempDir()
	if err := os.MkdirAll(filepath.Join(corrupt, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(corrupt, ".git", "HEAD"), []byte("ref: refs/heads/main\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A repository whose objects are gone: HEAD names a missing commit.
	broken := t.TempDir()
	copyDir(t, good, broken)
	if err := os.RemoveAll(filepath.Join(broken, ".git", "objects")); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(broken, ".git", "objects"), 0o755); err != nil {
		t.Fatal(err)
	}

	res := scanDir(t, sprawl.Options{Git: true}, notRepo, corrupt, broken, good)
	if len(res.Findings) != 1 {
		t.Errorf("findings = %s, want the good repository's secret", describe(res.Findings, ""))
	}
	for _, dir := range []string{notRepo, corrupt, broken} {
		var named bool
		for _, p := range res.Problems {
			named = named || p.File == dir
		}
		if !named {
			t.Errorf("no problem names %s; problems: %v", dir, res.Problems)
		}
	}
	for _, p := range res.Problems {
		if strings.Contains(p.String(), secret) {
			t.Fatal("a problem shows the secret")
		}
	}
}

func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if fi.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestGitPathsAreRelativeToTheRepository(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	repo, err := git.PlainInit(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	commitFiles(t, repo, dir, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), map[string][]byte{
		"sub/a.env": []byte("SF_CONSUMER_SECRET=" + sprawltest.New(14).HexSecret() + "\n"),
	})
	// Scanning from a directory inside the work tree scans the whole
	// repository and names files from its top level.
	res := scanDir(t, sprawl.Options{Git: true}, filepath.Join(dir, "sub"))
	if len(res.Findings) != 1 || res.Findings[0].File != filepath.Join(dir, "sub", "a.env") {
		t.Errorf("findings: %s", describe(res.Findings, ""))
	}
}
