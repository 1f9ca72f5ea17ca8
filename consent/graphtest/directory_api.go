package graphtest

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/tenantapps/tenantapps/consent"
	"github.com/tenantapps/tenantapps/consent/consenttest"
	"github.com/tenantapps/tenantapps/roles"
)

var (
	_ consenttest.Directory     = (*Server)(nil)
	_ consenttest.FaultInjector = (*Server)(nil)
)

// AddTenant adds an empty tenant seeded with the first-party resource service principals
// (Microsoft Graph, Exchange Online, SharePoint Online) and with the apps registered through
// ProvisionEverywhere. Adding an existing tenant returns an error wrapping ErrExists.
func (s *Server) AddTenant(t consenttest.Tenant) error {
	if _, err := uuid.Parse(t.ID); err != nil {
		return fmt.Errorf("graphtest: tenant ID %q is not a GUID", t.ID)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := strings.ToLower(t.ID)
	if _, ok := s.tenants[key]; ok {
		return fmt.Errorf("%w: tenant %s", ErrExists, t.ID)
	}
	ts := &tenantState{ID: key, DisplayName: t.DisplayName, Domain: t.DefaultDomain,
		sps: map[string]*servicePrincipal{}, spByApp: map[string]string{},
		users: map[string]*userState{}, blocked: map[string]bool{}, azure: map[azureKey]bool{}}
	if ts.DisplayName == "" {
		ts.DisplayName = "Tenant " + key[:8]
	}
	if ts.Domain == "" {
		ts.Domain = "t" + key[:8] + ".onmicrosoft.com"
	}
	for _, r := range builtinResources() {
		r.id = s.newID()
		r.ownerTenant = "f8cdef31-a31e-4b4a-93e4-5f571e91255a" // Microsoft Services
		r.created = s.now()
		ts.sps[r.id] = r
		ts.spByApp[r.appID] = r.id
	}
	s.tenants[key] = ts
	for _, p := range s.everywhere {
		s.provisionLocked(ts, p)
	}
	return nil
}

// provision is an app consented in every tenant (the driver's reading identity).
type provision struct {
	appID string
	perms []Permission
}

// ProvisionEverywhere consents the registered app appID in every tenant, present and future,
// with the given application permissions (for example Microsoft Graph Application.Read.All):
// what an MSP's reading app looks like. consenttest.Directory.AddTenant promises that the driver
// under test can read each new tenant; an environment calls this once for the driver's app.
func (s *Server) ProvisionEverywhere(appID string, perms ...Permission) error {
	return s.withApp(appID, func(app *application) error {
		p := provision{appID: app.AppID, perms: slices.Clone(perms)}
		for i := range p.perms {
			p.perms[i].Kind = Application
		}
		s.everywhere = append(s.everywhere, p)
		for _, t := range s.tenants {
			s.provisionLocked(t, p)
		}
		return nil
	})
}

func (s *Server) provisionLocked(t *tenantState, p provision) {
	app := s.apps[p.appID]
	sp := s.addSPLocked(t, app)
	for _, perm := range p.perms {
		if res, id, err := s.publishLocked(t, perm); err == nil {
			s.grantRoleLocked(t, sp, res, id)
		}
	}
}

// RegisterApp registers an application (its application object lives in HomeTenantID, which must
// exist). It creates no service principal: consent, CreateServicePrincipal or ProvisionEverywhere
// do. Registering the same AppID twice returns an error wrapping ErrExists.
func (s *Server) RegisterApp(a consenttest.App) error {
	if _, err := uuid.Parse(a.AppID); err != nil {
		return fmt.Errorf("graphtest: app ID %q is not a GUID", a.AppID)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	appID := strings.ToLower(a.AppID)
	if _, ok := s.apps[appID]; ok {
		return fmt.Errorf("%w: app %s", ErrExists, a.AppID)
	}
	home, ok := s.tenantLocked(a.HomeTenantID)
	if !ok {
		return fmt.Errorf("%w: home tenant %q of app %s", ErrNoTenant, a.HomeTenantID, a.AppID)
	}
	app := &application{AppID: appID, DisplayName: a.DisplayName, HomeTenantID: home.ID,
		RedirectURIs: slices.Clone(a.RedirectURIs), id: s.newID()}
	if app.DisplayName == "" {
		app.DisplayName = "App " + appID[:8]
	}
	for _, c := range a.Certificates {
		if c != nil {
			app.keys = append(app.keys, s.keyFor(c))
		}
	}
	s.apps[appID] = app
	return nil
}

// SetRequiredPermissions sets the permissions the app registration asks for; admin consent
// (the adminconsent endpoint) grants exactly these.
func (s *Server) SetRequiredPermissions(appID string, perms ...Permission) error {
	return s.withApp(appID, func(app *application) error {
		app.RequiredPermissions = slices.Clone(perms)
		return nil
	})
}

// withApp calls f with the app registration appID while holding s.mu. It returns an error
// wrapping ErrNoApp if the app was never registered, else what f returns.
func (s *Server) withApp(appID string, f func(*application) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	app, ok := s.apps[strings.ToLower(appID)]
	if !ok {
		return fmt.Errorf("%w: %q", ErrNoApp, appID)
	}
	return f(app)
}

func (s *Server) keyFor(c *x509.Certificate) keyCredential {
	k := keyCredential{keyID: s.newID(), cert: c}
	h1 := sha1.Sum(c.Raw)
	copy(k.sha1[:], h1[:])
	k.s256 = sha256.Sum256(c.Raw)
	return k
}

// RotateAppCertificates replaces the registration's keyCredentials. Assertions signed with a
// removed certificate then fail with AADSTS700027.
func (s *Server) RotateAppCertificates(appID string, certs ...*x509.Certificate) error {
	return s.withApp(appID, func(app *application) error {
		app.keys = nil
		for _, c := range certs {
			if c != nil {
				app.keys = append(app.keys, s.keyFor(c))
			}
		}
		return nil
	})
}

// addSPLocked creates (or returns) the app's service principal in t.
func (s *Server) addSPLocked(t *tenantState, app *application) *servicePrincipal {
	if id, ok := t.spByApp[app.AppID]; ok {
		return t.sps[id]
	}
	sp := &servicePrincipal{id: s.newID(), appID: app.AppID, displayName: app.DisplayName,
		ownerTenant: app.HomeTenantID, enabled: true, created: s.now()}
	t.sps[sp.id] = sp
	t.spByApp[app.AppID] = sp.id
	return sp
}

// CreateServicePrincipal creates the app's service principal in a tenant (as an admin consent
// would, without granting anything) and returns its object ID. It is idempotent.
func (s *Server) CreateServicePrincipal(tenantID, appID string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, app, err := s.tenantAppLocked(tenantID, appID)
	if err != nil {
		return "", err
	}
	return s.addSPLocked(t, app).id, nil
}

func (s *Server) tenantAppLocked(tenantID, appID string) (*tenantState, *application, error) {
	t, ok := s.tenantLocked(tenantID)
	if !ok {
		return nil, nil, fmt.Errorf("%w: %q", ErrNoTenant, tenantID)
	}
	app, ok := s.apps[strings.ToLower(appID)]
	if !ok {
		return nil, nil, fmt.Errorf("%w: %q", ErrNoApp, appID)
	}
	return t, app, nil
}

func (s *Server) spLocked(t *tenantState, appID string) (*servicePrincipal, error) {
	id, ok := t.spByApp[strings.ToLower(appID)]
	if !ok {
		return nil, fmt.Errorf("%w: app %s in tenant %s", ErrNoServicePrincipal, appID, t.ID)
	}
	return t.sps[id], nil
}

// withTenant calls f with the tenant named by tenantID (its ID or domain) while holding s.mu. It
// returns an error wrapping ErrNoTenant if there is no such tenant, else what f returns.
func (s *Server) withTenant(tenantID string, f func(*tenantState) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tenantLocked(tenantID)
	if !ok {
		return fmt.Errorf("%w: %q", ErrNoTenant, tenantID)
	}
	return f(t)
}

// withServicePrincipal calls f with the tenant and the app's service principal in it while
// holding s.mu. It returns an error wrapping ErrNoTenant or ErrNoServicePrincipal if either is
// missing, else what f returns.
func (s *Server) withServicePrincipal(tenantID, appID string, f func(*tenantState, *servicePrincipal) error) error {
	return s.withTenant(tenantID, func(t *tenantState) error {
		sp, err := s.spLocked(t, appID)
		if err != nil {
			return err
		}
		return f(t, sp)
	})
}

// resourceSPLocked returns the resource's service principal, provisioning one for an unknown
// resource appId on first use (first-party resources exist in every tenant).
func (s *Server) resourceSPLocked(t *tenantState, resourceAppID string) *servicePrincipal {
	resourceAppID = strings.ToLower(resourceAppID)
	if id, ok := t.spByApp[resourceAppID]; ok {
		return t.sps[id]
	}
	name := "Resource " + resourceAppID
	if app, ok := s.apps[resourceAppID]; ok {
		name = app.DisplayName
	}
	sp := &servicePrincipal{id: s.newID(), appID: resourceAppID, displayName: name, resource: true, enabled: true, created: s.now()}
	t.sps[sp.id] = sp
	t.spByApp[resourceAppID] = sp.id
	return sp
}

// publishLocked finds or adds the permission on the resource SP and returns its ID. An app role
// or scope the resource does not publish yet is added (value defaults to the ID).
func (s *Server) publishLocked(t *tenantState, p Permission) (*servicePrincipal, string, error) {
	if p.ResourceAppID == "" {
		p.ResourceAppID = MicrosoftGraphAppID
	}
	res := s.resourceSPLocked(t, p.ResourceAppID)
	id := strings.ToLower(p.ID)
	switch p.Kind {
	case Application:
		for _, r := range res.appRoles {
			if (id != "" && r.ID == id) || (id == "" && r.Value == p.Value) {
				return res, r.ID, nil
			}
		}
		if id == "" {
			return nil, "", fmt.Errorf("graphtest: resource %s publishes no app role %q; pass its ID", p.ResourceAppID, p.Value)
		}
		if p.Value == "" {
			p.Value = id
		}
		res.appRoles = append(res.appRoles, appRole{ID: id, Value: p.Value})
		return res, id, nil
	case Delegated:
		for _, sc := range res.scopes {
			if (id != "" && sc.ID == id) || (id == "" && strings.EqualFold(sc.Value, p.Value)) {
				return res, sc.ID, nil
			}
		}
		if p.Value == "" {
			return nil, "", fmt.Errorf("graphtest: delegated permission on %s needs a value", p.ResourceAppID)
		}
		if id == "" {
			id = uuid.NewSHA1(uuid.NameSpaceURL, []byte(p.ResourceAppID+"/"+p.Value)).String()
		}
		typ := "User"
		if p.AdminOnly {
			typ = "Admin"
		}
		res.scopes = append(res.scopes, scope{ID: id, Value: p.Value, Type: typ})
		return res, id, nil
	}
	return nil, "", fmt.Errorf("graphtest: permission kind %q is neither Application nor Delegated", p.Kind)
}

// GrantAppRole grants application permission appRoleID of resourceAppID to the app's service
// principal (an appRoleAssignment). Granting twice is a no-op. Tokens carry the role's value in
// their roles claim (the ID itself for app roles the emulator does not know by name).
func (s *Server) GrantAppRole(tenantID, appID, resourceAppID, appRoleID string) error {
	return s.withServicePrincipal(tenantID, appID, func(t *tenantState, sp *servicePrincipal) error {
		res, roleID, err := s.publishLocked(t, Permission{ResourceAppID: resourceAppID, Kind: Application, ID: appRoleID})
		if err != nil {
			return err
		}
		s.grantRoleLocked(t, sp, res, roleID)
		return nil
	})
}

func (s *Server) grantRoleLocked(t *tenantState, sp, res *servicePrincipal, roleID string) {
	for _, a := range t.araList {
		if a.principalID == sp.id && a.resourceID == res.id && a.appRoleID == roleID {
			return
		}
	}
	t.araList = append(t.araList, &appRoleAssignment{id: s.newID(), principalID: sp.id, resourceID: res.id, appRoleID: roleID, created: s.now()})
}

// RevokeAppRole removes the appRoleAssignment; revoking an absent one is a no-op.
func (s *Server) RevokeAppRole(tenantID, appID, resourceAppID, appRoleID string) error {
	return s.withServicePrincipal(tenantID, appID, func(t *tenantState, sp *servicePrincipal) error {
		res := s.resourceSPLocked(t, resourceAppID)
		t.araList = slices.DeleteFunc(t.araList, func(a *appRoleAssignment) bool {
			return a.principalID == sp.id && a.resourceID == res.id && strings.EqualFold(a.appRoleID, appRoleID)
		})
		return nil
	})
}

// GrantDelegated adds scopes to the app's delegated grant for resourceAppID: tenant-wide
// (AllPrincipals) when principalID is empty, else for that user (Principal).
func (s *Server) GrantDelegated(tenantID, appID, resourceAppID, principalID string, scopes ...string) error {
	return s.withServicePrincipal(tenantID, appID, func(t *tenantState, sp *servicePrincipal) error {
		userID := ""
		if principalID != "" {
			u := t.userLocked(principalID)
			if u == nil {
				return fmt.Errorf("%w: %q", ErrNoUser, principalID)
			}
			userID = u.ID
		}
		for _, v := range scopes {
			res, _, err := s.publishLocked(t, Permission{ResourceAppID: resourceAppID, Kind: Delegated, Value: v})
			if err != nil {
				return err
			}
			s.grantScopeLocked(t, sp, res, userID, v)
		}
		return nil
	})
}

func (s *Server) grantScopeLocked(t *tenantState, sp, res *servicePrincipal, userID, value string) {
	consentType := "AllPrincipals"
	if userID != "" {
		consentType = "Principal"
	}
	for _, g := range t.grants {
		if g.clientID == sp.id && g.resourceID == res.id && g.principalID == userID {
			if !slices.ContainsFunc(g.scopes, func(v string) bool { return strings.EqualFold(v, value) }) {
				g.scopes = append(g.scopes, value)
			}
			return
		}
	}
	t.grants = append(t.grants, &oauth2Grant{id: s.newID(), clientID: sp.id, consentType: consentType,
		principalID: userID, resourceID: res.id, scopes: []string{value}})
}

// RevokeDelegated removes scopes (all when none are given) from the app's delegated grant; a
// grant left with no scope is deleted, as Entra does. Revoking what is absent is a no-op.
func (s *Server) RevokeDelegated(tenantID, appID, resourceAppID, principalID string, scopes ...string) error {
	return s.withServicePrincipal(tenantID, appID, func(t *tenantState, sp *servicePrincipal) error {
		userID := ""
		if principalID != "" {
			userID = strings.ToLower(principalID)
			if u := t.userLocked(principalID); u != nil {
				userID = u.ID
			}
		}
		res := s.resourceSPLocked(t, resourceAppID)
		for _, g := range t.grants {
			if g.clientID != sp.id || g.resourceID != res.id || g.principalID != userID {
				continue
			}
			if len(scopes) == 0 {
				g.scopes = nil
			}
			for _, v := range scopes {
				g.scopes = slices.DeleteFunc(g.scopes, func(x string) bool { return strings.EqualFold(x, v) })
			}
		}
		t.grants = slices.DeleteFunc(t.grants, func(g *oauth2Grant) bool { return len(g.scopes) == 0 })
		return nil
	})
}

// AssignAppDirectoryRole assigns a directory role to the app's service principal (idempotent).
func (s *Server) AssignAppDirectoryRole(tenantID, appID string, role roles.TemplateID) error {
	return s.withServicePrincipal(tenantID, appID, func(t *tenantState, sp *servicePrincipal) error {
		s.assignRoleLocked(t, sp.id, role)
		return nil
	})
}

// RemoveAppDirectoryRole removes a directory role from the app's service principal (idempotent).
func (s *Server) RemoveAppDirectoryRole(tenantID, appID string, role roles.TemplateID) error {
	return s.withServicePrincipal(tenantID, appID, func(t *tenantState, sp *servicePrincipal) error {
		t.roleAsg = slices.DeleteFunc(t.roleAsg, func(r *roleAssignment) bool {
			return r.principalID == sp.id && strings.EqualFold(string(r.role), string(role))
		})
		return nil
	})
}

func (s *Server) assignRoleLocked(t *tenantState, principalID string, role roles.TemplateID) *roleAssignment {
	role = roles.TemplateID(strings.ToLower(string(role)))
	for _, r := range t.roleAsg {
		if r.principalID == principalID && r.role == role {
			return r
		}
	}
	r := &roleAssignment{id: s.newID(), principalID: principalID, role: role}
	t.roleAsg = append(t.roleAsg, r)
	return r
}

// AssignAzureRole records an Azure RBAC role assignment of the app's service principal. The
// emulator keeps it for AzureRoleAssignments but serves no Azure Resource Manager API.
func (s *Server) AssignAzureRole(tenantID, appID, scope string, role roles.AzureRoleID) error {
	return s.withServicePrincipal(tenantID, appID, func(t *tenantState, sp *servicePrincipal) error {
		t.azure[azureKey{sp.id, scope, role}] = true
		return nil
	})
}

// RemoveAzureRole removes an Azure RBAC role assignment (idempotent).
func (s *Server) RemoveAzureRole(tenantID, appID, scope string, role roles.AzureRoleID) error {
	return s.withServicePrincipal(tenantID, appID, func(t *tenantState, sp *servicePrincipal) error {
		delete(t.azure, azureKey{sp.id, scope, role})
		return nil
	})
}

// AzureRoleAssignments lists the recorded Azure RBAC assignments of the app's service principal
// at scope or below, sorted by scope then role.
func (s *Server) AzureRoleAssignments(tenantID, appID, scope string) ([]consent.AzureRoleAssignment, error) {
	var out []consent.AzureRoleAssignment
	err := s.withServicePrincipal(tenantID, appID, func(t *tenantState, sp *servicePrincipal) error {
		for k := range t.azure {
			if k.principalID == sp.id && (k.scope == scope || strings.HasPrefix(strings.ToLower(k.scope), strings.ToLower(strings.TrimSuffix(scope, "/"))+"/")) {
				out = append(out, consent.AzureRoleAssignment{Scope: k.scope, RoleID: k.role})
			}
		}
		return nil
	})
	slices.SortFunc(out, func(a, b consent.AzureRoleAssignment) int {
		if c := strings.Compare(a.Scope, b.Scope); c != 0 {
			return c
		}
		return strings.Compare(string(a.RoleID), string(b.RoleID))
	})
	return out, err
}

func (t *tenantState) userLocked(key string) *userState {
	if u, ok := t.users[strings.ToLower(key)]; ok && !u.Deleted {
		return u
	}
	for _, u := range t.users {
		if !u.Deleted && strings.EqualFold(u.UserPrincipalName, key) {
			return u
		}
	}
	return nil
}

// AddUser adds a user and returns its object ID. Its directory roles are assigned.
func (s *Server) AddUser(tenantID string, u consenttest.User) (string, error) {
	var id string
	err := s.withTenant(tenantID, func(t *tenantState) error {
		if u.UserPrincipalName == "" {
			return errors.New("graphtest: a user needs a UserPrincipalName")
		}
		if t.userLocked(u.UserPrincipalName) != nil {
			return fmt.Errorf("%w: user %s", ErrExists, u.UserPrincipalName)
		}
		id = strings.ToLower(u.ObjectID)
		if id == "" {
			id = s.newID()
		}
		if _, ok := t.users[id]; ok {
			return fmt.Errorf("%w: user %s", ErrExists, id)
		}
		changed := u.LastPasswordChange
		if changed.IsZero() {
			changed = s.now()
		}
		changed = changed.UTC().Truncate(time.Second)
		name, _, _ := strings.Cut(u.UserPrincipalName, "@")
		t.users[id] = &userState{ID: id, UserPrincipalName: u.UserPrincipalName, DisplayName: name,
			AccountEnabled: !u.Disabled, Licenses: slices.Clone(u.Licenses), MFARegistered: u.MFARegistered,
			LastPasswordChange: changed, SessionsValidFrom: changed}
		for _, r := range u.DirectoryRoles {
			s.assignRoleLocked(t, id, r)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return id, nil
}

// mutateUser calls f with the tenant and the (not deleted) user named by user, its object ID or
// UPN, while holding s.mu. It returns an error wrapping ErrNoTenant or ErrNoUser if either is
// missing.
func (s *Server) mutateUser(tenantID, user string, f func(*tenantState, *userState)) error {
	return s.withTenant(tenantID, func(t *tenantState) error {
		u := t.userLocked(user)
		if u == nil {
			return fmt.Errorf("%w: %q in tenant %s", ErrNoUser, user, t.ID)
		}
		f(t, u)
		return nil
	})
}

// ResetUserPassword resets a user's password: lastPasswordChangeDateTime and
// signInSessionsValidFromDateTime become now, so refresh tokens issued before are revoked
// (AADSTS50173).
func (s *Server) ResetUserPassword(tenantID, userID string) error {
	return s.mutateUser(tenantID, userID, func(_ *tenantState, u *userState) {
		now := s.now().UTC() // exact: a refresh token issued earlier in the same second is revoked
		u.LastPasswordChange, u.SessionsValidFrom = now, now
	})
}

// SetUserEnabled sets accountEnabled (false: sign-ins fail with AADSTS50057).
func (s *Server) SetUserEnabled(tenantID, userID string, enabled bool) error {
	return s.mutateUser(tenantID, userID, func(_ *tenantState, u *userState) { u.AccountEnabled = enabled })
}

// DeleteUser deletes the user: Graph answers 404 for it and its tokens stop refreshing.
func (s *Server) DeleteUser(tenantID, userID string) error {
	return s.mutateUser(tenantID, userID, func(t *tenantState, u *userState) {
		u.Deleted = true
		t.roleAsg = slices.DeleteFunc(t.roleAsg, func(r *roleAssignment) bool { return r.principalID == u.ID })
		t.grants = slices.DeleteFunc(t.grants, func(g *oauth2Grant) bool { return g.principalID == u.ID })
	})
}

// RemoveUserLicense removes a SKU from the user's assignedLicenses.
func (s *Server) RemoveUserLicense(tenantID, userID, skuID string) error {
	return s.mutateUser(tenantID, userID, func(_ *tenantState, u *userState) {
		u.Licenses = slices.DeleteFunc(u.Licenses, func(l string) bool { return strings.EqualFold(l, skuID) })
	})
}

// RequireUserMFA registers an MFA method for the user and requires MFA: refresh-token and
// non-interactive sign-ins then fail with AADSTS50076.
func (s *Server) RequireUserMFA(tenantID, userID string) error {
	return s.mutateUser(tenantID, userID, func(_ *tenantState, u *userState) {
		u.MFARegistered, u.MFARequired = true, true
	})
}

// BlockIP adds a Conditional Access policy that blocks user sign-ins from ip (as the emulator sees
// it: the client's remote address, 127.0.0.1 in tests) with AADSTS53003; the sign-in is recorded
// with conditionalAccessStatus "failure".
func (s *Server) BlockIP(tenantID, ip string) error {
	return s.withTenant(tenantID, func(t *tenantState) error {
		t.blocked[ip] = true
		return nil
	})
}

// UnblockIP removes a BlockIP policy.
func (s *Server) UnblockIP(tenantID, ip string) error {
	return s.withTenant(tenantID, func(t *tenantState) error {
		delete(t.blocked, ip)
		return nil
	})
}

// DeleteServicePrincipal deletes the app's service principal from the tenant with its app role
// assignments, delegated grants and directory role assignments (what deleting an enterprise app
// does). Token requests for the app in that tenant then fail with AADSTS700016.
func (s *Server) DeleteServicePrincipal(tenantID, appID string) error {
	return s.withServicePrincipal(tenantID, appID, func(t *tenantState, sp *servicePrincipal) error {
		delete(t.sps, sp.id)
		delete(t.spByApp, sp.appID)
		t.araList = slices.DeleteFunc(t.araList, func(a *appRoleAssignment) bool { return a.principalID == sp.id })
		t.grants = slices.DeleteFunc(t.grants, func(g *oauth2Grant) bool { return g.clientID == sp.id })
		t.roleAsg = slices.DeleteFunc(t.roleAsg, func(r *roleAssignment) bool { return r.principalID == sp.id })
		for k := range t.azure {
			if k.principalID == sp.id {
				delete(t.azure, k)
			}
		}
		return nil
	})
}

// SetServicePrincipalEnabled sets the SP's accountEnabled. A disabled SP cannot get tokens
// (AADSTS7000112) but Graph still reads it.
func (s *Server) SetServicePrincipalEnabled(tenantID, appID string, enabled bool) error {
	return s.withServicePrincipal(tenantID, appID, func(_ *tenantState, sp *servicePrincipal) error {
		sp.enabled = enabled
		return nil
	})
}

// SimulateSignIn evaluates a non-interactive sign-in of appID as userID from ipAddress against
// the tenant's state (blocked IPs, disabled or deleted user, MFA requirement, revoked sessions do
// not apply), records it, and returns it as auditLogs/signIns will report it.
func (s *Server) SimulateSignIn(tenantID, appID, userID, ipAddress string) (consent.SignIn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, app, err := s.tenantAppLocked(tenantID, appID)
	if err != nil {
		return consent.SignIn{}, err
	}
	u := t.userLocked(userID)
	uid := strings.ToLower(userID)
	if u != nil {
		uid = u.ID
	} else if _, known := t.users[uid]; !known {
		return consent.SignIn{}, fmt.Errorf("%w: %q", ErrNoUser, userID)
	}
	_, _ = s.evaluateSignInLocked(t, app, uid, ipAddress, time.Time{}, true)
	si := t.signIns[len(t.signIns)-1]
	return signInValue(si), nil
}

func signInValue(si signIn) consent.SignIn {
	out := consent.SignIn{ID: si.id, Time: si.at.UTC().Truncate(time.Second), AppID: si.appID, UserObjectID: si.userID,
		UserPrincipalName: si.upn, IPAddress: si.ip, ConditionalAccess: consent.ConditionalAccessStatus(si.caStatus),
		ErrorCode: si.errorCode}
	if si.errorCode != 0 {
		out.FailureReason = failureReason(si.errorCode)
	}
	return out
}

func failureReason(code int) string {
	switch code {
	case 53003:
		return "Access has been blocked by Conditional Access policies."
	case 50076:
		return "Strong authentication (MFA) is required."
	case 50057:
		return "The user account is disabled."
	case 50034:
		return "The user account does not exist."
	case 50173:
		return "The grant has expired: the user's sessions were revoked."
	}
	return "Other."
}

// AuthorizeUser drives the tenant's authorize endpoint over HTTPS as a browser would: the user
// signs in, consents to req.Scopes (recorded as a Principal grant) and is redirected; it returns
// the code from the redirect, or an error carrying the redirect's error_description.
func (s *Server) AuthorizeUser(req consenttest.AuthorizeRequest) (string, error) {
	s.mu.Lock()
	_, tenantOK := s.tenantLocked(req.TenantID)
	_, appOK := s.apps[strings.ToLower(req.AppID)]
	s.mu.Unlock()
	if !tenantOK {
		return "", fmt.Errorf("%w: %q", ErrNoTenant, req.TenantID)
	}
	if !appOK {
		return "", fmt.Errorf("%w: %q", ErrNoApp, req.AppID)
	}
	q := url.Values{
		"client_id": {req.AppID}, "response_type": {"code"}, "redirect_uri": {req.RedirectURI},
		"response_mode": {"query"}, "scope": {strings.Join(req.Scopes, " ")}, "state": {"graphtest"},
		"graphtest_decision": {"accept"}, "graphtest_user": {req.UserID},
	}
	if req.CodeChallenge != "" {
		q.Set("code_challenge", req.CodeChallenge)
		q.Set("code_challenge_method", "S256")
	}
	c := s.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Get(s.URL + "/" + req.TenantID + "/oauth2/v2.0/authorize?" + q.Encode())
	if err != nil {
		return "", fmt.Errorf("graphtest: authorize request: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode != http.StatusFound {
		if u := s.userIDFor(req.TenantID, req.UserID); u == "" {
			return "", fmt.Errorf("%w: %q", ErrNoUser, req.UserID)
		}
		return "", fmt.Errorf("graphtest: authorize answered %d: %s", resp.StatusCode, htmlError(string(body)))
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		return "", fmt.Errorf("graphtest: authorize redirect: %w", err)
	}
	lq := loc.Query()
	if e := lq.Get("error"); e != "" {
		return "", fmt.Errorf("graphtest: authorize redirected with error %s: %s", e, lq.Get("error_description"))
	}
	return lq.Get("code"), nil
}

func (s *Server) userIDFor(tenantID, user string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.tenantLocked(tenantID); ok {
		if u := t.userLocked(user); u != nil {
			return u.ID
		}
	}
	return ""
}

func htmlError(body string) string {
	if i := strings.Index(body, "AADSTS"); i >= 0 {
		body = body[i:]
		if j := strings.Index(body, "<"); j >= 0 {
			body = body[:j]
		}
	}
	return body
}

// InjectFault implements consenttest.FaultInjector: every request about tenantID (token and
// Graph requests, $batch items included) fails as kind until clear is called.
func (s *Server) InjectFault(tenantID string, kind consenttest.FaultKind) (clear func(), err error) {
	f := Fault{Tenant: strings.ToLower(tenantID), RetryAfter: time.Second}
	switch kind {
	case consenttest.FaultThrottled:
		f.Kind = FaultThrottle
	case consenttest.FaultUnavailable:
		f.Kind = FaultUnavailable
	case consenttest.FaultForbidden:
		f.Kind = FaultForbidden
		f.Route = "graph.*"
	case consenttest.FaultMalformed:
		f.Kind = FaultMalformedJSON
		f.Route = "graph.*"
	default:
		return nil, fmt.Errorf("graphtest: fault kind %v: %w", kind, errors.ErrUnsupported)
	}
	return s.AddFault(f), nil
}

// SetAutoConsent makes the tenant's consent pages accept at once, as the user with this UPN,
// without showing a page (for tests driving consent with a plain HTTP client). "" turns it off.
func (s *Server) SetAutoConsent(tenantID, upn string) error {
	return s.withTenant(tenantID, func(t *tenantState) error {
		t.autoUser = upn
		return nil
	})
}

// FailNextConsent makes the next consent in the tenant redirect with an error, as Entra does:
// error (e.g. "access_denied", "consent_required") and error_description "AADSTS<code>: <description>".
func (s *Server) FailNextConsent(tenantID string, aadsts int, errorName, description string) error {
	return s.withTenant(tenantID, func(t *tenantState) error {
		t.consent = &consentPlan{code: aadsts, errorName: errorName, description: description}
		return nil
	})
}

// ServicePrincipalID returns the object ID of the app's service principal in the tenant.
func (s *Server) ServicePrincipalID(tenantID, appID string) (string, error) {
	var id string
	err := s.withServicePrincipal(tenantID, appID, func(_ *tenantState, sp *servicePrincipal) error {
		id = sp.id
		return nil
	})
	return id, err
}

var _ consenttest.TenantDeleter = (*Server)(nil)

// DeleteTenant removes a tenant: the token endpoint then answers AADSTS90002 for it and Graph
// refuses tokens already issued for it with 401 InvalidAuthenticationToken. Apps homed in the
// tenant are deleted too.
func (s *Server) DeleteTenant(tenantID string) error {
	return s.withTenant(tenantID, func(t *tenantState) error {
		delete(s.tenants, t.ID)
		for id, app := range s.apps {
			if app.HomeTenantID == t.ID {
				delete(s.apps, id)
			}
		}
		return nil
	})
}
