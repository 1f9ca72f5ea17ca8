package appprofile_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tenantapps/tenantapps/appprofile"
	"github.com/tenantapps/tenantapps/consent"
	"github.com/tenantapps/tenantapps/consent/consenttest"
	"github.com/tenantapps/tenantapps/permissions"
	"github.com/tenantapps/tenantapps/store"
	"github.com/tenantapps/tenantapps/store/memstore"
)

// fleet is a directory of tenants, each with the Nitro app (application permissions only, no
// roles) consented perTenant times under distinct app IDs, and a store holding one consented
// profile per (tenant, app).
type fleet struct {
	fake    *consenttest.Fake
	store   *memstore.Store
	tenants []string
	ids     []string
	now     time.Time
}

func fleetTenant(i int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", i) }
func fleetApp(j int) string    { return fmt.Sprintf("0000aaaa-0000-4000-8000-%012d", j) }

// newFleet builds the fleet. broken(i, j) marks the profiles whose tenant lacks a grant; they are
// stored Invalid, the others Valid, so that stored statuses match the truth.
func newFleet(tb testing.TB, tenants, perTenant int, broken func(i, j int) bool) *fleet {
	tb.Helper()
	now := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	f := &fleet{fake: consenttest.NewFake(consenttest.WithClock(func() time.Time { return now })), store: memstore.New(), now: now}
	nitro, err := permissions.Default().AppType("APElements Automation")
	if err != nil {
		tb.Fatal(err)
	}
	for j := range perTenant {
		if err := f.fake.RegisterApp(consenttest.App{AppID: fleetApp(j), DisplayName: "Nitro"}); err != nil {
			tb.Fatal(err)
		}
	}
	ctx := context.Background()
	for i := range tenants {
		tid := fleetTenant(i)
		f.tenants = append(f.tenants, tid)
		if err := f.fake.AddTenant(consenttest.Tenant{ID: tid}); err != nil {
			tb.Fatal(err)
		}
		for j := range perTenant {
			app := fleetApp(j)
			if _, err := f.fake.CreateServicePrincipal(tid, app); err != nil {
				tb.Fatal(err)
			}
			isBroken := broken != nil && broken(i, j)
			for k, p := range nitro.Permissions {
				if isBroken && k == 0 {
					continue
				}
				if err := f.fake.GrantAppRole(tid, app, p.ResourceAppID, p.ID); err != nil {
					tb.Fatal(err)
				}
			}
			status := appprofile.Valid
			var reasons []appprofile.Reason
			if isBroken {
				status = appprofile.Invalid
				reasons = []appprofile.Reason{{Code: appprofile.ReasonGrantMissing, Effect: appprofile.EffectInvalid}}
			}
			p := appprofile.Profile{ID: fmt.Sprintf("p-%05d-%02d", i, j), Customer: "c", Tenant: tid, Services: []string{"Nitro"}, AppType: nitro.Name, AppID: app,
				Mode: appprofile.Modern, Shape: appprofile.ShapeApplicationOnly, Status: status, Reasons: reasons,
				Consent: &appprofile.ConsentRecord{Method: appprofile.AdminConsent, At: now.Add(-48 * time.Hour), CatalogVersion: permissions.Default().Version()}}
			b, err := appprofile.MarshalPayload(p)
			if err != nil {
				tb.Fatal(err)
			}
			if _, err := f.store.Create(ctx, store.Record{ID: p.ID, Customer: p.Customer, Tenant: tid, Services: p.Services, AppType: p.AppType, Mode: string(p.Mode), Status: string(status), Payload: b}); err != nil {
				tb.Fatal(err)
			}
			f.ids = append(f.ids, p.ID)
		}
	}
	return f
}

func (f *fleet) manager(tb testing.TB, opts ...appprofile.Option) *appprofile.Manager {
	tb.Helper()
	base := []appprofile.Option{appprofile.WithClock(func() time.Time { return f.now }), appprofile.WithLogger(slog.New(slog.DiscardHandler))}
	m, err := appprofile.New(f.store, f.fake, append(base, opts...)...)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// callLog records when each driver call started and ended, per tenant, and the throttle windows.
type callLog struct {
	mu          sync.Mutex
	inflight    map[string]int
	maxTenant   int
	total       int
	maxTotal    int
	starts      []time.Time
	blockedFrom map[string]time.Time
	blockedTill map[string]time.Time
	allowance   map[string]int // calls still allowed on the wire in the tenant's window
	violations  int
}

// onTheWire is how many calls about a tenant may start inside a Retry-After window that the
// tenant's 429 opened: calls that passed the Manager's checks before the 429 reached it are
// already "on the wire", as a request sent before the client received a 429 is for a real
// server. The Manager has at most WithTenantConcurrency (2 in these tests) calls about a tenant
// in flight, the throttled one included, so at most one other can be on the wire, however
// slowly the machine schedules goroutines.
const onTheWire = 1

func newCallLog() *callLog {
	return &callLog{inflight: map[string]int{}, blockedFrom: map[string]time.Time{}, blockedTill: map[string]time.Time{}, allowance: map[string]int{}}
}

// hook wraps inner (which may fail the call) with bookkeeping.
func (l *callLog) hook(latency time.Duration, inner consenttest.Hook) consenttest.Hook {
	return func(ctx context.Context, a consenttest.Action) error {
		l.mu.Lock()
		now := time.Now()
		if now.After(l.blockedFrom[a.TenantID]) && now.Before(l.blockedTill[a.TenantID]) {
			if l.allowance[a.TenantID] > 0 {
				l.allowance[a.TenantID]--
			} else {
				l.violations++
			}
		}
		l.inflight[a.TenantID]++
		l.total++
		l.maxTenant = max(l.maxTenant, l.inflight[a.TenantID])
		l.maxTotal = max(l.maxTotal, l.total)
		l.starts = append(l.starts, now)
		l.mu.Unlock()
		defer func() {
			l.mu.Lock()
			l.inflight[a.TenantID]--
			l.total--
			l.mu.Unlock()
		}()
		if latency > 0 {
			if err := consenttest.Delay(latency)(ctx, a); err != nil {
				return err
			}
		}
		if inner == nil {
			return nil
		}
		err := inner(ctx, a)
		if d, ok := consent.RetryAfter(err); ok {
			l.mu.Lock()
			l.blockedFrom[a.TenantID] = time.Now()
			l.blockedTill[a.TenantID] = time.Now().Add(d)
			l.allowance[a.TenantID] = onTheWire
			l.mu.Unlock()
		}
		return err
	}
}

func TestVerifyAllConcurrencyAndRate(t *testing.T) {
	f := newFleet(t, 10, 6, nil)
	log := newCallLog()
	f.fake.OnCall(consenttest.AnyMethod, log.hook(5*time.Millisecond, nil))
	m := f.manager(t, appprofile.WithTenantConcurrency(2), appprofile.WithWorkers(8), appprofile.WithRateLimit(appprofile.RateLimit{PerSecond: 400, Burst: 4}))
	var pages []appprofile.Progress
	began := time.Now()
	res, err := m.VerifyAll(context.Background(), store.Filter{}, appprofile.VerifyAllOptions{PageSize: 25, Progress: func(p appprofile.Progress) { pages = append(pages, p) }})
	if err != nil {
		t.Fatal(err)
	}
	if res.Done != 60 || res.Checked != 60 || res.Changed != 0 || res.Cursor != "" {
		t.Errorf("result = %+v %v", res.Progress, res.Errors)
	}
	if len(pages) != 3 || pages[0].Done < 25 || pages[0].Cursor == "" || pages[2].Done != 60 || pages[2].Cursor != "" {
		t.Errorf("progress = %+v", pages)
	}
	if log.maxTenant > 2 || log.maxTotal > 8 {
		t.Errorf("max in flight per tenant %d (cap 2), overall %d (cap 8)", log.maxTenant, log.maxTotal)
	}
	// Rate: the bucket holds at most burst calls when VerifyAll starts and refills at the rate,
	// so the last of n calls cannot start before (n-burst)/rate. A loaded machine only makes the
	// run slower, so this bound holds however goroutines are scheduled.
	if n := len(log.starts); n > 4 {
		minSpan := time.Duration(float64(n-4) / 400 * float64(time.Second))
		if span := log.starts[n-1].Sub(began); span < minSpan {
			t.Errorf("%d calls started within %v at a budget of 400/s with burst 4, want at least %v", n, span, minSpan)
		}
	}
}

func TestVerifyAllHonoursRetryAfter(t *testing.T) {
	f := newFleet(t, 3, 4, nil)
	log := newCallLog()
	throttled := consenttest.ForTenant(f.tenants[1], consenttest.Times(2, consenttest.Throttle(150*time.Millisecond)))
	f.fake.OnCall(consenttest.AnyMethod, log.hook(0, throttled))
	m := f.manager(t)
	res, err := m.VerifyAll(context.Background(), store.Filter{}, appprofile.VerifyAllOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if log.violations != 0 {
		t.Errorf("%d calls started inside a Retry-After window", log.violations)
	}
	if res.Checked != 12 || res.CouldNotCheck != 0 {
		t.Errorf("throttled profiles were not retried: %+v", res.Progress)
	}
}

func TestVerifyAllResumesAfterCancel(t *testing.T) {
	f := newFleet(t, 20, 5, nil)
	f.fake.OnCall(consenttest.AnyMethod, consenttest.Delay(time.Millisecond))
	m := f.manager(t)
	ctx, cancel := context.WithCancel(context.Background())
	var first appprofile.Progress
	res, err := m.VerifyAll(ctx, store.Filter{}, appprofile.VerifyAllOptions{PageSize: 30, Progress: func(p appprofile.Progress) {
		if first.Done == 0 {
			first = p
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) || res.Cursor == "" {
		t.Fatalf("cancelled run: err %v, cursor %q (first page cursor %q)", err, res.Cursor, first.Cursor)
	}
	res2, err := m.VerifyAll(context.Background(), store.Filter{}, appprofile.VerifyAllOptions{PageSize: 30, Cursor: res.Cursor})
	if err != nil {
		t.Fatal(err)
	}
	if res2.Done >= 100 || res.Done+res2.Done < 100 || res2.Cursor != "" {
		t.Errorf("first run %d + resumed run %d profiles: the resumed run must not start over and both must cover 100", res.Done, res2.Done)
	}
	for _, id := range f.ids {
		p, err := m.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if p.LastCheck == nil || p.LastCheck.Outcome != appprofile.Checked {
			t.Fatalf("profile %s never verified: %+v", id, p.LastCheck)
		}
	}
}

// TestVerifyAllConcurrentEdit: an edit lands while a profile is being checked. An edit that
// leaves the checked subject alone (a rename) is kept and the check is written on top of it (the
// write-back is idempotent and retried); an edit that changes what was checked (a new consent)
// wins and the check is not written (Superseded).
func TestVerifyAllConcurrentEdit(t *testing.T) {
	for _, tc := range []struct {
		name           string
		edit           func(*appprofile.Profile)
		wantSuperseded int
	}{
		{"rename", func(p *appprofile.Profile) { p.Name = "renamed by an admin" }, 0},
		{"new consent", func(p *appprofile.Profile) {
			p.Name = "renamed by an admin"
			c := *p.Consent
			c.CallbackNonce, c.UserID = "a-newer-callback", "another-admin"
			p.Consent = &c
		}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFleet(t, 2, 2, nil)
			target := "p-00001-01"
			var once sync.Once
			// The edit lands while the profile's app state is being read (AppState, or its item
			// of a tenant's AppStates).
			edit := func(ctx context.Context, a consenttest.Action) error {
				if a.TenantID == fleetTenant(1) && a.AppID == fleetApp(1) {
					once.Do(func() {
						rec, err := f.store.Get(ctx, target)
						if err != nil {
							t.Error(err)
							return
						}
						p, _ := appprofile.UnmarshalPayload(rec.Payload)
						tc.edit(&p)
						rec.Payload, _ = appprofile.MarshalPayload(p)
						if _, err := f.store.Update(ctx, rec); err != nil {
							t.Error(err)
						}
					})
				}
				return nil
			}
			f.fake.OnCall(consenttest.MethodAppState, edit)
			f.fake.OnCall(consenttest.MethodAppStatesItem, edit)
			m := f.manager(t)
			res, err := m.VerifyAll(context.Background(), store.Filter{}, appprofile.VerifyAllOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if res.Superseded != tc.wantSuperseded || res.Checked != 4-tc.wantSuperseded {
				t.Errorf("result = %+v, want %d superseded", res.Progress, tc.wantSuperseded)
			}
			p, err := m.Get(context.Background(), target)
			if err != nil {
				t.Fatal(err)
			}
			if p.Name != "renamed by an admin" {
				t.Errorf("the concurrent edit was lost: name %q", p.Name)
			}
			if written := p.LastCheck != nil; written != (tc.wantSuperseded == 0) {
				t.Errorf("check written = %v (LastCheck %+v), want %v", written, p.LastCheck, tc.wantSuperseded == 0)
			}
		})
	}
}

// TestVerifyAllFaultInjection fails 10 % of driver calls (throttled with Retry-After, 503,
// malformed answers, timeouts) and checks that no profile changes status falsely: stored statuses
// match the tenants, so every status must stay as it was, and the failed ones say could-not-check.
func TestVerifyAllFaultInjection(t *testing.T) {
	f := newFleet(t, 40, 5, func(i, j int) bool { return (i+j)%3 == 0 })
	var mu sync.Mutex
	rng := rand.New(rand.NewPCG(1, 2))
	faulty := func(ctx context.Context, a consenttest.Action) error {
		mu.Lock()
		x := rng.IntN(40)
		mu.Unlock()
		switch x {
		case 0:
			return &consent.DriverError{Op: a.Method, TenantID: a.TenantID, Code: "TooManyRequests", RetryAfter: 100 * time.Millisecond, Err: consent.ErrThrottled}
		case 1:
			return &consent.DriverError{Op: a.Method, TenantID: a.TenantID, Code: "ServiceUnavailable", Err: consent.ErrTransient}
		case 2:
			return &consent.DriverError{Op: a.Method, TenantID: a.TenantID, Err: fmt.Errorf("%w: unexpected end of JSON input", consent.ErrTransient)}
		case 3:
			return &consent.DriverError{Op: a.Method, TenantID: a.TenantID, Err: context.DeadlineExceeded}
		}
		return nil
	}
	log := newCallLog()
	f.fake.OnCall(consenttest.AnyMethod, log.hook(0, faulty))
	f.fake.OnCall(consenttest.MethodAppStatesItem, faulty) // single items of a tenant's read fail too
	m := f.manager(t, appprofile.WithMaxAttempts(1))
	res, err := m.VerifyAll(context.Background(), store.Filter{}, appprofile.VerifyAllOptions{PageSize: 64})
	if err != nil {
		t.Fatal(err)
	}
	if res.Done != 200 || res.Changed != 0 || res.CouldNotCheck == 0 || res.Checked+res.CouldNotCheck != 200 {
		t.Fatalf("result = %+v; want 200 done, none changed, some could-not-check", res.Progress)
	}
	if log.violations != 0 {
		t.Errorf("%d Retry-After violations", log.violations)
	}
	cnc := 0
	for _, id := range f.ids {
		p, err := m.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		var i, j int
		fmt.Sscanf(id, "p-%05d-%02d", &i, &j)
		want := appprofile.Valid
		if (i+j)%3 == 0 {
			want = appprofile.Invalid
		}
		if p.Status != want {
			t.Errorf("%s: status %s, want %s (last check %+v)", id, p.Status, want, p.LastCheck)
		}
		if p.LastCheck.Outcome == appprofile.CouldNotCheck {
			cnc++
		}
	}
	if cnc != res.CouldNotCheck {
		t.Errorf("%d profiles say could-not-check, result says %d", cnc, res.CouldNotCheck)
	}
}

// TestVerifyAllReadsEachTenantOnce: with a consent.AppStatesReader driver, a page's profiles of one
// tenant are read with one AppStates call, never AppState by AppState, and the statuses are the
// same as profile-by-profile checks give.
func TestVerifyAllReadsEachTenantOnce(t *testing.T) {
	f := newFleet(t, 6, 5, func(i, j int) bool { return i == 2 && j == 3 })
	m := f.manager(t)
	res, err := m.VerifyAll(context.Background(), store.Filter{}, appprofile.VerifyAllOptions{PageSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	if res.Done != 30 || res.Checked != 30 || res.Changed != 0 {
		t.Errorf("result = %+v %v (stored statuses match the tenants: nothing may change)", res.Progress, res.Errors)
	}
	if n := f.fake.CountActions(consenttest.MethodAppState); n != 0 {
		t.Errorf("%d AppState calls, want 0: every read goes through AppStates", n)
	}
	reads := map[string]int{}
	for _, a := range f.fake.Actions() {
		if a.Method == consenttest.MethodAppStates {
			reads[a.TenantID]++
			if n := len(strings.Split(a.Arg, ",")); n != 5 {
				t.Errorf("tenant %s: AppStates for %d apps, want its 5", a.TenantID, n)
			}
		}
	}
	for _, tid := range f.tenants {
		if reads[tid] != 1 {
			t.Errorf("tenant %s read %d times, want 1", tid, reads[tid])
		}
	}
	p, err := m.Get(context.Background(), "p-00002-03")
	if err != nil {
		t.Fatal(err)
	}
	if p.Status != appprofile.Invalid || len(p.Reasons) == 0 || p.Reasons[0].Code != appprofile.ReasonGrantMissing {
		t.Errorf("broken profile: %s %+v, want Invalid with grant missing", p.Status, p.Reasons)
	}
}

// TestProfileIDsGroupTenants: IDs the Manager assigns are RFC 9562 version 8 UUIDs whose first 32
// bits are the same for one tenant and differ between tenants, so a fleet scan (ordered by ID)
// meets a tenant's profiles together.
func TestProfileIDsGroupTenants(t *testing.T) {
	e := newEnv(t, appprofile.WithDuplicates(true))
	other := "6f1e2d3c-2222-4a5b-9c8d-000000000002"
	must(t, e.fake.AddTenant(consenttest.Tenant{ID: other}))
	prefix := map[string]map[string]bool{}
	for range 3 {
		for _, tid := range []string{tenantID, other} {
			ps, err := e.mgr.Create(e.ctx, appprofile.CreateRequest{Customer: "c", Tenant: tid, Services: []string{"Nitro"}})
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range ps {
				id, err := uuid.Parse(p.ID)
				if err != nil || id.Version() != 8 || id.Variant() != uuid.RFC4122 {
					t.Fatalf("ID %q: version %d variant %v (%v), want an RFC 9562 version 8 UUID", p.ID, id.Version(), id.Variant(), err)
				}
				if prefix[tid] == nil {
					prefix[tid] = map[string]bool{}
				}
				prefix[tid][p.ID[:8]] = true
			}
		}
	}
	if len(prefix[tenantID]) != 1 || len(prefix[other]) != 1 {
		t.Errorf("a tenant's IDs must share their first 32 bits: %v", prefix)
	}
	for k := range prefix[tenantID] {
		if prefix[other][k] {
			t.Errorf("two tenants share the ID prefix %s", k)
		}
	}
}
