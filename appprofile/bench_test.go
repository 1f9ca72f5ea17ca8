package appprofile_test

import (
	"context"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tenantapps/tenantapps/appprofile"
	"github.com/tenantapps/tenantapps/consent/consenttest"
	"github.com/tenantapps/tenantapps/internal/benchheap"
	"github.com/tenantapps/tenantapps/permissions"
	"github.com/tenantapps/tenantapps/store"
)

// BenchmarkVerifyAllFake verifies 10,000 profiles in 2,000 tenants against consenttest with 20 ms
// per driver call, 128 workers, 2 calls per tenant and a budget of 5,000 profile reads/s (the
// Fake reads a tenant's five profiles with one AppStates call, which costs five). x-ideal is the
// wall time divided by the ideal max(profiles ÷ rate, calls × latency ÷ workers).
func BenchmarkVerifyAllFake(b *testing.B) {
	const (
		tenants, perTenant = 2000, 5
		latency            = 20 * time.Millisecond
		workers            = 128
		rate               = 5000.0
	)
	f := newFleet(b, tenants, perTenant, nil)
	var calls atomic.Int64
	f.fake.OnCall(consenttest.AnyMethod, func(ctx context.Context, a consenttest.Action) error {
		calls.Add(1)
		return consenttest.Delay(latency)(ctx, a)
	})
	m := f.manager(b, appprofile.WithWorkers(workers), appprofile.WithTenantConcurrency(2), appprofile.WithRateLimit(appprofile.RateLimit{PerSecond: rate, Burst: workers}))
	b.ResetTimer()
	var wall time.Duration
	var peak, base float64
	for range b.N {
		f.fake.ClearActions()
		calls.Store(0)
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		base = float64(ms.HeapInuse) / (1 << 20)
		stop := make(chan struct{})
		peakc := benchheap.Peak(stop, 10*time.Millisecond)
		start := time.Now()
		res, err := m.VerifyAll(context.Background(), store.Filter{}, appprofile.VerifyAllOptions{PageSize: 1000})
		wall += time.Since(start)
		close(stop)
		peak = max(peak, <-peakc)
		if err != nil || res.Checked != tenants*perTenant {
			b.Fatalf("VerifyAll = %+v, %v", res.Progress, err)
		}
	}
	n := float64(calls.Load())
	ideal := max(tenants*perTenant/rate, n*latency.Seconds()/workers)
	b.ReportMetric(n/float64(tenants*perTenant), "driverreq/profile")
	b.ReportMetric(wall.Seconds()/float64(b.N)/ideal, "x-ideal")
	b.ReportMetric(peak, "peak-heap-MB")
	// Heap growth over the directory and store already in memory: what VerifyAll itself holds.
	b.ReportMetric(peak-base, "heap-growth-MB")
}

// BenchmarkAssess measures the pure status engine on a hybrid profile with 51 permissions.
func BenchmarkAssess(b *testing.B) {
	cat := appprofile.FromPermissions(permissionsDefault())
	var app appprofile.AppSpec
	for _, a := range cat.AppTypes() {
		if a.Name == "APElements Baseline Management" {
			app = a
		}
	}
	now := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	p := appprofile.Profile{ID: "p", Tenant: "t", AppType: app.Name, Mode: appprofile.Modern, Shape: app.Shape, Status: appprofile.Valid,
		Consent: &appprofile.ConsentRecord{At: now.Add(-48 * time.Hour), UserID: "u", UserHadLicenses: true}}
	obs := appprofile.Observation{ServicePrincipal: appprofile.ServicePrincipalState{Exists: true, Enabled: true}, Grants: app.Permissions,
		ConsentUser: &appprofile.UserState{Exists: true, AccountEnabled: true, Licensed: true}, Delegated: &appprofile.DelegatedState{LastUsed: now}}
	req := appprofile.Requirements{App: app}
	b.ReportAllocs()
	for b.Loop() {
		a := appprofile.Assess(p, req, obs, now, appprofile.Policy{})
		if a.Status != appprofile.Invalid { // roles missing after the grace
			b.Fatal(a.Status)
		}
	}
}

func permissionsDefault() *permissions.Catalog { return permissions.Default() }
