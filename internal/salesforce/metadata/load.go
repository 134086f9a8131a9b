package metadata

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
)

// Options tune Load.
type Options struct {
	// MaxFileSize is the largest file Load reads, in bytes; a larger one is a
	// FileError. Zero means DefaultMaxFileSize.
	MaxFileSize int64
	// Concurrency is how many files are parsed at once. Zero means
	// runtime.GOMAXPROCS(0).
	Concurrency int
}

// skipDirs are directories Load never descends into: version control, tool
// caches and dependencies hold copies, not the project's metadata.
var skipDirs = map[string]bool{".git": true, "node_modules": true, ".sfdx": true, ".sf": true}

// Load reads every metadata file under paths. Each path is a file or a
// directory searched recursively (skipping .git, node_modules, .sfdx and .sf);
// files are picked by suffix (see Kind) whatever folder they are in, and
// other files are ignored. Symbolic links to files are followed; links to
// directories below a path are not.
//
// Files are parsed concurrently, but the result does not depend on the order
// of paths or on scheduling: records are sorted by name (then file), warnings
// and errors by file and line. The External Client App files are assembled
// into one ECA per externalClientApplication name; when two files supply the
// same part of one app, the first in path order is used and the other gets a
// warning.
//
// A file that cannot be read or parsed does not stop the others. Load then
// returns the Set of everything that did parse together with an Errors
// holding one *FileError per failed file; a path that does not exist is such
// a FileError too. A directory without metadata files yields an empty Set and
// no error. When ctx is cancelled Load stops and returns nil and ctx.Err().
func Load(ctx context.Context, paths []string, opts Options) (*Set, error) {
	maxSize := opts.MaxFileSize
	if maxSize <= 0 {
		maxSize = DefaultMaxFileSize
	}
	workers := opts.Concurrency
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}

	files, errs := discover(ctx, paths)
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	results := make([]fileResult, len(files))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, len(files)) {
		wg.Go(func() {
			scratch := make([]byte, readBlock)
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= len(files) {
					return
				}
				results[i] = loadFile(files[i].path, files[i].regular, maxSize, scratch)
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	set, fileErrs := assemble(results)
	errs = append(errs, fileErrs...)
	if len(errs) == 0 {
		return set, nil
	}
	slices.SortStableFunc(errs, func(a, b *FileError) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line))
	})
	return set, errs
}

// foundFile is a metadata file discover found.
type foundFile struct {
	path string
	// regular is set when the directory listing said the entry is a regular
	// file (not a link), so that it need not be checked before opening; it
	// is checked again on the open file.
	regular bool
}

// discover lists the metadata files under paths, cleaned, deduplicated and
// sorted, with a FileError for each path or directory it could not read.
func discover(ctx context.Context, paths []string) ([]foundFile, Errors) {
	var errs Errors
	seen := make(map[string]bool)
	var files []foundFile
	add := func(p string, regular bool) {
		p = filepath.Clean(p)
		if !seen[p] {
			seen[p] = true
			files = append(files, foundFile{p, regular})
		}
	}
	for _, root := range paths {
		info, err := os.Stat(root)
		if err != nil {
			errs = append(errs, &FileError{File: root, Err: readErr(err)})
			continue
		}
		if !info.IsDir() {
			if Kind(root) != "" {
				add(root, false)
			}
			continue
		}
		walkRoot := root
		if li, err := os.Lstat(root); err == nil && li.Mode()&fs.ModeSymlink != 0 {
			// WalkDir does not follow a link given as its root; a trailing
			// separator makes the system resolve it.
			walkRoot = root + string(filepath.Separator)
		}
		err = filepath.WalkDir(walkRoot, func(p string, d fs.DirEntry, err error) error {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return ctxErr
			}
			if err != nil {
				errs = append(errs, &FileError{File: filepath.Clean(p), Err: readErr(err)})
				return nil
			}
			if !d.IsDir() {
				if Kind(p) != "" {
					add(p, d.Type().IsRegular())
				}
				return nil
			}
			if p != walkRoot && skipDirs[d.Name()] {
				return fs.SkipDir
			}
			if Kind(p) != "" {
				errs = append(errs, &FileError{File: filepath.Clean(p), Err: errors.New("is a directory, not a metadata file")})
			}
			return nil
		})
		if err != nil && ctx.Err() == nil {
			errs = append(errs, &FileError{File: root, Err: readErr(err)})
		}
	}
	slices.SortFunc(files, func(a, b foundFile) int { return cmp.Compare(a.path, b.path) })
	return files, errs
}

// fileResult is the outcome of loading one file.
type fileResult struct {
	rec      Record
	warnings []Warning
	err      *FileError
}

