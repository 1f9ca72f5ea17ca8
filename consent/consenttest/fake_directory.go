package consenttest

import (
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/tenantapps/tenantapps/consent"
	"github.com/tenantapps/tenantapps/roles"
)

// This file implements Directory for Fake: the tenant changes tests make. They are not recorded
// in Actions and hooks do not apply to them.

func unknown(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), ErrUnknown)
}

func (f *Fake) tenantForChange(tenantID string) (*fakeTenant, error) {
	t, ok := f.tenants[strings.ToLower(tenantID)]
	if !ok {
		return nil, unknown("consenttest: tenant %q", tenantID)
	}
	return t, nil
}

// tenantAppForChange returns the tenant and the registered app, or an error wrapping ErrUnknown
// naming the first that is missing. f.mu held.
func (f *Fake) tenantAppForChange(tenantID, appID string) (*fakeTenant, *fakeApp, error) {
	t, err := f.tenantForChange(tenantID)
	if err != nil {
		return nil, nil, err
	}
	app, ok := f.apps[strings.ToLower(appID)]
	if !ok {
		return nil, nil, unknown("consenttest: app %q is not registered", appID)
	}
	return t, app, nil
}

// changeTenant calls change with the tenant while holding f.mu. It returns an error wrapping
// ErrUnknown if there is no such tenant, else what change returns.
func (f *Fake) changeTenant(tenantID string, change func(*fakeTenant) error) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, err := f.tenantForChange(tenantID)
	if err != nil {
		return err
	}
	return change(t)
}

// changeSP calls change with the tenant and the app's service principal in it while holding
// f.mu. It returns an error wrapping ErrUnknown if either is missing, else what change returns.
func (f *Fake) changeSP(tenantID, appID string, change func(*fakeTenant, *fakeSP) error) error {
	return f.changeTenant(tenantID, func(t *fakeTenant) error {
		sp, ok := t.sps[strings.ToLower(appID)]
		if !ok {
			return unknown("consenttest: no service principal for app %q in tenant %q", appID, tenantID)
		}
		return change(t, sp)
	})
}

// changeUser calls change with the tenant and the user (object ID or UPN) while holding f.mu.
// It returns an error wrapping ErrUnknown if either is missing.
func (f *Fake) changeUser(tenantID, userID string, change func(*fakeTenant, *fakeUser)) error {
	return f.changeTenant(tenantID, func(t *fakeTenant) error {
		u := t.findUser(userID)
		if u == nil {
			return unknown("consenttest: user %q in tenant %q", userID, tenantID)
		}
		change(t, u)
		return nil
	})
}

