package appprofile_test

import (
	"crypto/x509"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantapps/tenantapps/appprofile"
	"github.com/tenantapps/tenantapps/consent/consenttest"
	"github.com/tenantapps/tenantapps/roles"
)

const graphResource = "00000003-0000-0000-c000-000000000000"

const extraRole1, extraRole2 = "00000000-0000-4000-8000-00000000e7a1", "00000000-0000-4000-8000-00000000e7a2"

func reasonOf(p appprofile.Profile, code appprofile.ReasonCode) (appprofile.Reason, bool) {
	i := slices.IndexFunc(p.Reasons, func(r appprofile.Reason) bool { return r.Code == code })
	if i < 0 {
		return appprofile.Reason{}, false
	}
	return p.Reasons[i], true
}

func (e *env) accept(id string, code appprofile.ReasonCode, d time.Duration) appprofile.Profile {
	e.t.Helper()
	p, err := e.mgr.AcceptDeviation(e.ctx, id, appprofile.AcceptRequest{Code: code, By: "ops@msp.example", Why: "known, ticket 4711", Expires: e.clock.Now().Add(d)})
	if err != nil {
		e.t.Fatalf("AcceptDeviation(%s): %v", code, err)
	}
	return p
}

func (e *env) lastEvent() appprofile.Event {
	e.t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.events) == 0 {
		e.t.Fatal("no event")
	}
	return e.events[len(e.events)-1]
}

func (e *env) eventCount() int { e.mu.Lock(); defer e.mu.Unlock(); return len(e.events) }

// validBaseline is a consented Baseline profile with its roles, past the 24 hours.
func validBaseline(e *env) appprofile.Profile {
	e.t.Helper()
	p := e.createAndConsent("Baseline management", "APElements Baseline Management", baselineID)
	e.assignRoles(baselineID, "APElements Baseline Management")
	e.clock.Advance(25 * time.Hour)
	if res := e.verify(p.ID); res.Profile.Status != appprofile.Valid || len(res.Profile.Reasons) != 0 {
		e.t.Fatalf("baseline: %s %v", res.Profile.Status, codes(res.Profile))
	}
	return p
}

// TestAcceptExtraGrantReraisedOnChange: an accepted extra grant stays accepted while it is the
// only one; a second extra grant re-raises it with an event.
func TestAcceptExtraGrantReraisedOnChange(t *testing.T) {
	e := newEnv(t)
	p := validBaseline(e)
	must(t, e.fake.GrantAppRole(tenantID, baselineID, graphResource, extraRole1))
	e.verify(p.ID)
	got := e.accept(p.ID, appprofile.ReasonGrantExtra, 30*24*time.Hour)
	r, _ := reasonOf(got, appprofile.ReasonGrantExtra)
	if r.Accepted == nil || r.Accepted.By != "ops@msp.example" || len(got.Accepted) != 1 || got.Status != appprofile.Valid {
		t.Fatalf("after accepting: status %s, reason %+v, accepted %v", got.Status, r, got.Accepted)
	}
	before := e.eventCount()
	e.clock.Advance(time.Hour)
	if res := e.verify(p.ID); len(res.Profile.Accepted) != 1 || res.Profile.Reasons[0].Accepted == nil {
		t.Errorf("same fact, next check: acceptance gone: %+v", res.Profile.Reasons)
	}
	if e.eventCount() != before {
		t.Errorf("a check that saw the accepted fact again fired an event")
	}
	// The accepted extra grant becomes two.
	must(t, e.fake.GrantAppRole(tenantID, baselineID, graphResource, extraRole2))
	res := e.verify(p.ID)
	r, _ = reasonOf(res.Profile, appprofile.ReasonGrantExtra)
	if r.Accepted != nil || len(res.Profile.Accepted) != 0 {
		t.Errorf("two extra grants: still accepted: %+v", res.Profile)
	}
	ev := e.lastEvent()
	if ev.Kind != appprofile.EventDeviationReraised || len(ev.Reraised) != 1 || ev.Reraised[0].Why != "changed" || ev.Reraised[0].Now.Code != appprofile.ReasonGrantExtra {
		t.Errorf("event = %+v, want a deviation-reraised event (changed)", ev)
	}
	hs, err := e.mgr.History(e.ctx, appprofile.HistoryQuery{ProfileID: p.ID})
	must(t, err)
	var accepted, reraised int
	for _, h := range hs {
		accepted += len(h.Accepted)
		reraised += len(h.Reraised)
	}
	if accepted != 1 || reraised != 1 {
		t.Errorf("history: %d acceptances and %d re-raises recorded, want 1 and 1", accepted, reraised)
	}
}

