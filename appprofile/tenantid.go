package appprofile

import (
	"errors"
	"fmt"
	"strings"

	"github.com/tenantapps/tenantapps/store"
)

// ErrInvalidTenantID: a tenant was not given as its tenant ID (a GUID). A *TenantIDError wraps it
// (and ErrInvalidRequest) with the value that was given.
var ErrInvalidTenantID = errors.New("appprofile: not a tenant ID")

// tenantIDHelp is where an administrator finds the tenant ID: "How to find your Microsoft Entra
// tenant ID", https://learn.microsoft.com/entra/fundamentals/how-to-find-tenant (Microsoft Entra
// admin center > Entra ID > Overview > Properties > Tenant ID).
const tenantIDHelp = "copy the Tenant ID from the Microsoft Entra admin center (Entra ID > Overview > Properties > Tenant ID), a GUID such as 6f1c3a52-8d4e-4b7a-a1c9-2e5f7b9d0c13"

// TenantIDError is a tenant given as something other than its tenant ID: a domain name such as
// contoso.onmicrosoft.com, a tenant name, a typo. It wraps ErrInvalidTenantID and
// ErrInvalidRequest.
type TenantIDError struct {
	// Input is the value that was given.
	Input string
}

func (e *TenantIDError) Error() string {
	in := strings.TrimSpace(e.Input)
	switch {
	case in == "":
		return "appprofile: the tenant ID is missing; " + tenantIDHelp
	case strings.Contains(in, "."):
		return fmt.Sprintf("appprofile: %q is a domain name, not a tenant ID; %s", in, tenantIDHelp)
	}
	return fmt.Sprintf("appprofile: %q is not a tenant ID; %s", in, tenantIDHelp)
}

// Unwrap returns ErrInvalidTenantID and ErrInvalidRequest.
func (e *TenantIDError) Unwrap() []error { return []error{ErrInvalidTenantID, ErrInvalidRequest} }

// NormalizeTenantID returns the tenant ID s in its one spelling: a GUID (8-4-4-4-12 hexadecimal
// digits) in lower case, surrounding spaces removed. Anything else fails with a *TenantIDError.
// Every Manager method and filter that takes a tenant applies it, so the upper- and lower-case
// spellings of one tenant are one tenant; portals and command lines may call it to check input
// early.
func NormalizeTenantID(s string) (string, error) {
	t := strings.TrimSpace(s)
	if len(t) != 36 {
		return "", &TenantIDError{Input: s}
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return "", &TenantIDError{Input: s}
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return "", &TenantIDError{Input: s}
			}
		}
	}
	return strings.ToLower(t), nil
}

// normalizeFilter spells a filter's tenant, service and app type the way profiles are stored: the
// tenant ID in lower case (a *TenantIDError when it is not one), the service and app type as the
// catalog names them (matched ignoring case). Empty fields stay empty (anything).
func (m *Manager) normalizeFilter(f store.Filter) (store.Filter, error) {
	if strings.TrimSpace(f.Tenant) != "" {
		t, err := NormalizeTenantID(f.Tenant)
		if err != nil {
			return f, err
		}
		f.Tenant = t
	}
	if f.Service != "" {
		f.Service = canonicalServices(m.o.catalog, []string{f.Service})[0]
	}
	if f.AppType != "" {
		if a, ok := lookupAppType(m.o.catalog, f.AppType); ok {
			f.AppType = a.Name
		}
	}
	return f, nil
}
