package consenttest_test

import (
	"context"
	"fmt"

	"github.com/tenantapps/tenantapps/consent/consenttest"
)

// ExampleGrantConsent plays the administrator: one call does what consenting to an app type
// records in the tenant, another revokes one of its permissions.
func ExampleGrantConsent() {
	const tenant, app = "3f2a0d5e-8c1b-4a7e-9d3c-5b6a7c8d9e0f", "6e4c5b2a-1d3f-4e8a-9b7c-2d1e0f3a4b5c"
	f := consenttest.NewFake()
	_ = f.AddTenant(consenttest.Tenant{ID: tenant})
	_ = f.RegisterApp(consenttest.App{AppID: app})

	if err := consenttest.GrantConsent(f, tenant, app, nil, "APElements Automation"); err != nil {
		fmt.Println(err)
	}
	st, _ := f.AppState(context.Background(), tenant, app)
	fmt.Println(st.Exists, len(st.AppRoleGrants))

	_ = consenttest.RevokePermission(f, tenant, app, nil, "APElements Automation", "Group.Create")
	st, _ = f.AppState(context.Background(), tenant, app)
	fmt.Println(len(st.AppRoleGrants))
	// Output:
	// true 16
	// 15
}
