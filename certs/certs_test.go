package certs_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	pkcs12 "software.sslmate.com/src/go-pkcs12"

	"github.com/tenantapps/tenantapps/certs"
)

func readCorpus(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/corpus/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }

var genNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func generate(t *testing.T, validity time.Duration) *certs.Generated {
	t.Helper()
	g, err := certs.NewSelfSigned(certs.SelfSignedOptions{CommonName: "Contoso Backup", Password: "s3cret!", KeyBits: 2048, Validity: validity, Now: fixedClock(genNow)})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestNewSelfSignedRoundTrip(t *testing.T) {
	g := generate(t, 365*24*time.Hour)
	b, err := certs.Inspect(g.PFX, "s3cret!")
	if err != nil {
		t.Fatalf("Inspect of the generated .pfx: %v", err)
	}
	type facts struct {
		Subject, Issuer   string
		KeyType           certs.KeyType
		KeyBits           int
		NotBefore         time.Time
		NotAfter          time.Time
		EKU               []string
		SelfSigned        bool
		Chain             int
		MAC               string
		Encryption        []string
		Iterations        int
		MatchesLeaf       bool
		SignatureIsSHA256 bool
	}
	got := facts{b.Subject, b.Issuer, b.KeyType, b.KeyBits, b.NotBefore, b.NotAfter, b.ExtKeyUsage, b.SelfSigned, len(b.Chain),
		b.Format.MAC, b.Format.Encryption, b.Format.Iterations, b.KeyMatchesLeaf, b.Leaf.SignatureAlgorithm.String() == "SHA256-RSA"}
	want := facts{"CN=Contoso Backup", "CN=Contoso Backup", certs.KeyRSA, 2048, genNow.Add(-5 * time.Minute), genNow.Add(365 * 24 * time.Hour),
		[]string{"clientAuth"}, true, 1, "HMAC-SHA-256", []string{"PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC)"}, 10000, true, true}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("generated certificate mismatch (-want +got):\n%s", diff)
	}
	if ps := certs.Validate(b, certs.Options{Now: fixedClock(genNow)}); len(ps) != 0 {
		t.Errorf("Validate of a fresh certificate: %v", ps)
	}
	for name, cer := range map[string][]byte{"cer": g.CER, "crt": g.CRT} {
		if err := certs.Pair(b, cer); err != nil {
			t.Errorf("Pair with the generated .%s: %v", name, err)
		}
	}
	if diff := cmp.Diff(b.SHA1Thumbprint, g.Bundle.SHA1Thumbprint); diff != "" {
		t.Errorf("Generated.Bundle differs from Inspect (-want +got):\n%s", diff)
	}
	blk, _ := pem.Decode(g.CRT)
	if blk == nil || blk.Type != "CERTIFICATE" || string(blk.Bytes) != string(g.CER) {
		t.Errorf(".crt is not the PEM form of .cer")
	}
	// go-pkcs12 (and through it MSAL users) reads the file too.
	if _, cert, _, err := pkcs12.DecodeChain(g.PFX, "s3cret!"); err != nil || !cert.Equal(b.Leaf) {
		t.Errorf("go-pkcs12 DecodeChain of the generated .pfx: %v", err)
	}
	if _, err := certs.Inspect(g.PFX, "wrong"); !errors.Is(err, certs.ErrWrongPassword) {
		t.Errorf("wrong password: %v", err)
	}
}

func TestNewSelfSignedOptionErrors(t *testing.T) {
	tests := []struct {
		name string
		opts certs.SelfSignedOptions
		want string
	}{
		{"no CN", certs.SelfSignedOptions{Password: "x"}, "CommonName"},
		{"no password", certs.SelfSignedOptions{CommonName: "a"}, "password is required"},
		{"small key", certs.SelfSignedOptions{CommonName: "a", Password: "x", KeyBits: 1024}, "KeyBits 1024"},
		{"negative validity", certs.SelfSignedOptions{CommonName: "a", Password: "x", Validity: -time.Hour}, "Validity"},
		{"emoji password", certs.SelfSignedOptions{CommonName: "a", Password: "p🔑ss"}, "outside UCS-2"},
		{"few iterations", certs.SelfSignedOptions{CommonName: "a", Password: "x", Iterations: 10}, "Iterations 10"},
	}
	for _, tt := range tests {
		_, err := certs.NewSelfSigned(tt.opts)
		if !errors.Is(err, certs.ErrInvalidOptions) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want ErrInvalidOptions mentioning %q", tt.name, err, tt.want)
		}
		if tt.opts.Password != "" && err != nil && strings.Contains(err.Error(), tt.opts.Password) && len(tt.opts.Password) > 2 {
			t.Errorf("%s: error contains the password", tt.name)
		}
	}
}

