package permissions

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tenantapps/tenantapps/roles"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

var guidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

func mustDefault(t testing.TB) *Catalog {
	t.Helper()
	c, err := defaultCatalog()
	if err != nil {
		t.Fatalf("embedded catalog.json does not load: %v", err)
	}
	return c
}

func TestIDShapeAndUniqueness(t *testing.T) {
	c := mustDefault(t)
	idOf := map[Key]string{}
	valueOf := map[[3]string]string{}
	nameOf := map[string]string{}
	for _, a := range c.AppTypes() {
		for _, p := range a.Permissions {
			if !guidRE.MatchString(p.ID) {
				t.Errorf("%s %s: id %q is not a lower-case GUID", a.Name, p, p.ID)
			}
			if !guidRE.MatchString(p.ResourceAppID) {
				t.Errorf("%s %s: resourceAppId %q is not a lower-case GUID", a.Name, p, p.ResourceAppID)
			}
			if prev, ok := idOf[p.Key()]; ok && prev != p.ID {
				t.Errorf("%s has two ids: %s and %s", p, prev, p.ID)
			}
			idOf[p.Key()] = p.ID
			k := [3]string{p.ResourceAppID, string(p.Type), p.ID}
			if prev, ok := valueOf[k]; ok && prev != p.Value {
				t.Errorf("id %s names %q and %q on %s", p.ID, prev, p.Value, p.Resource)
			}
			valueOf[k] = p.Value
			if prev, ok := nameOf[p.ResourceAppID]; ok && prev != p.Resource {
				t.Errorf("resource %s is named %q and %q", p.ResourceAppID, prev, p.Resource)
			}
			nameOf[p.ResourceAppID] = p.Resource
		}
	}
	cited := map[string]bool{}
	for _, s := range c.Sources() {
		if len(s.References) == 0 {
			t.Errorf("source for %s cites nothing", s.Resource)
		}
		for _, r := range s.References {
			if r.Repository == "" && r.URL == "" || r.Repository != "" && (len(r.Commit) != 40 || r.Path == "") {
				t.Errorf("source for %s: reference %+v needs repository+commit+path or a URL", s.Resource, r)
			}
		}
		cited[s.ResourceAppID] = true
	}
	for appID, name := range nameOf {
		if !cited[appID] {
			t.Errorf("resource %s (%s) has no source", name, appID)
		}
	}
	if len(nameOf) != 15 {
		t.Errorf("catalog uses %d resources, want 15: the seed's 12 and Azure DevOps, Yammer and Windows Azure Active Directory from AvePoint's pages", len(nameOf))
	}
}

// TestKnownIDs spot-checks IDs that are easy to confuse.
func TestKnownIDs(t *testing.T) {
	const graph, spo, exo = "00000003-0000-0000-c000-000000000000", "00000003-0000-0ff1-ce00-000000000000", "00000002-0000-0ff1-ce00-000000000000"
	ids := map[Key]string{}
	for _, r := range mustDefault(t).Resources() {
		for _, p := range r.Permissions {
			ids[p.Key()] = p.ID
		}
	}
	for _, tc := range []struct {
		key  Key
		want string
	}{
		// One value, two types, two GUIDs.
		{Key{graph, Application, "Group.ReadWrite.All"}, "62a82d76-70ea-41e2-9197-370581804d09"},
		{Key{graph, Delegated, "Group.ReadWrite.All"}, "4e46008b-f24c-477d-8fff-7bb4ec7aafe0"},
		// One value on two resources: two permissions (SharePoint reuses Graph's GUID here).
		{Key{graph, Application, "User.ReadWrite.All"}, "741f803b-c850-494e-b5df-cde7c675a1ca"},
		{Key{spo, Application, "User.ReadWrite.All"}, "741f803b-c850-494e-b5df-cde7c675a1ca"},
		{Key{spo, Application, "Sites.FullControl.All"}, "678536fe-1083-478a-9c59-b99265e6b0d3"},
		{Key{graph, Application, "Application.ReadWrite.All"}, "1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9"},
		{Key{graph, Delegated, "User.Read.All"}, "a154be20-db9c-4678-8ab7-66f6cc099a59"},
		{Key{exo, Application, "Exchange.ManageAsApp"}, "dc50a0fb-09a3-484d-be87-e023b12c6440"},
		{Key{exo, Application, "full_access_as_app"}, "dc890d15-9560-4a4c-9b7f-a736ec74ec40"},
		{Key{"797f4846-ba00-4fd7-ba43-dac1f8f63013", Delegated, "user_impersonation"}, "41094075-9dad-400e-a0bd-54e686782033"},
		{Key{"00000007-0000-0000-c000-000000000000", Delegated, "user_impersonation"}, "78ce3f0f-a1ce-49c2-8cde-64b5c0896db4"},
	} {
		if got := ids[tc.key]; got != tc.want {
			t.Errorf("id of %v = %q, want %q", tc.key, got, tc.want)
		}
	}
	if _, ok := ids[Key{spo, Delegated, "User.ReadWrite.All"}]; ok {
		t.Error("catalog requests SharePoint User.ReadWrite.All as Delegated; the seed lists only Application")
	}
}

