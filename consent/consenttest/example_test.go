package consenttest_test

import (
	"context"
	"fmt"
	"time"

	"github.com/tenantapps/tenantapps/consent"
	"github.com/tenantapps/tenantapps/consent/consenttest"
	"github.com/tenantapps/tenantapps/roles"
)

// A test sets up a customer tenant where a vendor app was consented, reads it through the
// driver interface, then makes the tenant throttle.
func ExampleFake() {
	const (
		customer = "3f2a0d5e-8c1b-4a7e-9d3c-5b6a7c8d9e0f"
		vendor   = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
		appID    = "6e4c5b2a-1d3f-4e8a-9b7c-2d1e0f3a4b5c"
		userRead = "df021288-bdef-4463-88db-98f22de89214" // Microsoft Graph User.Read.All
	)
	f := consenttest.NewFake()
	_ = f.AddTenant(consenttest.Tenant{ID: vendor, DisplayName: "Vendor"})
	_ = f.AddTenant(consenttest.Tenant{ID: customer, DisplayName: "Contoso"})
	_ = f.RegisterApp(consenttest.App{AppID: appID, HomeTenantID: vendor, DisplayName: "Backup"})
	_, _ = f.CreateServicePrincipal(customer, appID) // what admin consent does
	_ = f.GrantAppRole(customer, appID, consent.MicrosoftGraphAppID, userRead)
	_ = f.AssignAppDirectoryRole(customer, appID, roles.ExchangeAdministrator)

	var drv consent.Driver = f // what the code under test receives
	ctx := context.Background()
	st, err := drv.AppState(ctx, customer, appID)
	fmt.Println("exists:", st.Exists, "err:", err)
	fmt.Println("User.Read.All granted:", st.HasAppRole(consent.MicrosoftGraphAppID, userRead))
	fmt.Println("Exchange Administrator:", st.HasDirectoryRole(roles.ExchangeAdministrator))

	// An admin revokes the permission: the next read says so.
	_ = f.RevokeAppRole(customer, appID, consent.MicrosoftGraphAppID, userRead)
	st, _ = drv.AppState(ctx, customer, appID)
	fmt.Println("after revoke, User.Read.All granted:", st.HasAppRole(consent.MicrosoftGraphAppID, userRead))

	// Graph throttles: an error that says nothing about the grants.
	f.OnCall(consenttest.MethodAppState, consenttest.Throttle(2*time.Second))
	_, err = drv.AppState(ctx, customer, appID)
	wait, _ := consent.RetryAfter(err)
	fmt.Println("could not check:", consent.CouldNotCheck(err), "retry after:", wait)

	fmt.Println("driver calls:", f.CountActions(consenttest.MethodAppState))
	// Output:
	// exists: true err: <nil>
	// User.Read.All granted: true
	// Exchange Administrator: true
	// after revoke, User.Read.All granted: false
	// could not check: true retry after: 2s
	// driver calls: 3
}
