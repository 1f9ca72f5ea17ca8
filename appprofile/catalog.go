package appprofile

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tenantapps/tenantapps/roles"
)

// Service families (seed 000's "Select services" step).
const (
	FamilyElementsPremium = "elements-premium"
	FamilyAOS             = "aos"
)

// PermissionKind is Application (an app role) or Delegated (an OAuth2 scope).
type PermissionKind string

const (
	Application         PermissionKind = "Application"
	DelegatedPermission PermissionKind = "Delegated"
)

// Permission is one API permission as the Manager compares it with a tenant's grants: a resource
// API, a value and a kind. It is both what an app type requires (AppSpec.Permissions) and what a
// tenant granted (Observation.Grants, which have no catalog entry).
//
// Why two permission types: permissions.Permission is a catalog row (it also carries Microsoft's
// description and the product documents' spelling, and belongs to a versioned catalog), while
// this one is the catalog-independent subset a Catalog of the embedder's own fills directly and a
// profile stores in its payload under these JSON names. FromPermissions and PermissionOf convert
// a catalog row to it; Kind uses this package's PermissionKind (Application or
// DelegatedPermission) so that a profile's stored form does not depend on the catalog package.
type Permission struct {
	ResourceAppID string `json:"resourceAppId"`
	// ID is the permission's GUID (the app role ID of an Application permission, the scope ID of
	// a Delegated one); grants of Application permissions are matched by it when it is known.
	ID           string         `json:"id,omitempty"`
	ResourceName string         `json:"resourceName,omitempty"`
	Value        string         `json:"value"`
	Kind         PermissionKind `json:"kind"`
	// Since is the month ("2023-10") the catalog dates the permission's row, when it does; the
	// permissions-added reason names it ("… (October 2023)").
	Since string `json:"since,omitempty"`
}

// permKey identifies a permission regardless of display names and case: Application permissions by
// resource and app role ID when the ID is known, others by resource, kind and value.
type permKey struct {
	resource string
	kind     PermissionKind
	sel      string
}

func (p Permission) key() permKey {
	if p.Kind == Application && p.ID != "" {
		return permKey{resource: strings.ToLower(p.ResourceAppID), kind: Application, sel: strings.ToLower(p.ID)}
	}
	return permKey{resource: strings.ToLower(p.ResourceAppID), kind: p.Kind, sel: strings.ToLower(p.Value)}
}

// String renders e.g. "Microsoft Graph Group.Create (Application)".
func (p Permission) String() string {
	res := p.ResourceName
	if res == "" {
		res = p.ResourceAppID
	}
	v := p.Value
	if v == "" {
		v = p.ID
	}
	return fmt.Sprintf("%s %s (%s)", res, v, p.Kind)
}

// AppSpec is what the catalog says about one app type.
type AppSpec struct {
	Name      string
	EntraName string
	// AppID is the vendor app's application (client) ID when the catalog knows it; custom app types
	// have none (the customer supplies it).
	AppID    string
	Services []string
	Family   string
	Mode     Mode
	Shape    Shape
	// PermissionsPublished is false when the product documents do not list the app type's
	// permissions; grants are then not compared, only the service principal, roles and consent user.
	PermissionsPublished bool
	// PermissionsPartial is true when Permissions is only a known part of the required list
	// (permissions.Partial): each known row is verified, and the profile always carries a
	// ReasonPermissionsPartial saying that not every required permission could be checked.
	PermissionsPartial bool
	// PermissionSources cites the pages the permissions come from (for a partial list).
	PermissionSources []string
	Permissions       []Permission
	DirectoryRoles    []roles.DirectoryRequirement
	AzureRoles        []roles.AzureRequirement
	// UserConsent reports whether seed 003 lets a non-administrator re-authorize the app type.
	UserConsent bool
	// Creatable reports whether the app type is supported for creation on the Customer app profile
	// page (seed 000); others cannot be created or deleted there.
	Creatable bool
	// BackupFunctions lists the functions a consenter chooses from (Cloud Backup delegated app).
	BackupFunctions []string
}

// Catalog is the read-only view of the permission catalog the Manager needs. FromPermissions adapts
// the permissions package's catalog; tests may supply their own.
type Catalog interface {
	// Version identifies the catalog's content; a profile records the version it was consented at.
	Version() string
	// AppTypes returns every app type.
	AppTypes() []AppSpec
	// AddedSince returns the permissions app type gained between catalog version since and this one.
	// An unknown version is an error.
	AddedSince(appType, since string) ([]Permission, error)
}

func lookupAppType(c Catalog, name string) (AppSpec, bool) {
	for _, a := range c.AppTypes() {
		if sameName(a.Name, name) {
			return a, true
		}
	}
	return AppSpec{}, false
}

// sameName compares app type and service names as the catalog does: ignoring case and repeated
// spaces.
func sameName(a, b string) bool {
	return strings.EqualFold(strings.Join(strings.Fields(a), " "), strings.Join(strings.Fields(b), " "))
}

// appTypeNames lists the catalog's app type names, for errors.
func appTypeNames(c Catalog) string {
	var names []string
	for _, a := range c.AppTypes() {
		names = append(names, a.Name)
	}
	return strings.Join(names, ", ")
}

// serviceNames lists the services of the catalog's creatable app types, for errors.
func serviceNames(c Catalog) string {
	var names []string
	for _, a := range c.AppTypes() {
		if !a.Creatable {
			continue
		}
		for _, s := range a.Services {
			if !slices.Contains(names, s) {
				names = append(names, s)
			}
		}
	}
	return strings.Join(names, ", ")
}