// readBlock is the size of the buffer each worker reads files into first:
// larger than almost every metadata file, so that most take one read.
const readBlock = 32 << 10

// loadFile reads and parses one file; regular says the directory listing
// showed a regular file, scratch is the worker's read buffer.
func loadFile(path string, regular bool, maxSize int64, scratch []byte) fileResult {
	data, err := readFile(path, regular, maxSize, scratch)
	if err != nil {
		return fileResult{err: &FileError{File: path, Err: err}}
	}
	rec, warnings, ferr := parse(path, data)
	return fileResult{rec: rec, warnings: warnings, err: ferr}
}

// readFile reads a regular file of at most maxSize bytes. The size is checked
// before reading more than one block, and the read is bounded too, in case
// the file grows.
// Where the system allows, a file the directory listing showed as regular is
// opened without a prior stat, read into scratch first and checked on the
// open descriptor when needed (see readFileFast).
func readFile(path string, regular bool, maxSize int64, scratch []byte) ([]byte, error) {
	if data, ok, err := readFileFast(path, regular, maxSize, scratch); ok {
		return data, err
	}
	info, err := os.Stat(path)
	if err != nil {
		return nil, readErr(err)
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file (%s)", info.Mode().Type())
	}
	if info.Size() > maxSize {
		return nil, tooLarge(info.Size(), maxSize)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, readErr(err)
	}
	defer f.Close()
	return readLimited(f, info.Size(), maxSize)
}

// readLimited reads r to the end, failing once it has produced more than
// maxSize bytes. sizeHint sizes the buffer.
func readLimited(r io.Reader, sizeHint, maxSize int64) ([]byte, error) {
	buf := bytes.NewBuffer(make([]byte, 0, min(sizeHint, maxSize)+bytes.MinRead))
	if _, err := buf.ReadFrom(io.LimitReader(r, maxSize+1)); err != nil {
		return nil, readErr(err)
	}
	if int64(buf.Len()) > maxSize {
		return nil, fmt.Errorf("%w: file is over the %s limit", ErrTooLarge, formatSize(maxSize))
	}
	return buf.Bytes(), nil
}

// readErr turns an I/O error into a message that does not repeat the path
// (FileError already names it). errors.Is still sees fs.ErrNotExist and the
// like through it.
func readErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return fmt.Errorf("cannot read: %w", err)
}

// assemble builds the Set from per-file results in path order.
func assemble(results []fileResult) (*Set, Errors) {
	set := &Set{}
	var errs Errors
	ecas := make(map[string]*ECA)
	for _, r := range results {
		if r.err != nil {
			errs = append(errs, r.err)
			continue
		}
		set.Files++
		set.Warnings = append(set.Warnings, r.warnings...)
		switch rec := r.rec.(type) {
		case *ConnectedApp:
			set.ConnectedApps = append(set.ConnectedApps, rec)
		case *ECA:
			app, ok := ecas[rec.Name]
			if !ok {
				ecas[rec.Name] = rec
				set.ECAs = append(set.ECAs, rec)
				continue
			}
			if first, dup, ok := mergeECA(app, rec); !ok {
				set.Warnings = append(set.Warnings, Warning{dup, fmt.Sprintf(
					"duplicate %s for External Client App %s; the one at %s is used",
					Kind(dup.File), quote(rec.Name), formatPos(first.File, first.Line))})
			}
		case *PermissionSet:
			set.PermissionSets = append(set.PermissionSets, rec)
		case *PermissionSetGroup:
			set.PermissionSetGroups = append(set.PermissionSetGroups, rec)
		case *Profile:
			set.Profiles = append(set.Profiles, rec)
		}
	}
	sortByName(set.ConnectedApps, func(a *ConnectedApp) (string, string) { return a.Name, a.File })
	sortByName(set.PermissionSets, func(a *PermissionSet) (string, string) { return a.Name, a.File })
	sortByName(set.PermissionSetGroups, func(a *PermissionSetGroup) (string, string) { return a.Name, a.File })
	sortByName(set.Profiles, func(a *Profile) (string, string) { return a.Name, a.File })
	sortByName(set.ECAs, func(a *ECA) (string, string) { return a.Name, "" })
	slices.SortStableFunc(set.Warnings, func(a, b Warning) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line))
	})
	return set, errs
}

// sortByName sorts records by name, then file.
func sortByName[T any](s []T, key func(T) (name, file string)) {
	slices.SortStableFunc(s, func(a, b T) int {
		an, af := key(a)
		bn, bf := key(b)
		return cmp.Or(cmp.Compare(an, bn), cmp.Compare(af, bf))
	})
}
