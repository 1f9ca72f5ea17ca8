package pfx

import (
	"context"
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
			got, err := Decode(context.Background(), data, pw, Limits{})
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
			_, err = Decode(context.Background(), data, pw+"x", Limits{})
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
	_, err = Decode(context.Background(), data, "Pa55-word", Limits{MaxIterations: 1000})
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
		r, err := Decode(context.Background(), data, password, Limits{MaxIterations: 256})
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

// TestDecodeTamperedFiles: damage with a right password is corrupt, never wrong_password.
func TestDecodeTamperedFiles(t *testing.T) {
	tests := []struct {
		name   string
		file   string
		pw     string
		tamper func([]byte)
		want   Kind
	}{
		{"MAC digest changed", "openssl3-rsa2048.pfx", "Pa55-word", func(b []byte) { b[len(b)-30] ^= 0x80 }, KindCorrupt},
		{"encrypted key bag changed", "openssl3-rsa2048.pfx", "Pa55-word", func(b []byte) { b[len(b)-300] ^= 0x01 }, KindCorrupt},
		{"same change, wrong password", "openssl3-rsa2048.pfx", "nope", func(b []byte) { b[len(b)-300] ^= 0x01 }, KindWrongPassword},
		// keyvault-nopassword holds everything unencrypted: a broken tag in the key bag cannot
		// be explained by any password.
		{"unencrypted structure broken", "keyvault-nopassword.pfx", "", func(b []byte) {
			breakFirst(b, []byte{0x06, 0x0b, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x0a, 0x01, 0x01})
		}, KindCorrupt},
	}
	for _, tt := range tests {
		data, err := os.ReadFile("../../testdata/corpus/" + tt.file)
		if err != nil {
			t.Fatal(err)
		}
		tt.tamper(data)
		_, err = Decode(context.Background(), data, tt.pw, Limits{})
		var e *Error
		if !errors.As(err, &e) || e.Kind != tt.want {
			t.Errorf("%s: Decode = %v, want kind %d", tt.name, err, tt.want)
		}
	}
}

// breakFirst turns the OID tag of the first occurrence of oid in b into a SET tag, so the bag no
// longer parses.
func breakFirst(b, oid []byte) {
	for i := 0; i+len(oid) <= len(b); i++ {
		if string(b[i:i+len(oid)]) == string(oid) {
			b[i] = 0x31
			return
		}
	}
	panic("oid not found")
}

// FuzzScan: Scan never panics, prices nothing negative, and never fails a file Decode opens.
func FuzzScan(f *testing.F) {
	files, _ := filepath.Glob("../../testdata/corpus/*.pfx")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil && len(b) < 8000 {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		lim := Limits{MaxIterations: 256}
		p, err := Scan(data, lim)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T is not an *Error", err)
			}
			if _, derr := Decode(context.Background(), data, "", lim); derr == nil {
				t.Fatalf("Scan failed (%v) on a file Decode opens", err)
			}
			return
		}
		if p.MACCost < 0 || p.ItemsCost < 0 || p.KeyCost < 0 || p.KeysCost < 0 || p.Items > MaxItems {
			t.Fatalf("bad plan %+v", p)
		}
	})
}
