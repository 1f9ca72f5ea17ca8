package consent

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tenantapps/tenantapps/roles"
)

func account(rs ...roles.TemplateID) Consenter { return Consenter{Roles: rs} }

var (
	ga       = roles.GlobalAdministrator
	pra      = roles.PrivilegedRoleAdministrator
	yammer   = roles.YammerAdministrator
	teams    = roles.TeamsAdministrator
	ppa      = roles.PowerPlatformAdministrator
	fabric   = roles.FabricAdministrator
	backup   = roles.Microsoft365BackupAdministrator
	exchange = roles.ExchangeAdministrator

	granted = TenantFacts{AdminConsentGranted: true}
)

type evalCase struct {
	name   string
	rules  []RuleID // the rules the case exercises
	target Target
	method Method
	who    Consenter
	facts  TenantFacts
	want   Decision // Target and Method are filled in from the case when empty
}

func req(kind RequirementKind, rule RuleID) Requirement { return Requirement{Kind: kind, Rule: rule} }

func withCond(r Requirement, c Condition) Requirement { r.Condition = c; return r }

var evalCases = []evalCase{
	// Administrator consent: the base rule.
	{name: "base/global admin", rules: []RuleID{RuleAdminBase}, target: Target{AppType: appInsightsM365}, method: AdminConsent,
		who: account(ga), want: Decision{Allowed: true}},
	{name: "base/privileged role admin", rules: []RuleID{RuleAdminBase}, target: Target{AppType: appPolicies}, method: AdminConsent,
		who: account(pra), want: Decision{Allowed: true}},
	{name: "base/teams admin is not enough", rules: []RuleID{RuleAdminBase}, target: Target{AppType: appMyHub}, method: AdminConsent,
		who: account(teams), want: Decision{Missing: []Requirement{roleReq(RuleAdminBase, gaOnly, praOnly)}}},
	{name: "base/no roles, classic app", rules: []RuleID{RuleAdminBase}, target: Target{AppType: appM365AllPermissions}, method: AdminConsent,
		want: Decision{Missing: []Requirement{roleReq(RuleAdminBase, gaOnly, praOnly)}}},
	{name: "base/delegated app for IaaS + PaaS allows PRA", rules: []RuleID{RuleAdminBase}, target: Target{AppType: appDelegated, Service: svcCloudBackupIaaSPaaS}, method: AdminConsent,
		who: account(pra), want: Decision{Allowed: true}},
	// Elements premium.
	{name: "elements/global admin", rules: []RuleID{RuleAdminElementsPremium}, target: Target{AppType: appBaselineManagement}, method: AdminConsent,
		who: account(ga), want: Decision{Allowed: true}},
	{name: "elements/privileged role admin is not enough", rules: []RuleID{RuleAdminElementsPremium}, target: Target{AppType: appSecurityAndAnalysis, Service: svcRiskManagement}, method: AdminConsent,
		who: account(pra), want: Decision{Missing: []Requirement{roleReq(RuleAdminElementsPremium, gaOnly)}}},
	{name: "elements/custom baseline app", rules: []RuleID{RuleAdminElementsPremium}, target: Target{AppType: appCustomBaseline}, method: AdminConsent,
		who: account(pra), want: Decision{Missing: []Requirement{roleReq(RuleAdminElementsPremium, gaOnly)}}},
	// Viva Engage default app.
	{name: "viva engage/engage admin may consent", rules: []RuleID{RuleAdminVivaEngageDefault}, target: Target{AppType: appVivaEngage, Service: svcCloudGovernance}, method: AdminConsent,
		who: account(yammer), want: Decision{Allowed: true}},
	{name: "viva engage/nobody", rules: []RuleID{RuleAdminVivaEngageDefault}, target: Target{AppType: appVivaEngage, Service: svcCloudGovernance}, method: AdminConsent,
		who: account(teams), want: Decision{Missing: []Requirement{roleReq(RuleAdminVivaEngageDefault, gaOnly, praOnly, RoleSet{yammer})}}},
	// Fly.
	{name: "fly/app: PRA allowed with a note", rules: []RuleID{RuleAdminBase, RuleAdminFlyPrivilegedRole}, target: Target{AppType: appFly}, method: AdminConsent,
		who: account(pra), want: Decision{Allowed: true, Notes: []Note{{RuleAdminFlyPrivilegedRole, "a Privileged Role Administrator consenting to a Fly app may need additional permissions; see Fly App Profile Permissions"}}}},
	{name: "fly/delegated app note", rules: []RuleID{RuleAdminBase, RuleAdminFlyPrivilegedRole}, target: Target{AppType: appFlyDelegated}, method: AdminConsent,
		who: account(ga), want: Decision{Allowed: true, Notes: []Note{{RuleAdminFlyPrivilegedRole, "a Privileged Role Administrator consenting to a Fly app may need additional permissions; see Fly Delegated App Profile Permissions"}}}},
	{name: "fly/custom app for Fly", rules: []RuleID{RuleAdminBase, RuleAdminFlyPrivilegedRole}, target: Target{AppType: appCustomDelegated, Service: svcFly}, method: AdminConsent,
		want: Decision{Missing: []Requirement{roleReq(RuleAdminBase, gaOnly, praOnly)}, Notes: []Note{{RuleAdminFlyPrivilegedRole, "a Privileged Role Administrator consenting to a Fly app may need additional permissions; see the Fly permission guides"}}}},
	{name: "fly for power platform/PRA alone", rules: []RuleID{RuleAdminFlyPowerPlatform}, target: Target{AppType: appFlyPowerPlatform}, method: AdminConsent,
		who: account(pra), want: Decision{Missing: []Requirement{roleReq(RuleAdminFlyPowerPlatform, gaOnly, RoleSet{pra, ppa})}}},
	{name: "fly for power platform/PRA and Power Platform admin", rules: []RuleID{RuleAdminFlyPowerPlatform}, target: Target{AppType: appFlyPowerPlatform}, method: AdminConsent,
		who: account(ppa, pra), want: Decision{Allowed: true}},
	{name: "fly for power platform/global admin", rules: []RuleID{RuleAdminFlyPowerPlatform}, target: Target{AppType: appFlyPowerPlatform}, method: AdminConsent,
		who: account(ga), want: Decision{Allowed: true}},
	// Portal Manager.
	{name: "portal manager/PRA alone", rules: []RuleID{RuleAdminPortalManager}, target: Target{AppType: appPortalManager}, method: AdminConsent,
		who: account(pra), want: Decision{Missing: []Requirement{roleReq(RuleAdminPortalManager, gaOnly, RoleSet{pra, teams})}}},
	{name: "portal manager/PRA and Teams admin", rules: []RuleID{RuleAdminPortalManager}, target: Target{AppType: appPortalManagerRoom}, method: AdminConsent,
		who: account(teams, pra), want: Decision{Allowed: true}},
	{name: "portal manager/custom app, global admin", rules: []RuleID{RuleAdminPortalManager}, target: Target{AppType: appCustomDelegatedAlias, Service: svcPortalManager}, method: AdminConsent,
		who: account(ga), want: Decision{Allowed: true}},
	// Cloud Backup for Microsoft 365 delegated app.
	{name: "cloud backup delegated/PRA is not enough", rules: []RuleID{RuleAdminCloudBackupDelegated}, target: Target{AppType: appDelegated, Service: svcCloudBackupM365, Functions: []BackupFunction{FunctionProtectPowerBI}}, method: AdminConsent,
		who: account(pra), want: Decision{Missing: []Requirement{roleReq(RuleAdminCloudBackupDelegated, gaOnly)}}},
	{name: "cloud backup delegated/no functions chosen", rules: []RuleID{RuleAdminCloudBackupDelegated, RuleCloudBackupFunctions}, target: Target{AppType: appDelegated, Service: svcCloudBackupM365}, method: AdminConsent,
		who: account(ga), want: Decision{Missing: []Requirement{req(KindBackupFunctionsChosen, RuleCloudBackupFunctions)}}},
	{name: "cloud backup delegated/global admin with functions", rules: []RuleID{RuleAdminCloudBackupDelegated, RuleCloudBackupFunctions}, target: Target{AppType: appDelegated, Service: svcCloudBackupM365, Functions: BackupFunctions()}, method: AdminConsent,
		who: account(ga), want: Decision{Allowed: true}},
	{name: "cloud backup delegated/neither", rules: []RuleID{RuleAdminCloudBackupDelegated, RuleCloudBackupFunctions}, target: Target{AppType: appDelegated, Service: svcCloudBackupM365}, method: AdminConsent,
		want: Decision{Missing: []Requirement{roleReq(RuleAdminCloudBackupDelegated, gaOnly), req(KindBackupFunctionsChosen, RuleCloudBackupFunctions)}}},
	// Cloud Backup's Viva Engage app.
	{name: "cloud backup viva engage/global admin alone lacks all three", rules: []RuleID{RuleAdminCloudBackupVivaEngage}, target: Target{AppType: appVivaEngage, Service: svcCloudBackupM365}, method: AdminConsent,
		who: account(ga), want: Decision{Missing: []Requirement{
			roleReq(RuleAdminCloudBackupVivaEngage, RoleSet{yammer}),
			req(KindVivaEngageVerifiedAdmin, RuleAdminCloudBackupVivaEngage),
			{Kind: KindLicense, Rule: RuleAdminCloudBackupVivaEngage, License: LicenseVivaEngage}}}},
	{name: "cloud backup viva engage/yammer admin without licence", rules: []RuleID{RuleAdminCloudBackupVivaEngage}, target: Target{AppType: appVivaEngage, Service: svcCloudBackupM365}, method: AdminConsent,
		who: Consenter{Roles: []roles.TemplateID{yammer}, VivaEngageVerifiedAdmin: true}, want: Decision{Missing: []Requirement{
			{Kind: KindLicense, Rule: RuleAdminCloudBackupVivaEngage, License: LicenseVivaEngage}}}},
	{name: "cloud backup viva engage/all three", rules: []RuleID{RuleAdminCloudBackupVivaEngage}, target: Target{AppType: appVivaEngage, Service: svcCloudBackupM365}, method: AdminConsent,
		who: Consenter{Roles: []roles.TemplateID{yammer}, VivaEngageVerifiedAdmin: true, Licenses: []License{LicenseVivaEngage}}, want: Decision{Allowed: true}},
	// Cloud Backup Express.
	{name: "cloud backup express/global admin lacks backup admin", rules: []RuleID{RuleAdminCloudBackupExpress}, target: Target{AppType: appCloudBackupExpress}, method: AdminConsent,
		who: account(ga), want: Decision{Missing: []Requirement{roleReq(RuleAdminCloudBackupExpress, RoleSet{backup})}}},
	{name: "cloud backup express/backup admin", rules: []RuleID{RuleAdminCloudBackupExpress}, target: Target{AppType: appCloudBackupExpress}, method: AdminConsent,
		who: account(backup), want: Decision{Allowed: true}},
	// Cloud Governance delegated app.
	{name: "cloud governance delegated/exchange admin", rules: []RuleID{RuleAdminCloudGovDelegated}, target: Target{AppType: appCloudGovDelegated}, method: AdminConsent,
		who: account(exchange), want: Decision{Allowed: true}},
	{name: "cloud governance delegated/PRA is not enough", rules: []RuleID{RuleAdminCloudGovDelegated}, target: Target{AppType: appCloudGovDelegated}, method: AdminConsent,
		who: account(pra), want: Decision{Missing: []Requirement{roleReq(RuleAdminCloudGovDelegated, gaOnly, RoleSet{exchange})}}},

	// User consent.
	{name: "user/admin consent not granted yet", rules: []RuleID{RuleUserAdminConsentGranted}, target: Target{AppType: appInsightsM365}, method: UserConsent,
		want: Decision{Missing: []Requirement{req(KindAdminConsentGranted, RuleUserAdminConsentGranted)}}},
	{name: "user/any account once admin consent is granted", rules: []RuleID{RuleUserAdminConsentGranted}, target: Target{AppType: appTyGraphSuite}, method: UserConsent,
		facts: granted, want: Decision{Allowed: true}},
	{name: "user/scanning environments needs Power Platform admin", rules: []RuleID{RuleUserPowerPlatformScan}, target: Target{AppType: appInsightsPowerPlatform}, method: UserConsent,
		facts: TenantFacts{AdminConsentGranted: true, Scans: []ScanObject{ScanEnvironments}},
		want:  Decision{Missing: []Requirement{withCond(roleReq(RuleUserPowerPlatformScan, RoleSet{ppa}), WhenScanningPowerPlatform)}}},
	{name: "user/scanning copilot studio with Power Platform admin", rules: []RuleID{RuleUserPowerPlatformScan}, target: Target{AppType: appCloudGovPowerPlatform}, method: UserConsent,
		who: account(ppa), facts: TenantFacts{AdminConsentGranted: true, Scans: []ScanObject{ScanCopilotStudio}}, want: Decision{Allowed: true}},
	{name: "user/scanning Power BI without licence or role", rules: []RuleID{RuleUserPowerBIScan, RuleUserAdminConsentGranted}, target: Target{AppType: appInsightsPowerPlatform}, method: UserConsent,
		who: account(ppa), facts: TenantFacts{Scans: []ScanObject{ScanPowerBI}},
		want: Decision{Missing: []Requirement{
			req(KindAdminConsentGranted, RuleUserAdminConsentGranted),
			{Kind: KindLicense, Rule: RuleUserPowerBIScan, Condition: WhenScanningPowerBI, License: LicensePowerBI},
			withCond(roleReq(RuleUserPowerBIScan, RoleSet{fabric}), WhenScanningPowerBI)}}},
	{name: "user/scanning Power BI with licence only", rules: []RuleID{RuleUserPowerBIScan}, target: Target{AppType: appEnPowerPowerPlatform}, method: UserConsent,
		who: Consenter{Licenses: []License{LicensePowerBI}}, facts: TenantFacts{AdminConsentGranted: true, Scans: []ScanObject{ScanPowerBI}},
		want: Decision{Missing: []Requirement{withCond(roleReq(RuleUserPowerBIScan, RoleSet{fabric}), WhenScanningPowerBI)}}},
	{name: "user/scanning everything with licence and both roles", rules: []RuleID{RuleUserPowerBIScan, RuleUserPowerPlatformScan}, target: Target{AppType: appFlyPowerPlatform}, method: UserConsent,
		who: Consenter{Roles: []roles.TemplateID{fabric, ppa}, Licenses: []License{LicensePowerBI}}, facts: TenantFacts{AdminConsentGranted: true, Scans: []ScanObject{ScanPowerBI, ScanSolutions, ScanPowerAutomate}},
		want: Decision{Allowed: true}},
	{name: "user/viva engage for cloud governance needs engage admin", rules: []RuleID{RuleUserVivaEngage}, target: Target{AppType: appVivaEngage, Service: svcCloudGovernance}, method: UserConsent,
		facts: granted, want: Decision{Missing: []Requirement{roleReq(RuleUserVivaEngage, RoleSet{yammer})}}},
	{name: "user/viva engage for cloud backup with engage admin", rules: []RuleID{RuleUserVivaEngage}, target: Target{AppType: appVivaEngage, Service: svcCloudBackupM365}, method: UserConsent,
		who: account(yammer), facts: granted, want: Decision{Allowed: true}},
	{name: "user/cloud backup express needs backup admin", rules: []RuleID{RuleUserCloudBackupExpress}, target: Target{AppType: appCloudBackupExpress}, method: UserConsent,
		who: account(ga), facts: granted, want: Decision{Missing: []Requirement{roleReq(RuleUserCloudBackupExpress, RoleSet{backup})}}},
	{name: "user/cloud backup express with backup admin", rules: []RuleID{RuleUserCloudBackupExpress}, target: Target{AppType: appCloudBackupExpress}, method: UserConsent,
		who: account(backup), facts: granted, want: Decision{Allowed: true}},
	{name: "user/portal manager custom app needs teams admin", rules: []RuleID{RuleUserPortalManagerCustomApp}, target: Target{AppType: appCustomDelegated, Service: svcPortalManager}, method: UserConsent,
		who: account(pra), facts: granted, want: Decision{Missing: []Requirement{roleReq(RuleUserPortalManagerCustomApp, RoleSet{teams}, gaOnly)}}},
	{name: "user/portal manager custom app, teams admin", rules: []RuleID{RuleUserPortalManagerCustomApp}, target: Target{AppType: appCustomDelegated, Service: svcPortalManager}, method: UserConsent,
		who: account(teams), facts: granted, want: Decision{Allowed: true}},
	{name: "user/portal manager custom app, higher role", rules: []RuleID{RuleUserPortalManagerCustomApp}, target: Target{AppType: appCustomDelegated, Service: svcPortalManager}, method: UserConsent,
		who: account(ga), facts: granted, want: Decision{Allowed: true}},
	{name: "user/portal manager default app needs no role", rules: []RuleID{RuleUserAdminConsentGranted}, target: Target{AppType: appPortalManager}, method: UserConsent,
		facts: granted, want: Decision{Allowed: true}},
	{name: "user/cloud governance delegated needs a group owner", rules: []RuleID{RuleUserCloudGovGroupOwner}, target: Target{AppType: appCloudGovDelegated}, method: UserConsent,
		facts: granted, want: Decision{Missing: []Requirement{req(KindGroupOwner, RuleUserCloudGovGroupOwner)}}},
	{name: "user/cloud governance delegated, owner, no settings change", rules: []RuleID{RuleUserCloudGovGroupOwner}, target: Target{AppType: appCloudGovDelegated}, method: UserConsent,
		who: Consenter{OwnedGroups: []string{"g1"}}, facts: granted, want: Decision{Allowed: true}},
	{name: "user/cloud governance delegated, changed groups not all owned", rules: []RuleID{RuleUserCloudGovChangedGroups}, target: Target{AppType: appCloudGovDelegated}, method: UserConsent,
		who:   Consenter{OwnedGroups: []string{"AAAAAAAA-0000-0000-0000-000000000001"}},
		facts: TenantFacts{AdminConsentGranted: true, GroupsWithSettingChanges: []string{"aaaaaaaa-0000-0000-0000-000000000001", "g2", "g3", "g2"}},
		want:  Decision{Missing: []Requirement{{Kind: KindOwnerOfChangedGroups, Rule: RuleUserCloudGovChangedGroups, Condition: WhenChangingGroupSettings, Groups: []string{"g2", "g3"}}}}},
	{name: "user/cloud governance delegated, owns every changed group", rules: []RuleID{RuleUserCloudGovChangedGroups}, target: Target{AppType: appCloudGovDelegated}, method: UserConsent,
		who: Consenter{OwnedGroups: []string{"g1", "g2"}}, facts: TenantFacts{AdminConsentGranted: true, GroupsWithSettingChanges: []string{"g2"}}, want: Decision{Allowed: true}},
	{name: "user/cloud backup delegated app needs functions", rules: []RuleID{RuleCloudBackupFunctions}, target: Target{AppType: appDelegated, Service: svcCloudBackupM365}, method: UserConsent,
		facts: granted, want: Decision{Missing: []Requirement{req(KindBackupFunctionsChosen, RuleCloudBackupFunctions)}}},
	{name: "user/cloud backup delegated app with functions", rules: []RuleID{RuleCloudBackupFunctions}, target: Target{AppType: appDelegated, Service: svcCloudBackupM365, Functions: []BackupFunction{FunctionRestorePlannerTaskComments}}, method: UserConsent,
		facts: granted, want: Decision{Allowed: true}},
}

