package sprawl

import (
	"bufio"
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/format/gitignore"
)

// walk sends the files under root (or root itself) to jobs. Directories
// named .git are never entered; symbolic links and special files are
// skipped. With Options.Gitignore, the .gitignore files found under root
// are honoured.
func (s *scan) walk(root string, jobs chan<- job) {
	fi, err := os.Stat(root)
	if err != nil {
		s.problem(root, 0, "%v", unwrapPath(err))
		return
	}
	if !fi.IsDir() {
		if fi.Mode().IsRegular() {
			s.send(jobs, job{file: root})
		} else {
			s.problem(root, 0, "not a regular file or directory")
		}
		return
	}
	// patterns holds, per directory, the ignore patterns in force in it.
	patterns := map[string][]gitignore.Pattern{}
	_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if s.ctx.Err() != nil {
			return filepath.SkipAll
		}
		if err != nil {
			s.problem(path, 0, "%v", unwrapPath(err))
			if d != nil && d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if d.Name() == ".git" && path != root {
				return filepath.SkipDir
			}
			if s.opts.Gitignore {
				if path != root && s.ignored(patterns, root, path, true) {
					return filepath.SkipDir
				}
				patterns[path] = append(inherited(patterns, root, path), s.readIgnore(root, path)...)
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		if s.opts.Gitignore && s.ignored(patterns, root, path, false) {
			s.ignoredFiles.Add(1)
			return nil
		}
		s.send(jobs, job{file: path})
		return nil
	})
}

// send queues a job unless the scan was cancelled.
func (s *scan) send(jobs chan<- job, j job) {
	select {
	case jobs <- j:
	case <-s.ctx.Done():
		s.putBuf(j.buf)
	}
}

// inherited returns a copy of the patterns of path's parent directory.
func inherited(patterns map[string][]gitignore.Pattern, root, path string) []gitignore.Pattern {
	if path == root {
		return nil
	}
	parent := patterns[filepath.Dir(path)]
	return append(make([]gitignore.Pattern, 0, len(parent)), parent...)
}

// ignored reports whether path is ignored by the patterns of its parent
// directory.
func (s *scan) ignored(patterns map[string][]gitignore.Pattern, root, path string, isDir bool) bool {
	ps := patterns[filepath.Dir(path)]
	if len(ps) == 0 {
		return false
	}
	return gitignore.NewMatcher(ps).Match(components(root, path), isDir)
}

// components splits path, relative to root, into its elements.
func components(root, path string) []string {
	rel, err := filepath.Rel(root, path)
	if err != nil || rel == "." {
		return nil
	}
	return strings.Split(filepath.ToSlash(rel), "/")
}

// readIgnore reads dir/.gitignore, if there is one.
func (s *scan) readIgnore(root, dir string) []gitignore.Pattern {
	name := filepath.Join(dir, ".gitignore")
	data, err := os.ReadFile(name)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			s.problem(name, 0, "%v; its patterns are not applied", unwrapPath(err))
		}
		return nil
	}
	domain := components(root, dir)
	var ps []gitignore.Pattern
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, len(data)+1)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		ps = append(ps, gitignore.ParsePattern(line, domain))
	}
	return ps
}
