// Package testcerts makes certificates and .pfx files for tests across the module, and documents
// (in gen.sh) how the real-tool corpus in certs/testdata/corpus was made.
//
// It deliberately does not use package certs, so that tests of certs and of its users check
// certs against an independent producer (crypto/x509 + go-pkcs12):
//
//	c := testcerts.NewRSA(t, testcerts.Options{CommonName: "Contoso Backup"})
//	b, err := certs.Inspect(c.PFX, c.Password)
//	// c.CertDER is the .cer to register in an emulated Entra ID; c.SHA1Thumbprint its thumbprint.
//
// Everything here calls t.Fatal on failure and is safe for parallel tests.
package testcerts

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	pkcs12 "software.sslmate.com/src/go-pkcs12"
)

// Options shape a test certificate. The zero value gives CN "tenantapps test app", valid from an
// hour ago for a year, password "test-password", RSA 2048.
type Options struct {
	CommonName string
	NotBefore  time.Time // zero: now - 1h
	NotAfter   time.Time // zero: NotBefore + 1 year
	KeyBits    int       // RSA only; zero: 2048
	Password   string    // zero: "test-password"; use NoPassword for a password-less file
	NoPassword bool      // write a password-less .pfx (as Azure Key Vault downloads are)
	// Key reuses an existing key (for example to make a renewed certificate for the same key).
	Key crypto.Signer
}

// Cert is a generated certificate with its key and .pfx.
type Cert struct {
	PFX            []byte
	Password       string
	CertDER        []byte // the .cer
	CertPEM        []byte // the .crt
	Cert           *x509.Certificate
	Key            crypto.Signer
	SHA1Thumbprint string // uppercase hex
}

// NewRSA makes a self-signed RSA certificate for client authentication and its .pfx
// (go-pkcs12 Modern2023 encryption).
func NewRSA(t testing.TB, opts Options) *Cert {
	t.Helper()
	if opts.Key == nil {
		bits := opts.KeyBits
		if bits == 0 {
			bits = 2048
		}
		k, err := rsa.GenerateKey(rand.Reader, bits)
		if err != nil {
			t.Fatal(err)
		}
		opts.Key = k
	}
	return build(t, opts)
}

// NewEC makes the same with an ECDSA P-256 key (which MSAL cannot use for client assertions).
func NewEC(t testing.TB, opts Options) *Cert {
	t.Helper()
	if opts.Key == nil {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		opts.Key = k
	}
	return build(t, opts)
}

func build(t testing.TB, o Options) *Cert {
	t.Helper()
	if o.CommonName == "" {
		o.CommonName = "tenantapps test app"
	}
	if o.NotBefore.IsZero() {
		o.NotBefore = time.Now().Add(-time.Hour).Truncate(time.Second)
	}
	if o.NotAfter.IsZero() {
		o.NotAfter = o.NotBefore.AddDate(1, 0, 0)
	}
	if o.Password == "" && !o.NoPassword {
		o.Password = "test-password"
	}
	if o.NoPassword {
		o.Password = ""
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial.Add(serial, big.NewInt(1)),
		Subject:               pkix.Name{CommonName: o.CommonName},
		NotBefore:             o.NotBefore,
		NotAfter:              o.NotAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, o.Key.Public(), o.Key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	enc := pkcs12.Modern2023
	if o.NoPassword {
		enc = pkcs12.Passwordless
	}
	pfx, err := enc.Encode(o.Key, cert, nil, o.Password)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha1.Sum(der)
	return &Cert{
		PFX: pfx, Password: o.Password, CertDER: der,
		CertPEM:        pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		Cert:           cert,
		Key:            o.Key,
		SHA1Thumbprint: strings.ToUpper(hex.EncodeToString(sum[:])),
	}
}

// CorpusDir is the absolute path of certs/testdata/corpus, the real-tool corpus (see gen.sh and
// its manifest.txt for every file's tool, options and password).
func CorpusDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "certs", "testdata", "corpus")
}

// CorpusFile reads one corpus file, for example "nss-pk12util.pfx" (password "Pa55-word").
func CorpusFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(CorpusDir(), name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// CorpusPassword is the password of most corpus files.
const CorpusPassword = "Pa55-word"
