package workload

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// FuzzVerify feeds arbitrary token text to a verifier with static keys: it
// must never panic, refuse everything it cannot verify with ErrInvalidCredential,
// and only ever accept tokens of the configured issuer.
func FuzzVerify(f *testing.F) {
	key := newKey(f, "k1", jose.ES256)
	set, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{key.jwk()}})
	if err != nil {
		f.Fatal(err)
	}
	path := filepath.Join(f.TempDir(), "jwks.json")
	writeFile(f, path, set)
	v := newVerifier(f, IssuerConfig{KeysFile: path}, OIDCOptions{})
	now := time.Now()
	f.Add(key.sign(f, claimsAt(now)))
	f.Add(unsigned(map[string]any{"alg": "none"}, claimsAt(now), ""))
	f.Add(unsigned(map[string]any{"alg": "ES256", "kid": "k1"}, claimsAt(now), "AAAA"))
	f.Add(unsigned(map[string]any{"alg": "HS256", "kid": "k1"}, map[string]any{"iss": testIssuer, "aud": []any{1, 2}}, "x"))
	f.Add("a.b.c")
	f.Add("..")
	f.Add(`{"payload":"e30","signatures":[]}`)
	f.Fuzz(func(t *testing.T, tok string) {
		w, err := v.Verify(context.Background(), tok)
		if err != nil {
			if !errors.Is(err, ErrInvalidCredential) {
				t.Errorf("error %v does not wrap ErrInvalidCredential", err)
			}
			return
		}
		if w.Issuer != testIssuer || w.Subject == "" || w.ExpiresAt.IsZero() {
			t.Errorf("accepted workload %+v", w)
		}
	})
}

// FuzzParseKeys feeds arbitrary key files to ParseKeys: no panic, and any
// key it returns is public.
func FuzzParseKeys(f *testing.F) {
	key := newKey(f, "k1", jose.RS256)
	set, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{key.jwk()}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(set)
	f.Add([]byte(`{"kty":"oct","k":"AAAA"}`))
	f.Add([]byte(`{"keys":[{"kty":"EC","crv":"P-256","x":"","y":""}]}`))
	f.Add([]byte("-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----\n"))
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		keys, err := ParseKeys(data)
		if err != nil {
			return
		}
		for _, k := range keys {
			if !k.IsPublic() {
				t.Errorf("non-public key returned: %T", k.Key)
			}
		}
	})
}

// FuzzRequestToken feeds arbitrary Authorization headers and form bodies
// to the request parsing of Authenticate: no panic, and a token it returns
// was in the request.
func FuzzRequestToken(f *testing.F) {
	f.Add("Bearer abc", "subject_token=abc&subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Ajwt")
	f.Add("", "subject_token=x&subject_token_type=bogus")
	f.Add("Basic Zm9vOmJhcg==", "")
	f.Add("Bearer  ", "%zz")
	f.Fuzz(func(t *testing.T, header, body string) {
		r := httptest.NewRequest(http.MethodPost, "/v1/token", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if header != "" {
			r.Header.Set("Authorization", header)
		}
		tok, err := requestToken(r)
		if err != nil {
			if !errors.Is(err, ErrInvalidCredential) {
				t.Errorf("error %v does not wrap ErrInvalidCredential", err)
			}
			return
		}
		if tok != "" && !strings.Contains(r.Header.Get("Authorization"), tok) && r.PostForm.Get("subject_token") != tok {
			t.Errorf("token %q is not in the request", tok)
		}
	})
}
