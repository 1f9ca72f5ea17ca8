package permissions

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tenantapps/tenantapps/roles"
)

// Kind says how a permission is granted: as an app role to the app itself (Application, no
// signed-in user) or as an OAuth2 permission scope acting for a signed-in user (Delegated).
type Kind string

const (
	// Application is an app role (appRoles[].id on the resource's service principal); it is
	// granted with an appRoleAssignment and always needs administrator consent.
	Application Kind = "Application"
	// Delegated is an OAuth2 permission scope (oauth2PermissionScopes[].id); it is granted with an
	// oauth2PermissionGrant and acts as the signed-in consent user.
	Delegated Kind = "Delegated"
)

// Valid reports whether k is Application or Delegated.
func (k Kind) Valid() bool { return k == Application || k == Delegated }

// Mode is how an app type is set up for a customer.
type Mode string

const (
	// ModeModern is the vendor's default multi-tenant app, consented per service.
	ModeModern Mode = "modern"
	// ModeClassic is the older all-permissions app; it is re-authorized in AvePoint Online
	// Services, not on the customer app profile page.
	ModeClassic Mode = "classic"
	// ModeCustom is the customer's own app: application ID + .pfx certificate + password.
	ModeCustom Mode = "custom"
	// ModeDelegated is a vendor app that acts as its consent user (delegated permissions).
	ModeDelegated Mode = "delegated"
)

// Valid reports whether m is one of the four modes.
func (m Mode) Valid() bool {
	switch m {
	case ModeModern, ModeClassic, ModeCustom, ModeDelegated:
		return true
	}
	return false
}

// Family groups services by product line. Any non-empty name is a family: ElementsPremium and
// AOS are AvePoint's; an embedder's catalog may add its own (e.g. "acme-msp").
type Family string

const (
	// ElementsPremium are the Elements premium services (Other premium services, Baseline
	// management, Azure security management, Nitro).
	ElementsPremium Family = "elements-premium"
	// AOS are the AvePoint Online Services services.
	AOS Family = "aos"
)

// Valid reports whether f is a usable family name: not empty, printable, without leading or
// trailing spaces. Families are open; ElementsPremium and AOS are only the default catalog's.
func (f Family) Valid() bool {
	s := string(f)
	return s != "" && strings.TrimSpace(s) == s && !strings.ContainsFunc(s, func(r rune) bool { return r < ' ' })
}

// PermissionsState says whether an app type's permission list is known.
type PermissionsState string

const (
	// Published: the seeds or AvePoint's pages publish the app type's permissions and the
	// catalog lists every one.
	Published PermissionsState = "published"
	// Partial: the rows are a known subset of the app type's required list — the stored copy of
	// AvePoint's page is cut, or only part was published — with the pages cited in
	// PermissionSources. Each known row is verified, but a fully granted partial list never
	// means "all required permissions are granted".
	Partial PermissionsState = "partial"
	// Unpublished: the seeds do not publish the permissions; the list is empty on purpose and
	// must not be read as "needs no permissions". Shape is ShapeUnknown.
	Unpublished PermissionsState = "unpublished"
)

// Valid reports whether s is Published, Partial or Unpublished.
func (s PermissionsState) Valid() bool { return s == Published || s == Partial || s == Unpublished }

// Known reports whether the state lists permission rows to verify (Published or Partial).
func (s PermissionsState) Known() bool { return s == Published || s == Partial }

// Shape is the kind of app derived from its permission rows.
type Shape string

const (
	// ShapeUnknown: the permissions are unpublished, so the shape cannot be derived.
	ShapeUnknown Shape = "unknown"
	// Hybrid apps have both application and delegated permissions (seed 003's hybrid icon).
	Hybrid Shape = "hybrid"
	// Purebred apps have delegated permissions only (seed 003's purebred icon).
	Purebred Shape = "purebred"
	// ApplicationOnly apps have application permissions only; no consent user is involved
	// after consent.
	ApplicationOnly Shape = "application-only"
)

// HasDelegated reports whether an app of this shape acts as a consent user, so the consent
// user's account state (password change, MFA, sign-in from a new IP) can invalidate it.
func (s Shape) HasDelegated() bool { return s == Hybrid || s == Purebred }

