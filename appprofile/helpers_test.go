package appprofile

import (
	"fmt"
	"slices"

	"github.com/tenantapps/tenantapps/roles"
)

const graphAppID = "00000003-0000-0000-c000-000000000000"

func graphPerm(value string, kind PermissionKind) Permission {
	return Permission{ResourceAppID: graphAppID, ResourceName: "Microsoft Graph", Value: value, Kind: kind}
}

// testCatalog is a small catalog with two versions; version "2" adds Policy.Read.All to Baseline.
type testCatalog struct {
	version string
	apps    []AppSpec
}

func (c *testCatalog) Version() string     { return c.version }
func (c *testCatalog) AppTypes() []AppSpec { return c.apps }
func (c *testCatalog) AddedSince(appType, since string) ([]Permission, error) {
	if since == c.version {
		return nil, nil
	}
	if since == "1" && c.version == "2" && appType == "APElements Baseline Management" {
		return []Permission{graphPerm("Policy.Read.All", Application)}, nil
	}
	if since == "1" && c.version == "2" {
		return nil, nil
	}
	return nil, fmt.Errorf("unknown catalog version %q", since)
}

var baselineRoles = []roles.DirectoryRequirement{
	{Role: roles.ExchangeAdministrator, Assignment: roles.AutomaticWithin24h},
	{Role: roles.AttributeDefinitionReader, Assignment: roles.AutomaticWithin24h},
	{Role: roles.SecurityAdministrator, Assignment: roles.AutomaticWithin24h},
}

func manual(rs []roles.DirectoryRequirement) []roles.DirectoryRequirement {
	out := slices.Clone(rs)
	for i := range out {
		out[i].Assignment = roles.ManualBeforeAuthorization
	}
	return out
}

func newTestCatalog(version string) *testCatalog {
	basePerms := []Permission{graphPerm("Directory.Read.All", Application), graphPerm("Group.ReadWrite.All", Application)}
	if version == "2" {
		basePerms = append(basePerms, graphPerm("Policy.Read.All", Application))
	}
	return &testCatalog{version: version, apps: []AppSpec{
		{Name: "APElements Baseline Management", AppID: "11111111-1111-1111-1111-111111111111", Services: []string{"Baseline management"}, Family: FamilyElementsPremium, Mode: Modern, Shape: ShapeApplicationOnly, PermissionsPublished: true, Permissions: basePerms, DirectoryRoles: baselineRoles, Creatable: true},
		{Name: "Custom app for Baseline management", Services: []string{"Baseline management"}, Family: FamilyElementsPremium, Mode: Custom, Shape: ShapeApplicationOnly, PermissionsPublished: true, Permissions: basePerms, DirectoryRoles: manual(baselineRoles), Creatable: true},
		{Name: "APElements Automation", AppID: "22222222-2222-2222-2222-222222222222", Services: []string{"Nitro"}, Family: FamilyElementsPremium, Mode: Modern, Shape: ShapeApplicationOnly, PermissionsPublished: true, Permissions: []Permission{graphPerm("Group.Create", Application)}, Creatable: true},
		{Name: "APElements Azure Security Management", AppID: "55555555-5555-5555-5555-555555555555", Services: []string{"Azure security management"}, Family: FamilyElementsPremium, Mode: Modern, Shape: ShapeApplicationOnly, PermissionsPublished: true, Permissions: []Permission{graphPerm("Directory.Read.All", Application)}, AzureRoles: roles.AzureSecurityManagementRequirements(), Creatable: true},
		{Name: "Insights for Microsoft 365", AppID: "33333333-3333-3333-3333-333333333333", Services: []string{"Insights"}, Family: FamilyAOS, Mode: Modern, Shape: ShapeHybrid, PermissionsPublished: true, Permissions: []Permission{graphPerm("Sites.Read.All", Application), graphPerm("User.Read", DelegatedPermission)}, DirectoryRoles: []roles.DirectoryRequirement{{Role: roles.ExchangeAdministrator, Assignment: roles.ManualAfterAuthorization, Condition: roles.ManagesExchange}}, UserConsent: true, Creatable: true},
		{Name: "Delegated App", AppID: "44444444-4444-4444-4444-444444444444", Services: []string{"Cloud Backup for IaaS + PaaS", "Cloud Backup for Microsoft 365"}, Family: FamilyAOS, Mode: Delegated, Shape: ShapeUnknown, UserConsent: true, Creatable: true,
			BackupFunctions: []string{"Restore Teams channel conversations as posts", "Protect Power BI", "Protect Power Automate / Power Apps", "Restore Planner task comments"}},
		{Name: "Microsoft 365 (All permissions)", AppID: "66666666-6666-6666-6666-666666666666", Services: []string{"Cloud Backup for Microsoft 365"}, Family: FamilyAOS, Mode: Classic},
		{Name: "Cloud Backup for Microsoft 365 (All permissions)", AppID: "77777777-7777-7777-7777-777777777777", Services: []string{"Cloud Backup for Microsoft 365"}, Family: FamilyAOS, Mode: Modern, Creatable: true},
		{Name: "Custom Azure app", Services: []string{"Cloud Backup for Microsoft 365"}, Family: FamilyAOS, Mode: Custom},
	}}
}
