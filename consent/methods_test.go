package consent

import (
	"bufio"
	"errors"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// allServices lists every service name of the seeds, for splitting the seed's garbled cells.
var allServices = []string{
	svcWorkspaceManagement, svcRiskManagement, svcChangeManagementComm, svcUserAndDeviceManagement,
	svcNitro, svcBaselineManagement, svcAzureSecurityManagement, svcCloudBackupM365, svcPolicies,
	svcInsights, svcFly, svcEnPower, svcCloudBackupIaaSPaaS, svcCloudGovernance, svcMyHub, svcTyGraph,
	svcDMSOnline, svcPortalManager,
}

// splitServices splits a seed cell such as "Cloud GovernanceCloud Backup for Microsoft 365" into the
// service names it runs together, longest name first at each position.
func splitServices(t *testing.T, cell string) []string {
	t.Helper()
	names := append([]string(nil), allServices...)
	sort.Slice(names, func(i, j int) bool { return len(names[i]) > len(names[j]) })
	var out []string
	rest := cell
	for {
		rest = strings.TrimLeft(rest, " /")
		if rest == "" {
			return out
		}
		found := false
		for _, n := range names {
			if strings.HasPrefix(rest, n) {
				out = append(out, n)
				rest = rest[len(n):]
				found = true
				break
			}
		}
		if !found {
			t.Fatalf("cell %q: no known service at %q", cell, rest)
		}
	}
}

// readSeedTable parses testdata/seed003_user_consent_table.md, the seed's table copied verbatim.
func readSeedTable(t *testing.T) []UserConsentRow {
	t.Helper()
	f, err := os.Open("testdata/seed003_user_consent_table.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []UserConsentRow
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "| ") || strings.HasPrefix(line, "| Service ") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if len(cells) != 3 {
			t.Fatalf("line %q: %d cells", line, len(cells))
		}
		appType := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(cells[1]), "(API Permissions Required by Custom Apps)"))
		a, ok := lookupAppType(appType)
		if !ok {
			t.Fatalf("seed app type %q is unknown to the rules", appType)
		}
		entra := strings.TrimSpace(cells[2])
		if strings.HasPrefix(entra, "[custom app name]") {
			entra = ""
		}
		rows = append(rows, UserConsentRow{Services: splitServices(t, strings.TrimSpace(cells[0])), AppType: a.name, EntraAppName: entra})
	}
	return rows
}

// userConsentPairs flattens a user-consent table into sorted "app type | service | Entra name"
// lines: the seed lists the Delegated App in two rows (one per service), the catalog-derived
// table in one row with both services.
func userConsentPairs(rows []UserConsentRow) []string {
	var out []string
	for _, r := range rows {
		for _, s := range r.Services {
			out = append(out, r.AppType+" | "+s+" | "+r.EntraAppName)
		}
	}
	sort.Strings(out)
	return out
}

func TestUserConsentTableMatchesSeed(t *testing.T) {
	want := readSeedTable(t)
	if len(want) != 23 {
		t.Fatalf("seed table has %d rows, want 23", len(want))
	}
	if diff := cmp.Diff(userConsentPairs(want), userConsentPairs(UserConsentTable())); diff != "" {
		t.Errorf("UserConsentTable mismatch (-want +got):\n%s", diff)
	}
}

func TestUserConsentTableIsACopy(t *testing.T) {
	a := UserConsentTable()
	a[0].Services[0] = "changed"
	a[1].AppType = "changed"
	if diff := cmp.Diff(userConsentPairs(readSeedTable(t)), userConsentPairs(UserConsentTable())); diff != "" {
		t.Errorf("UserConsentTable was modified through a returned slice (-want +got):\n%s", diff)
	}
}

// TestMethodsPerSeedRow: every (service, app type) row of the seed offers both methods.
func TestMethodsPerSeedRow(t *testing.T) {
	for i, row := range readSeedTable(t) {
		for _, s := range row.Services {
			got, err := MethodsFor(Target{AppType: row.AppType, Service: s})
			if err != nil {
				t.Errorf("row %d MethodsFor(%q, %q): %v", i+1, row.AppType, s, err)
				continue
			}
			if diff := cmp.Diff([]Method{AdminConsent, UserConsent}, got); diff != "" {
				t.Errorf("row %d MethodsFor(%q, %q) mismatch (-want +got):\n%s", i+1, row.AppType, s, diff)
			}
		}
	}
}

