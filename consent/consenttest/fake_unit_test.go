package consenttest_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/tenantapps/tenantapps/consent"
	"github.com/tenantapps/tenantapps/consent/consenttest"
	"github.com/tenantapps/tenantapps/roles"
)

const (
	tenantA = "aaaaaaaa-0000-0000-0000-000000000001"
	tenantB = "bbbbbbbb-0000-0000-0000-000000000002"
	vendor  = "cccccccc-0000-0000-0000-000000000003"
	appX    = "11111111-1111-1111-1111-111111111111"
)

// seeded is a deterministic random source for reproducible IDs.
type seeded struct{ r *rand.ChaCha8 }

func (s seeded) Read(p []byte) (int, error) { return s.r.Read(p) }

func newSeeded() seeded { return seeded{rand.NewChaCha8([32]byte{1})} }

func setUp(t *testing.T, opts ...consenttest.Option) *consenttest.Fake {
	t.Helper()
	f := consenttest.NewFake(opts...)
	for _, id := range []string{tenantA, tenantB, vendor} {
		if err := f.AddTenant(consenttest.Tenant{ID: id}); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.RegisterApp(consenttest.App{AppID: appX, HomeTenantID: vendor, DisplayName: "X"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.CreateServicePrincipal(tenantA, appX); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestFakeRecordsActions(t *testing.T) {
	f := setUp(t)
	ctx := context.Background()
	_, _ = f.AppState(ctx, tenantA, appX)
	_, _ = f.AssignDirectoryRole(ctx, tenantA, appX, roles.ExchangeAdministrator)
	_, _ = f.UserState(ctx, tenantB, "someone@b.example")
	_, _ = f.AzureRoleAssignments(ctx, tenantA, appX, "/subscriptions/s1")
	_, _ = f.RedeemCode(ctx, consent.CodeRedemption{TenantID: tenantA, AppID: appX, Code: "SECRET", RedirectURI: "https://cb", PKCEVerifier: "VERIFIER"})
	_, _ = f.SignIns(ctx, tenantA, appX, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), 0)
	want := []consenttest.Action{
		{Method: consenttest.MethodAppState, TenantID: tenantA, AppID: appX},
		{Method: consenttest.MethodAssignDirectoryRole, TenantID: tenantA, AppID: appX, Arg: string(roles.ExchangeAdministrator)},
		{Method: consenttest.MethodUserState, TenantID: tenantB, Arg: "someone@b.example"},
		{Method: consenttest.MethodAzureRoleAssignments, TenantID: tenantA, AppID: appX, Arg: "/subscriptions/s1"},
		{Method: consenttest.MethodRedeemCode, TenantID: tenantA, AppID: appX, Arg: "https://cb"},
		{Method: consenttest.MethodSignIns, TenantID: tenantA, AppID: appX, Arg: "2026-01-02T03:04:05Z"},
	}
	if diff := cmp.Diff(want, f.Actions()); diff != "" {
		t.Errorf("Actions mismatch (-want +got):\n%s", diff)
	}
	if got := f.CountActions(consenttest.MethodAppState); got != 1 {
		t.Errorf("CountActions(AppState) = %d, want 1", got)
	}
	if got := f.CountActions(consenttest.AnyMethod); got != len(want) {
		t.Errorf("CountActions(*) = %d, want %d", got, len(want))
	}
	// Directory changes are not driver calls.
	if err := f.GrantAppRole(tenantA, appX, consent.MicrosoftGraphAppID, "df021288-bdef-4463-88db-98f22de89214"); err != nil {
		t.Fatal(err)
	}
	if got := len(f.Actions()); got != len(want) {
		t.Errorf("a Directory change was recorded: %d actions", got)
	}
	acts := f.Actions()
	acts[0].Method = "mutated"
	if f.Actions()[0].Method != consenttest.MethodAppState {
		t.Errorf("Actions returned the Fake's own slice")
	}
	f.ClearActions()
	if got := f.Actions(); len(got) != 0 {
		t.Errorf("after ClearActions: %v", got)
	}
}

func TestFakeHooks(t *testing.T) {
	errBoom := errors.New("boom")
	tests := []struct {
		name    string
		method  string
		hook    consenttest.Hook
		tenant  string
		wantErr error
		check   func(t *testing.T, err error)
	}{
		{name: "fail wraps in DriverError", method: consenttest.MethodAppState, hook: consenttest.Fail(errBoom), tenant: tenantA, wantErr: errBoom,
			check: func(t *testing.T, err error) {
				var de *consent.DriverError
				if !errors.As(err, &de) || de.Op != consenttest.MethodAppState || de.TenantID != tenantA {
					t.Errorf("error %v is not a DriverError naming the call", err)
				}
				if !consent.CouldNotCheck(err) {
					t.Errorf("an unrecognised hook error must count as could-not-check")
				}
			}},
		{name: "throttle", method: consenttest.AnyMethod, hook: consenttest.Throttle(7 * time.Second), tenant: tenantA, wantErr: consent.ErrThrottled,
			check: func(t *testing.T, err error) {
				if d, ok := consent.RetryAfter(err); !ok || d != 7*time.Second {
					t.Errorf("RetryAfter = %v, %v; want 7s", d, ok)
				}
			}},
		{name: "other method unaffected", method: consenttest.MethodUserState, hook: consenttest.Fail(errBoom), tenant: tenantA},
		{name: "for tenant: other tenant unaffected", method: consenttest.AnyMethod, hook: consenttest.ForTenant(tenantB, consenttest.Fail(errBoom)), tenant: tenantA},
		{name: "for tenant: that tenant fails", method: consenttest.AnyMethod, hook: consenttest.ForTenant(strings.ToUpper(tenantA), consenttest.Fail(errBoom)), tenant: tenantA, wantErr: errBoom},
		{name: "delay then proceed", method: consenttest.MethodAppState, hook: consenttest.Delay(time.Millisecond), tenant: tenantA},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := setUp(t)
			f.OnCall(tt.method, tt.hook)
			st, err := f.AppState(context.Background(), tt.tenant, appX)
			if tt.wantErr == nil {
				if err != nil || !st.Exists {
					t.Errorf("AppState = %+v, %v; want the state", st, err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("AppState error = %v, want %v", err, tt.wantErr)
			}
			if st.Exists {
				t.Errorf("AppState returned a state with the error")
			}
			if tt.check != nil {
				tt.check(t, err)
			}
			f.ClearHooks()
			if _, err := f.AppState(context.Background(), tt.tenant, appX); err != nil {
				t.Errorf("after ClearHooks: %v", err)
			}
		})
	}
}

func TestFakeHookTimes(t *testing.T) {
	f := setUp(t)
	f.OnCall(consenttest.MethodAppState, consenttest.Times(2, consenttest.Fail(consent.ErrTransient)))
	var got []bool
	for range 4 {
		_, err := f.AppState(context.Background(), tenantA, appX)
		got = append(got, err != nil)
	}
	if diff := cmp.Diff([]bool{true, true, false, false}, got); diff != "" {
		t.Errorf("failures per call mismatch (-want +got):\n%s", diff)
	}
}

func TestFakeDelayHonoursContext(t *testing.T) {
	f := setUp(t)
	// The call's context ends once the call has begun (a hook that runs before the Delay cancels
	// it): no deadline to race, and a Delay that ignored its context would hang for an hour.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f.OnCall(consenttest.AnyMethod, func(context.Context, consenttest.Action) error { cancel(); return nil })
	f.OnCall(consenttest.AnyMethod, consenttest.Delay(time.Hour))
	_, err := f.AppState(ctx, tenantA, appX)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("AppState under a long delay = %v, want context.Canceled", err)
	}
	if !consent.CouldNotCheck(err) {
		t.Errorf("CouldNotCheck(%v) = false", err)
	}
}

func TestFakeInjectFaultUnsupported(t *testing.T) {
	f := consenttest.NewFake()
	if _, err := f.InjectFault(tenantA, consenttest.FaultKind(99)); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("InjectFault(99) = %v, want ErrUnsupported", err)
	}
}

func TestFakeDirectoryErrors(t *testing.T) {
	f := setUp(t)
	const ghost = "99999999-9999-9999-9999-999999999999"
	tests := []struct {
		name string
		err  error
	}{
		{"grant in unknown tenant", f.GrantAppRole(ghost, appX, consent.MicrosoftGraphAppID, "r")},
		{"grant without SP", f.GrantAppRole(tenantB, appX, consent.MicrosoftGraphAppID, "r")},
		{"SP of unregistered app", func() error { _, err := f.CreateServicePrincipal(tenantA, ghost); return err }()},
		{"delete absent SP", f.DeleteServicePrincipal(tenantB, appX)},
		{"reset unknown user", f.ResetUserPassword(tenantA, ghost)},
		{"rotate unknown app", f.RotateAppCertificates(ghost)},
		{"register in unknown home", f.RegisterApp(consenttest.App{AppID: ghost, HomeTenantID: ghost})},
		{"user consent in unknown tenant", func() error {
			_, err := f.AuthorizeUser(consenttest.AuthorizeRequest{TenantID: ghost, AppID: appX, UserID: ghost})
			return err
		}()},
	}
	for _, tt := range tests {
		if !errors.Is(tt.err, consenttest.ErrUnknown) {
			t.Errorf("%s: %v, want ErrUnknown", tt.name, tt.err)
		}
	}
	if err := f.AddTenant(consenttest.Tenant{ID: strings.ToUpper(tenantA)}); err == nil {
		t.Errorf("adding an existing tenant (other case) succeeded")
	}
	if err := f.RegisterApp(consenttest.App{AppID: appX}); err == nil {
		t.Errorf("registering an existing app succeeded")
	}
	if _, err := f.AuthorizeUser(consenttest.AuthorizeRequest{TenantID: tenantA, AppID: appX, RedirectURI: "https://unregistered"}); err == nil || !strings.Contains(err.Error(), "AADSTS50011") {
		t.Errorf("AuthorizeUser with an unregistered redirect URI = %v, want AADSTS50011", err)
	}
}

func TestFakeDeterministicIDs(t *testing.T) {
	clock := time.Date(2026, 11, 25, 4, 0, 0, 0, time.UTC)
	run := func() consent.AppState {
		f := setUp(t, consenttest.WithRandom(newSeeded()), consenttest.WithClock(func() time.Time { return clock }))
		if err := f.GrantAppRole(tenantA, appX, consent.MicrosoftGraphAppID, "df021288-bdef-4463-88db-98f22de89214"); err != nil {
			t.Fatal(err)
		}
		st, err := f.AppState(context.Background(), tenantA, appX)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	a, b := run(), run()
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("two Fakes with the same seed differ (-first +second):\n%s", diff)
	}
	if !a.AppRoleGrants[0].CreatedAt.Equal(clock) {
		t.Errorf("CreatedAt = %v, want the injected clock %v", a.AppRoleGrants[0].CreatedAt, clock)
	}
}

func TestFakeCodeExpires(t *testing.T) {
	now := time.Date(2026, 11, 25, 4, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	f := setUp(t, consenttest.WithClock(clock))
	const app = "22222222-2222-2222-2222-222222222222"
	if err := f.RegisterApp(consenttest.App{AppID: app, RedirectURIs: []string{"https://cb"}}); err != nil {
		t.Fatal(err)
	}
	uid, err := f.AddUser(tenantA, consenttest.User{UserPrincipalName: "u@a.example"})
	if err != nil {
		t.Fatal(err)
	}
	code, err := f.AuthorizeUser(consenttest.AuthorizeRequest{TenantID: tenantA, AppID: app, UserID: uid, RedirectURI: "https://cb", Scopes: []string{"User.Read"}})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	now = now.Add(11 * time.Minute)
	mu.Unlock()
	_, err = f.RedeemCode(context.Background(), consent.CodeRedemption{TenantID: tenantA, AppID: app, Code: code, RedirectURI: "https://cb"})
	if !errors.Is(err, consent.ErrInvalidGrant) {
		t.Errorf("RedeemCode after 11 minutes = %v, want ErrInvalidGrant", err)
	}
	var de *consent.DriverError
	if errors.As(err, &de) && de.Code != "AADSTS70008" {
		t.Errorf("Code = %q, want AADSTS70008", de.Code)
	}
}

func TestOnlyDriverHidesCapabilities(t *testing.T) {
	f := setUp(t)
	d := consenttest.OnlyDriver(f)
	if _, ok := d.(consent.RoleAssigner); ok {
		t.Errorf("OnlyDriver exposes RoleAssigner")
	}
	if _, ok := d.(consent.UserStateReader); ok {
		t.Errorf("OnlyDriver exposes UserStateReader")
	}
	if _, ok := d.(consent.CertificateProver); ok {
		t.Errorf("OnlyDriver exposes CertificateProver")
	}
	if _, ok := d.(consent.AppStatesReader); ok {
		t.Errorf("OnlyDriver exposes AppStatesReader")
	}
	st, err := d.AppState(context.Background(), tenantA, appX)
	if err != nil || !st.Exists {
		t.Errorf("OnlyDriver AppState = %+v, %v", st, err)
	}
	if got := f.CountActions(consenttest.MethodAppState); got != 1 {
		t.Errorf("OnlyDriver did not reach the Fake: %d calls", got)
	}
}

// ProveDelegated attempts appear in the app's sign-in log, so a Conditional Access block can be
// explained by address.
func TestFakeProveDelegatedLogsSignIns(t *testing.T) {
	const app = "22222222-2222-2222-2222-222222222222"
	f := setUp(t, consenttest.WithClientIP("198.51.100.99"))
	if err := f.RegisterApp(consenttest.App{AppID: app, RedirectURIs: []string{"https://cb"}}); err != nil {
		t.Fatal(err)
	}
	uid, err := f.AddUser(tenantA, consenttest.User{UserPrincipalName: "u@a.example"})
	if err != nil {
		t.Fatal(err)
	}
	code, err := f.AuthorizeUser(consenttest.AuthorizeRequest{TenantID: tenantA, AppID: app, UserID: uid, RedirectURI: "https://cb", Scopes: []string{"offline_access", "User.Read"}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	red, err := f.RedeemCode(ctx, consent.CodeRedemption{TenantID: tenantA, AppID: app, Code: code, RedirectURI: "https://cb"})
	if err != nil {
		t.Fatal(err)
	}
	req := consent.DelegatedRefresh{TenantID: tenantA, AppID: app, UserObjectID: uid, TokenCache: red.TokenCache}
	if _, err := f.ProveDelegated(ctx, req); err != nil {
		t.Fatal(err)
	}
	if err := f.BlockIP(tenantA, "198.51.100.99"); err != nil {
		t.Fatal(err)
	}
	_, err = f.ProveDelegated(ctx, req)
	if !errors.Is(err, consent.ErrInvalidGrant) {
		t.Fatalf("ProveDelegated from a blocked IP = %v, want ErrInvalidGrant", err)
	}
	got, err := f.SignIns(ctx, tenantA, app, time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	type brief struct {
		IP   string
		CA   consent.ConditionalAccessStatus
		Code int
	}
	var gotBrief []brief
	for _, s := range got {
		gotBrief = append(gotBrief, brief{s.IPAddress, s.ConditionalAccess, s.ErrorCode})
	}
	want := []brief{{"198.51.100.99", consent.ConditionalAccessFailure, 53003}, {"198.51.100.99", consent.ConditionalAccessNotApplied, 0}}
	if diff := cmp.Diff(want, gotBrief); diff != "" {
		t.Errorf("sign-in log mismatch (-want +got):\n%s", diff)
	}
}

// Reads race with tenant changes; every read must be a consistent snapshot (the grant is
// either there with its role or absent), and -race must stay quiet.
func TestFakeConcurrentChangesAndReads(t *testing.T) {
	f := setUp(t)
	const role = "df021288-bdef-4463-88db-98f22de89214"
	ctx := context.Background()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if i%2 == 0 {
				_ = f.GrantAppRole(tenantA, appX, consent.MicrosoftGraphAppID, role)
				_ = f.AssignAppDirectoryRole(tenantA, appX, roles.ExchangeAdministrator)
			} else {
				_ = f.RevokeAppRole(tenantA, appX, consent.MicrosoftGraphAppID, role)
				_ = f.RemoveAppDirectoryRole(tenantA, appX, roles.ExchangeAdministrator)
			}
		}
	}()
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				st, err := f.AppState(ctx, tenantA, appX)
				if err != nil {
					errs <- err
					return
				}
				for _, g := range st.AppRoleGrants {
					if g.AppRoleID != role || g.AssignmentID == "" {
						errs <- fmt.Errorf("torn grant %+v", g)
						return
					}
				}
				_, _ = f.AssignDirectoryRole(ctx, tenantA, appX, roles.SharePointAdministrator)
			}
		}()
	}
	time.Sleep(50 * time.Millisecond)
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := f.CountActions(consenttest.AnyMethod); got != 4*200*2 {
		t.Errorf("recorded %d actions, want %d", got, 4*200*2)
	}
}

