package permissions

import (
	"bufio"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// seedRow is one row of a permission table in seed 000, as the seed prints it.
type seedRow struct {
	AppType     string
	Resource    string
	Value       string
	Type        Kind
	Description string
}

// seedHeadings maps each seed table heading to the app type it lists.
var seedHeadings = map[string]string{
	"App Permissions Required by Nitro":                     "APElements Automation",
	"App Permissions Required by Baseline Management":       "APElements Baseline Management",
	"App Permissions Required by Other Premium Services":    "APElements Security and Analysis",
	"App Permissions Required by Azure Security Management": "APElements Azure Security Management",
}

// seedResources are the API names the seed tables use; a row starts with one of them.
var seedResources = []string{
	"Microsoft Information Protection Sync Service", "Skype and Teams Tenant Admin API",
	"Azure Rights Management Services", "Office 365 Exchange Online", "Office 365 Management APIs",
	"Azure Service Management", "Microsoft Graph", "Power BI Service", "PowerApps Service",
	"ProjectWorkManagement", "Dynamics CRM", "SharePoint",
}

var seedRowRE = regexp.MustCompile(`^([^()]+)\((.*)\)(Application|Delegated)$`)

// readSeedTables parses testdata/seed_tables.txt (the seed's tables, verbatim). The only
// normalization is non-breaking space → space in descriptions.
func readSeedTables(t *testing.T) []seedRow {
	t.Helper()
	f, err := os.Open("testdata/seed_tables.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []seedRow
	appType := ""
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") || line == "APIPermissionType" {
			continue
		}
		if at, ok := seedHeadings[line]; ok {
			appType = at
			continue
		}
		if appType == "" {
			t.Fatalf("seed_tables.txt:%d: row before any heading: %q", n, line)
		}
		resource := ""
		for _, r := range seedResources {
			if strings.HasPrefix(line, r) {
				resource = r
				break
			}
		}
		m := seedRowRE.FindStringSubmatch(strings.TrimPrefix(line, resource))
		if resource == "" || m == nil {
			t.Fatalf("seed_tables.txt:%d: cannot parse row %q", n, line)
		}
		rows = append(rows, seedRow{AppType: appType, Resource: resource, Value: m[1], Type: Kind(m[3]),
			Description: strings.ReplaceAll(m[2], "\u00a0", " ")})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// seedValueCorrections are the seed's misspelt permission values and Microsoft's exact value.
var seedValueCorrections = map[seedRow]string{
	{AppType: "APElements Security and Analysis", Resource: "Microsoft Graph", Value: "User.Read.all", Type: Delegated}:                   "User.Read.All",
	{AppType: "APElements Azure Security Management", Resource: "Azure Service Management", Value: "User_impersonation", Type: Delegated}: "user_impersonation",
}

// seedDescriptionCorrections are the rows whose seed text differs from Microsoft's display name
// in words, not only typography (quotes, case, hyphens, spacing, a final period). The catalog
// keeps Microsoft's text in Description and the seed's in SeedDescription.
var seedDescriptionCorrections = []seedRow{
	{"APElements Security and Analysis", "Microsoft Graph", "AdministrativeUnit.ReadWrite.All", Application, "Read and write administrative units"},
	{"APElements Security and Analysis", "Microsoft Graph", "BitlockerKey.Read.All", Application, "Read BitLocker keys"},
	{"APElements Security and Analysis", "Microsoft Graph", "TeamSettings.ReadWrite.All", Delegated, "Read and change all teams' settings"},
	{"APElements Security and Analysis", "Power BI Service", "Dashboard.ReadWrite.All", Delegated, "Read and write all dashboards"},
	{"APElements Security and Analysis", "Power BI Service", "Dataflow.ReadWrite.All", Delegated, "Read and write all dataflows"},
	{"APElements Security and Analysis", "Power BI Service", "Report.ReadWrite.All", Delegated, "Read and write all reports"},
	{"APElements Security and Analysis", "Power BI Service", "Workspace.ReadWrite.All", Delegated, "View and write all workspaces"},
	// The seed's error the issue names: Application.ReadWrite.All is "Read and write all applications".
	{"APElements Baseline Management", "Microsoft Graph", "Application.ReadWrite.All", Application, "Read and write all terms of use agreements"},
	{"APElements Baseline Management", "Microsoft Graph", "Policy.ReadWrite.CrossTenantAccess", Application, "Read and write your organization’s cross tenant access policy"},
}

func typographic(s string) string {
	s = strings.ToLower(strings.NewReplacer("\u2019", "'", "\u00a0", " ", "-", " ").Replace(s))
	return strings.TrimSuffix(strings.Join(strings.Fields(s), " "), ".")
}

// TestCatalogMatchesSeedTables checks the embedded catalog against the seed's four tables row
// by row: any missing, extra or mistyped row fails with a diff.
func TestCatalogMatchesSeedTables(t *testing.T) {
	seed := readSeedTables(t)
	counts := map[string]int{}
	for _, r := range seed {
		counts[r.AppType]++
	}
	wantCounts := map[string]int{
		"APElements Automation": 16, "APElements Baseline Management": 51,
		"APElements Security and Analysis": 53, "APElements Azure Security Management": 2,
	}
	if diff := cmp.Diff(wantCounts, counts); diff != "" {
		t.Fatalf("seed_tables.txt row counts mismatch (-want +got):\n%s", diff)
	}

	// The seed, corrected by the explicit lists above.
	var want []seedRow
	for _, r := range seed {
		key := r
		key.Description = ""
		if v, ok := seedValueCorrections[key]; ok {
			r.Value = v
		}
		want = append(want, r)
	}
	// The catalog, shown in the seed's terms: seed value and seed description where recorded.
	var got []seedRow
	c := Default()
	for _, name := range seedAppTypes {
		a, err := c.AppType(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range a.Permissions {
			d := p.Description
			if p.SeedDescription != "" {
				d = p.SeedDescription
			}
			got = append(got, seedRow{AppType: a.Name, Resource: p.Resource, Value: p.Value, Type: p.Type, Description: d})
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("catalog vs seed tables mismatch (-seed +catalog):\n%s", diff)
	}

	// Every SeedValue is one of the documented corrections; every word-level description
	// difference is documented.
	var gotValueFixes, gotDescFixes []seedRow
	for _, name := range seedAppTypes {
		a, _ := c.AppType(name)
		for _, p := range a.Permissions {
			if p.SeedValue != "" {
				gotValueFixes = append(gotValueFixes, seedRow{AppType: a.Name, Resource: p.Resource, Value: p.SeedValue, Type: p.Type})
			}
			if p.SeedDescription == p.Description {
				t.Errorf("%s %s: SeedDescription equals Description; leave it empty", a.Name, p)
			}
			if p.SeedDescription != "" && typographic(p.SeedDescription) != typographic(p.Description) {
				gotDescFixes = append(gotDescFixes, seedRow{a.Name, p.Resource, p.Value, p.Type, p.SeedDescription})
			}
		}
	}
	var wantValueFixes []seedRow
	for k := range seedValueCorrections {
		wantValueFixes = append(wantValueFixes, k)
	}
	less := func(a, b seedRow) bool { return a.AppType+a.Value < b.AppType+b.Value }
	if diff := cmp.Diff(wantValueFixes, gotValueFixes, cmpopts.SortSlices(less)); diff != "" {
		t.Errorf("value corrections mismatch (-documented +catalog):\n%s", diff)
	}
	if diff := cmp.Diff(seedDescriptionCorrections, gotDescFixes, cmpopts.SortSlices(less)); diff != "" {
		t.Errorf("description corrections mismatch (-documented +catalog):\n%s", diff)
	}
}

// seedAppTypes are the app types whose permissions seed 000 publishes, in the seed's order.
var seedAppTypes = []string{"APElements Automation", "APElements Baseline Management", "APElements Security and Analysis", "APElements Azure Security Management"}
