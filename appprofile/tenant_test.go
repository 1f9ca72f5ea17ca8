package appprofile_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantapps/tenantapps/appprofile"
	"github.com/tenantapps/tenantapps/consent"
)

// throttlingDriver answers AppState for the tenants in throttle with a 429 of the given scope
// and records the priority each call asked for and what each call was charged.
type throttlingDriver struct {
	consent.Driver
	scope consent.ThrottleScope
	wait  time.Duration

	mu         sync.Mutex
	throttle   map[string]bool
	priorities map[consent.Priority]int
}

func (d *throttlingDriver) AppState(ctx context.Context, tenant, app string) (consent.AppState, error) {
	d.mu.Lock()
	d.priorities[consent.PriorityFrom(ctx)]++
	throttled := d.throttle[tenant]
	d.mu.Unlock()
	if throttled {
		return consent.AppState{}, &consent.DriverError{Op: "AppState", TenantID: tenant, AppID: app, RetryAfter: d.wait,
			Err: &consent.ThrottleError{Throttle: consent.Throttle{Scope: d.scope, Limit: "Read", Information: "ResourceUnitLimitExceeded"}}}
	}
	consent.ObserveThrottle(ctx, tenant, consent.Throttle{ResourceUnits: 3})
	return d.Driver.AppState(ctx, tenant, app)
}

// AppStatesCost prices a read at 3 RU per app (appRoleAssignments, grants, roles, each with
// $select: 1 RU).
func (d *throttlingDriver) AppStatesCost(_ string, apps int) int { return 3 * apps }

func TestVerifyTenant(t *testing.T) {
	for _, tc := range []struct {
		name      string
		scope     consent.ThrottleScope
		throttled bool
		deferIt   bool
		want      appprofile.TenantResult
	}{
		{name: "verifies the tenant's profiles", want: appprofile.TenantResult{Progress: appprofile.Progress{Done: 3, Checked: 3}}},
		{name: "tenant throttle deferred", scope: consent.ScopeTenantApplication, throttled: true, deferIt: true,
			want: appprofile.TenantResult{Progress: appprofile.Progress{Done: 3}, Deferred: 3, RetryAfter: 30 * time.Millisecond}},
		{name: "application throttle deferred", scope: consent.ScopeApplication, throttled: true, deferIt: true,
			want: appprofile.TenantResult{Progress: appprofile.Progress{Done: 3}, Deferred: 3, RetryAfter: 30 * time.Millisecond, AppThrottled: true}},
		{name: "throttle recorded without DeferThrottled", scope: consent.ScopeTenant, throttled: true,
			want: appprofile.TenantResult{Progress: appprofile.Progress{Done: 3, CouldNotCheck: 3}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFleet(t, 2, 3, nil)
			drv := &throttlingDriver{Driver: f.fake, scope: tc.scope, wait: 30 * time.Millisecond,
				throttle: map[string]bool{f.tenants[1]: tc.throttled}, priorities: map[consent.Priority]int{}}
			m, err := appprofile.New(f.store, drv, appprofile.WithClock(func() time.Time { return f.now }), appprofile.WithLogger(slog.New(slog.DiscardHandler)),
				appprofile.WithRateLimit(appprofile.RateLimit{PerSecond: 1e6, Burst: 100}))
			if err != nil {
				t.Fatal(err)
			}
			var mu sync.Mutex
			var signals []consent.Throttle
			got, err := m.VerifyTenant(context.Background(), f.tenants[1], appprofile.VerifyTenantOptions{DeferThrottled: tc.deferIt, MaxAttempts: 1,
				OnThrottle: func(_ string, th consent.Throttle) { mu.Lock(); signals = append(signals, th); mu.Unlock() }})
			if err != nil {
				t.Fatal(err)
			}
			tc.want.Tenant = f.tenants[1]
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("VerifyTenant (-want +got):\n%s", diff)
			}
			// The other tenant was not touched; deferred profiles were not written.
			for _, id := range f.ids {
				p, err := m.Get(context.Background(), id)
				if err != nil {
					t.Fatal(err)
				}
				checked := p.LastCheck != nil
				want := p.Tenant == f.tenants[1] && (!tc.deferIt || !tc.throttled)
				if checked != want {
					t.Errorf("profile %s checked = %v, want %v", id, checked, want)
				}
			}
			if drv.priorities[consent.PriorityLow] == 0 || len(drv.priorities) != 1 {
				t.Errorf("priorities sent = %v, want only %q", drv.priorities, consent.PriorityLow)
			}
			if len(signals) != 3 {
				t.Errorf("throttle signals = %+v, want one per profile", signals)
			}
			for _, s := range signals {
				if tc.throttled && (s.Scope != tc.scope || s.RetryAfter != 30*time.Millisecond) {
					t.Errorf("signal %+v, want scope %s with the Retry-After", s, tc.scope)
				}
				if !tc.throttled && s.ResourceUnits != 3 {
					t.Errorf("signal %+v, want the answer's 3 RU", s)
				}
			}
		})
	}
}

