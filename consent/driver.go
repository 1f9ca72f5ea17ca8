package consent

// This file is the driver SPI: what the profile manager needs to read from (and, for directory
// roles, write to) a customer tenant. It follows database/sql/driver: one small required interface
// (Driver) plus optional capability interfaces that a driver implements when it can, discovered
// by type assertion:
//
//	if ra, ok := drv.(consent.RoleAssigner); ok { ... }
//
// Every value a driver returns is ground truth read from the tenant at call time, never a copy of
// what the library saved earlier. Absence of a service principal or of a user is ground truth too
// and is reported in the returned value (Exists == false) with a nil error; an error always means
// "could not read" or "the tenant rejected the request", never "the grant is missing". Use
// CouldNotCheck to tell the two apart.
//
// Implementations: consent/graph (Microsoft Graph + MSAL Go), consent/consenttest (in-memory fake).
// consenttest.RunDriverConformance checks any implementation against the contract below.

import (
	"cmp"
	"context"
	"crypto"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/tenantapps/tenantapps/roles"
)

// Well-known resource application IDs (the same in every tenant).
const (
	// MicrosoftGraphAppID is the appId of the Microsoft Graph resource service principal.
	MicrosoftGraphAppID = "00000003-0000-0000-c000-000000000000"
	// ExchangeOnlineAppID is the appId of the Office 365 Exchange Online resource.
	ExchangeOnlineAppID = "00000002-0000-0ff1-ce00-000000000000"
	// SharePointOnlineAppID is the appId of the Office 365 SharePoint Online resource.
	SharePointOnlineAppID = "00000003-0000-0ff1-ce00-000000000000"
)

// Driver reads the ground truth about one application in one tenant.
//
// Implementations must be safe for concurrent use by multiple goroutines. Methods take a context
// first, honour its cancellation and deadline, and never keep it after returning.
type Driver interface {
	// AppState returns the state of the application appID (its client ID) in tenant tenantID
	// (a tenant GUID): its service principal, the application permissions (app role
	// assignments) and delegated permission grants it holds, and the directory roles assigned
	// to its service principal.
	//
	// If the tenant has no service principal for appID (never consented, or deleted) AppState
	// returns an AppState with Exists == false and a nil error. Errors wrap one of the
	// sentinels of this package (see driver_errors.go), normally inside a *DriverError:
	// ErrTenantNotFound when the tenant does not exist; ErrForbidden when the driver's own
	// identity may not read the tenant; ErrThrottled and ErrTransient when the tenant could not
	// be read now; context errors when ctx ended. On error the AppState is the zero value:
	// a driver never returns a partial state.
	AppState(ctx context.Context, tenantID, appID string) (AppState, error)
}

// AppState is the ground truth about one application in one tenant, as returned by
// Driver.AppState.
type AppState struct {
	// TenantID and AppID echo the request.
	TenantID string
	AppID    string
	// Exists reports whether the tenant has a service principal for the app. When false, the
	// other fields are empty.
	Exists bool
	// ServicePrincipal is the app's service principal in the tenant.
	ServicePrincipal ServicePrincipal
	// AppRoleGrants are the application permissions granted to the service principal
	// (appRoleAssignments), sorted by ResourceAppID then AppRoleID (case-insensitively; see
	// Normalize).
	AppRoleGrants []AppRoleGrant
	// DelegatedGrants are the delegated permission grants whose client is the service
	// principal (oauth2PermissionGrants), one per resource and principal, sorted by
	// ResourceAppID, ConsentType, PrincipalID, each with sorted, deduplicated Scopes.
	DelegatedGrants []DelegatedGrant
	// DirectoryRoles are the template IDs of the Entra directory roles assigned to the service
	// principal at directory scope ("/"), sorted and without duplicates.
	DirectoryRoles []roles.TemplateID
}

