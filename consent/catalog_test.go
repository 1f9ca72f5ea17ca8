package consent

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tenantapps/tenantapps/permissions"
)

// TestRulesMatchCatalog: every app type and service the consent rules name exists in the catalog
// with the same services and family, and every catalog app type gets a Methods answer that agrees
// with the catalog's UserConsent flag.
func TestRulesMatchCatalog(t *testing.T) {
	cat := permissions.Default()
	for _, a := range appTypeTable {
		ca, err := cat.AppType(a.name)
		if err != nil {
			t.Errorf("app type %q of the consent rules: %v", a.name, err)
			continue
		}
		if ca.Name != a.name {
			t.Errorf("app type %q is %q in the catalog", a.name, ca.Name)
		}
		if diff := cmp.Diff(ca.Services, a.services); diff != "" {
			t.Errorf("services of %q mismatch (-catalog +rules):\n%s", a.name, diff)
		}
		if string(ca.Family) != string(a.family) {
			t.Errorf("family of %q: catalog %q, rules %q", a.name, ca.Family, a.family)
		}
		for _, alias := range a.aliases {
			if c, err := cat.AppType(alias); err != nil || c.Name != a.name {
				t.Errorf("alias %q: catalog finds %q, %v", alias, c.Name, err)
			}
		}
		for _, s := range a.services {
			if cs, err := cat.Service(s); err != nil || cs.Name != s {
				t.Errorf("service %q of %q: catalog finds %q, %v", s, a.name, cs.Name, err)
			}
		}
	}
	for _, ca := range cat.AppTypes() {
		methods, err := Methods(ca.Name)
		if err != nil {
			t.Errorf("catalog app type %q has no consent rules: %v", ca.Name, err)
			continue
		}
		user := len(methods) == 2 && methods[1] == UserConsent
		if user != ca.UserConsent {
			t.Errorf("%q: catalog UserConsent=%t, Methods=%v", ca.Name, ca.UserConsent, methods)
		}
		if len(ca.Functions) > 0 {
			var names []string
			for _, f := range BackupFunctions() {
				names = append(names, f.Name())
			}
			if diff := cmp.Diff(ca.Functions, names); diff != "" {
				t.Errorf("functions of %q mismatch (-catalog +rules):\n%s", ca.Name, diff)
			}
		}
	}
	if got, want := len(cat.AppTypes()), len(appTypeTable); got != want {
		t.Errorf("catalog has %d app types, the consent rules %d", got, want)
	}
}

// TestUserConsentTableMatchesCatalog: the Entra app names of the seed's table agree with the
// catalog's.
func TestUserConsentTableMatchesCatalog(t *testing.T) {
	cat := permissions.Default()
	for _, row := range UserConsentTable() {
		ca, err := cat.AppType(row.AppType)
		if err != nil {
			t.Errorf("%q: %v", row.AppType, err)
			continue
		}
		if ca.EntraAppName != row.EntraAppName {
			t.Errorf("%q: Entra app name catalog %q, table %q", row.AppType, ca.EntraAppName, row.EntraAppName)
		}
	}
}
