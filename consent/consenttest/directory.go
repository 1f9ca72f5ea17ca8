package consenttest

import (
	"crypto/x509"
	"errors"
	"testing"
	"time"

	"github.com/tenantapps/tenantapps/consent"
	"github.com/tenantapps/tenantapps/roles"
)

// Directory is the set of tenant changes a test makes to a directory that a consent.Driver reads:
// set up tenants, apps, grants, roles and users, then change them as an admin or Microsoft would
// (revoke a grant, reset a password, delete a service principal...). It is implemented by *Fake
// and by the Entra/Graph emulator (*graphtest.Server), and RunDriverConformance drives any
// implementation through it.
//
// Methods describe tenant facts, not implementation internals. They are synchronous: a change is
// visible to the next driver call. They return an error wrapping ErrUnknown when the tenant, app
// or user they name does not exist (and nothing else is wrong), and must be safe for concurrent
// use.
type Directory interface {
	// AddTenant creates an empty tenant. The directory makes the tenant readable by the driver
	// under test (for the emulator: the driver's reading identity is consented there).
	// Adding an existing tenant ID is an error.
	AddTenant(t Tenant) error

	// RegisterApp creates an application registration in its home tenant app.HomeTenantID, with
	// a key credential for each certificate. App IDs are unique across the directory. It does
	// not create a service principal anywhere.
	RegisterApp(app App) error
	// RotateAppCertificates replaces every key credential of the registration appID with the
	// given certificates (none: remove them all).
	RotateAppCertificates(appID string, certs ...*x509.Certificate) error

	// CreateServicePrincipal provisions the registered app appID in tenantID (what consent
	// does) and returns the service principal's object ID. It is idempotent: an existing
	// service principal's ID is returned.
	CreateServicePrincipal(tenantID, appID string) (objectID string, err error)
	// DeleteServicePrincipal deletes the app's service principal from tenantID together with
	// its grants and role assignments, as deleting an enterprise application does.
	DeleteServicePrincipal(tenantID, appID string) error
	// SetServicePrincipalEnabled sets accountEnabled of the app's service principal.
	SetServicePrincipalEnabled(tenantID, appID string, enabled bool) error

	// GrantAppRole assigns the application permission appRoleID of resource resourceAppID to
	// the app's service principal. First-party resources (Microsoft Graph and the others in
	// package consent) exist in every tenant; the directory provisions their service principal
	// on first use. Granting an existing assignment is a no-op.
	GrantAppRole(tenantID, appID, resourceAppID, appRoleID string) error
	// RevokeAppRole removes that assignment; revoking an absent one is a no-op.
	RevokeAppRole(tenantID, appID, resourceAppID, appRoleID string) error

	// GrantDelegated adds scopes to the delegated grant of the app for resourceAppID:
	// tenant-wide (AllPrincipals) when principalID is empty, otherwise for that user object ID
	// (Principal). The grant is created if needed.
	GrantDelegated(tenantID, appID, resourceAppID, principalID string, scopes ...string) error
	// RevokeDelegated removes scopes from that grant (all of them, deleting the grant, when
	// none are given). A grant left with no scope is deleted.
	RevokeDelegated(tenantID, appID, resourceAppID, principalID string, scopes ...string) error

	// AssignAppDirectoryRole assigns a directory role to the app's service principal;
	// RemoveAppDirectoryRole removes it. Both are idempotent.
	AssignAppDirectoryRole(tenantID, appID string, role roles.TemplateID) error
	RemoveAppDirectoryRole(tenantID, appID string, role roles.TemplateID) error

	// AssignAzureRole / RemoveAzureRole change Azure RBAC role assignments of the app's
	// service principal at an Azure scope such as "/subscriptions/{id}".
	AssignAzureRole(tenantID, appID, scope string, role roles.AzureRoleID) error
	RemoveAzureRole(tenantID, appID, scope string, role roles.AzureRoleID) error

	// AddUser creates a user and returns its object ID (u.ObjectID when set).
	AddUser(tenantID string, u User) (objectID string, err error)
	// ResetUserPassword changes the user's password now: lastPasswordChangeDateTime and
	// signInSessionsValidFromDateTime become the directory's current time (sessions revoked).
	ResetUserPassword(tenantID, userID string) error
	// SetUserEnabled sets accountEnabled (false = sign-in blocked).
	SetUserEnabled(tenantID, userID string, enabled bool) error
	// DeleteUser deletes the user (it then no longer exists for the driver).
	DeleteUser(tenantID, userID string) error
	// RemoveUserLicense removes a SKU from the user's assigned licences.
	RemoveUserLicense(tenantID, userID, skuID string) error
	// RequireUserMFA makes the user register and require multi-factor authentication.
	RequireUserMFA(tenantID, userID string) error

	// BlockIP adds a Conditional Access policy that blocks sign-ins from ipAddress in tenantID.
	BlockIP(tenantID, ipAddress string) error
	// SimulateSignIn records a non-interactive sign-in of appID as userID from ipAddress, as a
	// delegated app refreshing its token would, evaluated against the tenant's state (blocked
	// IPs, disabled or deleted user, MFA requirement) and returns the recorded sign-in.
	SimulateSignIn(tenantID, appID, userID, ipAddress string) (consent.SignIn, error)

	// AuthorizeUser performs what a browser does in a user-consent flow: userID signs in to
	// the tenant's authorize endpoint for the app, consents to scopes (the directory records a
	// Principal delegated grant) and is redirected with an authorization code, which
	// AuthorizeUser returns. codeChallenge is the S256 PKCE challenge (empty for none).
	AuthorizeUser(req AuthorizeRequest) (code string, err error)
}

