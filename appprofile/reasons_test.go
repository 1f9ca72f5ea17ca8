package appprofile_test

import (
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tenantapps/tenantapps/appprofile"
	"github.com/tenantapps/tenantapps/permissions"
	"github.com/tenantapps/tenantapps/roles"
)

// TestReasonPerTenantChange changes the tenant through the fake directory, verifies, and expects
// exactly one reason (seed 003's matrix: the hybrid Baseline app depends on its consent user, the
// application-only Nitro app does not).
func TestReasonPerTenantChange(t *testing.T) {
	const graph = "00000003-0000-0000-c000-000000000000"
	tests := []struct {
		name    string
		appType string // default APElements Baseline Management
		change  func(e *env, appID string)
		advance time.Duration
		want    appprofile.Status
		code    appprofile.ReasonCode // "" = no reason
		detail  string                // must appear in the reason's message
	}{
		{name: "password reset", change: func(e *env, _ string) { must(e.t, e.fake.ResetUserPassword(tenantID, e.admin)) }, want: appprofile.Invalid, code: appprofile.ReasonUserPasswordReset, detail: "admin@contoso.example"},
		{name: "user deleted", change: func(e *env, _ string) { must(e.t, e.fake.DeleteUser(tenantID, e.admin)) }, want: appprofile.Invalid, code: appprofile.ReasonUserDeleted},
		{name: "user blocked", change: func(e *env, _ string) { must(e.t, e.fake.SetUserEnabled(tenantID, e.admin, false)) }, want: appprofile.Invalid, code: appprofile.ReasonUserDisabled},
		{name: "licences removed", change: func(e *env, _ string) { must(e.t, e.fake.RemoveUserLicense(tenantID, e.admin, "E5")) }, want: appprofile.Invalid, code: appprofile.ReasonUserLicensesRemoved},
		{name: "MFA enabled after consent", change: func(e *env, _ string) { must(e.t, e.fake.RequireUserMFA(tenantID, e.admin)) }, want: appprofile.Invalid, code: appprofile.ReasonUserMFAEnabled},
		{name: "conditional access blocks the original IP", change: func(e *env, appID string) {
			must(e.t, e.fake.BlockIP(tenantID, adminIP))
			_, err := e.fake.SimulateSignIn(tenantID, appID, e.admin, adminIP)
			must(e.t, err)
		}, want: appprofile.Invalid, code: appprofile.ReasonConditionalAccessIP, detail: adminIP},
		{name: "refresh token idle 91 days", change: func(e *env, _ string) {}, advance: 91 * 24 * time.Hour, want: appprofile.Expired, code: appprofile.ReasonRefreshTokenExpired},
		{name: "service principal deleted", change: func(e *env, appID string) { must(e.t, e.fake.DeleteServicePrincipal(tenantID, appID)) }, want: appprofile.Invalid, code: appprofile.ReasonServicePrincipalDeleted},
		{name: "service principal disabled", change: func(e *env, appID string) { must(e.t, e.fake.SetServicePrincipalEnabled(tenantID, appID, false)) }, want: appprofile.Invalid, code: appprofile.ReasonServicePrincipalOff},
		{name: "grant revoked", change: func(e *env, appID string) {
			a, _ := e.cat.AppType("APElements Baseline Management")
			p := a.Permissions[0]
			must(e.t, e.fake.RevokeAppRole(tenantID, appID, p.ResourceAppID, p.ID))
		}, want: appprofile.Invalid, code: appprofile.ReasonGrantMissing, detail: "Microsoft Graph"},
		{name: "extra grant", change: func(e *env, appID string) {
			must(e.t, e.fake.GrantAppRole(tenantID, appID, graph, "00000000-0000-4000-8000-00000000e7a1"))
		}, want: appprofile.Valid, code: appprofile.ReasonGrantExtra, detail: "00000000-0000-4000-8000-00000000e7a1"},
		{name: "directory role removed", change: func(e *env, appID string) {
			must(e.t, e.fake.RemoveAppDirectoryRole(tenantID, appID, roles.SecurityAdministrator))
		}, want: appprofile.Invalid, code: appprofile.ReasonRoleMissing, detail: "Security Administrator"},
		// Seed 003: application-permission profiles stay valid when the consent user changes.
		{name: "application-only: password reset", appType: "APElements Automation", change: func(e *env, _ string) { must(e.t, e.fake.ResetUserPassword(tenantID, e.admin)) }, want: appprofile.Valid},
		{name: "application-only: user deleted", appType: "APElements Automation", change: func(e *env, _ string) { must(e.t, e.fake.DeleteUser(tenantID, e.admin)) }, want: appprofile.Valid},
		{name: "application-only: licences removed", appType: "APElements Automation", change: func(e *env, _ string) { must(e.t, e.fake.RemoveUserLicense(tenantID, e.admin, "E5")) }, want: appprofile.Valid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			appType, service, appID := "APElements Baseline Management", "Baseline management", baselineID
			if tt.appType == "APElements Automation" {
				appType, service, appID = tt.appType, "Nitro", nitroID
			}
			p := e.createAndConsent(service, appType, appID)
			e.assignRoles(appID, appType)
			e.clock.Advance(25 * time.Hour)
			if res := e.verify(p.ID); res.Profile.Status != appprofile.Valid || len(res.Profile.Reasons) != 0 {
				t.Fatalf("before the change: %s %v", res.Profile.Status, codes(res.Profile))
			}
			e.clock.Advance(time.Minute)
			tt.change(e, appID)
			e.clock.Advance(tt.advance)
			res := e.verify(p.ID)
			var want []appprofile.ReasonCode
			if tt.code != "" {
				want = []appprofile.ReasonCode{tt.code}
			}
			if diff := cmp.Diff(want, codes(res.Profile)); diff != "" || res.Profile.Status != tt.want {
				t.Fatalf("status %s (want %s); reasons (-want +got):\n%s", res.Profile.Status, tt.want, diff)
			}
			if tt.detail != "" && !strings.Contains(res.Profile.Reasons[0].Message, tt.detail) {
				t.Errorf("reason %q does not name %q", res.Profile.Reasons[0].Message, tt.detail)
			}
			if tt.code == appprofile.ReasonConditionalAccessIP && res.Profile.Reasons[0].IP != adminIP {
				t.Errorf("IP = %q, want %q", res.Profile.Reasons[0].IP, adminIP)
			}
		})
	}
}

