package permissions

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func readAcme(t testing.TB) OverlayFile {
	t.Helper()
	data, err := os.ReadFile("testdata/overlay/acme.json")
	if err != nil {
		t.Fatal(err)
	}
	return OverlayFile{Name: "acme.json", Data: data}
}

func TestOverlayAddsAnAppTypeOfItsOwn(t *testing.T) {
	c, err := Overlay(Default(), readAcme(t))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Version(), Default().Version()+"+acme.1"; got != want {
		t.Errorf("Version = %q, want %q", got, want)
	}
	if got, want := len(c.AppTypes()), len(Default().AppTypes())+1; got != want {
		t.Errorf("%d app types, want %d", got, want)
	}
	a, err := c.AppType("acme msp automation")
	if err != nil {
		t.Fatal(err)
	}
	if a.Family != "acme-msp" || a.Shape() != Hybrid || !a.UserConsent || a.AppID == "" {
		t.Errorf("app type = %+v", a)
	}
	want := AppConsent{Admin: []ConsentRuleRef{{Rule: "acme/admin-global-administrator"}}, User: []ConsentRuleRef{{Rule: "user/admin-consent-granted"}}}
	if diff := cmp.Diff(want, a.Consent); diff != "" {
		t.Errorf("consent (-want +got):\n%s", diff)
	}
	if _, ok := c.ConsentRule("acme/admin-global-administrator"); !ok {
		t.Error("the file's rule is not in the catalog")
	}
	if got, err := c.AppTypesFor("Acme Managed Backup", ModeModern); err != nil || len(got) != 1 {
		t.Errorf("AppTypesFor = %v, %v", got, err)
	}
	// The default catalog is unchanged and the export loads back.
	if _, err := Default().AppType("Acme MSP Automation"); !errors.Is(err, ErrUnknownAppType) {
		t.Errorf("default catalog changed: %v", err)
	}
	data, err := c.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	back, err := Load(data)
	if err != nil {
		t.Fatalf("export of the overlay does not load: %v", err)
	}
	if d := Diff(c, back); len(d) != 0 {
		t.Errorf("Diff after round trip = %v", d)
	}
}

func TestOverlayReplacesADefaultAppType(t *testing.T) {
	file := `{"version": "mine.1", "appTypes": [{"name": "MyHub", "entraAppName": "My own MyHub app", "family": "aos",
	  "services": ["MyHub"], "modes": ["modern"], "creatable": true, "userConsent": false,
	  "consent": {"admin": [{"rule": "admin/elements-premium-global-administrator"}]},
	  "permissionsState": "unpublished", "permissions": [], "directoryRoles": [], "azureRoles": []}]}`
	c, err := Overlay(nil, OverlayFile{Name: "mine.json", Data: []byte(file)})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(c.AppTypes()), len(Default().AppTypes()); got != want {
		t.Errorf("%d app types, want %d (replaced, not added)", got, want)
	}
	a, _ := c.AppType("MyHub")
	if a.EntraAppName != "My own MyHub app" || a.UserConsent || !a.Creatable {
		t.Errorf("MyHub not replaced: %+v", a)
	}
	// Position is kept: MyHub stays where the default catalog has it.
	names := func(c *Catalog) []string {
		var out []string
		for _, a := range c.AppTypes() {
			out = append(out, a.Name)
		}
		return out
	}
	if diff := cmp.Diff(names(Default()), names(c)); diff != "" {
		t.Errorf("app type order (-default +overlay):\n%s", diff)
	}
}

func TestOverlayReportsEveryProblemOfEveryFile(t *testing.T) {
	bad := `{"version": "", "services": [{"name": "Gardening", "family": "", "creatable": true}],
	  "appTypes": [{"name": "Rake", "family": "garden", "services": ["Gardening", "Mowing"], "modes": ["modern"],
	  "creatable": true, "userConsent": true, "appId": "not-a-guid",
	  "consent": {"admin": [{"rule": "no/such-rule"}, {"rule": "user/admin-consent-granted"}]},
	  "permissionsState": "partial-ish", "permissions": [], "directoryRoles": [], "azureRoles": []}]}`
	_, err := Overlay(Default(), OverlayFile{Name: "bad.json", Data: []byte(bad)}, OverlayFile{Name: "broken.json", Data: []byte(`{"version": `)})
	var ve *ValidationError
	if !errors.As(err, &ve) || !errors.Is(err, ErrInvalidCatalog) {
		t.Fatalf("Overlay error = %v, want *ValidationError", err)
	}
	want := []string{
		"broken.json: not a catalog JSON document",
		"bad.json: version: missing",
		`bad.json: services[0].family: family "" is not a family name`,
		`bad.json: appTypes[0] (Rake).services[1]: unknown service "Mowing"`,
		`bad.json: appTypes[0] (Rake).appId: "not-a-guid" is not a lower-case GUID`,
		`bad.json: appTypes[0] (Rake).consent.admin[0].rule: unknown consent rule "no/such-rule"`,
		`bad.json: appTypes[0] (Rake).consent.admin[1].rule: rule "user/admin-consent-granted" is not a rule for admin consent`,
		`bad.json: appTypes[0] (Rake).userConsent: is true but consent.user lists no rule`,
		`bad.json: appTypes[0] (Rake).permissionsState: unknown state "partial-ish"`,
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q", w)
		}
	}
	if len(ve.Problems) != len(want) {
		t.Errorf("%d problems, want %d:\n%v", len(ve.Problems), len(want), err)
	}
}

