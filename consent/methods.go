package consent

import (
	"fmt"
	"slices"
)

// Method is how consent is given to an app in a customer's tenant.
type Method string

const (
	// AdminConsent: an administrator consents on behalf of the whole organization, through the
	// admin-consent endpoint (/{tenant}/v2.0/adminconsent). Every app type supports it.
	AdminConsent Method = "admin"
	// UserConsent: a non-administrator account consents for itself, through the authorize endpoint
	// with prompt=consent. Only the app types of seed 003's user-consent table support it, and only
	// after an administrator has granted admin consent to the app in the tenant.
	UserConsent Method = "user"
)

// Valid reports whether m is one of the defined methods.
func (m Method) Valid() bool { return m == AdminConsent || m == UserConsent }

// String returns the method's wire name ("admin" or "user").
func (m Method) String() string { return string(m) }

// Describe returns the name the product documents use: "Administrator consent" or "User consent".
func (m Method) Describe() string {
	switch m {
	case AdminConsent:
		return "Administrator consent"
	case UserConsent:
		return "User consent"
	}
	return fmt.Sprintf("unknown consent method %q", string(m))
}

// ParseMethod accepts "admin" / "user" (case-insensitive) and the documents' "Administrator consent"
// / "User consent".
func ParseMethod(s string) (Method, error) {
	switch normalizeName(s) {
	case "admin", "administrator", "administrator consent", "admin consent":
		return AdminConsent, nil
	case "user", "user consent":
		return UserConsent, nil
	}
	return "", fmt.Errorf("%w: %q; use %q or %q", ErrUnknownMethod, s, AdminConsent, UserConsent)
}

// UserConsentRow is one row of seed 003's table of apps that support user consent.
type UserConsentRow struct {
	// Services are the services of the row. The seed's garbled cells are split: "Cloud
	// GovernanceCloud Backup for Microsoft 365" is two services, and the custom app's row lists nine.
	Services []string `json:"services"`
	// AppType is the app type's canonical name in this module.
	AppType string `json:"appType"`
	// EntraAppName is the app's name in Microsoft Entra ID; empty for the customer's own app.
	EntraAppName string `json:"entraAppName,omitempty"`
}

var userConsentTable = [...]UserConsentRow{
	{Services: []string{svcInsights}, AppType: appInsightsM365, EntraAppName: "AvePoint Insights for Microsoft365"},
	{Services: []string{svcInsights}, AppType: appInsightsPowerPlatform, EntraAppName: "AvePoint Insights for Power Platform"},
	{Services: []string{svcEnPower}, AppType: appEnPowerM365, EntraAppName: "AvePoint EnPower for Microsoft365"},
	{Services: []string{svcEnPower}, AppType: appEnPowerPowerPlatform, EntraAppName: "AvePoint EnPower PowerPlatform Management"},
	{Services: []string{svcEnPower}, AppType: appEnPowerTeamsCalling, EntraAppName: "AvePoint EnPower Teams Calling"},
	{Services: []string{svcFly}, AppType: appFlyPowerPlatform, EntraAppName: "AvePoint Fly for Power Platform"},
	{Services: []string{svcFly}, AppType: appFlyDelegated, EntraAppName: "AvePoint Fly Delegated App"},
	{Services: []string{svcCloudBackupIaaSPaaS}, AppType: appCloudBackupAzure, EntraAppName: "AvePoint Cloud Backup for Azure"},
	{Services: []string{svcCloudBackupIaaSPaaS}, AppType: appDelegated, EntraAppName: "AvePoint Online Services – Delegated App"},
	{Services: []string{svcCloudBackupIaaSPaaS}, AppType: appCloudBackupAzureDevOps, EntraAppName: "AvePoint Cloud Backup for Azure DevOps"},
	{Services: []string{svcCloudGovernance}, AppType: appCloudGovPowerPlatform, EntraAppName: "AvePoint Cloud Governance for Power Platform"},
	{Services: []string{svcCloudGovernance}, AppType: appCloudGovDelegated, EntraAppName: "AvePoint Cloud Governance Delegated App"},
	{Services: []string{svcMyHub}, AppType: appMyHub, EntraAppName: "AvePoint MyHub"},
	{Services: []string{svcPolicies}, AppType: appPolicies, EntraAppName: "AvePoint Policies for Microsoft365"},
	{Services: []string{svcTyGraph}, AppType: appTyGraphSuite, EntraAppName: "AvePoint tyGraph"},
	{Services: []string{svcTyGraph}, AppType: appTyGraphVivaEngage, EntraAppName: "AvePoint tyGraph for Viva Engage"},
	{Services: []string{svcCloudBackupM365}, AppType: appDelegated, EntraAppName: "AvePoint Online Services – Delegated App"},
	{Services: []string{svcCloudBackupM365}, AppType: appCloudBackupExpress, EntraAppName: "AvePoint Cloud Backup Express"},
	{Services: []string{svcCloudGovernance, svcCloudBackupM365}, AppType: appVivaEngage, EntraAppName: "AvePoint Online Services Administration for Viva Engage"},
	{Services: []string{svcDMSOnline}, AppType: appDMSOnline, EntraAppName: "AvePoint Document Management System Online"},
	{Services: []string{svcPortalManager}, AppType: appPortalManager, EntraAppName: "AvePoint Portal Manager"},
	{Services: []string{svcPortalManager}, AppType: appPortalManagerRoom, EntraAppName: "AvePoint Portal Manager for Room - Terminal Interface View"},
	{Services: []string{svcEnPower, svcCloudGovernance, svcCloudBackupM365, svcCloudBackupIaaSPaaS, svcInsights, svcFly, svcMyHub, svcTyGraph, svcPortalManager}, AppType: appCustomDelegated},
}

// UserConsentTable returns seed 003's table of the apps that support user consent: 23 rows in the
// seed's order. The slice is a fresh copy.
func UserConsentTable() []UserConsentRow {
	out := make([]UserConsentRow, len(userConsentTable))
	for i, r := range userConsentTable {
		r.Services = slices.Clone(r.Services)
		out[i] = r
	}
	return out
}

// supportsUserConsent reports whether seed 003's table has a row for the app type and service.
func supportsUserConsent(appType, service string) bool {
	for _, r := range userConsentTable {
		if r.AppType == appType && slices.Contains(r.Services, service) {
			return true
		}
	}
	return false
}

// Methods returns the consent methods an app type supports: AdminConsent for every app type, then
// UserConsent for the app types of seed 003's user-consent table. App type names match the
// catalog's case-insensitively ("Custom app with delegated permissions" is an alias of "Custom
// Azure app with delegated permissions"). An unknown name returns an error wrapping
// ErrUnknownAppType, so a typo is never mistaken for "administrator consent only".
//
// Every service of a user-consent app type is in the table too, so the answer does not depend on
// the service; MethodsFor checks a (service, app type) pair.
func Methods(appType string) ([]Method, error) {
	a, ok := lookupAppType(appType)
	if !ok {
		return nil, unknownAppType(appType)
	}
	methods := []Method{AdminConsent}
	for _, s := range a.services {
		if supportsUserConsent(a.name, s) {
			methods = append(methods, UserConsent)
			break
		}
	}
	return methods, nil
}

// MethodsFor is Methods for an app type used by one service. Service may be empty when the app
// type serves a single service.
func MethodsFor(t Target) ([]Method, error) {
	a, service, err := t.resolve()
	if err != nil {
		return nil, err
	}
	if supportsUserConsent(a.name, service) {
		return []Method{AdminConsent, UserConsent}, nil
	}
	return []Method{AdminConsent}, nil
}
