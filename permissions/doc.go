// Package permissions is the typed, versioned catalog of what each customer app type needs in a
// Microsoft 365 / Entra ID tenant: the services that use it, its setup modes, every permission
// (resource API + appId + Microsoft's exact value + GUID + Application or Delegated +
// Microsoft's description), the Entra directory roles and Azure RBAC grants it needs, and
// whether its permission list is published at all.
//
// The package is pure: it imports only package roles and the standard library, does no I/O,
// and has no mutable package state.
//
// # The default catalog
//
// Default returns the catalog embedded from catalog.json, parsed once and immutable; every
// method of *Catalog is safe for concurrent use and returns copies. It holds, row for row, the
// four permission tables of the product's seed document (APElements Automation 16 rows,
// APElements Baseline Management 51, APElements Security and Analysis 53, APElements Azure
// Security Management 2) and every app type the seeds name for Elements premium and AOS
// services, plus the AOS app types AvePoint's documentation adds (49 in all).
//
// AOS app types are filled from AvePoint's published permission tables ("API Permissions
// Required by AvePoint Apps", the older "… Default AvePoint Apps for Microsoft Tenants", product
// guides), transcribed with their sources in testdata/avepoint (see its README) and imported by
// testdata/avepoint_import.py; TestCatalogMatchesAvePointPages holds the catalog to them.
// PermissionsState is Published where a stored copy holds the whole table, Partial where only cut
// copies exist (the rows are a known part of the list; PermissionSources cites the pages), and
// Unpublished where no table was found (PagesSearched lists where it was looked for): never read
// an unpublished list as "needs no permissions", nor a fully granted partial one as "everything
// granted". A row keeps the month AvePoint dates it ("Last update: October 2023" → Since
// "2023-10") and any doc slip it corrects (Correction). AsOf and History derive the earlier
// catalog versions these dates imply, so Diff says when a permission was added.
//
// Values and descriptions are Microsoft's: where the seed misspells a value ("User.Read.all",
// "User_impersonation") Value holds Microsoft's spelling and SeedValue the seed's; where the
// seed's text differs from Microsoft's display name (for Baseline's Application.ReadWrite.All it
// says "Read and write all terms of use agreements"; Microsoft says "Read and write all
// applications") Description holds Microsoft's and SeedDescription the seed's. The test
// TestCatalogMatchesSeedTables checks the catalog against testdata/seed_tables.txt, a verbatim
// copy of the seed tables, with the corrections listed explicitly.
//
// # Where the IDs come from
//
// No GUID is invented. Each resource's appId and permission IDs were taken from an export of
// the Microsoft-owned service principal (appOwnerOrganizationId
// f8cdef31-a31e-4b4a-93e4-5f571e91255a) — its appRoles (Application) and
// oauth2PermissionScopes (Delegated) — published at
// github.com/maciejporebski/azure-ad-first-party-apps-permissions (commit dfafb9c, apps/*.md),
// and for Microsoft Graph also cross-checked, every ID, against Microsoft's own
// github.com/microsoftgraph/microsoft-graph-devx-content permissions/new/provisioningInfo.json
// (commit 6cbd6bb). Catalog.Sources returns the citation per resource; the catalog's "sources"
// array carries it in the JSON. Resource names are the names the Entra "Request API
// permissions" picker and the seeds use; a service principal's displayName can differ ("Azure
// Service Management" is the SP "Azure Resource Manager", "Dynamics CRM" is "Dataverse",
// "Azure Rights Management Services" is "Microsoft Rights Management Services", "SharePoint" is
// "Office 365 SharePoint Online").
//
// Identity: a permission is its Key (resource appId, Type, Value). User.ReadWrite.All on
// SharePoint is not User.ReadWrite.All on Microsoft Graph, and Group.ReadWrite.All exists as an
// Application permission and as a Delegated one with different IDs.
//
// # Services, app types and modes
//
// Elements premium: Workspace management, Risk management, Change management communication and
// User and device management (the seed's "Other premium services") use APElements Security and
// Analysis; Nitro uses APElements Automation; Azure security management uses APElements Azure
// Security Management; Baseline management uses APElements Baseline Management (ModeModern) or
// "Custom app for Baseline management" (ModeCustom: the customer's own app, whose permissions
// are exactly the modern ones, PermissionsFrom). AOS services use the app types of seed 003; AOS
// profiles are created in modern setup only (Creatable marks what the Elements page can create
// and therefore delete). Catalog.AppTypesFor(service, mode) answers "which app for this service".
//
// Lookups: Catalog.AppType and Catalog.Service take a name or alias (case-insensitive) and fail
// with a *NotFoundError listing the valid names; AppTypesFor(service, mode) and
// CreatableFor(service) answer "which app for this service"; Lookup(Key) and LookupID(resource
// appId, kind, GUID) map a tenant's grants (appRoleAssignments carry GUIDs) back to catalog
// permissions; AppType.Missing(granted) lists what a tenant still lacks; Resources lists every
// resource API with the distinct permissions requested on it (what an emulator must publish);
// Subset keeps only some app types.
//
// Shape is derived from the rows: Hybrid (application + delegated), Purebred (delegated only),
// ApplicationOnly, or ShapeUnknown when unpublished.
//
// # Versions and Diff
//
// A catalog has a Version. Diff(old, new) returns typed Changes per app type (permission
// added/removed/ID changed, directory role or Azure requirement added/removed, app type
// added/removed, permissions published); Change.RequiresConsent says which ones force existing
// profiles to be re-authorized, and Change.String reads like "APElements Baseline Management
// gained Policy.ReadWrite.DeviceConfiguration (Microsoft Graph, Delegated)". Catalog.With
// derives a new version with edits (AddPermission, RemovePermission, AddDirectoryRole,
// RemoveDirectoryRole), validated like Load.
//
// # Consent rules are data
//
// Who may consent is catalog data, not code: "consentRules" defines each rule once (its
// requirements: directory roles any-of, licence, Viva Engage Verified Admin, admin consent
// already granted, chosen backup functions, group ownership — each optionally limited by a
// condition — and advice notes, with the page it comes from), and each app type's "consent"
// lists the rules for administrator consent ("admin", at least one per service) and user consent
// ("user"; empty means user consent is not allowed), optionally per service. Seed 003's rules
// are the default catalog's data; package consent (consent.NewRulebook) evaluates the rules of
// whatever catalog it is given.
//
// Families are open: "elements-premium" and "aos" are AvePoint's; an embedder's app type may
// name its own family, and carry its vendor app's "appId".
//
// # JSON format
//
// Catalog.MarshalJSON writes, and Load/Parse read, one stable format (catalog.json is in it):
//
//	{
//	  "version": "2026.12.04",
//	  "sources":  [{"resource", "resourceAppId", "servicePrincipalDisplayName",
//	                "references": [{"repository", "commit", "path", "url", "note"}]}],
//	  "services": [{"name", "aliases", "family", "group", "creatable"}],
//	  "consentRules": [{"id", "methods": ["admin" | "user"], "summary", "source",
//	                    "requirements": [{"kind", "anyOf": [["<role template id>", …]], "license", "condition"}],
//	                    "notes": ["…"]}],
//	  "appTypes": [{
//	    "name", "entraAppName", "aliases", "family", "services", "modes",
//	    "creatable", "userConsent", "appId",
//	    "consent": {"admin": [{"rule", "services", "note"}], "user": [{"rule", "services", "note"}]},
//	    "functions",
//	    "permissionsState": "published" | "unpublished",
//	    "shape": "hybrid" | "purebred" | "application-only" | "unknown",   (export only; checked on load)
//	    "permissionsFrom": "<app type>",          (optional: share that app type's list exactly)
//	    "permissions": [{"resource", "resourceAppId", "value", "id", "type": "Application" | "Delegated",
//	                     "description", "seedValue", "seedDescription"}],   ([] when unpublished)
//	    "directoryRoles": [{"name", "templateId", "assignment", "condition"}],
//	    "azureRoles": [{"resource", "condition", "grant", "roleDefinitionId", "roleName",
//	                    "permissions", "timing"}],
//	    "notes": ["…"]
//	  }]
//	}
//
// Empty optional fields are omitted; "permissions", "directoryRoles" and "azureRoles" are always
// arrays. Load rejects unknown fields and reports every problem at once in a *ValidationError
// (errors.Is(err, ErrInvalidCatalog)): GUID shape, unknown services, modes, role template IDs
// (roles.LookupDirectoryRole) and Azure role definitions, consent rules and references
// (unknown rule, rule of the other method, requirement kind, licence, condition, a service with
// no administrator rule, userConsent disagreeing with consent.user), duplicate names or aliases, a
// permission listed twice in an app type, one permission with two IDs or descriptions, one ID
// with two values, unpublished app types with rows, and a wrong "shape".
package permissions
