package permissions

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tenantapps/tenantapps/roles"
)

// ConsentMethod is a way of consenting that a consent rule applies to. The values are those of
// package consent's Method.
type ConsentMethod string

const (
	// AdminConsent: an administrator consents for the whole organization.
	AdminConsent ConsentMethod = "admin"
	// UserConsent: an account consents for itself, after admin consent was granted.
	UserConsent ConsentMethod = "user"
)

// Valid reports whether m is AdminConsent or UserConsent.
func (m ConsentMethod) Valid() bool { return m == AdminConsent || m == UserConsent }

// ConsentRequirementKind says what a requirement of a consent rule checks. The values are the
// requirement kinds package consent knows how to evaluate (consent.RequirementKind); a catalog
// that names another kind is rejected, so no requirement is ever silently skipped.
type ConsentRequirementKind string

// The requirement kinds, in the order package consent documents them.
const (
	// RequireDirectoryRole: the consenting account holds every role of at least one set of AnyOf.
	RequireDirectoryRole ConsentRequirementKind = "directory-role"
	// RequireLicense: the consenting account has License.
	RequireLicense ConsentRequirementKind = "license"
	// RequireVivaEngageVerifiedAdmin: the consenting account is a Viva Engage Verified Admin.
	RequireVivaEngageVerifiedAdmin ConsentRequirementKind = "viva-engage-verified-admin"
	// RequireAdminConsentGranted: admin consent was already granted to the app in the tenant.
	RequireAdminConsentGranted ConsentRequirementKind = "admin-consent-granted"
	// RequireBackupFunctionsChosen: at least one of the app type's Functions is chosen.
	RequireBackupFunctionsChosen ConsentRequirementKind = "backup-functions-chosen"
	// RequireGroupOwner: the consenting account owns at least one group.
	RequireGroupOwner ConsentRequirementKind = "group-owner"
	// RequireOwnerOfChangedGroups: the consenting account owns every group whose settings change.
	RequireOwnerOfChangedGroups ConsentRequirementKind = "owner-of-changed-groups"
)

// ConsentRequirementKinds returns every requirement kind a catalog may use.
func ConsentRequirementKinds() []ConsentRequirementKind {
	return []ConsentRequirementKind{RequireDirectoryRole, RequireLicense, RequireVivaEngageVerifiedAdmin,
		RequireAdminConsentGranted, RequireBackupFunctionsChosen, RequireGroupOwner, RequireOwnerOfChangedGroups}
}

// ConsentLicenses are the licence names a license requirement may use (consent.License).
func ConsentLicenses() []string { return []string{"viva-engage", "power-bi"} }

// ConsentConditions are the conditions a requirement may be limited to (consent.Condition).
func ConsentConditions() []string {
	return []string{"scans-power-platform", "scans-power-bi", "changes-group-settings"}
}

// ConsentRule is one rule of who may consent, as catalog data: the requirements it adds to a
// policy and the advice (notes) it gives. Rules are defined once in the catalog's
// "consentRules" and referenced by ID from each app type's Consent.
type ConsentRule struct {
	// ID names the rule, e.g. "admin/global-or-privileged-role-administrator"; unique.
	ID string `json:"id"`
	// Methods are the consent methods whose lists may reference the rule.
	Methods []ConsentMethod `json:"methods"`
	// Summary says what the rule requires, for people.
	Summary string `json:"summary"`
	// Source cites (quotes) the page the rule encodes.
	Source string `json:"source"`
	// Requirements must all be met (those with a Condition only when it holds).
	Requirements []ConsentRequirement `json:"requirements,omitempty"`
	// Notes are advice that cannot be checked; they never block consent.
	Notes []string `json:"notes,omitempty"`
}

// ConsentRequirement is one checkable requirement of a ConsentRule.
type ConsentRequirement struct {
	Kind ConsentRequirementKind `json:"kind"`
	// AnyOf, for RequireDirectoryRole: the account needs every role of at least one set.
	AnyOf [][]roles.TemplateID `json:"anyOf,omitempty"`
	// License, for RequireLicense: one of ConsentLicenses.
	License string `json:"license,omitempty"`
	// Condition limits the requirement to a situation (one of ConsentConditions); empty: always.
	Condition string `json:"condition,omitempty"`
}

// AppConsent says, for one app type, which consent rules apply: Admin for administrator consent
// (at least one rule for every service), User for user consent (empty: user consent is not
// allowed). Rules apply in order; a reference limited to some services applies only to them.
type AppConsent struct {
	Admin []ConsentRuleRef `json:"admin"`
	User  []ConsentRuleRef `json:"user,omitempty"`
}

