package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/tenantapps/tenantapps/consent"
	"github.com/tenantapps/tenantapps/consent/consenttest"
	"github.com/tenantapps/tenantapps/consent/graph"
	"github.com/tenantapps/tenantapps/consent/graphtest"
)

// ReaderAppID is the application ID of the MSP's reading app in the demo: the identity the Graph
// driver reads every customer tenant as.
const ReaderAppID = "4c7e2a10-3b5d-4f6e-8a9b-0c1d2e3f4a5b"

// Backend is a tenant directory the examples change and the driver that reads it.
type Backend struct {
	// DriverName names the consent.Driver implementation.
	DriverName string
	// URL is the emulator's base URL ("" without an emulator).
	URL string
	// Authority is the Entra authority host consent URLs point at.
	Authority string
	Directory consenttest.Directory
	Driver    consent.Driver
	Server    *graphtest.Server
	// ReaderCredential is the certificate and key of the MSP's reading app (ReaderAppID), for
	// tools that build their own driver against the emulator.
	ReaderCredential consent.CertificateCredential
	closers          []func()
}

// Close stops the emulator.
func (b *Backend) Close() {
	for i := len(b.closers) - 1; i >= 0; i-- {
		b.closers[i]()
	}
}

// StartOptions selects the demo backend.
type StartOptions struct {
	// Fake uses consenttest.Fake as directory and driver instead of the emulator and the Graph
	// driver: no HTTP at all, for fast tests of the examples' own logic.
	Fake bool
	// Now is the directory's clock (time.Now by default).
	Now func() time.Time
}

// Start starts the demo backend and fills it with the demo tenant (see Setup). By default that is
// the graphtest emulator (Entra ID + Microsoft Graph over TLS on 127.0.0.1) read by the real
// consent/graph driver (MSAL Go + msgraph-sdk-go): the MSP's reading app is registered in the
// vendor tenant and consented in every tenant with the permissions the driver needs, and the
// vendor apps share one certificate so the driver can redeem user-consent codes for them.
func Start(ctx context.Context, redirectURI string, opts StartOptions) (*Backend, *Env, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Fake {
		f := consenttest.NewFake(consenttest.WithClock(opts.Now))
		b := &Backend{DriverName: "consenttest.Fake", Authority: consent.PublicCloudAuthority, Directory: f, Driver: f}
		env, err := Setup(f, f, nil, NewCatalog(nil), redirectURI, opts.Now)
		if err != nil {
			return nil, nil, err
		}
		return b, env, nil
	}
	srv := graphtest.NewServer(graphtest.Options{Now: opts.Now})
	b := &Backend{DriverName: "consent/graph (MSAL Go + msgraph-sdk-go)", URL: srv.URL, Authority: srv.URL, Directory: srv, Server: srv, closers: []func(){srv.Close}}
	fail := func(err error) (*Backend, *Env, error) {
		b.Close()
		return nil, nil, fmt.Errorf("demo: starting the emulator: %w", err)
	}
	readerCred, err := newCredential("MSP reader", opts.Now(), 365*24*time.Hour)
	if err != nil {
		return fail(err)
	}
	b.ReaderCredential = readerCred
	vendorCred, err := newCredential("Vendor apps", opts.Now(), 365*24*time.Hour)
	if err != nil {
		return fail(err)
	}
	if err := srv.AddTenant(consenttest.Tenant{ID: VendorTenantID, DisplayName: "AvePoint (vendor)", DefaultDomain: "vendor.example"}); err != nil {
		return fail(err)
	}
	if err := srv.RegisterApp(consenttest.App{AppID: ReaderAppID, HomeTenantID: VendorTenantID, DisplayName: "MSP reader", Certificates: readerCred.Chain}); err != nil {
		return fail(err)
	}
	var perms []graphtest.Permission
	for _, v := range graph.ReaderPermissions(true) { // the reading app's documented Graph permissions
		perms = append(perms, graphtest.Permission{ResourceAppID: graphtest.MicrosoftGraphAppID, Kind: graphtest.Application, Value: v})
	}
	if err := srv.ProvisionEverywhere(ReaderAppID, perms...); err != nil {
		return fail(err)
	}
	vendorApps := map[string]bool{}
	drv, err := graph.New(graph.Config{
		ReaderAppID: ReaderAppID, ReaderCredential: readerCred,
		AuthorityHost: srv.URL, GraphURL: srv.GraphURL(), HTTPClient: srv.Client(),
		MaxRetryWait: 2 * time.Second,
		AppCredentials: func(appID string) (consent.CertificateCredential, bool) {
			return vendorCred, vendorApps[appID]
		},
	})
	if err != nil {
		return fail(err)
	}
	b.Driver = drv
	env, err := Setup(srv, drv, srv, NewCatalog(nil), redirectURI, opts.Now, vendorCred.Chain...)
	if err != nil {
		return fail(err)
	}
	for _, id := range env.VendorAppIDs {
		vendorApps[id] = true
	}
	return b, env, nil
}
