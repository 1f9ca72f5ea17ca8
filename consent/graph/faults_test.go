package graph_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantapps/tenantapps/consent"
	"github.com/tenantapps/tenantapps/consent/graph"
	"github.com/tenantapps/tenantapps/consent/graphtest"
	"github.com/tenantapps/tenantapps/roles"
)

// TestFaultsNeverLookLikeMissingGrants injects each fault kind into Graph and checks that the
// driver reports throttled / transient (could not check), never a state without the grant.
func TestFaultsNeverLookLikeMissingGrants(t *testing.T) {
	tests := []struct {
		name      string
		fault     graphtest.Fault
		want      error // nil: the call succeeds (after retries)
		wantRetry time.Duration
	}{
		{name: "429 longer than MaxRetryWait", fault: graphtest.Fault{Route: "graph.*", Kind: graphtest.FaultThrottle, RetryAfter: 5 * time.Second},
			want: consent.ErrThrottled, wantRetry: 5 * time.Second},
		{name: "429 once, retried after Retry-After", fault: graphtest.Fault{Route: graphtest.RouteBatch, Kind: graphtest.FaultThrottle, RetryAfter: 200 * time.Millisecond, Times: 1}},
		{name: "batch item 429 once, retried", fault: graphtest.Fault{Route: graphtest.RouteAppRoleAssignments, Kind: graphtest.FaultThrottle, RetryAfter: 200 * time.Millisecond, Times: 1}},
		{name: "batch item 429 always", fault: graphtest.Fault{Route: graphtest.RouteAppRoleAssignments, Kind: graphtest.FaultThrottle, RetryAfter: 200 * time.Millisecond},
			want: consent.ErrThrottled, wantRetry: 200 * time.Millisecond},
		{name: "batch item 503 on roles", fault: graphtest.Fault{Route: graphtest.RouteMemberOf, Kind: graphtest.FaultUnavailable, RetryAfter: 100 * time.Millisecond}, want: consent.ErrTransient},
		{name: "batch item 403 on grants", fault: graphtest.Fault{Route: graphtest.RouteOAuth2Grants, Kind: graphtest.FaultForbidden}, want: consent.ErrForbidden},
		{name: "503", fault: graphtest.Fault{Route: "graph.*", Kind: graphtest.FaultUnavailable, RetryAfter: 100 * time.Millisecond}, want: consent.ErrTransient},
		{name: "504", fault: graphtest.Fault{Route: "graph.*", Kind: graphtest.FaultGatewayTimeout}, want: consent.ErrTransient},
		{name: "truncated JSON", fault: graphtest.Fault{Route: "graph.*", Kind: graphtest.FaultTruncatedJSON}, want: consent.ErrTransient},
		{name: "malformed JSON", fault: graphtest.Fault{Route: "graph.*", Kind: graphtest.FaultMalformedJSON}, want: consent.ErrTransient},
		{name: "hang until the deadline", fault: graphtest.Fault{Route: "graph.*", Kind: graphtest.FaultHang}, want: context.DeadlineExceeded},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, graphtest.Options{}, func(c *graph.Config) { c.MaxRetries = 2; c.MaxRetryWait = time.Second })
			e.withCustomer(t)
			if _, err := e.drv.AppState(ctxT(t), tenantA, appX); err != nil { // warm the token and the resource cache
				t.Fatal(err)
			}
			e.srv.ResetStats()
			remove := e.srv.AddFault(tc.fault)
			defer remove()
			// Only the hanging call needs a deadline, and its outcome does not depend on how fast
			// the machine is; the others get the generous test context, so load cannot fail them.
			ctx := ctxT(t)
			if tc.fault.Kind == graphtest.FaultHang {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, 2*time.Second)
				defer cancel()
			}
			got, err := e.drv.AppState(ctx, tenantA, appX)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("AppState: %v, want success after retry", err)
				}
				if !got.HasAppRole(graphtest.MicrosoftGraphAppID, graphUserReadAll) {
					t.Errorf("AppState after retry lost the grant: %+v", got)
				}
			} else {
				if !errors.Is(err, tc.want) || !consent.CouldNotCheck(err) {
					t.Fatalf("AppState: %v, want %v and CouldNotCheck", err, tc.want)
				}
				if diff := cmp.Diff(consent.AppState{}, got); diff != "" {
					t.Errorf("AppState returned a state with its error (-want +got):\n%s", diff)
				}
				if tc.wantRetry > 0 {
					if d, ok := consent.RetryAfter(err); !ok || d != tc.wantRetry {
						t.Errorf("RetryAfter = %v, %v; want %v", d, ok, tc.wantRetry)
					}
				}
			}
			if n := len(e.srv.Stats().InsideRetryAfter); n != 0 {
				t.Errorf("requests arrived inside an announced Retry-After: %v", e.srv.Stats().InsideRetryAfter)
			}
		})
	}
}

