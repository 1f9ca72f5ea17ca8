package graph

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"

	"github.com/tenantapps/tenantapps/consent"
)

// TestNationalCloudImpliesGraph: a Config that names only a national cloud's authority reads
// that cloud's Graph ("Microsoft Graph national cloud deployments",
// https://learn.microsoft.com/graph/deployments); GraphURL and GraphScope still override it, and
// any other authority (an emulator) keeps the global service's defaults.
func TestNationalCloudImpliesGraph(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "reader"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	cred := consent.CertificateCredential{Chain: []*x509.Certificate{leaf}, Key: key}
	tests := []struct {
		authority, graphURL, graphScope string
		wantURL, wantScope              string
	}{
		{"", "", "", DefaultGraphURL, DefaultGraphScope},
		{"https://login.microsoftonline.us", "", "", "https://graph.microsoft.us/v1.0", "https://graph.microsoft.us/.default"},
		{"https://login.chinacloudapi.cn/", "", "", "https://microsoftgraph.chinacloudapi.cn/v1.0", "https://microsoftgraph.chinacloudapi.cn/.default"},
		{"https://login.microsoftonline.us", "https://dod-graph.microsoft.us/v1.0", "https://dod-graph.microsoft.us/.default", "https://dod-graph.microsoft.us/v1.0", "https://dod-graph.microsoft.us/.default"},
		{"https://127.0.0.1:8443", "", "", DefaultGraphURL, DefaultGraphScope},
	}
	for _, tc := range tests {
		d, err := New(Config{ReaderAppID: "11111111-1111-4111-8111-111111111111", ReaderCredential: cred,
			AuthorityHost: tc.authority, GraphURL: tc.graphURL, GraphScope: tc.graphScope})
		if err != nil {
			t.Fatalf("%q: %v", tc.authority, err)
		}
		if d.cfg.GraphURL != tc.wantURL || d.cfg.GraphScope != tc.wantScope {
			t.Errorf("authority %q: Graph %q scope %q; want %q %q", tc.authority, d.cfg.GraphURL, d.cfg.GraphScope, tc.wantURL, tc.wantScope)
		}
	}
}
