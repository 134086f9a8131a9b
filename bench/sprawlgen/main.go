// Command sprawlgen writes two corpora of mixed source code for
// benchmarking `steward sprawl scan`: a seeded one, holding fake Salesforce
// credentials in every format the scanner detects, and a clean control one
// of the same size holding only near misses. The source is the Go
// distribution's own tree (Go, assembly, C, JSON, HTML, Markdown, test
// data), copied as many times as the size needs.
//
// It writes DIR/seeded, DIR/control and DIR/seeded.expect.tsv, which lists
// file, line and kind of every planted credential, for measuring recall.
//
//	go run ./bench/sprawlgen -out bench/out/sprawl -mb 512
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/steward-dev/steward/internal/sprawl/sprawltest"
)

func main() {
	out := flag.String("out", "", "output directory (created; must not exist)")
	mb := flag.Int64("mb", 512, "size of each corpus in MiB")
	rounds := flag.Int("rounds", 200, "how many sets of every credential format to plant")
	seed := flag.Uint64("seed", 1, "random seed")
	flag.Parse()
	if *out == "" || *mb <= 0 || *rounds <= 0 {
		fmt.Fprintln(os.Stderr, "usage: sprawlgen -out DIR [-mb 512] [-rounds 200] [-seed 1]")
		os.Exit(2)
	}
	if err := generate(*out, *mb<<20, *rounds, *seed); err != nil {
		fmt.Fprintf(os.Stderr, "sprawlgen: %v\n", err)
		os.Exit(1)
	}
}

type source struct {
	rel  string
	data []byte
}

func generate(out string, size int64, rounds int, seed uint64) error {
	if _, err := os.Stat(out); err == nil {
		return fmt.Errorf("%s exists; remove it or pick another directory", out)
	}
	src, total, err := readSources(filepath.Join(runtime.GOROOT(), "src"))
	if err != nil {
		return err
	}
	copies := int((size + total - 1) / total)
	var dirs []string
	for _, corpus := range []string{"seeded", "control"} {
		for c := range copies {
			for _, s := range src {
				p := filepath.Join(out, corpus, fmt.Sprintf("copy-%02d", c), s.rel)
				if err := write(p, s.data); err != nil {
					return err
				}
				if corpus == "seeded" && c == 0 && strings.HasSuffix(s.rel, ".go") {
					dirs = append(dirs, filepath.Dir(s.rel))
				}
			}
		}
	}

	expect, err := os.Create(filepath.Join(out, "seeded.expect.tsv"))
	if err != nil {
		return err
	}
	ew := bufio.NewWriter(expect)
	r := rand.New(rand.NewPCG(seed, 7))
	g := sprawltest.New(seed)
	planted := 0
	for round := range rounds {
		copyDir := fmt.Sprintf("copy-%02d", round%copies)
		dir := dirs[r.IntN(len(dirs))]
		for i, s := range g.Samples() {
			rel := filepath.Join(copyDir, dir, fmt.Sprintf("sf-%04d-%02d", round, i), s.Name)
			if err := write(filepath.Join(out, "seeded", rel), []byte(s.Text)); err != nil {
				return err
			}
			for _, e := range s.Expect {
				fmt.Fprintf(ew, "%s\t%d\t%s\n", rel, e.Line, e.Kind)
				planted++
			}
		}
		for i, s := range g.NearMisses() {
			for _, corpus := range []string{"seeded", "control"} {
				rel := filepath.Join(copyDir, dir, fmt.Sprintf("nm-%04d-%02d", round, i), s.Name)
				if err := write(filepath.Join(out, corpus, rel), []byte(s.Text)); err != nil {
					return err
				}
			}
		}
	}
	if err := ew.Flush(); err != nil {
		return err
	}
	if err := expect.Close(); err != nil {
		return err
	}
	fmt.Printf("%d source files (%d MiB) × %d copies per corpus; %d credentials planted in %d formats\n",
		len(src), total>>20, copies, planted, len(g.Samples()))
	return nil
}

// readSources reads the text files under root: those without a NUL byte
// in their first 8000 bytes, the test that scanners use to skip binaries.
func readSources(root string) ([]source, int64, error) {
	var out []source
	var total int64
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if bytes.IndexByte(data[:min(len(data), 8000)], 0) >= 0 {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		out = append(out, source{rel: rel, data: data})
		total += int64(len(data))
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("read %s: %w", root, err)
	}
	if total == 0 {
		return nil, 0, fmt.Errorf("no source files under %s", root)
	}
	return out, total, nil
}

func write(p string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, data, 0o644)
}
