package appprofile

import (
	"context"
	"testing"
	"time"

	"github.com/tenantapps/tenantapps/consent"
	"github.com/tenantapps/tenantapps/consent/consenttest"
	"github.com/tenantapps/tenantapps/store/memstore"
)

type pricedDriver struct{ consent.Driver }

func (pricedDriver) AppStatesCost(_ string, apps int) int { return 3 * apps }

// TestLimitPercentageSlowsDown: x-ms-throttle-limit-percentage ≥ 0.8 doubles what each call costs
// the budget (≥ 1.0 quadruples it) for slowDownFor; RU are charged as the driver prices them.
func TestLimitPercentageSlowsDown(t *testing.T) {
	m, err := New(memstore.New(), pricedDriver{consenttest.NewFake()})
	if err != nil {
		t.Fatal(err)
	}
	if got := m.cost("t", 2); got != 6 {
		t.Errorf("cost(2) = %d, want the driver's 6 RU", got)
	}
	obs := m.observe(context.Background())
	obs("t", consent.Throttle{ResourceUnits: 3})
	if got := m.cost("t", 1); got != 3 {
		t.Errorf("after a plain answer cost(1) = %d, want 3", got)
	}
	obs("t", consent.Throttle{LimitPercentage: 0.85})
	if got := m.cost("t", 1); got != 6 {
		t.Errorf("at 85 %% of a limit cost(1) = %d, want 6", got)
	}
	obs("t", consent.Throttle{LimitPercentage: 1.2})
	if got := m.cost("t", 1); got != 12 {
		t.Errorf("at 120 %% of a limit cost(1) = %d, want 12", got)
	}
	obs("t", consent.Throttle{LimitPercentage: 0.9}) // a lower warning does not undo a stronger one
	if got := m.cost("t", 1); got != 12 {
		t.Errorf("after a milder warning cost(1) = %d, want 12", got)
	}
	m.budget.mu.Lock()
	m.budget.slowUntil = time.Now().Add(-time.Second) // the slow-down ran out
	m.budget.mu.Unlock()
	if got := m.cost("t", 1); got != 3 {
		t.Errorf("after the slow-down cost(1) = %d, want 3", got)
	}
}

func TestSetRateLimit(t *testing.T) {
	m, err := New(memstore.New(), consenttest.NewFake(), WithRateLimit(RateLimit{PerSecond: 10, Burst: 5}))
	if err != nil {
		t.Fatal(err)
	}
	if got := m.RateLimit(); got != (RateLimit{PerSecond: 10, Burst: 5}) {
		t.Errorf("RateLimit = %+v", got)
	}
	m.SetRateLimit(RateLimit{PerSecond: 400, Burst: 400})
	if got := m.RateLimit(); got != (RateLimit{PerSecond: 400, Burst: 400}) {
		t.Errorf("after SetRateLimit: %+v", got)
	}
	m.SetRateLimit(RateLimit{PerSecond: -1})
	if got := m.RateLimit(); got.PerSecond != 400 {
		t.Errorf("a negative rate was accepted: %+v", got)
	}
}

// TestApplicationThrottlePausesEveryTenant: an Application-scope 429 pauses the Manager's calls
// about any tenant; a Tenant_Application one only the tenant's.
func TestApplicationThrottlePausesEveryTenant(t *testing.T) {
	m, err := New(memstore.New(), consenttest.NewFake())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tenantErr := &consent.DriverError{RetryAfter: 5 * time.Minute, Err: &consent.ThrottleError{Throttle: consent.Throttle{Scope: consent.ScopeTenantApplication}}}
	m.throttled(ctx, "t1", tenantErr)
	if _, paused := m.tenantPause["t1"]; !paused || !m.limiter.until.IsZero() {
		t.Errorf("tenant throttle: tenant paused %v, app paused until %v; want the tenant only", paused, m.limiter.until)
	}
	appErr := &consent.DriverError{RetryAfter: 5 * time.Minute, Err: &consent.ThrottleError{Throttle: consent.Throttle{Scope: consent.ScopeApplication}}}
	m.throttled(ctx, "t2", appErr)
	if _, paused := m.tenantPause["t2"]; paused || m.limiter.until.Before(time.Now().Add(4*time.Minute)) {
		t.Errorf("application throttle: tenant t2 paused %v, app paused until %v; want the app", paused, m.limiter.until)
	}
}

// A tenant's RU bucket is dropped once it is full again (the tenant idle) at the first new bucket
// pruneBucketsEvery after the last prune, so the map follows the tenants read in the last
// seconds, not every tenant read since the start; a bucket still refilling is kept.
func TestIdleTenantBucketsPruned(t *testing.T) {
	m, err := New(memstore.New(), pricedDriver{consenttest.NewFake()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, tenant := range []string{"idle", "busy"} {
		if err := m.waitTenantBudget(ctx, tenant, 3000); err != nil { // 8.6 s to refill at 350 RU/s
			t.Fatal(err)
		}
	}
	m.budget.mu.Lock()
	m.budget.tenants["idle"].last = time.Now().Add(-time.Minute) // refilled since
	m.budget.pruned = time.Now().Add(-pruneBucketsEvery - time.Second)
	m.budget.mu.Unlock()
	if err := m.waitTenantBudget(ctx, "new", 1); err != nil {
		t.Fatal(err)
	}
	m.budget.mu.Lock()
	defer m.budget.mu.Unlock()
	for tenant, want := range map[string]bool{"idle": false, "busy": true, "new": true} {
		if _, got := m.budget.tenants[tenant]; got != want {
			t.Errorf("bucket of %q kept = %v, want %v", tenant, got, want)
		}
	}
}
