package server

import (
	"runtime/debug"
	"testing"
)

func TestTuneGC(t *testing.T) {
	old := debug.SetGCPercent(100)
	defer debug.SetGCPercent(old)
	for _, tc := range []struct {
		gogc       string
		start, got int
	}{
		{"", 100, GCPercent}, // the broker's default
		{"150", 150, 150},    // $GOGC, which the runtime applied, is left alone
		{"off", -1, -1},      // even when it turns the collector off
	} {
		debug.SetGCPercent(tc.start)
		got := TuneGC(func(k string) string {
			if k == "GOGC" {
				return tc.gogc
			}
			return ""
		})
		if now := debug.SetGCPercent(100); got != tc.got || now != tc.got {
			t.Errorf("GOGC=%q: TuneGC = %d, target %d; want %d", tc.gogc, got, now, tc.got)
		}
	}
}
