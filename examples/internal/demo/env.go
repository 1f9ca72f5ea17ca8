package demo

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/tenantapps/tenantapps/appprofile"
	"github.com/tenantapps/tenantapps/consent"
	"github.com/tenantapps/tenantapps/consent/consenttest"
	"github.com/tenantapps/tenantapps/consent/graphtest"
	"github.com/tenantapps/tenantapps/permissions"
	"github.com/tenantapps/tenantapps/roles"
	"software.sslmate.com/src/go-pkcs12"
)

// The demo's fixed identities. Fixed IDs keep the examples' output and golden files stable.
const (
	VendorTenantID   = "0f5b8c1e-6a7d-4e2b-9c3f-1a2b3c4d5e6f"
	CustomerTenantID = "6f1c3a52-8d4e-4b7a-a1c9-2e5f7b9d0c13"
	CustomerName     = "Contoso"
	// LicenseE5 is the SKU ID of Microsoft 365 E5, assigned to the demo users.
	LicenseE5 = "06ebc4ee-1bb5-47dd-8120-11324bc54e06"
)

// The demo tenant's users.
const (
	AdminUPN    = "admin@contoso.example"    // Global Administrator; consents most profiles
	AlexUPN     = "alex@contoso.example"     // a second Global Administrator (consents Security and Analysis)
	InsightsUPN = "insights@contoso.example" // a licensed user without admin roles (user consent)
)

var appIDSpace = uuid.MustParse("5d0c1f5e-3b0a-4f56-9a63-2f3c0d4d7e11")

// VendorAppID returns the demo application (client) ID of a vendor app type: a name-based UUID,
// the same on every run.
func VendorAppID(appType string) string {
	return uuid.NewSHA1(appIDSpace, []byte(appType)).String()
}

// Env is a demo customer tenant in a directory, the driver that reads it, and the catalog.
type Env struct {
	Directory consenttest.Directory
	Driver    consent.Driver
	// Server is the emulator when the directory is graphtest; nil otherwise.
	Server  *graphtest.Server
	Catalog *Catalog
	// RedirectURI is registered on every vendor app; the Manager must use it.
	RedirectURI string
	// VendorAppIDs maps app type names to their demo application IDs (appprofile.WithVendorAppIDs).
	VendorAppIDs map[string]string
	// Users maps the demo UPNs to consenters (object IDs, roles, licences).
	Users map[string]appprofile.Consenter
	// Now is the directory's clock.
	Now func() time.Time

	mu        sync.Mutex
	appType   map[string]string                  // app ID → app type (vendor and custom apps)
	requested map[string][]appprofile.Permission // app ID → what admin consent grants
	published int                                // catalog versions published by PublishExtraPermission
}

