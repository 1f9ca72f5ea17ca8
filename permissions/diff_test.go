package permissions

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tenantapps/tenantapps/roles"
)

const graphAppID = "00000003-0000-0000-c000-000000000000"

// deviceConfigApp is Microsoft Graph Policy.ReadWrite.DeviceConfiguration as an Application
// permission, taken from APElements Security and Analysis; Baseline requests it only as
// Delegated, so adding it to Baseline is a real change.
var deviceConfigApp = func() Permission {
	c, err := defaultCatalog()
	if err != nil {
		return Permission{}
	}
	a, _ := c.AppType("APElements Security and Analysis")
	p, _ := a.Permission(Key{graphAppID, Application, "Policy.ReadWrite.DeviceConfiguration"})
	return p
}()

func TestDiff(t *testing.T) {
	base := mustDefault(t)
	groupCreate := Key{graphAppID, Application, "Group.Create"}
	gc, _ := mustAppType(t, base, "APElements Automation").Permission(groupCreate)
	teamsAdmin := roles.DirectoryRequirement{Role: roles.TeamsAdministrator, Assignment: roles.ManualAfterAuthorization}
	for _, tc := range []struct {
		name  string
		edits []Edit
		want  []Change
	}{
		{"nothing", nil, nil},
		{"permission added to modern Baseline reaches the custom app too",
			[]Edit{AddPermission("APElements Baseline Management", deviceConfigApp)},
			[]Change{
				{Kind: PermissionAdded, AppType: "APElements Baseline Management", Permission: deviceConfigApp},
				{Kind: PermissionAdded, AppType: "Custom app for Baseline management", Permission: deviceConfigApp},
			}},
		{"permission removed and role added",
			[]Edit{RemovePermission("APElements Automation", groupCreate), AddDirectoryRole("apelements automation", teamsAdmin)},
			[]Change{
				{Kind: PermissionRemoved, AppType: "APElements Automation", Permission: gc},
				{Kind: DirectoryRoleAdded, AppType: "APElements Automation", DirectoryRole: teamsAdmin},
			}},
		{"role removed",
			[]Edit{RemoveDirectoryRole("APElements Security and Analysis", roles.GroupsAdministrator)},
			[]Change{{Kind: DirectoryRoleRemoved, AppType: "APElements Security and Analysis",
				DirectoryRole: roles.DirectoryRequirement{Role: roles.GroupsAdministrator, Assignment: roles.AutomaticWithin24h}}}},
		{"unpublished list gets published",
			[]Edit{AddPermission("tyGraph Suite", gc)},
			[]Change{
				{Kind: PermissionsPublished, AppType: "tyGraph Suite"},
				{Kind: PermissionAdded, AppType: "tyGraph Suite", Permission: gc},
			}},
		{"a partial list gains a row and stays partial",
			[]Edit{AddPermission("Fly App", gc)},
			[]Change{
				{Kind: PermissionAdded, AppType: "Fly App", Permission: gc},
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			next, err := base.With("next", tc.edits...)
			if err != nil {
				t.Fatalf("With: %v", err)
			}
			if next.Version() != "next" || base.Version() != "2026.12.04" {
				t.Errorf("versions = %q, %q", base.Version(), next.Version())
			}
			if diff := cmp.Diff(tc.want, Diff(base, next)); diff != "" {
				t.Errorf("Diff mismatch (-want +got):\n%s", diff)
			}
			// The reverse diff is the inverse: every addition becomes a removal and back.
			inverse := map[ChangeKind]ChangeKind{PermissionAdded: PermissionRemoved, PermissionRemoved: PermissionAdded,
				DirectoryRoleAdded: DirectoryRoleRemoved, DirectoryRoleRemoved: DirectoryRoleAdded}
			var wantBack []ChangeKind
			for _, c := range tc.want {
				if k, ok := inverse[c.Kind]; ok {
					wantBack = append(wantBack, k)
				}
			}
			var gotBack []ChangeKind
			for _, c := range Diff(next, base) {
				gotBack = append(gotBack, c.Kind)
			}
			if diff := cmp.Diff(wantBack, gotBack); diff != "" {
				t.Errorf("reverse Diff kinds mismatch (-want +got):\n%s", diff)
			}
		})
	}
	if got := Diff(base, base); got != nil {
		t.Errorf("Diff(c, c) = %v, want nil", got)
	}
}

