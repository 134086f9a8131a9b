package inventory

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkLoad10k loads 10,000 Identity and 10,000 Team manifests in 20
// files of 500 of each, shaped like the bench/gen fixture, and reports how
// many manifests it reads per second.
func BenchmarkLoad10k(b *testing.B) {
	const n, perFile = 10000, 500
	dir := b.TempDir()
	var size int64
	for f := range n / perFile {
		path := filepath.Join(dir, fmt.Sprintf("identities-%03d.yaml", f))
		out, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		w := bufio.NewWriter(out)
		for i := f * perFile; i < (f+1)*perFile; i++ {
			fmt.Fprintf(w, `apiVersion: steward.dev/v1alpha1
kind: Team
metadata: {name: team-%05d}
spec:
  members: [owner%05d@bench.example]
  backup: sec-oncall@bench.example
---
apiVersion: steward.dev/v1alpha1
kind: Identity
metadata:
  name: integration-%05d
spec:
  service: service-%05d
  owner: team-%05d
  environment: production
  criticality: medium
  purpose: Synthetic integration %d
  salesforce:
    url: https://bench.my.salesforce.com
    app: Integration_%05d
    runAs: int%05d@bench.example
    runAsProfile: Minimum Access - API Only Integrations
    runAsPermissionSets: [Integration_%05d]
  access:
    scopes: [api]
    objects:
      Account: [read, edit]
  credential:
    secret: integration-%05d
    rotationDays: 90
    rotatedAt: 2026-10-01
  review:
    intervalDays: 90
    lastReviewed: 2026-10-01
---
`, i, i, i, i, i, i, i, i, i, i)
		}
		if err := w.Flush(); err != nil {
			b.Fatal(err)
		}
		if err := out.Close(); err != nil {
			b.Fatal(err)
		}
		fi, err := os.Stat(path)
		if err != nil {
			b.Fatal(err)
		}
		size += fi.Size()
	}
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		inv, err := Load([]string{dir}, Options{RequireManifests: true})
		if err != nil || len(inv.Identities) != n || len(inv.Teams) != n {
			b.Fatalf("Load: %d identities, %d teams, %v", len(inv.Identities), len(inv.Teams), err)
		}
	}
	b.ReportMetric(float64(2*n)*float64(b.N)/b.Elapsed().Seconds(), "manifests/s")
}
