package appprofile

// This file is the Manager's Graph budget in resource units (RU) and its reaction to Graph's
// throttling signals, as Microsoft documents them (microsoft-graph-docs-contrib,
// concepts/throttling-limits.md, identity and access service limits; concepts/throttling.md):
//
//   - Identity reads are token buckets in RU: per app across all tenants (150,000 RU / 20 s),
//     per app + tenant sized by the tenant's users (3,500 / 5,000 / 8,000 RU per 10 s for
//     < 50 / 50–500 / > 500 users). The per-app budget is the embedder's (WithRateLimit, in RU
//     when the driver is a consent.ResourceUnitCoster); the per-tenant bucket is kept here.
//   - A 429's x-ms-throttle-scope says whose budget ran out: Application pauses every call of
//     the Manager; Tenant and Tenant_Application pause calls about that tenant only.
//   - x-ms-throttle-limit-percentage is sent above 80 % of a limit: the Manager then halves its
//     rate (quarters it at 100 %) for slowDownFor, before Graph starts answering 429.

import (
	"context"
	"math"
	"sync"
	"time"

	"github.com/tenantapps/tenantapps/consent"
)

const (
	// slowDownFor is how long an x-ms-throttle-limit-percentage warning slows the Manager.
	slowDownFor = 10 * time.Second
	// maxTenantBuckets bounds the per-tenant bucket map; idle (full) buckets are dropped first.
	maxTenantBuckets = 4096
	// pruneBucketsEvery is how often full buckets are dropped although the map is below
	// maxTenantBuckets: a bucket refills within 10 s (Graph's window), so the map holds about the
	// tenants read in the last 10–20 s rather than every tenant read since the start.
	pruneBucketsEvery = 10 * time.Second
)

// budget is the Manager's per-tenant RU buckets and slow-down state.
type budget struct {
	mu         sync.Mutex
	tenants    map[string]*limiter
	users      map[string]int // cached tenant sizes; -1 = could not be read
	slowUntil  time.Time
	slowFactor int
	pruned     time.Time // last pruneLocked
}

func newBudget() *budget {
	return &budget{tenants: map[string]*limiter{}, users: map[string]int{}}
}

// cost is what a driver call reading apps applications costs: RU when the driver knows them,
// else one unit per application (the budget then counts profile reads), multiplied while Graph
// warns that a limit is near.
func (m *Manager) cost(tenant string, apps int) int {
	c := max(apps, 1)
	if rc, ok := m.driver.(consent.ResourceUnitCoster); ok {
		c = max(rc.AppStatesCost(tenant, apps), 1)
	}
	m.budget.mu.Lock()
	if time.Now().Before(m.budget.slowUntil) {
		c *= max(m.budget.slowFactor, 1)
	}
	m.budget.mu.Unlock()
	return c
}

// waitTenantBudget waits for ru from tenant's per-app+tenant bucket (only when the driver prices
// its reads in RU: the bucket is Graph's, in RU).
func (m *Manager) waitTenantBudget(ctx context.Context, tenant string, ru int) error {
	if tenant == "" {
		return nil
	}
	if _, ok := m.driver.(consent.ResourceUnitCoster); !ok {
		return nil
	}
	users := m.tenantUsers(ctx, tenant)
	per10s := consent.TenantReadBudget(users)
	m.budget.mu.Lock()
	l, ok := m.budget.tenants[tenant]
	if !ok {
		if len(m.budget.tenants) >= maxTenantBuckets || time.Since(m.budget.pruned) >= pruneBucketsEvery {
			m.budget.pruneLocked()
		}
		l = newLimiter(RateLimit{PerSecond: float64(per10s) / 10, Burst: per10s})
		m.budget.tenants[tenant] = l
	}
	m.budget.mu.Unlock()
	return l.wait(ctx, ru)
}

// pruneLocked drops the buckets that are full again (their tenants have been idle).
func (b *budget) pruneLocked() {
	now := time.Now()
	b.pruned = now
	for t, l := range b.tenants {
		l.mu.Lock()
		full := l.tokens+now.Sub(l.last).Seconds()*l.rate >= l.burst && !now.Before(l.until)
		l.mu.Unlock()
		if full {
			delete(b.tenants, t)
		}
	}
	if len(b.tenants) >= maxTenantBuckets {
		clear(b.tenants) // all busy: start afresh rather than grow without bound
	}
}

