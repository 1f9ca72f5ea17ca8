package permissions

import (
	"fmt"
	"slices"

	"github.com/tenantapps/tenantapps/roles"
)

// ChangeKind says what changed between two catalog versions.
type ChangeKind string

const (
	// AppTypeAdded: the new catalog has an app type the old one lacks; its permissions and
	// roles follow as PermissionAdded, DirectoryRoleAdded and AzureRoleAdded changes.
	AppTypeAdded ChangeKind = "app-type-added"
	// AppTypeRemoved: the old catalog's app type is gone (no further changes are listed for it).
	AppTypeRemoved ChangeKind = "app-type-removed"
	// PermissionAdded: the app type gained Permission; existing profiles need new consent.
	PermissionAdded ChangeKind = "permission-added"
	// PermissionRemoved: the app type no longer needs Permission; grants may be revoked.
	PermissionRemoved ChangeKind = "permission-removed"
	// PermissionIDChanged: the same value on the same resource now has another GUID (OldID →
	// Permission.ID); grants made under the old ID no longer match.
	PermissionIDChanged ChangeKind = "permission-id-changed"
	// PermissionsPublished: the app type's permission list went from unpublished to published or
	// partial, or from partial to published.
	PermissionsPublished ChangeKind = "permissions-published"
	// DirectoryRoleAdded: the app type needs DirectoryRole (see its Assignment for who assigns it).
	DirectoryRoleAdded ChangeKind = "directory-role-added"
	// DirectoryRoleRemoved: the app type no longer needs DirectoryRole.
	DirectoryRoleRemoved ChangeKind = "directory-role-removed"
	// AzureRoleAdded: the app type needs the Azure RBAC grant AzureRole.
	AzureRoleAdded ChangeKind = "azure-role-added"
	// AzureRoleRemoved: the app type no longer needs the Azure RBAC grant AzureRole.
	AzureRoleRemoved ChangeKind = "azure-role-removed"
	// ConsentRulesChanged: the rules of who may consent to the app type changed (its Consent
	// references, or the requirements of a rule it references); existing consents stay valid.
	ConsentRulesChanged ChangeKind = "consent-rules-changed"
)

// Change is one typed difference between two catalog versions, for one app type. Only the
// field that matches Kind is set: Permission for the Permission* kinds (for
// PermissionIDChanged, Permission is the new one and OldID the previous ID), DirectoryRole and
// AzureRole for theirs.
type Change struct {
	Kind          ChangeKind
	AppType       string
	Permission    Permission
	OldID         string
	DirectoryRole roles.DirectoryRequirement
	AzureRole     roles.AzureRequirement
	// Since is the month ("2023-10") the source page dates an added permission, when it does.
	Since string
}

// RequiresConsent reports whether existing profiles of the app type must be re-authorized
// (consent again) to stay Valid: a gained permission, or a permission whose ID changed.
// Removed permissions, role changes and published lists need no new consent; role changes need
// the role assignment described by the requirement instead.
func (c Change) RequiresConsent() bool {
	return c.Kind == PermissionAdded || c.Kind == PermissionIDChanged
}

