package integration_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"log/slog"
	"math/big"
	rand2 "math/rand/v2"
	"testing"
	"time"

	"github.com/tenantapps/tenantapps/appprofile"
	"github.com/tenantapps/tenantapps/consent"
	"github.com/tenantapps/tenantapps/consent/consenttest"
	"github.com/tenantapps/tenantapps/consent/graph"
	"github.com/tenantapps/tenantapps/consent/graphtest"
	"github.com/tenantapps/tenantapps/permissions"
	"github.com/tenantapps/tenantapps/roles"
	"github.com/tenantapps/tenantapps/store"
	"github.com/tenantapps/tenantapps/store/memstore"
)

const (
	mspTenant = "33333333-3333-4333-8333-333333333333"
	readerApp = "aaaaaaaa-0000-4000-8000-0000000000ff"
	nitroApp  = "aaaaaaaa-0000-4000-8000-0000000017a0"
	redirect  = "https://portal.example/consent/callback"
)

func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

func credential(tb testing.TB) consent.CertificateCredential {
	tb.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	must(tb, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "msp-reader"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	must(tb, err)
	cert, err := x509.ParseCertificate(der)
	must(tb, err)
	return consent.CertificateCredential{Chain: []*x509.Certificate{cert}, Key: key}
}

type world struct {
	srv   *graphtest.Server
	cfg   graph.Config // of drv
	drv   *graph.Driver
	store *memstore.Store
	nitro permissions.AppType
}

func tenantN(i int) string { return fmt.Sprintf("10000000-0000-4000-8000-%012d", i) }

func nitroType(tb testing.TB) permissions.AppType {
	tb.Helper()
	t, err := permissions.Default().AppType("APElements Automation")
	must(tb, err)
	return t
}

// seedMSP adds the MSP tenant, its reading app (authenticating with readerCert) consented in
// every tenant, and the Nitro app registered in the MSP tenant.
func seedMSP(tb testing.TB, srv *graphtest.Server, readerCert *x509.Certificate) {
	tb.Helper()
	seedMSPWith(tb, srv, readerCert, graph.ReaderPermissions(true))
}

// seedMSPWith is seedMSP whose reading app holds exactly the Graph permissions readerPerms.
func seedMSPWith(tb testing.TB, srv *graphtest.Server, readerCert *x509.Certificate, readerPerms []string) {
	tb.Helper()
	must(tb, srv.AddTenant(consenttest.Tenant{ID: mspTenant, DisplayName: "MSP"}))
	must(tb, srv.RegisterApp(consenttest.App{AppID: readerApp, HomeTenantID: mspTenant, DisplayName: "MSP reader", Certificates: []*x509.Certificate{readerCert}}))
	// Exactly the reading app's documented Graph permissions (graph.ReaderPermissions); the
	// emulator enforces them.
	var perms []graphtest.Permission
	for _, p := range readerPerms {
		perms = append(perms, graphtest.Permission{ResourceAppID: graphtest.MicrosoftGraphAppID, Value: p})
	}
	must(tb, srv.ProvisionEverywhere(readerApp, perms...))
	must(tb, srv.RegisterApp(consenttest.App{AppID: nitroApp, HomeTenantID: mspTenant, DisplayName: "APElements Automation", RedirectURIs: []string{redirect}}))
}

// newWorld starts the emulator with the MSP's reading app consented everywhere and the Nitro app
// registered in the MSP tenant, and a Graph driver reading through it over TLS.
func newWorld(tb testing.TB, opts graphtest.Options, tweak func(*graph.Config)) *world {
	tb.Helper()
	return newWorldPerms(tb, opts, graph.ReaderPermissions(true), tweak)
}

// newWorldPerms is newWorld whose reading app holds exactly the Graph permissions readerPerms.
func newWorldPerms(tb testing.TB, opts graphtest.Options, readerPerms []string, tweak func(*graph.Config)) *world {
	tb.Helper()
	w := &world{srv: graphtest.NewServer(opts), store: memstore.New(), nitro: nitroType(tb)}
	tb.Cleanup(w.srv.Close)
	reader := credential(tb)
	seedMSPWith(tb, w.srv, reader.Chain[0], readerPerms)
	cfg := graph.Config{ReaderAppID: readerApp, ReaderCredential: reader, AuthorityHost: w.srv.URL, GraphURL: w.srv.GraphURL(), HTTPClient: w.srv.Client(), MaxRetryWait: 2 * time.Second}
	if tweak != nil {
		tweak(&cfg)
	}
	w.cfg = cfg
	var err error
	w.drv, err = graph.New(cfg)
	must(tb, err)
	return w
}

// addTenants adds tenants and consents Nitro in each (every permission granted unless broken(i)),
// storing one consented profile per tenant with the status that matches the tenant.
func (w *world) addTenants(tb testing.TB, n int, broken func(i int) bool) []string {
	tb.Helper()
	ctx := context.Background()
	var ids []string
	for i := range n {
		tid := tenantN(i)
		must(tb, w.srv.AddTenant(consenttest.Tenant{ID: tid}))
		_, err := w.srv.CreateServicePrincipal(tid, nitroApp)
		must(tb, err)
		isBroken := broken != nil && broken(i)
		for k, p := range w.nitro.Permissions {
			if isBroken && k == 0 {
				continue
			}
			must(tb, w.srv.GrantAppRole(tid, nitroApp, p.ResourceAppID, p.ID))
		}
		status := appprofile.Valid
		if isBroken {
			status = appprofile.Invalid
		}
		p := appprofile.Profile{ID: fmt.Sprintf("p-%05d", i), Customer: "c", Tenant: tid, Services: []string{"Nitro"}, AppType: w.nitro.Name, AppID: nitroApp,
			Mode: appprofile.Modern, Shape: appprofile.ShapeApplicationOnly, Status: status,
			Consent: &appprofile.ConsentRecord{Method: appprofile.AdminConsent, At: time.Now().Add(-48 * time.Hour), CatalogVersion: permissions.Default().Version()}}
		b, err := appprofile.MarshalPayload(p)
		must(tb, err)
		_, err = w.store.Create(ctx, store.Record{ID: p.ID, Tenant: tid, AppType: p.AppType, Status: string(status), Payload: b})
		must(tb, err)
		ids = append(ids, p.ID)
	}
	return ids
}

func (w *world) manager(tb testing.TB, opts ...appprofile.Option) *appprofile.Manager {
	tb.Helper()
	base := []appprofile.Option{appprofile.WithLogger(slog.New(slog.DiscardHandler)),
		appprofile.WithStateKey(bytes.Repeat([]byte{3}, 32)), appprofile.WithRedirectURI(redirect), appprofile.WithAuthority(w.srv.URL),
		appprofile.WithVendorAppIDs(map[string]string{"APElements Automation": nitroApp})}
	m, err := appprofile.New(w.store, w.drv, append(base, opts...)...)
	must(tb, err)
	return m
}

// TestLifecycleOverGraph creates a profile, consents through the emulator's admin consent, and
// verifies reasons after tenant changes, all through MSAL and msgraph-sdk-go over TLS.
func TestLifecycleOverGraph(t *testing.T) {
	w := newWorld(t, graphtest.Options{}, nil)
	ctx := context.Background()
	tid := tenantN(1)
	must(t, w.srv.AddTenant(consenttest.Tenant{ID: tid, DisplayName: "Contoso"}))
	m := w.manager(t)
	ps, err := m.Create(ctx, appprofile.CreateRequest{Customer: "contoso", Tenant: tid, Services: []string{"Nitro"}})
	must(t, err)
	start, err := m.BeginConsent(ctx, ps[0].ID, appprofile.BeginConsentRequest{Consenter: appprofile.Consenter{UserID: "admin"}})
	if err == nil {
		t.Fatal("a consenter without roles got a consent URL")
	}
	ga := appprofile.Consenter{UserID: "ga", Consenter: consent.Consenter{Roles: []roles.TemplateID{roles.GlobalAdministrator}}}
	start, err = m.BeginConsent(ctx, ps[0].ID, appprofile.BeginConsentRequest{Consenter: ga})
	must(t, err)
	// The callback alone proves nothing.
	if _, err := m.CompleteConsent(ctx, appprofile.Callback{State: start.State, Tenant: tid, AdminConsent: "True"}); err == nil {
		t.Fatal("consent accepted without grants in the tenant")
	}
	start, err = m.BeginConsent(ctx, ps[0].ID, appprofile.BeginConsentRequest{Consenter: ga})
	must(t, err)
	must(t, consenttest.GrantConsent(w.srv, tid, nitroApp, nil, w.nitro.Name))
	p, err := m.CompleteConsent(ctx, appprofile.Callback{State: start.State, Tenant: tid, AdminConsent: "True"})
	must(t, err)
	if p.Status != appprofile.Valid {
		t.Fatalf("after consent: %s %+v", p.Status, p.Reasons)
	}
	steps := []struct {
		name   string
		change func() error
		want   appprofile.Status
		code   appprofile.ReasonCode
	}{
		{"grant revoked", func() error {
			return w.srv.RevokeAppRole(tid, nitroApp, w.nitro.Permissions[3].ResourceAppID, w.nitro.Permissions[3].ID)
		}, appprofile.Invalid, appprofile.ReasonGrantMissing},
		{"service principal disabled", func() error { return w.srv.SetServicePrincipalEnabled(tid, nitroApp, false) }, appprofile.Invalid, appprofile.ReasonServicePrincipalOff},
		{"service principal deleted", func() error { return w.srv.DeleteServicePrincipal(tid, nitroApp) }, appprofile.Invalid, appprofile.ReasonServicePrincipalDeleted},
	}
	for _, s := range steps {
		must(t, s.change())
		res, err := m.Verify(ctx, p.ID)
		must(t, err)
		if res.Profile.Status != s.want || len(res.Profile.Reasons) == 0 || res.Profile.Reasons[0].Code != s.code {
			t.Errorf("%s: %s %+v, want %s %s", s.name, res.Profile.Status, res.Profile.Reasons, s.want, s.code)
		}
	}
}

// TestFaultInjectionOverGraph fails 10 % of Graph requests (429, 503, 504, truncated and malformed
// JSON, hung connections) with the driver's own retries off: no profile may change status, and
// the affected ones say could-not-check.
func TestFaultInjectionOverGraph(t *testing.T) {
	rng := rand2.New(rand2.NewPCG(7, 8))
	w := newWorld(t, graphtest.Options{Float64: rng.Float64}, func(c *graph.Config) { c.MaxRetries = -1; c.HTTPClient.Timeout = 2 * time.Second })
	const n = 60
	ids := w.addTenants(t, n, func(i int) bool { return i%4 == 0 })
	for _, k := range []graphtest.FaultKind{graphtest.FaultThrottle, graphtest.FaultUnavailable, graphtest.FaultGatewayTimeout, graphtest.FaultTruncatedJSON, graphtest.FaultMalformedJSON} {
		w.srv.AddFault(graphtest.Fault{Route: "graph.*", Kind: k, Probability: 0.02, RetryAfter: 200 * time.Millisecond})
	}
	w.srv.AddFault(graphtest.Fault{Route: "graph.*", Kind: graphtest.FaultHang, Probability: 0.005, Latency: 300 * time.Millisecond})
	m := w.manager(t, appprofile.WithMaxAttempts(1))
	res, err := m.VerifyAll(context.Background(), store.Filter{}, appprofile.VerifyAllOptions{PageSize: 25})
	must(t, err)
	if res.Done != n || res.Changed != 0 || res.Failed != 0 {
		t.Fatalf("VerifyAll = %+v %v", res.Progress, res.Errors)
	}
	if res.CouldNotCheck == 0 {
		t.Errorf("no profile was affected by the faults: %+v (faults fired: %v)", res.Progress, w.srv.Stats().Faults)
	}
	cnc := 0
	for i, id := range ids {
		p, err := m.Get(context.Background(), id)
		must(t, err)
		want := appprofile.Valid
		if i%4 == 0 {
			want = appprofile.Invalid
		}
		if p.Status != want {
			t.Errorf("%s: status %s, want %s (check %+v)", id, p.Status, want, p.LastCheck)
		}
		if p.LastCheck.Outcome == appprofile.CouldNotCheck {
			cnc++
		}
	}
	if cnc != res.CouldNotCheck {
		t.Errorf("%d profiles say could-not-check, VerifyAll counted %d", cnc, res.CouldNotCheck)
	}
	t.Logf("%+v, faults fired %v", res.Progress, w.srv.Stats().Faults)
}