func TestMethods(t *testing.T) {
	both := []Method{AdminConsent, UserConsent}
	admin := []Method{AdminConsent}
	want := map[string][]Method{
		appSecurityAndAnalysis:      admin,
		appAutomation:               admin,
		appBaselineManagement:       admin,
		appCustomBaseline:           admin,
		appAzureSecurityManagement:  admin,
		appInsightsM365:             both,
		appInsightsPowerPlatform:    both,
		appEnPowerM365:              both,
		appEnPowerPowerPlatform:     both,
		appEnPowerTeamsCalling:      both,
		appFlyPowerPlatform:         both,
		appFlyDelegated:             both,
		appFly:                      admin,
		appCloudBackupAzure:         both,
		appDelegated:                both,
		appCloudBackupAzureDevOps:   both,
		appCloudGovPowerPlatform:    both,
		appCloudGovDelegated:        both,
		appMyHub:                    both,
		appPolicies:                 both,
		appTyGraphSuite:             both,
		appTyGraphVivaEngage:        both,
		appCloudBackupExpress:       both,
		appVivaEngage:               both,
		appDMSOnline:                both,
		appPortalManager:            both,
		appPortalManagerRoom:        both,
		appCustomDelegated:          both,
		appCustomAzure:              admin,
		appM365AllPermissions:       admin,
		appCloudBackupAllPermission: admin,
	}
	// Every other app type — those only AvePoint's pages document — is outside seed 003's
	// user-consent table (TestUserConsentTableMatchesSeed) and takes administrator consent only.
	for _, name := range AppTypes() {
		if _, ok := want[name]; !ok {
			want[name] = admin
		}
	}
	if len(want) != len(AppTypes()) {
		t.Errorf("test covers %d app types, the rules know %d", len(want), len(AppTypes()))
	}
	for _, name := range AppTypes() {
		got, err := Methods(name)
		if err != nil {
			t.Errorf("Methods(%q): %v", name, err)
			continue
		}
		if diff := cmp.Diff(want[name], got); diff != "" {
			t.Errorf("Methods(%q) mismatch (-want +got):\n%s", name, diff)
		}
	}
}

func TestMethodsNameMatching(t *testing.T) {
	for _, name := range []string{"Custom app with delegated permissions", "custom  AZURE app with delegated permissions", " viva engage ", "document management system online (dms online)"} {
		got, err := Methods(name)
		if err != nil {
			t.Errorf("Methods(%q): %v", name, err)
			continue
		}
		if diff := cmp.Diff([]Method{AdminConsent, UserConsent}, got); diff != "" {
			t.Errorf("Methods(%q) mismatch (-want +got):\n%s", name, diff)
		}
	}
}

func TestMethodsUnknownAppType(t *testing.T) {
	for _, name := range []string{"", "Insights", "Viva Engage app", "APElements"} {
		got, err := Methods(name)
		if !errors.Is(err, ErrUnknownAppType) {
			t.Errorf("Methods(%q) = %v, %v; want ErrUnknownAppType", name, got, err)
		}
		var te *TargetError
		if !errors.As(err, &te) || te.AppType != name {
			t.Errorf("Methods(%q) error %v is not a *TargetError naming the app type", name, err)
		}
	}
}

func TestParseMethod(t *testing.T) {
	tests := []struct {
		in   string
		want Method
		ok   bool
	}{
		{"admin", AdminConsent, true},
		{"Administrator consent", AdminConsent, true},
		{"USER", UserConsent, true},
		{"User consent", UserConsent, true},
		{"", "", false},
		{"delegated", "", false},
	}
	for _, tt := range tests {
		got, err := ParseMethod(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseMethod(%q) = %q, %v; want %q, ok=%t", tt.in, got, err, tt.want, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrUnknownMethod) {
			t.Errorf("ParseMethod(%q) error %v does not wrap ErrUnknownMethod", tt.in, err)
		}
	}
}

func TestServicesOf(t *testing.T) {
	got, err := ServicesOf("viva engage")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{svcCloudGovernance, svcCloudBackupM365}, got); diff != "" {
		t.Errorf("ServicesOf mismatch (-want +got):\n%s", diff)
	}
	if _, err := ServicesOf("nope"); !errors.Is(err, ErrUnknownAppType) {
		t.Errorf("ServicesOf(nope) error = %v, want ErrUnknownAppType", err)
	}
}
