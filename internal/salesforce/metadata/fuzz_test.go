package metadata

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Each fuzz target parses arbitrary bytes as one kind of file. Properties:
// Parse never panics; it returns a record or a *FileError naming the file;
// and the value of a consumerSecret element never reaches an error or a
// warning (nor the record, when the value appears nowhere else in the input).
//
// Seeds: the hand-written fixtures under testdata/valid, the real-world
// corpus when it is present, and a few hostile inputs.

func FuzzParseConnectedApp(f *testing.F)       { fuzzParse(f, "Fuzz.connectedApp-meta.xml") }
func FuzzParseECAHeader(f *testing.F)          { fuzzParse(f, "Fuzz.eca-meta.xml") }
func FuzzParseECAOAuth(f *testing.F)           { fuzzParse(f, "Fuzz.ecaOauth-meta.xml") }
func FuzzParseECAGlobalOAuth(f *testing.F)     { fuzzParse(f, "Fuzz.ecaGlblOauth-meta.xml") }
func FuzzParseECAOAuthPolicy(f *testing.F)     { fuzzParse(f, "Fuzz.ecaOauthPlcy-meta.xml") }
func FuzzParseECAPluginPolicy(f *testing.F)    { fuzzParse(f, "Fuzz.ecaPlcy-meta.xml") }
func FuzzParsePermissionSet(f *testing.F)      { fuzzParse(f, "Fuzz.permissionset-meta.xml") }
func FuzzParsePermissionSetGroup(f *testing.F) { fuzzParse(f, "Fuzz.permissionsetgroup-meta.xml") }
func FuzzParseProfile(f *testing.F)            { fuzzParse(f, "Fuzz.profile-meta.xml") }

// secretElement finds consumerSecret elements whose value looks like a real
// secret (Salesforce secrets are at least 8 characters).
var secretElement = regexp.MustCompile(`<consumerSecret>([A-Za-z0-9]{8,})</consumerSecret>`)

func fuzzParse(f *testing.F, path string) {
	kind := Kind(path)
	// Large seeds (the 42 KB Admin profile) slow every mutation of them
	// tenfold; TestCorpusLoads covers those files.
	const maxSeed = 16 << 10
	for _, dir := range []string{filepath.Join("testdata", "valid"), corpusDir} {
		_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && Kind(p) == kind {
				if data, err := os.ReadFile(p); err == nil && len(data) <= maxSeed {
					f.Add(data)
				}
			}
			return nil
		})
	}
	root := `<` + kind + ` xmlns="http://soap.sforce.com/2006/04/metadata">`
	end := `</` + kind + `>`
	for _, seed := range []string{
		root + end,
		root + "<consumerSecret>S3cr3tSeedValue99</consumerSecret>" + end,
		root + "<oauthConfig><consumerSecret>S3cr3tSeedValue99</consumerSecret><oops" + end,
		root + "<consumerSecret>&S3cr3tSeedValue99;</consumerSecret>" + end,
		"<!DOCTYPE x [<!ENTITY a \"aaaa\"><!ENTITY b \"&a;&a;&a;\">]>" + root + "&b;" + end,
		root + strings.Repeat("<a>", 70) + end,
		root + "<label>\xff</label>" + end,
		root + "<commaSeparatedOauthScopes>Api,\n Web ,,</commaSeparatedOauthScopes><callbackUrl>\n\n</callbackUrl>" + end,
	} {
		f.Add([]byte(seed))
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		rec, warnings, err := Parse(path, data)
		if err != nil {
			var fe *FileError
			if !errors.As(err, &fe) || fe.File != path || rec != nil || warnings != nil {
				t.Fatalf("Parse = %v, %v, %#v", rec, warnings, err)
			}
		} else if rec == nil {
			t.Fatal("no record and no error")
		}
		for _, w := range warnings {
			if w.File != path || w.Line < 1 {
				t.Errorf("warning at %s:%d", w.File, w.Line)
			}
		}

		// CDATA turns markup into text, so what looks like a consumerSecret
		// element may be another element's value: skip the secrecy check.
		if bytes.Contains(data, []byte("<![CDATA[")) {
			return
		}
		for _, m := range secretElement.FindAllSubmatch(data, -1) {
			// Only a value that stands nowhere else is checked: an error may
			// quote the file before the secret was reached (a bad name, say),
			// and a kept field may hold another copy of it. (Copies in
			// warnings are scrubbed; TestSecretNeverInOutput covers that.)
			if bytes.Count(data, m[1]) > 1 {
				continue
			}
			secret := string(m[1])
			if err != nil && strings.Contains(err.Error(), secret) {
				t.Fatalf("error holds the secret %q: %v", secret, err)
			}
			for _, w := range warnings {
				if strings.Contains(w.String(), secret) {
					t.Fatalf("warning holds the secret %q: %v", secret, w)
				}
			}
			// A character reference (&#65;) could spell it in a kept field.
			if !bytes.Contains(data, []byte("&")) && strings.Contains(dump(rec), secret) {
				t.Fatalf("record holds the secret %q: %s", secret, dump(rec))
			}
		}
	})
}