// ConsentRuleRef applies a rule of the catalog to an app type.
type ConsentRuleRef struct {
	// Rule is the ID of a rule in the catalog's consentRules.
	Rule string `json:"rule"`
	// Services limits the rule to these services of the app type; empty: every service.
	Services []string `json:"services,omitempty"`
	// Note replaces the rule's notes for this app type (e.g. to name its own permission guide).
	Note string `json:"note,omitempty"`
}

// AppliesTo reports whether the reference applies to service (canonical name, case-insensitive).
func (r ConsentRuleRef) AppliesTo(service string) bool {
	return len(r.Services) == 0 || slices.ContainsFunc(r.Services, func(s string) bool { return strings.EqualFold(s, service) })
}

// Refs returns the references of method (Admin or User).
func (c AppConsent) Refs(method ConsentMethod) []ConsentRuleRef {
	if method == UserConsent {
		return c.User
	}
	if method == AdminConsent {
		return c.Admin
	}
	return nil
}

// UserConsentFor reports whether user consent is allowed for the app type used by service: some
// user rule applies to that service.
func (c AppConsent) UserConsentFor(service string) bool {
	return slices.ContainsFunc(c.User, func(r ConsentRuleRef) bool { return r.AppliesTo(service) })
}

func (c AppConsent) clone() AppConsent {
	cl := func(refs []ConsentRuleRef) []ConsentRuleRef {
		out := slices.Clone(refs)
		for i := range out {
			out[i].Services = slices.Clone(out[i].Services)
		}
		return out
	}
	return AppConsent{Admin: cl(c.Admin), User: cl(c.User)}
}

func (r ConsentRule) clone() ConsentRule {
	r.Methods = slices.Clone(r.Methods)
	r.Notes = slices.Clone(r.Notes)
	r.Requirements = slices.Clone(r.Requirements)
	for i := range r.Requirements {
		r.Requirements[i].AnyOf = slices.Clone(r.Requirements[i].AnyOf)
		for j := range r.Requirements[i].AnyOf {
			r.Requirements[i].AnyOf[j] = slices.Clone(r.Requirements[i].AnyOf[j])
		}
	}
	return r
}

// ConsentRules returns every consent rule of the catalog, in catalog order.
func (c *Catalog) ConsentRules() []ConsentRule {
	out := make([]ConsentRule, len(c.consentRules))
	for i, r := range c.consentRules {
		out[i] = r.clone()
	}
	return out
}

// ConsentRule returns the rule with the given ID.
func (c *Catalog) ConsentRule(id string) (ConsentRule, bool) {
	for _, r := range c.consentRules {
		if r.ID == id {
			return r.clone(), true
		}
	}
	return ConsentRule{}, false
}

// consentRules validates the catalog's rule definitions and returns them by ID.
func (v *validator) consentRules(rules []ConsentRule) map[string]ConsentRule {
	byID := map[string]ConsentRule{}
	for i, r := range rules {
		p := fmt.Sprintf("consentRules[%d]", i)
		if r.ID != "" {
			p = fmt.Sprintf("consentRules[%d] (%s)", i, r.ID)
		}
		switch _, dup := byID[r.ID]; {
		case strings.TrimSpace(r.ID) == "":
			v.addf(p+".id", "missing rule id")
		case dup:
			v.addf(p+".id", "rule id %q is defined twice; an overlay replaces a rule by defining it in its own file only", r.ID)
		}
		byID[r.ID] = r.clone()
		if len(r.Methods) == 0 {
			v.addf(p+".methods", `no method: use "admin", "user" or both`)
		}
		for j, m := range r.Methods {
			if !m.Valid() {
				v.addf(fmt.Sprintf("%s.methods[%d]", p, j), `unknown method %q: use "admin" or "user"`, string(m))
			}
		}
		if strings.TrimSpace(r.Summary) == "" {
			v.addf(p+".summary", "missing: say what the rule requires")
		}
		if strings.TrimSpace(r.Source) == "" {
			v.addf(p+".source", "missing: cite the page the rule comes from")
		}
		if len(r.Requirements) == 0 && len(r.Notes) == 0 {
			v.addf(p, "the rule neither requires anything nor gives a note")
		}
		for j, q := range r.Requirements {
			v.consentRequirement(fmt.Sprintf("%s.requirements[%d]", p, j), q)
		}
	}
	return byID
}