// Normalize puts s in the canonical form Driver.AppState documents, for driver authors: grants
// and roles sorted (IDs compared case-insensitively), duplicate grants merged, scopes sorted and
// deduplicated, and empty slices set to nil. It does not change IDs' case.
func (s *AppState) Normalize() {
	slices.SortFunc(s.AppRoleGrants, func(x, y AppRoleGrant) int {
		return cmp.Or(compareFold(x.ResourceAppID, y.ResourceAppID), compareFold(x.AppRoleID, y.AppRoleID))
	})
	s.AppRoleGrants = slices.CompactFunc(s.AppRoleGrants, func(x, y AppRoleGrant) bool {
		return strings.EqualFold(x.ResourceAppID, y.ResourceAppID) && strings.EqualFold(x.AppRoleID, y.AppRoleID)
	})
	for i := range s.DelegatedGrants {
		g := &s.DelegatedGrants[i]
		g.Scopes = slices.Clone(g.Scopes)
		slices.SortFunc(g.Scopes, compareFold)
		g.Scopes = slices.CompactFunc(g.Scopes, strings.EqualFold)
	}
	slices.SortStableFunc(s.DelegatedGrants, func(x, y DelegatedGrant) int {
		return cmp.Or(compareFold(x.ResourceAppID, y.ResourceAppID), strings.Compare(string(x.ConsentType), string(y.ConsentType)), compareFold(x.PrincipalID, y.PrincipalID))
	})
	// Two grant objects for the same resource and principal (possible in Graph) merge into the
	// first of them.
	var merged []DelegatedGrant
	for _, g := range s.DelegatedGrants {
		if n := len(merged); n > 0 {
			last := &merged[n-1]
			if strings.EqualFold(last.ResourceAppID, g.ResourceAppID) && last.ConsentType == g.ConsentType && strings.EqualFold(last.PrincipalID, g.PrincipalID) {
				last.Scopes = append(last.Scopes, g.Scopes...)
				slices.SortFunc(last.Scopes, compareFold)
				last.Scopes = slices.CompactFunc(last.Scopes, strings.EqualFold)
				continue
			}
		}
		merged = append(merged, g)
	}
	s.DelegatedGrants = merged
	slices.SortFunc(s.DirectoryRoles, func(x, y roles.TemplateID) int { return compareFold(string(x), string(y)) })
	s.DirectoryRoles = slices.CompactFunc(s.DirectoryRoles, func(x, y roles.TemplateID) bool { return strings.EqualFold(string(x), string(y)) })
	if len(s.AppRoleGrants) == 0 {
		s.AppRoleGrants = nil
	}
	if len(s.DelegatedGrants) == 0 {
		s.DelegatedGrants = nil
	}
	if len(s.DirectoryRoles) == 0 {
		s.DirectoryRoles = nil
	}
}

// compareFold compares ASCII case-insensitively without allocating (IDs and scope values are
// ASCII); ties break on the raw strings so the order is total.
func compareFold(a, b string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		ca, cb := lowerASCII(a[i]), lowerASCII(b[i])
		if ca != cb {
			return cmp.Compare(ca, cb)
		}
	}
	if c := cmp.Compare(len(a), len(b)); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// HasAppRole reports whether the state holds application permission appRoleID of resource
// resourceAppID. IDs compare case-insensitively.
func (s AppState) HasAppRole(resourceAppID, appRoleID string) bool {
	for _, g := range s.AppRoleGrants {
		if strings.EqualFold(g.ResourceAppID, resourceAppID) && strings.EqualFold(g.AppRoleID, appRoleID) {
			return true
		}
	}
	return false
}

