package appprofile

import (
	"slices"

	"github.com/tenantapps/tenantapps/roles"
)

// Consenter is what the portal knows about the account that is about to consent.
type Consenter struct {
	UserID            string
	UserPrincipalName string
	// Roles are the account's directory roles in the customer tenant.
	Roles []roles.TemplateID
	// Licenses are the account's licence SKU names or IDs (e.g. "Power BI").
	Licenses []string
	// GroupOwner reports whether the account owns the groups the app manages (Cloud Governance
	// delegated app).
	GroupOwner bool
}

// EligibilityFunc returns every requirement consenter does not meet to consent to app with method
// (nil: eligible). adminConsented reports whether admin consent was already granted to the app in
// the tenant (a precondition of user consent).
type EligibilityFunc func(app AppSpec, method ConsentMethod, c Consenter, adminConsented bool) []string

// DefaultEligibility applies the administrator / user consent rules of seed 003:
// administrator consent needs a Global Administrator or Privileged Role Administrator (an Engage
// Administrator may consent to the Viva Engage app; AvePoint Portal Manager needs a Global
// Administrator or a Privileged Role Administrator who is also a Teams Administrator); user
// consent is only for the app types of seed 003's table, after admin consent was granted, with the
// app-specific roles (Cloud Backup Express: Microsoft 365 Backup Administrator; Viva Engage:
// Yammer Administrator; Fly / Cloud Governance for Power Platform: Power Platform Administrator;
// Cloud Governance Delegated App: group owner).
func DefaultEligibility(app AppSpec, method ConsentMethod, c Consenter, adminConsented bool) []string {
	has := func(r roles.TemplateID) bool { return slices.Contains(c.Roles, r) }
	ga, pra := has(roles.GlobalAdministrator), has(roles.PrivilegedRoleAdministrator)
	var missing []string
	switch method {
	case AdminConsent, "":
		switch {
		case app.Name == "AvePoint Portal Manager" || app.Name == "AvePoint Portal Manager for Room - Terminal Interface View":
			if !ga && !(pra && has(roles.TeamsAdministrator)) {
				missing = append(missing, "a Global Administrator, or a Privileged Role Administrator who is also a Teams Administrator")
			}
		case app.Name == "Viva Engage":
			if !ga && !pra && !has(roles.YammerAdministrator) {
				missing = append(missing, "a Global Administrator, Privileged Role Administrator or Engage (Yammer) Administrator")
			}
		default:
			if !ga && !pra {
				missing = append(missing, "a Global Administrator or Privileged Role Administrator account")
			}
		}
		if pra && !ga && app.Name == "Fly for Power Platform" && !has(roles.PowerPlatformAdministrator) {
			missing = append(missing, "the Power Platform Administrator role (Fly for Power Platform consented by a Privileged Role Administrator)")
		}
		if app.Name == "Delegated App" && slices.Contains(app.Services, "Cloud Backup for Microsoft 365") && !ga {
			missing = append(missing, "the Global Administrator role (Cloud Backup for Microsoft 365 Delegated App)")
		}
	case UserConsent:
		if !app.UserConsent {
			return []string{app.Name + " does not support user consent; use Administrator consent"}
		}
		if !adminConsented {
			missing = append(missing, "admin consent granted to "+app.Name+" in the tenant first (Entra ID > Enterprise applications > Permissions > Grant admin consent)")
		}
		switch app.Name {
		case "Cloud Backup Express":
			if !has(roles.Microsoft365BackupAdministrator) {
				missing = append(missing, "the Microsoft 365 Backup Administrator role")
			}
		case "Viva Engage", "tyGraph for Viva Engage":
			if !has(roles.YammerAdministrator) {
				missing = append(missing, "the Engage (Yammer) Administrator role")
			}
		case "Fly for Power Platform", "Cloud Governance for Power Platform", "Insights for Power Platform", "EnPower for Power Platform":
			if !has(roles.PowerPlatformAdministrator) {
				missing = append(missing, "the Power Platform Administrator role")
			}
		case "Cloud Governance Delegated App":
			if !c.GroupOwner {
				missing = append(missing, "ownership of the groups to manage (group owner)")
			}
		}
	default:
		missing = append(missing, "a known consent method (admin or user)")
	}
	return missing
}