func TestDiffIDChangeAndAppTypes(t *testing.T) {
	old, err := Load([]byte(`{"version":"1","sources":[],"services":[{"name":"Nitro","family":"elements-premium","creatable":true}],
	"consentRules":[{"id":"admin/ga","methods":["admin"],"summary":"GA","source":"test","requirements":[{"kind":"directory-role","anyOf":[["62e90394-69f5-4237-9190-012177145e10"]]}]}],
	"appTypes":[{"name":"A","family":"elements-premium","services":["Nitro"],"modes":["modern"],"creatable":true,"userConsent":false,"consent":{"admin":[{"rule":"admin/ga"}]},
	  "permissionsState":"published","permissions":[{"resource":"Microsoft Graph","resourceAppId":"00000003-0000-0000-c000-000000000000","value":"X.Read","id":"00000000-0000-0000-0000-00000000000a","type":"Application","description":"x"}],
	  "directoryRoles":[],"azureRoles":[]},
	 {"name":"Gone","family":"elements-premium","services":["Nitro"],"modes":["modern"],"creatable":false,"userConsent":false,"consent":{"admin":[{"rule":"admin/ga"}]},"permissionsState":"unpublished","permissions":[],"directoryRoles":[],"azureRoles":[]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	newer, err := Load([]byte(`{"version":"2","sources":[],"services":[{"name":"Nitro","family":"elements-premium","creatable":true}],
	"consentRules":[{"id":"admin/ga","methods":["admin"],"summary":"GA","source":"test","requirements":[{"kind":"directory-role","anyOf":[["62e90394-69f5-4237-9190-012177145e10"]]}]}],
	"appTypes":[{"name":"A","family":"elements-premium","services":["Nitro"],"modes":["modern"],"creatable":true,"userConsent":false,"consent":{"admin":[{"rule":"admin/ga"}]},
	  "permissionsState":"published","permissions":[{"resource":"Microsoft Graph","resourceAppId":"00000003-0000-0000-c000-000000000000","value":"X.Read","id":"00000000-0000-0000-0000-00000000000b","type":"Application","description":"x"}],
	  "directoryRoles":[],"azureRoles":[]},
	 {"name":"New","family":"elements-premium","services":["Nitro"],"modes":["modern"],"creatable":false,"userConsent":false,"consent":{"admin":[{"rule":"admin/ga"}]},"permissionsState":"unpublished","permissions":[],
	  "directoryRoles":[{"templateId":"29232cdf-9323-42fd-ade2-1d097af3e4de","assignment":"automatic-within-24h"}],"azureRoles":[]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	changes := Diff(old, newer)
	var got []string
	for _, c := range changes {
		got = append(got, c.String())
	}
	want := []string{
		"A: X.Read (Microsoft Graph, Application) changed id from 00000000-0000-0000-0000-00000000000a to 00000000-0000-0000-0000-00000000000b",
		"app type New was added",
		"New now needs the directory role Exchange Administrator (automatic-within-24h)",
		"app type Gone was removed",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Diff strings mismatch (-want +got):\n%s", diff)
	}
	if !changes[0].RequiresConsent() || changes[2].RequiresConsent() {
		t.Errorf("RequiresConsent: id change %v, role added %v; want true, false", changes[0].RequiresConsent(), changes[2].RequiresConsent())
	}
	if diff := cmp.Diff(changes[1:3], ChangesFor(changes, "New")); diff != "" {
		t.Errorf("ChangesFor mismatch (-want +got):\n%s", diff)
	}
	if got := Diff(nil, nil); got != nil {
		t.Errorf("Diff(nil, nil) = %v", got)
	}
	if got := len(Diff(nil, old)); got != 3 {
		t.Errorf("Diff(nil, old) has %d changes, want 3 (app type added + permission, app type added)", got)
	}
}

func TestWithRejectsBadEdits(t *testing.T) {
	base := mustDefault(t)
	for _, tc := range []struct {
		name string
		edit Edit
		is   error
	}{
		{"unknown app type", AddPermission("Nope", deviceConfigApp), ErrUnknownAppType},
		{"duplicate permission", AddPermission("APElements Automation", mustAppType(t, base, "APElements Automation").Permissions[0]), ErrInvalidCatalog},
		{"bad id", AddPermission("APElements Automation", Permission{Resource: "Microsoft Graph", ResourceAppID: graphAppID, Value: "New.Thing", ID: "made-up", Type: Application, Description: "d"}), ErrInvalidCatalog},
		{"remove missing", RemovePermission("APElements Automation", Key{graphAppID, Delegated, "Group.Create"}), nil},
		{"add to custom app", AddPermission("Custom app for Baseline management", deviceConfigApp), nil},
		{"remove missing role", RemoveDirectoryRole("APElements Automation", roles.GlobalAdministrator), nil},
		{"unknown role", AddDirectoryRole("APElements Automation", roles.DirectoryRequirement{Role: "00000000-0000-0000-0000-000000000000", Assignment: roles.AutomaticWithin24h}), ErrInvalidCatalog},
	} {
		_, err := base.With("x", tc.edit)
		if err == nil {
			t.Errorf("%s: With succeeded, want an error", tc.name)
			continue
		}
		if tc.is != nil && !errors.Is(err, tc.is) {
			t.Errorf("%s: error %v, want %v", tc.name, err, tc.is)
		}
	}
	if _, err := base.With(""); !errors.Is(err, ErrInvalidCatalog) {
		t.Errorf("With(empty version) error = %v, want ErrInvalidCatalog", err)
	}
}

func mustAppType(t testing.TB, c *Catalog, name string) AppType {
	t.Helper()
	a, err := c.AppType(name)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestWithZeroEdit(t *testing.T) {
	if _, err := mustDefault(t).With("x", Edit{}); err == nil {
		t.Error("With(zero Edit) succeeded")
	}
}
