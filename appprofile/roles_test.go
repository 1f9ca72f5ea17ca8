package appprofile_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tenantapps/tenantapps/appprofile"
	"github.com/tenantapps/tenantapps/consent"
	"github.com/tenantapps/tenantapps/consent/consenttest"
	"github.com/tenantapps/tenantapps/roles"
)

// assignments lists the roles the Fake was asked to assign, as "tenant app role".
func (e *env) assignments() []string {
	var out []string
	for _, a := range e.fake.Actions() {
		if a.Method == consenttest.MethodAssignDirectoryRole {
			out = append(out, a.TenantID+" "+a.AppID+" "+a.Arg)
		}
	}
	return out
}

func assignmentsOf(appID string, rs ...roles.TemplateID) []string {
	var out []string
	for _, r := range rs {
		out = append(out, tenantID+" "+appID+" "+string(r))
	}
	return out
}

type checkLine struct {
	Role     roles.TemplateID
	Assigned bool
}

func checkLines(c appprofile.Checklist) []checkLine {
	var out []checkLine
	for _, r := range c.Directory {
		out = append(out, checkLine{r.Role, r.Assigned})
	}
	return out
}

// TestAssignRoles: every missing role of the checklist is assigned through the driver, whatever
// its kind (automatic, manual after authorization, manual before authorization), and the
// re-read checklist is complete; roles already there are not assigned again.
func TestAssignRoles(t *testing.T) {
	baseline := []roles.TemplateID{roles.ExchangeAdministrator, roles.AttributeDefinitionReader, roles.SecurityAdministrator}
	tests := []struct {
		name string
		// setup returns the env, the profile and its app ID, with the app's service principal in
		// place.
		setup func(t *testing.T) (*env, appprofile.Profile, string)
		want  []roles.TemplateID
	}{
		{name: "modern Baseline: the automatic roles, before the vendor assigns them", setup: func(t *testing.T) (*env, appprofile.Profile, string) {
			e := newEnv(t)
			return e, e.createAndConsent("Baseline management", "APElements Baseline Management", baselineID), baselineID
		}, want: baseline},
		{name: "AOS app that manages Exchange: Exchange Administrator", setup: func(t *testing.T) (*env, appprofile.Profile, string) {
			e := newEnv(t)
			ps, err := e.mgr.Create(e.ctx, appprofile.CreateRequest{Customer: "contoso", Tenant: tenantID, Services: []string{"Insights"}, AppType: "Insights for Microsoft 365",
				Uses: []roles.Condition{roles.ManagesExchange}})
			must(e.t, err)
			e.grantAll(insightsID, "Insights for Microsoft 365")
			return e, ps[0], insightsID
		}, want: []roles.TemplateID{roles.ExchangeAdministrator}},
		{name: "AOS app that does not manage Exchange: nothing to assign", setup: func(t *testing.T) (*env, appprofile.Profile, string) {
			e := newEnv(t)
			ps, err := e.mgr.Create(e.ctx, appprofile.CreateRequest{Customer: "contoso", Tenant: tenantID, Services: []string{"Insights"}, AppType: "Insights for Microsoft 365"})
			must(e.t, err)
			e.grantAll(insightsID, "Insights for Microsoft 365")
			return e, ps[0], insightsID
		}},
		{name: "custom app: a role to assign before authorization was removed", setup: func(t *testing.T) (*env, appprofile.Profile, string) {
			e, _, req := customSetup(t)
			e.consented(customID)
			ps, err := e.mgr.Create(e.ctx, req)
			must(t, err)
			must(t, e.fake.RemoveAppDirectoryRole(tenantID, customID, roles.SecurityAdministrator))
			return e, ps[0], customID
		}, want: []roles.TemplateID{roles.SecurityAdministrator}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, p, appID := tt.setup(t)
			p, err := e.mgr.Get(e.ctx, p.ID)
			must(t, err)
			e.fake.ClearActions()
			events := len(e.events)

			cl, err := e.mgr.AssignRoles(e.ctx, p.ID)
			must(t, err)
			if diff := cmp.Diff(assignmentsOf(appID, tt.want...), e.assignments()); diff != "" {
				t.Errorf("roles assigned (-want +got):\n%s", diff)
			}
			if !cl.Verified || !cl.Complete() {
				t.Errorf("checklist after AssignRoles: verified %v, lines %+v; want verified and complete", cl.Verified, checkLines(cl))
			}
			// The tenant shows them, independently of what AssignRoles reported.
			st, err := e.fake.AppState(e.ctx, tenantID, appID)
			must(t, err)
			for _, r := range tt.want {
				if !st.HasDirectoryRole(r) {
					t.Errorf("the tenant does not show %s on the app", r.Name())
				}
			}
			// The profile is untouched and nothing is announced.
			if got, err := e.mgr.Get(e.ctx, p.ID); err != nil || got.Version != p.Version {
				t.Errorf("profile version %d after AssignRoles (err %v), want %d", got.Version, err, p.Version)
			}
			if len(e.events) != events {
				t.Errorf("AssignRoles emitted %d event(s)", len(e.events)-events)
			}

			// Again: everything is there, so nothing is assigned.
			e.fake.ClearActions()
			again, err := e.mgr.AssignRoles(e.ctx, p.ID)
			must(t, err)
			if got := e.assignments(); len(got) != 0 {
				t.Errorf("second AssignRoles assigned %v, want nothing", got)
			}
			if diff := cmp.Diff(checkLines(cl), checkLines(again)); diff != "" || !again.Complete() {
				t.Errorf("second checklist (-first +second):\n%s", diff)
			}
		})
	}
}

