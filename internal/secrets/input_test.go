package secrets_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/steward-dev/steward/internal/secrets"
)

func TestParseBundleBadInput(t *testing.T) {
	const s = `"consumerSecret":"` + knownSecret + `"`
	for _, tc := range []struct {
		name, in, want string
	}{
		{"empty", ``, "empty input"},
		{"not JSON", `url=https://x ` + knownSecret, "line 1: malformed JSON"},
		{"syntax error on line 3", "{\n\"url\": \"https://a.my.salesforce.com\",\n" + s + ",,\n}", "line 3: malformed JSON"},
		{"unknown field", `{"url":"https://a.my.salesforce.com","consumerKey":"k",` + s + `,"password":"` + knownSecret + `"}`, `unknown field "password"`},
		{"wrong type", `{"url":"https://a.my.salesforce.com","consumerKey":7,` + s + `}`, "field consumerKey must be a string"},
		{"no url", `{"consumerKey":"k",` + s + `}`, "url is required"},
		{"http url", `{"url":"http://a.my.salesforce.com","consumerKey":"k",` + s + `}`, "must be an https URL"},
		{"url with password", `{"url":"https://u:` + knownSecret + `@a.my.salesforce.com","consumerKey":"k",` + s + `}`, "no user information"},
		{"no secret", `{"url":"https://a.my.salesforce.com","consumerKey":"k"}`, "consumerSecret is required"},
		{"bad private key", `{"url":"https://a.my.salesforce.com","consumerKey":"k",` + s + `,"privateKey":"` + knownSecret + `"}`, "PEM private key"},
		{"trailing data", `{"url":"https://a.my.salesforce.com","consumerKey":"k",` + s + `} {}`, "unexpected data after"},
		{"invalid UTF-8", "{\"url\":\"\xff\"}", "not valid UTF-8"},
		{"huge", `{"url":"` + strings.Repeat("a", 70<<10) + `"}`, "more than the"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := secrets.ParseBundle([]byte(tc.in), "bundle.json")
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "bundle.json") {
				t.Fatalf("err = %v; want one naming bundle.json and saying %q", err, tc.want)
			}
			if strings.Contains(err.Error(), knownSecret) || strings.Contains(err.Error(), knownSecret[:12]) {
				t.Fatalf("error repeats the secret: %v", err)
			}
		})
	}
	b, err := secrets.ParseBundle([]byte(`{"url":"https://a.my.salesforce.com","consumerKey":"k",`+s+`}`), "ok.json")
	if err != nil || b.ConsumerSecret != knownSecret {
		t.Fatalf("valid bundle: %v", err)
	}
}

func FuzzParseBundle(f *testing.F) {
	f.Add([]byte(`{"url":"https://a.my.salesforce.com","consumerKey":"k","consumerSecret":"s"}`))
	f.Add([]byte(`{"url":"https://a.my.salesforce.com","consumerKey":"k","consumerSecret":"s","privateKey":"-----BEGIN PRIVATE KEY-----\nAA==\n-----END PRIVATE KEY-----\n"}`))
	f.Add([]byte(`{"url":1}`))
	f.Add([]byte("\xff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := secrets.ParseBundle(data, "fuzz.json")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.json") {
				t.Fatalf("error does not name the input: %v", err)
			}
			return
		}
		if b.URL == "" || b.ConsumerKey == "" || b.ConsumerSecret == "" {
			t.Fatalf("accepted an incomplete bundle")
		}
	})
}

func TestKeyProviders(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		os.Chmod(p, mode)
		return p
	}
	k1, k2 := newKEK("k1"), newKEK("k2")
	good := write("good", "# current first\n"+k2+"\n"+k1+"\n", 0o600)
	kr, err := secrets.FileKeyProvider(good)
	if err != nil || kr.CurrentKeyID() != "k2" {
		t.Fatalf("FileKeyProvider = %v, %v", kr, err)
	}
	for _, tc := range []struct {
		name string
		path string
		want string
	}{
		{"missing file", filepath.Join(dir, "nope"), "does not exist: create it"},
		{"readable by others", write("open", k1, 0o644), "readable by others (mode 0644): chmod 600"},
		{"empty", write("empty", "# nothing\n", 0o600), "no key-encryption key"},
		{"short key", write("short", "k1:c2hvcnQ=\n", 0o600), ":1: key k1 is not 32 bytes of base64"},
		{"no id", write("noid", strings.TrimPrefix(k1, "k1"), 0o600), "written id:base64-key"},
		{"duplicate", write("dup", k1+"\n"+strings.Replace(k2, "k2", "k1", 1), 0o600), ":2: key k1 appears twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := secrets.FileKeyProvider(tc.path)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v; want %q", err, tc.want)
			}
			if _, key, _ := strings.Cut(k1, ":"); strings.Contains(err.Error(), key) {
				t.Fatalf("error repeats key material: %v", err)
			}
		})
	}
	env := map[string]string{secrets.KEKEnv: k1 + "," + k2}
	kr, err = secrets.EnvKeyProvider(func(k string) string { return env[k] }, secrets.KEKEnv)
	if err != nil || kr.CurrentKeyID() != "k1" {
		t.Fatalf("EnvKeyProvider = %v, %v", kr, err)
	}
	if _, err := secrets.EnvKeyProvider(func(string) string { return "" }, secrets.KEKEnv); err == nil || !strings.Contains(err.Error(), "STEWARD_KEK is not set") {
		t.Fatalf("unset env: %v", err)
	}
	if _, err := kr.Unwrap(t.Context(), "k9", []byte("x"), nil); !errors.Is(err, secrets.ErrUnknownKEK) {
		t.Fatalf("Unwrap with an unknown KEK: %v", err)
	}
}