// tenantUsers returns tenant's cached user count, reading it once through a consent.TenantSizer
// driver; -1 when unknown (no sizer, or the read failed: the smallest budget applies).
func (m *Manager) tenantUsers(ctx context.Context, tenant string) int {
	ts, ok := m.driver.(consent.TenantSizer)
	if !ok || !ts.SizesTenants() {
		return -1
	}
	m.budget.mu.Lock()
	n, ok := m.budget.users[tenant]
	m.budget.mu.Unlock()
	if ok {
		return n
	}
	// The count is a read too (1 RU: GET users with $select and $top), charged to the budget.
	if err := m.limiter.wait(ctx, 1); err != nil {
		return -1
	}
	n, err := ts.TenantUserCount(ctx, tenant)
	if err != nil {
		if ctx.Err() != nil {
			return -1 // not cached: ask again next time
		}
		n = -1
	}
	m.budget.mu.Lock()
	if len(m.budget.users) >= 16*maxTenantBuckets {
		clear(m.budget.users)
	}
	m.budget.users[tenant] = n
	m.budget.mu.Unlock()
	return n
}

// observe is the consent.ThrottleObserver of the Manager's driver calls: a limit percentage at or
// above 0.8 slows the Manager down before Graph throttles it.
func (m *Manager) observe(ctx context.Context) consent.ThrottleObserver {
	forward := throttleListenerFrom(ctx)
	return func(tenant string, t consent.Throttle) {
		if t.ResourceUnits > 0 {
			m.tel.ru.Add(ctx, int64(t.ResourceUnits))
		}
		if t.LimitPercentage >= 0.8 {
			factor := 2
			if t.LimitPercentage >= 1 {
				factor = 4
			}
			now := time.Now()
			m.budget.mu.Lock()
			if now.Before(m.budget.slowUntil) {
				factor = max(factor, m.budget.slowFactor)
			}
			m.budget.slowUntil, m.budget.slowFactor = now.Add(slowDownFor), factor
			m.budget.mu.Unlock()
		}
		if forward != nil {
			forward(tenant, t)
		}
	}
}

// throttled reacts to err, the outcome of a driver call about tenant: a throttle of Application
// scope (or about no tenant) pauses every call, any other pauses the tenant's calls, for the
// Retry-After the service gave. It reports the throttle to ctx's listener.
func (m *Manager) throttled(ctx context.Context, tenant string, err error) {
	d, ok := consent.RetryAfter(err)
	if !ok || d <= 0 {
		return
	}
	t, hasScope := consent.ThrottleOf(err)
	m.recordThrottle(ctx, string(t.Scope))
	if tenant == "" || (hasScope && t.Scope.PausesApp()) {
		m.limiter.pause(d)
	} else {
		m.pauseTenant(tenant, d)
	}
	if l := throttleListenerFrom(ctx); l != nil {
		if !hasScope {
			t = consent.Throttle{RetryAfter: d}
		}
		if t.RetryAfter == 0 {
			t.RetryAfter = d
		}
		l(tenant, t)
	}
}

type throttleListenerKey struct{}

// withThrottleListener makes the driver calls made for ctx report Graph's throttle signals
// (429s with their scope, RU, limit percentage) to l as well.
func withThrottleListener(ctx context.Context, l consent.ThrottleObserver) context.Context {
	if l == nil {
		return ctx
	}
	return context.WithValue(ctx, throttleListenerKey{}, l)
}

func throttleListenerFrom(ctx context.Context) consent.ThrottleObserver {
	l, _ := ctx.Value(throttleListenerKey{}).(consent.ThrottleObserver)
	return l
}

// SetRateLimit changes the Manager's rate budget while it runs: a fleet runner gives each replica
// its share of the app's global budget as replicas come and go (appprofile/fleetriver). Calls
// already waiting use the new rate when they next wake. Safe for concurrent use.
func (m *Manager) SetRateLimit(r RateLimit) {
	if r.PerSecond < 0 || r.Burst < 0 {
		return
	}
	m.limiter.set(r)
}

// RateLimit returns the Manager's current rate budget.
func (m *Manager) RateLimit() RateLimit {
	l := m.limiter
	l.mu.Lock()
	defer l.mu.Unlock()
	return RateLimit{PerSecond: l.rate, Burst: int(l.burst)}
}

// set replaces the bucket's rate and burst, keeping the tokens it holds (at most the new burst).
func (l *limiter) set(r RateLimit) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if l.rate > 0 {
		l.tokens = math.Min(l.burst, l.tokens+now.Sub(l.last).Seconds()*l.rate)
	}
	l.last = now
	l.rate = r.PerSecond
	l.burst = math.Max(float64(r.Burst), 1)
	l.tokens = math.Min(l.tokens, l.burst)
}
