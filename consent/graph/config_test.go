package graph_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/tenantapps/tenantapps/consent"
	"github.com/tenantapps/tenantapps/consent/graph"
	"github.com/tenantapps/tenantapps/consent/graphtest"
)

func selfSigned(t *testing.T, pub crypto.PublicKey, priv crypto.Signer) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial.Add(1)), Subject: pkix.Name{CommonName: "k"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, priv)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c
}

func TestNewRejectsBadConfig(t *testing.T) {
	good := newCredential(t)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecCred := consent.CertificateCredential{Chain: []*x509.Certificate{selfSigned(t, &ec.PublicKey, ec)}, Key: ec}
	edPub, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	edCred := consent.CertificateCredential{Chain: []*x509.Certificate{selfSigned(t, edPub, edPriv)}, Key: edPriv}
	tests := []struct {
		name    string
		cfg     graph.Config
		wantKey string // UnsupportedKeyError.KeyType, if any
	}{
		{name: "reader app not a GUID", cfg: graph.Config{ReaderAppID: "reader", ReaderCredential: good}},
		{name: "no credential", cfg: graph.Config{ReaderAppID: readerApp}},
		{name: "http authority", cfg: graph.Config{ReaderAppID: readerApp, ReaderCredential: good, AuthorityHost: "http://127.0.0.1:1"}},
		{name: "graph URL not https", cfg: graph.Config{ReaderAppID: readerApp, ReaderCredential: good, GraphURL: "ftp://x"}},
		{name: "EC key", cfg: graph.Config{ReaderAppID: readerApp, ReaderCredential: ecCred}, wantKey: "*ecdsa.PrivateKey"},
		{name: "Ed25519 key", cfg: graph.Config{ReaderAppID: readerApp, ReaderCredential: edCred}, wantKey: "ed25519.PrivateKey"},
		{name: "key of another certificate", cfg: graph.Config{ReaderAppID: readerApp, ReaderCredential: consent.CertificateCredential{Chain: good.Chain, Key: newCredential(t).Key}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := graph.New(tc.cfg)
			if !errors.Is(err, consent.ErrInvalidArgument) {
				t.Fatalf("New: %v, want an error wrapping ErrInvalidArgument", err)
			}
			var uk *graph.UnsupportedKeyError
			if got := errors.As(err, &uk); got != (tc.wantKey != "") || (got && uk.KeyType != tc.wantKey) {
				t.Errorf("UnsupportedKeyError = %v (%v), want key type %q", got, uk, tc.wantKey)
			}
			if strings.Contains(err.Error(), "PRIVATE KEY") {
				t.Errorf("error leaks key material: %v", err)
			}
		})
	}
}

// opaqueSigner hides the *rsa.PrivateKey behind crypto.Signer, as an HSM or KMS key would: the
// driver must sign the assertion itself instead of handing the key to MSAL.
type opaqueSigner struct{ k *rsa.PrivateKey }

func (o opaqueSigner) Public() crypto.PublicKey { return &o.k.PublicKey }
func (o opaqueSigner) Sign(r io.Reader, d []byte, opts crypto.SignerOpts) ([]byte, error) {
	return o.k.Sign(r, d, opts)
}

func TestOpaqueRSASignerAuthenticates(t *testing.T) {
	e := newEnv(t, graphtest.Options{}, nil)
	e.withCustomer(t)
	cred := consent.CertificateCredential{Chain: e.appX.Chain, Key: opaqueSigner{e.appX.Key.(*rsa.PrivateKey)}}
	proof, err := e.drv.ProveCertificate(ctxT(t), tenantA, appX, cred)
	if err != nil {
		t.Fatalf("ProveCertificate with an opaque RSA signer: %v", err)
	}
	if proof.TenantID != tenantA || proof.AppID != appX {
		t.Errorf("proof = %+v", proof)
	}
}

func TestCredentialTextHasNoKey(t *testing.T) {
	cred := newCredential(t)
	for _, s := range []string{fmt.Sprint(cred), fmt.Sprintf("%+v", cred), fmt.Sprintf("%#v", cred)} {
		if strings.Contains(s, "PrivateKey") || strings.Contains(s, fmt.Sprint(cred.Key.(*rsa.PrivateKey).D)) {
			t.Errorf("credential text leaks the key: %s", s)
		}
	}
}
