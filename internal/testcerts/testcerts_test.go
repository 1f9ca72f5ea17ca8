package testcerts_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantapps/tenantapps/certs"
	"github.com/tenantapps/tenantapps/internal/testcerts"
)

// The helpers' files must read back through certs with the facts they were made with.
func TestHelpersReadBack(t *testing.T) {
	nb := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	rsaCert := testcerts.NewRSA(t, testcerts.Options{CommonName: "app", NotBefore: nb, NotAfter: nb.AddDate(0, 6, 0)})
	b, err := certs.Inspect(rsaCert.PFX, rsaCert.Password)
	if err != nil {
		t.Fatal(err)
	}
	got := []any{b.Subject, b.SHA1Thumbprint, b.KeyType, b.KeyBits, b.NotAfter, certs.Pair(b, rsaCert.CertDER) == nil}
	want := []any{"CN=app", rsaCert.SHA1Thumbprint, certs.KeyRSA, 2048, nb.AddDate(0, 6, 0), true}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("NewRSA read back mismatch (-want +got):\n%s", diff)
	}

	renewed := testcerts.NewRSA(t, testcerts.Options{Key: rsaCert.Key})
	if err := certs.Pair(b, renewed.CertPEM); !errors.Is(err, certs.ErrCertMismatch) {
		t.Errorf("a renewed certificate must not pair: %v", err)
	}

	ec := testcerts.NewEC(t, testcerts.Options{NoPassword: true})
	eb, err := certs.Inspect(ec.PFX, "")
	if err != nil {
		t.Fatal(err)
	}
	var codes []certs.Code
	for _, p := range certs.Validate(eb, certs.Options{}) {
		codes = append(codes, p.Code)
	}
	if diff := cmp.Diff([]certs.Code{certs.CodeUnsupportedKeyForToken}, codes); diff != "" {
		t.Errorf("EC certificate problems mismatch (-want +got):\n%s", diff)
	}

	if _, err := certs.Inspect(testcerts.CorpusFile(t, "nss-pk12util.pfx"), testcerts.CorpusPassword); err != nil {
		t.Errorf("CorpusFile: %v", err)
	}
}