// Setup fills dir with the demo: a vendor home tenant with one registered app per creatable app
// type (asking for the catalog's permissions), and the customer tenant Contoso with three users.
// srv, when not nil, is the emulator behind dir (it gets the permissions each app asks for).
// vendorCerts, when given, become the key credentials of every vendor app (the driver redeems
// user-consent codes with them).
func Setup(dir consenttest.Directory, drv consent.Driver, srv *graphtest.Server, cat *Catalog, redirectURI string, now func() time.Time, vendorCerts ...*x509.Certificate) (*Env, error) {
	if now == nil {
		now = time.Now
	}
	e := &Env{Directory: dir, Driver: drv, Server: srv, Catalog: cat, RedirectURI: redirectURI, Now: now,
		VendorAppIDs: map[string]string{}, Users: map[string]appprofile.Consenter{}, appType: map[string]string{},
		requested: map[string][]appprofile.Permission{}}
	for _, t := range []consenttest.Tenant{
		{ID: VendorTenantID, DisplayName: "AvePoint (vendor)", DefaultDomain: "vendor.example"},
		{ID: CustomerTenantID, DisplayName: CustomerName, DefaultDomain: "contoso.example"},
	} {
		if err := dir.AddTenant(t); err != nil && !(t.ID == VendorTenantID && errors.Is(err, graphtest.ErrExists)) {
			return nil, fmt.Errorf("demo: adding tenant %s: %w", t.DisplayName, err)
		}
	}
	for _, a := range cat.AppTypes() {
		if !a.Creatable || a.Mode == appprofile.Custom {
			continue
		}
		id := VendorAppID(a.Name)
		name := a.EntraName
		if name == "" {
			name = a.Name
		}
		if err := dir.RegisterApp(consenttest.App{AppID: id, HomeTenantID: VendorTenantID, DisplayName: name, RedirectURIs: []string{redirectURI}, Certificates: vendorCerts}); err != nil {
			return nil, fmt.Errorf("demo: registering %s: %w", a.Name, err)
		}
		if err := e.requirePermissions(id, a); err != nil {
			return nil, err
		}
		e.VendorAppIDs[a.Name] = id
		e.appType[strings.ToLower(id)] = a.Name
	}
	users := []struct {
		upn   string
		roles []roles.TemplateID
	}{
		{AdminUPN, []roles.TemplateID{roles.GlobalAdministrator}},
		{AlexUPN, []roles.TemplateID{roles.GlobalAdministrator}},
		{InsightsUPN, nil},
	}
	for _, u := range users {
		id, err := dir.AddUser(CustomerTenantID, consenttest.User{UserPrincipalName: u.upn, Licenses: []string{LicenseE5}, DirectoryRoles: u.roles,
			LastPasswordChange: now().Add(-30 * 24 * time.Hour)})
		if err != nil {
			return nil, fmt.Errorf("demo: adding user %s: %w", u.upn, err)
		}
		e.Users[u.upn] = appprofile.Consenter{UserID: id, UserPrincipalName: u.upn, Consenter: consent.Consenter{Roles: u.roles}}
	}
	return e, nil
}

// requirePermissions sets what admin consent to app id grants: the app type's permissions, or for
// app types whose permissions the product documents do not publish, a stand-in (Microsoft Graph
// User.Read.All and User.Read) so that admin consent leaves grants a later user consent can rely on.
// A partial list gets the stand-ins it lacks too: they play the unpublished rest of its list.
func (e *Env) requirePermissions(id string, a appprofile.AppSpec) error {
	asked := a.Permissions
	if !a.PermissionsPublished {
		asked = standInPermissions(e.Catalog)
	} else if a.PermissionsPartial {
		asked = slices.Clone(asked)
		for _, s := range standInPermissions(e.Catalog) {
			if !slices.ContainsFunc(asked, func(p appprofile.Permission) bool {
				return p.ResourceAppID == s.ResourceAppID && p.Kind == s.Kind && p.Value == s.Value
			}) {
				asked = append(asked, s)
			}
		}
	}
	e.mu.Lock()
	e.requested[strings.ToLower(id)] = asked
	e.mu.Unlock()
	if e.Server == nil {
		return nil
	}
	var perms []graphtest.Permission
	for _, p := range asked {
		kind := graphtest.Application
		if p.Kind == appprofile.DelegatedPermission {
			kind = graphtest.Delegated
		}
		perms = append(perms, graphtest.Permission{ResourceAppID: p.ResourceAppID, Kind: kind, ID: p.ID, Value: p.Value})
	}
	if err := e.Server.SetRequiredPermissions(id, perms...); err != nil {
		return fmt.Errorf("demo: setting the permissions of %s: %w", a.Name, err)
	}
	return nil
}

// Consenter returns the demo user with that UPN.
func (e *Env) Consenter(upn string) appprofile.Consenter { return e.Users[upn] }

// Spec returns the current catalog's app type.
func (e *Env) Spec(appType string) (appprofile.AppSpec, bool) {
	for _, a := range e.Catalog.AppTypes() {
		if a.Name == appType {
			return a, true
		}
	}
	return appprofile.AppSpec{}, false
}

// CustomApp is a customer's own app registration made by NewCustomApp, with its .pfx.
type CustomApp struct {
	AppID    string
	PFX      []byte
	Password string
	NotAfter time.Time
}

