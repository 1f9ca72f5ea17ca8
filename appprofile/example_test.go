package appprofile_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/tenantapps/tenantapps/appprofile"
	"github.com/tenantapps/tenantapps/consent"
	"github.com/tenantapps/tenantapps/consent/consenttest"
	"github.com/tenantapps/tenantapps/permissions"
	"github.com/tenantapps/tenantapps/roles"
	"github.com/tenantapps/tenantapps/store/memstore"
)

// Example walks one profile through its lifecycle against the in-memory fake tenant directory:
// create, consent (proved by the tenant, not the callback), verify, and a tenant change that makes
// it Invalid with a typed reason.
func Example() {
	ctx := context.Background()
	now := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	const tenant, nitro = "6f1e2d3c-1111-4a5b-9c8d-000000000001", "a1b2c3d4-0000-4000-8000-0000000017a0"

	dir := consenttest.NewFake(consenttest.WithClock(clock))
	dir.AddTenant(consenttest.Tenant{ID: tenant})
	dir.RegisterApp(consenttest.App{AppID: nitro})

	m, err := appprofile.New(memstore.New(memstore.WithClock(clock)), dir,
		appprofile.WithClock(clock),
		appprofile.WithLogger(slog.New(slog.DiscardHandler)),
		appprofile.WithStateKey(bytes.Repeat([]byte{1}, 32)), // use 32 random bytes
		appprofile.WithRedirectURI("https://portal.example/consent/callback"),
		appprofile.WithVendorAppIDs(map[string]string{"APElements Automation": nitro}))
	if err != nil {
		panic(err)
	}
	ps, _ := m.Create(ctx, appprofile.CreateRequest{Customer: "contoso", Tenant: tenant, Services: []string{"Nitro"}})
	fmt.Println(ps[0].AppType, ps[0].Status)

	admin := appprofile.Consenter{UserID: "admin", Consenter: consent.Consenter{Roles: []roles.TemplateID{roles.GlobalAdministrator}}}
	start, err := m.BeginConsent(ctx, ps[0].ID, appprofile.BeginConsentRequest{Consenter: admin})
	if err != nil {
		fmt.Println(err)
	}

	// The administrator consents in Entra ID (here: the fake directory records the grants).
	if err := consenttest.GrantConsent(dir, tenant, nitro, permissions.Default(), "APElements Automation"); err != nil {
		fmt.Println(err)
	}
	p, err := m.CompleteConsent(ctx, appprofile.Callback{State: start.State, Tenant: tenant, AdminConsent: "True"})
	if err != nil {
		fmt.Println(err)
	}
	fmt.Println(p.Status)

	dir.SetServicePrincipalEnabled(tenant, nitro, false)
	res, err := m.Verify(ctx, p.ID)
	if err != nil {
		fmt.Println(err)
	}
	for _, r := range res.Profile.Reasons {
		fmt.Println(res.Profile.Status, r.Code, "fixed by re-authorization:", r.FixedByReauthorization)
	}
	// Output:
	// APElements Automation pending
	// valid
	// invalid service-principal-disabled fixed by re-authorization: false
}

// ExampleProfile_HasReason is a portal-style test of a revoked grant: the administrator
// consents (consenttest.GrantConsent), later revokes one permission
// (consenttest.RevokePermission), and Verify reports it as a typed reason, found with HasReason
// and Reason instead of a loop over Reasons.
func ExampleProfile_HasReason() {
	ctx := context.Background()
	const tenant, nitro = "6f1e2d3c-1111-4a5b-9c8d-000000000001", "a1b2c3d4-0000-4000-8000-0000000017a0"
	dir := consenttest.NewFake()
	dir.AddTenant(consenttest.Tenant{ID: tenant})
	dir.RegisterApp(consenttest.App{AppID: nitro})
	m, err := appprofile.New(memstore.New(), dir,
		appprofile.WithStateKey(bytes.Repeat([]byte{1}, 32)), // use 32 random bytes
		appprofile.WithRedirectURI("https://portal.example/consent/callback"),
		appprofile.WithVendorAppIDs(map[string]string{"APElements Automation": nitro}))
	if err != nil {
		panic(err)
	}
	ps, err := m.Create(ctx, appprofile.CreateRequest{Customer: "contoso", Tenant: tenant, Services: []string{"Nitro"}})
	if err != nil {
		panic(err)
	}
	admin := appprofile.Consenter{UserID: "admin", Consenter: consent.Consenter{Roles: []roles.TemplateID{roles.GlobalAdministrator}}}
	start, err := m.BeginConsent(ctx, ps[0].ID, appprofile.BeginConsentRequest{Consenter: admin})
	if err != nil {
		panic(err)
	}
	cat := permissions.Default()
	if err := consenttest.GrantConsent(dir, tenant, nitro, cat, "APElements Automation"); err != nil {
		panic(err)
	}
	if _, err := m.CompleteConsent(ctx, appprofile.Callback{State: start.State, Tenant: tenant, AdminConsent: "True"}); err != nil {
		panic(err)
	}

	if err := consenttest.RevokePermission(dir, tenant, nitro, cat, "APElements Automation", "Group.Create"); err != nil {
		panic(err)
	}
	res, err := m.Verify(ctx, ps[0].ID)
	if err != nil {
		panic(err)
	}
	p := res.Profile
	r, _ := p.Reason(appprofile.ReasonGrantMissing)
	fmt.Println(p.Status, p.HasReason(appprofile.ReasonGrantMissing), r.Permissions)
	// Output:
	// invalid true [Microsoft Graph Group.Create (Application)]
}

// ExampleNormalizeTenantID: a tenant is its tenant ID in lower case; a domain name is refused
// with what to enter instead.
func ExampleNormalizeTenantID() {
	id, err := appprofile.NormalizeTenantID(" 6F1E2D3C-1111-4A5B-9C8D-000000000001 ")
	fmt.Println(id, err)
	_, err = appprofile.NormalizeTenantID("contoso.onmicrosoft.com")
	fmt.Println(errors.Is(err, appprofile.ErrInvalidTenantID))
	fmt.Println(err)
	// Output:
	// 6f1e2d3c-1111-4a5b-9c8d-000000000001 <nil>
	// true
	// appprofile: "contoso.onmicrosoft.com" is a domain name, not a tenant ID; copy the Tenant ID from the Microsoft Entra admin center (Entra ID > Overview > Properties > Tenant ID), a GUID such as 6f1c3a52-8d4e-4b7a-a1c9-2e5f7b9d0c13
}