func TestEvaluate(t *testing.T) {
	for _, tc := range evalCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Evaluate(tc.target, tc.method, tc.who, tc.facts)
			if err != nil {
				t.Fatalf("Evaluate: %v", err)
			}
			want := tc.want
			want.Method = tc.method
			a, svc, err := DefaultRulebook().resolve(tc.target)
			if err != nil {
				t.Fatal(err)
			}
			want.Target = Target{AppType: a.name, Service: svc, Functions: tc.target.Functions}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Evaluate mismatch (-want +got):\n%s", diff)
			}
			if (got.Err() == nil) != got.Allowed {
				t.Errorf("Err() = %v with Allowed = %t", got.Err(), got.Allowed)
			}
			for _, m := range got.Missing {
				fired := false
				for _, r := range tc.rules {
					fired = fired || r == m.Rule
				}
				if !fired {
					t.Errorf("missing requirement from rule %s, which the case does not list", m.Rule)
				}
			}
		})
	}
}

// TestEveryRuleHasCases: no rule of Rules() goes untested, and every case names known rules.
func TestEveryRuleHasCases(t *testing.T) {
	known := map[RuleID]bool{}
	for _, r := range Rules() {
		known[r.ID] = true
	}
	covered := map[RuleID]int{}
	for _, tc := range evalCases {
		for _, r := range tc.rules {
			if !known[r] {
				t.Errorf("case %q names unknown rule %q", tc.name, r)
			}
			covered[r]++
		}
	}
	for _, r := range Rules() {
		if covered[r.ID] < 1 {
			t.Errorf("rule %s has no Evaluate case", r.ID)
		}
		if r.Summary == "" || r.Seed == "" || len(r.Methods) == 0 {
			t.Errorf("rule %s is undocumented: %+v", r.ID, r)
		}
	}
}

