// Package sprawl finds loose copies of Salesforce credentials (consumer
// keys and secrets, access and refresh tokens, SFDX auth URLs, HTTP Basic
// client credentials, secrets in metadata and custom fields, also inside
// base64) in files, directories and git history, and ties each copy to the
// managed secret it duplicates without handling any plaintext from the
// store.
//
// Detection is built for throughput: every file is read once into a
// buffer each worker reuses, keys and tokens (long runs of token
// characters) and base64 text are found by sampling rather than by
// classifying every byte, and the other detectors start from a literal
// anchor found with a vectorised search. Files are scanned concurrently.
package sprawl

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
)

// DefaultMaxFileSize is the largest file or blob scanned unless
// Options.MaxFileSize says otherwise.
const DefaultMaxFileSize = 256 << 20

// Options configure a scan.
type Options struct {
	// Git scans the history of the git repositories at the paths instead
	// of their files: every file of every commit reachable from Refs.
	Git bool
	// Refs are the revisions whose history is scanned; default HEAD.
	Refs []string
	// Gitignore skips files that .gitignore files under the scanned
	// directories ignore. Off by default: ignored files hold secrets too.
	Gitignore bool
	// MaxFileSize is the largest file scanned; larger files are reported
	// as problems. Zero means DefaultMaxFileSize.
	MaxFileSize int64
	// Workers is how many files are scanned at once; zero means one per
	// CPU.
	Workers int
	// Matcher, when set, tells which credentials are copies of managed
	// secrets. It must be safe for concurrent use.
	Matcher Matcher
	// Allow lists fingerprints of credentials that are accepted; their
	// findings are reported apart.
	Allow AllowList
}

// Problem is input that could not be scanned, or scanned only in part.
type Problem struct {
	File    string `json:"file,omitempty"`
	Line    int    `json:"line,omitempty"`
	Message string `json:"message"`
}

// String renders the problem as "file:line: message".
func (p Problem) String() string {
	switch {
	case p.File != "" && p.Line > 0:
		return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Message)
	case p.File != "":
		return p.File + ": " + p.Message
	}
	return p.Message
}

// Stats count what a scan read.
type Stats struct {
	Files    int64 `json:"files"`    // files and blobs scanned
	Bytes    int64 `json:"bytes"`    // bytes scanned
	Binary   int64 `json:"binary"`   // files skipped as binary
	TooLarge int64 `json:"tooLarge"` // files skipped for their size
	Ignored  int64 `json:"ignored"`  // files skipped by .gitignore
	Commits  int64 `json:"commits"`  // commits walked
}

// Result is the outcome of a scan.
type Result struct {
	Findings []Finding // credentials found, in file, commit and line order
	Allowed  []Finding // credentials the allow-list accepts
	Problems []Problem // inputs not scanned, or scanned in part
	Stats    Stats
}

// Scanned reports whether the scan read any input at all.
func (r *Result) Scanned() bool {
	return r.Stats.Files+r.Stats.Binary+r.Stats.TooLarge+r.Stats.Ignored > 0
}

// job is one file or blob to scan. data is set for blobs, read by the
// producer; files are read by the worker.
type job struct {
	file   string
	commit string
	data   []byte
	buf    *[]byte // pooled buffer holding data, if any
}

type scan struct {
	ctx  context.Context
	opts Options
	pool sync.Pool

	files, bytes, binary, tooLarge, ignoredFiles, commits atomic.Int64

	mu       sync.Mutex
	findings []Finding
	problems []Problem
	seenErr  map[string]bool
}