// HasDelegatedScope reports whether a tenant-wide (admin consent, AllPrincipals) grant of
// resource resourceAppID includes scope, or, when principalID is not empty, whether that user's
// own grant or a tenant-wide grant includes it. Scope values compare case-insensitively, as Entra
// does.
func (s AppState) HasDelegatedScope(resourceAppID, principalID, scope string) bool {
	for _, g := range s.DelegatedGrants {
		if !strings.EqualFold(g.ResourceAppID, resourceAppID) {
			continue
		}
		switch {
		case g.ConsentType == ConsentAllPrincipals:
		case principalID != "" && g.ConsentType == ConsentPrincipal && strings.EqualFold(g.PrincipalID, principalID):
		default:
			continue
		}
		for _, sc := range g.Scopes {
			if strings.EqualFold(sc, scope) {
				return true
			}
		}
	}
	return false
}

// HasDirectoryRole reports whether role is assigned to the service principal.
func (s AppState) HasDirectoryRole(role roles.TemplateID) bool {
	for _, r := range s.DirectoryRoles {
		if strings.EqualFold(string(r), string(role)) {
			return true
		}
	}
	return false
}

// ServicePrincipal is an application's service principal (enterprise application) in a tenant.
type ServicePrincipal struct {
	// ObjectID is the service principal's object ID in the tenant (not the appId).
	ObjectID string
	// AppID is the application (client) ID.
	AppID string
	// DisplayName is the name shown under Enterprise applications.
	DisplayName string
	// Enabled is accountEnabled: false when an admin disabled sign-in for the app.
	Enabled bool
	// AppOwnerTenantID is the tenant where the application is registered (the vendor's tenant
	// for a multi-tenant app, the customer's own for a custom app); empty if unknown.
	AppOwnerTenantID string
}

// AppRoleGrant is one application permission (an appRoleAssignment of the client service
// principal to a resource).
type AppRoleGrant struct {
	// ResourceAppID is the appId of the resource API, e.g. MicrosoftGraphAppID. Drivers
	// resolve the resource service principal's object ID to its appId.
	ResourceAppID string
	// AppRoleID is the GUID of the app role (the permission), e.g.
	// "df021288-bdef-4463-88db-98f22de89214" for Microsoft Graph User.Read.All.
	AppRoleID string
	// AssignmentID is the ID of the appRoleAssignment object; empty if the driver does not know it.
	AssignmentID string
	// CreatedAt is when the assignment was created; zero if unknown.
	CreatedAt time.Time
}

// DelegatedConsentType says whom a delegated permission grant applies to.
type DelegatedConsentType string

const (
	// ConsentAllPrincipals is a tenant-wide grant (admin consent on behalf of all users).
	ConsentAllPrincipals DelegatedConsentType = "AllPrincipals"
	// ConsentPrincipal is a grant for one user (user consent, or admin consent for one user).
	ConsentPrincipal DelegatedConsentType = "Principal"
)

// DelegatedGrant is one delegated permission grant (oauth2PermissionGrant) whose client is the
// app's service principal.
type DelegatedGrant struct {
	// GrantID is the ID of the oauth2PermissionGrant object; empty if unknown.
	GrantID string
	// ResourceAppID is the appId of the resource API.
	ResourceAppID string
	// ConsentType is AllPrincipals or Principal.
	ConsentType DelegatedConsentType
	// PrincipalID is the object ID of the user the grant is for; empty for AllPrincipals.
	PrincipalID string
	// Scopes are the granted scope values (e.g. "User.Read"), sorted, without duplicates.
	Scopes []string
}

// AppStatesReader is implemented by drivers that read several applications of one tenant in
// one round trip (Graph: one $batch for several apps). appprofile's fleet verification uses it
// to check all of a tenant's profiles with one request instead of one each; a driver without it
// is called AppState by AppState.
type AppStatesReader interface {
	// AppStates returns one result per element of appIDs, in the same order (duplicates
	// included; an empty appIDs gives an empty result and a nil error). Each result is what
	// AppState(ctx, tenantID, appIDs[i]) would have returned at that moment: State with
	// Exists == false for an app without a service principal, or Err — with AppState's
	// errors and a zero State — when that app alone could not be read (one throttled item of
	// a batch, say).
	//
	// The error is non-nil, and the results nil, when no app could be read: an invalid
	// tenant ID, ErrTenantNotFound, ErrForbidden, the driver's own token failing,
	// ErrThrottled / ErrTransient for the whole request, or ctx ending. An invalid app ID
	// fails only its own result (ErrInvalidArgument). The driver splits long lists into as
	// many round trips as it needs.
	AppStates(ctx context.Context, tenantID string, appIDs []string) ([]AppStateResult, error)
}

