package demo

import (
	"errors"
	"time"

	"github.com/tenantapps/tenantapps/consent"
	"github.com/tenantapps/tenantapps/consent/consenttest"
)

// The MSP's own tenant in the demo, where its staff (the portal's operators) sign in with OpenID
// Connect, and the portal's sign-in app registered there. Demo values, not Microsoft's.
const (
	MSPTenantID = "3d9a7c51-2b4e-4f60-8e1a-5c7d9b0e2f41"
	// PortalSignInAppID is the portal's app registration in the MSP tenant.
	PortalSignInAppID = "9e2b4d6f-8a1c-4e3b-b5d7-0f2a4c6e8b1d"
	OperatorUPN       = "operator@msp.example" // on the portal's operator list
	OutsiderUPN       = "intern@msp.example"   // a member of the MSP tenant who is not an operator
)

// Operators is the MSP tenant of the demo: what a portal needs to sign its operators in.
type Operators struct {
	TenantID, ClientID string
	// Credential is the sign-in app's certificate and key.
	Credential consent.CertificateCredential
	// OperatorID and OutsiderID are the object IDs of OperatorUPN and OutsiderUPN.
	OperatorID, OutsiderID string
}

// AddOperators adds the MSP tenant with an operator and an outsider, and registers the portal's
// sign-in app with redirectURI (the portal's /auth/callback). It needs the emulator (not Fake).
func (b *Backend) AddOperators(redirectURI string, now time.Time) (Operators, error) {
	if b.Server == nil {
		return Operators{}, errors.New("demo: operator sign-in needs the emulator backend (StartOptions.Fake is set)")
	}
	cred, err := newCredential("MSP portal sign-in", now, 365*24*time.Hour)
	if err != nil {
		return Operators{}, err
	}
	if err := b.Server.AddTenant(consenttest.Tenant{ID: MSPTenantID, DisplayName: "Example MSP", DefaultDomain: "msp.example"}); err != nil {
		return Operators{}, err
	}
	if err := b.Server.RegisterApp(consenttest.App{AppID: PortalSignInAppID, HomeTenantID: MSPTenantID, DisplayName: "MSP portal",
		RedirectURIs: []string{redirectURI}, Certificates: cred.Chain}); err != nil {
		return Operators{}, err
	}
	o := Operators{TenantID: MSPTenantID, ClientID: PortalSignInAppID, Credential: cred}
	if o.OperatorID, err = b.Server.AddUser(MSPTenantID, consenttest.User{UserPrincipalName: OperatorUPN}); err != nil {
		return Operators{}, err
	}
	if o.OutsiderID, err = b.Server.AddUser(MSPTenantID, consenttest.User{UserPrincipalName: OutsiderUPN}); err != nil {
		return Operators{}, err
	}
	return o, nil
}
