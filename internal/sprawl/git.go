package sprawl

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// history sends every distinct file content in the history of the git
// repository at root to jobs: the files of every commit reachable from
// Options.Refs (default HEAD). Each blob is scanned once, attributed to the
// earliest commit (by committer time) whose tree holds it, under the path
// it had there. Unreadable objects are reported and skipped.
func (s *scan) history(root string, jobs chan<- job) {
	repo, err := git.PlainOpenWithOptions(root, &git.PlainOpenOptions{DetectDotGit: true})
	if err != nil {
		s.problem(root, 0, "open git repository: %v", err)
		return
	}
	display := repoDisplayRoot(repo, root)
	refs := s.opts.Refs
	if len(refs) == 0 {
		refs = []string{"HEAD"}
	}
	var starts []plumbing.Hash
	for _, ref := range refs {
		hs, err := resolve(repo, ref)
		if err != nil {
			s.problem(root, 0, "resolve %s: %v", ref, err)
			continue
		}
		starts = append(starts, hs...)
	}
	commits := s.reachable(repo, root, starts)
	s.commits.Add(int64(len(commits)))
	// Oldest first, so that each blob is attributed to the commit that
	// introduced it.
	slices.SortFunc(commits, func(a, b *object.Commit) int {
		return cmp.Or(a.Committer.When.Compare(b.Committer.When), cmp.Compare(a.Hash.String(), b.Hash.String()))
	})
	w := &treeWalker{s: s, repo: repo, root: display, jobs: jobs, trees: map[plumbing.Hash]bool{}, blobs: map[plumbing.Hash]bool{}}
	for _, c := range commits {
		if s.ctx.Err() != nil {
			return
		}
		tree, err := c.Tree()
		if err != nil {
			s.problem(root, 0, "commit %s: read tree: %v", c.Hash, err)
			continue
		}
		w.commit = c.Hash.String()
		w.walk(tree, "")
	}
}

// repoDisplayRoot is the directory file paths in the repository are shown
// under: the repository's top level, as a path like the one given when
// root lies inside it, or root itself for a bare repository.
func repoDisplayRoot(repo *git.Repository, root string) string {
	wt, err := repo.Worktree()
	if err != nil {
		return root
	}
	top := wt.Filesystem.Root()
	abs, err := filepath.Abs(root)
	if err != nil || abs == top {
		return root
	}
	if filepath.IsAbs(root) {
		return top
	}
	if cwd, err := os.Getwd(); err == nil {
		if rel, err := filepath.Rel(cwd, top); err == nil {
			return rel
		}
	}
	return top
}

// resolve returns the commits a revision names. A revision with glob
// characters matches reference names, as "refs/heads/*" matches every
// branch.
func resolve(repo *git.Repository, rev string) ([]plumbing.Hash, error) {
	if !strings.ContainsAny(rev, "*?[") {
		h, err := repo.ResolveRevision(plumbing.Revision(rev))
		if err != nil {
			return nil, err
		}
		return []plumbing.Hash{*h}, nil
	}
	if _, err := path.Match(rev, ""); err != nil {
		return nil, fmt.Errorf("bad pattern: %w", err)
	}
	iter, err := repo.References()
	if err != nil {
		return nil, err
	}
	var out []plumbing.Hash
	err = iter.ForEach(func(r *plumbing.Reference) error {
		if ok, _ := path.Match(rev, r.Name().String()); !ok || r.Type() != plumbing.HashReference {
			return nil
		}
		// Tags may point at tag objects; history starts at their commit.
		if t, err := repo.TagObject(r.Hash()); err == nil {
			if c, err := t.Commit(); err == nil {
				out = append(out, c.Hash)
			}
			return nil
		}
		out = append(out, r.Hash())
		return nil
	})
	if err == nil && len(out) == 0 {
		err = errors.New("no reference matches")
	}
	return out, err
}

// reachable returns the commits reachable from starts, each once.
func (s *scan) reachable(repo *git.Repository, root string, starts []plumbing.Hash) []*object.Commit {
	seen := map[plumbing.Hash]bool{}
	var out []*object.Commit
	stack := slices.Clone(starts)
	for len(stack) > 0 && s.ctx.Err() == nil {
		h := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[h] {
			continue
		}
		seen[h] = true
		c, err := repo.CommitObject(h)
		if err != nil {
			s.problem(root, 0, "read commit %s: %v; its history is not scanned", h, err)
			continue
		}
		out = append(out, c)
		stack = append(stack, c.ParentHashes...)
	}
	return out
}

type treeWalker struct {
	s      *scan
	repo   *git.Repository
	root   string
	jobs   chan<- job
	commit string
	trees  map[plumbing.Hash]bool // trees already walked
	blobs  map[plumbing.Hash]bool // blobs already sent
}

// walk sends the blobs of tree not sent before. A subtree already walked
// holds only blobs already sent, so it is skipped whole.
func (w *treeWalker) walk(tree *object.Tree, dir string) {
	if w.trees[tree.Hash] {
		return
	}
	w.trees[tree.Hash] = true
	for _, e := range tree.Entries {
		if w.s.ctx.Err() != nil {
			return
		}
		name := path.Join(dir, e.Name)
		switch e.Mode {
		case filemode.Dir:
			sub, err := w.repo.TreeObject(e.Hash)
			if err != nil {
				w.s.problem(w.display(name), 0, "commit %s: read tree %s: %v", w.commit, e.Hash, err)
				continue
			}
			w.walk(sub, name)
		case filemode.Regular, filemode.Executable, filemode.Deprecated:
			if w.blobs[e.Hash] {
				continue
			}
			w.blobs[e.Hash] = true
			w.blob(e.Hash, name)
		}
	}
}

func (w *treeWalker) display(name string) string {
	return filepath.Join(w.root, filepath.FromSlash(name))
}

// blob reads one blob into a pooled buffer and queues it.
func (w *treeWalker) blob(h plumbing.Hash, name string) {
	file := w.display(name)
	b, err := w.repo.BlobObject(h)
	if err != nil {
		w.s.problem(file, 0, "commit %s: read blob %s: %v", w.commit, h, err)
		return
	}
	if b.Size > w.s.opts.MaxFileSize {
		w.s.tooLarge.Add(1)
		w.s.problem(file, 0, "commit %s: %d bytes, larger than the %d-byte limit; not scanned (raise --max-file-size to scan it)", w.commit, b.Size, w.s.opts.MaxFileSize)
		return
	}
	data, bp, err := w.read(b)
	if err != nil {
		w.s.problem(file, 0, "commit %s: read blob %s: %v", w.commit, h, err)
		return
	}
	w.s.send(w.jobs, job{file: file, commit: w.commit, data: data, buf: bp})
}

func (w *treeWalker) read(b *object.Blob) ([]byte, *[]byte, error) {
	r, err := b.Reader()
	if err != nil {
		return nil, nil, err
	}
	defer r.Close()
	bp := w.s.getBuf(int(b.Size))
	n, err := io.ReadFull(r, *bp)
	if err != nil && !errors.Is(err, io.EOF) {
		w.s.putBuf(bp)
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, nil, fmt.Errorf("truncated: %d of %d bytes", n, b.Size)
		}
		return nil, nil, err
	}
	return (*bp)[:n], bp, nil
}
