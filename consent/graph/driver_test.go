package graph_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/tenantapps/tenantapps/consent"
	"github.com/tenantapps/tenantapps/consent/consenttest"
	"github.com/tenantapps/tenantapps/consent/graph"
	"github.com/tenantapps/tenantapps/consent/graphtest"
	"github.com/tenantapps/tenantapps/roles"
)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

var ignoreIDs = cmpopts.IgnoreFields(consent.AppState{}, "ServicePrincipal.ObjectID")
var ignoreGrantIDs = []cmp.Option{
	cmpopts.IgnoreFields(consent.AppRoleGrant{}, "AssignmentID", "CreatedAt"),
	cmpopts.IgnoreFields(consent.DelegatedGrant{}, "GrantID"),
	cmpopts.EquateEmpty(),
}

func TestAppStateReadsTheTenant(t *testing.T) {
	e := newEnv(t, graphtest.Options{PageSize: 2}, nil)
	e.withCustomer(t)
	ctx := ctxT(t)
	must(t, e.srv.GrantAppRole(tenantA, appX, graphtest.MicrosoftGraphAppID, graphDirReadAll))
	must(t, e.srv.GrantAppRole(tenantA, appX, graphtest.ExchangeOnlineAppID, "dc50a0fb-09a3-484d-be87-e023b12c6440"))
	must(t, e.srv.GrantDelegated(tenantA, appX, graphtest.MicrosoftGraphAppID, "", "User.Read", "offline_access"))
	must(t, e.srv.AssignAppDirectoryRole(tenantA, appX, roles.ExchangeAdministrator))
	must(t, e.srv.AssignAppDirectoryRole(tenantA, appX, roles.GlobalReader))

	got, err := e.drv.AppState(ctx, tenantA, appX)
	if err != nil {
		t.Fatal(err)
	}
	want := consent.AppState{
		TenantID: tenantA, AppID: appX, Exists: true,
		ServicePrincipal: consent.ServicePrincipal{AppID: appX, DisplayName: "App X", Enabled: true, AppOwnerTenantID: mspTenant},
		AppRoleGrants: []consent.AppRoleGrant{
			{ResourceAppID: graphtest.ExchangeOnlineAppID, AppRoleID: "dc50a0fb-09a3-484d-be87-e023b12c6440"},
			{ResourceAppID: graphtest.MicrosoftGraphAppID, AppRoleID: graphDirReadAll},
			{ResourceAppID: graphtest.MicrosoftGraphAppID, AppRoleID: graphUserReadAll},
		},
		DelegatedGrants: []consent.DelegatedGrant{{ResourceAppID: graphtest.MicrosoftGraphAppID, ConsentType: consent.ConsentAllPrincipals, Scopes: []string{"User.Read", "offline_access"}}},
		DirectoryRoles:  []roles.TemplateID{roles.ExchangeAdministrator, roles.GlobalReader},
	}
	if diff := cmp.Diff(want, got, append(ignoreGrantIDs, ignoreIDs)...); diff != "" {
		t.Errorf("AppState mismatch (-want +got):\n%s", diff)
	}
	spID, _ := e.srv.ServicePrincipalID(tenantA, appX)
	if got.ServicePrincipal.ObjectID != spID {
		t.Errorf("ObjectID = %q, want %q", got.ServicePrincipal.ObjectID, spID)
	}

	// Tenant changes show up at once: the driver keeps no copy.
	must(t, e.srv.RevokeAppRole(tenantA, appX, graphtest.MicrosoftGraphAppID, graphDirReadAll))
	must(t, e.srv.RemoveAppDirectoryRole(tenantA, appX, roles.ExchangeAdministrator))
	got, err = e.drv.AppState(ctx, tenantA, appX)
	if err != nil {
		t.Fatal(err)
	}
	if got.HasAppRole(graphtest.MicrosoftGraphAppID, graphDirReadAll) || got.HasDirectoryRole(roles.ExchangeAdministrator) || !got.HasAppRole(graphtest.MicrosoftGraphAppID, graphUserReadAll) {
		t.Errorf("after revoking: %+v", got)
	}

	must(t, e.srv.DeleteServicePrincipal(tenantA, appX))
	got, err = e.drv.AppState(ctx, tenantA, appX)
	if err != nil {
		t.Fatalf("deleted SP: %v", err)
	}
	if diff := cmp.Diff(consent.AppState{TenantID: tenantA, AppID: appX}, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("deleted SP mismatch (-want +got):\n%s", diff)
	}
}