func TestAppTypes(t *testing.T) {
	c := mustDefault(t)
	type summary struct {
		Family      Family
		Services    []string
		Modes       []Mode
		State       PermissionsState
		Shape       Shape
		Count       int
		Roles       []roles.DirectoryRequirement
		Azure       int
		Creatable   bool
		UserConsent bool
		Entra       string
	}
	auto := roles.AutomaticWithin24h
	exManual := []roles.DirectoryRequirement{{Role: roles.ExchangeAdministrator, Assignment: roles.ManualAfterAuthorization, Condition: roles.ManagesExchange}}
	baseline := func(a roles.Assignment) []roles.DirectoryRequirement {
		return []roles.DirectoryRequirement{{Role: roles.ExchangeAdministrator, Assignment: a}, {Role: roles.AttributeDefinitionReader, Assignment: a}, {Role: roles.SecurityAdministrator, Assignment: a}}
	}
	ops := []string{"Workspace management", "Risk management", "Change management communication", "User and device management"}
	for _, tc := range []struct {
		name string
		want summary
	}{
		{"APElements Security and Analysis", summary{ElementsPremium, ops, []Mode{ModeModern}, Published, Hybrid, 53,
			[]roles.DirectoryRequirement{{Role: roles.ExchangeAdministrator, Assignment: auto}, {Role: roles.GroupsAdministrator, Assignment: auto}}, 0, true, false, "APElements Security and Analysis"}},
		{"APElements Automation", summary{ElementsPremium, []string{"Nitro"}, []Mode{ModeModern}, Published, ApplicationOnly, 16, nil, 0, true, false, "APElements Automation"}},
		{"APElements Baseline Management", summary{ElementsPremium, []string{"Baseline management"}, []Mode{ModeModern}, Published, Hybrid, 51, baseline(auto), 0, true, false, "APElements Baseline Management"}},
		{"Custom app for Baseline management", summary{ElementsPremium, []string{"Baseline management"}, []Mode{ModeCustom}, Published, Hybrid, 51, baseline(roles.ManualBeforeAuthorization), 0, true, false, ""}},
		{"APElements Azure Security Management", summary{ElementsPremium, []string{"Azure security management"}, []Mode{ModeModern}, Published, Purebred, 2, nil, 5, true, false, "APElements Azure Security Management"}},
		{"Delegated App", summary{AOS, []string{"Cloud Backup for IaaS + PaaS", "Cloud Backup for Microsoft 365"}, []Mode{ModeDelegated}, Partial, ShapeUnknown, 9, exManual, 0, true, true, "AvePoint Online Services – Delegated App"}},
		{"Viva Engage", summary{AOS, []string{"Cloud Governance", "Cloud Backup for Microsoft 365"}, []Mode{ModeModern, ModeClassic}, Published, Purebred, 3, exManual, 0, true, true, "AvePoint Online Services Administration for Viva Engage"}},
		{"EnPower for Power Platform", summary{AOS, []string{"EnPower"}, []Mode{ModeModern}, Partial, Hybrid, 12, exManual, 0, false, true, "AvePoint EnPower PowerPlatform Management"}},
		{"Fly App", summary{AOS, []string{"Fly"}, []Mode{ModeModern}, Partial, Hybrid, 9, exManual, 0, true, false, "AvePoint Fly"}},
		{"Custom Azure app with delegated permissions", summary{AOS, []string{"EnPower", "Cloud Governance", "Cloud Backup for Microsoft 365", "Cloud Backup for IaaS + PaaS", "Insights", "Fly", "MyHub", "tyGraph", "AvePoint Portal Manager"}, []Mode{ModeCustom}, Unpublished, ShapeUnknown, 0, exManual, 0, false, true, ""}},
		{"Custom Azure app", summary{AOS, []string{"Cloud Backup for Microsoft 365"}, []Mode{ModeCustom}, Unpublished, ShapeUnknown, 0, exManual, 0, false, false, ""}},
		{"Microsoft 365 (All permissions)", summary{AOS, []string{"Cloud Backup for Microsoft 365"}, []Mode{ModeClassic}, Partial, ShapeUnknown, 4, exManual, 0, false, false, "AvePoint Online Services Administration for Microsoft365"}},
		{"Cloud Backup for Microsoft 365 (All permissions)", summary{AOS, []string{"Cloud Backup for Microsoft 365"}, []Mode{ModeModern}, Partial, ShapeUnknown, 10, exManual, 0, true, false, "AvePoint Cloud Backup for Microsoft365 (All Permissions)"}},
		{"Cloud Backup Express", summary{AOS, []string{"Cloud Backup for Microsoft 365"}, []Mode{ModeModern}, Partial, ShapeUnknown, 10, exManual, 0, true, true, "AvePoint Cloud Backup Express"}},
	} {
		a, err := c.AppType(tc.name)
		if err != nil {
			t.Errorf("AppType(%q): %v", tc.name, err)
			continue
		}
		got := summary{a.Family, a.Services, a.Modes, a.PermissionsState, a.Shape(), len(a.Permissions), a.DirectoryRoles, len(a.AzureRoles), a.Creatable, a.UserConsent, a.EntraAppName}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("AppType(%q) mismatch (-want +got):\n%s", tc.name, diff)
		}
	}
	if n := len(c.AppTypes()); n != 49 {
		t.Errorf("catalog has %d app types, want 49 (5 Elements premium, the seeds' 26 AOS and 18 more AvePoint documents)", n)
	}
}