// TestEveryRuleReachable: each rule is produced by PolicyFor for some target the rules know, so
// none is dead.
func TestEveryRuleReachable(t *testing.T) {
	produced := map[RuleID]bool{}
	for _, name := range AppTypes() {
		services, _ := ServicesOf(name)
		for _, s := range services {
			for _, m := range []Method{AdminConsent, UserConsent} {
				p, err := PolicyFor(Target{AppType: name, Service: s}, m)
				if errors.Is(err, ErrMethodNotSupported) {
					continue
				}
				if err != nil {
					t.Fatalf("PolicyFor(%q, %q, %s): %v", name, s, m, err)
				}
				if len(p.Requirements) == 0 {
					t.Errorf("PolicyFor(%q, %q, %s) has no requirement", name, s, m)
				}
				for _, r := range p.Requirements {
					produced[r.Rule] = true
				}
				for _, n := range p.Notes {
					produced[n.Rule] = true
				}
			}
		}
	}
	for _, r := range Rules() {
		if !produced[r.ID] {
			t.Errorf("rule %s is never produced by PolicyFor", r.ID)
		}
	}
}

// TestUserConsentPerSeedRow: for every row and service of the seed's table, user consent is
// refused without admin consent granted and allowed for an account holding every relevant role.
func TestUserConsentPerSeedRow(t *testing.T) {
	everything := Consenter{
		Roles:                   []roles.TemplateID{ga, yammer, backup, teams, ppa, fabric},
		Licenses:                []License{LicensePowerBI, LicenseVivaEngage},
		VivaEngageVerifiedAdmin: true,
		OwnedGroups:             []string{"g1"},
	}
	for i, row := range readSeedTable(t) {
		for _, s := range row.Services {
			target := Target{AppType: row.AppType, Service: s}
			if takesFunctions(row.AppType, s) {
				target.Functions = []BackupFunction{FunctionProtectPowerBI}
			}
			d, err := Evaluate(target, UserConsent, everything, TenantFacts{})
			if err != nil {
				t.Fatalf("row %d (%s, %s): %v", i+1, row.AppType, s, err)
			}
			if d.Allowed || d.Missing[0].Kind != KindAdminConsentGranted {
				t.Errorf("row %d (%s, %s) without admin consent granted: %+v", i+1, row.AppType, s, d)
			}
			facts := TenantFacts{AdminConsentGranted: true, Scans: []ScanObject{ScanPowerBI, ScanEnvironments}, GroupsWithSettingChanges: []string{"g1"}}
			if d, err := Evaluate(target, UserConsent, everything, facts); err != nil || !d.Allowed {
				t.Errorf("row %d (%s, %s) with every role: %+v, %v", i+1, row.AppType, s, d, err)
			}
			if d, err := Evaluate(target, AdminConsent, account(ga, pra, yammer, backup), TenantFacts{}); err != nil || len(d.Missing) > 2 {
				t.Errorf("row %d (%s, %s) admin consent: %+v, %v", i+1, row.AppType, s, d, err)
			}
		}
	}
}