// AppStateResult is one application's outcome in AppStatesReader.AppStates.
type AppStateResult struct {
	State AppState
	Err   error
}

// RoleAssigner is implemented by drivers that can assign a directory role to an app's service
// principal (requires RoleManagement.ReadWrite.Directory in the tenant).
type RoleAssigner interface {
	// AssignDirectoryRole assigns role at directory scope to the service principal of appID in
	// tenantID. It is idempotent: when the role is already assigned it returns assigned ==
	// false and a nil error. It returns ErrNotConsented when the tenant has no service
	// principal for appID, ErrForbidden when the driver may not assign roles, and the usual
	// ErrThrottled / ErrTransient / ErrTenantNotFound.
	AssignDirectoryRole(ctx context.Context, tenantID, appID string, role roles.TemplateID) (assigned bool, err error)
}

// KeyCredentialReader is implemented by drivers that can read an application registration's
// certificate credentials (used to check that a custom app still carries the customer's
// certificate).
type KeyCredentialReader interface {
	// KeyCredentials returns the keyCredentials of the application registration appID in its
	// home tenant tenantID, sorted by Start then KeyID. It returns ErrNotFound when the tenant has
	// no application registration for appID (for example a multi-tenant vendor app, which is
	// registered in the vendor's tenant).
	KeyCredentials(ctx context.Context, tenantID, appID string) ([]KeyCredential, error)
}

// KeyCredential is a certificate registered on an application.
type KeyCredential struct {
	// KeyID is the GUID of the credential.
	KeyID string
	// DisplayName is usually the certificate's subject, e.g. "CN=contoso-backup".
	DisplayName string
	// Type is e.g. "AsymmetricX509Cert"; Usage is "Verify" for certificates used to sign
	// client assertions.
	Type  string
	Usage string
	// ThumbprintSHA1 is the certificate's SHA-1 thumbprint in upper-case hex (what the Entra
	// portal shows), taken from customKeyIdentifier or computed from Certificate.
	ThumbprintSHA1 string
	// ThumbprintSHA256 is the SHA-256 of the certificate's DER in upper-case hex; empty unless
	// the driver read the certificate itself (Certificate != nil).
	ThumbprintSHA256 string
	// Start and End bound the credential's validity as registered.
	Start time.Time
	End   time.Time
	// Certificate is the DER of the registered certificate when the directory returned it;
	// nil otherwise.
	Certificate []byte
}

// Thumbprints returns the SHA-1 and SHA-256 thumbprints of a certificate's DER in upper-case hex,
// as KeyCredential reports them.
func Thumbprints(der []byte) (sha1Hex, sha256Hex string) {
	s1 := sha1.Sum(der)
	s256 := sha256.Sum256(der)
	return strings.ToUpper(hex.EncodeToString(s1[:])), strings.ToUpper(hex.EncodeToString(s256[:]))
}

// Matches reports whether the credential is cert: same SHA-1 thumbprint and, when the directory
// returned the registered certificate, the same DER.
func (k KeyCredential) Matches(cert *x509.Certificate) bool {
	if cert == nil {
		return false
	}
	s1, _ := Thumbprints(cert.Raw)
	if !strings.EqualFold(k.ThumbprintSHA1, s1) {
		return false
	}
	return k.Certificate == nil || string(k.Certificate) == string(cert.Raw)
}