// TenantDeleter is an optional Directory capability: deleting a whole tenant (the customer left,
// or the tenant was removed), after which drivers must report consent.ErrTenantNotFound. The
// conformance suite skips its tenant-deletion check when the Directory lacks it.
type TenantDeleter interface {
	DeleteTenant(tenantID string) error
}

// ErrUnknown is wrapped by Directory methods that name a tenant, app or user the directory does
// not know.
var ErrUnknown = errors.New("consenttest: unknown tenant, app or user")

// Tenant is a tenant to add to a Directory.
type Tenant struct {
	// ID is the tenant GUID.
	ID string
	// DisplayName is the organisation name, e.g. "Contoso".
	DisplayName string
	// DefaultDomain is e.g. "contoso.onmicrosoft.com"; may be empty.
	DefaultDomain string
}

// App is an application registration to add to a Directory.
type App struct {
	// AppID is the application (client) ID, a GUID.
	AppID string
	// HomeTenantID is the tenant where the app is registered; it must exist. (The Fake also
	// accepts an empty HomeTenantID: a vendor app whose home tenant the test does not model.)
	HomeTenantID string
	// DisplayName is the app's name.
	DisplayName string
	// Certificates become the app's key credentials (usage Verify), customKeyIdentifier = SHA-1
	// thumbprint, validity from the certificate.
	Certificates []*x509.Certificate
	// RedirectURIs are the registered redirect URIs for consent flows.
	RedirectURIs []string
}

// User is a user to add to a Directory.
type User struct {
	// ObjectID is the user's object ID; empty: the directory chooses one.
	ObjectID string
	// UserPrincipalName, e.g. "admin@contoso.onmicrosoft.com".
	UserPrincipalName string
	// Disabled blocks sign-in (accountEnabled = false).
	Disabled bool
	// LastPasswordChange is the initial lastPasswordChangeDateTime (and
	// signInSessionsValidFromDateTime); zero: the directory's current time.
	LastPasswordChange time.Time
	// Licenses are assigned SKU IDs.
	Licenses []string
	// DirectoryRoles are the user's directory roles.
	DirectoryRoles []roles.TemplateID
	// MFARegistered: the user has registered an MFA method.
	MFARegistered bool
}

// AuthorizeRequest is the input of Directory.AuthorizeUser.
type AuthorizeRequest struct {
	TenantID    string
	AppID       string
	UserID      string // object ID or UPN of the consenting user
	RedirectURI string // must be registered on the app
	// Scopes are resource-qualified scopes, e.g. "https://graph.microsoft.com/User.Read", plus
	// optional "openid", "profile", "offline_access".
	Scopes        []string
	CodeChallenge string // BASE64URL(SHA256(verifier)), S256; empty for none
}

// FaultKind is a failure a FaultInjector makes the directory produce.
type FaultKind int

const (
	// FaultThrottled: every request answers HTTP 429 with a Retry-After; the driver must
	// return an error wrapping consent.ErrThrottled with RetryAfter > 0. Announce a short
	// Retry-After (about a second): drivers that honour it retry before giving up, and each
	// suite call has a 30-second deadline.
	FaultThrottled FaultKind = iota + 1
	// FaultUnavailable: every request answers HTTP 503; consent.ErrTransient.
	FaultUnavailable
	// FaultForbidden: the driver's reading identity lost its permissions in the tenant (HTTP
	// 403 Authorization_RequestDenied); consent.ErrForbidden.
	FaultForbidden
	// FaultMalformed: responses are truncated or malformed JSON; consent.ErrTransient.
	FaultMalformed
)

func (k FaultKind) String() string {
	switch k {
	case FaultThrottled:
		return "throttled"
	case FaultUnavailable:
		return "unavailable"
	case FaultForbidden:
		return "forbidden"
	case FaultMalformed:
		return "malformed"
	}
	return "unknown fault"
}

// FaultInjector makes a directory fail the driver's requests about one tenant.
type FaultInjector interface {
	// InjectFault makes every driver request about tenantID fail as kind until the returned
	// clear function is called. Injecting a kind the implementation cannot produce returns
	// an error wrapping errors.ErrUnsupported.
	InjectFault(tenantID string, kind FaultKind) (clear func(), err error)
}

// Env is one environment the conformance suite runs in: a driver and the directory it reads.
type Env struct {
	// Driver is the driver under test. Required.
	Driver consent.Driver
	// Directory changes the tenants Driver reads. Required.
	Directory Directory
	// Faults injects failures; nil skips the fault subtests.
	Faults FaultInjector
	// NewCredential returns a new certificate and key that Directory accepts as an app key
	// credential and the driver can sign with (CertificateProver, CodeRedeemer). Nil: the
	// suite generates self-signed RSA-2048 certificates valid for a day.
	NewCredential func(t testing.TB) consent.CertificateCredential
	// Now is the directory's clock, used to check timestamps; nil: time.Now.
	Now func() time.Time
	// DriverIP is the address the directory sees the driver's token requests come from (for the
	// Fake, FakeClientIP; for an emulator on loopback, "127.0.0.1"). The suite blocks it with
	// BlockIP to check that DelegatedProver reports a Conditional Access block; empty skips
	// that check.
	DriverIP string
}
