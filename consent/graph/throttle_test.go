package graph_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tenantapps/tenantapps/consent"
	"github.com/tenantapps/tenantapps/consent/consenttest"
	"github.com/tenantapps/tenantapps/consent/graph"
	"github.com/tenantapps/tenantapps/consent/graphtest"
)

// TestThrottleSignals checks that Graph's throttling headers reach the caller as typed data: the
// RU of each answer through the context's observer (and equal to what the driver prices a read
// at), and a 429's scope in a *consent.ThrottleError.
func TestThrottleSignals(t *testing.T) {
	tests := []struct {
		name      string
		cfg       graphtest.Throttling
		wantScope consent.ThrottleScope
	}{
		{name: "within budget", cfg: graphtest.Throttling{}},
		{name: "tenant budget spent", cfg: graphtest.Throttling{TenantRUPer10s: func(int) int { return 4 }}, wantScope: consent.ScopeTenantApplication},
		{name: "app budget spent", cfg: graphtest.Throttling{AppRUPer20s: 4}, wantScope: consent.ScopeApplication},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, graphtest.Options{}, func(c *graph.Config) { c.MaxRetries = 1; c.MaxRetryWait = 100 * time.Millisecond })
			e.withCustomer(t)
			ctx := context.Background()
			if _, err := e.drv.AppState(ctx, tenantA, appX); err != nil { // warm the token and the resource cache
				t.Fatal(err)
			}
			e.srv.EnableThrottling(tc.cfg)
			var mu sync.Mutex
			observed := 0
			obsCtx := consent.WithThrottleObserver(ctx, func(tenant string, th consent.Throttle) {
				mu.Lock()
				defer mu.Unlock()
				if tenant != tenantA {
					t.Errorf("signal for tenant %q, want %q", tenant, tenantA)
				}
				observed += th.ResourceUnits
			})
			// The first read fits any budget of at least 4 RU.
			if _, err := e.drv.AppState(obsCtx, tenantA, appX); err != nil {
				t.Fatal(err)
			}
			charged := e.srv.ThrottleStats().TotalResourceUnits()
			if want := e.drv.AppStatesCost(tenantA, 1); charged != want || observed != want {
				t.Errorf("RU charged by Graph %d, observed by the caller %d; the driver prices the read at %d", charged, observed, want)
			}
			_, err := e.drv.AppState(obsCtx, tenantA, appX)
			if tc.wantScope == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			th, ok := consent.ThrottleOf(err)
			if !ok || !errors.Is(err, consent.ErrThrottled) {
				t.Fatalf("AppState: %v, want a typed throttle", err)
			}
			if th.Scope != tc.wantScope || th.Limit != "Read" || th.Information != "ResourceUnitLimitExceeded" || th.RetryAfter <= 0 {
				t.Errorf("throttle %+v, want scope %s/Read, ResourceUnitLimitExceeded, a Retry-After", th, tc.wantScope)
			}
			if n := e.srv.ThrottleStats().Throttled[string(tc.wantScope)]; n == 0 {
				t.Errorf("emulator stats %+v count no %s 429", e.srv.ThrottleStats(), tc.wantScope)
			}
		})
	}
}

// TestTokenEndpointThrottle: Entra answers a client-credentials burst with 429 and
// Retry-After: 60; the driver reports it as throttled with that wait.
func TestTokenEndpointThrottle(t *testing.T) {
	e := newEnv(t, graphtest.Options{}, nil)
	e.withCustomer(t)
	e.srv.EnableThrottling(graphtest.Throttling{TokensPerTenant: 1})
	ctx := context.Background()
	if _, err := e.drv.AppState(ctx, tenantA, appX); err != nil {
		t.Fatal(err)
	}
	cold := newDriverAgainst(t, e.srv, e.reader) // no cached token: asks Entra again
	_, err := cold.AppState(ctx, tenantA, appX)
	if !errors.Is(err, consent.ErrThrottled) {
		t.Fatalf("AppState with a throttled token endpoint: %v, want ErrThrottled", err)
	}
	if d, ok := consent.RetryAfter(err); !ok || d != time.Minute {
		t.Errorf("RetryAfter = %v, %v; want 1m", d, ok)
	}
	if n := e.srv.ThrottleStats().Throttled["Token"]; n != 1 {
		t.Errorf("token 429s = %d, want 1", n)
	}
}

func TestTenantUserCount(t *testing.T) {
	e := newEnv(t, graphtest.Options{}, func(c *graph.Config) { c.TenantSizing = true })
	e.withCustomer(t)
	for i := range 3 {
		if _, err := e.srv.AddUser(tenantA, consenttest.User{UserPrincipalName: fmt.Sprintf("u%d@contoso.example", i)}); err != nil {
			t.Fatal(err)
		}
	}
	n, err := e.drv.TenantUserCount(context.Background(), tenantA)
	if err != nil || n != 3 {
		t.Errorf("TenantUserCount = %d, %v; want 3", n, err)
	}
	off := newDriverAgainst(t, e.srv, e.reader)
	before := e.srv.Stats().GraphRoundTrips(tenantA)
	if _, err := off.TenantUserCount(context.Background(), tenantA); err == nil {
		t.Error("TenantUserCount with TenantSizing off succeeded")
	}
	if after := e.srv.Stats().GraphRoundTrips(tenantA); after != before {
		t.Errorf("TenantUserCount with TenantSizing off sent %d requests", after-before)
	}
}
