package graphtest

import (
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/tenantapps/tenantapps/consent/consenttest"
	"github.com/tenantapps/tenantapps/permissions"
	"github.com/tenantapps/tenantapps/roles"
)

// Errors returned by the Go API that changes the emulated directory. The "no such" errors wrap
// consenttest.ErrUnknown, as consenttest.Directory requires.
var (
	// ErrNoTenant: the tenant was never added (AddTenant) to this server.
	ErrNoTenant = fmt.Errorf("graphtest: no such tenant (add it with Server.AddTenant): %w", consenttest.ErrUnknown)
	// ErrNoApp: the app registration was never registered (RegisterApp).
	ErrNoApp = fmt.Errorf("graphtest: no such app registration (register it with Server.RegisterApp): %w", consenttest.ErrUnknown)
	// ErrNoServicePrincipal: the app has no service principal in the tenant (consent or
	// CreateServicePrincipal creates one).
	ErrNoServicePrincipal = fmt.Errorf("graphtest: the app has no service principal in the tenant (consent to it or call CreateServicePrincipal): %w", consenttest.ErrUnknown)
	// ErrNoUser: the user does not exist in the tenant (or was deleted).
	ErrNoUser = fmt.Errorf("graphtest: no such user in the tenant (add it with Server.AddUser): %w", consenttest.ErrUnknown)
	// ErrExists: the object already exists.
	ErrExists = errors.New("graphtest: already exists")
)

// Well-known resource application IDs (the same in every tenant).
const (
	MicrosoftGraphAppID = "00000003-0000-0000-c000-000000000000"
	ExchangeOnlineAppID = "00000002-0000-0ff1-ce00-000000000000"
	SharePointAppID     = "00000003-0000-0ff1-ce00-000000000000"
	// AzureResourceManagerAppID is Azure Resource Manager (https://management.azure.com).
	AzureResourceManagerAppID = "797f4846-ba00-4fd7-ba43-dac1f8f63013"
)

// PermissionKind tells an application permission (app role) from a delegated one (OAuth2 scope).
type PermissionKind string

const (
	Application PermissionKind = "Application"
	Delegated   PermissionKind = "Delegated"
)

// Permission names one permission of a resource API. ID is the app role or scope GUID; when the
// resource service principal does not publish it yet the emulator adds it, so tests can use any
// catalog entry. Value (e.g. "User.Read.All") is what tokens carry in roles / scp.
type Permission struct {
	ResourceAppID string
	Kind          PermissionKind
	ID            string
	Value         string
	// AdminOnly marks a delegated scope that only an administrator may consent to ("Admin" type).
	AdminOnly bool
}

type keyCredential struct {
	keyID      string
	cert       *x509.Certificate
	sha1, s256 [32]byte
}

type application struct {
	AppID, DisplayName, HomeTenantID string
	RedirectURIs                     []string
	RequiredPermissions              []Permission
	id                               string // application object id
	keys                             []keyCredential
}

type appRole struct {
	ID, Value, DisplayName string
	AllowedMemberTypes     []string
}

type scope struct {
	ID, Value, Type string
}

type servicePrincipal struct {
	id, appID, displayName, ownerTenant string
	enabled                             bool
	appRoles                            []appRole
	scopes                              []scope
	resource                            bool
	created                             time.Time
}

type appRoleAssignment struct {
	id, principalID, resourceID, appRoleID string
	created                                time.Time
}

type oauth2Grant struct {
	id, clientID, consentType, principalID, resourceID string
	scopes                                             []string
}

type roleAssignment struct {
	id, principalID string
	role            roles.TemplateID
}

type userState struct {
	ID, UserPrincipalName, DisplayName string
	AccountEnabled, Deleted            bool
	Licenses                           []string
	MFARegistered, MFARequired         bool
	LastPasswordChange                 time.Time
	SessionsValidFrom                  time.Time
}

type signIn struct {
	id, appID, userID, upn, ip, caStatus string
	errorCode                            int
	at                                   time.Time
	// nonInteractive: a refresh-token sign-in (v1.0 does not list these; beta does with
	// signInEventTypes/any(t: t eq 'nonInteractiveUser')).
	nonInteractive bool
}

