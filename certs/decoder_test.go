package certs_test

import (
	"crypto"
	"crypto/x509"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	pkcs12 "software.sslmate.com/src/go-pkcs12"

	"github.com/tenantapps/tenantapps/certs"
)

const (
	gopkcs12 = "go-pkcs12"    // go-pkcs12 DecodeChain gave the key and certificates
	fallback = "internal/pfx" // go-pkcs12 refused the file or would have missed part of it
	failed   = ""             // Inspect returned an error
)

// corpusDecoders pins which reader produces each corpus file's Bundle, so that a go-pkcs12
// upgrade (or a change to the split) shows up here file by file. go-pkcs12 reads a file only
// when its whole key-derivation work is visible before it starts (see Inspector.viaPKCS12):
// the first key bag lies in the clear part of the file, as Java keytool, Key Vault and
// password-less files have it. OpenSSL, Windows and go-pkcs12's encoders put an encrypted
// certificate item first, behind which a key bag of any iteration count could hide, so
// internal/pfx reads those, as it reads what go-pkcs12 v0.7.4 cannot: BER (NSS), SHA-224/384
// MACs, PBES2 with 3DES, emoji passwords (not UCS-2), certtool's three authenticated-safe items,
// an encrypted file without a MAC, two keys, and certificate-only files. TestCorpusDecoder
// checks that go-pkcs12 agrees with internal/pfx on every file both can read.
var corpusDecoders = map[string]string{
	"base64-text.pfx":                   fallback,
	"bitflip-keybag.pfx":                failed,
	"certs-only.pfx":                    fallback,
	"certtool-3des-sha512.pfx":          fallback,
	"certtool-chain-out-of-order.pfx":   fallback,
	"certtool-default-chain.pfx":        fallback,
	"certtool-key-mismatch.pfx":         fallback,
	"der-cert-renamed.pfx":              failed,
	"empty.pfx":                         failed,
	"expired.pfx":                       fallback,
	"go-first-cert-not-leaf.pfx":        fallback,
	"go-key-mismatch.pfx":               fallback,
	"go-legacydes.pfx":                  fallback,
	"go-legacyrc2.pfx":                  fallback,
	"go-modern2023.pfx":                 fallback,
	"go-modern2026-pbmac1.pfx":          fallback,
	"go-passwordless.pfx":               gopkcs12,
	"iter-1.pfx":                        fallback,
	"iter-100000.pfx":                   fallback,
	"iter-1000000.pfx":                  fallback,
	"iter-2048.pfx":                     fallback,
	"keytool-default.pfx":               gopkcs12,
	"keytool-ec.pfx":                    gopkcs12,
	"keytool-legacy.pfx":                gopkcs12,
	"keytool-sha512.pfx":                gopkcs12,
	"keytool-truststore.pfx":            fallback,
	"keytool-two-keys.pfx":              fallback,
	"keyvault-nopassword.pfx":           gopkcs12,
	"leaf.crt":                          failed,
	"mac-sha224.pfx":                    fallback,
	"mac-sha384.pfx":                    fallback,
	"mac-sha512.pfx":                    fallback,
	"nomac-encrypted.pfx":               fallback,
	"nomac-unencrypted.pfx":             gopkcs12,
	"not-yet-valid.pfx":                 fallback,
	"nss-pk12util-legacy.pfx":           fallback,
	"nss-pk12util.pfx":                  fallback,
	"openssl3-chain-input-shuffled.pfx": fallback,
	"openssl3-default-chain.pfx":        fallback,
	"openssl3-ed25519.pfx":              fallback,
	"openssl3-legacy-chain.pfx":         fallback,
	"openssl3-p256.pfx":                 fallback,
	"openssl3-p384.pfx":                 fallback,
	"openssl3-rsa1024.pfx":              fallback,
	"openssl3-rsa2048.pfx":              fallback,
	"openssl3-rsa3072.pfx":              fallback,
	"openssl3-rsa4096.pfx":              fallback,
	"openssl3-sha1signed.pfx":           fallback,
	"password-bmp-legacy.pfx":           fallback,
	"password-bmp.pfx":                  fallback,
	"password-emoji-legacy.pfx":         fallback,
	"password-emoji.pfx":                fallback,
	"password-empty.pfx":                fallback,
	"pbes2-3des.pfx":                    fallback,
	"pbes2-aes128.pfx":                  fallback,
	"pem-cert-renamed.pfx":              failed,
	"pem-key-renamed.pfx":               failed,
	"random.pfx":                        failed,
	"truncated.pfx":                     failed,
	"windows-tripledes-sha1.pfx":        fallback,
}

func TestCorpusDecoder(t *testing.T) {
	m := manifest(t)
	if len(corpusDecoders) != len(corpusVerdicts) {
		t.Errorf("corpusDecoders lists %d files, corpusVerdicts %d: keep them in step", len(corpusDecoders), len(corpusVerdicts))
	}
	for name, want := range corpusDecoders {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(filepath.Join("testdata/corpus", name))
			if err != nil {
				t.Fatal(err)
			}
			got, err := certs.InspectDecoder(data, corpusPasswords[m[name][0]])
			if got != want {
				t.Errorf("decoder = %q, want %q (Inspect error: %v)", got, want, err)
			}
			if (want == failed) != (err != nil) {
				t.Errorf("Inspect error = %v, want failure %v", err, want == failed)
			}
			if want == fallback && !slowWrongPassword[name] { // the 600,000+ iteration files cost seconds under -race
				agreeWithGoPKCS12(t, data, corpusPasswords[m[name][0]])
			}
		})
	}
}

// agreeWithGoPKCS12 checks a file internal/pfx read against go-pkcs12, when go-pkcs12 reads it
// too: the same private key and the same certificates. (In production go-pkcs12 does not run on
// these files: its work could not be bounded in advance.)
func agreeWithGoPKCS12(t *testing.T, data []byte, password string) {
	t.Helper()
	key, leaf, cas, err := pkcs12.DecodeChain(data, password)
	if err != nil {
		return
	}
	b, err := certs.Inspect(data, password)
	if err != nil {
		t.Fatalf("Inspect: %v", err)
	}
	pub, ok := key.(interface{ Public() crypto.PublicKey })
	if !ok || b.PrivateKey == nil || !b.PrivateKey.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(pub.Public()) {
		t.Errorf("go-pkcs12 and Inspect disagree on the private key")
	}
	var want, got []string
	for _, c := range append([]*x509.Certificate{leaf}, cas...) {
		want = append(want, certs.ThumbprintsOf(c).SHA1)
	}
	for _, c := range append(append([]*x509.Certificate{}, b.Chain...), b.Extra...) {
		got = append(got, certs.ThumbprintsOf(c).SHA1)
	}
	slices.Sort(want)
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("go-pkcs12 and Inspect disagree on the certificates (-go-pkcs12 +Inspect):\n%s", diff)
	}
}