// String describes the change for people, e.g. "APElements Baseline Management gained
// Policy.ReadWrite.DeviceConfiguration (Microsoft Graph, Delegated)".
func (c Change) String() string {
	switch c.Kind {
	case AppTypeAdded:
		return fmt.Sprintf("app type %s was added", c.AppType)
	case AppTypeRemoved:
		return fmt.Sprintf("app type %s was removed", c.AppType)
	case PermissionAdded:
		if c.Since != "" {
			return fmt.Sprintf("%s gained %s (%s)", c.AppType, c.Permission, MonthText(c.Since))
		}
		return fmt.Sprintf("%s gained %s", c.AppType, c.Permission)
	case PermissionRemoved:
		return fmt.Sprintf("%s no longer needs %s", c.AppType, c.Permission)
	case PermissionIDChanged:
		return fmt.Sprintf("%s: %s changed id from %s to %s", c.AppType, c.Permission, c.OldID, c.Permission.ID)
	case PermissionsPublished:
		return fmt.Sprintf("%s: its permissions are now published", c.AppType)
	case DirectoryRoleAdded:
		return fmt.Sprintf("%s now needs the directory role %s", c.AppType, c.DirectoryRole)
	case DirectoryRoleRemoved:
		return fmt.Sprintf("%s no longer needs the directory role %s", c.AppType, c.DirectoryRole)
	case AzureRoleAdded:
		return fmt.Sprintf("%s now needs: %s", c.AppType, c.AzureRole.Describe())
	case AzureRoleRemoved:
		return fmt.Sprintf("%s no longer needs: %s", c.AppType, c.AzureRole.Describe())
	case ConsentRulesChanged:
		return fmt.Sprintf("%s: the rules of who may consent changed", c.AppType)
	}
	return fmt.Sprintf("%s: %s", c.AppType, c.Kind)
}

// Diff returns the typed changes from old to new, grouped by app type in new's order (removed
// app types last), each group in a fixed order: app type added/removed, permissions published,
// permissions added, removed, ID changed, directory roles added, removed, Azure roles added,
// removed, consent rules changed. App types are matched by canonical name. Diff(c, c) is empty. A nil catalog is
// treated as empty.
func Diff(old, new *Catalog) []Change {
	var oldTypes, newTypes []AppType
	if old != nil {
		oldTypes = old.appTypes
	}
	if new != nil {
		newTypes = new.appTypes
	}
	oldByName := map[string]AppType{}
	for _, a := range oldTypes {
		oldByName[a.Name] = a
	}
	var out []Change
	for _, n := range newTypes {
		o, ok := oldByName[n.Name]
		if !ok {
			out = append(out, Change{Kind: AppTypeAdded, AppType: n.Name})
			for _, p := range n.Permissions {
				out = append(out, Change{Kind: PermissionAdded, AppType: n.Name, Permission: stripSeed(p), Since: p.Since})
			}
			for _, r := range n.DirectoryRoles {
				out = append(out, Change{Kind: DirectoryRoleAdded, AppType: n.Name, DirectoryRole: r})
			}
			for _, r := range n.AzureRoles {
				out = append(out, Change{Kind: AzureRoleAdded, AppType: n.Name, AzureRole: cloneAzure(r)})
			}
			continue
		}
		out = append(out, diffAppType(o, n)...)
		if !sameConsent(old, new, o.Consent, n.Consent) {
			out = append(out, Change{Kind: ConsentRulesChanged, AppType: n.Name})
		}
	}
	newNames := map[string]bool{}
	for _, n := range newTypes {
		newNames[n.Name] = true
	}
	for _, o := range oldTypes {
		if !newNames[o.Name] {
			out = append(out, Change{Kind: AppTypeRemoved, AppType: o.Name})
		}
	}
	return out
}

