package appprofile_test

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/tenantapps/tenantapps/appprofile"
	"github.com/tenantapps/tenantapps/consent"
	"github.com/tenantapps/tenantapps/consent/consenttest"
	"github.com/tenantapps/tenantapps/internal/ownapptest"
	"github.com/tenantapps/tenantapps/permissions"
	"github.com/tenantapps/tenantapps/roles"
)

// partialCatalog is the default catalog with acme.json laid over it, its app type's list marked
// partial: the rows are a known part of the required list, cited from a cut page.
func partialCatalog(t *testing.T) (*permissions.Catalog, permissions.AppType) {
	t.Helper()
	data, err := os.ReadFile("../permissions/testdata/overlay/acme.json")
	must(t, err)
	var m map[string]any
	must(t, json.Unmarshal(data, &m))
	a := m["appTypes"].([]any)[0].(map[string]any)
	a["permissionsState"] = "partial"
	a["permissionSources"] = []any{map[string]any{"title": "Acme MSP Automation permissions", "url": "https://acme.example/docs/permissions", "stored": "cut"}}
	data, err = json.Marshal(m)
	must(t, err)
	cat, err := permissions.Overlay(nil, permissions.OverlayFile{Name: "acme-partial.json", Data: data})
	must(t, err)
	app, err := cat.AppType("Acme MSP Automation")
	must(t, err)
	return cat, app
}

// TestPartialPermissionList: a partial list is verified row by row — a revoked known row is
// grant-missing — and a fully granted partial list never reads as "all required permissions
// granted": the profile carries permissions-partial, in its reasons and its JSON, and grants
// beyond the known rows are not called extra.
func TestPartialPermissionList(t *testing.T) {
	ctx := context.Background()
	cat, app := partialCatalog(t)
	fake := consenttest.NewFake()
	must(t, fake.AddTenant(consenttest.Tenant{ID: tenantID}))
	must(t, fake.RegisterApp(consenttest.App{AppID: app.AppID, DisplayName: app.EntraAppName, RedirectURIs: []string{ownapptest.RedirectURI}}))
	gaID, err := fake.AddUser(tenantID, consenttest.User{UserPrincipalName: "admin@contoso.example", DirectoryRoles: []roles.TemplateID{roles.GlobalAdministrator}})
	must(t, err)
	mgr := ownapptest.NewManager(t, cat, fake)
	ps, err := mgr.Create(ctx, appprofile.CreateRequest{Customer: "contoso", Tenant: tenantID, Services: app.Services})
	must(t, err)
	start, err := mgr.BeginConsent(ctx, ps[0].ID, appprofile.BeginConsentRequest{Consenter: appprofile.Consenter{UserID: gaID,
		Consenter: consent.Consenter{Roles: []roles.TemplateID{roles.GlobalAdministrator}}}})
	must(t, err)
	ownapptest.GrantAll(t, fake, tenantID, app)
	// A grant beyond the known rows may be one of the unpublished ones: not "extra".
	other, ok := permissions.Default().Lookup(permissions.Key{ResourceAppID: "00000003-0000-0000-c000-000000000000", Type: permissions.Application, Value: "Group.Create"})
	if !ok {
		t.Fatal("the default catalog lacks Microsoft Graph Group.Create (Application)")
	}
	must(t, fake.GrantAppRole(tenantID, app.AppID, other.ResourceAppID, other.ID))
	p, err := mgr.CompleteConsent(ctx, appprofile.Callback{State: start.State, Tenant: tenantID, AdminConsent: "True"})
	must(t, err)

	// Fully granted: Valid, and it says the list is partial.
	if p.Status != appprofile.Valid || len(p.Reasons) != 1 || p.Reasons[0].Code != appprofile.ReasonPermissionsPartial {
		t.Fatalf("fully granted partial list: %s %v, want valid with only permissions-partial", p.Status, codes(p))
	}
	r := p.Reasons[0]
	for _, want := range []string{"partial", "3 of the 3 permission(s) published", "https://acme.example/docs/permissions", "cannot confirm that all required permissions are granted"} {
		if !strings.Contains(r.Message, want) {
			t.Errorf("reason %q lacks %q", r.Message, want)
		}
	}
	if r.Effect != appprofile.EffectInfo {
		t.Errorf("effect %s, want info", r.Effect)
	}
	js, err := json.Marshal(p)
	must(t, err)
	if !strings.Contains(string(js), `"code":"permissions-partial"`) || !strings.Contains(string(js), "cannot confirm that all required permissions are granted") {
		t.Errorf("profile JSON does not say the list is partial: %s", js)
	}

	// A revoked known row is grant-missing; the list is still called partial.
	revoked := app.Permissions[0]
	must(t, fake.RevokeAppRole(tenantID, app.AppID, revoked.ResourceAppID, revoked.ID))
	res, err := mgr.Verify(ctx, p.ID)
	must(t, err)
	got := res.Profile
	if got.Status != appprofile.Invalid || len(got.Reasons) != 2 || got.Reasons[0].Code != appprofile.ReasonGrantMissing || got.Reasons[1].Code != appprofile.ReasonPermissionsPartial {
		t.Fatalf("revoked known row: %s %v, want invalid with grant-missing and permissions-partial", got.Status, codes(got))
	}
	if !strings.Contains(got.Reasons[0].Message, revoked.Value) || !strings.Contains(got.Reasons[1].Message, "2 of the 3") {
		t.Errorf("reasons %v", got.Reasons)
	}
}
