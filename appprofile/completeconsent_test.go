package appprofile_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tenantapps/tenantapps/appprofile"
	"github.com/tenantapps/tenantapps/consent"
	"github.com/tenantapps/tenantapps/consent/consenttest"
	"github.com/tenantapps/tenantapps/roles"
	"github.com/tenantapps/tenantapps/store"
)

// beginNitro creates a Nitro profile and begins admin consent by the env's Global Administrator;
// it returns the profile and the callback Entra would send once the administrator accepted.
func (e *env) beginNitro() (appprofile.Profile, appprofile.Callback) {
	e.t.Helper()
	ps, err := e.mgr.Create(e.ctx, appprofile.CreateRequest{Customer: "contoso", Tenant: tenantID, Services: []string{"Nitro"}})
	must(e.t, err)
	start, err := e.mgr.BeginConsent(e.ctx, ps[0].ID, appprofile.BeginConsentRequest{Consenter: e.globalAdmin()})
	must(e.t, err)
	return ps[0], appprofile.Callback{State: start.State, Tenant: tenantID, AdminConsent: "True", RemoteIP: adminIP}
}

func (e *env) transitions() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, ev := range e.events {
		out = append(out, string(ev.Old)+"→"+string(ev.New))
	}
	return out
}

// TestCompleteConsentTenantUnreadable: Microsoft recorded the consent but the tenant cannot be
// read to prove it. The spent state must not cost the consent: the record is saved, unproven,
// with the status unchanged, and a later Verify proves it.
func TestCompleteConsentTenantUnreadable(t *testing.T) {
	tests := []struct {
		kind consenttest.FaultKind
		// fleet proves the consent with VerifyAll instead of Verify.
		fleet bool
	}{
		{kind: consenttest.FaultUnavailable},
		{kind: consenttest.FaultForbidden},
		{kind: consenttest.FaultMalformed, fleet: true},
	}
	for _, tt := range tests {
		kind := tt.kind
		t.Run(kind.String(), func(t *testing.T) {
			e := newEnv(t)
			before, cb := e.beginNitro()
			e.grantAll(nitroID, "APElements Automation") // what the administrator's consent did
			clear, err := e.fake.InjectFault(tenantID, kind)
			must(t, err)

			p, err := e.mgr.CompleteConsent(e.ctx, cb)
			var recorded *appprofile.ConsentRecordedError
			if !errors.Is(err, appprofile.ErrCouldNotCheck) || !errors.As(err, &recorded) || recorded.ProfileID != before.ID {
				t.Fatalf("CompleteConsent with the tenant unreadable: err = %v, want *ConsentRecordedError wrapping ErrCouldNotCheck", err)
			}
			if !strings.Contains(err.Error(), "do not send the administrator to consent again") {
				t.Errorf("err = %v, want it to say not to consent again", err)
			}
			if p.Consent == nil {
				t.Fatalf("returned profile has no consent record: %+v", p)
			}
			if p.Consent.CallbackNonce == "" {
				t.Error("consent record without the callback's nonce")
			}
			wantConsent := appprofile.ConsentRecord{Method: appprofile.AdminConsent, UserID: e.admin, UserPrincipalName: "admin@contoso.example", At: e.clock.Now(),
				CallbackNonce: p.Consent.CallbackNonce, OriginalIP: adminIP, CatalogVersion: e.cat.Version(), Unproven: true}
			if diff := cmp.Diff(wantConsent, *p.Consent); diff != "" {
				t.Errorf("consent record (-want +got):\n%s", diff)
			}
			if p.Status != before.Status || !cmp.Equal(codes(before), codes(p)) {
				t.Errorf("status %s %v, want it unchanged: %s %v", p.Status, codes(p), before.Status, codes(before))
			}
			if p.LastCheck == nil || p.LastCheck.Outcome != appprofile.CouldNotCheck || p.LastCheck.Error == "" {
				t.Errorf("LastCheck = %+v, want could-not-check with the error", p.LastCheck)
			}
			stored, err := e.mgr.Get(e.ctx, p.ID)
			must(t, err)
			if diff := cmp.Diff(p, stored); diff != "" {
				t.Errorf("stored profile differs from the returned one (-returned +stored):\n%s", diff)
			}
			if got := e.transitions(); len(got) != 0 {
				t.Errorf("events %v, want none: the status did not change", got)
			}

			clear()
			// The state stays single-use.
			if _, err := e.mgr.CompleteConsent(e.ctx, cb); !errors.Is(err, appprofile.ErrStateReplayed) {
				t.Errorf("replayed callback: err = %v, want ErrStateReplayed", err)
			}
			if tt.fleet {
				sum, err := e.mgr.VerifyAll(e.ctx, store.Filter{Tenant: tenantID}, appprofile.VerifyAllOptions{})
				must(t, err)
				if sum.Changed != 1 {
					t.Errorf("VerifyAll changed %d profile(s), want 1", sum.Changed)
				}
			} else {
				_, err := e.mgr.Verify(e.ctx, p.ID)
				must(t, err)
			}
			got, err := e.mgr.Get(e.ctx, p.ID)
			must(t, err)
			if got.Status != appprofile.Valid || got.Consent.Unproven || got.LastCheck.Outcome != appprofile.Checked {
				t.Errorf("after the fault: %s %v consent %+v, want valid and proven", got.Status, codes(got), got.Consent)
			}
			if diff := cmp.Diff([]string{"pending→valid"}, e.transitions()); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCompleteConsentUnreadableKeepsTokenCache: a user consent whose code was redeemed keeps the
// redeemed token cache when the tenant cannot be read; Verify proves the delegated consent with
// it and records the consent user's licences.
func TestCompleteConsentUnreadableKeepsTokenCache(t *testing.T) {
	e := newEnv(t)
	user, start, code := e.userConsentCallback(t)
	// Graph answers the token endpoint but not the directory.
	e.fake.OnCall(consenttest.MethodAppState, consenttest.Fail(consent.ErrTransient))

	p, err := e.mgr.CompleteConsent(e.ctx, appprofile.Callback{State: start.State, Code: code, RemoteIP: "203.0.113.9"})
	if !errors.Is(err, appprofile.ErrCouldNotCheck) {
		t.Fatalf("err = %v, want ErrCouldNotCheck", err)
	}
	if p.Consent == nil || p.Consent.Method != appprofile.UserConsent || p.Consent.UserID != user || !p.Consent.Unproven || p.DelegatedTokenCache.IsZero() || p.Status != appprofile.Pending {
		t.Fatalf("recorded: status %s consent %+v token cache kept %v", p.Status, p.Consent, !p.DelegatedTokenCache.IsZero())
	}

	e.fake.ClearHooks()
	e.fake.ClearActions()
	res, err := e.mgr.Verify(e.ctx, p.ID)
	must(t, err)
	if res.Profile.Status != appprofile.Valid || res.Profile.Consent.Unproven || !res.Profile.Consent.UserHadLicenses {
		t.Errorf("Verify: %s %v consent %+v, want valid, proven, licences recorded", res.Profile.Status, codes(res.Profile), res.Profile.Consent)
	}
	if n := e.fake.CountActions(consenttest.MethodProveDelegated); n != 1 {
		t.Errorf("%d delegated proofs during Verify, want 1 (with the kept token cache)", n)
	}
}

// TestVerifySettlesUnprovenConsent: a consent recorded unproven takes its consent-time facts from
// the check that proves it, so MFA the consent user had all along is not reported as enabled
// after consent; and a consent the tenant does not show turns the profile Invalid.
func TestVerifySettlesUnprovenConsent(t *testing.T) {
	tests := []struct {
		name      string
		grant     bool
		want      appprofile.Status
		wantCodes []appprofile.ReasonCode
	}{
		{name: "grants there", grant: true, want: appprofile.Valid, wantCodes: []appprofile.ReasonCode{appprofile.ReasonRolePending}},
		{name: "grants missing", want: appprofile.Invalid, wantCodes: []appprofile.ReasonCode{appprofile.ReasonServicePrincipalDeleted}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			admin, err := e.fake.AddUser(tenantID, consenttest.User{UserPrincipalName: "mfa-admin@contoso.example", Licenses: []string{"E5"},
				DirectoryRoles: []roles.TemplateID{roles.GlobalAdministrator}, MFARegistered: true})
			must(t, err)
			ps, err := e.mgr.Create(e.ctx, appprofile.CreateRequest{Customer: "contoso", Tenant: tenantID, Services: []string{"Baseline management"}})
			must(t, err)
			start, err := e.mgr.BeginConsent(e.ctx, ps[0].ID, appprofile.BeginConsentRequest{Consenter: consenterOf(admin, "mfa-admin@contoso.example", roles.GlobalAdministrator)})
			must(t, err)
			if tt.grant {
				e.grantAll(baselineID, "APElements Baseline Management")
			}
			e.fake.OnCall(consenttest.MethodAppState, consenttest.Fail(consent.ErrThrottled))
			p, err := e.mgr.CompleteConsent(e.ctx, appprofile.Callback{State: start.State, Tenant: tenantID, AdminConsent: "True"})
			if !errors.Is(err, appprofile.ErrCouldNotCheck) || p.Consent == nil || !p.Consent.Unproven || p.Consent.UserHadMFA {
				t.Fatalf("CompleteConsent: err %v, consent %+v; want it recorded unproven", err, p.Consent)
			}
			e.fake.ClearHooks()
			e.clock.Advance(time.Minute)
			res, err := e.mgr.Verify(e.ctx, p.ID)
			must(t, err)
			if diff := cmp.Diff(tt.wantCodes, codes(res.Profile)); diff != "" || res.Profile.Status != tt.want {
				t.Errorf("after Verify: %s (want %s), reasons (-want +got):\n%s", res.Profile.Status, tt.want, diff)
			}
			c := res.Profile.Consent
			if c.Unproven || !c.UserHadMFA || !c.UserHadLicenses {
				t.Errorf("consent after Verify = %+v, want proven with the user's MFA and licences recorded", c)
			}
		})
	}
}

// TestCompleteConsentWaitsForReplication: grants that Entra has not replicated at the first read
// but shows at the second complete the consent.
func TestCompleteConsentWaitsForReplication(t *testing.T) {
	e := newEnv(t)
	_, cb := e.beginNitro()
	var reads atomic.Int32
	e.fake.OnCall(consenttest.MethodAppState, func(context.Context, consenttest.Action) error {
		if reads.Add(1) == 2 {
			e.grantAll(nitroID, "APElements Automation") // replicated between the first and second read
		}
		return nil
	})
	p, err := e.mgr.CompleteConsent(e.ctx, cb)
	must(t, err)
	if p.Status != appprofile.Valid || p.Consent == nil || p.Consent.Unproven {
		t.Errorf("after consent: %s %v consent %+v, want valid and proven", p.Status, codes(p), p.Consent)
	}
	if n := e.fake.CountActions(consenttest.MethodAppState); n != 2 {
		t.Errorf("%d AppState reads, want 2", n)
	}
}

// TestCompleteConsentNotProven: grants that never appear give *ConsentNotProvenError after
// WithMaxAttempts reads and record nothing.
func TestCompleteConsentNotProven(t *testing.T) {
	e := newEnv(t, appprofile.WithMaxAttempts(4))
	before, cb := e.beginNitro()
	_, err := e.mgr.CompleteConsent(e.ctx, cb)
	var np *appprofile.ConsentNotProvenError
	if !errors.As(err, &np) || np.ProfileID != before.ID || len(np.Missing) == 0 || errors.Is(err, appprofile.ErrCouldNotCheck) {
		t.Fatalf("err = %v, want *ConsentNotProvenError", err)
	}
	if n := e.fake.CountActions(consenttest.MethodAppState); n != 4 {
		t.Errorf("%d AppState reads, want 4 (WithMaxAttempts)", n)
	}
	got, err := e.mgr.Get(e.ctx, before.ID)
	must(t, err)
	if diff := cmp.Diff(before, got); diff != "" {
		t.Errorf("profile changed (-before +after):\n%s", diff)
	}
	// Nothing was recorded, so the same callback is taken as a retry (see
	// TestCompleteConsentRetriedAfterStoreFailure): it reads the tenant again and, the grants
	// still missing, fails the same way; it never records what the tenant does not show.
	if _, err := e.mgr.CompleteConsent(e.ctx, cb); !errors.As(err, &np) {
		t.Errorf("same callback again: err = %v, want *ConsentNotProvenError", err)
	}
	if got, err := e.mgr.Get(e.ctx, before.ID); err != nil || got.Consent != nil {
		t.Errorf("after the second attempt: consent %+v, %v; want none recorded", got.Consent, err)
	}
}

// TestCompleteConsentWaitEndsWithContext: the wait for replication never outlasts ctx; a proof cut
// short is not a disproof, so the consent is recorded unproven. ctx ends during the first read
// of the tenant (a driver hook cancels it), so the test does not depend on how fast anything runs:
// with an hour's replication wait, a wait that ignored ctx would hang the test.
func TestCompleteConsentWaitEndsWithContext(t *testing.T) {
	e := newEnv(t, appprofile.WithReplicationWait(time.Hour))
	_, cb := e.beginNitro()
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	e.fake.OnCall(consenttest.MethodAppState, func(context.Context, consenttest.Action) error {
		cancel() // the read itself answers; what follows sees ctx ended
		return nil
	})
	p, err := e.mgr.CompleteConsent(ctx, cb)
	if !errors.Is(err, appprofile.ErrCouldNotCheck) || !errors.Is(err, context.Canceled) || p.Consent == nil || !p.Consent.Unproven {
		t.Errorf("err = %v, consent %+v; want the consent recorded unproven and the cancellation reported", err, p.Consent)
	}
	if n := e.fake.CountActions(consenttest.MethodAppState); n != 1 {
		t.Errorf("%d AppState reads, want 1", n)
	}
}

// TestCompleteConsentRetriesRedemption: a token endpoint that fails once (throttled, 503) does
// not spend the consent: the code is redeemed on the next attempt.
func TestCompleteConsentRetriesRedemption(t *testing.T) {
	e := newEnv(t)
	user, start, code := e.userConsentCallback(t)
	failures := 1
	e.fake.OnCall(consenttest.MethodRedeemCode, func(context.Context, consenttest.Action) error {
		if failures > 0 {
			failures--
			return &consent.DriverError{Op: "RedeemCode", TenantID: tenantID, Code: "temporarily_unavailable", Err: consent.ErrTransient}
		}
		return nil
	})
	p, err := e.mgr.CompleteConsent(e.ctx, appprofile.Callback{State: start.State, Code: code, RemoteIP: "203.0.113.9"})
	if err != nil {
		t.Fatalf("CompleteConsent: %v", err)
	}
	if n := e.fake.CountActions(consenttest.MethodRedeemCode); n != 2 {
		t.Errorf("%d redemptions, want 2 (one failed, one retried)", n)
	}
	if p.Status != appprofile.Valid || p.Consent == nil || p.Consent.UserID != user || p.DelegatedTokenCache.IsZero() {
		t.Errorf("status %s consent %+v token cache kept %v, want Valid by %s", p.Status, p.Consent, !p.DelegatedTokenCache.IsZero(), user)
	}
}

// userConsentCallback creates an Insights profile (delegated User.Read granted tenant-wide),
// begins a user consent by a licensed user and has the user authorize it; it returns the user's
// object ID, the consent start and the authorization code of the callback.
func (e *env) userConsentCallback(t *testing.T) (user string, start appprofile.ConsentStart, code string) {
	t.Helper()
	// Insights for Microsoft 365's list is partial: grant its known rows.
	e.grantAll(insightsID, "Insights for Microsoft 365")
	must(t, e.fake.GrantDelegated(tenantID, insightsID, consent.MicrosoftGraphAppID, "", "User.Read"))
	user, err := e.fake.AddUser(tenantID, consenttest.User{UserPrincipalName: "analyst@contoso.example", Licenses: []string{"E3"}})
	must(t, err)
	ps, err := e.mgr.Create(e.ctx, appprofile.CreateRequest{Customer: "contoso", Tenant: tenantID, Services: []string{"Insights"}, AppType: "Insights for Microsoft 365"})
	must(t, err)
	start, err = e.mgr.BeginConsent(e.ctx, ps[0].ID, appprofile.BeginConsentRequest{Method: appprofile.UserConsent, Consenter: consenterOf(user, "analyst@contoso.example"),
		Scopes: []string{"https://graph.microsoft.com/User.Read"}})
	must(t, err)
	u, err := url.Parse(start.URL)
	must(t, err)
	code, err = e.fake.AuthorizeUser(consenttest.AuthorizeRequest{TenantID: tenantID, AppID: insightsID, UserID: user, RedirectURI: redirectURI,
		Scopes: strings.Fields(u.Query().Get("scope")), CodeChallenge: u.Query().Get("code_challenge")})
	must(t, err)
	return user, start, code
}
