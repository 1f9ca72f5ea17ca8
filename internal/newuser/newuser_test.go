package newuser_test

import (
	"bytes"
	"context"
	"errors"
	"log"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tenantapps/tenantapps/appprofile"
	"github.com/tenantapps/tenantapps/consent"
	"github.com/tenantapps/tenantapps/consent/consenttest"
	"github.com/tenantapps/tenantapps/roles"
	"github.com/tenantapps/tenantapps/store"
	"github.com/tenantapps/tenantapps/store/sqlite"
)

const (
	tenant  = "6f1e2d3c-1111-4a5b-9c8d-000000000001"
	nitroID = "a1b2c3d4-0000-4000-8000-0000000017a0"
)

func setUp(t *testing.T) (*appprofile.Manager, *consenttest.Fake) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "profiles.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	fake := consenttest.NewFake()
	if err := fake.AddTenant(consenttest.Tenant{ID: tenant}); err != nil {
		t.Fatal(err)
	}
	if err := fake.RegisterApp(consenttest.App{AppID: nitroID, RedirectURIs: []string{"https://portal.example/cb"}}); err != nil {
		t.Fatal(err)
	}
	m, err := appprofile.New(st, fake,
		appprofile.WithStateKey(bytes.Repeat([]byte{7}, 32)),
		appprofile.WithRedirectURI("https://portal.example/cb"),
		appprofile.WithVendorAppIDs(map[string]string{"APElements Automation": nitroID}))
	if err != nil {
		t.Fatal(err)
	}
	return m, fake
}

func TestJunkTenantsRefused(t *testing.T) {
	m, _ := setUp(t)
	for _, junk := range []string{"not a tenant at all", "contoso.onmicrosoft.com"} {
		_, err := m.Create(context.Background(), appprofile.CreateRequest{Customer: "c", Tenant: junk, Services: []string{"Nitro"}})
		if !errors.Is(err, appprofile.ErrInvalidTenantID) || !strings.Contains(err.Error(), "Tenant ID") {
			t.Errorf("Create(%q) = %v", junk, err)
		}
	}
}

func TestCaseVariantsAreOneTenant(t *testing.T) {
	m, _ := setUp(t)
	ctx := context.Background()
	if _, err := m.Create(ctx, appprofile.CreateRequest{Customer: "c", Tenant: strings.ToUpper(tenant), Services: []string{"Nitro"}}); err != nil {
		t.Fatal(err)
	}
	_, err := m.Create(ctx, appprofile.CreateRequest{Customer: "c", Tenant: tenant, Services: []string{"Nitro"}})
	if !errors.Is(err, appprofile.ErrDuplicate) {
		t.Errorf("second profile for the lower-case spelling: %v", err)
	}
	ps, _, err := m.List(ctx, store.Filter{Tenant: strings.ToUpper(tenant)}, store.Page{})
	if err != nil || len(ps) != 1 {
		t.Errorf("List by upper-case tenant: %d, %v", len(ps), err)
	}
}

// TestNoLogsWithoutLogger swaps the process's default logger: it must not run in parallel.
func TestNoLogsWithoutLogger(t *testing.T) {
	var buf bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	defer slog.SetDefault(prev)
	defer log.SetFlags(log.Flags())
	revokedGrantHarness(t)
	if buf.Len() > 0 {
		t.Errorf("logged without WithLogger:\n%s", buf.String())
	}
}

func TestRevokedGrant(t *testing.T) { revokedGrantHarness(t) }

// revokedGrantHarness is a portal-style test: the administrator consents, later revokes one
// permission in the tenant, and Verify reports the profile Invalid with a grant-missing reason.
func revokedGrantHarness(t *testing.T) {
	t.Helper()
	m, fake := setUp(t)
	ctx := context.Background()
	ps, err := m.Create(ctx, appprofile.CreateRequest{Customer: "c", Tenant: tenant, Services: []string{"Nitro"}})
	if err != nil {
		t.Fatal(err)
	}
	admin := appprofile.Consenter{UserID: "admin", Consenter: consent.Consenter{Roles: []roles.TemplateID{roles.GlobalAdministrator}}}
	start, err := m.BeginConsent(ctx, ps[0].ID, appprofile.BeginConsentRequest{Consenter: admin})
	if err != nil {
		t.Fatal(err)
	}
	if err := consenttest.GrantConsent(fake, tenant, nitroID, nil, "APElements Automation"); err != nil {
		t.Fatal(err)
	}
	p, err := m.CompleteConsent(ctx, appprofile.Callback{State: start.State, Tenant: tenant, AdminConsent: "True"})
	if err != nil || p.Status != appprofile.Valid {
		t.Fatalf("consent: %v %v", p.Status, err)
	}
	if err := consenttest.RevokePermission(fake, tenant, nitroID, nil, "APElements Automation", "Group.Create"); err != nil {
		t.Fatal(err)
	}
	res, err := m.Verify(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	r, ok := res.Profile.Reason(appprofile.ReasonGrantMissing)
	if res.Profile.Status != appprofile.Invalid || !ok || !res.Profile.HasReason(appprofile.ReasonGrantMissing) || len(r.Permissions) != 1 {
		t.Errorf("after the revocation: %s %+v", res.Profile.Status, res.Profile.Reasons)
	}
}