func TestAzureSecurityManagementRoles(t *testing.T) {
	a, err := mustDefault(t).AppType("APElements Azure Security Management")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(roles.AzureSecurityManagementRequirements(), a.AzureRoles); diff != "" {
		t.Errorf("Azure roles mismatch (-roles package +catalog):\n%s", diff)
	}
}

func TestCustomBaselineHasExactlyModernPermissions(t *testing.T) {
	c := mustDefault(t)
	modern, _ := c.AppType("APElements Baseline Management")
	custom, err := c.AppType("custom app for baseline management")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(modern.Permissions, custom.Permissions); diff != "" {
		t.Errorf("custom Baseline permissions differ from modern (-modern +custom):\n%s", diff)
	}
	if custom.PermissionsFrom != modern.Name {
		t.Errorf("PermissionsFrom = %q, want %q", custom.PermissionsFrom, modern.Name)
	}
}

func TestAppTypesFor(t *testing.T) {
	c := mustDefault(t)
	names := func(as []AppType) []string {
		var out []string
		for _, a := range as {
			out = append(out, a.Name)
		}
		return out
	}
	for _, tc := range []struct {
		service string
		mode    Mode
		want    []string
	}{
		{"Workspace management", ModeModern, []string{"APElements Security and Analysis"}},
		{"risk   MANAGEMENT", "", []string{"APElements Security and Analysis"}},
		{"Change communication management", ModeModern, []string{"APElements Security and Analysis"}},
		{"Nitro", ModeModern, []string{"APElements Automation"}},
		{"Nitro", ModeCustom, nil},
		{"Azure security management", ModeModern, []string{"APElements Azure Security Management"}},
		{"Baseline management", ModeModern, []string{"APElements Baseline Management"}},
		{"Baseline management", ModeCustom, []string{"Custom app for Baseline management"}},
		{"Baseline management", "", []string{"APElements Baseline Management", "Custom app for Baseline management"}},
		{"Insights", ModeModern, []string{"Insights for Microsoft 365", "Insights for Power Platform"}},
		{"Insights", ModeCustom, []string{"Custom Azure app with delegated permissions"}},
		{"Fly", ModeDelegated, []string{"Fly Delegated App"}},
		{"Cloud Backup for Microsoft 365", ModeModern, []string{"Cloud Backup Express", "Viva Engage", "Cloud Backup for Microsoft 365 (All permissions)", "Cloud Backup for Microsoft 365 (SharePoint Permissions)", "Cloud Backup for Microsoft 365 (Exchange Permissions)"}},
		{"Cloud Backup for Microsoft 365", ModeDelegated, []string{"Delegated App"}},
		{"Cloud Backup for Microsoft 365", ModeClassic, []string{"Viva Engage", "Microsoft 365 (All permissions)", "Microsoft 365 (Exchange Permissions)"}},
		{"Cloud Backup for Microsoft 365", ModeCustom, []string{"Custom Azure app with delegated permissions", "Custom Azure app"}},
		{"Policies for Microsoft 365", ModeModern, []string{"Policies for Microsoft 365", "Reporting for Microsoft 365"}},
		{"Policies for Microsoft 365", ModeClassic, []string{"Microsoft Entra ID"}},
		{"Document Management System Online", "", []string{"Document Management System Online (DMS Online)"}},
	} {
		got, err := c.AppTypesFor(tc.service, tc.mode)
		if err != nil {
			t.Errorf("AppTypesFor(%q, %q): %v", tc.service, tc.mode, err)
			continue
		}
		if diff := cmp.Diff(tc.want, names(got)); diff != "" {
			t.Errorf("AppTypesFor(%q, %q) mismatch (-want +got):\n%s", tc.service, tc.mode, diff)
		}
	}
	_, err := c.AppTypesFor("other premium services", ModeModern)
	var nf *NotFoundError
	if !errors.Is(err, ErrUnknownService) || !errors.As(err, &nf) || !nf.Group ||
		!cmp.Equal(nf.Valid, []string{"Workspace management", "Risk management", "Change management communication", "User and device management"}) {
		t.Errorf("AppTypesFor(group name) error = %v, want ErrUnknownService naming the group's four services", err)
	}
	if _, err := c.AppTypesFor("Nitro", "hybrid"); !errors.Is(err, ErrUnknownMode) {
		t.Errorf("AppTypesFor(Nitro, hybrid) error = %v, want ErrUnknownMode", err)
	}
}

