package consenttest

import (
	"fmt"
	"strings"

	"github.com/tenantapps/tenantapps/permissions"
)

// This file holds the "administrator consents" steps of a test harness: what a consent records in
// a tenant, in one call, for any Directory (the Fake or the graphtest emulator).

// GrantConsent does in tenantID what an administrator's consent to an app type does for the app
// appID: it provisions the app's service principal (when missing), assigns every application
// permission of the app type as an app role and grants every delegated permission tenant-wide
// (AllPrincipals), as admin consent records them. The app type is looked up in cat
// (permissions.Default() when nil) by name or alias; an app type that shares another's list
// (PermissionsFrom, the custom Baseline app) grants that list. An unknown app type fails with an
// error wrapping permissions.ErrUnknownAppType that lists the valid names; the Directory's errors
// (an unknown tenant or app wraps ErrUnknown) are returned as they are.
func GrantConsent(d Directory, tenantID, appID string, cat *permissions.Catalog, appType string) error {
	perms, err := appTypePermissions(cat, appType)
	if err != nil {
		return err
	}
	if _, err := d.CreateServicePrincipal(tenantID, appID); err != nil {
		return fmt.Errorf("consenttest: consent to %s: %w", appType, err)
	}
	return GrantPermissions(d, tenantID, appID, perms...)
}

// GrantPermissions grants the app appID the given permissions in tenantID, as GrantConsent does
// for an app type's list: application permissions as app roles, delegated ones tenant-wide. The
// app's service principal must exist (CreateServicePrincipal). Use it for an app type that is
// not in a permissions.Catalog (one of the embedder's own).
func GrantPermissions(d Directory, tenantID, appID string, perms ...permissions.Permission) error {
	delegated := map[string][]string{}
	var order []string
	for _, p := range perms {
		switch p.Type {
		case permissions.Application:
			if err := d.GrantAppRole(tenantID, appID, p.ResourceAppID, p.ID); err != nil {
				return fmt.Errorf("consenttest: grant %s: %w", p.Value, err)
			}
		case permissions.Delegated:
			if _, ok := delegated[p.ResourceAppID]; !ok {
				order = append(order, p.ResourceAppID)
			}
			delegated[p.ResourceAppID] = append(delegated[p.ResourceAppID], p.Value)
		default:
			return fmt.Errorf("consenttest: permission %s has type %q: use permissions.Application or permissions.Delegated", p.Value, p.Type)
		}
	}
	for _, res := range order {
		if err := d.GrantDelegated(tenantID, appID, res, "", delegated[res]...); err != nil {
			return fmt.Errorf("consenttest: grant %s: %w", strings.Join(delegated[res], " "), err)
		}
	}
	return nil
}

// RevokePermission does in tenantID what an administrator's "Revoke admin consent" of one
// permission does for the app appID: it removes the app-role assignment of the app type's
// application permission with that value, or the scope from the app's tenant-wide delegated
// grant. value is Microsoft's value ("Group.Create"), matched ignoring case; every permission of
// the app type with that value is revoked (an app type may request one value from two resources,
// or as both kinds). A value the app type does not request fails with an error that lists the
// ones it does; the app type is looked up as GrantConsent does.
func RevokePermission(d Directory, tenantID, appID string, cat *permissions.Catalog, appType, value string) error {
	perms, err := appTypePermissions(cat, appType)
	if err != nil {
		return err
	}
	var found bool
	var values []string
	for _, p := range perms {
		values = append(values, p.Value)
		if !strings.EqualFold(p.Value, value) {
			continue
		}
		found = true
		if p.Type == permissions.Application {
			err = d.RevokeAppRole(tenantID, appID, p.ResourceAppID, p.ID)
		} else {
			err = d.RevokeDelegated(tenantID, appID, p.ResourceAppID, "", p.Value)
		}
		if err != nil {
			return fmt.Errorf("consenttest: revoke %s: %w", p.Value, err)
		}
	}
	if !found {
		return fmt.Errorf("consenttest: app type %s does not request %q; it requests: %s", appType, value, strings.Join(values, ", "))
	}
	return nil
}

func appTypePermissions(cat *permissions.Catalog, appType string) ([]permissions.Permission, error) {
	if cat == nil {
		cat = permissions.Default()
	}
	a, err := cat.AppType(appType)
	if err != nil {
		return nil, fmt.Errorf("consenttest: %w", err)
	}
	if a.PermissionsFrom != "" {
		from, err := cat.AppType(a.PermissionsFrom)
		if err != nil {
			return nil, fmt.Errorf("consenttest: %w", err)
		}
		a.Permissions = from.Permissions
	}
	return a.Permissions, nil
}
