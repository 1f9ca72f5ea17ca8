package permissions_test

import (
	"errors"
	"fmt"
	"os"

	"github.com/tenantapps/tenantapps/permissions"
)

func ExampleCatalog_AppTypesFor() {
	c := permissions.Default()
	for _, mode := range []permissions.Mode{permissions.ModeModern, permissions.ModeCustom} {
		apps, err := c.AppTypesFor("Baseline management", mode)
		if err != nil {
			fmt.Println(err)
			return
		}
		for _, a := range apps {
			fmt.Printf("%s: %s, %d permissions, shape %s\n", mode, a.Name, len(a.Permissions), a.Shape())
			for _, r := range a.DirectoryRoles {
				fmt.Println("  role:", r)
			}
		}
	}
	// Output:
	// modern: APElements Baseline Management, 51 permissions, shape hybrid
	//   role: Exchange Administrator (automatic-within-24h)
	//   role: Attribute Definition Reader (automatic-within-24h)
	//   role: Security Administrator (automatic-within-24h)
	// custom: Custom app for Baseline management, 51 permissions, shape hybrid
	//   role: Exchange Administrator (manual-before-authorization)
	//   role: Attribute Definition Reader (manual-before-authorization)
	//   role: Security Administrator (manual-before-authorization)
}

func ExampleCatalog_AppType() {
	c := permissions.Default()
	a, err := c.AppType("apelements azure security management")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(a.Name, "-", a.Shape())
	for _, p := range a.Permissions {
		fmt.Printf("  %s %s %s\n", p, p.ID, p.Description)
		if p.SeedValue != "" {
			fmt.Printf("    (the seed writes %q)\n", p.SeedValue)
		}
	}
	for _, r := range a.AzureRoles[:1] {
		fmt.Println("  azure:", r.Describe())
	}

	_, err = c.AppType("APElements Nothing")
	fmt.Println(errors.Is(err, permissions.ErrUnknownAppType))
	// Output:
	// APElements Azure Security Management - purebred
	//   user_impersonation (Azure Service Management, Delegated) 41094075-9dad-400e-a0bd-54e686782033 Access Azure Resource Manager as organization users
	//     (the seed writes "User_impersonation")
	//   User.Read.All (Microsoft Graph, Delegated) a154be20-db9c-4678-8ab7-66f6cc099a59 Read all users' full profiles
	//   azure: assign the Contributor role on each subscription to manage (after consent, before the profile is saved)
	// true
}

func ExampleAppType_Shape() {
	c := permissions.Default()
	for _, name := range []string{"APElements Automation", "APElements Security and Analysis", "APElements Azure Security Management", "Delegated App", "tyGraph Suite"} {
		a, _ := c.AppType(name)
		fmt.Printf("%s: %s (%s)\n", a.Name, a.Shape(), a.PermissionsState)
	}
	// Output:
	// APElements Automation: application-only (published)
	// APElements Security and Analysis: hybrid (published)
	// APElements Azure Security Management: purebred (published)
	// Delegated App: unknown (partial)
	// tyGraph Suite: unknown (unpublished)
}

func ExampleDiff() {
	old := permissions.Default()
	// Publish a new version in which Baseline also needs Policy.ReadWrite.DeviceConfiguration as
	// an Application permission (the catalog already knows its ID from another app type).
	sa, _ := old.AppType("APElements Security and Analysis")
	p, _ := sa.Permission(permissions.Key{
		ResourceAppID: "00000003-0000-0000-c000-000000000000",
		Type:          permissions.Application,
		Value:         "Policy.ReadWrite.DeviceConfiguration",
	})
	next, err := old.With("2026.12.01", permissions.AddPermission("APElements Baseline Management", p))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, c := range permissions.Diff(old, next) {
		fmt.Printf("%s (re-authorize: %v)\n", c, c.RequiresConsent())
	}
	// Output:
	// APElements Baseline Management gained Policy.ReadWrite.DeviceConfiguration (Microsoft Graph, Application) (re-authorize: true)
	// Custom app for Baseline management gained Policy.ReadWrite.DeviceConfiguration (Microsoft Graph, Application) (re-authorize: true)
}