func TestEvaluateErrors(t *testing.T) {
	tests := []struct {
		name   string
		target Target
		method Method
		want   error
	}{
		{"unknown app type", Target{AppType: "Insights"}, AdminConsent, ErrUnknownAppType},
		{"service required for the delegated app", Target{AppType: appDelegated}, AdminConsent, ErrServiceRequired},
		{"service required for viva engage", Target{AppType: appVivaEngage}, UserConsent, ErrServiceRequired},
		{"service required for the custom delegated app", Target{AppType: appCustomDelegatedAlias}, AdminConsent, ErrServiceRequired},
		{"service not served", Target{AppType: appVivaEngage, Service: svcInsights}, AdminConsent, ErrUnknownService},
		{"user consent for an elements app", Target{AppType: appAutomation}, UserConsent, ErrMethodNotSupported},
		{"user consent for the custom azure app", Target{AppType: appCustomAzure}, UserConsent, ErrMethodNotSupported},
		{"user consent for the fly app", Target{AppType: appFly}, UserConsent, ErrMethodNotSupported},
		{"unknown method", Target{AppType: appMyHub}, Method("delegated"), ErrUnknownMethod},
		{"unknown function", Target{AppType: appDelegated, Service: svcCloudBackupM365, Functions: []BackupFunction{"protect-everything"}}, AdminConsent, ErrUnknownFunction},
		{"functions on another app", Target{AppType: appDelegated, Service: svcCloudBackupIaaSPaaS, Functions: []BackupFunction{FunctionProtectPowerBI}}, AdminConsent, ErrUnknownFunction},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Evaluate(tt.target, tt.method, account(ga), granted)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Evaluate = %+v, %v; want %v", d, err, tt.want)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, "consent: ") {
				t.Errorf("error message %q lacks the package prefix", msg)
			}
		})
	}
}

