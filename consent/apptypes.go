package consent

import (
	"slices"
	"strings"
)

// The service and app type names below are the canonical strings of the product documents (seeds 000
// and 003) and of package permissions' catalog. The rules of this package are keyed by them.
const (
	svcWorkspaceManagement      = "Workspace management"
	svcRiskManagement           = "Risk management"
	svcChangeManagementComm     = "Change management communication"
	svcUserAndDeviceManagement  = "User and device management"
	svcNitro                    = "Nitro"
	svcBaselineManagement       = "Baseline management"
	svcAzureSecurityManagement  = "Azure security management"
	svcCloudBackupM365          = "Cloud Backup for Microsoft 365"
	svcPolicies                 = "Policies for Microsoft 365"
	svcInsights                 = "Insights"
	svcFly                      = "Fly"
	svcEnPower                  = "EnPower"
	svcCloudBackupIaaSPaaS      = "Cloud Backup for IaaS + PaaS"
	svcCloudGovernance          = "Cloud Governance"
	svcMyHub                    = "MyHub"
	svcTyGraph                  = "tyGraph"
	svcDMSOnline                = "Document Management System Online"
	svcPortalManager            = "AvePoint Portal Manager"
	appSecurityAndAnalysis      = "APElements Security and Analysis"
	appAutomation               = "APElements Automation"
	appBaselineManagement       = "APElements Baseline Management"
	appCustomBaseline           = "Custom app for Baseline management"
	appAzureSecurityManagement  = "APElements Azure Security Management"
	appInsightsM365             = "Insights for Microsoft 365"
	appInsightsPowerPlatform    = "Insights for Power Platform"
	appEnPowerM365              = "EnPower for Microsoft 365"
	appEnPowerPowerPlatform     = "EnPower for Power Platform"
	appEnPowerTeamsCalling      = "EnPower for Teams Calling"
	appFlyPowerPlatform         = "Fly for Power Platform"
	appFlyDelegated             = "Fly Delegated App"
	appFly                      = "Fly App"
	appCloudBackupAzure         = "Cloud Backup for Azure"
	appDelegated                = "Delegated App"
	appCloudBackupAzureDevOps   = "Cloud Backup for Azure DevOps"
	appCloudGovPowerPlatform    = "Cloud Governance for Power Platform"
	appCloudGovDelegated        = "Cloud Governance Delegated App"
	appMyHub                    = "MyHub"
	appPolicies                 = "Policies for Microsoft 365"
	appTyGraphSuite             = "tyGraph Suite"
	appTyGraphVivaEngage        = "tyGraph for Viva Engage"
	appCloudBackupExpress       = "Cloud Backup Express"
	appVivaEngage               = "Viva Engage"
	appDMSOnline                = "Document Management System Online (DMS Online)"
	appPortalManager            = "AvePoint Portal Manager"
	appPortalManagerRoom        = "AvePoint Portal Manager for Room - Terminal Interface View"
	appCustomDelegated          = "Custom Azure app with delegated permissions"
	appCustomDelegatedAlias     = "Custom app with delegated permissions"
	appCustomAzure              = "Custom Azure app"
	appM365AllPermissions       = "Microsoft 365 (All permissions)"
	appCloudBackupAllPermission = "Cloud Backup for Microsoft 365 (All permissions)"
)

// family is a group of services sold together; the values are those of permissions.Family.
type family string

const (
	// elementsPremium: Elements premium services (seed 000).
	elementsPremium family = "elements-premium"
	// aos: AvePoint Online Services (seeds 000 and 003).
	aos family = "aos"
)

// appTypeInfo is what the consent rules need to know about an app type: its canonical name, the
// services it serves (in the seeds' order) and its family.
type appTypeInfo struct {
	name     string
	aliases  []string
	family   family
	services []string
}

