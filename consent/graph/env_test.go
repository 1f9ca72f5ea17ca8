package graph_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tenantapps/tenantapps/consent"
	"github.com/tenantapps/tenantapps/consent/consenttest"
	"github.com/tenantapps/tenantapps/consent/graph"
	"github.com/tenantapps/tenantapps/consent/graphtest"
)

const (
	mspTenant = "33333333-3333-4333-8333-333333333333"
	readerApp = "aaaaaaaa-0000-4000-8000-0000000000ff"
	tenantA   = "11111111-1111-4111-8111-111111111111"
	tenantB   = "22222222-2222-4222-8222-222222222222"
	appX      = "aaaaaaaa-0000-4000-8000-000000000001"
	redirect  = "https://portal.example/consent/callback"

	graphUserReadAll = "df021288-bdef-4463-88db-98f22de89214"
	graphDirReadAll  = "7ab1d382-f21e-4acd-a863-ba3e13f7da61"
)

var serial atomic.Int64

// keyPool holds a few RSA keys generated once: RSA-2048 generation dominates test time under
// -race. Consecutive credentials get different keys (round robin), so "the key of another
// certificate" stays a mismatch.
var keyPool = sync.OnceValue(func() []*rsa.PrivateKey {
	keys := make([]*rsa.PrivateKey, 5)
	for i := range keys {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		keys[i] = k
	}
	return keys
})

var nextKey atomic.Int64

func poolKey() *rsa.PrivateKey {
	keys := keyPool()
	return keys[int(nextKey.Add(1))%len(keys)]
}

// newCredential makes a self-signed RSA certificate credential valid for a day.
func newCredential(t testing.TB) consent.CertificateCredential {
	t.Helper()
	key := poolKey()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial.Add(1)), Subject: pkix.Name{CommonName: "tenantapps-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return consent.CertificateCredential{Chain: []*x509.Certificate{cert}, Key: key}
}

type env struct {
	srv    *graphtest.Server
	drv    *graph.Driver
	reader consent.CertificateCredential
	appX   consent.CertificateCredential
}

// newEnv starts an emulator with the MSP tenant and its reading app consented everywhere, and a
// driver reading through it over TLS.
func newEnv(t testing.TB, opts graphtest.Options, tweak func(*graph.Config)) *env {
	t.Helper()
	return newEnvPerms(t, opts, graph.ReaderPermissions(true), tweak)
}

// newEnvPerms is newEnv whose reading app holds exactly the Graph application permissions perms.
func newEnvPerms(t testing.TB, opts graphtest.Options, perms []string, tweak func(*graph.Config)) *env {
	t.Helper()
	if opts.SigningKey == nil {
		opts.SigningKey = keyPool()[0]
	}
	srv := graphtest.NewServer(opts)
	t.Cleanup(srv.Close)
	e := &env{srv: srv, reader: newCredential(t), appX: newCredential(t)}
	must(t, srv.AddTenant(consenttest.Tenant{ID: mspTenant, DisplayName: "MSP"}))
	must(t, srv.RegisterApp(consenttest.App{AppID: readerApp, HomeTenantID: mspTenant, DisplayName: "MSP reader", Certificates: e.reader.Chain}))
	// Exactly the permissions the driver documents (graph.ReaderPermissions); the emulator
	// enforces them.
	must(t, srv.ProvisionEverywhere(readerApp, readerPerms(perms)...))
	cfg := graph.Config{
		ReaderAppID:      readerApp,
		ReaderCredential: e.reader,
		AuthorityHost:    srv.URL,
		GraphURL:         srv.GraphURL(),
		ARMURL:           srv.ARMURL(),
		HTTPClient:       srv.Client(),
		MaxRetryWait:     2 * time.Second,
		AppCredentials: func(appID string) (consent.CertificateCredential, bool) {
			if appID == appX {
				return e.appX, true
			}
			return consent.CertificateCredential{}, false
		},
	}
	if tweak != nil {
		tweak(&cfg)
	}
	drv, err := graph.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.drv = drv
	return e
}

// withCustomer adds tenant A with app X registered in the MSP tenant and consented in A with
// Graph User.Read.All.
func (e *env) withCustomer(t testing.TB) {
	t.Helper()
	must(t, e.srv.AddTenant(consenttest.Tenant{ID: tenantA, DisplayName: "Contoso", DefaultDomain: "contoso.onmicrosoft.com"}))
	must(t, e.srv.RegisterApp(consenttest.App{AppID: appX, HomeTenantID: mspTenant, DisplayName: "App X", Certificates: e.appX.Chain, RedirectURIs: []string{redirect}}))
	if _, err := e.srv.CreateServicePrincipal(tenantA, appX); err != nil {
		t.Fatal(err)
	}
	must(t, e.srv.GrantAppRole(tenantA, appX, graphtest.MicrosoftGraphAppID, graphUserReadAll))
}

// readerPerms turns Graph permission names into emulator permissions.
func readerPerms(names []string) []graphtest.Permission {
	out := make([]graphtest.Permission, len(names))
	for i, n := range names {
		out[i] = graphtest.Permission{ResourceAppID: graphtest.MicrosoftGraphAppID, Value: n}
	}
	return out
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// newDriverAgainst builds a driver whose reading app authenticates with cred.
func newDriverAgainst(t testing.TB, srv *graphtest.Server, cred consent.CertificateCredential) *graph.Driver {
	t.Helper()
	drv, err := graph.New(graph.Config{ReaderAppID: readerApp, ReaderCredential: cred, AuthorityHost: srv.URL,
		GraphURL: srv.GraphURL(), HTTPClient: srv.Client(), MaxRetryWait: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return drv
}
