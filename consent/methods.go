package consent

import (
	"fmt"
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

// UserConsentRow is one row of the table of apps that support user consent (seed 003's table
// for the default catalog).
type UserConsentRow struct {
	// Services are the services of the row. The seed's garbled cells are split: "Cloud
	// GovernanceCloud Backup for Microsoft 365" is two services, and the custom app's row lists nine.
	Services []string `json:"services"`
	// AppType is the app type's canonical name in this module.
	AppType string `json:"appType"`
	// EntraAppName is the app's name in Microsoft Entra ID; empty for the customer's own app.
	EntraAppName string `json:"entraAppName,omitempty"`
}

// UserConsentTable returns the app types that support user consent, one row per app type in
// catalog order, with the services for which its rules allow user consent. For the default
// catalog these are the 23 rows of seed 003's table (its two Delegated App rows are one row with
// both services here). The slice is a fresh copy.
func (b *Rulebook) UserConsentTable() []UserConsentRow {
	var out []UserConsentRow
	for _, a := range b.apps {
		var services []string
		for _, s := range a.services {
			if a.consent.UserConsentFor(s) {
				services = append(services, s)
			}
		}
		if len(services) > 0 {
			out = append(out, UserConsentRow{Services: services, AppType: a.name, EntraAppName: a.entraAppName})
		}
	}
	return out
}

// UserConsentTable is DefaultRulebook().UserConsentTable().
func UserConsentTable() []UserConsentRow { return DefaultRulebook().UserConsentTable() }

// Methods returns the consent methods an app type supports: AdminConsent for every app type, then
// UserConsent when its rules allow user consent for any of its services. App type names match the
// catalog's case-insensitively, aliases included. An unknown name returns an error wrapping
// ErrUnknownAppType, so a typo is never mistaken for "administrator consent only". MethodsFor
// checks a (service, app type) pair.
func (b *Rulebook) Methods(appType string) ([]Method, error) {
	a, ok := b.lookupAppType(appType)
	if !ok {
		return nil, b.unknownAppType(appType)
	}
	methods := []Method{AdminConsent}
	if len(a.consent.User) > 0 {
		methods = append(methods, UserConsent)
	}
	return methods, nil
}

// MethodsFor is Methods for an app type used by one service. Service may be empty when the app
// type serves a single service.
func (b *Rulebook) MethodsFor(t Target) ([]Method, error) {
	a, service, err := b.resolve(t)
	if err != nil {
		return nil, err
	}
	if a.consent.UserConsentFor(service) {
		return []Method{AdminConsent, UserConsent}, nil
	}
	return []Method{AdminConsent}, nil
}

// Methods is DefaultRulebook().Methods.
func Methods(appType string) ([]Method, error) { return DefaultRulebook().Methods(appType) }

// MethodsFor is DefaultRulebook().MethodsFor.
func MethodsFor(t Target) ([]Method, error) { return DefaultRulebook().MethodsFor(t) }