func TestReasonPermissionsAddedSinceConsent(t *testing.T) {
	e := newEnv(t)
	p := e.createAndConsent("Baseline management", "APElements Baseline Management", baselineID)
	e.assignRoles(baselineID, "APElements Baseline Management")
	e.clock.Advance(25 * time.Hour)

	gained := permissions.Permission{Resource: "Microsoft Graph", ResourceAppID: "00000003-0000-0000-c000-000000000000", Value: "Policy.ReadWrite.DeviceConfiguration",
		ID: "230fb2d5-aa21-49c1-bfa7-ae1be179d867", Type: permissions.Application, Description: "Read and write your organization's device configuration policies"}
	v2, err := e.cat.With(e.cat.Version()+"+1", permissions.AddPermission("APElements Baseline Management", gained))
	must(t, err)
	mgr2, err := appprofile.New(e.store, e.fake, appprofile.WithClock(e.clock.Now), appprofile.WithLogger(slog.New(slog.DiscardHandler)), appprofile.WithCatalog(appprofile.FromPermissions(v2, e.cat)),
		appprofile.WithVendorAppIDs(map[string]string{"APElements Baseline Management": baselineID}))
	must(t, err)
	res, err := mgr2.Verify(e.ctx, p.ID)
	must(t, err)
	if res.Profile.Status != appprofile.Invalid || len(res.Profile.Reasons) != 1 || res.Profile.Reasons[0].Code != appprofile.ReasonPermissionsAdded {
		t.Fatalf("got %s %v", res.Profile.Status, codes(res.Profile))
	}
	r := res.Profile.Reasons[0]
	if !r.FixedByReauthorization || !slices.ContainsFunc(r.Permissions, func(s string) bool { return strings.Contains(s, "Policy.ReadWrite.DeviceConfiguration") }) {
		t.Errorf("reason %+v does not name the gained permission", r)
	}
}

func TestReasonConsentAccountChangeAndReauthorize(t *testing.T) {
	e := newEnv(t)
	p := e.createAndConsent("Nitro", "APElements Automation", nitroID)
	p, err := e.mgr.RequestReauthorization(e.ctx, p.ID, "")
	must(t, err)
	if res := e.verify(p.ID); !slices.Contains(codes(res.Profile), appprofile.ReasonConsentAccountChange) || res.Profile.Status != appprofile.Valid {
		t.Fatalf("after request: %s %v", res.Profile.Status, codes(res.Profile))
	}
	other, err := e.fake.AddUser(tenantID, consenttestUser("ga2@contoso.example", roles.GlobalAdministrator))
	must(t, err)
	start, err := e.mgr.Reauthorize(e.ctx, p.ID, appprofile.ReauthorizeInput{
		ReauthorizeRequest: appprofile.ReauthorizeRequest{Change: appprofile.ChangeConsentAccount},
		Consenter:          consenterOf(other, "ga2@contoso.example", roles.GlobalAdministrator),
	})
	must(t, err)
	np, err := e.mgr.CompleteConsent(e.ctx, appprofile.Callback{State: start.State, Tenant: tenantID, AdminConsent: "True"})
	must(t, err)
	if np.Consent.UserID != other || len(np.Reasons) != 0 || np.Status != appprofile.Valid || np.ReauthorizationRequested != "" {
		t.Fatalf("after re-authorization: %+v reasons %v", np.Consent, codes(np))
	}
	// Custom and classic profiles are re-authorized in AOS, not on the Elements page.
	_, err = e.mgr.Reauthorize(e.ctx, p.ID, appprofile.ReauthorizeInput{ReauthorizeRequest: appprofile.ReauthorizeRequest{Change: appprofile.ChangeCertificate}})
	if !errors.Is(err, appprofile.ErrNotAllowed) {
		t.Errorf("certificate change on a modern profile: %v", err)
	}
}
