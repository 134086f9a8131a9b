package server

import (
	"strings"
	"testing"
	"time"
)

func TestElevationConfig(t *testing.T) {
	c, err := ParseConfig("steward.yaml", []byte("dev: true\ninventory: [x]\nelevation: {enabled: true, maxDuration: 8h, sweepInterval: 10s}\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if p := c.Elevation.policy(); p.MaxDuration != 8*time.Hour || time.Duration(c.Elevation.SweepInterval) != 10*time.Second {
		t.Errorf("elevation = %+v", c.Elevation)
	}
	for _, tc := range []struct{ yml, want string }{
		{"elevation: {enabled: true, maxDuration: 25h}", "elevation.maxDuration 25h0m0s: it must be positive and at most the hard cap of 24h0m0s"},
		{"elevation: {enabled: true, maxDuration: 2h, defaultDuration: 3h}", "elevation.defaultDuration 3h0m0s"},
		{"elevation: {enabled: true, org: {clientSecretEnv: A, clientSecretFile: b}}", "at most one of clientSecretEnv and clientSecretFile"},
		{"elevation: {enabled: true, org: {clientSecret: hunter2}}", "clientSecret"},
	} {
		_, err := ParseConfig("steward.yaml", []byte("dev: true\ninventory: [x]\n"+tc.yml+"\n"), env(nil))
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "steward.yaml") {
			t.Errorf("%s: error %v, want one naming steward.yaml and %q", tc.yml, err, tc.want)
		}
	}
	// Off, a cap over the hard cap is still an error.
	if _, err := ParseConfig("steward.yaml", []byte("dev: true\ninventory: [x]\nelevation: {maxDuration: 30h}\n"), env(nil)); err == nil {
		t.Error("disabled elevation with a 30h cap accepted")
	}
}
