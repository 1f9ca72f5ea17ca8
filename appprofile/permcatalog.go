package appprofile

import (
	"fmt"

	"github.com/tenantapps/tenantapps/consent"
	"github.com/tenantapps/tenantapps/permissions"
)

// FromPermissions adapts a permissions catalog to the Manager's Catalog. history are earlier
// versions of the catalog, so that the Manager can name the permissions an app type gained since a
// profile was consented (permissions.Diff); a profile consented at a version not in history is
// still checked grant by grant, its added permissions are just not told apart.
func FromPermissions(current *permissions.Catalog, history ...*permissions.Catalog) Catalog {
	c := &permCatalog{cur: current, history: map[string]*permissions.Catalog{}, rules: consent.NewRulebook(current)}
	for _, h := range history {
		if h != nil {
			c.history[h.Version()] = h
		}
	}
	for _, a := range current.AppTypes() {
		c.apps = append(c.apps, specOf(current, a))
	}
	return c
}

type permCatalog struct {
	cur     *permissions.Catalog
	history map[string]*permissions.Catalog
	apps    []AppSpec
	rules   *consent.Rulebook
}

// ConsentRulebook returns the consent rules of the current catalog (RulebookProvider).
func (c *permCatalog) ConsentRulebook() *consent.Rulebook { return c.rules }

func (c *permCatalog) Version() string { return c.cur.Version() }

func (c *permCatalog) AppTypes() []AppSpec { return c.apps }

func (c *permCatalog) AddedSince(appType, since string) ([]Permission, error) {
	if since == c.cur.Version() {
		return nil, nil
	}
	old, ok := c.history[since]
	if !ok {
		return nil, fmt.Errorf("catalog version %q is not known; pass it to FromPermissions as history", since)
	}
	var out []Permission
	for _, ch := range permissions.ChangesFor(permissions.Diff(old, c.cur), appType) {
		if ch.RequiresConsent() {
			p := permissionOf(ch.Permission)
			p.Since = ch.Since
			out = append(out, p)
		}
	}
	return out, nil
}

// PermissionOf converts a catalog row to the Manager's Permission (see Permission for why there
// are two types).
func PermissionOf(p permissions.Permission) Permission { return permissionOf(p) }

func permissionOf(p permissions.Permission) Permission {
	kind := Application
	if p.Type == permissions.Delegated {
		kind = DelegatedPermission
	}
	return Permission{ResourceAppID: p.ResourceAppID, ResourceName: p.Resource, ID: p.ID, Value: p.Value, Kind: kind, Since: p.Since}
}

func specOf(cat *permissions.Catalog, a permissions.AppType) AppSpec {
	s := AppSpec{Name: a.Name, EntraName: a.EntraAppName, AppID: a.AppID, Services: a.Services, Family: string(a.Family),
		Creatable: a.Creatable, UserConsent: a.UserConsent, BackupFunctions: a.Functions,
		DirectoryRoles: a.DirectoryRoles, AzureRoles: a.AzureRoles}
	if len(a.Modes) > 0 {
		s.Mode = a.Modes[0]
	}
	perms, state := a.Permissions, a.PermissionsState
	if a.PermissionsFrom != "" {
		if from, err := cat.AppType(a.PermissionsFrom); err == nil {
			perms, state = from.Permissions, from.PermissionsState
			a = from
		}
	}
	s.PermissionsPublished = state.Known() && len(perms) > 0
	s.PermissionsPartial = state == permissions.Partial && len(perms) > 0
	if s.PermissionsPartial {
		for _, src := range a.PermissionSources {
			if src.URL != "" {
				s.PermissionSources = append(s.PermissionSources, src.URL)
			} else {
				s.PermissionSources = append(s.PermissionSources, src.Title)
			}
		}
	}
	for _, p := range perms {
		s.Permissions = append(s.Permissions, permissionOf(p))
	}
	s.Shape = a.Shape()
	return s
}