// AddTenant implements Directory.
func (f *Fake) AddTenant(t Tenant) error {
	if t.ID == "" {
		return fmt.Errorf("consenttest: AddTenant: empty tenant ID")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	k := strings.ToLower(t.ID)
	if _, ok := f.tenants[k]; ok {
		return fmt.Errorf("consenttest: AddTenant: tenant %q already exists", t.ID)
	}
	f.tenants[k] = &fakeTenant{
		info:       t,
		sps:        make(map[string]*fakeSP),
		users:      make(map[string]*fakeUser),
		deleted:    make(map[string]string),
		blockedIPs: make(map[string]bool),
	}
	return nil
}

// DeleteTenant implements TenantDeleter. Application registrations homed in the tenant stay
// registered (the Fake keeps them so other tenants' service principals remain meaningful).
func (f *Fake) DeleteTenant(tenantID string) error {
	return f.changeTenant(tenantID, func(*fakeTenant) error {
		delete(f.tenants, strings.ToLower(tenantID))
		return nil
	})
}

// RegisterApp implements Directory. HomeTenantID may be empty (a vendor app whose home tenant
// the test does not model).
func (f *Fake) RegisterApp(app App) error {
	if app.AppID == "" {
		return fmt.Errorf("consenttest: RegisterApp: empty app ID")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if app.HomeTenantID != "" {
		if _, err := f.tenantForChange(app.HomeTenantID); err != nil {
			return fmt.Errorf("consenttest: RegisterApp %s: home %w", app.AppID, err)
		}
	}
	k := strings.ToLower(app.AppID)
	if _, ok := f.apps[k]; ok {
		return fmt.Errorf("consenttest: RegisterApp: app %q already registered", app.AppID)
	}
	fa := &fakeApp{App: app}
	fa.Certificates = slices.Clone(app.Certificates)
	fa.RedirectURIs = slices.Clone(app.RedirectURIs)
	fa.keys = f.keyCredentials(app.Certificates)
	f.apps[k] = fa
	return nil
}

// keyCredentials builds key credentials as Entra records an uploaded certificate. f.mu held.
func (f *Fake) keyCredentials(certs []*x509.Certificate) []consent.KeyCredential {
	var out []consent.KeyCredential
	for _, c := range certs {
		if c == nil {
			continue
		}
		s1, s256 := consent.Thumbprints(c.Raw)
		out = append(out, consent.KeyCredential{
			KeyID: f.newID(), DisplayName: "CN=" + c.Subject.CommonName, Type: "AsymmetricX509Cert", Usage: "Verify",
			ThumbprintSHA1: s1, ThumbprintSHA256: s256,
			Start: c.NotBefore.UTC(), End: c.NotAfter.UTC(), Certificate: slices.Clone(c.Raw),
		})
	}
	slices.SortStableFunc(out, func(x, y consent.KeyCredential) int {
		if c := x.Start.Compare(y.Start); c != 0 {
			return c
		}
		return strings.Compare(x.KeyID, y.KeyID)
	})
	return out
}

// RotateAppCertificates implements Directory.
func (f *Fake) RotateAppCertificates(appID string, certs ...*x509.Certificate) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	app, ok := f.apps[strings.ToLower(appID)]
	if !ok {
		return unknown("consenttest: app %q", appID)
	}
	app.Certificates = slices.Clone(certs)
	app.keys = f.keyCredentials(certs)
	return nil
}

// CreateServicePrincipal implements Directory.
func (f *Fake) CreateServicePrincipal(tenantID, appID string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, app, err := f.tenantAppForChange(tenantID, appID)
	if err != nil {
		return "", err
	}
	return f.ensureSPLocked(t, app).objectID, nil
}

func (f *Fake) ensureSPLocked(t *fakeTenant, app *fakeApp) *fakeSP {
	k := strings.ToLower(app.AppID)
	if sp, ok := t.sps[k]; ok {
		return sp
	}
	sp := &fakeSP{
		objectID: f.newID(), appID: app.AppID, displayName: app.DisplayName, enabled: true,
		ownerTenant: app.HomeTenantID,
		appRoles:    make(map[string]consent.AppRoleGrant),
		delegated:   make(map[string]*consent.DelegatedGrant),
		dirRoles:    make(map[roles.TemplateID]bool),
		azure:       make(map[string]consent.AzureRoleAssignment),
	}
	t.sps[k] = sp
	return sp
}

// DeleteServicePrincipal implements Directory.
func (f *Fake) DeleteServicePrincipal(tenantID, appID string) error {
	return f.changeSP(tenantID, appID, func(t *fakeTenant, _ *fakeSP) error {
		delete(t.sps, strings.ToLower(appID))
		return nil
	})
}

// SetServicePrincipalEnabled implements Directory.
func (f *Fake) SetServicePrincipalEnabled(tenantID, appID string, enabled bool) error {
	return f.changeSP(tenantID, appID, func(_ *fakeTenant, sp *fakeSP) error {
		sp.enabled = enabled
		return nil
	})
}

// GrantAppRole implements Directory.
func (f *Fake) GrantAppRole(tenantID, appID, resourceAppID, appRoleID string) error {
	if resourceAppID == "" || appRoleID == "" {
		return fmt.Errorf("consenttest: GrantAppRole: empty resource app ID or app role ID")
	}
	return f.changeSP(tenantID, appID, func(_ *fakeTenant, sp *fakeSP) error {
		k := key(resourceAppID, appRoleID)
		if _, ok := sp.appRoles[k]; ok {
			return nil
		}
		sp.appRoles[k] = consent.AppRoleGrant{
			ResourceAppID: strings.ToLower(resourceAppID), AppRoleID: strings.ToLower(appRoleID),
			AssignmentID: f.assignmentID(), CreatedAt: f.now().UTC(),
		}
		return nil
	})
}

// assignmentID mimics Graph's opaque appRoleAssignment IDs. f.mu held.
func (f *Fake) assignmentID() string {
	b := make([]byte, 32)
	if _, err := io.ReadFull(f.rand, b); err != nil {
		return uuid.NewString()
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// RevokeAppRole implements Directory.
func (f *Fake) RevokeAppRole(tenantID, appID, resourceAppID, appRoleID string) error {
	return f.changeSP(tenantID, appID, func(_ *fakeTenant, sp *fakeSP) error {
		delete(sp.appRoles, key(resourceAppID, appRoleID))
		return nil
	})
}

// GrantDelegated implements Directory.
func (f *Fake) GrantDelegated(tenantID, appID, resourceAppID, principalID string, scopes ...string) error {
	if resourceAppID == "" {
		return fmt.Errorf("consenttest: GrantDelegated: empty resource app ID")
	}
	return f.changeSP(tenantID, appID, func(t *fakeTenant, sp *fakeSP) error {
		if principalID != "" {
			u := t.findUser(principalID)
			if u == nil {
				return unknown("consenttest: user %q in tenant %q", principalID, tenantID)
			}
			principalID = u.objectID
		}
		f.grantDelegatedLocked(sp, resourceAppID, principalID, scopes)
		return nil
	})
}

func (f *Fake) grantDelegatedLocked(sp *fakeSP, resourceAppID, principalID string, scopes []string) {
	k := key(resourceAppID, principalID)
	g, ok := sp.delegated[k]
	if !ok {
		g = &consent.DelegatedGrant{GrantID: f.assignmentID(), ResourceAppID: strings.ToLower(resourceAppID), ConsentType: consent.ConsentAllPrincipals}
		if principalID != "" {
			g.ConsentType, g.PrincipalID = consent.ConsentPrincipal, principalID
		}
		sp.delegated[k] = g
	}
	for _, s := range scopes {
		for _, field := range strings.Fields(s) {
			if !slices.ContainsFunc(g.Scopes, func(have string) bool { return strings.EqualFold(have, field) }) {
				g.Scopes = append(g.Scopes, field)
			}
		}
	}
	slices.Sort(g.Scopes)
}

// RevokeDelegated implements Directory.
func (f *Fake) RevokeDelegated(tenantID, appID, resourceAppID, principalID string, scopes ...string) error {
	return f.changeSP(tenantID, appID, func(t *fakeTenant, sp *fakeSP) error {
		if principalID != "" {
			if u := t.findUser(principalID); u != nil {
				principalID = u.objectID
			}
		}
		k := key(resourceAppID, principalID)
		g, ok := sp.delegated[k]
		if !ok {
			return nil
		}
		if len(scopes) == 0 {
			delete(sp.delegated, k)
			return nil
		}
		for _, s := range scopes {
			for _, field := range strings.Fields(s) {
				g.Scopes = slices.DeleteFunc(g.Scopes, func(have string) bool { return strings.EqualFold(have, field) })
			}
		}
		if len(g.Scopes) == 0 {
			delete(sp.delegated, k)
		}
		return nil
	})
}

// AssignAppDirectoryRole implements Directory.
func (f *Fake) AssignAppDirectoryRole(tenantID, appID string, role roles.TemplateID) error {
	return f.changeSP(tenantID, appID, func(_ *fakeTenant, sp *fakeSP) error {
		sp.dirRoles[roles.TemplateID(strings.ToLower(string(role)))] = true
		return nil
	})
}

// RemoveAppDirectoryRole implements Directory.
func (f *Fake) RemoveAppDirectoryRole(tenantID, appID string, role roles.TemplateID) error {
	return f.changeSP(tenantID, appID, func(_ *fakeTenant, sp *fakeSP) error {
		delete(sp.dirRoles, roles.TemplateID(strings.ToLower(string(role))))
		return nil
	})
}

// AssignAzureRole implements Directory.
func (f *Fake) AssignAzureRole(tenantID, appID, scope string, role roles.AzureRoleID) error {
	if scope == "" || role == "" {
		return fmt.Errorf("consenttest: AssignAzureRole: empty scope or role")
	}
	return f.changeSP(tenantID, appID, func(_ *fakeTenant, sp *fakeSP) error {
		k := key(strings.TrimRight(scope, "/"), string(role))
		if _, ok := sp.azure[k]; ok {
			return nil
		}
		scope = strings.TrimRight(scope, "/")
		sp.azure[k] = consent.AzureRoleAssignment{
			ID:    scope + "/providers/Microsoft.Authorization/roleAssignments/" + f.newID(),
			Scope: scope, RoleID: roles.AzureRoleID(strings.ToLower(string(role))),
		}
		return nil
	})
}

// RemoveAzureRole implements Directory.
func (f *Fake) RemoveAzureRole(tenantID, appID, scope string, role roles.AzureRoleID) error {
	return f.changeSP(tenantID, appID, func(_ *fakeTenant, sp *fakeSP) error {
		delete(sp.azure, key(strings.TrimRight(scope, "/"), string(role)))
		return nil
	})
}

// AddUser implements Directory.
func (f *Fake) AddUser(tenantID string, u User) (string, error) {
	if u.UserPrincipalName == "" {
		return "", fmt.Errorf("consenttest: AddUser: empty user principal name")
	}
	var id string
	err := f.changeTenant(tenantID, func(t *fakeTenant) error {
		if t.findUser(u.UserPrincipalName) != nil || (u.ObjectID != "" && t.findUser(u.ObjectID) != nil) {
			return fmt.Errorf("consenttest: AddUser: user %q already exists in tenant %q", u.UserPrincipalName, tenantID)
		}
		id = strings.ToLower(u.ObjectID)
		if id == "" {
			id = f.newID()
		}
		pwd := u.LastPasswordChange.UTC()
		if u.LastPasswordChange.IsZero() {
			pwd = f.now().UTC()
		}
		fu := &fakeUser{
			objectID: id, upn: u.UserPrincipalName, enabled: !u.Disabled, lastPwd: pwd, sessionsFrom: pwd,
			licenses: make(map[string]bool), dirRoles: make(map[roles.TemplateID]bool), mfaRegistered: u.MFARegistered,
		}
		for _, l := range u.Licenses {
			fu.licenses[strings.ToLower(l)] = true
		}
		for _, r := range u.DirectoryRoles {
			fu.dirRoles[roles.TemplateID(strings.ToLower(string(r)))] = true
		}
		t.users[id] = fu
		return nil
	})
	if err != nil {
		return "", err
	}
	return id, nil
}

// ResetUserPassword implements Directory.
func (f *Fake) ResetUserPassword(tenantID, userID string) error {
	return f.changeUser(tenantID, userID, func(_ *fakeTenant, u *fakeUser) {
		now := f.now().UTC()
		u.lastPwd, u.sessionsFrom = now, now
	})
}

// SetUserEnabled implements Directory.
func (f *Fake) SetUserEnabled(tenantID, userID string, enabled bool) error {
	return f.changeUser(tenantID, userID, func(_ *fakeTenant, u *fakeUser) { u.enabled = enabled })
}

// DeleteUser implements Directory. The user's per-user delegated grants stay, as in Entra, until
// cleaned up.
func (f *Fake) DeleteUser(tenantID, userID string) error {
	return f.changeUser(tenantID, userID, func(t *fakeTenant, u *fakeUser) {
		delete(t.users, u.objectID)
		t.deleted[u.objectID] = u.upn
	})
}

// RemoveUserLicense implements Directory.
func (f *Fake) RemoveUserLicense(tenantID, userID, skuID string) error {
	return f.changeUser(tenantID, userID, func(_ *fakeTenant, u *fakeUser) {
		delete(u.licenses, strings.ToLower(skuID))
	})
}

// RequireUserMFA implements Directory.
func (f *Fake) RequireUserMFA(tenantID, userID string) error {
	return f.changeUser(tenantID, userID, func(_ *fakeTenant, u *fakeUser) {
		u.mfaRegistered, u.mfaRequired = true, true
	})
}

// BlockIP implements Directory.
func (f *Fake) BlockIP(tenantID, ipAddress string) error {
	if ipAddress == "" {
		return fmt.Errorf("consenttest: BlockIP: empty IP address")
	}
	return f.changeTenant(tenantID, func(t *fakeTenant) error {
		t.blockedIPs[ipAddress] = true
		return nil
	})
}

// SimulateSignIn implements Directory. Outcomes, first match wins: deleted user 50034, disabled
// user 50057, blocked IP 53003 (conditional access failure), MFA required 50076, else success.
func (f *Fake) SimulateSignIn(tenantID, appID, userID, ipAddress string) (consent.SignIn, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, app, err := f.tenantAppForChange(tenantID, appID)
	if err != nil {
		return consent.SignIn{}, err
	}
	if t.findUser(userID) == nil {
		if _, deleted := t.deleted[strings.ToLower(userID)]; !deleted {
			return consent.SignIn{}, unknown("consenttest: user %q in tenant %q", userID, tenantID)
		}
	}
	s := f.evaluateSignInLocked(t, app.AppID, userID, ipAddress)
	t.signIns = append(t.signIns, s)
	return s, nil
}

// evaluateSignInLocked evaluates a non-interactive sign-in of appID as userID (object ID or UPN,
// existing or deleted) from ipAddress against the tenant's state. First match wins: deleted
// user 50034, disabled user 50057, blocked IP 53003 (conditional access failure), MFA required
// 50076, else success. f.mu held.
func (f *Fake) evaluateSignInLocked(t *fakeTenant, appID, userID, ipAddress string) consent.SignIn {
	s := consent.SignIn{ID: f.newID(), Time: f.now().UTC(), AppID: appID, IPAddress: ipAddress, ConditionalAccess: consent.ConditionalAccessNotApplied}
	if len(t.blockedIPs) > 0 {
		s.ConditionalAccess = consent.ConditionalAccessSuccess
	}
	u := t.findUser(userID)
	switch {
	case u == nil:
		s.UserObjectID, s.UserPrincipalName = strings.ToLower(userID), t.deleted[strings.ToLower(userID)]
		s.ErrorCode, s.FailureReason = 50034, "The user account does not exist in the directory."
		s.ConditionalAccess = consent.ConditionalAccessNotApplied
	case !u.enabled:
		s.UserObjectID, s.UserPrincipalName = u.objectID, u.upn
		s.ErrorCode, s.FailureReason = 50057, "The user account is disabled."
		s.ConditionalAccess = consent.ConditionalAccessNotApplied
	case t.blockedIPs[ipAddress]:
		s.UserObjectID, s.UserPrincipalName = u.objectID, u.upn
		s.ErrorCode, s.FailureReason = 53003, "Access has been blocked by Conditional Access policies."
		s.ConditionalAccess = consent.ConditionalAccessFailure
	case u.mfaRequired:
		s.UserObjectID, s.UserPrincipalName = u.objectID, u.upn
		s.ErrorCode, s.FailureReason = 50076, "Due to a configuration change made by your administrator, you must use multi-factor authentication."
	default:
		s.UserObjectID, s.UserPrincipalName = u.objectID, u.upn
	}
	return s
}

// AuthorizeUser implements Directory: the user consents (a Principal delegated grant is recorded,
// the service principal provisioned if needed) and a single-use code valid for ten minutes is
// returned.
func (f *Fake) AuthorizeUser(req AuthorizeRequest) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, app, err := f.tenantAppForChange(req.TenantID, req.AppID)
	if err != nil {
		return "", err
	}
	if !slices.Contains(app.RedirectURIs, req.RedirectURI) {
		return "", fmt.Errorf("consenttest: AuthorizeUser: AADSTS50011: redirect URI %q is not registered on app %s", req.RedirectURI, req.AppID)
	}
	u := t.findUser(req.UserID)
	if u == nil {
		return "", unknown("consenttest: user %q in tenant %q", req.UserID, req.TenantID)
	}
	if !u.enabled {
		return "", fmt.Errorf("consenttest: AuthorizeUser: AADSTS50057: user %q is disabled", req.UserID)
	}
	byResource := map[string][]string{}
	var order []string
	for _, s := range req.Scopes {
		res, v, ok := ParseScope(s)
		if !ok {
			return "", fmt.Errorf("consenttest: AuthorizeUser: AADSTS70011: scope %q is not valid", s)
		}
		if _, seen := byResource[res]; !seen {
			order = append(order, res)
		}
		byResource[res] = append(byResource[res], v)
	}
	sp := f.ensureSPLocked(t, app)
	for _, res := range order {
		var granted []string
		for _, v := range byResource[res] {
			if !strings.EqualFold(v, "offline_access") {
				granted = append(granted, v)
			}
		}
		if len(granted) > 0 {
			f.grantDelegatedLocked(sp, res, u.objectID, granted)
		}
	}
	b := make([]byte, 32)
	if _, err := io.ReadFull(f.rand, b); err != nil {
		return "", fmt.Errorf("consenttest: AuthorizeUser: random source: %v", err)
	}
	code := "0.consenttest." + base64.RawURLEncoding.EncodeToString(b)
	f.codes[code] = &fakeCode{
		tenantID: t.info.ID, appID: app.AppID, userID: u.objectID, redirectURI: req.RedirectURI,
		challenge: req.CodeChallenge, scopes: slices.Clone(req.Scopes), issued: f.now(),
	}
	return code, nil
}

// resourceURIs maps resource identifier URIs to their app IDs.
var resourceURIs = map[string]string{
	"https://graph.microsoft.com":              consent.MicrosoftGraphAppID,
	"https://outlook.office365.com":            consent.ExchangeOnlineAppID,
	"https://outlook.office.com":               consent.ExchangeOnlineAppID,
	"https://manage.office.com":                "c5393580-f805-4401-95e8-94b7a6ef2fc2",
	"https://management.azure.com":             "797f4846-ba00-4fd7-ba43-dac1f8f63013",
	"https://analysis.windows.net/powerbi/api": "00000009-0000-0000-c000-000000000000",
}

// ParseScope splits an OAuth scope as sent to Entra's authorize endpoint into the resource's
// app ID and the scope value: "https://graph.microsoft.com/User.Read" gives
// (MicrosoftGraphAppID, "User.Read"); a bare value ("User.Read", and the OpenID scopes openid,
// profile, email, offline_access) belongs to Microsoft Graph; a resource may also be named by
// its app ID ("00000003-0000-0000-c000-000000000000/User.Read") or a SharePoint host. It
// reports false for an empty or unparsable scope, an unknown resource URI, and ".default".
func ParseScope(scope string) (resourceAppID, value string, ok bool) {
	scope = strings.TrimSpace(scope)
	if scope == "" || strings.ContainsAny(scope, " \t\r\n") {
		return "", "", false
	}
	i := strings.LastIndex(scope, "/")
	if i < 0 {
		if scope == ".default" {
			return "", "", false
		}
		return consent.MicrosoftGraphAppID, scope, true
	}
	resource, value := scope[:i], scope[i+1:]
	if value == "" || value == ".default" || resource == "" {
		return "", "", false
	}
	if id, ok := resourceURIs[strings.ToLower(resource)]; ok {
		return id, value, true
	}
	if id, err := uuid.Parse(resource); err == nil && len(resource) == 36 {
		return id.String(), value, true
	}
	if u, err := url.Parse(resource); err == nil && u.Scheme == "https" && u.Path == "" &&
		(strings.HasSuffix(strings.ToLower(u.Host), ".sharepoint.com")) {
		return consent.SharePointOnlineAppID, value, true
	}
	return "", "", false
}
