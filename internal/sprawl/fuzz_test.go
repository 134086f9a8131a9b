package sprawl

import (
	"bytes"
	"encoding/base64"
	"testing"

	"github.com/steward-dev/steward/internal/sprawl/sprawltest"
)

func fuzzSeeds(f *testing.F) {
	g := sprawltest.New(99)
	for _, s := range append(g.Samples(), g.NearMisses()...) {
		f.Add([]byte(s.Text))
	}
	f.Add([]byte("force://a:b:" + g.RefreshToken() + "@x"))
	f.Add([]byte("<fullName>Consumer_Secret__c</fullName><defaultValue>&quot;"))
	f.Add([]byte("\xff\xfe" + base64.StdEncoding.EncodeToString([]byte("\x00"+g.ConsumerKey()))))
	f.Add([]byte{})
}

// FuzzDetect checks that the detectors never panic, keep every hit inside
// its buffer, and never put a credential in an excerpt.
func FuzzDetect(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		var hits []fileHit
		var secrets [][]byte
		scanLayers(data, 0, func(h hit, layers int) {
			if h.start < 0 || h.end > len(data) || h.start > h.end {
				t.Fatalf("hit %d..%d outside %d bytes", h.start, h.end, len(data))
			}
			if len(h.secret) == 0 {
				t.Fatalf("hit %s without a value", h.detector)
			}
			secrets = append(secrets, bytes.Clone(h.secret))
			hits = append(hits, fileHit{start: h.start, end: h.end, layers: layers, kind: h.kind, detector: h.detector,
				fingerprint: Fingerprint(h.secret), redacted: redact(data[h.start:h.end], h, layers)})
		}, func(off int) {
			if off < 0 || off > len(data) {
				t.Fatalf("nesting reported at %d of %d", off, len(data))
			}
		})
		fs := findingsFor(data, "f", "", hits)
		for _, f := range fs {
			for _, s := range secrets {
				if len(s) >= 16 && bytes.Contains([]byte(f.Excerpt), s) {
					t.Fatalf("excerpt %q holds a credential", f.Excerpt)
				}
			}
		}
	})
}

// FuzzDecodeBase64 checks that every run found decodes without panicking
// and that what decodes is text.
func FuzzDecodeBase64(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		forEachBase64Run(data, func(s, e int) {
			if s < 0 || e > len(data) || e-s < minBase64Run {
				t.Fatalf("run %d..%d in %d bytes", s, e, len(data))
			}
			if dec := decodeBase64(data[s:e]); dec != nil && !printable(dec) {
				t.Fatalf("decoded %d bytes of non-text", len(dec))
			}
		})
	})
}

// FuzzAllowList checks that allow-list parsing never panics and never
// accepts anything but fingerprints.
func FuzzAllowList(f *testing.F) {
	f.Add([]byte("# x\n" + Fingerprint([]byte("a")) + " # why\n"))
	f.Add([]byte("sfp1:zz\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := parseAllowList(bytes.NewReader(data), "allow")
		if err != nil {
			return
		}
		for fp := range a {
			if !validFingerprint(fp) {
				t.Fatalf("accepted %q", fp)
			}
		}
	})
}
