package consenttest_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/tenantapps/tenantapps/consent"
	"github.com/tenantapps/tenantapps/consent/consenttest"
)

// benchFake is a Fake with `tenants` customer tenants, each with the app consented with 40
// application permissions and a delegated grant: the size of an "all permissions" profile.
func benchFake(b *testing.B, tenants int) (*consenttest.Fake, []string) {
	b.Helper()
	f := consenttest.NewFake()
	if err := f.AddTenant(consenttest.Tenant{ID: vendor}); err != nil {
		b.Fatal(err)
	}
	if err := f.RegisterApp(consenttest.App{AppID: appX, HomeTenantID: vendor}); err != nil {
		b.Fatal(err)
	}
	ids := make([]string, tenants)
	for i := range ids {
		ids[i] = fmt.Sprintf("%08x-0000-4000-8000-000000000000", i)
		if err := f.AddTenant(consenttest.Tenant{ID: ids[i]}); err != nil {
			b.Fatal(err)
		}
		if _, err := f.CreateServicePrincipal(ids[i], appX); err != nil {
			b.Fatal(err)
		}
		for r := range 40 {
			if err := f.GrantAppRole(ids[i], appX, consent.MicrosoftGraphAppID, fmt.Sprintf("%08x-0000-4000-8000-%012x", r, r)); err != nil {
				b.Fatal(err)
			}
		}
		if err := f.GrantDelegated(ids[i], appX, consent.MicrosoftGraphAppID, "", "User.Read", "Mail.Read", "Files.Read.All"); err != nil {
			b.Fatal(err)
		}
	}
	return f, ids
}

// BenchmarkFakeAppState is the cost of one profile check against the Fake (goal: well under
// 100 µs, so fleet tests of the Manager over thousands of tenants stay fast).
func BenchmarkFakeAppState(b *testing.B) {
	f, ids := benchFake(b, 1)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.AppState(ctx, ids[0], appX); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFakeAppStateParallel reads 100 tenants from all CPUs, as Manager.VerifyAll does.
func BenchmarkFakeAppStateParallel(b *testing.B) {
	f, ids := benchFake(b, 100)
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := f.AppState(ctx, ids[i%len(ids)], appX); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}