func TestValidateClock(t *testing.T) {
	g := generate(t, 90*24*time.Hour)
	notAfter := genNow.Add(90 * 24 * time.Hour)
	tests := []struct {
		name   string
		now    time.Time
		within time.Duration
		want   []certs.Code
	}{
		{"fresh", genNow, 0, nil},
		{"inside the back-dating", genNow.Add(-4 * time.Minute), 0, nil},
		{"before NotBefore", genNow.Add(-10 * time.Minute), 0, []certs.Code{certs.CodeNotYetValid}},
		{"31 days left", notAfter.Add(-31 * 24 * time.Hour), 0, nil},
		{"30 days left", notAfter.Add(-30 * 24 * time.Hour), 0, []certs.Code{certs.CodeExpiringSoon}},
		{"custom window", notAfter.Add(-50 * 24 * time.Hour), 60 * 24 * time.Hour, []certs.Code{certs.CodeExpiringSoon}},
		{"warning off", notAfter.Add(-time.Hour), -1, nil},
		{"at NotAfter", notAfter, -1, nil},
		{"after NotAfter", notAfter.Add(time.Second), 0, []certs.Code{certs.CodeExpired}},
	}
	for _, tt := range tests {
		var got []certs.Code
		for _, p := range certs.Validate(g.Bundle, certs.Options{Now: fixedClock(tt.now), ExpiringWithin: tt.within}) {
			got = append(got, p.Code)
			if p.Code == certs.CodeExpiringSoon && p.Severity != certs.SeverityWarning {
				t.Errorf("%s: expiring_soon has severity %s", tt.name, p.Severity)
			}
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: Validate mismatch (-want +got):\n%s", tt.name, diff)
		}
	}
	if ps := certs.Validate(nil, certs.Options{}); len(ps) != 1 || ps[0].Code != certs.CodeCorrupt {
		t.Errorf("Validate(nil) = %v", ps)
	}
}

func TestValidateAllProblemsAtOnce(t *testing.T) {
	// A key that matches no certificate, an EC key, and the certificate expired: all reported,
	// with the .cer check too.
	b, err := certs.Inspect(readCorpus(t, "go-key-mismatch.pfx"), "Pa55-word")
	if err != nil {
		t.Fatal(err)
	}
	ps := certs.Validate(b, certs.Options{Now: fixedClock(time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC)), Cert: readCorpus(t, "other.crt")})
	var got []string
	for _, p := range ps {
		got = append(got, string(p.Code)+"/"+string(p.Severity))
	}
	want := []string{"key_mismatch/error", "expired/error", "unsupported_key_for_token/error", "cert_mismatch/error"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Validate mismatch (-want +got):\n%s", diff)
	}
	if !certs.HasErrors(ps) || certs.HasErrors([]certs.Problem{{Code: certs.CodeExpiringSoon, Severity: certs.SeverityWarning}}) {
		t.Error("HasErrors is wrong")
	}
}