// Nil and zero options keep the defaults instead of making the Fake panic later.
func TestFakeNilOptions(t *testing.T) {
	f := setUp(t, nil, consenttest.WithClock(nil), consenttest.WithRandom(nil), consenttest.WithTokenLifetime(-time.Hour))
	if _, err := f.AddUser(tenantA, consenttest.User{UserPrincipalName: "x@a.example"}); err != nil {
		t.Fatal(err)
	}
	st, err := f.AppState(context.Background(), tenantA, appX)
	if err != nil || !st.Exists || st.ServicePrincipal.ObjectID == "" {
		t.Errorf("AppState = %+v, %v", st, err)
	}
}

// One AppStates call is one recorded Action and one run of the call's hooks, whatever the
// number of apps; its results are AppState's.
func TestFakeAppStates(t *testing.T) {
	const absent = "22222222-2222-2222-2222-222222222222"
	f := setUp(t)
	ctx := context.Background()
	var calls []consenttest.Action
	f.OnCall(consenttest.AnyMethod, func(_ context.Context, a consenttest.Action) error {
		calls = append(calls, a)
		return nil
	})
	got, err := f.AppStates(ctx, tenantA, []string{appX, absent, "", appX})
	if err != nil {
		t.Fatalf("AppStates: %v", err)
	}
	stX, err := f.AppState(ctx, tenantA, appX)
	if err != nil {
		t.Fatal(err)
	}
	want := []consent.AppStateResult{{State: stX}, {State: consent.AppState{TenantID: tenantA, AppID: absent}}, {}, {State: stX}}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(consent.AppStateResult{}, "Err")); diff != "" {
		t.Errorf("AppStates mismatch (-want +got):\n%s", diff)
	}
	for i, r := range got {
		if (r.Err != nil) != (i == 2) {
			t.Errorf("result %d: error %v", i, r.Err)
		}
	}
	if !errors.Is(got[2].Err, consent.ErrInvalidArgument) {
		t.Errorf("result for an empty app ID: %v, want ErrInvalidArgument", got[2].Err)
	}
	wantActs := []consenttest.Action{
		{Method: consenttest.MethodAppStates, TenantID: tenantA, Arg: appX + "," + absent + ",," + appX},
		{Method: consenttest.MethodAppState, TenantID: tenantA, AppID: appX},
	}
	if diff := cmp.Diff(wantActs, f.Actions()); diff != "" {
		t.Errorf("Actions mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantActs, calls); diff != "" {
		t.Errorf("AnyMethod hook calls mismatch (-want +got):\n%s", diff)
	}

	empty, err := f.AppStates(ctx, tenantA, nil)
	if err != nil || empty == nil || len(empty) != 0 {
		t.Errorf("AppStates(no apps) = %#v, %v; want an empty non-nil slice and nil error", empty, err)
	}
	for _, tc := range []struct {
		name, tenant string
		want         error
	}{
		{"empty tenant", "", consent.ErrInvalidArgument},
		{"unknown tenant", "dddddddd-0000-0000-0000-000000000004", consent.ErrTenantNotFound},
	} {
		res, err := f.AppStates(ctx, tc.tenant, []string{appX})
		if !errors.Is(err, tc.want) || res != nil {
			t.Errorf("AppStates(%s) = %v, %v; want nil results and an error wrapping %v", tc.name, res, err, tc.want)
		}
	}
}

