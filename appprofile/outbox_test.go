package appprofile_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/tenantapps/tenantapps/appprofile"
	"github.com/tenantapps/tenantapps/roles"
	"github.com/tenantapps/tenantapps/store"
	"github.com/tenantapps/tenantapps/store/memstore"
)

// recorder is an acknowledging handler that records what it received.
type recorder struct {
	mu   sync.Mutex
	got  []appprofile.Delivery
	fail func(appprofile.Delivery) error // nil: accept everything
}

func (r *recorder) handle(_ context.Context, d appprofile.Delivery) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, d)
	if r.fail != nil {
		return r.fail(d)
	}
	return nil
}

func (r *recorder) ids() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, d := range r.got {
		out = append(out, d.IdempotencyKey)
	}
	return out
}

func dispatcher(t *testing.T, st store.Store, h appprofile.Handler, o appprofile.DispatcherOptions) *appprofile.Dispatcher {
	t.Helper()
	d, err := appprofile.NewDispatcher(st, h, o)
	must(t, err)
	return d
}

// drain dispatches until a round delivers and fails nothing.
func drain(t *testing.T, d *appprofile.Dispatcher) {
	t.Helper()
	for range 100 {
		res, err := d.DispatchOnce(context.Background())
		must(t, err)
		if res.Delivered+res.Failed+res.Lost == 0 {
			return
		}
	}
	t.Fatal("the outbox did not drain in 100 rounds")
}

// TestDispatcherDeliversStatusChanges: every status change the Manager saves reaches the handler
// through the outbox, with its idempotency key, the same events the in-process hook saw, and
// nothing more once acknowledged.
func TestDispatcherDeliversStatusChanges(t *testing.T) {
	e := newEnv(t)
	p := e.createAndConsent("Baseline management", "APElements Baseline Management", baselineID)
	must(t, e.fake.DeleteServicePrincipal(tenantID, baselineID))
	e.clock.Advance(time.Minute)
	if res := e.verify(p.ID); res.Profile.Status != appprofile.Invalid {
		t.Fatalf("after deleting the service principal: %s", res.Profile.Status)
	}
	rec := &recorder{}
	d := dispatcher(t, e.store, rec.handle, appprofile.DispatcherOptions{})
	drain(t, d)
	e.mu.Lock()
	hooked := slices.Clone(e.events)
	e.mu.Unlock()
	if len(hooked) != 2 {
		t.Fatalf("hook saw %d events, want 2 (pending -> valid, valid -> invalid)", len(hooked))
	}
	var delivered []appprofile.Event
	for _, dl := range rec.got {
		delivered = append(delivered, dl.Event)
		if dl.IdempotencyKey != dl.Event.ID || dl.Attempt != 1 {
			t.Errorf("delivery %+v: want IdempotencyKey = Event.ID and Attempt 1", dl)
		}
	}
	if diff := cmp.Diff(hooked, delivered, cmpopts.EquateEmpty(), cmpopts.EquateApproxTime(time.Microsecond)); diff != "" {
		t.Errorf("delivered events differ from the hook's (-hook +delivered):\n%s", diff)
	}
	if len(delivered) == 2 && (delivered[0].ID != fmt.Sprintf("%s@%d", p.ID, delivered[0].Version) || delivered[0].New != appprofile.Valid ||
		delivered[1].Version <= delivered[0].Version || delivered[1].Old != appprofile.Valid || delivered[1].New != appprofile.Invalid ||
		delivered[1].Kind != appprofile.EventStatusChanged) {
		t.Errorf("delivered = %+v, want pending -> valid then valid -> invalid, IDs profile@version", delivered)
	}
	if n := len(rec.ids()); n != 2 {
		t.Errorf("handler called %d times, want 2", n)
	}
	drain(t, d)
	if n := len(rec.ids()); n != 2 {
		t.Errorf("after acknowledging, a second drain delivered again: %d calls", n)
	}
}

