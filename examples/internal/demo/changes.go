package demo

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/tenantapps/tenantapps/appprofile"
	"github.com/tenantapps/tenantapps/consent"
	"github.com/tenantapps/tenantapps/permissions"
)

// ResetPassword resets the password of the demo user upn, as Contoso's helpdesk would.
func (e *Env) ResetPassword(upn string) error {
	u, ok := e.Users[upn]
	if !ok {
		return fmt.Errorf("demo: unknown user %q", upn)
	}
	return e.Directory.ResetUserPassword(CustomerTenantID, u.UserID)
}

// RevokeOneGrant revokes one permission granted to the profile's app in its tenant — the first
// application permission it holds, else the first delegated scope — as an administrator removing
// it in Entra ID would, and says which.
func (e *Env) RevokeOneGrant(p appprofile.Profile) (string, error) {
	st, err := e.Driver.AppState(context.Background(), p.Tenant, p.AppID)
	if err != nil {
		return "", err
	}
	if !st.Exists {
		return "", fmt.Errorf("demo: app %s has no service principal in the tenant; consent first", p.AppID)
	}
	if len(st.AppRoleGrants) > 0 {
		g := st.AppRoleGrants[0]
		name := g.AppRoleID
		for _, perm := range e.requestedFor(p.AppID) {
			if strings.EqualFold(perm.ID, g.AppRoleID) {
				name = perm.String()
			}
		}
		return name, e.Directory.RevokeAppRole(p.Tenant, p.AppID, g.ResourceAppID, g.AppRoleID)
	}
	for _, g := range st.DelegatedGrants {
		if len(g.Scopes) > 0 {
			return g.Scopes[0] + " (Delegated)", e.Directory.RevokeDelegated(p.Tenant, p.AppID, g.ResourceAppID, g.PrincipalID, g.Scopes[0])
		}
	}
	return "", errors.New("demo: the app holds no permission to revoke")
}

func (e *Env) requestedFor(appID string) []appprofile.Permission {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.requested[strings.ToLower(appID)]
}

// PublishExtraPermission publishes a new catalog version in which appType needs one more
// Microsoft Graph application permission — a real one, taken from another app type — and updates
// the vendor's app registrations to ask for it. It returns the change as a sentence.
func (e *Env) PublishExtraPermission(appType string) (string, error) {
	cur := e.Catalog.Current()
	target, err := cur.AppType(appType)
	if err != nil {
		return "", err
	}
	var extra *permissions.Permission
	for _, a := range cur.AppTypes() {
		for _, p := range a.PermissionsOfType(permissions.Application) {
			if p.ResourceAppID != consent.MicrosoftGraphAppID {
				continue
			}
			if _, has := target.Permission(p.Key()); !has && extra == nil {
				extra = &p
			}
		}
	}
	if extra == nil {
		return "", fmt.Errorf("demo: no permission left to add to %s", appType)
	}
	e.mu.Lock()
	e.published++
	n := e.published
	e.mu.Unlock()
	next, err := cur.With(fmt.Sprintf("%s+demo.%d", permissions.Default().Version(), n), permissions.AddPermission(target.Name, *extra))
	if err != nil {
		return "", err
	}
	if err := e.Catalog.Publish(next); err != nil {
		return "", err
	}
	if err := e.RequirePublishedPermissions(); err != nil {
		return "", err
	}
	var changes []string
	for _, c := range permissions.Diff(cur, next) {
		changes = append(changes, c.String())
	}
	return fmt.Sprintf("catalog %s: %s", next.Version(), strings.Join(changes, "; ")), nil
}
