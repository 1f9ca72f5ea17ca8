package certs_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tenantapps/tenantapps/certs"
)

const (
	gopkcs12 = "go-pkcs12"    // go-pkcs12 DecodeChain gave the key and certificates
	fallback = "internal/pfx" // go-pkcs12 refused the file or would have missed part of it
	failed   = ""             // Inspect returned an error
)

// corpusDecoders pins which reader produces each corpus file's Bundle, so that a go-pkcs12
// upgrade (or a change to the split) shows up here file by file. The fallback files are what
// go-pkcs12 v0.7.4 cannot read: BER (NSS), SHA-224/384 MACs, PBES2 with 3DES, emoji passwords
// (not UCS-2), certtool's three authenticated-safe items, an encrypted file without a MAC,
// two keys, and certificate-only files.
var corpusDecoders = map[string]string{
	"base64-text.pfx":                   gopkcs12,
	"bitflip-keybag.pfx":                failed,
	"certs-only.pfx":                    fallback,
	"certtool-3des-sha512.pfx":          gopkcs12,
	"certtool-chain-out-of-order.pfx":   fallback,
	"certtool-default-chain.pfx":        fallback,
	"certtool-key-mismatch.pfx":         gopkcs12,
	"der-cert-renamed.pfx":              failed,
	"empty.pfx":                         failed,
	"expired.pfx":                       gopkcs12,
	"go-first-cert-not-leaf.pfx":        gopkcs12,
	"go-key-mismatch.pfx":               gopkcs12,
	"go-legacydes.pfx":                  gopkcs12,
	"go-legacyrc2.pfx":                  gopkcs12,
	"go-modern2023.pfx":                 gopkcs12,
	"go-modern2026-pbmac1.pfx":          gopkcs12,
	"go-passwordless.pfx":               gopkcs12,
	"iter-1.pfx":                        gopkcs12,
	"iter-100000.pfx":                   gopkcs12,
	"iter-1000000.pfx":                  gopkcs12,
	"iter-2048.pfx":                     gopkcs12,
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
	"mac-sha512.pfx":                    gopkcs12,
	"nomac-encrypted.pfx":               fallback,
	"nomac-unencrypted.pfx":             gopkcs12,
	"not-yet-valid.pfx":                 gopkcs12,
	"nss-pk12util-legacy.pfx":           fallback,
	"nss-pk12util.pfx":                  fallback,
	"openssl3-chain-input-shuffled.pfx": gopkcs12,
	"openssl3-default-chain.pfx":        gopkcs12,
	"openssl3-ed25519.pfx":              gopkcs12,
	"openssl3-legacy-chain.pfx":         gopkcs12,
	"openssl3-p256.pfx":                 gopkcs12,
	"openssl3-p384.pfx":                 gopkcs12,
	"openssl3-rsa1024.pfx":              gopkcs12,
	"openssl3-rsa2048.pfx":              gopkcs12,
	"openssl3-rsa3072.pfx":              gopkcs12,
	"openssl3-rsa4096.pfx":              gopkcs12,
	"openssl3-sha1signed.pfx":           gopkcs12,
	"password-bmp-legacy.pfx":           gopkcs12,
	"password-bmp.pfx":                  gopkcs12,
	"password-emoji-legacy.pfx":         fallback,
	"password-emoji.pfx":                fallback,
	"password-empty.pfx":                gopkcs12,
	"pbes2-3des.pfx":                    fallback,
	"pbes2-aes128.pfx":                  gopkcs12,
	"pem-cert-renamed.pfx":              failed,
	"pem-key-renamed.pfx":               failed,
	"random.pfx":                        failed,
	"truncated.pfx":                     failed,
	"windows-tripledes-sha1.pfx":        gopkcs12,
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
		})
	}
}
