// Package ownapptest is the acceptance scenario for app types of an embedder's own: an app type
// declared only in a catalog file (family, service, vendor app ID, permissions and consent rules of
// its own) goes through the whole lifecycle of package appprofile against any directory and driver
// — the consenttest fake, or the graphtest emulator read by the real Graph driver:
//
//	Create → BeginConsent (refused by the file's own rule, then allowed) → CompleteConsent →
//	Verify (Valid) → an administrator revokes one permission → Verify (Invalid, grant-missing).
//
// It lives in internal/ so the fake's test (in appprofile) and the emulator's test (in
// internal/integration, where msgraph may be imported) run the same steps.
package ownapptest

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tenantapps/tenantapps/appprofile"
	"github.com/tenantapps/tenantapps/consent"
	"github.com/tenantapps/tenantapps/consent/consenttest"
	"github.com/tenantapps/tenantapps/permissions"
	"github.com/tenantapps/tenantapps/roles"
	"github.com/tenantapps/tenantapps/store/memstore"
)

// Setup is what the scenario runs against.
type Setup struct {
	// Directory changes the tenant (grants, revokes); Driver reads it.
	Directory consenttest.Directory
	Driver    consent.Driver
	// Tenant is an existing customer tenant of Directory.
	Tenant string
	// HomeTenant is the tenant the vendor app is registered in ("" when the directory allows it).
	HomeTenant string
	// CatalogFile is the path of the embedder's catalog file; AppType the app type it declares.
	CatalogFile string
	AppType     string
	// Options are added to the Manager's (e.g. WithAuthority for an emulator).
	Options []appprofile.Option
}

const redirectURI = "https://portal.example/consent/callback"