func TestTargetErrorMessages(t *testing.T) {
	_, err := Evaluate(Target{AppType: "viva engage"}, AdminConsent, Consenter{}, TenantFacts{})
	want := `consent: service required: app type "Viva Engage" serves "Cloud Governance", "Cloud Backup for Microsoft 365" and the rules differ; name one of them`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v\nwant    %s", err, want)
	}
}

func TestNotEligibleError(t *testing.T) {
	d, err := Evaluate(Target{AppType: appVivaEngage, Service: svcCloudBackupM365}, AdminConsent, account(ga), TenantFacts{})
	if err != nil {
		t.Fatal(err)
	}
	err = d.Err()
	var ne *NotEligibleError
	if !errors.Is(err, ErrNotEligible) || !errors.As(err, &ne) || len(ne.Missing) != 3 {
		t.Fatalf("Err() = %v", err)
	}
	want := "consent: account not eligible to consent: Administrator consent to \"Viva Engage\" (Cloud Backup for Microsoft 365) is not possible yet:" +
		" the consenting account needs the Yammer Administrator role — assign the role in the Microsoft Entra admin center (Identity > Roles & admins) to the consenting account, or consent with an account that has it;" +
		" the consenting account must be a Viva Engage Verified Admin — make the consenting account a Verified Admin in the Viva Engage admin center (Admin > Roles), or consent with a Verified Admin;" +
		" the consenting account needs a Viva Engage licence — assign a Viva Engage licence to the consenting account in the Microsoft 365 admin center"
	if diff := cmp.Diff(want, err.Error()); diff != "" {
		t.Errorf("message mismatch (-want +got):\n%s", diff)
	}
}

