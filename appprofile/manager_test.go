package appprofile_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tenantapps/tenantapps/appprofile"
	"github.com/tenantapps/tenantapps/consent"
	"github.com/tenantapps/tenantapps/consent/consenttest"
	"github.com/tenantapps/tenantapps/permissions"
	"github.com/tenantapps/tenantapps/roles"
	"github.com/tenantapps/tenantapps/store/memstore"
)

const (
	tenantID    = "6f1e2d3c-1111-4a5b-9c8d-000000000001"
	baselineID  = "a1b2c3d4-0000-4000-8000-00000000ba5e"
	nitroID     = "a1b2c3d4-0000-4000-8000-0000000017a0"
	secAnID     = "a1b2c3d4-0000-4000-8000-0000000005a5"
	insightsID  = "a1b2c3d4-0000-4000-8000-000000001525"
	adminIP     = "198.51.100.23"
	redirectURI = "https://portal.example/consent/callback"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type env struct {
	t      *testing.T
	ctx    context.Context
	clock  *clock
	fake   *consenttest.Fake
	store  *memstore.Store
	mgr    *appprofile.Manager
	cat    *permissions.Catalog
	admin  string // consent admin's object ID
	mu     sync.Mutex
	events []appprofile.Event
}

func newEnv(t *testing.T, opts ...appprofile.Option) *env {
	t.Helper()
	e := &env{t: t, ctx: context.Background(), clock: &clock{t: time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)}, cat: permissions.Default()}
	e.fake = consenttest.NewFake(consenttest.WithClock(e.clock.Now))
	e.store = memstore.New(memstore.WithClock(e.clock.Now))
	must(t, e.fake.AddTenant(consenttest.Tenant{ID: tenantID, DisplayName: "Contoso"}))
	for _, id := range []string{baselineID, nitroID, secAnID, insightsID} {
		must(t, e.fake.RegisterApp(consenttest.App{AppID: id, DisplayName: "vendor " + id, RedirectURIs: []string{redirectURI}}))
	}
	var err error
	e.admin, err = e.fake.AddUser(tenantID, consenttest.User{UserPrincipalName: "admin@contoso.example", Licenses: []string{"E5"}, DirectoryRoles: []roles.TemplateID{roles.GlobalAdministrator}})
	must(t, err)
	sealer, err := appprofile.NewAESGCMSealer("k1", map[string][]byte{"k1": bytes.Repeat([]byte{7}, 32)})
	must(t, err)
	base := []appprofile.Option{
		appprofile.WithClock(e.clock.Now),
		appprofile.WithLogger(slog.New(slog.DiscardHandler)),
		appprofile.WithSealer(sealer),
		appprofile.WithStateKey(bytes.Repeat([]byte{9}, 32)),
		appprofile.WithRedirectURI(redirectURI),
		appprofile.WithReplicationWait(time.Millisecond), // not-proven consents are read again: keep tests fast
		appprofile.WithVendorAppIDs(map[string]string{
			"APElements Baseline Management":   baselineID,
			"APElements Automation":            nitroID,
			"APElements Security and Analysis": secAnID,
			"Insights for Microsoft 365":       insightsID,
		}),
		appprofile.WithEventHook(func(ev appprofile.Event) { e.mu.Lock(); e.events = append(e.events, ev); e.mu.Unlock() }),
	}
	e.mgr, err = appprofile.New(e.store, e.fake, append(base, opts...)...)
	must(t, err)
	return e
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// grantAll does in the fake tenant what an administrator's consent does: provision the service
// principal and grant every permission of the app type, less the values in skip.
func (e *env) grantAll(appID, appType string, skip ...string) {
	e.t.Helper()
	must(e.t, consenttest.GrantConsent(e.fake, tenantID, appID, e.cat, appType))
	for _, v := range skip {
		must(e.t, consenttest.RevokePermission(e.fake, tenantID, appID, e.cat, appType, v))
	}
}

func (e *env) assignRoles(appID, appType string) {
	e.t.Helper()
	a, err := e.cat.AppType(appType)
	must(e.t, err)
	for _, r := range a.DirectoryRoles {
		must(e.t, e.fake.AssignAppDirectoryRole(tenantID, appID, r.Role))
	}
}

func (e *env) globalAdmin() appprofile.Consenter {
	return appprofile.Consenter{UserID: e.admin, UserPrincipalName: "admin@contoso.example", Consenter: consent.Consenter{Roles: []roles.TemplateID{roles.GlobalAdministrator}}}
}

// createAndConsent creates a profile for service and completes admin consent.
func (e *env) createAndConsent(service, appType, appID string) appprofile.Profile {
	e.t.Helper()
	ps, err := e.mgr.Create(e.ctx, appprofile.CreateRequest{Customer: "contoso", Tenant: tenantID, Services: []string{service}, AppType: appType})
	must(e.t, err)
	if len(ps) != 1 || ps[0].Status != appprofile.Pending {
		e.t.Fatalf("Create = %+v, want one pending profile", ps)
	}
	start, err := e.mgr.BeginConsent(e.ctx, ps[0].ID, appprofile.BeginConsentRequest{Consenter: e.globalAdmin()})
	must(e.t, err)
	e.grantAll(appID, appType)
	p, err := e.mgr.CompleteConsent(e.ctx, appprofile.Callback{State: start.State, Tenant: tenantID, AdminConsent: "True", RemoteIP: adminIP})
	must(e.t, err)
	return p
}

func codes(p appprofile.Profile) []appprofile.ReasonCode {
	var out []appprofile.ReasonCode
	for _, r := range p.Reasons {
		out = append(out, r.Code)
	}
	return out
}

func (e *env) verify(id string) appprofile.VerifyResult {
	e.t.Helper()
	res, err := e.mgr.Verify(e.ctx, id)
	if err != nil && !errors.Is(err, appprofile.ErrCouldNotCheck) {
		e.t.Fatal(err)
	}
	return res
}

func TestLifecycleModernBaseline(t *testing.T) {
	e := newEnv(t)
	ps, err := e.mgr.Create(e.ctx, appprofile.CreateRequest{Customer: "contoso", Tenant: tenantID, Services: []string{"Baseline management"}, CustomerServices: []string{"Baseline management", "Nitro"}})
	must(t, err)
	if len(ps) != 1 || ps[0].AppType != "APElements Baseline Management" || ps[0].Mode != appprofile.Modern || ps[0].Status != appprofile.Pending {
		t.Fatalf("Create = %+v", ps)
	}
	id := ps[0].ID

	// Only a Global Administrator or Privileged Role Administrator may consent; every missing
	// requirement is reported before anyone is sent to Microsoft.
	_, err = e.mgr.BeginConsent(e.ctx, id, appprofile.BeginConsentRequest{Consenter: appprofile.Consenter{UserID: "x"}})
	var ee *appprofile.EligibilityError
	if !errors.As(err, &ee) || len(ee.Missing) == 0 {
		t.Fatalf("BeginConsent by a non-admin: err = %v, want *EligibilityError", err)
	}

	start, err := e.mgr.BeginConsent(e.ctx, id, appprofile.BeginConsentRequest{Consenter: e.globalAdmin()})
	must(t, err)
	u, err := url.Parse(start.URL)
	must(t, err)
	if u.Path != "/"+tenantID+"/v2.0/adminconsent" || u.Query().Get("client_id") != baselineID || u.Query().Get("state") != start.State {
		t.Fatalf("consent URL = %s", start.URL)
	}

	// Never trust the callback alone: nothing was granted yet.
	_, err = e.mgr.CompleteConsent(e.ctx, appprofile.Callback{State: start.State, Tenant: tenantID, AdminConsent: "True"})
	var np *appprofile.ConsentNotProvenError
	if !errors.As(err, &np) {
		t.Fatalf("CompleteConsent before grants: err = %v, want *ConsentNotProvenError", err)
	}
	// That state is used up; start again.
	start, err = e.mgr.BeginConsent(e.ctx, id, appprofile.BeginConsentRequest{Consenter: e.globalAdmin()})
	must(t, err)
	e.grantAll(baselineID, "APElements Baseline Management")
	cb := appprofile.Callback{State: start.State, Tenant: tenantID, AdminConsent: "True", RemoteIP: adminIP}
	p, err := e.mgr.CompleteConsent(e.ctx, cb)
	must(t, err)
	if p.Status != appprofile.Valid || p.Consent == nil || p.Consent.UserID != e.admin || p.Consent.OriginalIP != adminIP || p.Consent.CatalogVersion != e.cat.Version() {
		t.Fatalf("after consent: %+v consent %+v", p, p.Consent)
	}
	if diff := cmp.Diff([]appprofile.ReasonCode{appprofile.ReasonRolePending}, codes(p)); diff != "" {
		t.Errorf("reasons after consent (-want +got):\n%s", diff)
	}
	// Replay.
	if _, err := e.mgr.CompleteConsent(e.ctx, cb); !errors.Is(err, appprofile.ErrStateReplayed) {
		t.Errorf("replayed callback: err = %v, want ErrStateReplayed", err)
	}

	// 25 h later the automatic roles are overdue.
	e.clock.Advance(25 * time.Hour)
	res := e.verify(id)
	if res.Profile.Status != appprofile.Invalid || !slices.Contains(codes(res.Profile), appprofile.ReasonRoleMissing) {
		t.Fatalf("after 25 h without roles: %s %v", res.Profile.Status, codes(res.Profile))
	}
	cl, err := e.mgr.RoleChecklist(e.ctx, id)
	must(t, err)
	if !cl.Verified || cl.Complete() || len(cl.Directory) != 3 || !cl.Directory[0].Overdue {
		t.Errorf("checklist = %+v", cl)
	}
	e.assignRoles(baselineID, "APElements Baseline Management")
	res = e.verify(id)
	if res.Profile.Status != appprofile.Valid || len(res.Profile.Reasons) != 0 || !res.Changed {
		t.Fatalf("with roles: %s %v changed=%v", res.Profile.Status, codes(res.Profile), res.Changed)
	}

	// A duplicate (tenant, app type) is refused.
	_, err = e.mgr.Create(e.ctx, appprofile.CreateRequest{Customer: "contoso", Tenant: tenantID, Services: []string{"Baseline management"}})
	var dup *appprofile.DuplicateError
	if !errors.As(err, &dup) || !errors.Is(err, appprofile.ErrDuplicate) {
		t.Errorf("duplicate Create: err = %v", err)
	}

	// Events: pending→valid, valid→invalid, invalid→valid.
	var got []string
	for _, ev := range e.events {
		got = append(got, string(ev.Old)+"→"+string(ev.New))
	}
	if diff := cmp.Diff([]string{"pending→valid", "valid→invalid", "invalid→valid"}, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}

	must(t, e.mgr.Delete(e.ctx, id))
	if _, err := e.mgr.Get(e.ctx, id); !errors.Is(err, appprofile.ErrNotFound) {
		t.Errorf("Get after Delete: %v", err)
	}
}

func TestCreateRules(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name string
		req  appprofile.CreateRequest
	}{
		{"no customer", appprofile.CreateRequest{Tenant: tenantID, Services: []string{"Nitro"}}},
		{"service not added for customer", appprofile.CreateRequest{Customer: "c", Tenant: tenantID, Services: []string{"Nitro"}, CustomerServices: []string{"Baseline management"}}},
		{"mixed families", appprofile.CreateRequest{Customer: "c", Tenant: tenantID, Services: []string{"Nitro", "Insights"}}},
		{"AOS in custom mode", appprofile.CreateRequest{Customer: "c", Tenant: tenantID, Services: []string{"Insights"}, Mode: appprofile.Custom}},
		{"Nitro custom", appprofile.CreateRequest{Customer: "c", Tenant: tenantID, Services: []string{"Nitro"}, Mode: appprofile.Custom}},
		{"unknown service", appprofile.CreateRequest{Customer: "c", Tenant: tenantID, Services: []string{"Bogus"}}},
		{"custom without app", appprofile.CreateRequest{Customer: "c", Tenant: tenantID, Services: []string{"Baseline management"}, Mode: appprofile.Custom}},
		{"no app id for vendor app", appprofile.CreateRequest{Customer: "c", Tenant: tenantID, Services: []string{"Azure security management"}}},
	}
	for _, tt := range tests {
		_, err := e.mgr.Create(e.ctx, tt.req)
		if !errors.Is(err, appprofile.ErrInvalidRequest) {
			t.Errorf("%s: err = %v, want ErrInvalidRequest", tt.name, err)
		}
	}
	// Other premium services share one app type.
	ps, err := e.mgr.Create(e.ctx, appprofile.CreateRequest{Customer: "c", Tenant: tenantID, Services: []string{"Workspace management", "Risk management"}})
	must(t, err)
	if len(ps) != 1 || ps[0].AppType != "APElements Security and Analysis" || len(ps[0].Services) != 2 {
		t.Errorf("premium services: %+v", ps)
	}
}