// NewCustomApp does what the customer's administrator does before creating a custom profile:
// register an app in the customer tenant with a freshly generated self-signed certificate (valid
// for validity), create its service principal and assign the roles app type needs before
// authorization. It returns the application ID and the .pfx with its password.
func (e *Env) NewCustomApp(appType, displayName string, validity time.Duration) (CustomApp, error) {
	spec, ok := e.Spec(appType)
	if !ok {
		return CustomApp{}, fmt.Errorf("demo: unknown app type %q", appType)
	}
	cert, pfx, password, err := newPFX(displayName, e.Now(), validity)
	if err != nil {
		return CustomApp{}, err
	}
	id := uuid.NewString()
	if err := e.Directory.RegisterApp(consenttest.App{AppID: id, HomeTenantID: CustomerTenantID, DisplayName: displayName,
		Certificates: []*x509.Certificate{cert}, RedirectURIs: []string{e.RedirectURI}}); err != nil {
		return CustomApp{}, fmt.Errorf("demo: registering the custom app: %w", err)
	}
	if err := e.requirePermissions(id, spec); err != nil {
		return CustomApp{}, err
	}
	if _, err := e.Directory.CreateServicePrincipal(CustomerTenantID, id); err != nil {
		return CustomApp{}, err
	}
	for _, r := range spec.DirectoryRoles {
		if r.Assignment == roles.ManualBeforeAuthorization {
			if err := e.Directory.AssignAppDirectoryRole(CustomerTenantID, id, r.Role); err != nil {
				return CustomApp{}, err
			}
		}
	}
	e.mu.Lock()
	e.appType[strings.ToLower(id)] = appType
	e.mu.Unlock()
	return CustomApp{AppID: id, PFX: pfx, Password: password, NotAfter: cert.NotAfter}, nil
}

// AssignRoles assigns every directory role of the profile's app type that is still missing on its
// service principal, as the vendor does automatically within 24 hours of consent and the customer
// does by hand for the others.
func (e *Env) AssignRoles(p appprofile.Profile) error {
	spec, ok := e.Spec(p.AppType)
	if !ok {
		return fmt.Errorf("demo: unknown app type %q", p.AppType)
	}
	uses := map[string]bool{}
	for _, u := range p.Uses {
		uses[u] = true
	}
	for _, r := range spec.DirectoryRoles {
		if r.Condition != "" && !uses[string(r.Condition)] {
			continue
		}
		if err := e.Directory.AssignAppDirectoryRole(p.Tenant, p.AppID, r.Role); err != nil {
			return err
		}
	}
	return nil
}

// PlayConsent does what the consenting account does in the browser with a consent URL from
// BeginConsent or Reauthorize: sign in as upn, accept, and come back. It returns the callback the
// redirect URI receives. With the emulator it drives the real consent page over HTTPS; with any
// other directory it grants what the app asks for through the Directory.
func (e *Env) PlayConsent(ctx context.Context, consentURL, upn string) (appprofile.Callback, error) {
	u, err := url.Parse(consentURL)
	if err != nil {
		return appprofile.Callback{}, fmt.Errorf("demo: consent URL: %w", err)
	}
	q := u.Query()
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) < 2 {
		return appprofile.Callback{}, fmt.Errorf("demo: consent URL %s names no tenant", u.Path)
	}
	tenant, appID := parts[0], q.Get("client_id")
	who, ok := e.Users[upn]
	if !ok {
		return appprofile.Callback{}, fmt.Errorf("demo: unknown user %q", upn)
	}
	if strings.HasSuffix(u.Path, "/oauth2/v2.0/authorize") {
		scopes := strings.Fields(q.Get("scope"))
		if e.Server == nil {
			// The Fake does not know ".default"; Entra (and the emulator) expand it themselves.
			scopes = e.expandDefault(appID, scopes)
		}
		code, err := e.Directory.AuthorizeUser(consenttest.AuthorizeRequest{TenantID: tenant, AppID: appID, UserID: who.UserID,
			RedirectURI: q.Get("redirect_uri"), Scopes: scopes, CodeChallenge: q.Get("code_challenge")})
		if err != nil {
			return appprofile.Callback{}, fmt.Errorf("demo: user consent as %s: %w", upn, err)
		}
		return appprofile.Callback{State: q.Get("state"), Code: code, RemoteIP: "127.0.0.1"}, nil
	}
	if e.Server != nil {
		return e.adminConsentPage(ctx, consentURL, tenant, upn)
	}
	if err := e.grantAll(tenant, appID); err != nil {
		return appprofile.Callback{}, err
	}
	return appprofile.Callback{State: q.Get("state"), Tenant: tenant, AdminConsent: "True", RemoteIP: "127.0.0.1"}, nil
}

