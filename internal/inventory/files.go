package inventory

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
)

// canonical returns an absolute path with symbolic links resolved, or p
// cleaned when that fails.
func canonical(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		return filepath.Clean(p)
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		return real
	}
	return abs
}

// strict reports whether manifests are required at canonical path p.
func (l *loader) strict(p string) bool {
	if l.opts.RequireManifests {
		return true
	}
	for _, root := range l.strictRoots {
		if p == root || strings.HasPrefix(p, root+string(filepath.Separator)) {
			return true
		}
	}
	return false
}

// loadPath reads one path given to Load: a file or a directory tree.
func (l *loader) loadPath(p string) {
	fi, err := os.Stat(p)
	if err != nil {
		l.errs = append(l.errs, fileError(p, err))
		return
	}
	if fi.IsDir() {
		l.loadDir(p)
		return
	}
	l.loadFile(p, fi)
}

// loadDir reads the YAML files under root, skipping .git and node_modules.
func (l *loader) loadDir(root string) {
	found := 0
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			l.errs = append(l.errs, fileError(p, err))
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if p != root && (d.Name() == ".git" || d.Name() == "node_modules") {
				return fs.SkipDir
			}
			return nil
		}
		if !isYAMLName(d.Name()) {
			return nil
		}
		found++
		fi, err := os.Stat(p) // follows a symbolic link to a file
		if err != nil {
			l.errs = append(l.errs, fileError(p, err))
			return nil
		}
		if !fi.IsDir() {
			l.loadFile(p, fi)
		}
		return nil
	})
	if found == 0 && l.strict(canonical(root)) {
		l.errs = append(l.errs, &Error{File: root, Msg: "no manifests found in directory"})
	}
}

// isYAMLName reports whether a file name ends in .yaml or .yml, in any case.
func isYAMLName(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	return ext == ".yaml" || ext == ".yml"
}

// fileError describes a file system error without repeating the path, which
// the Error carries already.
func fileError(p string, err error) *Error {
	reason := "cannot read"
	var pe *fs.PathError
	switch {
	case errors.Is(err, fs.ErrNotExist):
		reason = "no such file or directory"
	case errors.Is(err, fs.ErrPermission):
		reason = "permission denied"
	case errors.As(err, &pe):
		reason = "cannot read: " + pe.Err.Error()
	}
	return &Error{File: p, Msg: reason}
}

// loadFile queues one file to be read once, rejecting files over MaxFileSize
// unread.
func (l *loader) loadFile(p string, fi fs.FileInfo) {
	key := canonical(p)
	if l.seen[key] {
		return
	}
	l.seen[key] = true
	if !fi.Mode().IsRegular() {
		l.errs = append(l.errs, &Error{File: p, Msg: "not a regular file"})
		return
	}
	if fi.Size() > MaxFileSize {
		l.errs = append(l.errs, tooLarge(p))
		return
	}
	l.jobs = append(l.jobs, &fileJob{path: p, size: fi.Size(), strict: l.strict(key)})
}

func tooLarge(p string) *Error {
	return &Error{File: p, Msg: fmt.Sprintf("file is larger than %d MiB", MaxFileSize>>20)}
}

// readFiles reads and parses the queued files, GOMAXPROCS at a time, and
// merges what they held in the order they were found, so that the result
// does not depend on scheduling.
func (l *loader) readFiles() {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(l.jobs)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(l.jobs) {
					return
				}
				l.readFile(l.jobs[i])
			}
		})
	}
	wg.Wait()
	for _, job := range l.jobs {
		l.errs = append(l.errs, job.errs...)
		l.docs = append(l.docs, job.docs...)
	}
	l.jobs = nil
}

// readFile reads and parses one queued file.
func (l *loader) readFile(job *fileJob) {
	p := job.path
	f, err := os.Open(p)
	if err != nil {
		job.errs = append(job.errs, fileError(p, err))
		return
	}
	defer f.Close()
	buf := bytes.NewBuffer(make([]byte, 0, min(job.size, MaxFileSize)+bytes.MinRead))
	if _, err := buf.ReadFrom(io.LimitReader(f, MaxFileSize+1)); err != nil {
		job.errs = append(job.errs, fileError(p, err))
		return
	}
	if buf.Len() > MaxFileSize {
		job.errs = append(job.errs, tooLarge(p))
		return
	}
	l.parseSource(job, p, buf.Bytes(), job.strict)
}