// TestAssignRolesSettlesStatus: once the roles are assigned, the next Verify finds nothing
// missing, even after the vendor's 24 hours.
func TestAssignRolesSettlesStatus(t *testing.T) {
	e := newEnv(t)
	p := e.createAndConsent("Baseline management", "APElements Baseline Management", baselineID)
	_, err := e.mgr.AssignRoles(e.ctx, p.ID)
	must(t, err)
	e.clock.Advance(25 * time.Hour)
	if res := e.verify(p.ID); res.Profile.Status != appprofile.Valid || len(res.Profile.Reasons) != 0 {
		t.Errorf("after AssignRoles and 25 h: %s %v, want valid without reasons", res.Profile.Status, codes(res.Profile))
	}
}

func TestAssignRolesErrors(t *testing.T) {
	tests := []struct {
		name string
		// driver wraps the Fake (nil: the Fake itself); setup breaks the tenant.
		driver    func(consent.Driver) consent.Driver
		setup     func(e *env)
		consented bool // whether the profile's app has a service principal
		wantIs    []error
		notIs     error
		wantText  []string
		// wantVerified is the returned checklist's Verified.
		wantVerified bool
	}{
		{name: "driver cannot assign roles", consented: true, driver: consenttest.OnlyDriver,
			wantIs: []error{appprofile.ErrInvalidRequest}, wantText: []string{"consent.RoleAssigner", "Microsoft Entra admin center"}},
		{name: "driver's app may not assign roles", consented: true,
			setup: func(e *env) {
				e.fake.OnCall(consenttest.MethodAssignDirectoryRole, consenttest.Fail(consent.ErrForbidden))
			},
			wantIs: []error{consent.ErrForbidden}, notIs: appprofile.ErrCouldNotCheck, wantVerified: true,
			wantText: []string{"RoleManagement.ReadWrite.Directory", "Exchange Administrator, Attribute Definition Reader, Security Administrator"}},
		{name: "no service principal: consent first",
			wantIs: []error{appprofile.ErrInvalidRequest}, wantText: []string{"no service principal", "consent first"}, wantVerified: true},
		{name: "tenant unavailable", consented: true,
			setup: func(e *env) {
				_, err := e.fake.InjectFault(tenantID, consenttest.FaultUnavailable)
				must(e.t, err)
			},
			wantIs: []error{appprofile.ErrCouldNotCheck, consent.ErrTransient}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			ps, err := e.mgr.Create(e.ctx, appprofile.CreateRequest{Customer: "contoso", Tenant: tenantID, Services: []string{"Baseline management"}})
			must(t, err)
			if tt.consented {
				_, err := e.fake.CreateServicePrincipal(tenantID, baselineID)
				must(t, err)
			}
			mgr := e.mgr
			if tt.driver != nil {
				mgr, err = appprofile.New(e.store, tt.driver(e.fake), appprofile.WithClock(e.clock.Now), appprofile.WithLogger(slog.New(slog.DiscardHandler)),
					appprofile.WithVendorAppIDs(map[string]string{"APElements Baseline Management": baselineID}))
				must(t, err)
			}
			if tt.setup != nil {
				tt.setup(e)
			}
			e.fake.ClearActions()
			cl, err := mgr.AssignRoles(e.ctx, ps[0].ID)
			if err == nil {
				t.Fatal("AssignRoles succeeded, want an error")
			}
			for _, want := range tt.wantIs {
				if !errors.Is(err, want) {
					t.Errorf("err = %v, want it to wrap %v", err, want)
				}
			}
			if tt.notIs != nil && errors.Is(err, tt.notIs) {
				t.Errorf("err = %v, should not wrap %v", err, tt.notIs)
			}
			for _, want := range tt.wantText {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("err = %v, want it to say %q", err, want)
				}
			}
			if len(cl.Directory) != 3 || cl.Verified != tt.wantVerified || cl.Complete() {
				t.Errorf("checklist = %+v, want the 3 Baseline roles, verified %v, not complete", cl, tt.wantVerified)
			}
			if st, err := e.fake.AppState(context.Background(), tenantID, baselineID); err == nil && len(st.DirectoryRoles) != 0 {
				t.Errorf("roles assigned despite the error: %v", st.DirectoryRoles)
			}
		})
	}
}