func TestLookupErrors(t *testing.T) {
	c := mustDefault(t)
	_, err := c.AppType("APElements Nothing")
	var nf *NotFoundError
	if !errors.Is(err, ErrUnknownAppType) || !errors.As(err, &nf) || nf.Name != "APElements Nothing" || len(nf.Valid) != len(c.AppTypes()) {
		t.Errorf("AppType(unknown) error = %#v, want *NotFoundError wrapping ErrUnknownAppType listing every name", err)
	}
	if !strings.Contains(err.Error(), "APElements Automation") {
		t.Errorf("error %q does not list the valid names", err)
	}
	if _, err := c.Service(""); !errors.Is(err, ErrUnknownService) {
		t.Errorf("Service(\"\") error = %v, want ErrUnknownService", err)
	}
	for _, alias := range []string{"Custom app with delegated permissions", "DMS Online", "custom app profile for baseline management"} {
		if _, err := c.AppType(alias); err != nil {
			t.Errorf("AppType(%q): %v", alias, err)
		}
	}
}

func TestAccessorsReturnCopies(t *testing.T) {
	c := mustDefault(t)
	a, _ := c.AppType("APElements Azure Security Management")
	a.Permissions[0].Value = "changed"
	a.AzureRoles[4].Permissions[0] = "changed"
	a.Services[0] = "changed"
	all := c.AppTypes()
	all[0].Permissions[0].ID = "changed"
	s := c.Services()
	s[2].Aliases[0] = "changed"
	src := c.Sources()
	src[0].References[0].Path = "changed"
	b, _ := c.AppType("APElements Azure Security Management")
	if b.Permissions[0].Value == "changed" || b.AzureRoles[4].Permissions[0] == "changed" || b.Services[0] == "changed" ||
		c.AppTypes()[0].Permissions[0].ID == "changed" || c.Services()[2].Aliases[0] == "changed" || c.Sources()[0].References[0].Path == "changed" {
		t.Fatal("an accessor returned memory shared with the catalog")
	}
}

func TestDefaultConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := Default()
			if _, err := c.AppType("Delegated App"); err != nil {
				t.Error(err)
			}
			_ = c.Resources()
			_, _ = c.MarshalJSON()
		}()
	}
	wg.Wait()
	if a, b := Default(), Default(); a != b {
		t.Error("Default returned two catalogs")
	}
}

// catalogView is everything observable about a catalog, for comparisons.
type catalogView struct {
	Version  string
	Sources  []Source
	Services []Service
	AppTypes []AppType
	Rules    []ConsentRule
}

func view(c *Catalog) catalogView {
	return catalogView{c.Version(), c.Sources(), c.Services(), c.AppTypes(), c.ConsentRules()}
}

func TestExportRoundTrip(t *testing.T) {
	c := mustDefault(t)
	data, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Load(data)
	if err != nil {
		t.Fatalf("Load(export): %v", err)
	}
	if diff := cmp.Diff(view(c), view(back)); diff != "" {
		t.Errorf("round trip mismatch (-default +reloaded):\n%s", diff)
	}
	if d := Diff(c, back); len(d) != 0 {
		t.Errorf("Diff(default, reloaded) = %v, want none", d)
	}
}

