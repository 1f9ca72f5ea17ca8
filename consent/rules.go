package consent

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/tenantapps/tenantapps/roles"
)

// Target names what is being consented to: an app type as used by one service.
type Target struct {
	// AppType is the app type's name, e.g. "Viva Engage" (case-insensitive; aliases accepted).
	AppType string `json:"appType"`
	// Service is the service the app profile is for. It may be empty when the app type serves a
	// single service; it is required for "Delegated App", "Viva Engage" and "Custom Azure app with
	// delegated permissions", whose rules differ per service.
	Service string `json:"service,omitempty"`
	// Functions are the Cloud Backup for Microsoft 365 functions that will use the Delegated App.
	// Only that app (with service Cloud Backup for Microsoft 365) takes functions; seed 003 requires
	// at least one to be chosen.
	Functions []BackupFunction `json:"functions,omitempty"`
}

// resolve returns the app type and the canonical service, or a *TargetError.
func (t Target) resolve() (appTypeInfo, string, error) {
	a, ok := lookupAppType(t.AppType)
	if !ok {
		return appTypeInfo{}, "", unknownAppType(t.AppType)
	}
	var service string
	switch {
	case strings.TrimSpace(t.Service) == "" && len(a.services) == 1:
		service = a.services[0]
	case strings.TrimSpace(t.Service) == "":
		return a, "", &TargetError{AppType: a.name, Services: slices.Clone(a.services), Err: ErrServiceRequired}
	default:
		s, ok := a.serves(t.Service)
		if !ok {
			return a, "", &TargetError{AppType: a.name, Service: t.Service, Services: slices.Clone(a.services), Err: ErrUnknownService}
		}
		service = s
	}
	for _, f := range t.Functions {
		if !f.Valid() {
			return a, service, &TargetError{AppType: a.name, Service: service, Err: fmt.Errorf("%w %q; choose from: %s", ErrUnknownFunction, string(f), functionNames(backupFunctions[:]))}
		}
	}
	if len(t.Functions) > 0 && !takesFunctions(a.name, service) {
		return a, service, &TargetError{AppType: a.name, Service: service, Err: fmt.Errorf("%w: only the Delegated App of Cloud Backup for Microsoft 365 takes functions", ErrUnknownFunction)}
	}
	return a, service, nil
}

func takesFunctions(appType, service string) bool {
	return appType == appDelegated && service == svcCloudBackupM365
}

// RuleID names one rule of seed 003. Every requirement and note says which rule produced it.
type RuleID string

// The rules of seed 003, administrator consent first.
const (
	RuleAdminBase                  RuleID = "admin/global-or-privileged-role-administrator"
	RuleAdminElementsPremium       RuleID = "admin/elements-premium-global-administrator"
	RuleAdminVivaEngageDefault     RuleID = "admin/viva-engage-engage-administrator"
	RuleAdminFlyPrivilegedRole     RuleID = "admin/fly-privileged-role-administrator-may-need-more"
	RuleAdminFlyPowerPlatform      RuleID = "admin/fly-for-power-platform"
	RuleAdminPortalManager         RuleID = "admin/portal-manager"
	RuleAdminCloudBackupDelegated  RuleID = "admin/cloud-backup-delegated-app"
	RuleAdminCloudBackupVivaEngage RuleID = "admin/cloud-backup-viva-engage"
	RuleAdminCloudBackupExpress    RuleID = "admin/cloud-backup-express"
	RuleAdminCloudGovDelegated     RuleID = "admin/cloud-governance-delegated-app"
	RuleCloudBackupFunctions       RuleID = "cloud-backup-delegated-app-functions"
	RuleUserAdminConsentGranted    RuleID = "user/admin-consent-granted"
	RuleUserPowerPlatformScan      RuleID = "user/power-platform-scan"
	RuleUserPowerBIScan            RuleID = "user/power-bi-scan"
	RuleUserVivaEngage             RuleID = "user/viva-engage-engage-administrator"
	RuleUserCloudBackupExpress     RuleID = "user/cloud-backup-express"
	RuleUserPortalManagerCustomApp RuleID = "user/portal-manager-custom-app"
	RuleUserCloudGovGroupOwner     RuleID = "user/cloud-governance-group-owner"
	RuleUserCloudGovChangedGroups  RuleID = "user/cloud-governance-owner-of-changed-groups"
)