// TestAssignRolesPartialFailure: a failure half-way reports the roles already assigned, and the
// next call assigns only the rest.
func TestAssignRolesPartialFailure(t *testing.T) {
	e := newEnv(t)
	p := e.createAndConsent("Baseline management", "APElements Baseline Management", baselineID)
	var n atomic.Int32
	e.fake.OnCall(consenttest.MethodAssignDirectoryRole, func(context.Context, consenttest.Action) error {
		if n.Add(1) == 2 {
			return consent.ErrTransient
		}
		return nil
	})
	e.fake.ClearActions()
	cl, err := e.mgr.AssignRoles(e.ctx, p.ID)
	if !errors.Is(err, appprofile.ErrCouldNotCheck) || !strings.Contains(err.Error(), "assigned before the failure: Exchange Administrator") {
		t.Fatalf("err = %v, want ErrCouldNotCheck naming the role already assigned", err)
	}
	want := []checkLine{{roles.ExchangeAdministrator, true}, {roles.AttributeDefinitionReader, false}, {roles.SecurityAdministrator, false}}
	if diff := cmp.Diff(want, checkLines(cl)); diff != "" || !cl.Verified {
		t.Errorf("checklist after the failure (verified %v; -want +got):\n%s", cl.Verified, diff)
	}
	e.fake.ClearActions()
	cl, err = e.mgr.AssignRoles(e.ctx, p.ID)
	must(t, err)
	if diff := cmp.Diff(assignmentsOf(baselineID, roles.AttributeDefinitionReader, roles.SecurityAdministrator), e.assignments()); diff != "" {
		t.Errorf("second call assigned (-want +got):\n%s", diff)
	}
	if !cl.Complete() {
		t.Errorf("checklist = %+v, want complete", checkLines(cl))
	}
}
