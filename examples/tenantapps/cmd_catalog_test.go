package main

import (
	"strings"
	"testing"

	"github.com/tenantapps/tenantapps/permissions"
)

func TestCatalogGolden(t *testing.T) {
	testGoldens(t, []goldenCase{
		{"catalog.json", exitOK, []string{"catalog", "--format", "json"}},
		{"catalog_table.txt", exitOK, []string{"catalog"}},
		{"catalog_baseline_table.txt", exitOK, []string{"catalog", "--format=table", "--app-type", "APElements Baseline Management"}},
		{"catalog_delegated_app_table.txt", exitOK, []string{"catalog", "--app-type", "delegated app"}},
		{"catalog_asm.json", exitOK, []string{"catalog", "--format", "json", "--app-type", "APElements Azure Security Management"}},
	})
}

// TestCatalogJSONIsTheExport: the JSON output loads as a catalog equal to the embedded one.
func TestCatalogJSONIsTheExport(t *testing.T) {
	_, out, _ := runCLI(t, "catalog", "--format", "json")
	c, err := permissions.Load([]byte(out))
	if err != nil {
		t.Fatalf("catalog --format json does not load: %v", err)
	}
	if d := permissions.Diff(permissions.Default(), c); len(d) != 0 {
		t.Errorf("exported catalog differs from the default: %v", d)
	}
	for _, format := range []string{"table", "json"} {
		if code, _, _ := runCLI(t, "catalog", "--format", format, "--app-type", "nitro"); code != exitUsage {
			t.Errorf("--format %s --app-type nitro (a service, not an app type) exit %d, want %d", format, code, exitUsage)
		}
	}
	_, out, _ = runCLI(t, "catalog", "--format", "json", "--app-type", "apelements automation")
	c, err = permissions.Load([]byte(out))
	if err != nil {
		t.Fatalf("filtered JSON does not load: %v", err)
	}
	if a := c.AppTypes(); len(a) != 1 || a[0].Name != "APElements Automation" || len(a[0].Permissions) != 16 {
		t.Errorf("filtered JSON holds %d app types, want only APElements Automation with 16 permissions", len(a))
	}
}

func TestCatalogUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		code     int
		inStderr string
	}{
		{[]string{"catalog", "--format", "yaml"}, exitUsage, `unknown --format "yaml": use table or json`},
		{[]string{"catalog", "--bogus"}, exitUsage, "flag provided but not defined: -bogus"},
		{[]string{"catalog", "extra"}, exitUsage, `unexpected argument "extra"`},
		{[]string{"catalog", "--app-type", "APElements Nothing"}, exitUsage, "use one of: APElements Security and Analysis"},
		{[]string{"catalog", "--app-type"}, exitUsage, "flag needs an argument"},
		{[]string{"catalog", "--help"}, exitOK, "usage: tenantapps catalog"},
	} {
		code, out, errOut := runCLI(t, tc.args...)
		if code != tc.code {
			t.Errorf("%v: exit %d, want %d", tc.args, code, tc.code)
		}
		if !strings.Contains(errOut, tc.inStderr) {
			t.Errorf("%v: stderr %q lacks %q", tc.args, errOut, tc.inStderr)
		}
		if out != "" {
			t.Errorf("%v: wrote %q to stdout on a usage error", tc.args, out)
		}
	}
}
