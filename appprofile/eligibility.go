package appprofile

import (
	"slices"

	"github.com/tenantapps/tenantapps/consent"
)

// Consenter is the account that is about to consent: who it is (recorded in the consent record)
// and the facts seed 003's rules need (roles, licences, Viva Engage verified admin, owned groups).
type Consenter struct {
	UserID            string
	UserPrincipalName string
	consent.Consenter
}

// EligibilityFunc returns every requirement the consenter does not meet to consent to profile p
// (of app type app) with method (nil: eligible). facts carry what the Manager read from the tenant
// (AdminConsentGranted) and what the caller said about the intended use.
type EligibilityFunc func(p Profile, app AppSpec, method ConsentMethod, c Consenter, facts consent.TenantFacts) ([]string, error)

// DefaultEligibility applies the consent rules of the default catalog (seed 003's) with
// consent.Evaluate. A Manager whose catalog comes from FromPermissions uses that catalog's rules
// instead (EligibilityFrom), unless WithEligibility says otherwise.
func DefaultEligibility(p Profile, app AppSpec, method ConsentMethod, c Consenter, facts consent.TenantFacts) ([]string, error) {
	return eligibility(consent.DefaultRulebook(), p, app, method, c, facts)
}

// EligibilityFrom returns the EligibilityFunc that applies the consent rules of rules (built
// with consent.NewRulebook from the catalog the Manager uses), so app types of an embedder's
// own catalog are checked by their own rules.
func EligibilityFrom(rules *consent.Rulebook) EligibilityFunc {
	return func(p Profile, app AppSpec, method ConsentMethod, c Consenter, facts consent.TenantFacts) ([]string, error) {
		return eligibility(rules, p, app, method, c, facts)
	}
}

// RulebookProvider is implemented by catalogs that carry consent rules (FromPermissions does); New
// takes the eligibility rules from it when WithEligibility is not given.
type RulebookProvider interface {
	ConsentRulebook() *consent.Rulebook
}

func eligibility(rules *consent.Rulebook, p Profile, app AppSpec, method ConsentMethod, c Consenter, facts consent.TenantFacts) ([]string, error) {
	t := consent.Target{AppType: p.AppType, Service: consentService(p)}
	for _, name := range p.BackupFunctions {
		for _, f := range consent.BackupFunctions() {
			if f.Name() == name || string(f) == name {
				t.Functions = append(t.Functions, f)
			}
		}
	}
	if len(app.BackupFunctions) == 0 || !slices.Contains(p.Services, "Cloud Backup for Microsoft 365") {
		t.Functions = nil
	}
	m := consent.AdminConsent
	if method == UserConsent {
		m = consent.UserConsent
	}
	d, err := rules.Evaluate(t, m, c.Consenter, facts)
	if err != nil {
		return nil, err
	}
	var missing []string
	for _, r := range d.Missing {
		missing = append(missing, r.String())
	}
	return missing, nil
}

// consentService picks the service whose consent rules apply: Cloud Backup for Microsoft 365 when
// the profile serves it (its Delegated App and Viva Engage rules differ), else the first service.
func consentService(p Profile) string {
	if slices.Contains(p.Services, "Cloud Backup for Microsoft 365") {
		return "Cloud Backup for Microsoft 365"
	}
	if len(p.Services) > 0 {
		return p.Services[0]
	}
	return ""
}