// TestRequestCount proves the efficiency target: checking one application-permission profile
// (service principal + grants + roles) costs one $batch round trip — the first check in a tenant
// looks up the well-known resource service principals inside the same $batch — and one token
// request per tenant per token lifetime.
func TestRequestCount(t *testing.T) {
	e := newEnv(t, graphtest.Options{}, nil)
	e.withCustomer(t)
	ctx := ctxT(t)
	for i := range 5 {
		if _, err := e.drv.AppState(ctx, tenantA, appX); err != nil {
			t.Fatalf("check %d: %v", i, err)
		}
		st := e.srv.Stats()
		wantGraph := 1 + i // one $batch per check, the resource lookup included
		if got := st.GraphRoundTrips(tenantA); got != wantGraph {
			t.Errorf("after %d checks: %d Graph round trips, want %d (routes %v)", i+1, got, wantGraph, st.Routes())
		}
		if got := st.Total(graphtest.RouteBatch, tenantA); got != wantGraph {
			t.Errorf("after %d checks: %d $batch requests, want %d: reads must go through $batch", i+1, got, wantGraph)
		}
		if got := st.Total(graphtest.RouteToken, tenantA); got != 1 {
			t.Errorf("after %d checks: %d token requests, want 1 (MSAL cache per tenant)", i+1, got)
		}
	}
	st := e.srv.Stats()
	if n := st.BatchItems[graphtest.RouteTenant{Route: graphtest.RouteAppRoleAssignments, Tenant: tenantA}]; n != 5 {
		t.Errorf("appRoleAssignments read %d times in batches, want 5", n)
	}
}

func TestProveCertificate(t *testing.T) {
	e := newEnv(t, graphtest.Options{}, nil)
	e.withCustomer(t)
	ctx := ctxT(t)
	proof, err := e.drv.ProveCertificate(ctx, tenantA, appX, e.appX)
	if err != nil {
		t.Fatal(err)
	}
	spID, _ := e.srv.ServicePrincipalID(tenantA, appX)
	want := consent.TokenProof{TenantID: tenantA, AppID: appX, ServicePrincipalID: spID, Roles: []string{"User.Read.All"}}
	if diff := cmp.Diff(want, proof, cmpopts.IgnoreFields(consent.TokenProof{}, "ExpiresAt")); diff != "" {
		t.Errorf("TokenProof mismatch (-want +got):\n%s", diff)
	}
	if d := time.Until(proof.ExpiresAt); d < 50*time.Minute || d > 61*time.Minute {
		t.Errorf("ExpiresAt in %v, want about an hour", d)
	}

	tests := []struct {
		name     string
		tenant   string
		cred     consent.CertificateCredential
		wantErr  error
		wantCode string
	}{
		{"certificate not registered on the app", tenantA, newCredential(t), consent.ErrInvalidCredential, "AADSTS700027"},
		{"app not consented in the tenant", mspTenant, e.appX, consent.ErrNotConsented, "AADSTS700016"},
		{"tenant does not exist", "99999999-9999-4999-8999-999999999999", e.appX, consent.ErrTenantNotFound, "AADSTS90002"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.drv.ProveCertificate(ctx, tc.tenant, appX, tc.cred)
			var de *consent.DriverError
			if !errors.Is(err, tc.wantErr) || !errors.As(err, &de) || de.Code != tc.wantCode {
				t.Fatalf("err = %v, want %v with code %s", err, tc.wantErr, tc.wantCode)
			}
			if consent.CouldNotCheck(err) {
				t.Errorf("CouldNotCheck(%v) = true; a rejected certificate is ground truth", err)
			}
		})
	}

	// Rotating the app's certificate on the registration rejects the old one.
	fresh := newCredential(t)
	must(t, e.srv.RotateAppCertificates(appX, fresh.Leaf()))
	if _, err := e.drv.ProveCertificate(ctx, tenantA, appX, e.appX); !errors.Is(err, consent.ErrInvalidCredential) {
		t.Errorf("old certificate after rotation: %v, want ErrInvalidCredential", err)
	}
	if _, err := e.drv.ProveCertificate(ctx, tenantA, appX, fresh); err != nil {
		t.Errorf("new certificate after rotation: %v", err)
	}
}

