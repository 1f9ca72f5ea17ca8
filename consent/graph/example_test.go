package graph_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"time"

	"github.com/tenantapps/tenantapps/consent"
	"github.com/tenantapps/tenantapps/consent/consenttest"
	"github.com/tenantapps/tenantapps/consent/graph"
	"github.com/tenantapps/tenantapps/consent/graphtest"
)

func exampleCredential() consent.CertificateCredential {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "msp-reader"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	cert, _ := x509.ParseCertificate(der)
	return consent.CertificateCredential{Chain: []*x509.Certificate{cert}, Key: key}
}

// The driver reads a customer's tenant through the MSP's reading app. Here both Entra ID and
// Graph are the local graphtest emulator; in production leave AuthorityHost, GraphURL and
// HTTPClient empty.
func Example() {
	srv := graphtest.NewServer(graphtest.Options{})
	defer srv.Close()
	const (
		msp      = "33333333-3333-4333-8333-333333333333"
		reader   = "aaaaaaaa-0000-4000-8000-0000000000ff"
		customer = "11111111-1111-4111-8111-111111111111"
		backup   = "aaaaaaaa-0000-4000-8000-000000000001"
	)
	cred := exampleCredential()
	_ = srv.AddTenant(consenttest.Tenant{ID: msp, DisplayName: "MSP"})
	_ = srv.RegisterApp(consenttest.App{AppID: reader, HomeTenantID: msp, Certificates: cred.Chain})
	// The reading app holds the Graph permissions the driver documents (graph.ReaderPermissions).
	var perms []graphtest.Permission
	for _, p := range graph.ReaderPermissions(false) {
		perms = append(perms, graphtest.Permission{ResourceAppID: graphtest.MicrosoftGraphAppID, Value: p})
	}
	_ = srv.ProvisionEverywhere(reader, perms...)
	_ = srv.AddTenant(consenttest.Tenant{ID: customer, DisplayName: "Contoso"})
	_ = srv.RegisterApp(consenttest.App{AppID: backup, HomeTenantID: msp, DisplayName: "Cloud Backup"})
	_, _ = srv.CreateServicePrincipal(customer, backup)
	_ = srv.GrantAppRole(customer, backup, graphtest.MicrosoftGraphAppID, "df021288-bdef-4463-88db-98f22de89214")

	drv, err := graph.New(graph.Config{
		ReaderAppID: reader, ReaderCredential: cred,
		AuthorityHost: srv.URL, GraphURL: srv.GraphURL(), HTTPClient: srv.Client(),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	st, err := drv.AppState(context.Background(), customer, backup)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("exists:", st.Exists, "enabled:", st.ServicePrincipal.Enabled)
	fmt.Println("User.Read.All granted:", st.HasAppRole(consent.MicrosoftGraphAppID, "df021288-bdef-4463-88db-98f22de89214"))

	_ = srv.RevokeAppRole(customer, backup, graphtest.MicrosoftGraphAppID, "df021288-bdef-4463-88db-98f22de89214")
	st, _ = drv.AppState(context.Background(), customer, backup)
	fmt.Println("after revoking:", st.HasAppRole(consent.MicrosoftGraphAppID, "df021288-bdef-4463-88db-98f22de89214"))
	// Output:
	// exists: true enabled: true
	// User.Read.All granted: true
	// after revoking: false
}
