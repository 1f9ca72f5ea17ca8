package integration_test

import (
	"testing"

	"github.com/tenantapps/tenantapps/appprofile"
	"github.com/tenantapps/tenantapps/consent/consenttest"
	"github.com/tenantapps/tenantapps/consent/graphtest"
	"github.com/tenantapps/tenantapps/internal/ownapptest"
)

// TestOwnAppTypeOverGraph: an app type of the embedder's own, loaded from a catalog file, goes
// Create → BeginConsent (its own consent rule) → CompleteConsent → Verify → Invalid after a revoke,
// read through MSAL and msgraph-sdk-go from the Entra/Graph emulator.
func TestOwnAppTypeOverGraph(t *testing.T) {
	w := newWorld(t, graphtest.Options{}, nil)
	tid := tenantN(7)
	must(t, w.srv.AddTenant(consenttest.Tenant{ID: tid, DisplayName: "Contoso"}))
	ownapptest.Run(t, ownapptest.Setup{Directory: w.srv, Driver: w.drv, Tenant: tid, HomeTenant: mspTenant,
		CatalogFile: "../../permissions/testdata/overlay/acme.json", AppType: "Acme MSP Automation",
		Options: []appprofile.Option{appprofile.WithAuthority(w.srv.URL)}})
}
