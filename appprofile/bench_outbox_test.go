package appprofile_test

import (
	"context"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/tenantapps/tenantapps/appprofile"
	"github.com/tenantapps/tenantapps/store"
)

// BenchmarkVerifyAllOutboxCPU measures what the outbox and history cost the Manager's CPU: the
// fleet of BenchmarkVerifyAllFake (10,000 profiles) against consenttest without latency, so the
// run is bound by the Manager, the Fake and the memstore, not by waiting. Each iteration verifies
// the fleet three times, rotating the order: off (WithOutbox(false)), on (steady state: nothing
// changed, nothing written) and all-changed (every profile's recorded observation has all its
// grants missing, so every check sees 16 grants appear and writes a history entry in its
// transaction). overhead-%-<variant> is (wall ÷ wall of
// off − 1) × 100.
func BenchmarkVerifyAllOutboxCPU(b *testing.B) {
	const tenants, perTenant = 2000, 5
	ctx := context.Background()
	check := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	// forget replaces every profile's recorded observation in f's store.
	forget := func(f *fleet, observed *appprofile.ObservedState) {
		page := store.Page{Limit: store.MaxLimit}
		for {
			recs, next, err := f.store.List(ctx, store.Filter{}, page)
			check(err)
			for _, r := range recs {
				p, err := appprofile.UnmarshalPayload(r.Payload)
				check(err)
				p.Observed = observed
				r.Payload, err = appprofile.MarshalPayload(p)
				check(err)
				_, err = f.store.Update(ctx, r)
				check(err)
			}
			if next == "" {
				return
			}
			page.Cursor = next
		}
	}
	// allMissing is an observation on record in which every required grant was missing: the
	// next check sees all 16 appear and writes a history entry.
	cat := appprofile.FromPermissions(permissionsDefault())
	allMissing := &appprofile.ObservedState{Catalog: cat.Version()}
	for _, a := range cat.AppTypes() {
		if a.Name == "APElements Automation" {
			for _, p := range a.Permissions {
				allMissing.MissingGrants = append(allMissing.MissingGrants, p.String())
			}
		}
	}
	slices.Sort(allMissing.MissingGrants)
	variants := []struct {
		name       string
		outbox     bool
		allChanged bool
	}{{"off", false, false}, {"on", true, false}, {"all-changed", true, true}}
	// One fleet (directory and store) per variant, so that each store holds what its Manager
	// writes: no observations for off.
	fleets := make([]*fleet, len(variants))
	managers := make([]*appprofile.Manager, len(variants))
	for i, v := range variants {
		fleets[i] = newFleet(b, tenants, perTenant, nil)
		managers[i] = fleets[i].manager(b, appprofile.WithWorkers(32), appprofile.WithTenantConcurrency(2), appprofile.WithOutbox(v.outbox))
	}
	// A first run records every profile's observation, so "on" starts in the steady state.
	if _, err := managers[1].VerifyAll(ctx, store.Filter{}, appprofile.VerifyAllOptions{PageSize: 1000}); err != nil {
		b.Fatal(err)
	}
	wall := make([]time.Duration, len(variants))
	cpu := make([]time.Duration, len(variants))
	b.ResetTimer()
	b.StopTimer()
	for i := range b.N {
		for k := range variants {
			vi := (k + i) % len(variants)
			if variants[vi].allChanged {
				forget(fleets[vi], allMissing)
			}
			b.StartTimer()
			start, cpu0 := time.Now(), processCPU()
			res, err := managers[vi].VerifyAll(ctx, store.Filter{}, appprofile.VerifyAllOptions{PageSize: 1000})
			wall[vi] += time.Since(start)
			cpu[vi] += processCPU() - cpu0
			b.StopTimer()
			if err != nil || res.Checked != tenants*perTenant || res.Changed != 0 {
				b.Fatalf("%s: VerifyAll = %+v, %v", variants[vi].name, res.Progress, err)
			}
		}
	}
	for vi, v := range variants {
		b.ReportMetric(float64(tenants*perTenant*b.N)/wall[vi].Seconds(), "profiles/s-"+v.name)
		b.ReportMetric(float64(cpu[vi].Microseconds())/float64(tenants*perTenant*b.N), "cpu-µs/profile-"+v.name)
		if vi > 0 {
			b.ReportMetric((wall[vi].Seconds()/wall[0].Seconds()-1)*100, "overhead-%-"+v.name)
			b.ReportMetric((cpu[vi].Seconds()/cpu[0].Seconds()-1)*100, "cpu-overhead-%-"+v.name)
		}
	}
}

// processCPU is the CPU time (user and system) this process has used: unlike wall time it does
// not grow while other processes have the cores.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
