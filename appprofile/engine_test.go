package appprofile

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tenantapps/tenantapps/roles"
)

var t0 = time.Date(2026, 1, 10, 9, 0, 0, 0, time.UTC)

func baselineProfile() Profile {
	return Profile{
		ID: "p1", Customer: "contoso", Tenant: "tid-1", Services: []string{"Baseline management"},
		AppType: "APElements Baseline Management", AppID: "11111111-1111-1111-1111-111111111111",
		Mode: Modern, Shape: ShapeApplicationOnly, Status: Valid,
		Consent: &ConsentRecord{Method: AdminConsent, UserID: "u1", UserPrincipalName: "admin@contoso.example", At: t0, CatalogVersion: "1", OriginalIP: "203.0.113.7", UserHadLicenses: true},
	}
}

func healthyBaseline() Observation {
	return Observation{
		ServicePrincipal: ServicePrincipalState{Exists: true, Enabled: true},
		Grants:           []Permission{graphPerm("Directory.Read.All", Application), graphPerm("Group.ReadWrite.All", Application)},
		DirectoryRoles:   []roles.TemplateID{roles.ExchangeAdministrator, roles.AttributeDefinitionReader, roles.SecurityAdministrator},
	}
}

func insightsProfile() Profile {
	p := baselineProfile()
	p.AppType, p.AppID, p.Shape, p.Services = "Insights for Microsoft 365", "33333333-3333-3333-3333-333333333333", ShapeHybrid, []string{"Insights"}
	return p
}

func healthyInsights() Observation {
	return Observation{
		ServicePrincipal: ServicePrincipalState{Exists: true, Enabled: true},
		Grants:           []Permission{graphPerm("Sites.Read.All", Application), graphPerm("User.Read", DelegatedPermission)},
		ConsentUser:      &UserState{Exists: true, AccountEnabled: true, LastPasswordChange: t0.Add(-time.Hour), Licensed: true},
		Delegated:        &DelegatedState{LastUsed: t0.Add(24 * time.Hour)},
	}
}

func customProfile() Profile {
	p := baselineProfile()
	p.AppType, p.AppID, p.Mode = "Custom app for Baseline management", "99999999-9999-9999-9999-999999999999", Custom
	p.Custom = &CustomApp{ApplicationID: p.AppID, Thumbprint: "AABB", NotAfter: t0.AddDate(1, 0, 0), AppThumbprints: []string{"AABB"}}
	return p
}

func healthyCustom() Observation {
	o := healthyBaseline()
	o.App = &AppRegistrationState{Exists: true, Thumbprints: []string{"aabb"}}
	return o
}

func reqFor(t *testing.T, cat *testCatalog, p Profile) Requirements {
	t.Helper()
	app, ok := lookupAppType(cat, p.AppType)
	if !ok {
		t.Fatalf("app type %q not in test catalog", p.AppType)
	}
	added, err := cat.AddedSince(p.AppType, p.Consent.CatalogVersion)
	if err != nil {
		t.Fatal(err)
	}
	return Requirements{App: app, AddedSinceConsent: added}
}