func TestVerifyCouldNotCheckNeverFlips(t *testing.T) {
	e := newEnv(t)
	p := e.createAndConsent("Nitro", "APElements Automation", nitroID)
	if p.Status != appprofile.Valid {
		t.Fatalf("status %s %v", p.Status, codes(p))
	}
	// Break the tenant: a real check would now say Invalid.
	nitro, err := e.cat.AppType("APElements Automation")
	must(t, err)
	revoked := nitro.Permissions[0]
	must(t, e.fake.RevokeAppRole(tenantID, nitroID, revoked.ResourceAppID, revoked.ID))
	for _, kind := range []consenttest.FaultKind{consenttest.FaultThrottled, consenttest.FaultUnavailable, consenttest.FaultForbidden, consenttest.FaultMalformed} {
		clear, err := e.fake.InjectFault(tenantID, kind)
		must(t, err)
		res, err := e.mgr.Verify(e.ctx, p.ID)
		clear()
		if !errors.Is(err, appprofile.ErrCouldNotCheck) || res.Outcome != appprofile.CouldNotCheck || res.Profile.Status != appprofile.Valid {
			t.Errorf("%s: outcome %s status %s err %v; want could-not-check and Valid kept", kind, res.Outcome, res.Profile.Status, err)
		}
		if res.Profile.LastCheck == nil || res.Profile.LastCheck.Outcome != appprofile.CouldNotCheck || res.Profile.LastCheck.Error == "" {
			t.Errorf("%s: LastCheck = %+v", kind, res.Profile.LastCheck)
		}
	}

	res := e.verify(p.ID)
	if res.Profile.Status != appprofile.Invalid || len(res.Profile.Reasons) != 1 || res.Profile.Reasons[0].Code != appprofile.ReasonGrantMissing {
		t.Fatalf("after faults cleared: %s %v", res.Profile.Status, codes(res.Profile))
	}
	if want := revoked.Value; !slices.ContainsFunc(res.Profile.Reasons[0].Permissions, func(s string) bool { return strings.Contains(s, want) }) {
		t.Errorf("grant-missing reason %v does not name %s", res.Profile.Reasons[0].Permissions, want)
	}
}