// Permission is one permission an app type requests: a value on a resource API, with its
// Microsoft GUID. Two permissions are the same only if resource appId, Type and Value are
// equal: User.ReadWrite.All on SharePoint is not User.ReadWrite.All on Microsoft Graph, and a
// value can exist as Application and as Delegated with different IDs.
type Permission struct {
	// Resource is the API's name as the Entra "Request API permissions" picker shows it
	// (the seeds' API column), e.g. "Microsoft Graph", "SharePoint".
	Resource string `json:"resource"`
	// ResourceAppID is the resource service principal's appId, e.g.
	// 00000003-0000-0000-c000-000000000000 for Microsoft Graph.
	ResourceAppID string `json:"resourceAppId"`
	// Value is Microsoft's exact value, e.g. "User.Read.All", "user_impersonation".
	Value string `json:"value"`
	// ID is the app role id (Application) or the OAuth2 permission scope id (Delegated), as
	// published on the resource's service principal; lower-case GUID.
	ID string `json:"id"`
	// Type is Application or Delegated.
	Type Kind `json:"type"`
	// Description is Microsoft's display name for the permission (appRole displayName or scope
	// adminConsentDisplayName), verbatim.
	Description string `json:"description"`
	// SeedValue is the seed's spelling when it differs from Value (e.g. "User.Read.all"); empty
	// otherwise. Kept so the seed-table test can show each correction.
	SeedValue string `json:"seedValue,omitempty"`
	// SeedDescription is the seed's text when it differs from Description (typography, an
	// outdated display name, or an outright error such as Baseline's Application.ReadWrite.All
	// "Read and write all terms of use agreements"); empty otherwise.
	SeedDescription string `json:"seedDescription,omitempty"`
	// Since is the month ("2023-10") AvePoint's table says the row was added or last updated
	// ("Last update: October 2023"); empty when the page does not date it. Diff and the
	// permissions-added reason say when a permission was added with it (SinceText).
	Since string `json:"since,omitempty"`
	// Correction records a doc slip of the source page that the row corrects (a misspelt value,
	// a missing Type cell), with the evidence; empty otherwise.
	Correction string `json:"correction,omitempty"`
}

// SinceText returns Since as people read it, e.g. "October 2023"; empty when Since is empty.
func (p Permission) SinceText() string { return MonthText(p.Since) }

// MonthText turns "2023-10" into "October 2023"; other text is returned as is.
func MonthText(month string) string {
	t, err := time.Parse("2006-01", month)
	if err != nil {
		return month
	}
	return t.Format("January 2006")
}

// Key identifies a permission: resource appId, type and value.
func (p Permission) Key() Key {
	return Key{ResourceAppID: p.ResourceAppID, Type: p.Type, Value: p.Value}
}

// String returns "Value (Resource, Type)", e.g. "Sites.FullControl.All (SharePoint, Application)".
func (p Permission) String() string {
	return fmt.Sprintf("%s (%s, %s)", p.Value, p.Resource, p.Type)
}

// Key is the identity of a permission: the same value on another resource, or of the other
// type, is another permission. Values compare exactly (Microsoft's casing).
type Key struct {
	ResourceAppID string
	Type          Kind
	Value         string
}

// Service is something a customer buys and for which an app profile is created.
type Service struct {
	// Name is the canonical name, e.g. "Baseline management", "Cloud Backup for Microsoft 365".
	Name string `json:"name"`
	// Aliases are other spellings the seeds use, matched by Catalog.Service.
	Aliases []string `json:"aliases,omitempty"`
	Family  Family   `json:"family"`
	// Group is the seed's grouping, e.g. "Other premium services"; empty when none.
	Group string `json:"group,omitempty"`
	// Creatable reports whether app profiles for this service can be created on the Elements
	// customer app profile page (seed 000 lists the Elements premium services and Cloud Backup
	// for Microsoft 365, Policies for Microsoft 365, Insights and Fly).
	Creatable bool `json:"creatable"`
}

// AppType is the Entra app a service needs, with everything the catalog knows about it.
// Values returned by a Catalog are deep copies; changing them does not change the catalog.
type AppType struct {
	// Name is the app type's canonical name (AOS "App type" column or Elements' app name).
	Name string
	// EntraAppName is the app's display name in Microsoft Entra ID; empty when the seeds do
	// not publish it or the app is the customer's own.
	EntraAppName string
	// Aliases are other names for the app type, matched by Catalog.AppType.
	Aliases []string
	Family  Family
	// Services lists the canonical names of the services that use this app type.
	Services []string
	// Modes lists the setup modes this app type is used with.
	Modes []Mode
	// Creatable reports whether profiles of this app type can be created (and therefore
	// deleted) on the Elements customer app profile page.
	Creatable bool
	// UserConsent reports whether the app type is in seed 003's table of apps that can be
	// re-authorized with User consent (after an administrator granted admin consent); it
	// agrees with Consent.User being non-empty.
	UserConsent bool
	// UnsupportedToCreateNew: AvePoint no longer lets new profiles of this app type be created
	// ("unsupported to create new, but you can re-authorize the existing app profile");
	// existing profiles are still verified and re-authorized.
	UnsupportedToCreateNew bool
	// AppID is the vendor app's application (client) ID when the catalog knows it (an
	// embedder's own multi-tenant app); empty for AvePoint's apps and customers' own apps.
	AppID string
	// Consent says which of the catalog's consent rules apply to this app type (who may give
	// administrator consent, whether user consent is allowed and its preconditions).
	Consent AppConsent
	// Functions are the features a consenter chooses when creating or re-authorizing this app
	// type (the Cloud Backup for Microsoft 365 Delegated App); empty otherwise.
	Functions []string
	// PermissionsState says whether Permissions is the complete published list.
	PermissionsState PermissionsState
	// PermissionsFrom names the app type whose permission list this one shares exactly (the
	// custom Baseline app shares APElements Baseline Management's); empty otherwise.
	PermissionsFrom string
	// Permissions are the required permissions in the seed's order; empty when unpublished.
	Permissions []Permission
	// DirectoryRoles are the Entra directory roles the app's service principal needs.
	DirectoryRoles []roles.DirectoryRequirement
	// AzureRoles are the Azure RBAC grants the app needs (Azure Security Management).
	AzureRoles []roles.AzureRequirement
	// Notes are seed facts that have no field of their own.
	Notes []string
	// PermissionSources cites the pages the permission rows were transcribed from (required for
	// a Partial list); PagesSearched lists the pages and queries searched in vain for an
	// Unpublished one.
	PermissionSources []PermissionSource
	PagesSearched     []string
}