// TestAcceptLateRoleReraisedWhenAnotherRoleGoes: an automatic role still missing past 24 hours
// may be accepted (the profile is Valid again); when someone removes another role the deviation
// changes and the profile is Invalid again, with an event.
func TestAcceptLateRoleReraisedWhenAnotherRoleGoes(t *testing.T) {
	e := newEnv(t)
	p := e.createAndConsent("Baseline management", "APElements Baseline Management", baselineID)
	must(t, e.fake.AssignAppDirectoryRole(tenantID, baselineID, roles.ExchangeAdministrator))
	must(t, e.fake.AssignAppDirectoryRole(tenantID, baselineID, roles.AttributeDefinitionReader))
	e.clock.Advance(25 * time.Hour)
	if res := e.verify(p.ID); res.Profile.Status != appprofile.Invalid || !slices.Equal(codes(res.Profile), []appprofile.ReasonCode{appprofile.ReasonRoleMissing}) {
		t.Fatalf("late role: %s %v", res.Profile.Status, codes(res.Profile))
	}
	got := e.accept(p.ID, appprofile.ReasonRoleMissing, 7*24*time.Hour)
	if got.Status != appprofile.Valid {
		t.Fatalf("after accepting the late role: %s, want valid", got.Status)
	}
	if ev := e.lastEvent(); ev.Kind != appprofile.EventStatusChanged || ev.Old != appprofile.Invalid || ev.New != appprofile.Valid {
		t.Errorf("accepting fired %+v, want invalid -> valid", ev)
	}
	e.clock.Advance(time.Hour)
	if res := e.verify(p.ID); res.Profile.Status != appprofile.Valid {
		t.Errorf("same late role, next check: %s, want valid", res.Profile.Status)
	}
	must(t, e.fake.RemoveAppDirectoryRole(tenantID, baselineID, roles.ExchangeAdministrator))
	res := e.verify(p.ID)
	if res.Profile.Status != appprofile.Invalid || len(res.Profile.Accepted) != 0 {
		t.Errorf("another role removed: %s, accepted %v; want invalid, acceptance ended", res.Profile.Status, res.Profile.Accepted)
	}
	if ev := e.lastEvent(); ev.Kind != appprofile.EventStatusChanged || ev.New != appprofile.Invalid || len(ev.Reraised) != 1 || ev.Reraised[0].Why != "changed" {
		t.Errorf("event = %+v, want valid -> invalid with the re-raised acceptance", ev)
	}
}

// TestAcceptPendingRole: a role still pending within the 24 hours may be accepted too.
func TestAcceptPendingRole(t *testing.T) {
	e := newEnv(t)
	p := e.createAndConsent("Baseline management", "APElements Baseline Management", baselineID)
	got := e.accept(p.ID, appprofile.ReasonRolePending, 24*time.Hour)
	if r, _ := reasonOf(got, appprofile.ReasonRolePending); r.Accepted == nil || got.Status != appprofile.Valid {
		t.Errorf("accepted pending role: %s %+v", got.Status, r)
	}
}

// TestAcceptanceExpires: when the acceptance expires the deviation comes back, with an event.
func TestAcceptanceExpires(t *testing.T) {
	e := newEnv(t)
	p := validBaseline(e)
	must(t, e.fake.GrantAppRole(tenantID, baselineID, graphResource, extraRole1))
	e.verify(p.ID)
	e.accept(p.ID, appprofile.ReasonGrantExtra, time.Hour)
	e.clock.Advance(2 * time.Hour)
	res := e.verify(p.ID)
	if r, _ := reasonOf(res.Profile, appprofile.ReasonGrantExtra); r.Accepted != nil || len(res.Profile.Accepted) != 0 {
		t.Errorf("expired acceptance still applies: %+v", res.Profile)
	}
	if ev := e.lastEvent(); ev.Kind != appprofile.EventDeviationReraised || len(ev.Reraised) != 1 || ev.Reraised[0].Why != "expired" {
		t.Errorf("event = %+v, want a deviation-reraised event (expired)", ev)
	}
}