// ActiveAt reports whether t lies within [Start, End]. A zero Start or End is unbounded.
func (k KeyCredential) ActiveAt(t time.Time) bool {
	if !k.Start.IsZero() && t.Before(k.Start) {
		return false
	}
	return k.End.IsZero() || !t.After(k.End)
}

// CertificateCredential is a certificate and its private key, used to authenticate as an
// application (client assertion). Its String, GoString and LogValue methods never print the key.
type CertificateCredential struct {
	// Chain is the leaf certificate first, then optional intermediates.
	Chain []*x509.Certificate
	// Key is the leaf's private key. The Graph driver needs an *rsa.PrivateKey (MSAL Go
	// accepts RSA only).
	Key crypto.Signer
}

// Leaf returns the first certificate of the chain, or nil.
func (c CertificateCredential) Leaf() *x509.Certificate {
	if len(c.Chain) == 0 {
		return nil
	}
	return c.Chain[0]
}

// String describes the credential by its leaf's subject and SHA-1 thumbprint, never the key.
func (c CertificateCredential) String() string {
	leaf := c.Leaf()
	if leaf == nil {
		return "certificate credential (no certificate)"
	}
	s1, _ := Thumbprints(leaf.Raw)
	return fmt.Sprintf("certificate credential %q (thumbprint %s)", leaf.Subject.String(), s1)
}

// GoString is String, so that %#v does not print the private key.
func (c CertificateCredential) GoString() string { return c.String() }

// LogValue implements slog.LogValuer without the private key.
func (c CertificateCredential) LogValue() slog.Value { return slog.StringValue(c.String()) }

// CertificateProver is implemented by drivers that can prove a certificate credential works:
// that it can acquire an app-only token for the application in a tenant (client credentials
// flow with a signed client assertion).
type CertificateProver interface {
	// ProveCertificate acquires an app-only token for appID in tenantID with cred and returns
	// what the token says; the token itself is never returned or logged.
	//
	// Errors: ErrInvalidCredential when the tenant rejects the certificate (not registered on
	// the app, expired, bad signature: AADSTS700027 and kin); ErrNotConsented when the app has
	// no service principal in the tenant (AADSTS700016); ErrAppDisabled when its service
	// principal is disabled (AADSTS7000112); ErrTenantNotFound; ErrThrottled /
	// ErrTransient; a *DriverError whose Err is an invalid-argument error when cred has no
	// certificate or key.
	ProveCertificate(ctx context.Context, tenantID, appID string, cred CertificateCredential) (TokenProof, error)
}

// TokenProof is what an acquired app-only token says (its claims), without the token.
type TokenProof struct {
	// TenantID is the token's tid claim: the tenant that actually issued it.
	TenantID string
	// AppID is the token's appid/azp claim.
	AppID string
	// ServicePrincipalID is the token's oid claim (the SP's object ID); empty if absent.
	ServicePrincipalID string
	// Roles is the token's roles claim: the application permission values granted, sorted.
	Roles []string
	// ExpiresAt is the token's expiry.
	ExpiresAt time.Time
}

// CodeRedeemer is implemented by drivers that can redeem an authorization code from a user
// consent (delegated apps).
type CodeRedeemer interface {
	// RedeemCode redeems the authorization code of a consent callback and reports who
	// consented. Errors: ErrInvalidGrant when the code is expired, already redeemed, or does not
	// match RedirectURI / the PKCE verifier; ErrInvalidCredential when the app's credential is
	// rejected; ErrNotConsented, ErrTenantNotFound, ErrThrottled, ErrTransient.
	RedeemCode(ctx context.Context, req CodeRedemption) (Redeemed, error)
}