func TestRequirementStrings(t *testing.T) {
	tests := []struct {
		r    Requirement
		want string
	}{
		{roleReq(RuleAdminBase, gaOnly, praOnly), "the consenting account needs one of: Global Administrator; Privileged Role Administrator"},
		{roleReq(RuleAdminPortalManager, gaOnly, RoleSet{pra, teams}), "the consenting account needs one of: Global Administrator; Privileged Role Administrator + Teams Administrator"},
		{roleReq(RuleAdminPortalManager, RoleSet{pra, teams}), "the consenting account needs all of the roles Privileged Role Administrator + Teams Administrator"},
		{withCond(roleReq(RuleUserPowerBIScan, RoleSet{fabric}), WhenScanningPowerBI), "when the profile scans Power BI objects, the consenting account needs the Fabric Administrator role"},
		{Requirement{Kind: KindLicense, License: LicensePowerBI}, "the consenting account needs a Power BI licence"},
		{req(KindAdminConsentGranted, RuleUserAdminConsentGranted), "admin consent must already have been granted to the app in the tenant"},
		{req(KindBackupFunctionsChosen, RuleCloudBackupFunctions), "the functions that will use the Delegated App must be chosen (Restore Teams channel conversations as posts, Protect Power BI, Protect Power Automate / Power Apps, Restore Planner task comments)"},
		{req(KindGroupOwner, RuleUserCloudGovGroupOwner), "the consenting account must be the owner of at least one group"},
		{Requirement{Kind: KindOwnerOfChangedGroups, Condition: WhenChangingGroupSettings, Groups: []string{"g2"}}, "when the Outside Senders or Subscribe Members settings of groups will be changed, the consenting account must own every group whose Outside Senders or Subscribe Members settings will be changed; it does not own g2"},
		{Requirement{Kind: "made-up"}, `unknown requirement "made-up"`},
	}
	for _, tt := range tests {
		if got := tt.r.String(); got != tt.want {
			t.Errorf("String() = %q\nwant       %q", got, tt.want)
		}
		if tt.r.Remediation() == "" {
			t.Errorf("%v has no remediation", tt.r)
		}
	}
}