func consenttestUser(upn string, rs ...roles.TemplateID) consenttest.User {
	return consenttest.User{UserPrincipalName: upn, Licenses: []string{"E5"}, DirectoryRoles: rs}
}

func consenterOf(id, upn string, rs ...roles.TemplateID) appprofile.Consenter {
	return appprofile.Consenter{UserID: id, UserPrincipalName: upn, Consenter: consent.Consenter{Roles: rs}}
}

func TestLifecycleUserConsent(t *testing.T) {
	e := newEnv(t)
	// An administrator granted admin consent to the app earlier (the precondition of user consent).
	// Insights for Microsoft 365's list is partial: grant its known rows.
	e.grantAll(insightsID, "Insights for Microsoft 365")
	must(t, e.fake.GrantDelegated(tenantID, insightsID, "00000003-0000-0000-c000-000000000000", "", "User.Read"))
	user, err := e.fake.AddUser(tenantID, consenttest.User{UserPrincipalName: "analyst@contoso.example", Licenses: []string{"E3"}})
	must(t, err)

	ps, err := e.mgr.Create(e.ctx, appprofile.CreateRequest{Customer: "contoso", Tenant: tenantID, Services: []string{"Insights"}, AppType: "Insights for Microsoft 365"})
	must(t, err)
	id := ps[0].ID
	start, err := e.mgr.BeginConsent(e.ctx, id, appprofile.BeginConsentRequest{Method: appprofile.UserConsent, Consenter: consenterOf(user, "analyst@contoso.example"),
		Scopes: []string{"https://graph.microsoft.com/User.Read"}})
	must(t, err)
	u, err := url.Parse(start.URL)
	must(t, err)
	q := u.Query()
	if u.Path != "/"+tenantID+"/oauth2/v2.0/authorize" || q.Get("code_challenge_method") != "S256" || q.Get("response_type") != "code" {
		t.Fatalf("user consent URL = %s", start.URL)
	}
	code, err := e.fake.AuthorizeUser(consenttest.AuthorizeRequest{TenantID: tenantID, AppID: insightsID, UserID: user, RedirectURI: redirectURI,
		Scopes: strings.Fields(q.Get("scope")), CodeChallenge: q.Get("code_challenge")})
	must(t, err)
	p, err := e.mgr.CompleteConsent(e.ctx, appprofile.Callback{State: start.State, Code: code, RemoteIP: "203.0.113.9"})
	must(t, err)
	if p.Status != appprofile.Valid || p.Consent.Method != appprofile.UserConsent || p.Consent.UserID != user || p.DelegatedTokenCache.IsZero() {
		t.Fatalf("after user consent: %s %v consent %+v cache kept %v", p.Status, codes(p), p.Consent, !p.DelegatedTokenCache.IsZero())
	}
	if res := e.verify(id); res.Profile.Status != appprofile.Valid || e.fake.CountActions(consenttest.MethodProveDelegated) != 2 { // one at consent, one now
		t.Fatalf("verify: %s %v, %d delegated proofs", res.Profile.Status, codes(res.Profile), e.fake.CountActions(consenttest.MethodProveDelegated))
	}
	e.clock.Advance(time.Hour)
	must(t, e.fake.ResetUserPassword(tenantID, user))
	res := e.verify(id)
	// Insights for Microsoft 365's list is partial: the profile always says so.
	if diff := cmp.Diff([]appprofile.ReasonCode{appprofile.ReasonPermissionsPartial, appprofile.ReasonUserPasswordReset}, codes(res.Profile)); diff != "" || res.Profile.Status != appprofile.Invalid {
		t.Fatalf("after password reset: %s, reasons (-want +got):\n%s", res.Profile.Status, diff)
	}
	// A non-administrator cannot use admin consent.
	if _, err := e.mgr.BeginConsent(e.ctx, id, appprofile.BeginConsentRequest{Consenter: consenterOf(user, "analyst@contoso.example")}); !errors.Is(err, appprofile.ErrNotEligible) {
		t.Errorf("admin consent by a non-admin: %v", err)
	}
}