func TestVerifySendsHighPriority(t *testing.T) {
	f := newFleet(t, 1, 1, nil)
	drv := &throttlingDriver{Driver: f.fake, throttle: map[string]bool{}, priorities: map[consent.Priority]int{}}
	m, err := appprofile.New(f.store, drv, appprofile.WithClock(func() time.Time { return f.now }), appprofile.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Verify(context.Background(), f.ids[0]); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[consent.Priority]int{consent.PriorityHigh: 1}, drv.priorities); diff != "" {
		t.Errorf("priorities (-want +got):\n%s", diff)
	}
}

func TestVerifyTenantRejectsEmptyTenant(t *testing.T) {
	f := newFleet(t, 1, 1, nil)
	_, err := f.manager(t).VerifyTenant(context.Background(), "", appprofile.VerifyTenantOptions{})
	var re *appprofile.RequestError
	if !errors.As(err, &re) {
		t.Fatalf("err = %v, want *RequestError", err)
	}
}

// releasingDriver counts reads and records each ReleaseTenant with the reads made before it.
type releasingDriver struct {
	consent.Driver

	mu       sync.Mutex
	reads    int
	released []release
}

type release struct {
	Tenant      string
	ReadsBefore int
}

func (d *releasingDriver) AppState(ctx context.Context, tenant, app string) (consent.AppState, error) {
	d.mu.Lock()
	d.reads++
	d.mu.Unlock()
	return d.Driver.AppState(ctx, tenant, app)
}

func (d *releasingDriver) ReleaseTenant(tenant string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.released = append(d.released, release{Tenant: tenant, ReadsBefore: d.reads})
}

var _ consent.TenantReleaser = (*releasingDriver)(nil)

// TestVerifyTenantReleasesTheTenant: with ReleaseTenant the driver is told once, after the
// tenant's last read; without it, never.
func TestVerifyTenantReleasesTheTenant(t *testing.T) {
	for _, tc := range []struct {
		name    string
		release bool
		want    []release
	}{
		{name: "sweep releases", release: true, want: []release{{Tenant: fleetTenant(1), ReadsBefore: 3}}},
		{name: "user check keeps"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFleet(t, 2, 3, nil)
			drv := &releasingDriver{Driver: f.fake}
			m, err := appprofile.New(f.store, drv, appprofile.WithClock(func() time.Time { return f.now }), appprofile.WithLogger(slog.New(slog.DiscardHandler)))
			if err != nil {
				t.Fatal(err)
			}
			res, err := m.VerifyTenant(context.Background(), f.tenants[1], appprofile.VerifyTenantOptions{ReleaseTenant: tc.release})
			if err != nil {
				t.Fatal(err)
			}
			if res.Checked != 3 {
				t.Fatalf("VerifyTenant checked %d profiles, want 3", res.Checked)
			}
			if diff := cmp.Diff(tc.want, drv.released); diff != "" {
				t.Errorf("ReleaseTenant calls (-want +got):\n%s", diff)
			}
		})
	}
}