// RuleInfo documents a rule: what it says and the seed sentence it encodes.
type RuleInfo struct {
	ID RuleID `json:"id"`
	// Methods are the consent methods the rule applies to.
	Methods []Method `json:"methods"`
	Summary string   `json:"summary"`
	// Seed quotes seed 003.
	Seed string `json:"seed"`
}

var ruleInfos = [...]RuleInfo{
	{RuleAdminBase, []Method{AdminConsent}, "A Global Administrator or a Privileged Role Administrator may give administrator consent.",
		"Refer to the following instructions to re-authorize an app profile with a Microsoft 365 Global Administrator or a Privileged Role Administrator account."},
	{RuleAdminElementsPremium, []Method{AdminConsent}, "Elements premium apps are consented by a Global Administrator.",
		"Seed 000: consent is given with the customer's Global Administrator credentials."},
	{RuleAdminVivaEngageDefault, []Method{AdminConsent}, "An Engage (Yammer) Administrator may also consent to the AvePoint default app for Viva Engage.",
		"When you re-authorize an AvePoint default service app for Viva Engage, you can also consent to the app with an Engage Administrator (Yammer Administrator in Microsoft Entra ID) account."},
	{RuleAdminFlyPrivilegedRole, []Method{AdminConsent}, "A Privileged Role Administrator consenting to a Fly app may need additional permissions (see the Fly app profile permission guides).",
		"When you re-authorize an app profile for the Fly service and consenting to the app with a Privileged Role Administrator account, the account may need additional permissions."},
	{RuleAdminFlyPowerPlatform, []Method{AdminConsent}, "Fly for Power Platform: a Privileged Role Administrator also needs Power Platform Administrator.",
		"For Fly for Power Platform app, make sure the account has the Power Platform Administrator role."},
	{RuleAdminPortalManager, []Method{AdminConsent}, "AvePoint Portal Manager: Global Administrator, or Privileged Role Administrator and Teams Administrator.",
		"When you re-authorize an app profile for the AvePoint Portal Manager service, the consent user must be a Microsoft 365 Global Administrator or have the Privileged Role Administrator and Teams Service admin role."},
	{RuleAdminCloudBackupDelegated, []Method{AdminConsent}, "Cloud Backup for Microsoft 365 delegated app: Global Administrator.",
		"When consenting to the Cloud Backup for Microsoft 365 delegated app ... The user who consents to the app must have the Microsoft 365 Global Administrator role."},
	{RuleAdminCloudBackupVivaEngage, []Method{AdminConsent}, "Viva Engage app for Cloud Backup for Microsoft 365: Verified Admin, Yammer Administrator and a Viva Engage licence.",
		"When consenting to a Viva Engage app profile used by Cloud Backup for Microsoft 365, the consent user must have the Verified Admin role and the Yammer Administrator role with the Viva Engage product license."},
	{RuleAdminCloudBackupExpress, []Method{AdminConsent}, "Cloud Backup Express: Microsoft 365 Backup Administrator.",
		"When consenting to the Cloud Backup Express app profile, the consent user must have the Microsoft 365 Backup Administrator role."},
	{RuleAdminCloudGovDelegated, []Method{AdminConsent}, "Cloud Governance delegated app: Global Administrator or Exchange Administrator.",
		"When consenting to an app profile for the Cloud Governance delegated app, the user must have the Microsoft 365 Global Administrator or Exchange Administrator role."},
	{RuleCloudBackupFunctions, []Method{AdminConsent, UserConsent}, "Cloud Backup for Microsoft 365 delegated app: the functions that will use it must be chosen.",
		"When consenting to the Cloud Backup for Microsoft 365 delegated app, you also need to choose the functions that will use this app."},
	{RuleUserAdminConsentGranted, []Method{UserConsent}, "User consent needs admin consent already granted to the app in the tenant.",
		"Ensure that your organization has granted admin consent to the app in Microsoft Entra ID."},
	{RuleUserPowerPlatformScan, []Method{UserConsent}, "Scanning Environments, Connections, Power Apps, Solutions, Power Automate or Copilot Studio: Power Platform Administrator.",
		"The Power Platform Administrator role must be assigned to the user who provides consent for the app profiles for scanning Environments, Connections, Power Apps, Solutions, Power Automate, or Copilot Studio objects."},
	{RuleUserPowerBIScan, []Method{UserConsent}, "Scanning Power BI objects: a Power BI licence and Fabric Administrator.",
		"The Power BI license and Fabric Administrator role must be assigned to the user who provides consent for the app profiles for scanning Power BI objects."},
	{RuleUserVivaEngage, []Method{UserConsent}, "AvePoint default app for Viva Engage: Engage (Yammer) Administrator.",
		"To re-authorize an AvePoint default service app for Viva Engage, the user who provides consent must have an Engage Administrator (Yammer Administrator in Microsoft Entra ID) role."},
	{RuleUserCloudBackupExpress, []Method{UserConsent}, "Cloud Backup Express: Microsoft 365 Backup Administrator.",
		"To re-authorize the Cloud Backup Express app, the user who provides consent to the app must have the Microsoft 365 Backup Administrator role."},
	{RuleUserPortalManagerCustomApp, []Method{UserConsent}, "Custom app for AvePoint Portal Manager: Teams Administrator or a higher privileged role (Global Administrator).",
		"To re-authorize a custom app for AvePoint Portal Manager, the user who provides consent to the app must have the Teams Service admins role or a higher privileged role."},
	{RuleUserCloudGovGroupOwner, []Method{UserConsent}, "Cloud Governance delegated app: the consenting account owns a group.",
		"To re-authorize the Cloud Governance delegated app, the user who provides consent to the app must be a group owner."},
	{RuleUserCloudGovChangedGroups, []Method{UserConsent}, "Cloud Governance delegated app: the consenting account owns every group whose Outside Senders / Subscribe Members settings will change.",
		"If your organization intends to modify these two settings, Outside Senders and Subscribe Members, they must ensure that the consent user is added into the group owners of all groups for which these two settings are to be modified."},
}