// TestPartialState: a partial list needs its sources, keeps its rows checkable (Missing) and is
// Hybrid only when its known rows hold both kinds; pagesSearched belongs to unpublished lists.
func TestPartialState(t *testing.T) {
	base := readAcme(t)
	edit := func(f func(a map[string]any)) OverlayFile {
		var m map[string]any
		if err := json.Unmarshal(base.Data, &m); err != nil {
			t.Fatal(err)
		}
		f(m["appTypes"].([]any)[0].(map[string]any))
		data, _ := json.Marshal(m)
		return OverlayFile{Name: "acme.json", Data: data}
	}
	_, err := Overlay(nil, edit(func(a map[string]any) { a["permissionsState"] = "partial" }))
	if err == nil || !strings.Contains(err.Error(), "a partial permission list must cite the page(s)") {
		t.Errorf("partial without sources: %v", err)
	}
	_, err = Overlay(nil, edit(func(a map[string]any) { a["pagesSearched"] = []any{"somewhere"} }))
	if err == nil || !strings.Contains(err.Error(), "only an unpublished list records the pages searched") {
		t.Errorf("pagesSearched on a published list: %v", err)
	}
	c, err := Overlay(nil, edit(func(a map[string]any) {
		a["permissionsState"] = "partial"
		a["permissionSources"] = []any{map[string]any{"title": "Acme permissions", "url": "https://acme.example/p", "stored": "cut"}}
	}))
	if err != nil {
		t.Fatal(err)
	}
	a, _ := c.AppType("Acme MSP Automation")
	if a.PermissionsState != Partial || a.Shape() != Hybrid || len(a.PermissionSources) != 1 {
		t.Errorf("partial app type = %+v", a)
	}
	if got := a.Missing([]Key{a.Permissions[0].Key()}); len(got) != 2 {
		t.Errorf("Missing on a partial list = %v, want the 2 known rows not granted", got)
	}
	a.Permissions = a.PermissionsOfType(Application)
	if a.Shape() != ShapeUnknown {
		t.Errorf("a partial list of application rows only is %s, want unknown", a.Shape())
	}
}

// TestDiffReportsConsentRuleChanges: an overlay that changes who may consent to a default app
// type shows in Diff, and nothing else does.
func TestDiffReportsConsentRuleChanges(t *testing.T) {
	file := `{"version": "x", "consentRules": [{"id": "admin/global-or-privileged-role-administrator", "methods": ["admin"],
	  "summary": "Global Administrator only.", "source": "test",
	  "requirements": [{"kind": "directory-role", "anyOf": [["62e90394-69f5-4237-9190-012177145e10"]]}]}]}`
	c, err := Overlay(nil, OverlayFile{Name: "x.json", Data: []byte(file)})
	if err != nil {
		t.Fatal(err)
	}
	changes := Diff(Default(), c)
	if len(changes) == 0 {
		t.Fatal("no change reported")
	}
	for _, ch := range changes {
		if ch.Kind != ConsentRulesChanged || ch.RequiresConsent() {
			t.Errorf("unexpected change %v", ch)
		}
	}
	if ch := ChangesFor(changes, "MyHub"); len(ch) != 1 || ch[0].String() != "MyHub: the rules of who may consent changed" {
		t.Errorf("MyHub changes = %v", ch)
	}
	if ch := ChangesFor(changes, "APElements Automation"); len(ch) != 0 {
		t.Errorf("APElements Automation does not use the rule: %v", ch)
	}
}

// TestConsentRulesMustNameSomebody: a service whose administrator consent rules require no
// directory role, or whose user consent rules require nothing, is rejected: such a policy would let
// any account consent.
func TestConsentRulesMustNameSomebody(t *testing.T) {
	file := `{"version": "x", "consentRules": [{"id": "note-only", "methods": ["admin", "user"], "summary": "advice", "source": "test", "notes": ["read the guide"]}],
	  "appTypes": [{"name": "MyHub", "family": "aos", "services": ["MyHub"], "modes": ["modern"], "creatable": true, "userConsent": true,
	  "consent": {"admin": [{"rule": "note-only"}], "user": [{"rule": "note-only"}]},
	  "permissionsState": "unpublished", "permissions": [], "directoryRoles": [], "azureRoles": []}]}`
	_, err := Overlay(nil, OverlayFile{Name: "x.json", Data: []byte(file)})
	for _, want := range []string{
		`x.json: appTypes[0] (MyHub).consent.admin: no administrator consent rule for service "MyHub" requires a directory role`,
		`x.json: appTypes[0] (MyHub).consent.user: the user consent rules for service "MyHub" require nothing`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}
}