// Run runs the scenario and fails t on any deviation.
func Run(t *testing.T, s Setup) {
	t.Helper()
	ctx := context.Background()
	data, err := os.ReadFile(s.CatalogFile)
	must(t, err)
	cat, err := permissions.Overlay(permissions.Default(), permissions.OverlayFile{Name: s.CatalogFile, Data: data})
	must(t, err)
	app, err := cat.AppType(s.AppType)
	must(t, err)
	if app.AppID == "" || len(app.Permissions) == 0 {
		t.Fatalf("%s declares no vendor app ID or no permissions", s.AppType)
	}
	must(t, s.Directory.RegisterApp(consenttest.App{AppID: app.AppID, HomeTenantID: s.HomeTenant, DisplayName: app.EntraAppName, RedirectURIs: []string{redirectURI}}))

	mgr := NewManager(t, cat, s.Driver, s.Options...)

	// Create: the service of the file, the vendor app ID of the file (no WithVendorAppIDs).
	ps, err := mgr.Create(ctx, appprofile.CreateRequest{Customer: "contoso", Tenant: s.Tenant, Services: app.Services})
	must(t, err)
	if len(ps) != 1 || ps[0].AppType != app.Name || ps[0].AppID != app.AppID || ps[0].Status != appprofile.Pending {
		t.Fatalf("Create = %+v, want one pending %s profile with app ID %s", ps, app.Name, app.AppID)
	}
	id := ps[0].ID

	// BeginConsent applies the file's own rule: a Privileged Role Administrator, who may consent to
	// AvePoint's apps, may not consent to this one.
	pra := appprofile.Consenter{UserID: "pra", Consenter: consent.Consenter{Roles: []roles.TemplateID{roles.PrivilegedRoleAdministrator}}}
	_, err = mgr.BeginConsent(ctx, id, appprofile.BeginConsentRequest{Consenter: pra})
	var ee *appprofile.EligibilityError
	if !errors.As(err, &ee) || len(ee.Missing) != 1 || !strings.Contains(ee.Missing[0], "Global Administrator") {
		t.Fatalf("BeginConsent by a Privileged Role Administrator: %v, want *EligibilityError naming Global Administrator", err)
	}
	// The app has delegated permissions, so the consenting administrator is its consent user.
	gaID, err := s.Directory.AddUser(s.Tenant, consenttest.User{UserPrincipalName: "admin@contoso.example", DirectoryRoles: []roles.TemplateID{roles.GlobalAdministrator}})
	must(t, err)
	ga := appprofile.Consenter{UserID: gaID, UserPrincipalName: "admin@contoso.example", Consenter: consent.Consenter{Roles: []roles.TemplateID{roles.GlobalAdministrator}}}
	start, err := mgr.BeginConsent(ctx, id, appprofile.BeginConsentRequest{Consenter: ga})
	must(t, err)
	u, err := url.Parse(start.URL)
	must(t, err)
	if u.Query().Get("client_id") != app.AppID || !strings.HasSuffix(u.Path, "/"+s.Tenant+"/v2.0/adminconsent") {
		t.Fatalf("consent URL = %s", start.URL)
	}

	// What the administrator's consent does in the tenant: provision the app and grant its rows.
	GrantAll(t, s.Directory, s.Tenant, app)
	p, err := mgr.CompleteConsent(ctx, appprofile.Callback{State: start.State, Tenant: s.Tenant, AdminConsent: "True", RemoteIP: "198.51.100.7"})
	must(t, err)
	if p.Status != appprofile.Valid || p.Consent == nil || p.Consent.CatalogVersion != cat.Version() {
		t.Fatalf("after CompleteConsent: %s %+v consent %+v, want valid at catalog %s", p.Status, p.Reasons, p.Consent, cat.Version())
	}
	res, err := mgr.Verify(ctx, id)
	must(t, err)
	if res.Profile.Status != appprofile.Valid {
		t.Fatalf("Verify after consent: %s %+v", res.Profile.Status, res.Profile.Reasons)
	}

	// An administrator revokes one application permission of the file's list.
	i := slices.IndexFunc(app.Permissions, func(p permissions.Permission) bool { return p.Type == permissions.Application })
	revoked := app.Permissions[i]
	must(t, s.Directory.RevokeAppRole(s.Tenant, app.AppID, revoked.ResourceAppID, revoked.ID))
	res, err = mgr.Verify(ctx, id)
	must(t, err)
	got := res.Profile
	if got.Status != appprofile.Invalid || len(got.Reasons) == 0 || got.Reasons[0].Code != appprofile.ReasonGrantMissing {
		t.Fatalf("Verify after the revoke: %s %+v, want invalid with grant-missing", got.Status, got.Reasons)
	}
	if !slices.ContainsFunc(got.Reasons[0].Permissions, func(s string) bool { return strings.Contains(s, revoked.Value) }) {
		t.Errorf("grant-missing names %v, want %s", got.Reasons[0].Permissions, revoked.Value)
	}
}

// RedirectURI is the consent redirect URI of NewManager's Manager.
const RedirectURI = redirectURI

// NewManager returns a Manager over a fresh memstore with the catalog cat (its consent rules
// included), a state key and the redirect URI, quiet and with a short replication wait.
func NewManager(t *testing.T, cat *permissions.Catalog, drv consent.Driver, opts ...appprofile.Option) *appprofile.Manager {
	t.Helper()
	all := append([]appprofile.Option{
		appprofile.WithCatalog(appprofile.FromPermissions(cat)),
		appprofile.WithLogger(slog.New(slog.DiscardHandler)),
		appprofile.WithStateKey(bytes.Repeat([]byte{5}, 32)),
		appprofile.WithRedirectURI(redirectURI),
		appprofile.WithReplicationWait(time.Millisecond),
	}, opts...)
	mgr, err := appprofile.New(memstore.New(), drv, all...)
	must(t, err)
	return mgr
}

// GrantAll does in the directory what an administrator's consent to app does: provision its
// service principal in tenant and grant every permission row of the app type.
func GrantAll(t *testing.T, dir consenttest.Directory, tenant string, app permissions.AppType) {
	t.Helper()
	_, err := dir.CreateServicePrincipal(tenant, app.AppID)
	must(t, err)
	for _, p := range app.Permissions {
		if p.Type == permissions.Application {
			must(t, dir.GrantAppRole(tenant, app.AppID, p.ResourceAppID, p.ID))
		} else {
			must(t, dir.GrantDelegated(tenant, app.AppID, p.ResourceAppID, "", p.Value))
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