// Rules returns every rule of seed 003 this package encodes, in a stable order.
func Rules() []RuleInfo {
	out := make([]RuleInfo, len(ruleInfos))
	for i, r := range ruleInfos {
		r.Methods = slices.Clone(r.Methods)
		out[i] = r
	}
	return out
}

// RequirementKind says what a requirement checks.
type RequirementKind string

const (
	// KindDirectoryRole: the consenting account holds every role of at least one of AnyOf.
	KindDirectoryRole RequirementKind = "directory-role"
	// KindLicense: the consenting account has License.
	KindLicense RequirementKind = "license"
	// KindVivaEngageVerifiedAdmin: the consenting account is a Viva Engage Verified Admin.
	KindVivaEngageVerifiedAdmin RequirementKind = "viva-engage-verified-admin"
	// KindAdminConsentGranted: admin consent was already granted to the app in the tenant.
	KindAdminConsentGranted RequirementKind = "admin-consent-granted"
	// KindBackupFunctionsChosen: at least one BackupFunction is chosen.
	KindBackupFunctionsChosen RequirementKind = "backup-functions-chosen"
	// KindGroupOwner: the consenting account owns at least one group.
	KindGroupOwner RequirementKind = "group-owner"
	// KindOwnerOfChangedGroups: the consenting account owns every group whose Outside Senders or
	// Subscribe Members settings will change.
	KindOwnerOfChangedGroups RequirementKind = "owner-of-changed-groups"
)

// Condition limits a requirement to profiles or tenants in a certain situation. The empty condition
// means the requirement always applies.
type Condition string

const (
	// WhenScanningPowerPlatform: the profile scans Environments, Connections, Power Apps, Solutions,
	// Power Automate or Copilot Studio objects.
	WhenScanningPowerPlatform Condition = "scans-power-platform"
	// WhenScanningPowerBI: the profile scans Power BI objects.
	WhenScanningPowerBI Condition = "scans-power-bi"
	// WhenChangingGroupSettings: the Outside Senders or Subscribe Members settings of some groups will
	// be changed.
	WhenChangingGroupSettings Condition = "changes-group-settings"
)

// Describe returns the condition as a clause, e.g. "when the profile scans Power BI objects".
func (c Condition) Describe() string {
	switch c {
	case WhenScanningPowerPlatform:
		return "when the profile scans Environments, Connections, Power Apps, Solutions, Power Automate or Copilot Studio objects"
	case WhenScanningPowerBI:
		return "when the profile scans Power BI objects"
	case WhenChangingGroupSettings:
		return "when the Outside Senders or Subscribe Members settings of groups will be changed"
	case "":
		return "always"
	}
	return fmt.Sprintf("when %s", string(c))
}

// RoleSet is a set of directory roles that are needed together.
type RoleSet []roles.TemplateID

