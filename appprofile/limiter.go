package appprofile

import (
	"context"
	"sync"
	"time"

	"github.com/tenantapps/tenantapps/consent"
)

// limiter is a token bucket shared by every driver call of a Manager, with a pause that a
// Retry-After answer extends: while paused, no call starts. It uses real time.
type limiter struct {
	rate  float64 // tokens per second; 0 = unlimited
	burst float64

	mu     sync.Mutex
	tokens float64
	last   time.Time
	until  time.Time // paused until
}

func newLimiter(r RateLimit) *limiter {
	b := float64(r.Burst)
	if b < 1 {
		b = 1
	}
	return &limiter{rate: r.PerSecond, burst: b, tokens: b, last: time.Now()}
}

// wait blocks until a call costing n units may start or ctx ends. A cost above the burst
// starts once the bucket is full and leaves it in debt, which later calls wait out.
func (l *limiter) wait(ctx context.Context, n int) error {
	cost := float64(max(n, 1))
	for {
		l.mu.Lock()
		now := time.Now()
		var delay time.Duration
		switch {
		case now.Before(l.until):
			delay = l.until.Sub(now)
		case l.rate <= 0:
			l.mu.Unlock()
			return ctx.Err()
		default:
			l.tokens += now.Sub(l.last).Seconds() * l.rate
			if l.tokens > l.burst {
				l.tokens = l.burst
			}
			l.last = now
			need := min(cost, l.burst)
			if l.tokens >= need {
				l.tokens -= cost
				l.mu.Unlock()
				return ctx.Err()
			}
			delay = time.Duration((need - l.tokens) / l.rate * float64(time.Second))
		}
		l.mu.Unlock()
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// pause stops new calls for d from now (never shortening a longer pause); d is clamped to
// consent.MaxRetryAfter, so one answer cannot stop the Manager for longer.
func (l *limiter) pause(d time.Duration) {
	d = consent.ClampRetryAfter(d)
	l.mu.Lock()
	defer l.mu.Unlock()
	if u := time.Now().Add(d); u.After(l.until) {
		l.until = u
	}
}