// consentedCustom is a consented custom Baseline profile whose certificate expires in validFor.
func consentedCustom(e *env, validFor time.Duration) appprofile.Profile {
	e.t.Helper()
	cert, pfx := selfSigned(e.t, "contoso-baseline", e.clock.Now().Add(-time.Hour), validFor, "pw")
	must(e.t, e.fake.RegisterApp(consenttest.App{AppID: customID, HomeTenantID: tenantID, DisplayName: "Contoso Baseline", Certificates: []*x509.Certificate{cert}}))
	e.grantAll(customID, "Custom app for Baseline management")
	e.assignRoles(customID, "Custom app for Baseline management")
	ps, err := e.mgr.Create(e.ctx, appprofile.CreateRequest{Customer: "contoso", Tenant: tenantID, Services: []string{"Baseline management"}, Mode: appprofile.Custom,
		Custom: &appprofile.CustomAppInput{ApplicationID: customID, PFX: pfx, Password: "pw"}})
	must(e.t, err)
	start, err := e.mgr.BeginConsent(e.ctx, ps[0].ID, appprofile.BeginConsentRequest{Consenter: e.globalAdmin()})
	must(e.t, err)
	p, err := e.mgr.CompleteConsent(e.ctx, appprofile.Callback{State: start.State, Tenant: tenantID, AdminConsent: "True"})
	must(e.t, err)
	return p
}

// TestAcceptExpiringCertificate: a custom profile's soon-expiring certificate may be accepted;
// once it has expired the Expired status is not hidden.
func TestAcceptExpiringCertificate(t *testing.T) {
	e := newEnv(t)
	p := consentedCustom(e, 20*24*time.Hour)
	if !slices.Equal(codes(p), []appprofile.ReasonCode{appprofile.ReasonCertificateExpiring}) {
		t.Fatalf("custom profile with a 20-day certificate: %v", codes(p))
	}
	got := e.accept(p.ID, appprofile.ReasonCertificateExpiring, 30*24*time.Hour)
	if r, _ := reasonOf(got, appprofile.ReasonCertificateExpiring); r.Accepted == nil {
		t.Errorf("certificate-expiring not accepted: %+v", got.Reasons)
	}
	e.clock.Advance(21 * 24 * time.Hour)
	res := e.verify(p.ID)
	if res.Profile.Status != appprofile.Expired || len(res.Profile.Accepted) != 0 {
		t.Errorf("after the certificate expired: %s, accepted %v; want expired and the acceptance over", res.Profile.Status, res.Profile.Accepted)
	}
	if _, err := e.mgr.AcceptDeviation(e.ctx, p.ID, appprofile.AcceptRequest{Code: appprofile.ReasonCertificateExpired, By: "ops", Why: "x", Expires: e.clock.Now().Add(time.Hour)}); !errors.Is(err, appprofile.ErrDeviationRefused) {
		t.Errorf("accepting an expired certificate: err = %v, want ErrDeviationRefused", err)
	}
}