// String renders the roles' names joined by " + ", e.g. "Privileged Role Administrator + Teams
// Administrator".
func (s RoleSet) String() string {
	names := make([]string, len(s))
	for i, id := range s {
		names[i] = id.Name()
	}
	return strings.Join(names, " + ")
}

// heldBy reports whether held contains every role of s; template IDs compare case-insensitively.
func (s RoleSet) heldBy(held []roles.TemplateID) bool {
	for _, id := range s {
		if !slices.ContainsFunc(held, func(h roles.TemplateID) bool { return strings.EqualFold(strings.TrimSpace(string(h)), string(id)) }) {
			return false
		}
	}
	return true
}

// Requirement is one thing the consenting account or the tenant must satisfy. It is a plain value;
// cmp.Diff and == on its fields compare it.
type Requirement struct {
	Kind RequirementKind `json:"kind"`
	// Rule is the seed rule the requirement encodes.
	Rule RuleID `json:"rule"`
	// Condition, when set, limits the requirement (see Condition).
	Condition Condition `json:"condition,omitempty"`
	// AnyOf, for KindDirectoryRole: the account must hold every role of at least one set.
	AnyOf []RoleSet `json:"anyOf,omitempty"`
	// License, for KindLicense.
	License License `json:"license,omitempty"`
	// Groups, for KindOwnerOfChangedGroups in a Decision: the groups the account does not own yet.
	Groups []string `json:"groups,omitempty"`
}

// String is the requirement as a sentence for people, e.g. "the consenting account needs one of:
// Global Administrator; Privileged Role Administrator + Teams Administrator".
func (r Requirement) String() string {
	var s string
	switch r.Kind {
	case KindDirectoryRole:
		switch {
		case len(r.AnyOf) == 1 && len(r.AnyOf[0]) == 1:
			s = fmt.Sprintf("the consenting account needs the %s role", r.AnyOf[0])
		case len(r.AnyOf) == 1:
			s = fmt.Sprintf("the consenting account needs all of the roles %s", r.AnyOf[0])
		default:
			alts := make([]string, len(r.AnyOf))
			for i, set := range r.AnyOf {
				alts[i] = set.String()
			}
			s = "the consenting account needs one of: " + strings.Join(alts, "; ")
		}
	case KindLicense:
		s = fmt.Sprintf("the consenting account needs a %s licence", r.License.Name())
	case KindVivaEngageVerifiedAdmin:
		s = "the consenting account must be a Viva Engage Verified Admin"
	case KindAdminConsentGranted:
		s = "admin consent must already have been granted to the app in the tenant"
	case KindBackupFunctionsChosen:
		s = "the functions that will use the Delegated App must be chosen (" + functionNames(backupFunctions[:]) + ")"
	case KindGroupOwner:
		s = "the consenting account must be the owner of at least one group"
	case KindOwnerOfChangedGroups:
		s = "the consenting account must own every group whose Outside Senders or Subscribe Members settings will be changed"
		if len(r.Groups) > 0 {
			s += "; it does not own " + strings.Join(r.Groups, ", ")
		}
	default:
		s = fmt.Sprintf("unknown requirement %q", string(r.Kind))
	}
	if r.Condition != "" {
		s = r.Condition.Describe() + ", " + s
	}
	return s
}

// MarshalJSON adds the readable "message" and "remediation" to the requirement's fields, so a
// Decision can be sent to a browser as is. Unmarshalling ignores them.
func (r Requirement) MarshalJSON() ([]byte, error) {
	type plain Requirement
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	// json.Marshal still escapes HTML in the result; an Encoder with SetEscapeHTML(false) keeps
	// "Roles & admins" readable.
	enc.SetEscapeHTML(false)
	err := enc.Encode(struct {
		plain
		Message     string `json:"message"`
		Remediation string `json:"remediation"`
	}{plain(r), r.String(), r.Remediation()})
	return bytes.TrimRight(b.Bytes(), "\n"), err
}