// Scan scans the paths and returns what it found. Inputs that cannot be
// read are reported as problems and the rest is still scanned; the error
// is non-nil only when ctx ends first.
func Scan(ctx context.Context, paths []string, opts Options) (*Result, error) {
	if opts.MaxFileSize <= 0 {
		opts.MaxFileSize = DefaultMaxFileSize
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	s := &scan{ctx: ctx, opts: opts, seenErr: map[string]bool{}}
	jobs := make(chan job, 2*workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			// Each worker reads files into a buffer of its own, reused
			// from file to file: no allocation, no zeroing, no pool
			// emptied by the collector.
			var own []byte
			for j := range jobs {
				own = s.do(j, own)
			}
		})
	}
	for _, p := range paths {
		if ctx.Err() != nil {
			break
		}
		if opts.Git {
			s.history(p, jobs)
		} else {
			s.walk(p, jobs)
		}
	}
	close(jobs)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	res := &Result{Problems: s.problems}
	for _, f := range s.findings {
		if opts.Allow.Allows(f.Fingerprint) {
			res.Allowed = append(res.Allowed, f)
		} else {
			res.Findings = append(res.Findings, f)
		}
	}
	sortFindings(res.Findings)
	sortFindings(res.Allowed)
	slices.SortFunc(res.Problems, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Message, b.Message))
	})
	res.Stats = Stats{
		Files: s.files.Load(), Bytes: s.bytes.Load(), Binary: s.binary.Load(),
		TooLarge: s.tooLarge.Load(), Ignored: s.ignoredFiles.Load(), Commits: s.commits.Load(),
	}
	return res, nil
}

func (s *scan) problem(file string, line int, format string, args ...any) {
	s.mu.Lock()
	s.problems = append(s.problems, Problem{File: file, Line: line, Message: fmt.Sprintf(format, args...)})
	s.mu.Unlock()
}

// getBuf returns a pooled buffer of at least n bytes.
func (s *scan) getBuf(n int) *[]byte {
	if bp, ok := s.pool.Get().(*[]byte); ok && cap(*bp) >= n {
		*bp = (*bp)[:n]
		return bp
	}
	b := make([]byte, n, max(n, 64<<10))
	return &b
}

// maxPooled is the largest buffer kept for reuse; larger ones are left to
// the collector so that one huge file does not pin its size per worker.
const maxPooled = 16 << 20

func (s *scan) putBuf(bp *[]byte) {
	if bp != nil && cap(*bp) <= maxPooled {
		s.pool.Put(bp)
	}
}

// do scans one job. own is the worker's read buffer; do returns it,
// grown if a file needed more room, or nil after an outsized file so that
// its memory goes back.
func (s *scan) do(j job, own []byte) []byte {
	defer s.putBuf(j.buf)
	if s.ctx.Err() != nil {
		return own
	}
	data := j.data
	if j.buf == nil && data == nil {
		var err error
		data, err = s.readFile(j.file, own)
		if cap(data) > cap(own) {
			own = data[:0]
		}
		if err != nil {
			s.problem(j.file, 0, "%v", err)
			return own
		}
		if data == nil {
			return own
		}
	}
	s.scanBuffer(data, j.file, j.commit)
	if cap(own) > maxPooled {
		own = nil
	}
	return own
}

// readFile reads a file into buf, growing it when the file does not fit;
// it returns nil data for a file skipped for its size. A file that fits
// costs one read and the read that sees its end; the size is only asked
// when it does not fit.
func (s *scan) readFile(path string, buf []byte) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open: %w", unwrapPath(err))
	}
	defer f.Close()
	if cap(buf) == 0 {
		buf = make([]byte, 0, 256<<10)
	}
	buf = buf[:0]
	limit := s.opts.MaxFileSize
	tooLarge := func(size int64) ([]byte, error) {
		s.tooLarge.Add(1)
		s.problem(path, 0, "%d bytes, larger than the %d-byte limit; not scanned (raise --max-file-size to scan it)", size, limit)
		return nil, nil
	}
	for {
		if len(buf) == cap(buf) {
			fi, err := f.Stat()
			if err != nil {
				return nil, fmt.Errorf("stat: %w", unwrapPath(err))
			}
			if fi.Size() > limit {
				return tooLarge(fi.Size())
			}
			grown := make([]byte, len(buf), max(fi.Size()+1, int64(2*cap(buf))))
			copy(grown, buf)
			buf = grown
		}
		// Never read more than one byte past the limit.
		end := int(min(int64(cap(buf)), limit+1))
		n, err := f.Read(buf[len(buf):end])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			size := int64(len(buf))
			if fi, err := f.Stat(); err == nil {
				size = fi.Size()
			}
			return tooLarge(size)
		}
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return buf[:0], fmt.Errorf("read: %w", unwrapPath(err))
		}
	}
}

// unwrapPath drops the path from an *os.PathError, which problems already
// name.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// binarySniff is how much of a file is checked for NUL bytes, as git
// does.
const binarySniff = 8000

