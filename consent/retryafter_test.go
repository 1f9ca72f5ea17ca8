package consent_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/tenantapps/tenantapps/consent"
)

func TestParseRetryAfterBoundsAndNonsense(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	date := func(d time.Duration) string { return now.Add(d).Format(http.TimeFormat) }
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"2", 2 * time.Second},
		{"2.5", 2500 * time.Millisecond},
		{"315", 315 * time.Second},
		{"3600", consent.MaxRetryAfter}, // plausible but long: clamped
		{"86400", consent.MaxRetryAfter},
		{"86401", 0}, // more than a day: nonsense, absent
		{"1e9", 0},
		{"0", 0},
		{"-1", 0},
		{"-0.5", 0},
		{"NaN", 0},
		{"nan", 0},
		{"Inf", 0},
		{"+Inf", 0},
		{"-Inf", 0},
		{"soon", 0},
		{date(30 * time.Second), 30 * time.Second},
		{date(2 * time.Hour), consent.MaxRetryAfter},
		{date(-time.Hour), 0},
		{"Fri, 31 Dec 9999 23:59:59 GMT", 0}, // +2,562,047 h before the fix
		{date(25 * time.Hour), 0},
	} {
		if got := consent.ParseRetryAfter(tc.in, now); got != tc.want {
			t.Errorf("ParseRetryAfter(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestRetryAfterIsClamped(t *testing.T) {
	for _, tc := range []struct {
		reported time.Duration
		want     time.Duration
		ok       bool
	}{
		{2562047 * time.Hour, consent.MaxRetryAfter, true},
		{consent.MaxRetryAfter + time.Nanosecond, consent.MaxRetryAfter, true},
		{5 * time.Second, 5 * time.Second, true},
		{-time.Hour, 0, false},
		{0, 0, false},
	} {
		err := &consent.DriverError{Op: "AppState", RetryAfter: tc.reported, Err: consent.ErrThrottled}
		got, ok := consent.RetryAfter(err)
		if got != tc.want || ok != tc.ok {
			t.Errorf("RetryAfter(DriverError{RetryAfter: %v}) = %v, %v; want %v, %v", tc.reported, got, ok, tc.want, tc.ok)
		}
	}
}

// FuzzParseRetryAfter: whatever a service sends, the wait is absent or within [0, MaxRetryAfter].
func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"", "2", "2.5", "NaN", "-Inf", "1e308", "Fri, 31 Dec 9999 23:59:59 GMT", "Thu, 01 Jan 1970 00:00:00 GMT", "Sun, 06 Nov 1994 08:49:37 GMT"} {
		f.Add(s)
	}
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		if d := consent.ParseRetryAfter(v, now); d < 0 || d > consent.MaxRetryAfter {
			t.Fatalf("ParseRetryAfter(%q) = %v, outside [0, %v]", v, d, consent.MaxRetryAfter)
		}
	})
}