func TestUnknownRequirementIsNeverPassed(t *testing.T) {
	if _, bad := unmet(Requirement{Kind: "future-kind"}, Target{}, account(ga), granted); !bad {
		t.Error("an unknown requirement kind was treated as met")
	}
	if !(TenantFacts{}).holds("future-condition") {
		t.Error("an unknown condition was treated as not holding")
	}
}

func TestParseBackupFunction(t *testing.T) {
	for _, f := range BackupFunctions() {
		for _, s := range []string{string(f), f.Name(), strings.ToUpper(f.Name())} {
			got, err := ParseBackupFunction(s)
			if err != nil || got != f {
				t.Errorf("ParseBackupFunction(%q) = %q, %v; want %q", s, got, err, f)
			}
		}
	}
	if _, err := ParseBackupFunction("Protect everything"); !errors.Is(err, ErrUnknownFunction) {
		t.Errorf("error = %v, want ErrUnknownFunction", err)
	}
}

func BenchmarkEvaluate(b *testing.B) {
	target := Target{AppType: appCloudGovDelegated}
	who := Consenter{Roles: []roles.TemplateID{ga, pra, teams}, OwnedGroups: []string{"g1", "g2"}}
	facts := TenantFacts{AdminConsentGranted: true, Scans: []ScanObject{ScanPowerBI, ScanEnvironments}, GroupsWithSettingChanges: []string{"g1", "g2", "g3"}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Evaluate(target, UserConsent, who, facts); err != nil {
			b.Fatal(err)
		}
	}
}