// TestDispatcherRetryDoesNotBlockOthers: a failing handler is retried with the backoff (on the
// store's clock) and its profile's later events wait, while other profiles' events are delivered.
func TestDispatcherRetryDoesNotBlockOthers(t *testing.T) {
	e := newEnv(t)
	a := e.createAndConsent("Baseline management", "APElements Baseline Management", baselineID)
	b := e.createAndConsent("Nitro", "APElements Automation", nitroID)
	// a: valid -> invalid -> valid again; b: valid -> invalid.
	must(t, e.fake.DeleteServicePrincipal(tenantID, baselineID))
	must(t, e.fake.DeleteServicePrincipal(tenantID, nitroID))
	e.verify(a.ID)
	e.verify(b.ID)
	e.grantAll(baselineID, "APElements Baseline Management")
	e.verify(a.ID)

	failing := true
	rec := &recorder{fail: func(d appprofile.Delivery) error {
		if failing && d.Event.ProfileID == a.ID {
			return errors.New("the portal's database is down")
		}
		return nil
	}}
	var backoffs []int
	d := dispatcher(t, e.store, rec.handle, appprofile.DispatcherOptions{Backoff: func(attempt int) time.Duration {
		backoffs = append(backoffs, attempt)
		return time.Hour
	}})
	for range 5 {
		if _, err := d.DispatchOnce(e.ctx); err != nil {
			t.Fatal(err)
		}
	}
	perProfile := func(id string) []appprofile.Delivery {
		var out []appprofile.Delivery
		for _, dl := range rec.got {
			if dl.Event.ProfileID == id {
				out = append(out, dl)
			}
		}
		return out
	}
	if got := perProfile(b.ID); len(got) != 2 {
		t.Errorf("profile b got %d deliveries while a was failing, want its 2 events", len(got))
	}
	if got := perProfile(a.ID); len(got) != 1 {
		t.Fatalf("profile a got %d deliveries within its backoff, want 1 (the failed first event)", len(got))
	}
	if !slices.Equal(backoffs, []int{1}) {
		t.Errorf("Backoff called with attempts %v, want [1]", backoffs)
	}
	// After the backoff the failed event comes first again, then a's later events, in order.
	failing = false
	e.clock.Advance(time.Hour)
	drain(t, d)
	got := perProfile(a.ID)
	var keys []string
	for _, dl := range got {
		keys = append(keys, dl.IdempotencyKey)
	}
	if len(got) != 4 || got[1].IdempotencyKey != got[0].IdempotencyKey || got[1].Attempt != 2 || got[1].LastError != "the portal's database is down" {
		t.Fatalf("profile a deliveries = %v, want the failed event again (attempt 2, with its error) and then the rest", keys)
	}
	for i := 2; i < len(got); i++ {
		if got[i].Event.Version <= got[i-1].Event.Version {
			t.Errorf("profile a delivered version %d after %d: out of order", got[i].Event.Version, got[i-1].Event.Version)
		}
	}
}

func TestDispatcherNeedsOutbox(t *testing.T) {
	type plain struct{ store.Store }
	if _, err := appprofile.NewDispatcher(plain{memstore.New()}, func(context.Context, appprofile.Delivery) error { return nil }, appprofile.DispatcherOptions{}); !errors.Is(err, appprofile.ErrNoOutbox) {
		t.Errorf("NewDispatcher(store without outbox): err = %v, want ErrNoOutbox", err)
	}
	if _, err := appprofile.NewDispatcher(memstore.New(), nil, appprofile.DispatcherOptions{}); !errors.Is(err, appprofile.ErrInvalidRequest) {
		t.Errorf("NewDispatcher(nil handler): err = %v, want ErrInvalidRequest", err)
	}
}

// TestDispatcherHandlerPanic: a panicking handler is a failed delivery, not a crash.
func TestDispatcherHandlerPanic(t *testing.T) {
	e := newEnv(t)
	e.createAndConsent("Nitro", "APElements Automation", nitroID)
	d := dispatcher(t, e.store, func(context.Context, appprofile.Delivery) error { panic("boom") }, appprofile.DispatcherOptions{})
	res, err := d.DispatchOnce(e.ctx)
	if err != nil || res.Failed != 1 {
		t.Errorf("DispatchOnce with a panicking handler = %+v, %v; want 1 failed", res, err)
	}
}