func (e *Env) adminConsentPage(ctx context.Context, consentURL, tenant, upn string) (appprofile.Callback, error) {
	if err := e.Server.SetAutoConsent(tenant, upn); err != nil {
		return appprofile.Callback{}, err
	}
	defer e.Server.SetAutoConsent(tenant, "")
	c := e.Server.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, consentURL, nil)
	if err != nil {
		return appprofile.Callback{}, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return appprofile.Callback{}, fmt.Errorf("demo: admin consent page: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusFound && resp.StatusCode != http.StatusSeeOther {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return appprofile.Callback{}, fmt.Errorf("demo: admin consent page answered %s: %.300s", resp.Status, body)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		return appprofile.Callback{}, fmt.Errorf("demo: admin consent redirect: %w", err)
	}
	cb, err := appprofile.ParseCallback(loc.RawQuery)
	if err != nil {
		return appprofile.Callback{}, err
	}
	cb.RemoteIP = "127.0.0.1"
	return cb, nil
}

// grantAll grants app appID everything its app type asks for in tenant (admin consent).
func (e *Env) grantAll(tenant, appID string) error {
	e.mu.Lock()
	appType, ok := e.appType[strings.ToLower(appID)]
	e.mu.Unlock()
	if !ok {
		return fmt.Errorf("demo: app %s is not a demo app", appID)
	}
	e.mu.Lock()
	asked := e.requested[strings.ToLower(appID)]
	e.mu.Unlock()
	if _, err := e.Directory.CreateServicePrincipal(tenant, appID); err != nil {
		return fmt.Errorf("demo: consent to %s: %w", appType, err)
	}
	delegated := map[string][]string{}
	for _, p := range asked {
		if p.Kind == appprofile.Application {
			if err := e.Directory.GrantAppRole(tenant, appID, p.ResourceAppID, p.ID); err != nil {
				return err
			}
			continue
		}
		delegated[p.ResourceAppID] = append(delegated[p.ResourceAppID], p.Value)
	}
	for res, scopes := range delegated {
		if err := e.Directory.GrantDelegated(tenant, appID, res, "", scopes...); err != nil {
			return err
		}
	}
	return nil
}

// RequirePublishedPermissions updates what each vendor app asks for after a catalog version was
// published, as the vendor updates its app registrations.
func (e *Env) RequirePublishedPermissions() error {
	var errs []error
	for _, a := range e.Catalog.AppTypes() {
		if id, ok := e.VendorAppIDs[a.Name]; ok {
			errs = append(errs, e.requirePermissions(id, a))
		}
	}
	e.mu.Lock()
	var custom []string
	for id, at := range e.appType {
		if _, vendor := e.VendorAppIDs[at]; !vendor || e.VendorAppIDs[at] != id {
			custom = append(custom, id+"\x00"+at)
		}
	}
	e.mu.Unlock()
	for _, c := range custom {
		id, at, _ := strings.Cut(c, "\x00")
		if spec, ok := e.Spec(at); ok {
			errs = append(errs, e.requirePermissions(id, spec))
		}
	}
	return errors.Join(errs...)
}