func diffAppType(o, n AppType) []Change {
	var out []Change
	if o.PermissionsState != n.PermissionsState && n.PermissionsState.Known() && o.PermissionsState != Published {
		out = append(out, Change{Kind: PermissionsPublished, AppType: n.Name})
	}
	oldPerm := map[Key]Permission{}
	for _, p := range o.Permissions {
		oldPerm[p.Key()] = p
	}
	newPerm := map[Key]Permission{}
	for _, p := range n.Permissions {
		newPerm[p.Key()] = p
	}
	for _, p := range n.Permissions {
		if _, ok := oldPerm[p.Key()]; !ok {
			out = append(out, Change{Kind: PermissionAdded, AppType: n.Name, Permission: stripSeed(p), Since: p.Since})
		}
	}
	for _, p := range o.Permissions {
		if _, ok := newPerm[p.Key()]; !ok {
			out = append(out, Change{Kind: PermissionRemoved, AppType: n.Name, Permission: stripSeed(p)})
		}
	}
	for _, p := range n.Permissions {
		if q, ok := oldPerm[p.Key()]; ok && q.ID != p.ID {
			out = append(out, Change{Kind: PermissionIDChanged, AppType: n.Name, Permission: stripSeed(p), OldID: q.ID})
		}
	}
	for _, r := range n.DirectoryRoles {
		if !slices.Contains(o.DirectoryRoles, r) {
			out = append(out, Change{Kind: DirectoryRoleAdded, AppType: n.Name, DirectoryRole: r})
		}
	}
	for _, r := range o.DirectoryRoles {
		if !slices.Contains(n.DirectoryRoles, r) {
			out = append(out, Change{Kind: DirectoryRoleRemoved, AppType: n.Name, DirectoryRole: r})
		}
	}
	for _, r := range n.AzureRoles {
		if !containsAzure(o.AzureRoles, r) {
			out = append(out, Change{Kind: AzureRoleAdded, AppType: n.Name, AzureRole: cloneAzure(r)})
		}
	}
	for _, r := range o.AzureRoles {
		if !containsAzure(n.AzureRoles, r) {
			out = append(out, Change{Kind: AzureRoleRemoved, AppType: n.Name, AzureRole: cloneAzure(r)})
		}
	}
	return out
}

// sameConsent reports whether two app types' consent references, and the rules they reference
// in their catalogs, are equal.
func sameConsent(oc, nc *Catalog, o, n AppConsent) bool {
	sameRefs := func(a, b []ConsentRuleRef) bool {
		return slices.EqualFunc(a, b, func(x, y ConsentRuleRef) bool {
			if x.Rule != y.Rule || x.Note != y.Note || !slices.Equal(x.Services, y.Services) {
				return false
			}
			rx, _ := oc.ConsentRule(x.Rule)
			ry, _ := nc.ConsentRule(y.Rule)
			return slices.EqualFunc(rx.Requirements, ry.Requirements, func(p, q ConsentRequirement) bool {
				return p.Kind == q.Kind && p.License == q.License && p.Condition == q.Condition &&
					slices.EqualFunc(p.AnyOf, q.AnyOf, func(a, b []roles.TemplateID) bool { return slices.Equal(a, b) })
			}) && slices.Equal(rx.Notes, ry.Notes) && slices.Equal(rx.Methods, ry.Methods)
		})
	}
	return sameRefs(o.Admin, n.Admin) && sameRefs(o.User, n.User)
}

// ChangesFor returns the changes that concern one app type (canonical name), in order.
func ChangesFor(changes []Change, appType string) []Change {
	var out []Change
	for _, c := range changes {
		if c.AppType == appType {
			out = append(out, c)
		}
	}
	return out
}

// stripSeed drops a row's annotations (seed spellings, date, correction): what is left is the
// permission itself as Microsoft publishes it.
func stripSeed(p Permission) Permission {
	p.SeedValue, p.SeedDescription, p.Since, p.Correction = "", "", "", ""
	return p
}

func cloneAzure(r roles.AzureRequirement) roles.AzureRequirement {
	r.Permissions = slices.Clone(r.Permissions)
	return r
}

func containsAzure(list []roles.AzureRequirement, r roles.AzureRequirement) bool {
	return slices.ContainsFunc(list, func(x roles.AzureRequirement) bool {
		return x.Resource == r.Resource && x.Condition == r.Condition && x.Grant == r.Grant &&
			x.Role == r.Role && x.Timing == r.Timing && slices.Equal(x.Permissions, r.Permissions)
	})
}

// Edit is one change applied by Catalog.With; build it with AddPermission, RemovePermission,
// AddDirectoryRole or RemoveDirectoryRole.
type Edit struct {
	apply func(*catalogFile) error
}