// CodeRedemption is the input of CodeRedeemer.RedeemCode.
type CodeRedemption struct {
	// TenantID is the tenant the authorization request was sent to (a tenant GUID or
	// "organizations"); the consenting user's real tenant is Redeemed.TenantID.
	TenantID string
	// AppID is the client ID the code was issued to.
	AppID string
	// Code is the callback's code parameter.
	Code string
	// RedirectURI must equal the redirect_uri of the authorization request.
	RedirectURI string
	// PKCEVerifier is the code_verifier whose S256 challenge was sent; empty when no PKCE.
	PKCEVerifier string
	// Scopes are the scopes requested (e.g. "https://graph.microsoft.com/User.Read").
	Scopes []string
	// Credential authenticates the app; nil means the driver's own configured credential for
	// AppID.
	Credential *CertificateCredential
}

// String describes the request without the code or the verifier.
func (r CodeRedemption) String() string {
	return fmt.Sprintf("code redemption for app %s in tenant %s (redirect %s)", r.AppID, r.TenantID, r.RedirectURI)
}

// GoString is String, so that %#v does not print the code.
func (r CodeRedemption) GoString() string { return r.String() }

// LogValue implements slog.LogValuer without secrets.
func (r CodeRedemption) LogValue() slog.Value {
	return slog.GroupValue(slog.String("tenant", r.TenantID), slog.String("app", r.AppID), slog.String("redirect_uri", r.RedirectURI))
}

// Redeemed is the result of redeeming an authorization code.
type Redeemed struct {
	// TenantID is the consenting user's tenant (the id token's tid claim).
	TenantID string
	// UserObjectID and UserPrincipalName identify the consent user.
	UserObjectID      string
	UserPrincipalName string
	// Scopes are the scopes the issued token carries (scp claim values), sorted.
	Scopes []string
	// ExpiresAt is the access token's expiry.
	ExpiresAt time.Time
	// TokenCache is an opaque serialized token cache (with the refresh token) for later
	// delegated calls. It is a secret: seal it before storing; it is never printed by String,
	// GoString or LogValue.
	TokenCache []byte
}

// String describes the result without the token cache.
func (r Redeemed) String() string {
	return fmt.Sprintf("consent by %s (%s) in tenant %s, scopes %v, token cache %d bytes", r.UserPrincipalName, r.UserObjectID, r.TenantID, r.Scopes, len(r.TokenCache))
}

// GoString is String, so that %#v does not print the token cache.
func (r Redeemed) GoString() string { return r.String() }

// LogValue implements slog.LogValuer without the token cache.
func (r Redeemed) LogValue() slog.Value {
	return slog.GroupValue(slog.String("tenant", r.TenantID), slog.String("user", r.UserObjectID), slog.String("upn", r.UserPrincipalName), slog.Any("scopes", r.Scopes))
}

// DelegatedProver is implemented by drivers that can prove a delegated app's consent still works:
// they redeem the refresh token kept in a token cache from CodeRedeemer.RedeemCode, exactly as the
// app does when it acts as the consent user (a non-interactive sign-in). This is the ground truth
// behind the seed's delegated-app reasons: the consent user's password was changed or sessions
// revoked, the user was deleted or disabled, MFA became required, or Conditional Access blocks
// the address the app signs in from.
type DelegatedProver interface {
	// ProveDelegated refreshes the consent user's token from req.TokenCache. On success it
	// reports the token's claims and the updated cache (refresh tokens rotate: store it, sealed,
	// in place of the old one).
	//
	// Errors: ErrInvalidGrant when the tenant refuses the refresh, with DriverError.Code
	// carrying the AADSTS code that says why: "AADSTS50173" (password changed or sessions
	// revoked), "AADSTS50057" (user disabled), "AADSTS50034" (user deleted), "AADSTS50076"
	// (MFA required), "AADSTS53003" (blocked by Conditional Access), "AADSTS65001" (the
	// delegated grant was revoked), "AADSTS9002313" (the cache holds no usable refresh token);
	// ErrNotConsented when the app's service principal is gone; ErrInvalidCredential when the
	// app's own credential is rejected; ErrTenantNotFound; ErrThrottled / ErrTransient.
	ProveDelegated(ctx context.Context, req DelegatedRefresh) (DelegatedProof, error)
}