// TestAcceptRefused: what the seed rules make Invalid cannot be accepted, nor a reason the profile
// does not have; the profile is left as it was.
func TestAcceptRefused(t *testing.T) {
	tests := []struct {
		name   string
		change func(e *env)
		code   appprofile.ReasonCode
	}{
		{"missing required grant", func(e *env) {
			a, _ := e.cat.AppType("APElements Baseline Management")
			must(e.t, e.fake.RevokeAppRole(tenantID, baselineID, a.Permissions[0].ResourceAppID, a.Permissions[0].ID))
		}, appprofile.ReasonGrantMissing},
		{"deleted service principal", func(e *env) { must(e.t, e.fake.DeleteServicePrincipal(tenantID, baselineID)) }, appprofile.ReasonServicePrincipalDeleted},
		{"reset consent user", func(e *env) { must(e.t, e.fake.ResetUserPassword(tenantID, e.admin)) }, appprofile.ReasonUserPasswordReset},
		{"deleted consent user", func(e *env) { must(e.t, e.fake.DeleteUser(tenantID, e.admin)) }, appprofile.ReasonUserDeleted},
		{"disabled service principal", func(e *env) { must(e.t, e.fake.SetServicePrincipalEnabled(tenantID, baselineID, false)) }, appprofile.ReasonServicePrincipalOff},
		{"reason the profile does not have", func(e *env) {}, appprofile.ReasonGrantExtra},
		{"unknown code", func(e *env) {}, "no-such-code"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			p := validBaseline(e)
			e.clock.Advance(time.Minute)
			tt.change(e)
			before := e.verify(p.ID).Profile
			if _, has := reasonOf(before, tt.code); has != (tt.name != "reason the profile does not have" && tt.name != "unknown code") {
				t.Fatalf("before accepting: reasons %v; the refusal must be about %s", codes(before), tt.code)
			}
			_, err := e.mgr.AcceptDeviation(e.ctx, p.ID, appprofile.AcceptRequest{Code: tt.code, By: "ops", Why: "please", Expires: e.clock.Now().Add(time.Hour)})
			var de *appprofile.DeviationRefusedError
			if !errors.As(err, &de) || !errors.Is(err, appprofile.ErrDeviationRefused) || de.Code != tt.code || de.ProfileID != p.ID {
				t.Fatalf("AcceptDeviation(%s): err = %v, want a *DeviationRefusedError", tt.code, err)
			}
			after, err := e.mgr.Get(e.ctx, p.ID)
			must(t, err)
			if after.Version != before.Version || after.Status != before.Status {
				t.Errorf("a refused acceptance changed the profile: v%d %s -> v%d %s", before.Version, before.Status, after.Version, after.Status)
			}
		})
	}
	// A missing role that must be assigned manually is Invalid, not a late automatic one.
	t.Run("missing manual role", func(t *testing.T) {
		e := newEnv(t)
		p := consentedCustom(e, 365*24*time.Hour)
		must(t, e.fake.RemoveAppDirectoryRole(tenantID, customID, roles.SecurityAdministrator))
		if res := e.verify(p.ID); !slices.Contains(codes(res.Profile), appprofile.ReasonRoleMissing) {
			t.Fatalf("manual role removed: %v", codes(res.Profile))
		}
		_, err := e.mgr.AcceptDeviation(e.ctx, p.ID, appprofile.AcceptRequest{Code: appprofile.ReasonRoleMissing, By: "ops", Why: "x", Expires: e.clock.Now().Add(time.Hour)})
		if !errors.Is(err, appprofile.ErrDeviationRefused) {
			t.Errorf("accepting a missing manual role: err = %v, want ErrDeviationRefused", err)
		}
	})
	t.Run("malformed request", func(t *testing.T) {
		e := newEnv(t)
		p := validBaseline(e)
		for _, req := range []appprofile.AcceptRequest{
			{Code: appprofile.ReasonGrantExtra, Why: "x", Expires: e.clock.Now().Add(time.Hour)},
			{Code: appprofile.ReasonGrantExtra, By: "ops", Expires: e.clock.Now().Add(time.Hour)},
			{Code: appprofile.ReasonGrantExtra, By: "ops", Why: "x", Expires: e.clock.Now().Add(-time.Hour)},
			{Code: appprofile.ReasonGrantExtra, By: "ops", Why: "x", Expires: e.clock.Now().Add(2 * appprofile.MaxAcceptance)},
		} {
			if _, err := e.mgr.AcceptDeviation(e.ctx, p.ID, req); !errors.Is(err, appprofile.ErrInvalidRequest) {
				t.Errorf("AcceptDeviation(%+v): err = %v, want ErrInvalidRequest", req, err)
			}
		}
	})
}

