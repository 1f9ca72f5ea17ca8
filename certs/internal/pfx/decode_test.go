package pfx

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	pkcs12 "software.sslmate.com/src/go-pkcs12"
)

// TestDecodeAgreesWithGoPKCS12 encodes with every go-pkcs12 encoder and checks that Decode returns
// the same key and certificates, and that a wrong password is reported as one.
func TestDecodeAgreesWithGoPKCS12(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "agree"}, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	wantKey, _ := x509.MarshalPKCS8PrivateKey(key)
	for name, enc := range map[string]*pkcs12.Encoder{"LegacyRC2": pkcs12.LegacyRC2, "LegacyDES": pkcs12.LegacyDES, "Modern2023": pkcs12.Modern2023, "Modern2026": pkcs12.Modern2026} {
		for _, pw := range []string{"", "s3cret", "pä€w"} {
			data, err := enc.Encode(key, cert, nil, pw)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Decode(data, pw, Limits{})
			if err != nil {
				t.Fatalf("%s %q: Decode: %v", name, pw, err)
			}
			if len(got.Keys) != 1 || len(got.Certs) != 1 {
				t.Fatalf("%s: got %d keys, %d certs", name, len(got.Keys), len(got.Certs))
			}
			if diff := cmp.Diff(wantKey, got.Keys[0].DER); diff != "" {
				t.Errorf("%s: key mismatch (-want +got):\n%s", name, diff)
			}
			if diff := cmp.Diff(der, got.Certs[0].DER); diff != "" {
				t.Errorf("%s: cert mismatch (-want +got):\n%s", name, diff)
			}
			_, err = Decode(data, pw+"x", Limits{})
			var e *Error
			if !errors.As(err, &e) || e.Kind != KindWrongPassword {
				t.Errorf("%s %q: wrong password gave %v, want KindWrongPassword", name, pw, err)
			}
		}
	}
}

func TestDecodeLimits(t *testing.T) {
	data, err := os.ReadFile("../../testdata/corpus/iter-100000.pfx")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Decode(data, "Pa55-word", Limits{MaxIterations: 1000})
	var e *Error
	if !errors.As(err, &e) || e.Kind != KindUnsupported {
		t.Fatalf("Decode over the iteration limit: %v, want KindUnsupported", err)
	}
}

// FuzzDecode: no input may panic, and every error is an *Error that never carries the password.
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob("../../testdata/corpus/*.pfx")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil && len(b) < 8000 {
			f.Add(b, "Pa55-word")
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, password string) {
		r, err := Decode(data, password, Limits{MaxIterations: 256})
		if err == nil {
			if r == nil {
				t.Fatal("nil result without error")
			}
			return
		}
		var e *Error
		if !errors.As(err, &e) || e.Kind < KindCorrupt || e.Kind > KindUnsupported {
			t.Fatalf("error %T %v is not a classified *Error", err, err)
		}
		if len(password) >= 8 && strings.Contains(err.Error(), password) {
			t.Fatalf("error %q contains the password", err)
		}
	})
}
