package appprofile

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tenantapps/tenantapps/consent"
	"github.com/tenantapps/tenantapps/consent/consenttest"
	"github.com/tenantapps/tenantapps/store/memstore"
)

// TestAbsurdRetryAfterPausesAtMostTheCeiling: one throttled answer asking for 2,562,047 hours
// (a year-9999 HTTP date, as a hostile or broken service could send) must not pause a tenant,
// or the whole Manager, for longer than consent.MaxRetryAfter; later Verify calls about that
// tenant then start after at most the ceiling, not at their deadline.
func TestAbsurdRetryAfterPausesAtMostTheCeiling(t *testing.T) {
	m, err := New(memstore.New(), consenttest.NewFake())
	if err != nil {
		t.Fatal(err)
	}
	const tenant = "11111111-2222-3333-4444-555555555555"
	absurd := &consent.DriverError{Op: "AppState", TenantID: tenant, Code: "TooManyRequests", RetryAfter: 2562047 * time.Hour, Err: consent.ErrThrottled}
	for _, who := range []string{tenant, ""} {
		before := time.Now()
		err := m.call(context.Background(), who, func(context.Context) error { return absurd })
		if !errors.Is(err, consent.ErrThrottled) {
			t.Fatalf("call(%q) = %v, want ErrThrottled", who, err)
		}
		var until time.Time
		if who == "" {
			m.limiter.mu.Lock()
			until = m.limiter.until
			m.limiter.mu.Unlock()
		} else {
			m.mu.Lock()
			until = m.tenantPause[who]
			m.mu.Unlock()
		}
		if got := until.Sub(before); got <= 0 || got > consent.MaxRetryAfter+time.Second {
			t.Errorf("tenant %q paused for %v, want at most consent.MaxRetryAfter (%v)", who, got, consent.MaxRetryAfter)
		}
	}
}