// DelegatedRefresh is the input of DelegatedProver.ProveDelegated. Its String, GoString and
// LogValue methods never print the token cache.
type DelegatedRefresh struct {
	// TenantID is the consent user's tenant (Redeemed.TenantID).
	TenantID string
	// AppID is the delegated app's client ID.
	AppID string
	// UserObjectID selects the consent user's account in the cache (Redeemed.UserObjectID).
	UserObjectID string
	// Scopes to request, e.g. "https://graph.microsoft.com/User.Read"; empty: those consented.
	Scopes []string
	// TokenCache is Redeemed.TokenCache or the cache a previous ProveDelegated returned.
	TokenCache []byte
	// Credential authenticates the app; nil means the driver's own configured credential.
	Credential *CertificateCredential
}

// String describes the request without the token cache.
func (r DelegatedRefresh) String() string {
	return fmt.Sprintf("delegated refresh for user %s, app %s in tenant %s (token cache %d bytes)", r.UserObjectID, r.AppID, r.TenantID, len(r.TokenCache))
}

// GoString is String, so that %#v does not print the token cache.
func (r DelegatedRefresh) GoString() string { return r.String() }

// LogValue implements slog.LogValuer without the token cache.
func (r DelegatedRefresh) LogValue() slog.Value {
	return slog.GroupValue(slog.String("tenant", r.TenantID), slog.String("app", r.AppID), slog.String("user", r.UserObjectID))
}

// DelegatedProof is what a refreshed delegated token says, plus the updated token cache.
type DelegatedProof struct {
	// TenantID, UserObjectID and UserPrincipalName are the token's tid, oid and upn claims.
	TenantID          string
	UserObjectID      string
	UserPrincipalName string
	// Scopes are the token's scp claim values, sorted.
	Scopes []string
	// ExpiresAt is the new access token's expiry.
	ExpiresAt time.Time
	// TokenCache is the updated cache; a secret, never printed by String, GoString or LogValue.
	TokenCache []byte
}

// String describes the proof without the token cache.
func (p DelegatedProof) String() string {
	return fmt.Sprintf("delegated token for %s (%s) in tenant %s, scopes %v, token cache %d bytes", p.UserPrincipalName, p.UserObjectID, p.TenantID, p.Scopes, len(p.TokenCache))
}

// GoString is String, so that %#v does not print the token cache.
func (p DelegatedProof) GoString() string { return p.String() }

// LogValue implements slog.LogValuer without the token cache.
func (p DelegatedProof) LogValue() slog.Value {
	return slog.GroupValue(slog.String("tenant", p.TenantID), slog.String("user", p.UserObjectID), slog.String("upn", p.UserPrincipalName), slog.Any("scopes", p.Scopes))
}

// UserStateReader is implemented by drivers that can read a user's account state (the consent
// user of a delegated app).
type UserStateReader interface {
	// UserState returns the state of the user userID (object ID or user principal name) in
	// tenantID. A user that does not exist (deleted, or never existed) is reported as
	// UserState{Exists: false} with a nil error.
	UserState(ctx context.Context, tenantID, userID string) (UserState, error)
}

// UserState is the ground truth about a user account.
type UserState struct {
	// ObjectID and UserPrincipalName identify the user; ObjectID echoes the request when the
	// user does not exist and the request was an object ID.
	ObjectID          string
	UserPrincipalName string
	// Exists is false when the user is deleted or never existed; the other fields are then empty.
	Exists bool
	// AccountEnabled is false when sign-in is blocked.
	AccountEnabled bool
	// LastPasswordChange is lastPasswordChangeDateTime; zero if unknown.
	LastPasswordChange time.Time
	// SignInSessionsValidFrom is signInSessionsValidFromDateTime: refresh tokens issued before it
	// are revoked (password reset, "revoke sessions"). Zero if unknown.
	SignInSessionsValidFrom time.Time
	// AssignedLicenses are the SKU IDs assigned to the user, sorted.
	AssignedLicenses []string
	// DirectoryRoles are the template IDs of the user's directory roles, sorted.
	DirectoryRoles []roles.TemplateID
	// MFA is the user's multi-factor authentication state, where readable.
	MFA MFAState
}