func ExampleLoad() {
	_, err := permissions.Load([]byte(`{"version": "1", "services": [], "appTypes": [
	  {"name": "Mine", "family": "aos", "services": ["Backup"], "modes": ["modern"],
	   "permissionsState": "published", "permissions": [], "directoryRoles": [], "azureRoles": []}]}`))
	var ve *permissions.ValidationError
	if errors.As(err, &ve) {
		for _, p := range ve.Problems {
			fmt.Println(p)
		}
	}
	// Output:
	// appTypes[0] (Mine).services[0]: unknown service "Backup": add it to services first
	// appTypes[0] (Mine).consent: missing: say who may consent, e.g. {"admin": [{"rule": "admin/global-or-privileged-role-administrator"}]}
	// appTypes[0] (Mine).permissions: permissionsState is published but no permission is listed; use unpublished when the list is not known
}

func ExampleCatalog_LookupID() {
	// A tenant's appRoleAssignments name app roles by GUID; map them back to the catalog.
	c := permissions.Default()
	granted := []struct{ resourceAppID, appRoleID string }{
		{"00000003-0000-0ff1-ce00-000000000000", "678536fe-1083-478a-9c59-b99265e6b0d3"},
		{"00000002-0000-0ff1-ce00-000000000000", "DC50A0FB-09A3-484D-BE87-E023B12C6440"},
		{"00000003-0000-0000-c000-000000000000", "00000000-0000-0000-0000-000000000000"},
	}
	var keys []permissions.Key
	for _, g := range granted {
		p, ok := c.LookupID(g.resourceAppID, permissions.Application, g.appRoleID)
		if !ok {
			fmt.Println("not in the catalog:", g.appRoleID)
			continue
		}
		fmt.Println("granted:", p)
		keys = append(keys, p.Key())
	}
	nitro, _ := c.AppType("APElements Automation")
	fmt.Println("APElements Automation still lacks", len(nitro.Missing(keys)), "of", len(nitro.Permissions))
	// Output:
	// granted: Sites.FullControl.All (SharePoint, Application)
	// granted: Exchange.ManageAsApp (Office 365 Exchange Online, Application)
	// not in the catalog: 00000000-0000-0000-0000-000000000000
	// APElements Automation still lacks 15 of 16
}

// An MSP declares its own multi-tenant app in a catalog file of its own: family, service, mode,
// vendor app ID, permissions (IDs from Microsoft's export) and who may consent. Overlay lays it over
// the default catalog and validates both together.
func ExampleOverlay() {
	data, err := os.ReadFile("testdata/overlay/acme.json")
	if err != nil {
		fmt.Println(err)
		return
	}
	c, err := permissions.Overlay(permissions.Default(), permissions.OverlayFile{Name: "acme.json", Data: data})
	if err != nil {
		fmt.Println(err)
		return
	}
	a, _ := c.AppType("Acme MSP Automation")
	fmt.Println(c.Version() == permissions.Default().Version()+"+acme.1")
	fmt.Println(a.Family, a.Services, a.Shape(), len(a.Permissions), "permissions")
	for _, ref := range a.Consent.Admin {
		r, _ := c.ConsentRule(ref.Rule)
		fmt.Println("admin consent:", r.Summary)
	}
	fmt.Println("user consent:", a.UserConsent)

	// Every problem of every file is reported at once, with the file's name.
	_, err = permissions.Overlay(nil, permissions.OverlayFile{Name: "typo.json", Data: []byte(`{"version": "1",
	  "appTypes": [{"name": "Acme Typo", "family": "acme-msp", "services": ["Acme Backup"], "modes": ["modern"],
	  "creatable": true, "userConsent": false, "consent": {"admin": [{"rule": "acme/admin"}]},
	  "permissionsState": "unpublished", "permissions": [], "directoryRoles": [], "azureRoles": []}]}`)})
	var ve *permissions.ValidationError
	if errors.As(err, &ve) {
		for _, p := range ve.Problems {
			fmt.Println(p)
		}
	}
	// Output:
	// true
	// acme-msp [Acme Managed Backup] hybrid 3 permissions
	// admin consent: Acme MSP Automation is consented by the customer's Global Administrator.
	// user consent: true
	// typo.json: appTypes[0] (Acme Typo).services[0]: unknown service "Acme Backup": add it to services first
	// typo.json: appTypes[0] (Acme Typo).consent.admin[0].rule: unknown consent rule "acme/admin": define it in consentRules or use one of the catalog's
}