// TestTokenEndpointFaults: throttling or outages at Entra are could-not-check too.
func TestTokenEndpointFaults(t *testing.T) {
	for _, tc := range []struct {
		kind graphtest.FaultKind
		want error
	}{
		{graphtest.FaultThrottle, consent.ErrThrottled},
		{graphtest.FaultUnavailable, consent.ErrTransient},
		{graphtest.FaultMalformedJSON, consent.ErrTransient},
	} {
		t.Run(tc.kind.String(), func(t *testing.T) {
			e := newEnv(t, graphtest.Options{}, nil)
			e.withCustomer(t)
			e.srv.AddFault(graphtest.Fault{Route: graphtest.RouteToken, Kind: tc.kind, RetryAfter: 3 * time.Second})
			_, err := e.drv.AppState(ctxT(t), tenantA, appX)
			if !errors.Is(err, tc.want) || !consent.CouldNotCheck(err) {
				t.Fatalf("AppState: %v, want %v (could not check)", err, tc.want)
			}
			if tc.kind == graphtest.FaultThrottle {
				if d, _ := consent.RetryAfter(err); d != 3*time.Second {
					t.Errorf("RetryAfter = %v, want 3s", d)
				}
			}
		})
	}
}

// TestRandomFaults mixes faults on a fraction of requests (seeded) and checks every answer is
// either the full truth or a could-not-check error.
func TestRandomFaults(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	e := newEnv(t, graphtest.Options{Float64: rng.Float64}, func(c *graph.Config) { c.MaxRetries = 1; c.MaxRetryWait = 50 * time.Millisecond })
	e.withCustomer(t)
	must(t, e.srv.AssignAppDirectoryRole(tenantA, appX, roles.ExchangeAdministrator))
	must(t, e.srv.GrantDelegated(tenantA, appX, graphtest.MicrosoftGraphAppID, "", "User.Read"))
	ctx := ctxT(t)
	want, err := e.drv.AppState(ctx, tenantA, appX)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []graphtest.Fault{
		{Route: graphtest.RouteBatch, Kind: graphtest.FaultThrottle, RetryAfter: 10 * time.Millisecond, Probability: 0.15},
		{Route: graphtest.RouteBatch, Kind: graphtest.FaultTruncatedJSON, Probability: 0.1},
		{Route: graphtest.RouteBatch, Kind: graphtest.FaultGatewayTimeout, Probability: 0.1},
		{Route: graphtest.RouteAppRoleAssignments, Kind: graphtest.FaultThrottle, RetryAfter: 10 * time.Millisecond, Probability: 0.15},
		{Route: graphtest.RouteMemberOf, Kind: graphtest.FaultUnavailable, RetryAfter: 10 * time.Millisecond, Probability: 0.1},
		{Route: graphtest.RouteOAuth2Grants, Kind: graphtest.FaultGatewayTimeout, Probability: 0.1},
		{Route: graphtest.RouteServicePrincipals, Kind: graphtest.FaultUnavailable, RetryAfter: 10 * time.Millisecond, Probability: 0.1},
	} {
		e.srv.AddFault(f)
	}
	ok, failed := 0, 0
	for i := range 60 {
		got, err := e.drv.AppState(ctx, tenantA, appX)
		if err != nil {
			if !consent.CouldNotCheck(err) {
				t.Errorf("call %d: %v is not could-not-check", i, err)
			}
			failed++
			continue
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("call %d returned a state that is not the truth (-want +got):\n%s", i, diff)
		}
		ok++
	}
	if ok == 0 || failed == 0 {
		t.Errorf("%d successes and %d could-not-check errors; the fault mix should give both", ok, failed)
	}
	t.Logf("%d truthful answers, %d could-not-check errors, faults fired: %v", ok, failed, e.srv.Stats().Faults)
}