// standInPermissions are Microsoft Graph Directory.Read.All (Application) and User.Read.All
// (Delegated), or failing those the first Graph permission of each kind, with the catalog's IDs.
func standInPermissions(cat *Catalog) []appprofile.Permission {
	var out []appprofile.Permission
	for _, kind := range []struct {
		k    permissions.Kind
		want string
		ak   appprofile.PermissionKind
	}{{permissions.Application, "Directory.Read.All", appprofile.Application}, {permissions.Delegated, "User.Read.All", appprofile.DelegatedPermission}} {
		var pick *permissions.Permission
		for _, r := range cat.Current().Resources() {
			if r.AppID != consent.MicrosoftGraphAppID {
				continue
			}
			for _, p := range r.Permissions {
				if p.Type != kind.k {
					continue
				}
				if pick == nil || p.Value == kind.want {
					pick = &p
				}
			}
		}
		if pick != nil {
			out = append(out, appprofile.Permission{ResourceAppID: pick.ResourceAppID, ResourceName: pick.Resource, ID: pick.ID, Value: pick.Value, Kind: kind.ak})
		}
	}
	return out
}

// expandDefault replaces "https://graph.microsoft.com/.default" by the app's statically requested
// delegated Graph scopes, as Entra does when it shows the consent page.
func (e *Env) expandDefault(appID string, scopes []string) []string {
	var out []string
	for _, s := range scopes {
		if s != "https://graph.microsoft.com/.default" {
			out = append(out, s)
			continue
		}
		e.mu.Lock()
		asked := e.requested[strings.ToLower(appID)]
		e.mu.Unlock()
		for _, p := range asked {
			if p.Kind == appprofile.DelegatedPermission && p.ResourceAppID == consent.MicrosoftGraphAppID {
				out = append(out, "https://graph.microsoft.com/"+p.Value)
			}
		}
	}
	return out
}

// newCredential generates an RSA-2048 key and a self-signed certificate for it.
func newCredential(commonName string, now time.Time, validity time.Duration) (consent.CertificateCredential, error) {
	key, cert, err := newKeyAndCert(commonName, now, validity)
	if err != nil {
		return consent.CertificateCredential{}, err
	}
	return consent.CertificateCredential{Chain: []*x509.Certificate{cert}, Key: key}, nil
}

func newKeyAndCert(commonName string, now time.Time, validity time.Duration) (*rsa.PrivateKey, *x509.Certificate, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: commonName},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(validity), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	return key, cert, nil
}

// newPFX generates an RSA-2048 key and a self-signed certificate valid from an hour before now for
// validity, and returns them as a .pfx with a random password.
func newPFX(commonName string, now time.Time, validity time.Duration) (*x509.Certificate, []byte, string, error) {
	key, cert, err := newKeyAndCert(commonName, now, validity)
	if err != nil {
		return nil, nil, "", err
	}
	pw := make([]byte, 12)
	if _, err := io.ReadFull(rand.Reader, pw); err != nil {
		return nil, nil, "", err
	}
	password := hex.EncodeToString(pw)
	pfx, err := pkcs12.Modern.Encode(key, cert, nil, password)
	if err != nil {
		return nil, nil, "", fmt.Errorf("demo: encoding the .pfx: %w", err)
	}
	return cert, pfx, password, nil
}

// RenewCertificate does what the customer's administrator does when a custom app's certificate
// runs out: generate a new one valid for validity from now, upload it to the app in place of the
// old one, and keep the .pfx for re-authorization. For walk-throughs whose Manager clock runs
// ahead of the directory's, "now" is the Manager's (the directory's clock plus ahead) for the end
// of validity, and the certificate is valid from the directory's now, so Entra accepts it at once.
func (e *Env) RenewCertificate(appID, displayName string, ahead, validity time.Duration) (CustomApp, error) {
	cert, pfx, password, err := newPFX(displayName, e.Now(), ahead+validity)
	if err != nil {
		return CustomApp{}, err
	}
	if err := e.Directory.RotateAppCertificates(appID, cert); err != nil {
		return CustomApp{}, fmt.Errorf("demo: uploading the new certificate: %w", err)
	}
	return CustomApp{AppID: appID, PFX: pfx, Password: password, NotAfter: cert.NotAfter}, nil
}