func TestFakeAppStatesFailWhole(t *testing.T) {
	ctx := context.Background()
	t.Run("fault", func(t *testing.T) {
		f := setUp(t)
		if _, err := f.InjectFault(tenantA, consenttest.FaultThrottled); err != nil {
			t.Fatal(err)
		}
		res, err := f.AppStates(ctx, tenantA, []string{appX})
		if !errors.Is(err, consent.ErrThrottled) || res != nil {
			t.Errorf("AppStates under a fault = %v, %v; want nil results and ErrThrottled", res, err)
		}
		var de *consent.DriverError
		if !errors.As(err, &de) || de.Op != consenttest.MethodAppStates {
			t.Errorf("error %v is not a DriverError of AppStates", err)
		}
	})
	t.Run("hook", func(t *testing.T) {
		f := setUp(t)
		f.OnCall(consenttest.MethodAppStates, consenttest.Throttle(time.Second))
		if res, err := f.AppStates(ctx, tenantA, []string{appX}); !errors.Is(err, consent.ErrThrottled) || res != nil {
			t.Errorf("AppStates with a failing hook = %v, %v; want nil results and ErrThrottled", res, err)
		}
		if _, err := f.AppState(ctx, tenantA, appX); err != nil {
			t.Errorf("an AppStates hook failed AppState: %v", err)
		}
	})
	t.Run("canceled", func(t *testing.T) {
		f := setUp(t)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if res, err := f.AppStates(cctx, tenantA, []string{appX}); !errors.Is(err, context.Canceled) || res != nil {
			t.Errorf("AppStates(canceled) = %v, %v; want nil results and context.Canceled", res, err)
		}
	})
	t.Run("item hook outlives ctx", func(t *testing.T) {
		f := setUp(t)
		// ctx ends once the call has begun (the whole-call hook cancels it), so no deadline races.
		dctx, cancel := context.WithCancel(ctx)
		defer cancel()
		f.OnCall(consenttest.MethodAppStates, func(context.Context, consenttest.Action) error { cancel(); return nil })
		f.OnCall(consenttest.MethodAppStatesItem, consenttest.Delay(time.Hour))
		if res, err := f.AppStates(dctx, tenantA, []string{appX}); !errors.Is(err, context.Canceled) || res != nil {
			t.Errorf("AppStates after its context ended = %v, %v; want nil results and context.Canceled", res, err)
		}
	})
}