// TestWithdrawAcceptance: an operator ends an acceptance before it expires; the deviation drives
// the status again at once, and the event and the history say it was withdrawn, by whom and why.
func TestWithdrawAcceptance(t *testing.T) {
	e := newEnv(t)
	p := validBaseline(e)
	must(t, e.fake.GrantAppRole(tenantID, baselineID, graphResource, extraRole1))
	unaccepted := e.verify(p.ID).Profile.Status
	accepted := e.accept(p.ID, appprofile.ReasonGrantExtra, 30*24*time.Hour)
	if len(accepted.Accepted) != 1 {
		t.Fatalf("after accepting: %+v", accepted.Accepted)
	}
	acc := accepted.Accepted[0]

	// Malformed requests and unknown acceptances are refused, naming what the profile has.
	for _, req := range []appprofile.WithdrawRequest{
		{By: "ops", Why: "mistake"},
		{AcceptanceID: acc.ID, Why: "mistake"},
		{AcceptanceID: acc.ID, By: "ops"},
		{AcceptanceID: "grant-extra@999", By: "ops", Why: "mistake"},
	} {
		_, err := e.mgr.WithdrawAcceptance(e.ctx, p.ID, req)
		var re *appprofile.RequestError
		if !errors.As(err, &re) {
			t.Errorf("WithdrawAcceptance(%+v): err = %v, want a *RequestError", req, err)
		} else if req.AcceptanceID == "grant-extra@999" && !strings.Contains(err.Error(), acc.ID) {
			t.Errorf("unknown acceptance: %q does not name the profile's acceptance %s", err, acc.ID)
		}
	}

	before := e.eventCount()
	got, err := e.mgr.WithdrawAcceptance(e.ctx, p.ID, appprofile.WithdrawRequest{AcceptanceID: acc.ID, By: "lead@msp.example", Why: "accepted by mistake"})
	if err != nil {
		t.Fatal(err)
	}
	r, _ := reasonOf(got, appprofile.ReasonGrantExtra)
	if len(got.Accepted) != 0 || r.Accepted != nil || got.Status != unaccepted {
		t.Errorf("after withdrawing: status %s (want %s as before the acceptance), accepted %v, reason %+v", got.Status, unaccepted, got.Accepted, r)
	}
	if e.eventCount() != before+1 {
		t.Fatalf("withdrawing fired %d events, want 1", e.eventCount()-before)
	}
	ev := e.lastEvent()
	want := appprofile.ReraisedDeviation{Acceptance: acc, Why: "withdrawn", By: "lead@msp.example", Note: "accepted by mistake"}
	if len(ev.Reraised) != 1 {
		t.Fatalf("event %+v, want one re-raised deviation", ev)
	}
	gotRe := ev.Reraised[0]
	gotRe.Now = appprofile.Reason{}
	if diff := cmp.Diff(want, gotRe); diff != "" {
		t.Errorf("re-raised deviation (-want +got):\n%s", diff)
	}
	hs, err := e.mgr.History(e.ctx, appprofile.HistoryQuery{ProfileID: p.ID})
	must(t, err)
	var withdrawn int
	for _, h := range hs {
		for _, rr := range h.Reraised {
			if rr.Why == "withdrawn" && rr.By == "lead@msp.example" && rr.Note == "accepted by mistake" {
				withdrawn++
			}
		}
	}
	if withdrawn != 1 {
		t.Errorf("history records %d withdrawals, want 1", withdrawn)
	}
	// Withdrawn is ended: a second withdrawal is refused, a check keeps it ended.
	if _, err := e.mgr.WithdrawAcceptance(e.ctx, p.ID, appprofile.WithdrawRequest{AcceptanceID: acc.ID, By: "ops", Why: "again"}); !errors.Is(err, appprofile.ErrInvalidRequest) {
		t.Errorf("second withdrawal: err = %v, want ErrInvalidRequest", err)
	}
	if res := e.verify(p.ID); len(res.Profile.Accepted) != 0 {
		t.Errorf("a check brought the withdrawn acceptance back: %+v", res.Profile.Accepted)
	}
}
