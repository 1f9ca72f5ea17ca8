package roles

import (
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var guidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

func TestDirectoryRolesWellFormed(t *testing.T) {
	seenID := map[TemplateID]string{}
	seenName := map[string]string{}
	for _, r := range DirectoryRoles() {
		if !guidRE.MatchString(string(r.TemplateID)) {
			t.Errorf("%s: template ID %q is not a lower-case GUID", r.Name, r.TemplateID)
		}
		if prev, dup := seenID[r.TemplateID]; dup {
			t.Errorf("template ID %s used by %q and %q", r.TemplateID, prev, r.Name)
		}
		seenID[r.TemplateID] = r.Name
		for _, n := range append([]string{r.Name}, r.Aliases...) {
			if prev, dup := seenName[normalize(n)]; dup {
				t.Errorf("name %q used by %q and %q", n, prev, r.Name)
			}
			seenName[normalize(n)] = r.Name
		}
	}
}

// TestSeedRoles pins every role the product documents name to its published template ID.
func TestSeedRoles(t *testing.T) {
	for _, tc := range []struct {
		seedName string
		want     TemplateID
	}{
		{"Global Administrator", "62e90394-69f5-4237-9190-012177145e10"},
		{"Microsoft 365 Global Administrator", "62e90394-69f5-4237-9190-012177145e10"},
		{"Privileged Role Administrator", "e8611ab8-c189-46e8-94e1-60213ab1f814"},
		{"Exchange Administrator", "29232cdf-9323-42fd-ade2-1d097af3e4de"},
		{"Attribute Definition Reader", "1d336d2c-4ae8-42ef-9711-b3604ce3fc2c"},
		{"Security Administrator", "194ae4cb-b126-40b2-bd5b-6091b380977d"},
		{"Groups Administrator", "fdd7a751-b60b-444a-984c-02652fe8fa1c"},
		{"Power Platform Administrator", "11648597-926c-4cf3-9c36-bcebb0ba8dcc"},
		{"Fabric Administrator", "a9ea8996-122f-4c74-9520-8edcd192826c"},
		{"Engage Administrator", "810a2642-a034-447f-a5e8-41beaa378541"},
		{"Yammer Administrator", "810a2642-a034-447f-a5e8-41beaa378541"},
		{"Microsoft 365 Backup Administrator", "1707125e-0aa2-4d4d-8655-a7c786c76a25"},
		{"Teams Service admin", "69091246-20e8-4a56-aa4d-066075b2a7a8"},
		{"teams   SERVICE administrator ", "69091246-20e8-4a56-aa4d-066075b2a7a8"},
		{"29232CDF-9323-42FD-ADE2-1D097AF3E4DE", "29232cdf-9323-42fd-ade2-1d097af3e4de"},
	} {
		r, ok := LookupDirectoryRole(tc.seedName)
		if !ok {
			t.Errorf("LookupDirectoryRole(%q) found nothing", tc.seedName)
			continue
		}
		if r.TemplateID != tc.want {
			t.Errorf("LookupDirectoryRole(%q) = %s, want %s", tc.seedName, r.TemplateID, tc.want)
		}
	}
	for _, miss := range []string{"", "  ", "Verified Admin", "Owner"} {
		if r, ok := LookupDirectoryRole(miss); ok {
			t.Errorf("LookupDirectoryRole(%q) = %v, want not found", miss, r)
		}
	}
}

func TestDirectoryRolesIsACopy(t *testing.T) {
	a := DirectoryRoles()
	a[0].Name = "changed"
	a[0].Aliases[0] = "changed"
	if b := DirectoryRoles(); b[0].Name == "changed" || b[0].Aliases[0] == "changed" {
		t.Fatal("DirectoryRoles returned shared state")
	}
}

func TestAzureRequirementFor(t *testing.T) {
	reqs := AzureSecurityManagementRequirements()
	for _, tc := range []struct {
		resource  AzureResource
		condition AzureCondition
		want      []AzureRequirement
	}{
		{Subscription, "", []AzureRequirement{{Resource: Subscription, Grant: RoleAssignment, Role: Contributor, Timing: AfterConsentBeforeSave}}},
		{AKSCluster, AKSEntraKubernetesRBAC, []AzureRequirement{{Resource: AKSCluster, Condition: AKSEntraKubernetesRBAC, Grant: ClusterAdminGroup, Timing: AfterConsentBeforeSave}}},
		{AKSCluster, AKSEntraAzureRBAC, []AzureRequirement{{Resource: AKSCluster, Condition: AKSEntraAzureRBAC, Grant: RoleAssignment, Role: AzureKubernetesServiceRBACClusterAdmin, Timing: AfterConsentBeforeSave}}},
		{KeyVault, KeyVaultAzureRBAC, []AzureRequirement{{Resource: KeyVault, Condition: KeyVaultAzureRBAC, Grant: RoleAssignment, Role: KeyVaultAdministrator, Timing: AfterConsentBeforeSave}}},
		{KeyVault, KeyVaultAccessPolicy, []AzureRequirement{{Resource: KeyVault, Condition: KeyVaultAccessPolicy, Grant: AccessPolicy, Permissions: []string{"keys/get", "keys/list", "secrets/get", "secrets/list"}, Timing: AfterConsentBeforeSave}}},
	} {
		got, err := AzureRequirementFor(reqs, tc.resource, tc.condition)
		if err != nil {
			t.Errorf("AzureRequirementFor(%s, %q): %v", tc.resource, tc.condition, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("AzureRequirementFor(%s, %q) mismatch (-want +got):\n%s", tc.resource, tc.condition, diff)
		}
	}
	if _, err := AzureRequirementFor(reqs, KeyVault, AKSEntraAzureRBAC); err == nil {
		t.Error("AzureRequirementFor(key vault, AKS condition) succeeded, want an error naming the valid conditions")
	}
	for _, r := range reqs {
		if r.Role != "" && !guidRE.MatchString(string(r.Role)) {
			t.Errorf("%s: %q is not a GUID", r.Describe(), r.Role)
		}
		if r.Role != "" && r.Role.Name() == string(r.Role) {
			t.Errorf("Azure role %s has no name", r.Role)
		}
	}
}

func TestAssignment(t *testing.T) {
	for _, tc := range []struct {
		a             Assignment
		valid, manual bool
	}{
		{AutomaticWithin24h, true, false},
		{ManualBeforeAuthorization, true, true},
		{ManualAfterAuthorization, true, true},
		{"sometime", false, false},
	} {
		if tc.a.Valid() != tc.valid || tc.a.Manual() != tc.manual {
			t.Errorf("%q: Valid=%v Manual=%v, want %v %v", tc.a, tc.a.Valid(), tc.a.Manual(), tc.valid, tc.manual)
		}
	}
}

func FuzzLookupDirectoryRole(f *testing.F) {
	for _, r := range DirectoryRoles() {
		f.Add(r.Name)
		f.Add(string(r.TemplateID))
	}
	f.Add("\x00\xff  ")
	f.Fuzz(func(t *testing.T, s string) {
		r, ok := LookupDirectoryRole(s)
		if !ok {
			return
		}
		// Whatever matched must be found again by its own name and template ID.
		if again, ok := LookupDirectoryRole(r.Name); !ok || again.TemplateID != r.TemplateID {
			t.Fatalf("role %q found by %q is not found by its name", r.Name, s)
		}
		if again, ok := LookupDirectoryRole(string(r.TemplateID)); !ok || again.Name != r.Name {
			t.Fatalf("role %q found by %q is not found by its template ID", r.Name, s)
		}
	})
}

func TestDirectoryRequirementAppliesTo(t *testing.T) {
	always := DirectoryRequirement{Role: ExchangeAdministrator, Assignment: AutomaticWithin24h}
	exo := DirectoryRequirement{Role: ExchangeAdministrator, Assignment: ManualAfterAuthorization, Condition: ManagesExchange}
	for _, tc := range []struct {
		r    DirectoryRequirement
		uses []Condition
		want bool
	}{
		{always, nil, true},
		{exo, nil, false},
		{exo, []Condition{ManagesExchange}, true},
		{exo, []Condition{"other"}, false},
	} {
		if got := tc.r.AppliesTo(tc.uses...); got != tc.want {
			t.Errorf("%v.AppliesTo(%v) = %v, want %v", tc.r, tc.uses, got, tc.want)
		}
	}
	if got, want := exo.String(), "Exchange Administrator (manual-after-authorization, when manages-exchange)"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}