var appTypeTable = [...]appTypeInfo{
	{name: appSecurityAndAnalysis, family: elementsPremium, services: []string{svcWorkspaceManagement, svcRiskManagement, svcChangeManagementComm, svcUserAndDeviceManagement}},
	{name: appAutomation, family: elementsPremium, services: []string{svcNitro}},
	{name: appBaselineManagement, family: elementsPremium, services: []string{svcBaselineManagement}},
	{name: appCustomBaseline, family: elementsPremium, services: []string{svcBaselineManagement}},
	{name: appAzureSecurityManagement, family: elementsPremium, services: []string{svcAzureSecurityManagement}},
	{name: appInsightsM365, family: aos, services: []string{svcInsights}},
	{name: appInsightsPowerPlatform, family: aos, services: []string{svcInsights}},
	{name: appEnPowerM365, family: aos, services: []string{svcEnPower}},
	{name: appEnPowerPowerPlatform, family: aos, services: []string{svcEnPower}},
	{name: appEnPowerTeamsCalling, family: aos, services: []string{svcEnPower}},
	{name: appFlyPowerPlatform, family: aos, services: []string{svcFly}},
	{name: appFlyDelegated, family: aos, services: []string{svcFly}},
	{name: appFly, family: aos, services: []string{svcFly}},
	{name: appCloudBackupAzure, family: aos, services: []string{svcCloudBackupIaaSPaaS}},
	{name: appDelegated, family: aos, services: []string{svcCloudBackupIaaSPaaS, svcCloudBackupM365}},
	{name: appCloudBackupAzureDevOps, family: aos, services: []string{svcCloudBackupIaaSPaaS}},
	{name: appCloudGovPowerPlatform, family: aos, services: []string{svcCloudGovernance}},
	{name: appCloudGovDelegated, family: aos, services: []string{svcCloudGovernance}},
	{name: appMyHub, family: aos, services: []string{svcMyHub}},
	{name: appPolicies, family: aos, services: []string{svcPolicies}},
	{name: appTyGraphSuite, family: aos, services: []string{svcTyGraph}},
	{name: appTyGraphVivaEngage, family: aos, services: []string{svcTyGraph}},
	{name: appCloudBackupExpress, family: aos, services: []string{svcCloudBackupM365}},
	{name: appVivaEngage, family: aos, services: []string{svcCloudGovernance, svcCloudBackupM365}},
	{name: appDMSOnline, family: aos, services: []string{svcDMSOnline}},
	{name: appPortalManager, family: aos, services: []string{svcPortalManager}},
	{name: appPortalManagerRoom, family: aos, services: []string{svcPortalManager}},
	{name: appCustomDelegated, aliases: []string{appCustomDelegatedAlias}, family: aos, services: []string{
		svcEnPower, svcCloudGovernance, svcCloudBackupM365, svcCloudBackupIaaSPaaS, svcInsights, svcFly, svcMyHub, svcTyGraph, svcPortalManager}},
	{name: appCustomAzure, family: aos, services: []string{svcCloudBackupM365}},
	{name: appM365AllPermissions, family: aos, services: []string{svcCloudBackupM365}},
	{name: appCloudBackupAllPermission, family: aos, services: []string{svcCloudBackupM365}},
}

// normalizeName folds case and collapses white space, so "viva  engage" finds "Viva Engage".
func normalizeName(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }

// appTypeIndex maps normalized names and aliases to indexes of appTypeTable. It is built once and
// never written afterwards.
var appTypeIndex = func() map[string]int {
	m := make(map[string]int, 2*len(appTypeTable))
	for i, a := range appTypeTable {
		m[normalizeName(a.name)] = i
		for _, alias := range a.aliases {
			m[normalizeName(alias)] = i
		}
	}
	return m
}()

func lookupAppType(name string) (appTypeInfo, bool) {
	i, ok := appTypeIndex[name]
	if !ok {
		i, ok = appTypeIndex[normalizeName(name)]
	}
	if !ok {
		return appTypeInfo{}, false
	}
	return appTypeTable[i], true
}

// serves returns the canonical spelling of service when the app type serves it.
func (a appTypeInfo) serves(service string) (string, bool) {
	for _, s := range a.services {
		if s == service {
			return s, true
		}
	}
	key := normalizeName(service)
	for _, s := range a.services {
		if normalizeName(s) == key {
			return s, true
		}
	}
	return "", false
}

// AppTypes returns the canonical names of every app type the consent rules know, in a stable order.
// The slice is a fresh copy.
func AppTypes() []string {
	out := make([]string, len(appTypeTable))
	for i, a := range appTypeTable {
		out[i] = a.name
	}
	return out
}

// ServicesOf returns the services an app type serves, by canonical name, or an error wrapping
// ErrUnknownAppType. The slice is a fresh copy.
func ServicesOf(appType string) ([]string, error) {
	a, ok := lookupAppType(appType)
	if !ok {
		return nil, unknownAppType(appType)
	}
	return slices.Clone(a.services), nil
}