// TestHistory: every change a check saw is recorded — status, reasons, grants, roles, consent,
// re-authorization requests — and checks that changed nothing add nothing; it reads by profile,
// by tenant and time range, and retention prunes it.
func TestHistory(t *testing.T) {
	e := newEnv(t, appprofile.WithHistoryRetention(30*24*time.Hour))
	t0 := e.clock.Now()
	p := e.createAndConsent("Baseline management", "APElements Baseline Management", baselineID)
	e.clock.Advance(time.Minute)
	e.verify(p.ID) // nothing changed
	e.clock.Advance(time.Minute)
	e.assignRoles(baselineID, "APElements Baseline Management")
	e.verify(p.ID) // roles appeared: role-pending goes away
	e.clock.Advance(time.Minute)
	a, err := e.cat.AppType("APElements Baseline Management")
	must(t, err)
	must(t, e.fake.RevokeAppRole(tenantID, baselineID, a.Permissions[0].ResourceAppID, a.Permissions[0].ID))
	must(t, e.fake.RemoveAppDirectoryRole(tenantID, baselineID, roles.SecurityAdministrator))
	tRevoke := e.clock.Now()
	e.verify(p.ID)
	e.clock.Advance(time.Minute)
	_, err = e.mgr.RequestReauthorization(e.ctx, p.ID, "the admin left")
	must(t, err)

	hs, err := e.mgr.History(e.ctx, appprofile.HistoryQuery{ProfileID: p.ID})
	must(t, err)
	if len(hs) != 4 {
		t.Fatalf("history has %d entries, want 4 (consent, roles, revocation, re-authorization request): %+v", len(hs), hs)
	}
	consentEntry := hs[0]
	if c := consentEntry.Consent; c == nil || c.Method != appprofile.AdminConsent || c.UserID != e.admin || c.Reauthorization ||
		consentEntry.OldStatus != appprofile.Pending || consentEntry.NewStatus != appprofile.Valid || len(consentEntry.GrantsAdded) != len(a.Permissions) {
		t.Errorf("consent entry = %+v, want admin consent by %s, pending -> valid, %d grants added", consentEntry, e.admin, len(a.Permissions))
	}
	if r := hs[1]; len(r.RolesAdded) != 3 || len(r.ReasonsRemoved) != 1 || r.ReasonsRemoved[0].Code != appprofile.ReasonRolePending || r.Outcome != appprofile.Checked {
		t.Errorf("roles entry = %+v, want 3 roles added and role-pending removed", r)
	}
	rv := hs[2]
	if rv.OldStatus != appprofile.Valid || rv.NewStatus != appprofile.Invalid || len(rv.GrantsRemoved) != 1 ||
		!slices.Equal(rv.RolesRemoved, []string{roles.SecurityAdministrator.Name()}) || !rv.At.Equal(tRevoke) {
		t.Errorf("revocation entry = %+v, want valid -> invalid, one grant and Security Administrator removed at %v", rv, tRevoke)
	}
	var added []appprofile.ReasonCode
	for _, r := range rv.ReasonsAdded {
		added = append(added, r.Code)
	}
	slices.Sort(added)
	// The role went within 24 hours of consent: it is pending again, not missing.
	if want := []appprofile.ReasonCode{appprofile.ReasonGrantMissing, appprofile.ReasonRolePending}; !slices.Equal(added, want) {
		t.Errorf("revocation entry's reasons added = %v, want %v", added, want)
	}
	if hs[3].ReauthorizationRequested != "the admin left" {
		t.Errorf("last entry = %+v, want the re-authorization request", hs[3])
	}

	// By tenant and time range; paging.
	byTenant, err := e.mgr.History(e.ctx, appprofile.HistoryQuery{Tenant: tenantID, From: tRevoke, To: tRevoke.Add(time.Second)})
	must(t, err)
	if len(byTenant) != 1 || byTenant[0].Seq != rv.Seq {
		t.Errorf("History(tenant, at the revocation) = %d entries, want the revocation", len(byTenant))
	}
	page, err := e.mgr.History(e.ctx, appprofile.HistoryQuery{ProfileID: p.ID, AfterSeq: hs[1].Seq, Limit: 1})
	must(t, err)
	if len(page) != 1 || page[0].Seq != rv.Seq {
		t.Errorf("History(after entry 2, limit 1) = %+v, want the revocation", page)
	}
	if _, err := e.mgr.History(e.ctx, appprofile.HistoryQuery{}); !errors.Is(err, appprofile.ErrInvalidRequest) {
		t.Errorf("History without profile or tenant: err = %v, want ErrInvalidRequest", err)
	}

	// Retention: 30 days after the first entries, they are pruned.
	e.clock.Advance(30*24*time.Hour - time.Minute) // the consent and roles entries are older than 30 days
	n, err := e.mgr.PruneHistory(e.ctx)
	must(t, err)
	if n != 2 {
		t.Errorf("PruneHistory deleted %d entries, want the 2 older than 30 days", n)
	}
	if rest, _ := e.mgr.History(e.ctx, appprofile.HistoryQuery{Tenant: tenantID, From: t0}); len(rest) != 2 {
		t.Errorf("after pruning %d entries are left, want 2", len(rest))
	}

	// Without the outbox there is no history, and events still reach the hook.
	off := newEnv(t, appprofile.WithOutbox(false))
	off.createAndConsent("Nitro", "APElements Automation", nitroID)
	if _, err := off.mgr.History(off.ctx, appprofile.HistoryQuery{Tenant: tenantID}); !errors.Is(err, appprofile.ErrNoHistory) {
		t.Errorf("History with WithOutbox(false): err = %v, want ErrNoHistory", err)
	}
	if len(off.events) != 1 {
		t.Errorf("WithOutbox(false): hook saw %d events, want 1", len(off.events))
	}
	evs, err := off.store.ClaimEvents(off.ctx, "x", time.Minute, 10)
	if err != nil || len(evs) != 0 {
		t.Errorf("WithOutbox(false) wrote %d outbox events (%v), want none", len(evs), err)
	}
}

