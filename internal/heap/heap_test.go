package heap

import (
	"strings"
	"testing"
)

func TestSelectedMode(t *testing.T) {
	for _, tc := range []struct{ setting, want string }{
		{"always [madvise] never\n", "madvise"},
		{"[always] madvise never", "always"},
		{"always madvise [never]", "never"},
		{"always defer defer+madvise [madvise] never", "madvise"},
		{"always madvise never", ""},
		{"[] madvise", ""},
		{"", ""},
	} {
		if got := selectedMode(tc.setting); got != tc.want {
			t.Errorf("selectedMode(%q) = %q, want %q", tc.setting, got, tc.want)
		}
	}
}

func TestReservable(t *testing.T) {
	for _, tc := range []struct {
		size int64
		ram  uint64
		want int64
	}{
		{2 << 30, 24 << 30, 2 << 30},
		{2 << 30, 2 << 30, 512 << 20},
		{512 << 20, 1 << 30, 256 << 20},
		{512 << 20, 0, 0},
	} {
		if got := reservable(tc.size, tc.ram); got != tc.want {
			t.Errorf("reservable(%d, %d) = %d, want %d", tc.size, tc.ram, got, tc.want)
		}
	}
}

func FuzzSelectedMode(f *testing.F) {
	f.Add("always [madvise] never")
	f.Add("[always] madvise never")
	f.Add("[")
	f.Fuzz(func(t *testing.T, setting string) {
		m := selectedMode(setting)
		if m != "" && !strings.Contains(setting, "["+m+"]") {
			t.Errorf("selectedMode(%q) = %q, which the setting does not select", setting, m)
		}
	})
}