func TestPair(t *testing.T) {
	b, err := certs.Inspect(readCorpus(t, "openssl3-default-chain.pfx"), "Pa55-word")
	if err != nil {
		t.Fatal(err)
	}
	der := readCorpus(t, "leaf.cer")
	tests := []struct {
		name    string
		cer     []byte
		want    certs.Code // "" = paired
		mention []string
	}{
		{"DER .cer", der, "", nil},
		{"PEM .crt", readCorpus(t, "leaf.crt"), "", nil},
		{"PEM with CRLF and BOM", append([]byte("\xef\xbb\xbf"), []byte(strings.ReplaceAll(string(readCorpus(t, "leaf.crt")), "\n", "\r\n"))...), "", nil},
		{"chain file", readCorpus(t, "leaf-chain.crt"), "", nil},
		{"base64 (Graph keyCredential.key)", []byte(base64.StdEncoding.EncodeToString(der)), "", nil},
		{"other certificate", readCorpus(t, "other.crt"), certs.CodeCertMismatch, []string{b.SHA1Thumbprint, "0270A4D6E33C53258D84C3771BFFF5CB7D84B4D2"}},
		{"a .pfx instead", readCorpus(t, "openssl3-rsa2048.pfx"), certs.CodeUnsupportedFormat, []string{"looks like a .pfx"}},
		{"PEM key instead", readCorpus(t, "pem-key-renamed.pfx"), certs.CodeUnsupportedFormat, []string{"no CERTIFICATE"}},
		{"garbage", []byte("hello world"), certs.CodeCorrupt, nil},
		{"empty", nil, certs.CodeEmptyFile, nil},
	}
	for _, tt := range tests {
		err := certs.Pair(b, tt.cer)
		var got certs.Code
		var ce *certs.Error
		if errors.As(err, &ce) {
			got = ce.Code
		} else if err != nil {
			t.Errorf("%s: error %T is not *certs.Error", tt.name, err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: Pair code mismatch (-want +got):\n%s\nerr: %v", tt.name, diff, err)
		}
		for _, m := range tt.mention {
			if err == nil || !strings.Contains(err.Error(), m) {
				t.Errorf("%s: error %v does not mention %q", tt.name, err, m)
			}
		}
	}
	if err := certs.Pair(b, readCorpus(t, "other.crt")); !errors.Is(err, certs.ErrCertMismatch) {
		t.Errorf("errors.Is(mismatch, ErrCertMismatch) = false: %v", err)
	}
}

func TestPairSameKeyDifferentCertificate(t *testing.T) {
	// keytool-two-keys aside, the simplest renewal: expired.pfx and not-yet-valid.pfx share one key.
	a, err := certs.Inspect(readCorpus(t, "expired.pfx"), "Pa55-word")
	if err != nil {
		t.Fatal(err)
	}
	b, err := certs.Inspect(readCorpus(t, "not-yet-valid.pfx"), "Pa55-word")
	if err != nil {
		t.Fatal(err)
	}
	err = certs.Pair(a, b.Leaf.Raw)
	if !errors.Is(err, certs.ErrCertMismatch) || !strings.Contains(err.Error(), "same key") {
		t.Errorf("Pair of a re-issued certificate: %v, want cert_mismatch mentioning the same key", err)
	}
}

func TestInspectMessagesSayWhatTheFileIs(t *testing.T) {
	tests := []struct {
		file    string
		code    certs.Code
		mention string
	}{
		{"pem-cert-renamed.pfx", certs.CodeUnsupportedFormat, "PEM certificate"},
		{"der-cert-renamed.pfx", certs.CodeUnsupportedFormat, "DER certificate"},
		{"pem-key-renamed.pfx", certs.CodeUnsupportedFormat, "PEM private key"},
		{"empty.pfx", certs.CodeEmptyFile, "empty"},
		{"truncated.pfx", certs.CodeCorrupt, "truncated"},
		{"bitflip-keybag.pfx", certs.CodeCorrupt, "integrity check"},
	}
	for _, tt := range tests {
		_, err := certs.Inspect(readCorpus(t, tt.file), "Pa55-word")
		var ce *certs.Error
		if !errors.As(err, &ce) || ce.Code != tt.code || !strings.Contains(err.Error(), tt.mention) {
			t.Errorf("%s: err = %v, want %s mentioning %q", tt.file, err, tt.code, tt.mention)
		}
		if err != nil && strings.Contains(err.Error(), "Pa55-word") {
			t.Errorf("%s: error contains the password", tt.file)
		}
	}
	_, err := (certs.Inspector{MaxIterations: 1000}).Inspect(readCorpus(t, "iter-100000.pfx"), "Pa55-word")
	if !errors.Is(err, certs.ErrUnsupportedFormat) || !strings.Contains(err.Error(), "100000") {
		t.Errorf("over the iteration limit: %v", err)
	}
	_, err = (certs.Inspector{MaxSize: 100}).Inspect(readCorpus(t, "iter-1.pfx"), "Pa55-word")
	if !errors.Is(err, certs.ErrCorrupt) {
		t.Errorf("over the size limit: %v", err)
	}
}

func TestMatchesThumbprint(t *testing.T) {
	b, err := certs.Inspect(readCorpus(t, "openssl3-rsa2048.pfx"), "Pa55-word")
	if err != nil {
		t.Fatal(err)
	}
	s256 := sha256.Sum256(b.Leaf.Raw)
	for _, s := range []string{
		b.SHA1Thumbprint, strings.ToLower(b.SHA1Thumbprint), "02:70:A4:D6:E3:3C:53:25:8D:84:C3:77:1B:FF:F5:CB:7D:84:B4:D2",
		b.CustomKeyIdentifier, b.SHA256Thumbprint, base64.StdEncoding.EncodeToString(s256[:]),
	} {
		if !b.MatchesThumbprint(s) {
			t.Errorf("MatchesThumbprint(%q) = false", s)
		}
	}
	for _, s := range []string{"", "00", "B7774F1D4F0E276CFA932829E59C383C110EC615", "not a thumbprint"} {
		if b.MatchesThumbprint(s) {
			t.Errorf("MatchesThumbprint(%q) = true", s)
		}
	}
}
