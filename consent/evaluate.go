package consent

import (
	"slices"
	"strings"

	"github.com/tenantapps/tenantapps/roles"
)

// Consenter describes the account that is about to consent, as far as seed 003's rules need it.
// The zero value is an account with no roles, no licences and no groups.
type Consenter struct {
	// Roles are the directory roles the account holds (active assignments), by template ID.
	Roles []roles.TemplateID `json:"roles,omitempty"`
	// Licenses are the relevant product licences assigned to the account.
	Licenses []License `json:"licenses,omitempty"`
	// VivaEngageVerifiedAdmin reports whether the account is a Verified Admin in Viva Engage.
	VivaEngageVerifiedAdmin bool `json:"vivaEngageVerifiedAdmin,omitempty"`
	// OwnedGroups are the IDs of the groups the account owns. Only the Cloud Governance delegated app
	// looks at them.
	OwnedGroups []string `json:"ownedGroups,omitempty"`
}

// TenantFacts describes the tenant and the intended use of the profile.
type TenantFacts struct {
	// AdminConsentGranted reports whether an administrator has already granted admin consent to the
	// app in the tenant (user consent needs it).
	AdminConsentGranted bool `json:"adminConsentGranted,omitempty"`
	// Scans are the Power Platform and Power BI objects the profile will scan.
	Scans []ScanObject `json:"scans,omitempty"`
	// GroupsWithSettingChanges are the IDs of the groups whose Outside Senders or Subscribe Members
	// settings the organization will change through the Cloud Governance delegated app.
	GroupsWithSettingChanges []string `json:"groupsWithSettingChanges,omitempty"`
}

func (f TenantFacts) holds(c Condition) bool {
	switch c {
	case "":
		return true
	case WhenScanningPowerPlatform:
		for _, s := range powerPlatformScans {
			if slices.Contains(f.Scans, s) {
				return true
			}
		}
		return false
	case WhenScanningPowerBI:
		return slices.Contains(f.Scans, ScanPowerBI)
	case WhenChangingGroupSettings:
		return len(f.GroupsWithSettingChanges) > 0
	}
	// An unknown condition cannot be ruled out: apply the requirement.
	return true
}

// Decision is the answer of Evaluate: whether the account may consent now, and if not, every
// missing requirement (never only the first).
type Decision struct {
	Target  Target `json:"target"`
	Method  Method `json:"method"`
	Allowed bool   `json:"allowed"`
	// Missing lists every unmet requirement, in the policy's order.
	Missing []Requirement `json:"missing,omitempty"`
	// Notes is advice that could not be checked; it does not affect Allowed.
	Notes []Note `json:"notes,omitempty"`
}

// Err returns nil when the decision allows consent, otherwise a *NotEligibleError (wrapping
// ErrNotEligible) that lists the missing requirements.
func (d Decision) Err() error {
	if d.Allowed {
		return nil
	}
	return &NotEligibleError{Target: d.Target, Method: d.Method, Missing: slices.Clone(d.Missing)}
}

// Evaluate decides, under the rules of the rulebook's catalog, whether the account described by who may consent to target with method, given
// the tenant facts. It checks every requirement of PolicyFor(target, method) whose condition holds
// and reports each unmet one. Errors are those of PolicyFor — the question itself is wrong (unknown
// app type, missing service, user consent for an app type that does not support it) — and
// ErrUnknownScanObject for a scan object that is not one of ScanObjects.
//
// Evaluate is pure and safe for concurrent use. It decides only on the facts given: the caller
// reads the account's roles, licences and groups (e.g. through the consent Driver) and the tenant's
// state before calling it, and Microsoft Entra ID remains the final judge at consent time.
func (b *Rulebook) Evaluate(target Target, method Method, who Consenter, facts TenantFacts) (Decision, error) {
	p, err := b.PolicyFor(target, method)
	if err != nil {
		return Decision{}, err
	}
	for _, s := range facts.Scans {
		if !s.Valid() {
			_, err := ParseScanObject(string(s))
			return Decision{}, err
		}
	}
	d := Decision{Target: p.Target, Method: method, Notes: p.Notes}
	for _, r := range p.Requirements {
		if !facts.holds(r.Condition) {
			continue
		}
		if missing, ok := unmet(r, p.Target, who, facts); ok {
			d.Missing = append(d.Missing, missing)
		}
	}
	d.Allowed = len(d.Missing) == 0
	return d, nil
}

// Evaluate is DefaultRulebook().Evaluate: the rules of the default catalog (seed 003).
func Evaluate(target Target, method Method, who Consenter, facts TenantFacts) (Decision, error) {
	return DefaultRulebook().Evaluate(target, method, who, facts)
}

// unmet returns the requirement (narrowed to what is actually missing) and true when it is not met.
func unmet(r Requirement, t Target, who Consenter, facts TenantFacts) (Requirement, bool) {
	switch r.Kind {
	case KindDirectoryRole:
		for _, set := range r.AnyOf {
			if set.heldBy(who.Roles) {
				return r, false
			}
		}
		return r, true
	case KindLicense:
		return r, !slices.Contains(who.Licenses, r.License)
	case KindVivaEngageVerifiedAdmin:
		return r, !who.VivaEngageVerifiedAdmin
	case KindAdminConsentGranted:
		return r, !facts.AdminConsentGranted
	case KindBackupFunctionsChosen:
		return r, len(t.Functions) == 0
	case KindGroupOwner:
		return r, len(who.OwnedGroups) == 0
	case KindOwnerOfChangedGroups:
		var notOwned []string
		for _, g := range facts.GroupsWithSettingChanges {
			if !containsFold(who.OwnedGroups, g) && !containsFold(notOwned, g) {
				notOwned = append(notOwned, g)
			}
		}
		r.Groups = notOwned
		return r, len(notOwned) > 0
	}
	// A requirement this code does not know how to check is never silently passed.
	return r, true
}

// containsFold compares group object IDs (GUIDs) case-insensitively.
func containsFold(ids []string, id string) bool {
	return slices.ContainsFunc(ids, func(s string) bool { return strings.EqualFold(strings.TrimSpace(s), strings.TrimSpace(id)) })
}