// A wrong certificate of the driver's own reading app must never look like a fact about the
// checked app.
func TestWrongReaderCertificateIsCouldNotCheck(t *testing.T) {
	wrong := newCredential(t)
	e := newEnv(t, graphtest.Options{}, nil)
	e.withCustomer(t)
	drv := newDriverAgainst(t, e.srv, wrong)
	_, err := drv.AppState(ctxT(t), tenantA, appX)
	var de *consent.DriverError
	if !errors.As(err, &de) || de.Code != "AADSTS700027" || !errors.Is(err, consent.ErrForbidden) || !consent.CouldNotCheck(err) {
		t.Fatalf("AppState with a wrong reader certificate: %v; want ErrForbidden (could not check) with AADSTS700027", err)
	}
}

// TestTokensPerTenant: one token request per tenant however many checks, and tenants do not
// share tokens (each token's tid is its tenant; the emulator would refuse a foreign one).
func TestTokensPerTenant(t *testing.T) {
	e := newEnv(t, graphtest.Options{}, nil)
	e.withCustomer(t)
	tenants := []string{tenantA, tenantB, "44444444-4444-4444-8444-444444444444"}
	for _, tid := range tenants[1:] {
		must(t, e.srv.AddTenant(consenttest.Tenant{ID: tid}))
	}
	ctx := ctxT(t)
	for range 3 {
		for _, tid := range tenants {
			if _, err := e.drv.AppState(ctx, tid, appX); err != nil {
				t.Fatalf("AppState(%s): %v", tid, err)
			}
		}
	}
	st := e.srv.Stats()
	for _, tid := range tenants {
		if n := st.Total(graphtest.RouteToken, tid); n != 1 {
			t.Errorf("tenant %s: %d token requests for 3 checks, want 1", tid, n)
		}
	}
}

// TestUnknownResourceStillResolved: a grant on a resource outside KnownResourceAppIDs is mapped to
// its appId with the fallback lookup (one more $batch), never left without a resource.
func TestUnknownResourceStillResolved(t *testing.T) {
	e := newEnv(t, graphtest.Options{}, func(c *graph.Config) { c.KnownResourceAppIDs = []string{} })
	e.withCustomer(t)
	ctx := ctxT(t)
	got, err := e.drv.AppState(ctx, tenantA, appX)
	if err != nil {
		t.Fatal(err)
	}
	if !got.HasAppRole(graphtest.MicrosoftGraphAppID, graphUserReadAll) {
		t.Fatalf("grant not mapped to Microsoft Graph: %+v", got.AppRoleGrants)
	}
	if n := e.srv.Stats().Total(graphtest.RouteBatch, tenantA); n != 2 {
		t.Errorf("%d $batch requests, want 2 (reads + resource lookup) without known resources", n)
	}
}