// An OData error body without error.message makes msgraph-sdk-go's ODataError.Error() panic;
// the driver must return an error instead, on whole requests and on batch items.
func TestErrorBodyWithoutMessageDoesNotPanic(t *testing.T) {
	for _, route := range []string{graphtest.RouteBatch, graphtest.RouteAppRoleAssignments, graphtest.RouteApplications, graphtest.RouteSignIns} {
		t.Run(route, func(t *testing.T) {
			e := newEnv(t, graphtest.Options{}, nil)
			e.withCustomer(t)
			e.srv.AddFault(graphtest.Fault{Route: route, Kind: graphtest.FaultErrorWithoutMessage})
			ctx := ctxT(t)
			var err error
			switch route {
			case graphtest.RouteApplications:
				_, err = e.drv.KeyCredentials(ctx, mspTenant, appX)
			case graphtest.RouteSignIns:
				_, err = e.drv.SignIns(ctx, tenantA, appX, time.Time{}, 10)
			default:
				_, err = e.drv.AppState(ctx, tenantA, appX)
			}
			var de *consent.DriverError
			if !errors.As(err, &de) || de.Code != "Request_BadRequest" && route != graphtest.RouteBatch || !consent.CouldNotCheck(err) {
				t.Fatalf("err = %v, want a could-not-check *DriverError (code Request_BadRequest)", err)
			}
			_ = err.Error()
		})
	}
}

// TestConcurrencyBoundPerTenant: with MaxConcurrentPerTenant 1, concurrent checks of one tenant
// reach Graph one at a time while another tenant is not held up.
func TestConcurrencyBoundPerTenant(t *testing.T) {
	e := newEnv(t, graphtest.Options{}, func(c *graph.Config) { c.MaxConcurrentPerTenant = 1 })
	e.withCustomer(t)
	ctx := ctxT(t)
	if _, err := e.drv.AppState(ctx, tenantA, appX); err != nil {
		t.Fatal(err)
	}
	e.srv.AddFault(graphtest.Fault{Route: graphtest.RouteBatch, Kind: graphtest.FaultLatency, Latency: 50 * time.Millisecond})
	e.srv.ResetStats()
	errs := make(chan error, 6)
	for range 6 {
		go func() {
			_, err := e.drv.AppState(ctx, tenantA, appX)
			errs <- err
		}()
	}
	for range 6 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if got := e.srv.Stats().MaxConcurrentGraph[tenantA]; got != 1 {
		t.Errorf("max concurrent Graph requests for the tenant = %d, want 1", got)
	}
}

// A wrong Graph base URL (every request 404) must not read as "the app is absent".
func TestWrongGraphURLIsCouldNotCheck(t *testing.T) {
	e := newEnv(t, graphtest.Options{}, func(c *graph.Config) { c.GraphURL = c.GraphURL + "/nope" })
	e.withCustomer(t)
	st, err := e.drv.AppState(ctxT(t), tenantA, appX)
	if err == nil || !consent.CouldNotCheck(err) || errors.Is(err, consent.ErrNotFound) || st.Exists {
		t.Fatalf("AppState with a wrong GraphURL = %+v, %v; want a could-not-check error", st, err)
	}
}