// TestHistoryRecordsReauthorization: a re-authorization with a new certificate is in the history
// as the app change and then as a consent marked as re-authorization, with the status it restored.
func TestHistoryRecordsReauthorization(t *testing.T) {
	e := newEnv(t)
	p := consentedCustom(e, 365*24*time.Hour)
	oldThumb := p.Custom.Thumbprint
	newCert, newPFX := selfSigned(t, "contoso-baseline-2", e.clock.Now().Add(-time.Hour), 90*24*time.Hour, "pw2")
	must(t, e.fake.RotateAppCertificates(customID, newCert))
	e.clock.Advance(time.Minute)
	if res := e.verify(p.ID); res.Profile.Status != appprofile.Invalid {
		t.Fatalf("after rotation: %s", res.Profile.Status)
	}
	e.clock.Advance(time.Minute)
	start, err := e.mgr.Reauthorize(e.ctx, p.ID, appprofile.ReauthorizeInput{ReauthorizeRequest: appprofile.ReauthorizeRequest{Change: appprofile.ChangeCertificate, Surface: appprofile.SurfaceAOS},
		Consenter: e.globalAdmin(), Custom: &appprofile.CustomAppInput{ApplicationID: customID, PFX: newPFX, Password: "pw2"}})
	must(t, err)
	e.clock.Advance(time.Minute)
	_, err = e.mgr.CompleteConsent(e.ctx, appprofile.Callback{State: start.State, Tenant: tenantID, AdminConsent: "True"})
	must(t, err)
	hs, err := e.mgr.History(e.ctx, appprofile.HistoryQuery{ProfileID: p.ID})
	must(t, err)
	if len(hs) != 4 {
		t.Fatalf("history has %d entries, want 4 (consent, broken certificate, new certificate, re-authorization)", len(hs))
	}
	if a := hs[2].AppChanged; a == nil || a.OldThumbprint != oldThumb || a.NewThumbprint == oldThumb || a.NewAppID != customID {
		t.Errorf("app change entry = %+v, want the certificate %s replaced", hs[2], oldThumb)
	}
	if c := hs[3].Consent; c == nil || !c.Reauthorization || hs[3].OldStatus != appprofile.Invalid || hs[3].NewStatus != appprofile.Valid {
		t.Errorf("re-authorization entry = %+v, want a consent marked re-authorization, invalid -> valid", hs[3])
	}
}