// PermissionSource is a page an app type's permission rows come from.
type PermissionSource struct {
	// Title is the page's title or breadcrumb as printed; URL its address.
	Title string `json:"title"`
	URL   string `json:"url,omitempty"`
	// Stored is "whole" when the stored copy of the page holds the whole table and "cut" when
	// it ends inside it.
	Stored string `json:"stored,omitempty"`
	// Note says what else matters: the edition, a doc slip, the row count the page announces.
	Note string `json:"note,omitempty"`
}

// Shape derives the app's shape from its permission rows: Hybrid, Purebred, ApplicationOnly,
// or ShapeUnknown when the permissions are unpublished. A partial list is Hybrid when its known
// rows hold both kinds and ShapeUnknown otherwise (the unknown rows may hold the other kind).
func (a AppType) Shape() Shape {
	if !a.PermissionsState.Known() || len(a.Permissions) == 0 {
		return ShapeUnknown
	}
	if a.PermissionsState == Partial {
		if len(a.PermissionsOfType(Application)) > 0 && len(a.PermissionsOfType(Delegated)) > 0 {
			return Hybrid
		}
		return ShapeUnknown
	}
	var app, del bool
	for _, p := range a.Permissions {
		switch p.Type {
		case Application:
			app = true
		case Delegated:
			del = true
		}
	}
	switch {
	case app && del:
		return Hybrid
	case del:
		return Purebred
	case app:
		return ApplicationOnly
	}
	return ShapeUnknown
}

// HasMode reports whether m is one of the app type's modes.
func (a AppType) HasMode(m Mode) bool { return slices.Contains(a.Modes, m) }

// UsedBy reports whether the app type serves the service (canonical name, case-insensitive).
func (a AppType) UsedBy(service string) bool {
	return slices.ContainsFunc(a.Services, func(s string) bool { return strings.EqualFold(s, service) })
}

// Permission returns the app type's permission with key k.
func (a AppType) Permission(k Key) (Permission, bool) {
	for _, p := range a.Permissions {
		if p.Key() == k {
			return p, true
		}
	}
	return Permission{}, false
}

// Missing returns the app type's required permissions whose Key is not in granted, in catalog
// order: what a tenant still lacks. It returns nil when the permissions are unpublished, since
// nothing can be checked then (test PermissionsState first); for a Partial list it checks the
// known rows only, so an empty result does not mean everything is granted.
func (a AppType) Missing(granted []Key) []Permission {
	if !a.PermissionsState.Known() {
		return nil
	}
	have := make(map[Key]bool, len(granted))
	for _, k := range granted {
		have[k] = true
	}
	var out []Permission
	for _, p := range a.Permissions {
		if !have[p.Key()] {
			out = append(out, p)
		}
	}
	return out
}

// PermissionsOfType returns the permissions of one Kind, in catalog order.
func (a AppType) PermissionsOfType(k Kind) []Permission {
	var out []Permission
	for _, p := range a.Permissions {
		if p.Type == k {
			out = append(out, p)
		}
	}
	return out
}

// String returns the app type's name.
func (a AppType) String() string { return a.Name }

func (a AppType) clone() AppType {
	a.Aliases = slices.Clone(a.Aliases)
	a.Services = slices.Clone(a.Services)
	a.Modes = slices.Clone(a.Modes)
	a.Functions = slices.Clone(a.Functions)
	a.Permissions = slices.Clone(a.Permissions)
	a.DirectoryRoles = slices.Clone(a.DirectoryRoles)
	a.AzureRoles = slices.Clone(a.AzureRoles)
	for i := range a.AzureRoles {
		a.AzureRoles[i].Permissions = slices.Clone(a.AzureRoles[i].Permissions)
	}
	a.Notes = slices.Clone(a.Notes)
	a.Consent = a.Consent.clone()
	a.PermissionSources = slices.Clone(a.PermissionSources)
	a.PagesSearched = slices.Clone(a.PagesSearched)
	return a
}

func (s Service) clone() Service {
	s.Aliases = slices.Clone(s.Aliases)
	return s
}