func (v *validator) consentRequirement(p string, q ConsentRequirement) {
	if !slices.Contains(ConsentRequirementKinds(), q.Kind) {
		v.addf(p+".kind", "unknown requirement kind %q: use one of %s", string(q.Kind), joinKinds())
	}
	if q.Kind == RequireDirectoryRole {
		if len(q.AnyOf) == 0 {
			v.addf(p+".anyOf", "a directory-role requirement lists at least one set of role template IDs")
		}
		for i, set := range q.AnyOf {
			if len(set) == 0 {
				v.addf(fmt.Sprintf("%s.anyOf[%d]", p, i), "empty role set")
			}
			for j, id := range set {
				if r, ok := roles.LookupDirectoryRole(string(id)); !ok || r.TemplateID != id {
					v.addf(fmt.Sprintf("%s.anyOf[%d][%d]", p, i, j), "%q is not a known Entra role template ID (see package roles)", string(id))
				}
			}
		}
	} else if len(q.AnyOf) > 0 {
		v.addf(p+".anyOf", "only a directory-role requirement takes anyOf")
	}
	if q.Kind == RequireLicense {
		if !slices.Contains(ConsentLicenses(), q.License) {
			v.addf(p+".license", "unknown licence %q: use one of %s", q.License, strings.Join(ConsentLicenses(), ", "))
		}
	} else if q.License != "" {
		v.addf(p+".license", "only a license requirement takes a licence")
	}
	if q.Condition != "" && !slices.Contains(ConsentConditions(), q.Condition) {
		v.addf(p+".condition", "unknown condition %q: use one of %s or none", q.Condition, strings.Join(ConsentConditions(), ", "))
	}
}

func joinKinds() string {
	var s []string
	for _, k := range ConsentRequirementKinds() {
		s = append(s, string(k))
	}
	return strings.Join(s, ", ")
}

// appConsent validates an app type's consent references against the rules and its services.
func (v *validator) appConsent(p string, a appTypeJSON, services []string, rules map[string]ConsentRule) AppConsent {
	if a.Consent == nil {
		v.addf(p+".consent", `missing: say who may consent, e.g. {"admin": [{"rule": "admin/global-or-privileged-role-administrator"}]}`)
		return AppConsent{}
	}
	c := a.Consent.clone()
	for _, m := range []ConsentMethod{AdminConsent, UserConsent} {
		for j, ref := range c.Refs(m) {
			rp := fmt.Sprintf("%s.consent.%s[%d]", p, m, j)
			r, ok := rules[ref.Rule]
			if !ok {
				v.addf(rp+".rule", "unknown consent rule %q: define it in consentRules or use one of the catalog's", ref.Rule)
			} else if !slices.Contains(r.Methods, m) {
				v.addf(rp+".rule", "rule %q is not a rule for %s consent (its methods: %v)", ref.Rule, m, r.Methods)
			}
			for k, s := range ref.Services {
				if !slices.Contains(services, s) {
					v.addf(fmt.Sprintf("%s.services[%d]", rp, k), "%q is not one of the app type's services %q", s, services)
				}
			}
		}
	}
	if len(c.Admin) == 0 {
		v.addf(p+".consent.admin", "no rule says who may give administrator consent; every app type needs one")
	}
	for _, s := range services {
		if !slices.ContainsFunc(c.Admin, func(r ConsentRuleRef) bool { return r.AppliesTo(s) }) && len(c.Admin) > 0 {
			v.addf(p+".consent.admin", "no administrator consent rule applies to service %q", s)
			continue
		}
		// Somebody must be named: a policy of notes alone would let any account consent.
		if len(c.Admin) > 0 && !requiresRole(c.Admin, s, rules) {
			v.addf(p+".consent.admin", "no administrator consent rule for service %q requires a directory role; say who may consent", s)
		}
		if len(c.User) > 0 && c.UserConsentFor(s) && !requiresAnything(c.User, s, rules) {
			v.addf(p+".consent.user", "the user consent rules for service %q require nothing; add at least user/admin-consent-granted", s)
		}
	}
	if a.UserConsent != (len(c.User) > 0) {
		if a.UserConsent {
			v.addf(p+".userConsent", "is true but consent.user lists no rule; list the user-consent rules or set userConsent to false")
		} else {
			v.addf(p+".userConsent", "is false but consent.user lists rules; set userConsent to true or drop consent.user")
		}
	}
	return c
}

// requiresRole reports whether a rule of refs that applies to service requires a directory role
// unconditionally. Unknown rules are reported elsewhere and count as requiring one.
func requiresRole(refs []ConsentRuleRef, service string, rules map[string]ConsentRule) bool {
	for _, ref := range refs {
		r, ok := rules[ref.Rule]
		if !ref.AppliesTo(service) {
			continue
		}
		if !ok {
			return true
		}
		for _, q := range r.Requirements {
			if q.Kind == RequireDirectoryRole && q.Condition == "" {
				return true
			}
		}
	}
	return false
}

// requiresAnything reports whether a rule of refs that applies to service has a requirement.
func requiresAnything(refs []ConsentRuleRef, service string, rules map[string]ConsentRule) bool {
	for _, ref := range refs {
		if r, ok := rules[ref.Rule]; ref.AppliesTo(service) && (!ok || len(r.Requirements) > 0) {
			return true
		}
	}
	return false
}
