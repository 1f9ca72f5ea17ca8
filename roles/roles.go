// Package roles is the vocabulary of the roles an app profile involves: Microsoft Entra built-in
// directory roles (by their role template IDs, which are the same in every tenant), Azure RBAC
// built-in roles (by role definition ID), and the requirements the catalog attaches to an app
// type — which role, assigned when and by whom.
//
// Every ID here is Microsoft-published:
//   - Entra role template IDs: "Microsoft Entra built-in roles", MicrosoftDocs/entra-docs,
//     docs/identity/role-based-access-control/permissions-reference.md (ms.date 01/20/2026).
//   - Azure role definition IDs: "Azure built-in roles", MicrosoftDocs/azure-docs,
//     articles/role-based-access-control/built-in-roles.md.
//
// The package is pure data and functions: no I/O, no global mutable state, safe for concurrent use.
// It imports nothing of this module; permissions and consent build on it.
package roles

import (
	"slices"
	"strings"
)

// TemplateID is the role template ID of a Microsoft Entra built-in directory role. Graph accepts it
// as roleDefinitionId in roleManagement/directory/roleAssignments and reports it as roleTemplateId
// on directoryRole objects.
type TemplateID string

// Entra built-in directory roles named by the product documents (seeds 000 and 003) or needed to
// evaluate who may consent.
const (
	GlobalAdministrator             TemplateID = "62e90394-69f5-4237-9190-012177145e10"
	PrivilegedRoleAdministrator     TemplateID = "e8611ab8-c189-46e8-94e1-60213ab1f814"
	ExchangeAdministrator           TemplateID = "29232cdf-9323-42fd-ade2-1d097af3e4de"
	AttributeDefinitionReader       TemplateID = "1d336d2c-4ae8-42ef-9711-b3604ce3fc2c"
	SecurityAdministrator           TemplateID = "194ae4cb-b126-40b2-bd5b-6091b380977d"
	GroupsAdministrator             TemplateID = "fdd7a751-b60b-444a-984c-02652fe8fa1c"
	PowerPlatformAdministrator      TemplateID = "11648597-926c-4cf3-9c36-bcebb0ba8dcc"
	FabricAdministrator             TemplateID = "a9ea8996-122f-4c74-9520-8edcd192826c"
	YammerAdministrator             TemplateID = "810a2642-a034-447f-a5e8-41beaa378541"
	Microsoft365BackupAdministrator TemplateID = "1707125e-0aa2-4d4d-8655-a7c786c76a25"
	TeamsAdministrator              TemplateID = "69091246-20e8-4a56-aa4d-066075b2a7a8"
	SharePointAdministrator         TemplateID = "f28a1f50-f6e7-4571-818b-6a12f2af6b6c"
	CloudApplicationAdministrator   TemplateID = "158c047a-c907-4556-b7ef-446551a6b5f7"
	ApplicationAdministrator        TemplateID = "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3"
	UserAdministrator               TemplateID = "fe930be7-5e62-47db-91af-98c3a49a38b1"
	GlobalReader                    TemplateID = "f2ef992c-3afb-46b9-b7cf-a126ee74c451"
)

// DirectoryRole describes an Entra built-in role.
type DirectoryRole struct {
	// Name is the role's name in Microsoft Entra ID, e.g. "Yammer Administrator".
	Name string `json:"name"`
	// TemplateID is the tenant-independent role template ID.
	TemplateID TemplateID `json:"templateId"`
	// Aliases are other names the product documents or admin centers use for the role, e.g.
	// "Engage Administrator" for Yammer Administrator, "Teams Service Administrator" for
	// Teams Administrator.
	Aliases []string `json:"aliases,omitempty"`
}

// String returns the role's name.
func (r DirectoryRole) String() string { return r.Name }

var directoryRoles = [...]DirectoryRole{
	{Name: "Global Administrator", TemplateID: GlobalAdministrator, Aliases: []string{"Microsoft 365 Global Administrator", "Company Administrator"}},
	{Name: "Privileged Role Administrator", TemplateID: PrivilegedRoleAdministrator},
	{Name: "Exchange Administrator", TemplateID: ExchangeAdministrator},
	{Name: "Attribute Definition Reader", TemplateID: AttributeDefinitionReader},
	{Name: "Security Administrator", TemplateID: SecurityAdministrator},
	{Name: "Groups Administrator", TemplateID: GroupsAdministrator},
	{Name: "Power Platform Administrator", TemplateID: PowerPlatformAdministrator},
	{Name: "Fabric Administrator", TemplateID: FabricAdministrator, Aliases: []string{"Power BI Administrator"}},
	{Name: "Yammer Administrator", TemplateID: YammerAdministrator, Aliases: []string{"Engage Administrator", "Viva Engage Administrator"}},
	{Name: "Microsoft 365 Backup Administrator", TemplateID: Microsoft365BackupAdministrator},
	{Name: "Teams Administrator", TemplateID: TeamsAdministrator, Aliases: []string{"Teams Service Administrator", "Teams Service admin"}},
	{Name: "SharePoint Administrator", TemplateID: SharePointAdministrator},
	{Name: "Cloud Application Administrator", TemplateID: CloudApplicationAdministrator},
	{Name: "Application Administrator", TemplateID: ApplicationAdministrator},
	{Name: "User Administrator", TemplateID: UserAdministrator},
	{Name: "Global Reader", TemplateID: GlobalReader},
}

// DirectoryRoles returns every directory role this package knows, in a stable order. The slice is
// a fresh copy; callers may modify it.
func DirectoryRoles() []DirectoryRole {
	out := make([]DirectoryRole, len(directoryRoles))
	for i, r := range directoryRoles {
		r.Aliases = slices.Clone(r.Aliases)
		out[i] = r
	}
	return out
}

// LookupDirectoryRole finds a role by template ID, name or alias. Names compare case-insensitively
// with surrounding and repeated white space ignored.
func LookupDirectoryRole(s string) (DirectoryRole, bool) {
	key := normalize(s)
	if key == "" {
		return DirectoryRole{}, false
	}
	for _, r := range directoryRoles {
		if strings.EqualFold(string(r.TemplateID), key) || normalize(r.Name) == key {
			r.Aliases = slices.Clone(r.Aliases)
			return r, true
		}
		for _, a := range r.Aliases {
			if normalize(a) == key {
				r.Aliases = slices.Clone(r.Aliases)
				return r, true
			}
		}
	}
	return DirectoryRole{}, false
}

// Name returns the role's name, or the template ID itself when the role is not one this package
// knows.
func (id TemplateID) Name() string {
	for _, r := range directoryRoles {
		if r.TemplateID == id {
			return r.Name
		}
	}
	return string(id)
}

func normalize(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }
