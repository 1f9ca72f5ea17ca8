package permissions

import (
	"encoding/json"
	"errors"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzLoad: Load never panics; it either fails with ErrInvalidCatalog or returns a catalog
// whose export loads back to the same catalog.
func FuzzLoad(f *testing.F) {
	f.Add(DefaultJSON())
	f.Add([]byte(`{"version":"1","sources":[],"services":[{"name":"S","family":"aos","creatable":true}],"appTypes":[{"name":"A","family":"aos","services":["S"],"modes":["custom"],"creatable":false,"userConsent":true,"permissionsState":"unpublished","permissions":[],"directoryRoles":[],"azureRoles":[]}]}`))
	f.Add([]byte(`{"version":"1","services":[{"name":"S","family":"aos"}],"appTypes":[{"name":"B","family":"aos","services":["s"],"modes":["modern","modern"],"permissionsState":"published","permissionsFrom":"B","permissions":[{"resource":"R","resourceAppId":"00000000-0000-0000-0000-000000000000","value":"v","id":"00000000-0000-0000-0000-000000000001","type":"Delegated","description":"d"}]}]}`))
	f.Add([]byte(`{"version":"1","consentRules":[{"id":"r","methods":["admin","user"],"summary":"s","source":"x","requirements":[{"kind":"directory-role","anyOf":[["62e90394-69f5-4237-9190-012177145e10"]]}]}],"services":[{"name":"S","family":"mine","creatable":true}],"appTypes":[{"name":"A","family":"mine","services":["S"],"modes":["modern"],"creatable":true,"userConsent":true,"consent":{"admin":[{"rule":"r"}],"user":[{"rule":"r","services":["S"]}]},"permissionsState":"unpublished","pagesSearched":["p"],"permissions":[],"directoryRoles":[],"azureRoles":[]}]}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"appTypes":[null,{"directoryRoles":[{}],"azureRoles":[{"grant":"role-assignment"}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Load(data)
		if err != nil {
			if !errors.Is(err, ErrInvalidCatalog) {
				t.Fatalf("Load error %v does not wrap ErrInvalidCatalog", err)
			}
			return
		}
		checkRoundTrip(t, c)
	})
}

// checkRoundTrip: the export of a valid catalog loads back to the same catalog.
func checkRoundTrip(t *testing.T, c *Catalog) {
	t.Helper()
	out, err := json.Marshal(c)
	if err != nil {
		t.Fatalf("MarshalJSON: %v", err)
	}
	back, err := Load(out)
	if err != nil {
		t.Fatalf("export of a valid catalog does not load: %v\n%s", err, out)
	}
	if diff := cmp.Diff(view(c), view(back)); diff != "" {
		t.Fatalf("round trip mismatch (-loaded +reloaded):\n%s", diff)
	}
	if d := Diff(c, back); len(d) != 0 {
		t.Fatalf("Diff after round trip = %v", d)
	}
}

// FuzzOverlay: Overlay never panics; an embedder's file either fails with ErrInvalidCatalog or
// yields a catalog whose export loads back unchanged.
func FuzzOverlay(f *testing.F) {
	acme, err := os.ReadFile("testdata/overlay/acme.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(acme)
	f.Add([]byte(`{"version":"1"}`))
	f.Add([]byte(`{"version":"1","appTypes":[{"name":"MyHub","family":"x","services":["MyHub"],"modes":["modern"],"consent":{"admin":[{"rule":"admin/global-or-privileged-role-administrator"}]},"permissionsState":"unpublished","permissions":[],"directoryRoles":[],"azureRoles":[]}]}`))
	// A small base keeps each run fast; the overlay logic does not depend on the base's size.
	base, err := Default().Subset("MyHub", "Fly App")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Overlay(base, OverlayFile{Name: "f.json", Data: data})
		if err != nil {
			if !errors.Is(err, ErrInvalidCatalog) {
				t.Fatalf("Overlay error %v does not wrap ErrInvalidCatalog", err)
			}
			return
		}
		checkRoundTrip(t, c)
	})
}
