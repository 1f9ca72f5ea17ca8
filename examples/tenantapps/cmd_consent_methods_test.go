package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tenantapps/tenantapps/consent"
)

func TestConsentMethodsGolden(t *testing.T) {
	testGoldens(t, []goldenCase{
		{"consent_methods_viva_engage_backup.json", exitOK, []string{"consent-methods", "--app-type", "Viva Engage", "--service", "Cloud Backup for Microsoft 365", "--format", "json"}},
		{"consent_methods_baseline.json", exitOK, []string{"consent-methods", "--app-type", "APElements Baseline Management", "--format=json"}},
		{"consent_methods_fly_app.json", exitOK, []string{"consent-methods", "--app-type", "fly app", "--format", "json"}},
		{"consent_methods_cloud_governance_delegated.json", exitOK, []string{"consent-methods", "--app-type", "Cloud Governance Delegated App", "--format", "json"}},
		{"consent_methods_backup_delegated.txt", exitOK, []string{"consent-methods", "--app-type", "Delegated App", "--service", "cloud backup for microsoft 365"}},
		{"consent_methods_custom_azure.txt", exitOK, []string{"consent-methods", "--app-type", "Custom Azure app"}},
	})
}

// TestConsentMethodsEveryAppType: the JSON answer exists for every (app type, service) and agrees
// with the library.
func TestConsentMethodsEveryAppType(t *testing.T) {
	for _, name := range consent.AppTypes() {
		services, err := consent.ServicesOf(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range services {
			code, out, errOut := runCLI(t, "consent-methods", "--app-type", name, "--service", s, "--format", "json")
			if code != exitOK {
				t.Fatalf("%s / %s: exit %d: %s", name, s, code, errOut)
			}
			var got consentMethodsJSON
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("%s / %s: %v", name, s, err)
			}
			methods, _ := consent.MethodsFor(consent.Target{AppType: name, Service: s})
			if diff := cmp.Diff(methods, got.Methods); diff != "" {
				t.Errorf("%s / %s methods mismatch (-want +got):\n%s", name, s, diff)
			}
			if got.AppType != name || got.Service != s || len(got.Admin.AnyOf) == 0 || (got.User != nil) != (len(methods) == 2) {
				t.Errorf("%s / %s: %+v", name, s, got)
			}
		}
	}
}

func TestConsentMethodsUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		code    int
		wantErr string
	}{
		{[]string{"consent-methods"}, exitUsage, "--app-type is required"},
		{[]string{"consent-methods", "--app-type", "Nope"}, exitUsage, `unknown app type "Nope"`},
		{[]string{"consent-methods", "--app-type", "Viva Engage"}, exitUsage, "service required"},
		{[]string{"consent-methods", "--app-type", "Viva Engage", "--service", "Insights"}, exitUsage, "does not serve"},
		{[]string{"consent-methods", "--app-type", "MyHub", "--format", "xml"}, exitUsage, "unknown --format"},
		{[]string{"consent-methods", "--app-type", "MyHub", "extra"}, exitUsage, "unexpected argument"},
		{[]string{"consent-methods", "--bogus"}, exitUsage, "flag provided but not defined"},
		{[]string{"consent-methods", "--help"}, exitOK, "usage: tenantapps consent-methods"},
	} {
		code, out, errOut := runCLI(t, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.wantErr) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", tc.args, code, errOut, tc.code, tc.wantErr)
		}
		if tc.code != exitOK && out != "" {
			t.Errorf("%v: stdout %q on error", tc.args, out)
		}
	}
}
