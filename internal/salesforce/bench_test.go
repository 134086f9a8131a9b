package salesforce

import (
	"context"
	"testing"
)

// BenchmarkQueryThreePages measures one three-batch query against the
// loopback fake, HTTP included.
func BenchmarkQueryThreePages(b *testing.B) {
	o := newFakeOrg(b)
	pagedQuery(b, o)
	c, _, _ := testClient(b, o)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := QueryAll[contact](ctx, c, contactSOQL); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(c.Calls())/float64(b.N), "calls/op")
}

// BenchmarkDecodeReadMetadata measures decoding a readMetadata response and
// wrapping its first record for the metadata parser.
func BenchmarkDecodeReadMetadata(b *testing.B) {
	body := fixture(b, "soap/read-response.xml")
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		recs, err := decodeReadMetadata(body)
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := recs[0].Document(); err != nil {
			b.Fatal(err)
		}
	}
}
