package consent

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/tenantapps/tenantapps/permissions"
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
func (b *Rulebook) resolve(t Target) (appTypeInfo, string, error) {
	a, ok := b.lookupAppType(t.AppType)
	if !ok {
		return appTypeInfo{}, "", b.unknownAppType(t.AppType)
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
	if len(t.Functions) > 0 && !b.takesFunctions(a, service) {
		return a, service, &TargetError{AppType: a.name, Service: service, Err: fmt.Errorf("%w: %s takes no backup functions for %s; only an app whose consent rules require chosen functions does (the Delegated App of Cloud Backup for Microsoft 365)", ErrUnknownFunction, a.name, service)}
	}
	return a, service, nil
}

// takesFunctions reports whether a rule of the app type's administrator consent for service
// requires backup functions to be chosen.
func (b *Rulebook) takesFunctions(a appTypeInfo, service string) bool {
	for _, ref := range a.consent.Admin {
		if !ref.AppliesTo(service) {
			continue
		}
		for _, q := range b.rules[ref.Rule].Requirements {
			if q.Kind == permissions.RequireBackupFunctionsChosen {
				return true
			}
		}
	}
	return false
}

// RuleID names one consent rule of a catalog (permissions.ConsentRule.ID). Every requirement and
// note says which rule produced it.
type RuleID string

// The IDs of the default catalog's rules (seed 003), administrator consent first. The rules
// themselves are data of permissions.Default() ("consentRules").
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

// RuleInfo documents a rule: what it says and the page sentence it encodes.
type RuleInfo struct {
	ID RuleID `json:"id"`
	// Methods are the consent methods the rule applies to.
	Methods []Method `json:"methods"`
	Summary string   `json:"summary"`
	// Seed quotes the page the rule encodes (the catalog rule's source: seed 003 for AvePoint's).
	Seed string `json:"seed"`
}

// Rules returns every consent rule of the rulebook's catalog, in catalog order.
func (b *Rulebook) Rules() []RuleInfo {
	out := make([]RuleInfo, len(b.infos))
	for i, r := range b.infos {
		r.Methods = slices.Clone(r.Methods)
		out[i] = r
	}
	return out
}

// Rules returns the rules of the default catalog (DefaultRulebook().Rules()).
func Rules() []RuleInfo { return DefaultRulebook().Rules() }

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

// PolicyFor returns what method requires for the target under the rules of the rulebook's
// catalog: the requirements and notes of every rule the app type's Consent lists for that method
// and service, in order. Errors: a *TargetError wrapping ErrUnknownAppType (listing the valid
// names), ErrServiceRequired, ErrUnknownService, ErrUnknownFunction or (user consent for an app
// type whose rules allow none for the service) ErrMethodNotSupported; ErrUnknownMethod.
//
// PolicyFor is pure and safe for concurrent use.
func (b *Rulebook) PolicyFor(t Target, method Method) (Policy, error) {
	if !method.Valid() {
		return Policy{}, fmt.Errorf("%w %q; use %q or %q", ErrUnknownMethod, string(method), AdminConsent, UserConsent)
	}
	a, service, err := b.resolve(t)
	if err != nil {
		return Policy{}, err
	}
	p := Policy{Target: Target{AppType: a.name, Service: service, Functions: slices.Clone(t.Functions)}, Method: method}
	if method == UserConsent && !a.consent.UserConsentFor(service) {
		return Policy{}, &TargetError{AppType: a.name, Service: service, Err: ErrMethodNotSupported}
	}
	for _, ref := range a.consent.Refs(permissions.ConsentMethod(method)) {
		if !ref.AppliesTo(service) {
			continue
		}
		rule := b.rules[ref.Rule]
		for _, q := range rule.Requirements {
			p.Requirements = append(p.Requirements, requirementOf(RuleID(rule.ID), q))
		}
		if ref.Note != "" {
			p.Notes = append(p.Notes, Note{Rule: RuleID(rule.ID), Text: ref.Note})
			continue
		}
		for _, n := range rule.Notes {
			p.Notes = append(p.Notes, Note{Rule: RuleID(rule.ID), Text: n})
		}
	}
	return p, nil
}

// PolicyFor is DefaultRulebook().PolicyFor: the rules of the default catalog (seed 003).
func PolicyFor(t Target, method Method) (Policy, error) {
	return DefaultRulebook().PolicyFor(t, method)
}

// requirementOf turns a catalog requirement into a typed Requirement of rule.
func requirementOf(rule RuleID, q permissions.ConsentRequirement) Requirement {
	r := Requirement{Kind: RequirementKind(q.Kind), Rule: rule, Condition: Condition(q.Condition), License: License(q.License)}
	for _, set := range q.AnyOf {
		r.AnyOf = append(r.AnyOf, RoleSet(slices.Clone(set)))
	}
	return r
}