// isBinary reports whether data looks binary: a NUL byte near its start.
func isBinary(data []byte) bool {
	return bytes.IndexByte(data[:min(len(data), binarySniff)], 0) >= 0
}

// scanBuffer detects credentials in one file's content.
func (s *scan) scanBuffer(buf []byte, file, commit string) {
	if isBinary(buf) {
		s.binary.Add(1)
		return
	}
	s.files.Add(1)
	s.bytes.Add(int64(len(buf)))
	var hits []fileHit
	scanLayers(buf, 0, func(h hit, layers int) {
		fh := fileHit{
			start: h.start, end: h.end, layers: layers,
			kind: h.kind, detector: h.detector, confidence: h.confidence,
			fingerprint: Fingerprint(h.secret),
			redacted:    redact(buf[h.start:h.end], h, layers),
		}
		fh.managed = s.match(h)
		hits = append(hits, fh)
	}, func(off int) {
		s.problem(file, 1+bytes.Count(buf[:off], newline),
			"base64 nested more than %d layers deep; the inner layers were not decoded", maxLayers)
	})
	if len(hits) == 0 {
		return
	}
	fs := findingsFor(buf, file, commit, hits)
	s.mu.Lock()
	s.findings = append(s.findings, fs...)
	s.mu.Unlock()
}

// match asks the Matcher about a hit's values, stopping at the first
// match.
func (s *scan) match(h hit) *Match {
	if s.opts.Matcher == nil {
		return nil
	}
	candidates := h.candidates
	if candidates == nil {
		candidates = [][]byte{h.secret}
	}
	for _, c := range candidates {
		m, ok, err := s.opts.Matcher.Match(s.ctx, c)
		if err != nil {
			msg := fmt.Sprintf("compare with managed secrets: %v", err)
			s.mu.Lock()
			if !s.seenErr[msg] {
				s.seenErr[msg] = true
				s.problems = append(s.problems, Problem{Message: msg})
			}
			s.mu.Unlock()
			return nil
		}
		if ok {
			return &m
		}
	}
	return nil
}

// scanLayers runs the detectors over buf and over the base64 text in it,
// decoding up to maxLayers layers. Hits found inside base64 are reported
// with the bounds of the outermost base64 run and the number of layers
// decoded to reach them; tooDeep is called with the offset of a run nested
// deeper than that.
func scanLayers(buf []byte, layer int, report func(h hit, layers int), tooDeep func(off int)) {
	var hs []hit
	detect(buf, func(h hit) { hs = append(hs, h) })
	for _, h := range dedupe(hs) {
		report(h, 0)
	}
	forEachBase64Run(buf, func(s, e int) {
		dec := decodeBase64(buf[s:e])
		if dec == nil {
			return
		}
		if layer == maxLayers {
			tooDeep(s)
			return
		}
		scanLayers(dec, layer+1, func(h hit, layers int) {
			h.start, h.end = s, e
			report(h, layers+1)
		}, func(int) { tooDeep(s) })
	})
}

// priority orders detectors whose hits cover the same text: the most
// specific first.
func priority(detector string) int {
	switch detector {
	case detConsumerSecret:
		return 1
	case detSecretNearKey:
		return 2
	}
	return 0
}

// dedupe drops hits that repeat another: the same value at the same place
// found by a less specific detector, and parts of an SFDX auth URL or a
// client_id:client_secret pair reported on their own.
func dedupe(hs []hit) []hit {
	if len(hs) < 2 {
		return hs
	}
	slices.SortFunc(hs, func(a, b hit) int {
		return cmp.Or(cmp.Compare(a.start, b.start), cmp.Compare(b.end, a.end), cmp.Compare(priority(a.detector), priority(b.detector)))
	})
	out := hs[:0]
	var cover *hit // the last URL or pair kept
	for i := range hs {
		h := hs[i]
		if cover != nil && h.start >= cover.start && h.end <= cover.end {
			continue
		}
		if n := len(out); n > 0 && out[n-1].start == h.start && out[n-1].end == h.end && bytes.Equal(out[n-1].secret, h.secret) {
			continue
		}
		out = append(out, h)
		if h.kind == KindAuthURL || h.kind == KindClientBundle {
			cover = &out[len(out)-1]
		}
	}
	return out
}