// TestConcurrentFirstChecksShareOneToken: several checks that start at once in a tenant the
// driver has no token for cost one token request, not one each.
func TestConcurrentFirstChecksShareOneToken(t *testing.T) {
	e := newEnv(t, graphtest.Options{}, nil)
	e.withCustomer(t)
	e.srv.AddFault(graphtest.Fault{Route: graphtest.RouteToken, Kind: graphtest.FaultLatency, Latency: 50 * time.Millisecond})
	ctx := ctxT(t)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := e.drv.AppState(ctx, tenantA, appX); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := e.srv.Stats().Total(graphtest.RouteToken, tenantA); n != 1 {
		t.Errorf("%d token requests for 8 concurrent first checks, want 1", n)
	}
}

// TestConcurrentTenantsOneTokenEach: checks of many tenants at once cost exactly one token
// request per tenant. A shared MSAL client with a partitioned cache swaps the whole in-memory
// cache on every lookup, so a lookup racing another tenant's missed its own token and asked
// Entra again (3–6 % of tenants in the fleet benchmark).
func TestConcurrentTenantsOneTokenEach(t *testing.T) {
	e := newEnv(t, graphtest.Options{}, func(c *graph.Config) { c.MaxConcurrentPerTenant = 4 })
	e.srv.AddFault(graphtest.Fault{Kind: graphtest.FaultLatency, Latency: 5 * time.Millisecond})
	const tenants, perTenant = 60, 4
	ids := make([]string, tenants)
	for i := range ids {
		ids[i] = fmt.Sprintf("%08x-0000-4000-8000-%012x", 0x50000000+i, i)
		must(t, e.srv.AddTenant(consenttest.Tenant{ID: ids[i]}))
	}
	// 720 checks with RSA client assertions over TLS take ~15 s under -race on a loaded 2-core
	// machine; the deadline only guards against a hang, so it is well above that.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, tenants*perTenant*3)
	for round := range 3 {
		for _, tid := range ids {
			for range perTenant {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := e.drv.AppState(ctx, tid, appX); err != nil {
						errs <- fmt.Errorf("round %d, tenant %s: %w", round, tid, err)
					}
				}()
			}
		}
		wg.Wait()
	}
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	st := e.srv.Stats()
	for _, tid := range ids {
		if n := st.Total(graphtest.RouteToken, tid); n != 1 {
			t.Errorf("tenant %s: %d token requests, want 1", tid, n)
		}
	}
}

// TestAppStatesBatchesApps: AppStates reads six apps per $batch (their service principals with
// one filter, three reads each) and answers exactly as AppState does, app by app.
func TestAppStatesBatchesApps(t *testing.T) {
	for _, n := range []int{1, 5, 6, 7, 13} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			e := newEnv(t, graphtest.Options{}, nil)
			e.withCustomer(t)
			ctx := ctxT(t)
			apps := []string{appX}
			for i := 1; i < n; i++ {
				a := fmt.Sprintf("aaaaaaaa-0000-4000-8000-%012d", 500+i)
				must(t, e.srv.RegisterApp(consenttest.App{AppID: a, HomeTenantID: mspTenant, DisplayName: a}))
				if i%2 == 0 { // every other app is consented, with a grant and a role
					_, err := e.srv.CreateServicePrincipal(tenantA, a)
					must(t, err)
					must(t, e.srv.GrantAppRole(tenantA, a, graphtest.MicrosoftGraphAppID, graphDirReadAll))
				}
				apps = append(apps, a)
			}
			got, err := e.drv.AppStates(ctx, tenantA, apps)
			if err != nil {
				t.Fatal(err)
			}
			st := e.srv.Stats()
			if want := (n + 5) / 6; st.Total(graphtest.RouteBatch, tenantA) != want || st.GraphRoundTrips(tenantA) != want {
				t.Errorf("%d apps: %d $batch requests, %d Graph round trips, want %d each (routes %v)", n, st.Total(graphtest.RouteBatch, tenantA), st.GraphRoundTrips(tenantA), want, st.Routes())
			}
			if len(got) != n {
				t.Fatalf("%d results for %d apps", len(got), n)
			}
			for i, a := range apps {
				want, err := e.drv.AppState(ctx, tenantA, a)
				if err != nil {
					t.Fatal(err)
				}
				if got[i].Err != nil {
					t.Errorf("app %d: %v", i, got[i].Err)
				} else if diff := cmp.Diff(want, got[i].State); diff != "" {
					t.Errorf("app %d: AppStates differs from AppState (-AppState +AppStates):\n%s", i, diff)
				}
			}
		})
	}
}

