package store

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCleanText(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain", "plain"},
		{"nul\x00byte", "nul byte"},
		{"bad\xffutf8", "bad\uFFFDutf8"},
	} {
		if got := cleanText(tc.in, 100); got != tc.want {
			t.Errorf("cleanText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	long := strings.Repeat("é", 600) // 1200 bytes
	got := cleanText(long, MaxFieldLen)
	if len(got) > MaxFieldLen || !utf8.ValidString(got) || len(got) < MaxFieldLen-1 {
		t.Errorf("cleanText(1200 bytes) = %d bytes (valid UTF-8: %v), want at most %d on a rune boundary", len(got), utf8.ValidString(got), MaxFieldLen)
	}
}
