package demo

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tenantapps/tenantapps/appprofile"
	"github.com/tenantapps/tenantapps/permissions"
)

func TestCatalogPublish(t *testing.T) {
	cat := NewCatalog(nil)
	v1 := cat.Version()
	env := &Env{Catalog: cat, requested: map[string][]appprofile.Permission{}}
	change, err := env.PublishExtraPermission("APElements Automation")
	if err != nil {
		t.Fatal(err)
	}
	if cat.Version() == v1 || !strings.Contains(change, "APElements Automation gained") {
		t.Fatalf("after publishing: version %q, change %q", cat.Version(), change)
	}
	added, err := cat.AddedSince("APElements Automation", v1)
	if err != nil {
		t.Fatal(err)
	}
	if len(added) != 1 || added[0].Kind != appprofile.Application || !strings.Contains(change, added[0].Value) {
		t.Errorf("AddedSince = %+v, want the one published permission (%s)", added, change)
	}
	if other, err := cat.AddedSince("APElements Baseline Management", v1); err != nil || len(other) != 0 {
		t.Errorf("another app type gained %v (err %v)", other, err)
	}
	if err := cat.Publish(permissions.Default()); err == nil {
		t.Error("publishing an existing version again was accepted")
	}
	if _, err := cat.AddedSince("APElements Automation", "no-such-version"); err == nil {
		t.Error("an unknown version was accepted")
	}
}

// TestFakeLifecycle checks the demo's consent playing on the Fake: admin consent grants what the
// app type asks for; the tenant changes the helpers make show up in the driver's ground truth.
func TestFakeLifecycle(t *testing.T) {
	ctx := context.Background()
	be, env, err := Start(ctx, "https://portal.example/cb", StartOptions{Fake: true})
	if err != nil {
		t.Fatal(err)
	}
	defer be.Close()
	appID := env.VendorAppIDs["APElements Automation"]
	if appID != VendorAppID("APElements Automation") {
		t.Fatalf("vendor app ID %q is not the stable one", appID)
	}
	u := "https://login.microsoftonline.com/" + CustomerTenantID + "/v2.0/adminconsent?client_id=" + appID + "&state=s1&redirect_uri=https://portal.example/cb"
	cb, err := env.PlayConsent(ctx, u, AdminUPN)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(appprofile.Callback{State: "s1", Tenant: CustomerTenantID, AdminConsent: "True", RemoteIP: "127.0.0.1"}, cb); diff != "" {
		t.Errorf("callback (-want +got):\n%s", diff)
	}
	st, err := be.Driver.AppState(ctx, CustomerTenantID, appID)
	if err != nil {
		t.Fatal(err)
	}
	spec, _ := env.Spec("APElements Automation")
	if !st.Exists || len(st.AppRoleGrants) != len(spec.Permissions) {
		t.Fatalf("after admin consent: exists %v, %d grants, want %d", st.Exists, len(st.AppRoleGrants), len(spec.Permissions))
	}
	name, err := env.RevokeOneGrant(appprofile.Profile{Tenant: CustomerTenantID, AppID: appID})
	if err != nil || !strings.Contains(name, "(Application)") {
		t.Fatalf("RevokeOneGrant = %q, %v", name, err)
	}
	if st, _ = be.Driver.AppState(ctx, CustomerTenantID, appID); len(st.AppRoleGrants) != len(spec.Permissions)-1 {
		t.Errorf("after the revocation: %d grants", len(st.AppRoleGrants))
	}
	if _, err := env.PlayConsent(ctx, u, "nobody@contoso.example"); err == nil {
		t.Error("consent as an unknown user was accepted")
	}
	if err := env.ResetPassword("nobody@contoso.example"); err == nil {
		t.Error("resetting an unknown user's password was accepted")
	}
}