// MFAState is what the directory says about a user's multi-factor authentication.
type MFAState struct {
	// Known is false when the driver could not read every part of it (missing permission or
	// licence); Required is then meaningless and Err says why.
	Known bool
	// Err is set when Known is false because a read was refused or failed: a *DriverError
	// wrapping ErrForbidden (the reading app lacks the permission, e.g. Policy.Read.All for
	// per-user MFA) or another could-not-check sentinel. A caller that needs the MFA state
	// treats it as "could not check this part" (CouldNotCheck(Err) is true), never as
	// "MFA not required".
	Err error
	// Registered: the user has registered an MFA method.
	Registered bool
	// Required: the user must perform MFA to sign in (per-user MFA enforced, or a policy the
	// driver can see).
	Required bool
}

// SignInReader is implemented by drivers that can read an application's recent sign-ins
// (requires AuditLog.Read.All and Directory.Read.All and an Entra ID P1 licence in a real
// tenant: microsoft-graph-docs-contrib api-reference/v1.0/api/signin-list.md).
type SignInReader interface {
	// SignIns returns the sign-ins of appID in tenantID at or after since, newest first, at most
	// limit of them (limit <= 0 means a driver default), interactive and non-interactive
	// (refresh-token) sign-ins alike. A driver stops reading at limit.
	SignIns(ctx context.Context, tenantID, appID string, since time.Time, limit int) ([]SignIn, error)
}

// ConditionalAccessStatus is a sign-in's conditionalAccessStatus.
type ConditionalAccessStatus string

const (
	ConditionalAccessSuccess    ConditionalAccessStatus = "success"
	ConditionalAccessFailure    ConditionalAccessStatus = "failure"
	ConditionalAccessNotApplied ConditionalAccessStatus = "notApplied"
)

// SignIn is one sign-in event of an application.
type SignIn struct {
	ID                string
	Time              time.Time
	AppID             string
	UserObjectID      string
	UserPrincipalName string
	// IPAddress is the address the sign-in came from.
	IPAddress string
	// ConditionalAccess is the conditionalAccessStatus.
	ConditionalAccess ConditionalAccessStatus
	// ErrorCode is status.errorCode: 0 for success, otherwise an AADSTS number (53003: blocked
	// by Conditional Access; 50076: MFA required; 50057: account disabled).
	ErrorCode int
	// FailureReason is status.failureReason.
	FailureReason string
}

// AzureRoleReader is implemented by drivers that can read Azure RBAC role assignments of an
// app's service principal (Azure security management).
type AzureRoleReader interface {
	// AzureRoleAssignments returns the role assignments of appID's service principal at scope
	// and below (scope is an Azure resource ID such as "/subscriptions/{id}"; scope prefixes
	// compare case-insensitively, segment by segment), sorted by Scope then RoleID. An empty
	// scope returns every assignment the driver can see. ErrNotConsented when the tenant has
	// no service principal for appID.
	AzureRoleAssignments(ctx context.Context, tenantID, appID, scope string) ([]AzureRoleAssignment, error)
}

// AzureRoleAssignment is one Azure RBAC role assignment.
type AzureRoleAssignment struct {
	// ID is the role assignment's resource ID; empty if unknown.
	ID string
	// Scope is the resource ID the role is assigned at.
	Scope string
	// RoleID is the role definition ID (last segment), e.g. roles.Contributor.
	RoleID roles.AzureRoleID
}
