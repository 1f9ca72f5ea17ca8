package consent

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tenantapps/tenantapps/permissions"
)

// TestRulesMatchCatalog: the default rulebook knows exactly the catalog's app types with the same
// services and family, and every catalog app type gets a Methods answer that agrees with the
// catalog's UserConsent flag.
func TestRulesMatchCatalog(t *testing.T) {
	cat := permissions.Default()
	b := DefaultRulebook()
	if b.Catalog() != cat {
		t.Error("DefaultRulebook is not built from permissions.Default()")
	}
	for _, a := range b.apps {
		ca, err := cat.AppType(a.name)
		if err != nil {
			t.Errorf("app type %q of the consent rules: %v", a.name, err)
			continue
		}
		if diff := cmp.Diff(ca.Services, a.services); diff != "" {
			t.Errorf("services of %q mismatch (-catalog +rules):\n%s", a.name, diff)
		}
		if string(ca.Family) != a.family {
			t.Errorf("family of %q: catalog %q, rules %q", a.name, ca.Family, a.family)
		}
	}
	if got, want := len(cat.AppTypes()), len(b.apps); got != want {
		t.Errorf("catalog has %d app types, the consent rules %d", got, want)
	}
	// The seed's alias still resolves.
	if got, err := ServicesOf(appCustomDelegatedAlias); err != nil || len(got) != 9 {
		t.Errorf("alias %q: %v, %v", appCustomDelegatedAlias, got, err)
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
}

// TestVocabularyMatchesCatalog: the requirement kinds, licences and conditions a catalog may use
// are exactly those Evaluate knows how to check, so no catalog requirement is silently skipped.
func TestVocabularyMatchesCatalog(t *testing.T) {
	kinds := []RequirementKind{KindDirectoryRole, KindLicense, KindVivaEngageVerifiedAdmin, KindAdminConsentGranted,
		KindBackupFunctionsChosen, KindGroupOwner, KindOwnerOfChangedGroups}
	var got []RequirementKind
	for _, k := range permissions.ConsentRequirementKinds() {
		got = append(got, RequirementKind(k))
	}
	if diff := cmp.Diff(kinds, got); diff != "" {
		t.Errorf("requirement kinds (-consent +permissions):\n%s", diff)
	}
	if diff := cmp.Diff([]string{string(LicenseVivaEngage), string(LicensePowerBI)}, permissions.ConsentLicenses()); diff != "" {
		t.Errorf("licences (-consent +permissions):\n%s", diff)
	}
	conds := []string{string(WhenScanningPowerPlatform), string(WhenScanningPowerBI), string(WhenChangingGroupSettings)}
	if diff := cmp.Diff(conds, permissions.ConsentConditions()); diff != "" {
		t.Errorf("conditions (-consent +permissions):\n%s", diff)
	}
	for _, k := range kinds {
		if s := (Requirement{Kind: k, AnyOf: []RoleSet{gaOnly}, License: LicensePowerBI}).String(); s == "" || s[:7] == "unknown" {
			t.Errorf("kind %s has no sentence: %q", k, s)
		}
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
