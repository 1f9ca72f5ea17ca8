package consenttest_test

import (
	"context"
	"errors"
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

// A delegated app's life in a test: the user consents, the code is redeemed, the token cache is
// proved later; after the consent user's password is reset the proof fails with ground truth
// (ErrInvalidGrant, AADSTS50173), not with a could-not-check error.
func ExampleFake_delegated() {
	const (
		customer = "3f2a0d5e-8c1b-4a7e-9d3c-5b6a7c8d9e0f"
		appID    = "6e4c5b2a-1d3f-4e8a-9b7c-2d1e0f3a4b5c"
		callback = "https://portal.example/consent/callback"
	)
	f := consenttest.NewFake()
	_ = f.AddTenant(consenttest.Tenant{ID: customer})
	_ = f.RegisterApp(consenttest.App{AppID: appID, DisplayName: "Delegated App", RedirectURIs: []string{callback}})
	userID, _ := f.AddUser(customer, consenttest.User{UserPrincipalName: "admin@contoso.example"})

	// What the browser does: the user signs in, consents and comes back with a code.
	verifier := "a-long-random-pkce-verifier-kept-server-side"
	code, _ := f.AuthorizeUser(consenttest.AuthorizeRequest{
		TenantID: customer, AppID: appID, UserID: userID, RedirectURI: callback,
		Scopes: []string{"offline_access", "https://graph.microsoft.com/User.Read"}, CodeChallenge: consenttest.PKCEChallenge(verifier),
	})

	ctx := context.Background()
	redeemed, err := f.RedeemCode(ctx, consent.CodeRedemption{TenantID: customer, AppID: appID, Code: code, RedirectURI: callback, PKCEVerifier: verifier})
	fmt.Println("consented by:", redeemed.UserPrincipalName, "scopes:", redeemed.Scopes, "err:", err)

	refresh := consent.DelegatedRefresh{TenantID: customer, AppID: appID, UserObjectID: redeemed.UserObjectID, TokenCache: redeemed.TokenCache}
	_, err = f.ProveDelegated(ctx, refresh)
	fmt.Println("proof before reset:", err)

	_ = f.ResetUserPassword(customer, userID)
	_, err = f.ProveDelegated(ctx, refresh)
	var de *consent.DriverError
	errors.As(err, &de)
	fmt.Println("proof after reset: invalid grant:", errors.Is(err, consent.ErrInvalidGrant), "code:", de.Code, "could not check:", consent.CouldNotCheck(err))
	// Output:
	// consented by: admin@contoso.example scopes: [User.Read] err: <nil>
	// proof before reset: <nil>
	// proof after reset: invalid grant: true code: AADSTS50173 could not check: false
}