// Remediation says what to do to meet the requirement.
func (r Requirement) Remediation() string {
	switch r.Kind {
	case KindDirectoryRole:
		return "assign the role in the Microsoft Entra admin center (Identity > Roles & admins) to the consenting account, or consent with an account that has it"
	case KindLicense:
		return fmt.Sprintf("assign a %s licence to the consenting account in the Microsoft 365 admin center", r.License.Name())
	case KindVivaEngageVerifiedAdmin:
		return "make the consenting account a Verified Admin in the Viva Engage admin center (Admin > Roles), or consent with a Verified Admin"
	case KindAdminConsentGranted:
		return "have an administrator grant admin consent first: Microsoft Entra ID > Enterprise applications > the app > Permissions > Grant admin consent (for a custom app: App registrations > the app > API permissions > Grant admin consent), or use administrator consent"
	case KindBackupFunctionsChosen:
		return "choose at least one function that will use the Delegated App; make sure the Cloud Backup for Microsoft 365 subscription includes the modules to protect"
	case KindGroupOwner:
		return "add the consenting account as an owner of a group, or consent with a group owner"
	case KindOwnerOfChangedGroups:
		return "add the consenting account to the owners of every group whose Outside Senders or Subscribe Members settings will be changed"
	}
	return "consent with an account that meets the requirement"
}

// Note is advice that cannot be checked from the facts this package receives, e.g. a permission
// guide the consenting account should read. Notes never block a decision.
type Note struct {
	Rule RuleID `json:"rule"`
	Text string `json:"text"`
}

// Policy is everything a consent method requires for a target: all Requirements must be met (those
// with a Condition only when it holds); Notes are advice.
type Policy struct {
	// Target is the resolved target: canonical app type and service names.
	Target       Target        `json:"target"`
	Method       Method        `json:"method"`
	Requirements []Requirement `json:"requirements"`
	Notes        []Note        `json:"notes,omitempty"`
}

func roleReq(rule RuleID, sets ...RoleSet) Requirement {
	return Requirement{Kind: KindDirectoryRole, Rule: rule, AnyOf: sets}
}

var (
	gaOnly  = RoleSet{roles.GlobalAdministrator}
	praOnly = RoleSet{roles.PrivilegedRoleAdministrator}
)

// PolicyFor returns what method requires for the target. Errors: a *TargetError wrapping
// ErrUnknownAppType, ErrServiceRequired, ErrUnknownService, ErrUnknownFunction or (user consent
// outside seed 003's table) ErrMethodNotSupported; ErrUnknownMethod.
//
// PolicyFor is pure and safe for concurrent use.
func PolicyFor(t Target, method Method) (Policy, error) {
	if !method.Valid() {
		return Policy{}, fmt.Errorf("%w %q; use %q or %q", ErrUnknownMethod, string(method), AdminConsent, UserConsent)
	}
	a, service, err := t.resolve()
	if err != nil {
		return Policy{}, err
	}
	p := Policy{Target: Target{AppType: a.name, Service: service, Functions: slices.Clone(t.Functions)}, Method: method}
	switch method {
	case AdminConsent:
		p.Requirements, p.Notes = adminRules(a, service)
	case UserConsent:
		if !supportsUserConsent(a.name, service) {
			return Policy{}, &TargetError{AppType: a.name, Service: service, Err: ErrMethodNotSupported}
		}
		p.Requirements, p.Notes = userRules(a, service)
	}
	return p, nil
}