// TestCompleteConsentDeclined checks that an error callback surfaces the consent package's AADSTS
// classification through CompleteConsent, after the state was verified, and that the state stays
// usable (nothing was consumed or recorded).
func TestCompleteConsentDeclined(t *testing.T) {
	e := newEnv(t)
	ps, err := e.mgr.Create(e.ctx, appprofile.CreateRequest{Customer: "contoso", Tenant: tenantID, Services: []string{"Baseline management"}})
	must(t, err)
	start, err := e.mgr.BeginConsent(e.ctx, ps[0].ID, appprofile.BeginConsentRequest{Consenter: e.globalAdmin()})
	must(t, err)

	q := url.Values{"state": {start.State}, "error": {"access_denied"},
		"error_description": {"AADSTS65004: User declined to consent to access the app.\r\nTrace ID: 1"}}
	cb, err := appprofile.ParseCallback("?" + q.Encode())
	must(t, err)
	_, err = e.mgr.CompleteConsent(e.ctx, cb)
	var denied *appprofile.ConsentDeniedError
	if !errors.As(err, &denied) || !errors.Is(err, appprofile.ErrConsentDenied) || !errors.Is(err, consent.ErrConsentDeclined) {
		t.Fatalf("AADSTS65004 callback: err = %v, want *ConsentDeniedError wrapping ErrConsentDenied and consent.ErrConsentDeclined", err)
	}
	if denied.AADSTS == nil || denied.AADSTS.Code != 65004 || denied.Code != "access_denied" || strings.Contains(denied.Description, "Trace") {
		t.Errorf("denied = %+v, AADSTS %+v", denied, denied.AADSTS)
	}
	var aadsts *consent.AADSTSError
	if !errors.As(err, &aadsts) || aadsts.Remediation() == "" {
		t.Errorf("errors.As(*consent.AADSTSError) = %v", aadsts)
	}

	// admin_consent=False without an error parameter is a decline too.
	cb, err = appprofile.ParseCallback("admin_consent=False&tenant=" + tenantID + "&state=" + url.QueryEscape(start.State))
	must(t, err)
	if _, err := e.mgr.CompleteConsent(e.ctx, cb); !errors.Is(err, consent.ErrConsentDeclined) || !errors.Is(err, appprofile.ErrConsentDenied) {
		t.Errorf("admin_consent=False: err = %v, want consent.ErrConsentDeclined", err)
	}
	// An AADSTS90094 callback asks for an administrator.
	if _, err := e.mgr.CompleteConsent(e.ctx, appprofile.Callback{State: start.State, Error: "access_denied", ErrorDescription: "AADSTS90094: admin approval"}); !errors.Is(err, consent.ErrAdminApprovalRequired) {
		t.Errorf("AADSTS90094: err = %v, want consent.ErrAdminApprovalRequired", err)
	}
	// A forged state is reported as such before the callback's error is believed.
	if _, err := e.mgr.CompleteConsent(e.ctx, appprofile.Callback{State: start.State + "x", Error: "access_denied"}); !errors.Is(err, appprofile.ErrBadState) || !errors.Is(err, consent.ErrStateTampered) {
		t.Errorf("forged state: err = %v, want ErrBadState and consent.ErrStateTampered", err)
	}
	// A stateless error callback (entra-docs docs/identity-platform/v2-admin-consent.md's error
	// example has no state) is the declined consent it reports, not a bad state.
	cb, err = appprofile.ParseCallback("error=permission_denied&error_description=The+admin+canceled+the+request")
	must(t, err)
	if _, err := e.mgr.CompleteConsent(e.ctx, cb); !errors.Is(err, consent.ErrConsentDeclined) || errors.Is(err, appprofile.ErrBadState) {
		t.Errorf("stateless error callback: err = %v, want consent.ErrConsentDeclined, not ErrBadState", err)
	}
	// A callback for another tenant.
	other := strings.Replace(tenantID, "0001", "0002", 1)
	if _, err := e.mgr.CompleteConsent(e.ctx, appprofile.Callback{State: start.State, Tenant: other, AdminConsent: "True"}); !errors.Is(err, appprofile.ErrTenantMismatch) || !errors.Is(err, consent.ErrStateTenantMismatch) {
		t.Errorf("other tenant: err = %v, want ErrTenantMismatch and consent.ErrStateTenantMismatch", err)
	}
}

func TestParseCallbackMalformed(t *testing.T) {
	for _, q := range []string{"state=a&state=b&code=c", "admin_consent=True&tenant=not-a-guid&state=s", "code=c", "%zz"} {
		if _, err := appprofile.ParseCallback(q); !errors.Is(err, appprofile.ErrBadState) || !errors.Is(err, consent.ErrMalformedCallback) {
			t.Errorf("ParseCallback(%q) err = %v, want ErrBadState and consent.ErrMalformedCallback", q, err)
		}
	}
	cb, err := appprofile.ParseCallback("?admin_consent=true&tenant=" + strings.ToUpper(tenantID) + "&state=s")
	must(t, err)
	if diff := cmp.Diff(appprofile.Callback{State: "s", Tenant: tenantID, AdminConsent: "True"}, cb); diff != "" {
		t.Errorf("callback (-want +got):\n%s", diff)
	}
}