type tenantState struct {
	ID, DisplayName, Domain string
	sps                     map[string]*servicePrincipal // by object id
	spByApp                 map[string]string            // appId -> object id
	araList                 []*appRoleAssignment
	grants                  []*oauth2Grant
	roleAsg                 []*roleAssignment
	users                   map[string]*userState // by id
	blocked                 map[string]bool       // client IPs blocked by Conditional Access
	signIns                 []signIn
	azure                   map[azureKey]bool
	consent                 *consentPlan
	autoUser                string // UPN that auto-accepts consent; "" = show the page
}

type azureKey struct {
	principalID, scope string
	role               roles.AzureRoleID
}

// consentPlan is a queued consent failure (FailNextConsent).
type consentPlan struct {
	code        int
	errorName   string
	description string
}

// builtinResources are seeded into every tenant: the resource service principals of Microsoft's
// first-party APIs with every app role and scope the catalog (permissions.Default) requests,
// plus the ones the emulator itself needs. IDs are Microsoft's real ones.
//
// The definitions are built once and every tenant's copies share their appRoles and scopes
// (read-only; clipped, so a tenant that adds one reallocates instead of writing into the shared
// array): a private copy per tenant was most of a 2,000-tenant emulator's memory.
func builtinResources() []*servicePrincipal {
	tmpl := resourceTemplates()
	out := make([]*servicePrincipal, len(tmpl))
	for i := range tmpl {
		sp := tmpl[i]
		sp.appRoles, sp.scopes = slices.Clip(sp.appRoles), slices.Clip(sp.scopes)
		out[i] = &sp
	}
	return out
}

// resourceTemplates holds the immutable definitions builtinResources copies.
var resourceTemplates = sync.OnceValue(func() []servicePrincipal {
	var out []servicePrincipal
	for _, sp := range buildResources() {
		out = append(out, *sp)
	}
	return out
})

func buildResources() []*servicePrincipal {
	out := literalResources()
	byApp := map[string]*servicePrincipal{}
	for _, sp := range out {
		byApp[sp.appID] = sp
	}
	for _, r := range permissions.Default().Resources() {
		appID := strings.ToLower(r.AppID)
		sp, ok := byApp[appID]
		if !ok {
			sp = &servicePrincipal{appID: appID, displayName: r.Name, resource: true, enabled: true}
			byApp[appID] = sp
			out = append(out, sp)
		}
		for _, p := range r.Permissions {
			id := strings.ToLower(p.ID)
			switch p.Type {
			case permissions.Application:
				if !slices.ContainsFunc(sp.appRoles, func(a appRole) bool { return a.ID == id }) {
					sp.appRoles = append(sp.appRoles, appRole{ID: id, Value: p.Value, DisplayName: p.Description})
				}
			case permissions.Delegated:
				if !slices.ContainsFunc(sp.scopes, func(s scope) bool { return s.ID == id }) {
					sp.scopes = append(sp.scopes, scope{ID: id, Value: p.Value, Type: "User"})
				}
			}
		}
	}
	return out
}