// With returns a new catalog with the given version and edits applied in order, validated like
// Load; c is not changed. It is how tests, the quickstart and embedders publish a new catalog
// version, e.g. c.With("2026.12.01", AddPermission("APElements Baseline Management", p)).
func (c *Catalog) With(version string, edits ...Edit) (*Catalog, error) {
	f := c.file()
	f.Version = version
	for _, e := range edits {
		if e.apply == nil {
			return nil, fmt.Errorf("permissions: zero Edit passed to With; build edits with AddPermission, RemovePermission, AddDirectoryRole or RemoveDirectoryRole")
		}
		if err := e.apply(f); err != nil {
			return nil, err
		}
	}
	// App types that share another's permissions follow their source.
	for i := range f.AppTypes {
		if from := f.AppTypes[i].PermissionsFrom; from != "" {
			f.AppTypes[i].Permissions = nil
		}
		f.AppTypes[i].Shape = ""
	}
	return build(f)
}

func findAppType(f *catalogFile, name string) (*appTypeJSON, error) {
	for i := range f.AppTypes {
		a := &f.AppTypes[i]
		if normalize(a.Name) == normalize(name) || slices.ContainsFunc(a.Aliases, func(s string) bool { return normalize(s) == normalize(name) }) {
			return a, nil
		}
	}
	names := make([]string, len(f.AppTypes))
	for i, a := range f.AppTypes {
		names[i] = a.Name
	}
	return nil, &NotFoundError{Kind: "app type", Name: name, Valid: names, err: ErrUnknownAppType}
}

// AddPermission appends p to the app type's permissions and marks them published (a partial
// list stays partial). App types
// whose permissionsFrom names this app type gain it too.
func AddPermission(appType string, p Permission) Edit {
	return Edit{func(f *catalogFile) error {
		a, err := findAppType(f, appType)
		if err != nil {
			return err
		}
		if a.PermissionsFrom != "" {
			return fmt.Errorf("permissions: %s takes its permissions from %s; add the permission there", a.Name, a.PermissionsFrom)
		}
		a.Permissions = append(slices.Clone(a.Permissions), p)
		if a.PermissionsState != Partial {
			a.PermissionsState, a.PagesSearched = Published, nil
		}
		return nil
	}}
}

// RemovePermission removes the permission with key k from the app type. Removing one it does
// not have is an error.
func RemovePermission(appType string, k Key) Edit {
	return Edit{func(f *catalogFile) error {
		a, err := findAppType(f, appType)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(a.Permissions, func(p Permission) bool { return p.Key() == k })
		if i < 0 || a.PermissionsFrom != "" {
			return fmt.Errorf("permissions: %s has no own permission %s %s on %s to remove", a.Name, k.Type, k.Value, k.ResourceAppID)
		}
		a.Permissions = slices.Delete(slices.Clone(a.Permissions), i, i+1)
		return nil
	}}
}

// AddDirectoryRole appends a directory role requirement to the app type.
func AddDirectoryRole(appType string, r roles.DirectoryRequirement) Edit {
	return Edit{func(f *catalogFile) error {
		a, err := findAppType(f, appType)
		if err != nil {
			return err
		}
		a.DirectoryRoles = append(slices.Clone(a.DirectoryRoles), directoryRoleJSON{TemplateID: r.Role, Assignment: r.Assignment, Condition: r.Condition})
		return nil
	}}
}

// RemoveDirectoryRole removes the requirement for role template id from the app type.
func RemoveDirectoryRole(appType string, id roles.TemplateID) Edit {
	return Edit{func(f *catalogFile) error {
		a, err := findAppType(f, appType)
		if err != nil {
			return err
		}
		n := len(a.DirectoryRoles)
		a.DirectoryRoles = slices.DeleteFunc(slices.Clone(a.DirectoryRoles), func(d directoryRoleJSON) bool { return d.TemplateID == id })
		if len(a.DirectoryRoles) == n {
			return fmt.Errorf("permissions: %s has no directory role %s to remove", a.Name, id.Name())
		}
		return nil
	}}
}
