package workload

import (
	"context"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// BenchmarkVerify measures the verification of one token whose issuer's
// keys are fetched already, as on the broker's hot path: "full" parses the
// token and checks its signature and claims every time; "cached" is the same
// token seen again (hash, look-up, time claims).
func BenchmarkVerify(b *testing.B) {
	for _, alg := range []jose.SignatureAlgorithm{jose.ES256, jose.RS256, jose.EdDSA} {
		for _, mode := range []struct {
			name string
			size int
		}{{"full", -1}, {"cached", DefaultCacheSize}} {
			b.Run(string(alg)+"/"+mode.name, func(b *testing.B) {
				benchVerify(b, alg, mode.size)
			})
		}
	}
}

func benchVerify(b *testing.B, alg jose.SignatureAlgorithm, cacheSize int) {
	key := newKey(b, "k1", alg)
	v := newVerifier(b, IssuerConfig{JWKSURL: newJWKSServer(b, key).URL, EnvironmentClaim: "environment"}, OIDCOptions{CacheSize: cacheSize})
	claims := claimsAt(time.Now())
	claims["exp"] = time.Now().Add(time.Hour).Unix()
	tok := key.sign(b, claims)
	ctx := context.Background()
	if _, err := v.Verify(ctx, tok); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}