// TestExportGolden pins the export format; run with -update after a deliberate change.
func TestExportGolden(t *testing.T) {
	data, err := json.MarshalIndent(mustDefault(t), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	data = append(data, '\n')
	const golden = "testdata/export.golden.json"
	if *update {
		if err := os.WriteFile(golden, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -run TestExportGolden -update ./permissions to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(data)); diff != "" {
		t.Errorf("export mismatch (-golden +got):\n%s", diff)
	}
	var shape struct {
		Version  string `json:"version"`
		AppTypes []struct {
			Name           string           `json:"name"`
			Services       []string         `json:"services"`
			Modes          []string         `json:"modes"`
			Permissions    []map[string]any `json:"permissions"`
			DirectoryRoles []map[string]any `json:"directoryRoles"`
			AzureRoles     []map[string]any `json:"azureRoles"`
		} `json:"appTypes"`
	}
	if err := json.Unmarshal(data, &shape); err != nil {
		t.Fatal(err)
	}
	if shape.Version == "" || len(shape.AppTypes) != 49 || shape.AppTypes[0].Permissions == nil || shape.AppTypes[5].Permissions == nil {
		t.Errorf("export lacks the documented shape: version %q, %d app types", shape.Version, len(shape.AppTypes))
	}
	for _, k := range []string{"resource", "resourceAppId", "value", "id", "type", "description"} {
		if _, ok := shape.AppTypes[0].Permissions[0][k]; !ok {
			t.Errorf("exported permission lacks %q", k)
		}
	}
	for _, k := range []string{"name", "templateId", "assignment"} {
		if _, ok := shape.AppTypes[0].DirectoryRoles[0][k]; !ok {
			t.Errorf("exported directory role lacks %q", k)
		}
	}
}

func TestLoadReportsEveryProblem(t *testing.T) {
	base := DefaultJSON()
	for _, tc := range []struct {
		name string
		edit func(m map[string]any)
		want []string // substrings, one per expected problem
	}{
		{"bad guid and type", func(m map[string]any) {
			p := perm(m, 1, 0)
			p["id"] = "BF7B1A76-6E77-406B-B258-BF5C7720E98F"
			p["type"] = "Role"
		}, []string{"is not a lower-case GUID", `unknown type "Role"`}},
		{"duplicate permission", func(m map[string]any) {
			ps := appType(m, 1)["permissions"].([]any)
			appType(m, 1)["permissions"] = append(ps, ps[0])
		}, []string{"is listed twice"}},
		{"same permission two ids", func(m map[string]any) {
			perm(m, 1, 0)["id"] = "00000000-0000-0000-0000-000000000001"
		}, []string{
			"appTypes[2] (APElements Baseline Management).permissions[8].id: Group.Create (Microsoft Graph, Application) has id bf7b1a76-6e77-406b-b258-bf5c7720e98f here and 00000000-0000-0000-0000-000000000001 at appTypes[1]",
			"appTypes[7] (EnPower for Microsoft 365).permissions[7].id: Group.Create",
			"appTypes[25] (AvePoint Portal Manager).permissions[4].id: Group.Create",
		}},
		{"unknown role and service and mode", func(m map[string]any) {
			a := appType(m, 0)
			a["directoryRoles"].([]any)[0].(map[string]any)["templateId"] = "00000000-0000-0000-0000-000000000002"
			a["services"] = append(a["services"].([]any), "Gardening")
			a["modes"] = []any{"modern", "hybrid"}
		}, []string{"not a known Entra role template ID", `unknown service "Gardening"`, `unknown mode "hybrid"`}},
		{"unpublished with rows", func(m map[string]any) {
			appTypeNamed(m, "EnPower for Teams Calling")["permissions"] = []any{perm(m, 1, 0)}
		}, []string{"permissionsState is unpublished but permissions are listed"}},
		{"published without rows", func(m map[string]any) {
			a := appTypeNamed(m, "EnPower for Teams Calling")
			a["permissionsState"] = "published"
			delete(a, "pagesSearched")
		}, []string{"permissionsState is published but no permission is listed"}},
		{"duplicate app type and missing version", func(m map[string]any) {
			appType(m, 2)["name"] = "APElements Automation"
			m["version"] = ""
		}, []string{`version: missing`, `name or alias "APElements Automation" already used`, `permissionsFrom: unknown app type "APElements Baseline Management"`}},
		{"orphan service", func(m map[string]any) {
			m["services"] = append(m["services"].([]any), map[string]any{"name": "Gardening", "family": "aos", "creatable": false})
		}, []string{`no app type serves "Gardening"`}},
		{"azure role unknown", func(m map[string]any) {
			appType(m, 4)["azureRoles"].([]any)[0].(map[string]any)["roleDefinitionId"] = "00000000-0000-0000-0000-000000000003"
		}, []string{"not a known Azure role definition ID"}},
		{"wrong shape", func(m map[string]any) {
			appType(m, 1)["shape"] = "hybrid"
		}, []string{`says "hybrid" but the permissions make it "application-only"`}},
		{"unknown field", func(m map[string]any) {
			m["appTypez"] = []any{}
		}, []string{`unknown field "appTypez"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var m map[string]any
			if err := json.Unmarshal(base, &m); err != nil {
				t.Fatal(err)
			}
			tc.edit(m)
			data, _ := json.Marshal(m)
			_, err := Load(data)
			var ve *ValidationError
			if !errors.Is(err, ErrInvalidCatalog) || !errors.As(err, &ve) {
				t.Fatalf("Load error = %v, want *ValidationError wrapping ErrInvalidCatalog", err)
			}
			if len(ve.Problems) != len(tc.want) {
				t.Errorf("got %d problems, want %d:\n%v", len(ve.Problems), len(tc.want), err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

func appTypeNamed(m map[string]any, name string) map[string]any {
	for _, a := range m["appTypes"].([]any) {
		if a.(map[string]any)["name"] == name {
			return a.(map[string]any)
		}
	}
	panic("no app type " + name)
}

func appType(m map[string]any, i int) map[string]any {
	return m["appTypes"].([]any)[i].(map[string]any)
}

func perm(m map[string]any, at, i int) map[string]any {
	return appType(m, at)["permissions"].([]any)[i].(map[string]any)
}

func TestLoadRejectsNonCatalogs(t *testing.T) {
	for _, in := range []string{"", "null", "[]", "{", `{"version":"x"} {}`, `{"version":1}`} {
		if _, err := Load([]byte(in)); !errors.Is(err, ErrInvalidCatalog) {
			t.Errorf("Load(%q) error = %v, want ErrInvalidCatalog", in, err)
		}
	}
	if _, err := Parse(bytes.NewReader(DefaultJSON())); err != nil {
		t.Errorf("Parse(default): %v", err)
	}
}

func TestLookup(t *testing.T) {
	c := mustDefault(t)
	const spo = "00000003-0000-0ff1-ce00-000000000000"
	p, ok := c.LookupID(strings.ToUpper(spo), Application, "678536FE-1083-478A-9C59-B99265E6B0D3")
	want := Permission{Resource: "SharePoint", ResourceAppID: spo, Value: "Sites.FullControl.All", ID: "678536fe-1083-478a-9c59-b99265e6b0d3", Type: Application, Description: "Have full control of all site collections"}
	if diff := cmp.Diff(want, p); !ok || diff != "" {
		t.Errorf("LookupID(SharePoint Sites.FullControl.All) ok=%v mismatch (-want +got):\n%s", ok, diff)
	}
	if _, ok := c.LookupID(spo, Delegated, "678536fe-1083-478a-9c59-b99265e6b0d3"); ok {
		t.Error("LookupID found an app role id as a delegated scope")
	}
	// Seed fields never leak into lookups.
	q, ok := c.Lookup(Key{"797f4846-ba00-4fd7-ba43-dac1f8f63013", Delegated, "user_impersonation"})
	if !ok || q.SeedValue != "" || q.ID != "41094075-9dad-400e-a0bd-54e686782033" {
		t.Errorf("Lookup(ASM user_impersonation) = %+v, %v", q, ok)
	}
	if _, ok := c.Lookup(Key{"797f4846-ba00-4fd7-ba43-dac1f8f63013", Delegated, "User_impersonation"}); ok {
		t.Error("Lookup matched the seed's misspelt value; values compare exactly")
	}
}

func TestMissing(t *testing.T) {
	c := mustDefault(t)
	asm := mustAppType(t, c, "APElements Azure Security Management")
	granted := []Key{asm.Permissions[1].Key(), {graphAppID, Application, "User.Read.All"}}
	if diff := cmp.Diff([]Permission{asm.Permissions[0]}, asm.Missing(granted)); diff != "" {
		t.Errorf("Missing mismatch (-want +got):\n%s", diff)
	}
	if got := asm.Missing([]Key{asm.Permissions[0].Key(), asm.Permissions[1].Key()}); got != nil {
		t.Errorf("Missing(all granted) = %v, want nil", got)
	}
	if got := mustAppType(t, c, "tyGraph Suite").Missing(nil); got != nil {
		t.Errorf("Missing on an unpublished app type = %v, want nil", got)
	}
}

// documentedOnly are the app types AvePoint's pages document but the seeds do not name: the
// Elements customer app profile page (seed 000) does not offer them.
var documentedOnly = []string{
	"Cloud Backup for Microsoft 365 (SharePoint Permissions)", "Cloud Backup for Microsoft 365 (Exchange Permissions)",
	"Fly for Entra ID source", "Fly for Entra ID source and destination", "Cloud Governance for Exchange",
	"Cloud Governance for Microsoft 365", "Microsoft 365 (Exchange Permissions)", "EnPower for Azure Resources",
	"EnPower for Azure Entra ID Enterprise Applications", "Microsoft Entra ID", "tyGraph for SharePoint",
	"tyGraph for Copilot Adoption / Trials", "tyGraph Pages (Only)", "Cloud Management Services for Microsoft 365",
	"Microsoft 365 (SharePoint Permissions)", "Reporting for Microsoft 365", "Cense", "Opus",
}

// TestCreatableRule: the Elements customer app profile page creates Elements premium profiles
// and, for the AOS services seed 000 lists, the seeds' vendor apps in modern setup (modern or
// delegated mode) — never classic or custom AOS profiles, nor app types only AvePoint's pages
// document.
func TestCreatableRule(t *testing.T) {
	c := mustDefault(t)
	for _, a := range c.AppTypes() {
		want := a.Family == ElementsPremium
		if a.Family == AOS && (a.HasMode(ModeModern) || a.HasMode(ModeDelegated)) && !slices.Contains(documentedOnly, a.Name) {
			for _, s := range a.Services {
				svc, err := c.Service(s)
				if err != nil {
					t.Fatal(err)
				}
				want = want || svc.Creatable
			}
		}
		if a.Creatable != want {
			t.Errorf("%s: Creatable = %v, want %v", a.Name, a.Creatable, want)
		}
	}
	var creatable []string
	for _, s := range c.Services() {
		if s.Family == AOS && s.Creatable {
			creatable = append(creatable, s.Name)
		}
	}
	want := []string{"Cloud Backup for Microsoft 365", "Policies for Microsoft 365", "Insights", "Fly"}
	if diff := cmp.Diff(want, creatable); diff != "" {
		t.Errorf("creatable AOS services mismatch (-seed 000 +catalog):\n%s", diff)
	}
}

func TestServicesAndFamilies(t *testing.T) {
	c := mustDefault(t)
	var got []string
	for _, s := range c.Services() {
		got = append(got, string(s.Family)+"/"+s.Name)
	}
	want := []string{
		"elements-premium/Workspace management", "elements-premium/Risk management",
		"elements-premium/Change management communication", "elements-premium/User and device management",
		"elements-premium/Baseline management", "elements-premium/Azure security management", "elements-premium/Nitro",
		"aos/Cloud Backup for Microsoft 365", "aos/Policies for Microsoft 365", "aos/Insights", "aos/Fly",
		"aos/EnPower", "aos/Cloud Backup for IaaS + PaaS", "aos/Cloud Governance", "aos/MyHub", "aos/tyGraph",
		"aos/Document Management System Online", "aos/AvePoint Portal Manager",
		"aos/Cense", "aos/Cloud Index", "aos/Cloud Management", "aos/AvePoint Opus",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("services mismatch (-want +got):\n%s", diff)
	}
	s, err := c.Service("change communication management")
	if err != nil || s.Name != "Change management communication" || s.Group != "Other premium services" {
		t.Errorf("Service(seed alias) = %+v, %v", s, err)
	}
}

func TestSubset(t *testing.T) {
	c := mustDefault(t)
	sub, err := c.Subset("custom app for baseline management", "Delegated App")
	if err != nil {
		t.Fatal(err)
	}
	var names, services, sources []string
	for _, a := range sub.AppTypes() {
		names = append(names, a.Name)
	}
	for _, s := range sub.Services() {
		services = append(services, s.Name)
	}
	for _, s := range sub.Sources() {
		sources = append(sources, s.Resource)
	}
	if diff := cmp.Diff([]string{"Custom app for Baseline management", "Delegated App"}, names); diff != "" {
		t.Errorf("app types (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"Baseline management", "Cloud Backup for Microsoft 365", "Cloud Backup for IaaS + PaaS"}, services); diff != "" {
		t.Errorf("services (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"Microsoft Graph", "SharePoint", "Office 365 Exchange Online", "Skype and Teams Tenant Admin API", "ProjectWorkManagement", "PowerApps Service", "Azure Service Management"}, sources); diff != "" {
		t.Errorf("sources (-want +got):\n%s", diff)
	}
	custom := mustAppType(t, sub, "Custom app for Baseline management")
	modern := mustAppType(t, c, "APElements Baseline Management")
	if custom.PermissionsFrom != "" || !cmp.Equal(modern.Permissions, custom.Permissions) || sub.Version() != c.Version() {
		t.Errorf("subset custom app: PermissionsFrom %q, %d permissions, version %q", custom.PermissionsFrom, len(custom.Permissions), sub.Version())
	}
	both, err := c.Subset("Custom app for Baseline management", "APElements Baseline Management")
	if err != nil || mustAppType(t, both, "Custom app for Baseline management").PermissionsFrom != "APElements Baseline Management" {
		t.Errorf("Subset with the source app type kept: err %v; PermissionsFrom lost", err)
	}
	if _, err := c.Subset("Nitro"); !errors.Is(err, ErrUnknownAppType) {
		t.Errorf("Subset(service name) error = %v, want ErrUnknownAppType", err)
	}
}

func TestCreatableFor(t *testing.T) {
	c := mustDefault(t)
	for _, tc := range []struct {
		service string
		want    []string
	}{
		{"Baseline management", []string{"APElements Baseline Management", "Custom app for Baseline management"}},
		{"Nitro", []string{"APElements Automation"}},
		{"Fly", []string{"Fly for Power Platform", "Fly Delegated App", "Fly App"}},
		{"Cloud Backup for Microsoft 365", []string{"Delegated App", "Cloud Backup Express", "Viva Engage", "Cloud Backup for Microsoft 365 (All permissions)"}},
		{"EnPower", nil},
	} {
		got, err := c.CreatableFor(tc.service)
		if err != nil {
			t.Errorf("CreatableFor(%q): %v", tc.service, err)
			continue
		}
		var names []string
		for _, a := range got {
			names = append(names, a.Name)
		}
		if diff := cmp.Diff(tc.want, names); diff != "" {
			t.Errorf("CreatableFor(%q) mismatch (-want +got):\n%s", tc.service, diff)
		}
	}
	if _, err := c.CreatableFor("Other premium services"); !errors.Is(err, ErrUnknownService) {
		t.Errorf("CreatableFor(group) error = %v, want ErrUnknownService", err)
	}
}

// TestResources: the distinct permissions per resource of the seed's four tables, counted
// independently from them (case-insensitive value + type), 90 in all.
func TestResources(t *testing.T) {
	type count struct {
		Name, AppID string
		N           int
	}
	var got []count
	total := 0
	seed, err := mustDefault(t).Subset("APElements Security and Analysis", "APElements Automation", "APElements Baseline Management", "APElements Azure Security Management")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range seed.Resources() {
		got = append(got, count{r.Name, r.AppID, len(r.Permissions)})
		total += len(r.Permissions)
		for _, p := range r.Permissions {
			if p.ResourceAppID != r.AppID || p.Resource != r.Name || p.SeedValue != "" || p.SeedDescription != "" {
				t.Errorf("%s listed under %s (%s) or with seed fields", p, r.Name, r.AppID)
			}
		}
	}
	want := []count{
		{"Azure Rights Management Services", "00000012-0000-0000-c000-000000000000", 2},
		{"Azure Service Management", "797f4846-ba00-4fd7-ba43-dac1f8f63013", 1},
		{"Dynamics CRM", "00000007-0000-0000-c000-000000000000", 1},
		{"Microsoft Graph", "00000003-0000-0000-c000-000000000000", 67},
		{"Microsoft Information Protection Sync Service", "870c4f2e-85b6-4d43-bdda-6ed9a579b725", 1},
		{"Office 365 Exchange Online", "00000002-0000-0ff1-ce00-000000000000", 3},
		{"Office 365 Management APIs", "c5393580-f805-4401-95e8-94b7a6ef2fc2", 1},
		{"Power BI Service", "00000009-0000-0000-c000-000000000000", 7},
		{"PowerApps Service", "475226c6-020e-4fb2-8a90-7a972cbfc1d4", 1},
		{"SharePoint", "00000003-0000-0ff1-ce00-000000000000", 3},
		{"Skype and Teams Tenant Admin API", "48ac35b8-9aa8-4d74-927d-1f4a14a0b239", 2},
		{"ProjectWorkManagement", "09abbdfd-ed23-44ee-a2d9-a627aa1c90f3", 1},
	}
	if diff := cmp.Diff(want, got); diff != "" || total != 90 {
		t.Errorf("Resources mismatch, %d permissions (-want +got):\n%s", total, diff)
	}
}