func TestDecisionJSON(t *testing.T) {
	d, err := Evaluate(Target{AppType: appCloudBackupExpress}, AdminConsent, account(ga), TenantFacts{})
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"target":{"appType":"Cloud Backup Express","service":"Cloud Backup for Microsoft 365"},"method":"admin","allowed":false,` +
		`"missing":[{"kind":"directory-role","rule":"admin/cloud-backup-express","anyOf":[["1707125e-0aa2-4d4d-8655-a7c786c76a25"]],` +
		`"message":"the consenting account needs the Microsoft 365 Backup Administrator role",` +
		`"remediation":"assign the role in the Microsoft Entra admin center (Identity \u003e Roles \u0026 admins) to the consenting account, or consent with an account that has it"}]}`
	if diff := cmp.Diff(want, string(data)); diff != "" {
		t.Errorf("JSON mismatch (-want +got):\n%s", diff)
	}
	var back Decision
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(d, back); diff != "" {
		t.Errorf("JSON round trip mismatch (-want +got):\n%s", diff)
	}
}

func FuzzParseNames(f *testing.F) {
	f.Add("Custom app with delegated permissions")
	f.Add("Protect Power BI")
	f.Add("Administrator consent")
	f.Fuzz(func(t *testing.T, s string) {
		if m, err := ParseMethod(s); err == nil {
			if again, err := ParseMethod(string(m)); err != nil || again != m {
				t.Fatalf("ParseMethod(%q) = %q does not round-trip", s, m)
			}
		}
		if fn, err := ParseBackupFunction(s); err == nil {
			if again, err := ParseBackupFunction(fn.Name()); err != nil || again != fn {
				t.Fatalf("ParseBackupFunction(%q) = %q does not round-trip", s, fn)
			}
		}
		if ms, err := Methods(s); err == nil {
			if len(ms) == 0 || ms[0] != AdminConsent {
				t.Fatalf("Methods(%q) = %v", s, ms)
			}
		} else if !errors.Is(err, ErrUnknownAppType) {
			t.Fatalf("Methods(%q) error %v", s, err)
		}
		_, _ = Evaluate(Target{AppType: s, Service: s}, UserConsent, Consenter{}, TenantFacts{})
	})
}

func TestScanObjects(t *testing.T) {
	for _, o := range ScanObjects() {
		for _, s := range []string{string(o), o.Name(), strings.ToLower(o.Name())} {
			if got, err := ParseScanObject(s); err != nil || got != o {
				t.Errorf("ParseScanObject(%q) = %q, %v", s, got, err)
			}
		}
	}
	if len(ScanObjects()) != 7 {
		t.Errorf("ScanObjects() = %v", ScanObjects())
	}
	_, err := Evaluate(Target{AppType: appInsightsPowerPlatform}, UserConsent, Consenter{}, TenantFacts{AdminConsentGranted: true, Scans: []ScanObject{"powerbi"}})
	if !errors.Is(err, ErrUnknownScanObject) {
		t.Errorf("a misspelt scan object: %v, want ErrUnknownScanObject", err)
	}
}

func TestVocabularySlicesAreCopies(t *testing.T) {
	f := BackupFunctions()
	f[0] = "changed"
	s := ScanObjects()
	s[0] = "changed"
	a := AppTypes()
	a[0] = "changed"
	r := Rules()
	r[0].Methods[0] = "changed"
	if BackupFunctions()[0] != FunctionRestoreTeamsConversationsAsPosts || ScanObjects()[0] != ScanEnvironments ||
		AppTypes()[0] != appSecurityAndAnalysis || Rules()[0].Methods[0] != AdminConsent {
		t.Error("a returned slice aliases package data")
	}
}

func TestRoleIDsCompareCaseInsensitively(t *testing.T) {
	who := Consenter{Roles: []roles.TemplateID{roles.TemplateID(strings.ToUpper(string(ga)))}}
	d, err := Evaluate(Target{AppType: appMyHub}, AdminConsent, who, TenantFacts{})
	if err != nil || !d.Allowed {
		t.Errorf("upper-case Global Administrator template ID: %+v, %v", d, err)
	}
}

// FuzzEvaluateMonotone: for any target and facts, giving the account more roles, licences or
// groups never adds a missing requirement, Allowed is exactly "nothing missing", and every missing
// requirement comes from the policy.
func FuzzEvaluateMonotone(f *testing.F) {
	f.Add(uint8(23), uint8(1), true, uint16(0x0001), uint16(0x0400), uint8(3), uint8(0x41))
	f.Add(uint8(11), uint8(0), false, uint16(0x00ff), uint16(0xffff), uint8(0), uint8(0xff))
	allRoles := []roles.TemplateID{ga, pra, yammer, teams, ppa, fabric, backup, exchange}
	f.Fuzz(func(t *testing.T, appIdx, svcIdx uint8, user bool, rolesA, rolesB uint16, lic, factBits uint8) {
		apps := DefaultRulebook().apps
		a := apps[int(appIdx)%len(apps)]
		target := Target{AppType: a.name, Service: a.services[int(svcIdx)%len(a.services)]}
		if factBits&0x80 != 0 && takesFunctions(target.AppType, target.Service) {
			target.Functions = []BackupFunction{FunctionProtectPowerBI}
		}
		method := AdminConsent
		if user {
			method = UserConsent
		}
		facts := TenantFacts{AdminConsentGranted: factBits&1 != 0}
		for i, o := range ScanObjects() {
			if factBits&(1<<(i%7+1)) != 0 {
				facts.Scans = append(facts.Scans, o)
			}
		}
		if factBits&0x40 != 0 {
			facts.GroupsWithSettingChanges = []string{"g1", "g2"}
		}
		account := func(mask uint16, lic uint8) Consenter {
			var c Consenter
			for i, r := range allRoles {
				if mask&(1<<i) != 0 {
					c.Roles = append(c.Roles, r)
				}
			}
			if lic&1 != 0 {
				c.Licenses = append(c.Licenses, LicensePowerBI)
			}
			if lic&2 != 0 {
				c.Licenses = append(c.Licenses, LicenseVivaEngage)
			}
			c.VivaEngageVerifiedAdmin = lic&4 != 0
			if lic&8 != 0 {
				c.OwnedGroups = append(c.OwnedGroups, "g1")
			}
			if lic&16 != 0 {
				c.OwnedGroups = append(c.OwnedGroups, "g2")
			}
			return c
		}
		small := account(rolesA, lic)
		big := account(rolesA|rolesB, lic|uint8(rolesB>>8))
		p, perr := PolicyFor(target, method)
		d1, err1 := Evaluate(target, method, small, facts)
		d2, err2 := Evaluate(target, method, big, facts)
		if (perr == nil) != (err1 == nil) || (err1 == nil) != (err2 == nil) {
			t.Fatalf("errors disagree: %v / %v / %v", perr, err1, err2)
		}
		if err1 != nil {
			return
		}
		for _, d := range []Decision{d1, d2} {
			if d.Allowed != (len(d.Missing) == 0) {
				t.Fatalf("Allowed=%t with %d missing", d.Allowed, len(d.Missing))
			}
			for _, m := range d.Missing {
				found := false
				for _, r := range p.Requirements {
					found = found || (r.Kind == m.Kind && r.Rule == m.Rule && r.Condition == m.Condition)
				}
				if !found {
					t.Fatalf("missing %v is not in the policy", m)
				}
			}
		}
		if len(d2.Missing) > len(d1.Missing) {
			t.Fatalf("more capable account misses more: %v vs %v", d2.Missing, d1.Missing)
		}
	})
}
