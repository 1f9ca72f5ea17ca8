package consent

import "github.com/tenantapps/tenantapps/roles"

// The service and app type names of the default catalog (seeds 000 and 003) that the tests use.
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

func roleReq(rule RuleID, sets ...RoleSet) Requirement {
	return Requirement{Kind: KindDirectoryRole, Rule: rule, AnyOf: sets}
}

var (
	gaOnly  = RoleSet{roles.GlobalAdministrator}
	praOnly = RoleSet{roles.PrivilegedRoleAdministrator}
)

// lookupAppType looks an app type up in the default rulebook.
func lookupAppType(name string) (appTypeInfo, bool) { return DefaultRulebook().lookupAppType(name) }

// takesFunctions reports whether the default rules take backup functions for (app type, service).
func takesFunctions(appType, service string) bool {
	a, ok := lookupAppType(appType)
	return ok && DefaultRulebook().takesFunctions(a, service)
}