func literalResources() []*servicePrincipal {
	return []*servicePrincipal{
		{appID: MicrosoftGraphAppID, displayName: "Microsoft Graph", resource: true, enabled: true,
			appRoles: []appRole{
				{ID: "df021288-bdef-4463-88db-98f22de89214", Value: "User.Read.All"},
				{ID: "9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30", Value: "Application.Read.All"},
				{ID: "7ab1d382-f21e-4acd-a863-ba3e13f7da61", Value: "Directory.Read.All"},
				{ID: "19dbc75e-c2e2-444c-a770-ec69d8559fc7", Value: "Directory.ReadWrite.All"},
				{ID: "483bed4a-2ad3-4361-a73b-c83ccdbdc53c", Value: "RoleManagement.Read.Directory"},
				{ID: "9e3f62cf-ca93-4989-b6ce-bf83c28f9fe8", Value: "RoleManagement.ReadWrite.Directory"},
				{ID: "b0afded3-3588-46d8-8b3d-9842eff778da", Value: "AuditLog.Read.All"},
				{ID: "498476ce-e0fe-48b0-b801-37ba7e2685c6", Value: "Organization.Read.All"},
				{ID: "5b567255-7703-4780-807c-7be8301ae99b", Value: "Group.Read.All"},
				{ID: "81b4724a-58aa-41c1-8a55-84ef97466587", Value: "DelegatedPermissionGrant.Read.All"},
			},
			scopes: []scope{
				{ID: "e1fe6dd8-ba31-4d61-89e7-88639da4683d", Value: "User.Read", Type: "User"},
				{ID: "37f7f235-527c-4136-accd-4a02d197296e", Value: "openid", Type: "User"},
				{ID: "14dad69e-099b-42c9-810b-d002981feec1", Value: "profile", Type: "User"},
				{ID: "7427e0e9-2fba-42fe-b0c0-848c9e6a8182", Value: "offline_access", Type: "User"},
				{ID: "a154be20-db9c-4678-8ab7-66f6cc099a59", Value: "User.Read.All", Type: "Admin"},
				{ID: "06da0dbc-49e2-44d2-8312-53f166ab848a", Value: "Directory.Read.All", Type: "Admin"},
			}},
		{appID: ExchangeOnlineAppID, displayName: "Office 365 Exchange Online", resource: true, enabled: true,
			appRoles: []appRole{{ID: "dc50a0fb-09a3-484d-be87-e023b12c6440", Value: "Exchange.ManageAsApp"}}},
		{appID: AzureResourceManagerAppID, displayName: "Windows Azure Service Management API", resource: true, enabled: true,
			scopes: []scope{{ID: "41094075-9dad-400e-a0bd-54e686782033", Value: "user_impersonation", Type: "User"}}},
		{appID: SharePointAppID, displayName: "Office 365 SharePoint Online", resource: true, enabled: true,
			appRoles: []appRole{{ID: "678536fe-1083-478a-9c59-b99265e6b0d3", Value: "Sites.FullControl.All"}}},
	}
}

// resourceURI maps a resource appId to the identifier URI used in scopes and token audiences.
func resourceURI(appID string) string {
	switch appID {
	case MicrosoftGraphAppID:
		return "https://graph.microsoft.com"
	case ExchangeOnlineAppID:
		return "https://outlook.office365.com"
	case SharePointAppID:
		return "https://microsoft.sharepoint-df.com"
	case AzureResourceManagerAppID:
		return "https://management.azure.com"
	}
	return "api://" + appID
}

// resourceFromScope maps a requested scope ("https://graph.microsoft.com/.default",
// "https://graph.microsoft.com/User.Read", "User.Read", "00000003-.../.default") to a resource
// appId and the scope value. OIDC scopes return an empty resource.
func resourceFromScope(s string) (resourceAppID, value string) {
	switch s {
	case "openid", "profile", "offline_access", "email":
		return "", s
	}
	i := strings.LastIndex(s, "/")
	if i < 0 {
		return MicrosoftGraphAppID, s
	}
	prefix, v := s[:i], s[i+1:]
	for _, id := range []string{MicrosoftGraphAppID, ExchangeOnlineAppID, SharePointAppID, AzureResourceManagerAppID} {
		if prefix == resourceURI(id) || prefix == id {
			return id, v
		}
	}
	if after, ok := strings.CutPrefix(prefix, "api://"); ok {
		return after, v
	}
	return prefix, v
}

func (s *Server) newID() string {
	s.idMu.Lock()
	defer s.idMu.Unlock()
	id, err := uuid.NewRandomFromReader(s.opts.Rand)
	if err != nil {
		// The injected reader ran dry: fall back to a counter-derived ID rather than panic.
		s.idSeq++
		return fmt.Sprintf("00000000-0000-4000-8000-%012x", s.idSeq)
	}
	return id.String()
}

// tenantLocked resolves a tenant by ID or domain. Caller holds s.mu.
func (s *Server) tenantLocked(key string) (*tenantState, bool) {
	if t, ok := s.tenants[strings.ToLower(key)]; ok {
		return t, true
	}
	for _, t := range s.tenants {
		if t.Domain != "" && strings.EqualFold(t.Domain, key) {
			return t, true
		}
	}
	return nil, false
}
