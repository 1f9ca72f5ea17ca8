package appprofile_test

import (
	"testing"

	"github.com/tenantapps/tenantapps/consent/consenttest"
	"github.com/tenantapps/tenantapps/internal/ownapptest"
)

// TestOwnAppTypeFromJSONFile: an app type of the embedder's own, loaded from a catalog file, goes
// Create → BeginConsent (its own consent rule) → CompleteConsent → Verify → Invalid after a revoke,
// against the consenttest fake. internal/integration runs the same steps against the emulator
// with the real Graph driver.
func TestOwnAppTypeFromJSONFile(t *testing.T) {
	fake := consenttest.NewFake()
	must(t, fake.AddTenant(consenttest.Tenant{ID: tenantID, DisplayName: "Contoso"}))
	ownapptest.Run(t, ownapptest.Setup{Directory: fake, Driver: fake, Tenant: tenantID,
		CatalogFile: "../permissions/testdata/overlay/acme.json", AppType: "Acme MSP Automation"})
}