// MethodAppStatesItem hooks fail single apps, as one throttled item of a $batch.
func TestFakeAppStatesItemHook(t *testing.T) {
	const other = "22222222-2222-2222-2222-222222222222"
	f := setUp(t)
	var seen []consenttest.Action
	f.OnCall(consenttest.MethodAppStatesItem, func(ctx context.Context, a consenttest.Action) error {
		seen = append(seen, a)
		if a.AppID == other {
			return consenttest.Throttle(3*time.Second)(ctx, a)
		}
		return nil
	})
	got, err := f.AppStates(context.Background(), tenantA, []string{other, appX})
	if err != nil {
		t.Fatalf("AppStates: %v", err)
	}
	if len(got) != 2 || !errors.Is(got[0].Err, consent.ErrThrottled) || got[0].State.Exists || got[1].Err != nil || !got[1].State.Exists {
		t.Fatalf("AppStates = %+v; want the first app throttled, the second read", got)
	}
	var de *consent.DriverError
	if !errors.As(got[0].Err, &de) || de.Op != consenttest.MethodAppStates || de.AppID != other || de.RetryAfter != 3*time.Second {
		t.Errorf("item error %#v, want a DriverError of AppStates for %s with RetryAfter 3s", got[0].Err, other)
	}
	wantSeen := []consenttest.Action{
		{Method: consenttest.MethodAppStates, TenantID: tenantA, AppID: other},
		{Method: consenttest.MethodAppStates, TenantID: tenantA, AppID: appX},
	}
	if diff := cmp.Diff(wantSeen, seen); diff != "" {
		t.Errorf("item hook calls mismatch (-want +got):\n%s", diff)
	}
	if n := f.CountActions(consenttest.AnyMethod); n != 1 {
		t.Errorf("%d actions recorded, want 1 (items are not calls)", n)
	}
	if _, err := f.AppState(context.Background(), tenantA, other); err != nil {
		t.Errorf("an item hook failed AppState: %v", err)
	}
}