func TestAssessReasons(t *testing.T) {
	day := 24 * time.Hour
	later := t0.Add(2 * day)
	tests := []struct {
		name    string
		version string
		profile func() Profile
		obs     func() Observation
		edit    func(*Profile, *Observation)
		now     time.Time
		want    Status
		codes   []ReasonCode
	}{
		{name: "healthy modern", profile: baselineProfile, obs: healthyBaseline, now: later, want: Valid},
		{name: "permissions added since consent", version: "2", profile: baselineProfile, obs: healthyBaseline, now: later, want: Invalid, codes: []ReasonCode{ReasonPermissionsAdded}},
		{name: "grant missing", profile: baselineProfile, obs: healthyBaseline, now: later, edit: func(p *Profile, o *Observation) { o.Grants = o.Grants[:1] }, want: Invalid, codes: []ReasonCode{ReasonGrantMissing}},
		{name: "grant extra is a warning", profile: baselineProfile, obs: healthyBaseline, now: later, edit: func(p *Profile, o *Observation) { o.Grants = append(o.Grants, graphPerm("Mail.Read", Application)) }, want: Valid, codes: []ReasonCode{ReasonGrantExtra}},
		{name: "automatic role missing within grace", profile: baselineProfile, obs: healthyBaseline, now: t0.Add(23 * time.Hour), edit: func(p *Profile, o *Observation) { o.DirectoryRoles = nil }, want: Valid, codes: []ReasonCode{ReasonRolePending}},
		{name: "automatic role missing after grace", profile: baselineProfile, obs: healthyBaseline, now: t0.Add(25 * time.Hour), edit: func(p *Profile, o *Observation) { o.DirectoryRoles = o.DirectoryRoles[1:] }, want: Invalid, codes: []ReasonCode{ReasonRoleMissing}},
		{name: "manual role missing at once for custom", profile: customProfile, obs: healthyCustom, now: t0.Add(time.Minute), edit: func(p *Profile, o *Observation) { o.DirectoryRoles = o.DirectoryRoles[:2] }, want: Invalid, codes: []ReasonCode{ReasonRoleMissing}},
		{name: "exchange role only when managing exchange", profile: insightsProfile, obs: healthyInsights, now: later, want: Valid},
		{name: "exchange role missing when managing exchange", profile: insightsProfile, obs: healthyInsights, now: later, edit: func(p *Profile, o *Observation) { p.Uses = []string{string(roles.ManagesExchange)} }, want: Invalid, codes: []ReasonCode{ReasonRoleMissing}},
		{name: "service principal deleted", profile: baselineProfile, obs: healthyBaseline, now: later, edit: func(p *Profile, o *Observation) { *o = Observation{} }, want: Invalid, codes: []ReasonCode{ReasonServicePrincipalDeleted}},
		{name: "service principal disabled", profile: baselineProfile, obs: healthyBaseline, now: later, edit: func(p *Profile, o *Observation) { o.ServicePrincipal.Enabled = false }, want: Invalid, codes: []ReasonCode{ReasonServicePrincipalOff}},
		{name: "certificate expired", profile: customProfile, obs: healthyCustom, now: t0.AddDate(1, 0, 1), want: Expired, codes: []ReasonCode{ReasonCertificateExpired}},
		{name: "certificate expiring", profile: customProfile, obs: healthyCustom, now: t0.AddDate(1, 0, -10), want: Valid, codes: []ReasonCode{ReasonCertificateExpiring}},
		{name: "certificate added to app", profile: customProfile, obs: healthyCustom, now: later, edit: func(p *Profile, o *Observation) { o.App.Thumbprints = append(o.App.Thumbprints, "CCDD") }, want: Valid, codes: []ReasonCode{ReasonCertificateChanged}},
		{name: "certificate replaced on app", profile: customProfile, obs: healthyCustom, now: later, edit: func(p *Profile, o *Observation) { o.App.Thumbprints = []string{"CCDD"} }, want: Invalid, codes: []ReasonCode{ReasonCertificateNotOnApp, ReasonCertificateChanged}},
		{name: "custom app deleted", profile: customProfile, obs: healthyCustom, now: later, edit: func(p *Profile, o *Observation) { o.App = &AppRegistrationState{} }, want: Invalid, codes: []ReasonCode{ReasonCustomAppChanged}},
		{name: "expired and broken is invalid", profile: customProfile, obs: healthyCustom, now: t0.AddDate(2, 0, 0), edit: func(p *Profile, o *Observation) { o.ServicePrincipal.Enabled = false }, want: Invalid, codes: []ReasonCode{ReasonServicePrincipalOff, ReasonCertificateExpired}},
		{name: "hybrid: password reset", profile: insightsProfile, obs: healthyInsights, now: later, edit: func(p *Profile, o *Observation) { o.ConsentUser.LastPasswordChange = t0.Add(time.Hour) }, want: Invalid, codes: []ReasonCode{ReasonUserPasswordReset}},
		{name: "application-only: password reset stays valid", profile: baselineProfile, obs: healthyBaseline, now: later, edit: func(p *Profile, o *Observation) {
			o.ConsentUser = &UserState{Exists: true, AccountEnabled: true, LastPasswordChange: t0.Add(time.Hour)}
		}, want: Valid},
		{name: "hybrid: sessions revoked", profile: insightsProfile, obs: healthyInsights, now: later, edit: func(p *Profile, o *Observation) { o.ConsentUser.SessionsValidFrom = t0.Add(time.Hour) }, want: Invalid, codes: []ReasonCode{ReasonUserSessionsRevoked}},
		{name: "hybrid: user deleted", profile: insightsProfile, obs: healthyInsights, now: later, edit: func(p *Profile, o *Observation) { o.ConsentUser = &UserState{} }, want: Invalid, codes: []ReasonCode{ReasonUserDeleted}},
		{name: "hybrid: user blocked", profile: insightsProfile, obs: healthyInsights, now: later, edit: func(p *Profile, o *Observation) { o.ConsentUser.AccountEnabled = false }, want: Invalid, codes: []ReasonCode{ReasonUserDisabled}},
		{name: "hybrid: licences removed", profile: insightsProfile, obs: healthyInsights, now: later, edit: func(p *Profile, o *Observation) { o.ConsentUser.Licensed = false }, want: Invalid, codes: []ReasonCode{ReasonUserLicensesRemoved}},
		{name: "hybrid: global admin removed stays valid", profile: insightsProfile, obs: healthyInsights, now: later, want: Valid},
		{name: "hybrid: MFA enabled after consent", profile: insightsProfile, obs: healthyInsights, now: later, edit: func(p *Profile, o *Observation) { o.ConsentUser.MFAEnabledAt = t0.Add(time.Hour) }, want: Invalid, codes: []ReasonCode{ReasonUserMFAEnabled}},
		{name: "hybrid: MFA before consent is fine", profile: insightsProfile, obs: healthyInsights, now: later, edit: func(p *Profile, o *Observation) { o.ConsentUser.MFAEnabledAt = t0.Add(-time.Hour) }, want: Valid},
		{name: "hybrid: conditional access blocks IP", profile: insightsProfile, obs: healthyInsights, now: later, edit: func(p *Profile, o *Observation) { o.Delegated.BlockedByConditionalAccess = true }, want: Invalid, codes: []ReasonCode{ReasonConditionalAccessIP}},
		{name: "hybrid: refresh token rejected", profile: insightsProfile, obs: healthyInsights, now: later, edit: func(p *Profile, o *Observation) { o.Delegated.RefreshTokenExpired = true }, want: Expired, codes: []ReasonCode{ReasonRefreshTokenExpired}},
		{name: "hybrid: refresh token idle 91 days", profile: insightsProfile, obs: healthyInsights, now: t0.Add(92 * day), want: Expired, codes: []ReasonCode{ReasonRefreshTokenExpired}},
		{name: "consent account change requested", profile: baselineProfile, obs: healthyBaseline, now: later, edit: func(p *Profile, o *Observation) { p.ReauthorizationRequested = "change the consent account" }, want: Valid, codes: []ReasonCode{ReasonConsentAccountChange}},
		{name: "not consented", profile: baselineProfile, obs: healthyBaseline, now: later, edit: func(p *Profile, o *Observation) { p.Consent = nil; p.Status = Pending }, want: Pending, codes: []ReasonCode{ReasonNotConsented}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			version := tt.version
			if version == "" {
				version = "1"
			}
			cat := newTestCatalog(version)
			p, o := tt.profile(), tt.obs()
			if tt.edit != nil {
				tt.edit(&p, &o)
			}
			var req Requirements
			if p.Consent != nil {
				req = reqFor(t, cat, p)
			}
			got := Assess(p, req, o, tt.now, Policy{})
			if got.Outcome != Checked {
				t.Fatalf("Outcome = %s, want %s (err %v)", got.Outcome, Checked, got.Err)
			}
			var codes []ReasonCode
			for _, r := range got.Reasons {
				codes = append(codes, r.Code)
				info, ok := Describe(r.Code)
				if !ok || r.Effect != info.Effect || r.FixedByReauthorization != info.FixedByReauthorization || r.Remediation == "" || r.Message == "" {
					t.Errorf("reason %+v does not match its description %+v", r, info)
				}
			}
			if diff := cmp.Diff(struct {
				S Status
				C []ReasonCode
			}{tt.want, tt.codes}, struct {
				S Status
				C []ReasonCode
			}{got.Status, codes}); diff != "" {
				t.Errorf("Assess mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAssessNamesDetails(t *testing.T) {
	cat := newTestCatalog("2")
	p := baselineProfile()
	got := Assess(p, reqFor(t, cat, p), healthyBaseline(), t0.Add(48*time.Hour), Policy{})
	want := []Reason{{
		Code:                   ReasonPermissionsAdded,
		Message:                "APElements Baseline Management gained 1 permission(s) since consent (catalog 1): Microsoft Graph Policy.Read.All (Application)",
		Remediation:            reasonInfo[ReasonPermissionsAdded].Remediation,
		FixedByReauthorization: true,
		Effect:                 EffectInvalid,
		Permissions:            []string{"Microsoft Graph Policy.Read.All (Application)"},
	}}
	if diff := cmp.Diff(want, got.Reasons); diff != "" {
		t.Errorf("reasons mismatch (-want +got):\n%s", diff)
	}

	ip := insightsProfile()
	o := healthyInsights()
	o.Delegated.BlockedByConditionalAccess = true
	got = Assess(ip, reqFor(t, newTestCatalog("1"), ip), o, t0.Add(48*time.Hour), Policy{})
	if len(got.Reasons) != 1 || got.Reasons[0].IP != "203.0.113.7" {
		t.Fatalf("want one conditional-access reason naming 203.0.113.7, got %+v", got.Reasons)
	}
}

func TestAssessCouldNotCheckNeverFlips(t *testing.T) {
	for _, st := range []Status{Valid, Expired, Invalid, Pending} {
		p := baselineProfile()
		p.Status = st
		p.Reasons = []Reason{newReason(ReasonGrantExtra, "x")}
		o := Observation{Failures: []Failure{{Part: "service principal", Err: errors.New("429 throttled")}}}
		got := Assess(p, reqFor(t, newTestCatalog("1"), p), o, t0, Policy{})
		if got.Outcome != CouldNotCheck || got.Status != st || got.Err == nil {
			t.Errorf("status %s: got outcome %s status %s err %v; want could-not-check, status unchanged", st, got.Outcome, got.Status, got.Err)
		}
		if diff := cmp.Diff(p.Reasons, got.Reasons); diff != "" {
			t.Errorf("reasons changed (-want +got):\n%s", diff)
		}
	}
}

func TestReasonCodesAllDescribed(t *testing.T) {
	for _, c := range ReasonCodes() {
		info, ok := Describe(c)
		if !ok || info.Remediation == "" || info.Effect == "" {
			t.Errorf("%s: incomplete description %+v", c, info)
		}
	}
	if _, ok := Describe("nope"); ok {
		t.Error("Describe(unknown) = ok")
	}
}

// TestAssessUnprovenConsentNeverArrived: a consent recorded while the tenant could not be read,
// whose app never got a service principal there, says so rather than "no longer exists".
func TestAssessUnprovenConsentNeverArrived(t *testing.T) {
	cat := newTestCatalog("1")
	p := baselineProfile()
	p.Consent.Unproven = true
	got := Assess(p, reqFor(t, cat, p), Observation{}, t0.Add(48*time.Hour), Policy{})
	if got.Status != Invalid || len(got.Reasons) == 0 || got.Reasons[0].Code != ReasonServicePrincipalDeleted ||
		!strings.Contains(got.Reasons[0].Message, "never reached tenant") {
		t.Errorf("Assess = %s %+v, want Invalid with the consent that never reached the tenant", got.Status, got.Reasons)
	}
	p.Consent.Unproven = false
	got = Assess(p, reqFor(t, cat, p), Observation{}, t0.Add(48*time.Hour), Policy{})
	if len(got.Reasons) == 0 || !strings.Contains(got.Reasons[0].Message, "no longer exists") {
		t.Errorf("proven consent: %+v, want the service principal that no longer exists", got.Reasons)
	}
}

// TestRefreshIsThePrimaryDelegatedSignal: the token endpoint's answer on the delegated refresh
// outranks the sign-in log. A refresh that succeeded during the check makes older sign-in
// failures stale; a refused refresh names its reason even when the sign-in log shows nothing.
func TestRefreshIsThePrimaryDelegatedSignal(t *testing.T) {
	ip := insightsProfile()
	req := reqFor(t, newTestCatalog("1"), ip)
	now := t0.Add(48 * time.Hour)

	o := healthyInsights()
	o.Delegated.BlockedByConditionalAccess, o.Delegated.MFARequired, o.Delegated.RefreshTokenExpired = true, true, true
	o.Delegated.RefreshSucceeded, o.Delegated.LastUsed = true, now
	if got := Assess(ip, req, o, now, Policy{}); len(got.Reasons) != 0 {
		t.Errorf("refresh succeeded, stale sign-in failures: reasons %+v, want none", got.Reasons)
	}

	o = healthyInsights()
	o.Delegated.RefreshRejected = "AADSTS53003"
	got := Assess(ip, req, o, now, Policy{})
	if len(got.Reasons) != 1 || got.Reasons[0].Code != ReasonConditionalAccessIP {
		t.Errorf("refresh refused with AADSTS53003, no sign-ins: reasons %+v, want one Conditional Access reason", got.Reasons)
	}
}