// adminRules encodes seed 003's "Administrator Consent" section (and seed 000 for Elements).
//
// Readings of the seed, where it leaves room:
//   - A service-specific "must have" replaces the base rule (Global Administrator or Privileged
//     Role Administrator) instead of adding an alternative: Cloud Backup Express needs Microsoft
//     365 Backup Administrator even from a Global Administrator; the Viva Engage app of Cloud
//     Backup needs Yammer Administrator, Verified Admin and the licence, all three.
//   - "AvePoint default service app for Viva Engage" is the app type "Viva Engage" (Entra name
//     "AvePoint Online Services Administration for Viva Engage"), not "tyGraph for Viva Engage".
//   - The Portal Manager rule is per service, so it covers the custom app used for Portal Manager.
//   - The Fly note ("a Privileged Role Administrator may need additional permissions") covers every
//     Fly app type except Fly for Power Platform, whose extra role the seed names.
func adminRules(a appTypeInfo, service string) ([]Requirement, []Note) {
	var reqs []Requirement
	var notes []Note
	switch {
	case a.family == elementsPremium:
		reqs = append(reqs, roleReq(RuleAdminElementsPremium, gaOnly))
	case a.name == appVivaEngage && service == svcCloudBackupM365:
		reqs = append(reqs,
			roleReq(RuleAdminCloudBackupVivaEngage, RoleSet{roles.YammerAdministrator}),
			Requirement{Kind: KindVivaEngageVerifiedAdmin, Rule: RuleAdminCloudBackupVivaEngage},
			Requirement{Kind: KindLicense, Rule: RuleAdminCloudBackupVivaEngage, License: LicenseVivaEngage})
	case a.name == appVivaEngage:
		reqs = append(reqs, roleReq(RuleAdminVivaEngageDefault, gaOnly, praOnly, RoleSet{roles.YammerAdministrator}))
	case a.name == appDelegated && service == svcCloudBackupM365:
		reqs = append(reqs, roleReq(RuleAdminCloudBackupDelegated, gaOnly))
	case a.name == appCloudBackupExpress:
		reqs = append(reqs, roleReq(RuleAdminCloudBackupExpress, RoleSet{roles.Microsoft365BackupAdministrator}))
	case a.name == appCloudGovDelegated:
		reqs = append(reqs, roleReq(RuleAdminCloudGovDelegated, gaOnly, RoleSet{roles.ExchangeAdministrator}))
	case service == svcPortalManager:
		reqs = append(reqs, roleReq(RuleAdminPortalManager, gaOnly, RoleSet{roles.PrivilegedRoleAdministrator, roles.TeamsAdministrator}))
	case a.name == appFlyPowerPlatform:
		reqs = append(reqs, roleReq(RuleAdminFlyPowerPlatform, gaOnly, RoleSet{roles.PrivilegedRoleAdministrator, roles.PowerPlatformAdministrator}))
	default:
		reqs = append(reqs, roleReq(RuleAdminBase, gaOnly, praOnly))
	}
	if service == svcFly && a.name != appFlyPowerPlatform {
		guide := "the Fly permission guides"
		switch a.name {
		case appFly:
			guide = "Fly App Profile Permissions"
		case appFlyDelegated:
			guide = "Fly Delegated App Profile Permissions"
		}
		notes = append(notes, Note{Rule: RuleAdminFlyPrivilegedRole,
			Text: "a Privileged Role Administrator consenting to a Fly app may need additional permissions; see " + guide})
	}
	if takesFunctions(a.name, service) {
		reqs = append(reqs, Requirement{Kind: KindBackupFunctionsChosen, Rule: RuleCloudBackupFunctions})
	}
	return reqs, notes
}

// userRules encodes seed 003's "User Consent" preparations. The Power Platform and Power BI
// preconditions depend on what the profile scans, not on the app type, so they are part of every
// user-consent policy with a Condition. "A higher privileged role" than Teams Administrator is read
// as Global Administrator.
func userRules(a appTypeInfo, service string) ([]Requirement, []Note) {
	reqs := []Requirement{
		{Kind: KindAdminConsentGranted, Rule: RuleUserAdminConsentGranted},
		{Kind: KindDirectoryRole, Rule: RuleUserPowerPlatformScan, Condition: WhenScanningPowerPlatform, AnyOf: []RoleSet{{roles.PowerPlatformAdministrator}}},
		{Kind: KindLicense, Rule: RuleUserPowerBIScan, Condition: WhenScanningPowerBI, License: LicensePowerBI},
		{Kind: KindDirectoryRole, Rule: RuleUserPowerBIScan, Condition: WhenScanningPowerBI, AnyOf: []RoleSet{{roles.FabricAdministrator}}},
	}
	switch {
	case a.name == appVivaEngage:
		reqs = append(reqs, roleReq(RuleUserVivaEngage, RoleSet{roles.YammerAdministrator}))
	case a.name == appCloudBackupExpress:
		reqs = append(reqs, roleReq(RuleUserCloudBackupExpress, RoleSet{roles.Microsoft365BackupAdministrator}))
	case a.name == appCustomDelegated && service == svcPortalManager:
		reqs = append(reqs, roleReq(RuleUserPortalManagerCustomApp, RoleSet{roles.TeamsAdministrator}, gaOnly))
	case a.name == appCloudGovDelegated:
		reqs = append(reqs,
			Requirement{Kind: KindGroupOwner, Rule: RuleUserCloudGovGroupOwner},
			Requirement{Kind: KindOwnerOfChangedGroups, Rule: RuleUserCloudGovChangedGroups, Condition: WhenChangingGroupSettings})
	}
	if takesFunctions(a.name, service) {
		reqs = append(reqs, Requirement{Kind: KindBackupFunctionsChosen, Rule: RuleCloudBackupFunctions})
	}
	return reqs, nil
}
