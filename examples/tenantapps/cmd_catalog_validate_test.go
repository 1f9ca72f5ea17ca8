package main

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tenantapps/tenantapps/permissions"
)

// acmeCatalog is an MSP's own catalog file: one app type with its own family, service, vendor app
// ID, permissions and consent rule.
const acmeCatalog = "../../permissions/testdata/overlay/acme.json"

func TestCatalogValidate(t *testing.T) {
	dir := t.TempDir()
	replace := filepath.Join(dir, "myhub.json")
	if err := os.WriteFile(replace, []byte(`{"version": "mine.1", "appTypes": [{"name": "MyHub", "family": "aos", "services": ["MyHub"],
	  "modes": ["modern"], "creatable": true, "userConsent": false, "consent": {"admin": [{"rule": "admin/global-or-privileged-role-administrator"}]},
	  "permissionsState": "unpublished", "permissions": [], "directoryRoles": [], "azureRoles": []}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"version": "", "appTypes": [{"name": "X", "family": "x", "services": ["Nowhere"], "modes": ["modern"],
	  "creatable": true, "userConsent": false, "consent": {"admin": []}, "permissionsState": "unpublished", "permissions": [], "directoryRoles": [], "azureRoles": []}]}`), 0o600); err != nil {
		t.Fatal(err)
	}

	code, out, errOut := runCLI(t, "catalog", "validate", "--format", "json", acmeCatalog, replace)
	if code != exitOK {
		t.Fatalf("valid files: exit %d, stderr %s", code, errOut)
	}
	var got catalogValidateJSON
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"Acme MSP Automation"}, got.Added); diff != "" {
		t.Errorf("added (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"MyHub"}, got.Replaced); diff != "" {
		t.Errorf("replaced (-want +got):\n%s", diff)
	}
	if !got.Valid || !strings.HasSuffix(got.Version, "+acme.1+mine.1") || got.AppTypes != len(permissions.Default().AppTypes())+1 {
		t.Errorf("result = %+v", got)
	}

	code, out, _ = runCLI(t, "catalog", "validate", bad, acmeCatalog)
	if code != exitNegative {
		t.Errorf("invalid file: exit %d, want %d", code, exitNegative)
	}
	for _, want := range []string{"Invalid: 3 problem(s)", bad + ": version: missing", bad + `: appTypes[0] (X).services[0]: unknown service "Nowhere"`,
		bad + ": appTypes[0] (X).consent.admin: no rule says who may give administrator consent"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"catalog", "validate"}, "name at least one catalog FILE"},
		{[]string{"catalog", "validate", filepath.Join(dir, "missing.json")}, "no such file"},
		{[]string{"catalog", "--catalog", filepath.Join(dir, "missing.json")}, "no such file"},
		{[]string{"consent-methods", "--app-type", "Acme MSP Automation", "--catalog", bad}, "version: missing"},
	} {
		if code, _, errOut := runCLI(t, tc.args...); code != exitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", tc.args, code, errOut, exitUsage, tc.want)
		}
	}
}

// TestCatalogFlag: every command that reads the catalog knows the embedder's app type with
// --catalog and not without it.
func TestCatalogFlag(t *testing.T) {
	code, out, errOut := runCLI(t, "catalog", "--catalog", acmeCatalog, "--app-type", "Acme MSP Automation")
	if code != exitOK || !strings.Contains(out, "Admin consent rule:  Acme MSP Automation is consented by the customer's Global Administrator.") || !strings.Contains(out, "Files.Read.All") {
		t.Errorf("catalog --catalog: exit %d, %s%s", code, out, errOut)
	}
	code, out, errOut = runCLI(t, "consent-methods", "--catalog", acmeCatalog, "--app-type", "Acme MSP Automation", "--format", "json")
	var m consentMethodsJSON
	if code != exitOK || json.Unmarshal([]byte(out), &m) != nil {
		t.Fatalf("consent-methods --catalog: exit %d, %s%s", code, out, errOut)
	}
	if diff := cmp.Diff([]string{"Global Administrator"}, m.Admin.AnyOf); diff != "" || m.User == nil {
		t.Errorf("consent-methods of Acme (-want +got):\n%s\nuser: %+v", diff, m.User)
	}
	if code, _, errOut := runCLI(t, "consent-check", "--catalog", acmeCatalog, "--app-type", "Acme MSP Automation", "--role", "Privileged Role Administrator"); code != exitNegative {
		t.Errorf("consent-check: a Privileged Role Administrator may not consent to Acme's app: exit %d %s", code, errOut)
	}
	if code, _, errOut := runCLI(t, "consent-check", "--catalog", acmeCatalog, "--app-type", "Acme MSP Automation", "--role", "Global Administrator"); code != exitOK {
		t.Errorf("consent-check: a Global Administrator may consent to Acme's app: exit %d %s", code, errOut)
	}
	// consent-url checks the method against the file's rules: Acme allows user consent.
	vars := map[string]string{envStateKey: base64.StdEncoding.EncodeToString(cliSecret)}
	urlArgs := []string{"consent-url", "--tenant", cliTenant, "--client-id", cliClient, "--redirect-uri", cliRedirect, "--method", "user", "--app-type", "Acme MSP Automation"}
	if code, _, errOut := runCLIOpts(t, cliOpts{vars: vars}, append(urlArgs, "--catalog", acmeCatalog)...); code != exitOK {
		t.Errorf("consent-url --catalog: exit %d %s", code, errOut)
	}
	if code, _, errOut := runCLIOpts(t, cliOpts{vars: vars}, urlArgs...); code != exitUsage || !strings.Contains(errOut, "unknown app type") {
		t.Errorf("consent-url without --catalog: exit %d %s", code, errOut)
	}
	if code, _, errOut := runCLI(t, "consent-methods", "--app-type", "Acme MSP Automation"); code != exitUsage || !strings.Contains(errOut, `"Viva Engage"`) {
		t.Errorf("without --catalog: exit %d, %s", code, errOut)
	}
}