// TestAppStatesUsesFreeSlots: a tenant with more apps than one $batch holds is read on the
// tenant's free concurrency slots at once, never more than MaxConcurrentPerTenant. A barrier in
// the client's transport holds the first $batch requests until as many as the tenant has slots
// have been sent, so the test does not depend on how fast the machine schedules them.
func TestAppStatesUsesFreeSlots(t *testing.T) {
	for _, slots := range []int{1, 3} {
		t.Run(fmt.Sprint(slots), func(t *testing.T) {
			bt := &batchBarrier{want: slots, release: make(chan struct{})}
			e := newEnv(t, graphtest.Options{}, func(c *graph.Config) {
				c.MaxConcurrentPerTenant = slots
				bt.next = c.HTTPClient.Transport
				hc := *c.HTTPClient
				hc.Transport = bt
				c.HTTPClient = &hc
			})
			e.withCustomer(t)
			apps := []string{appX}
			for i := 1; i < 18; i++ { // 18 apps: three $batch requests
				a := fmt.Sprintf("aaaaaaaa-0000-4000-8000-%012d", 700+i)
				must(t, e.srv.RegisterApp(consenttest.App{AppID: a, HomeTenantID: mspTenant, DisplayName: a}))
				apps = append(apps, a)
			}
			ctx := ctxT(t)
			if _, err := e.drv.AppState(ctx, tenantA, appX); err != nil { // token and resources first
				t.Fatal(err)
			}
			bt.arm()
			got, err := e.drv.AppStates(ctx, tenantA, apps)
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range got {
				if r.Err != nil || r.State.Exists != (i == 0) {
					t.Errorf("app %d: %+v", i, r)
				}
			}
			st := e.srv.Stats()
			if n := st.Total(graphtest.RouteBatch, tenantA); n != 4 {
				t.Errorf("%d $batch requests, want 1 + 3", n)
			}
			if got := bt.maxInFlight(); got != slots {
				t.Errorf("at most %d $batch requests at once, want %d (the tenant's free slots)", got, slots)
			}
		})
	}
}

// batchBarrier counts the $batch requests in flight once armed, and holds the first ones until
// want of them have been sent (or 10 s passed, when the driver sends fewer at once).
type batchBarrier struct {
	next    http.RoundTripper
	want    int
	release chan struct{}

	mu                      sync.Mutex
	armed                   bool
	inFlight, max, arrivals int
}

func (b *batchBarrier) arm() { b.mu.Lock(); b.armed = true; b.mu.Unlock() }

func (b *batchBarrier) maxInFlight() int { b.mu.Lock(); defer b.mu.Unlock(); return b.max }

func (b *batchBarrier) RoundTrip(r *http.Request) (*http.Response, error) {
	b.mu.Lock()
	if !b.armed || !strings.HasSuffix(r.URL.Path, "/$batch") {
		b.mu.Unlock()
		return b.next.RoundTrip(r)
	}
	b.inFlight++
	b.arrivals++
	b.max = max(b.max, b.inFlight)
	if b.arrivals == b.want {
		close(b.release)
	}
	b.mu.Unlock()
	select {
	case <-b.release:
	case <-time.After(10 * time.Second):
	case <-r.Context().Done():
	}
	resp, err := b.next.RoundTrip(r)
	b.mu.Lock()
	b.inFlight--
	b.mu.Unlock()
	return resp, err
}
