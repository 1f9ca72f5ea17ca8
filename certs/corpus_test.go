package certs_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantapps/tenantapps/certs"
)

// corpusNow is the clock for corpus verdicts: the corpus was generated on 2026-11-25 with
// certificates valid for two years, so on this date only the dated files are out of validity.
var corpusNow = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

var corpusPasswords = map[string]string{
	"std":   "Pa55-word",
	"empty": "",
	"bmp":   "pä€w-Ünïcødé",
	"emoji": "p🔑ss😀",
	"-":     "",
}

// manifest maps a corpus file to its password ID and OpenSSL's SHA-1 fingerprint of the leaf
// ("-" when the file has none), as internal/testcerts/gen.sh recorded them.
func manifest(t testing.TB) map[string][2]string {
	t.Helper()
	b, err := os.ReadFile("testdata/corpus/manifest.txt")
	if err != nil {
		t.Fatal(err)
	}
	m := map[string][2]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Fields(line)
		if len(f) == 3 {
			m[f[0]] = [2]string{f[1], f[2]}
		}
	}
	return m
}

type verdict struct {
	Err      certs.Code   // Inspect error code, "" when the file opens
	Problems []certs.Code // Validate codes in order
	KeyType  certs.KeyType
	KeyBits  int
	Chain    int
}

func ok(kt certs.KeyType, bits, chain int, problems ...certs.Code) verdict {
	return verdict{KeyType: kt, KeyBits: bits, Chain: chain, Problems: problems}
}

func fails(code certs.Code) verdict { return verdict{Err: code} }

const (
	rsa = certs.KeyRSA
	ec  = certs.KeyECDSA
	ed  = certs.KeyEd25519
)

// corpusVerdicts is the expected verdict for every file of the corpus, written by hand from what
// each file is (see gen.sh), not from the package's output.
var corpusVerdicts = map[string]verdict{
	// OpenSSL 3
	"openssl3-default-chain.pfx":        ok(rsa, 2048, 3),
	"openssl3-legacy-chain.pfx":         ok(rsa, 2048, 3),
	"openssl3-chain-input-shuffled.pfx": ok(rsa, 2048, 3),
	"windows-tripledes-sha1.pfx":        ok(rsa, 2048, 1),
	"openssl3-rsa1024.pfx":              ok(rsa, 1024, 1, certs.CodeWeakKey),
	"openssl3-rsa2048.pfx":              ok(rsa, 2048, 1),
	"openssl3-rsa3072.pfx":              ok(rsa, 3072, 1),
	"openssl3-rsa4096.pfx":              ok(rsa, 4096, 1),
	"openssl3-p256.pfx":                 ok(ec, 256, 1, certs.CodeUnsupportedKeyForToken),
	"openssl3-p384.pfx":                 ok(ec, 384, 1, certs.CodeUnsupportedKeyForToken),
	"openssl3-ed25519.pfx":              ok(ed, 256, 1, certs.CodeUnsupportedKeyForToken),
	"openssl3-sha1signed.pfx":           ok(rsa, 2048, 1, certs.CodeWeakSignature),
	"iter-1.pfx":                        ok(rsa, 2048, 1),
	"iter-2048.pfx":                     ok(rsa, 2048, 1),
	"iter-100000.pfx":                   ok(rsa, 2048, 1),
	"iter-1000000.pfx":                  ok(rsa, 2048, 1),
	"password-empty.pfx":                ok(rsa, 2048, 1),
	"password-bmp.pfx":                  ok(rsa, 2048, 1),
	"password-bmp-legacy.pfx":           ok(rsa, 2048, 1),
	"password-emoji.pfx":                ok(rsa, 2048, 1),
	"password-emoji-legacy.pfx":         ok(rsa, 2048, 1),
	"keyvault-nopassword.pfx":           ok(rsa, 2048, 1),
	"nomac-unencrypted.pfx":             ok(rsa, 2048, 1),
	"nomac-encrypted.pfx":               ok(rsa, 2048, 1),
	"mac-sha224.pfx":                    ok(rsa, 2048, 1),
	"mac-sha384.pfx":                    ok(rsa, 2048, 1),
	"mac-sha512.pfx":                    ok(rsa, 2048, 1),
	"pbes2-3des.pfx":                    ok(rsa, 2048, 1),
	"pbes2-aes128.pfx":                  ok(rsa, 2048, 1),
	"certs-only.pfx":                    ok(rsa, 2048, 3, certs.CodeNoPrivateKey),
	"expired.pfx":                       ok(rsa, 2048, 1, certs.CodeExpired),
	"not-yet-valid.pfx":                 ok(rsa, 2048, 1, certs.CodeNotYetValid),
	"base64-text.pfx":                   ok(rsa, 2048, 1),
	// GnuTLS certtool (600000 iterations, three authenticated-safe items)
	"certtool-default-chain.pfx":      ok(rsa, 2048, 2),
	"certtool-3des-sha512.pfx":        ok(rsa, 2048, 1),
	"certtool-chain-out-of-order.pfx": ok(rsa, 2048, 3),
	"certtool-key-mismatch.pfx":       ok(ec, 256, 1, certs.CodeKeyMismatch, certs.CodeUnsupportedKeyForToken),
	// Java keytool
	"keytool-default.pfx":    ok(rsa, 2048, 1),
	"keytool-legacy.pfx":     ok(rsa, 2048, 1),
	"keytool-sha512.pfx":     ok(rsa, 3072, 1),
	"keytool-ec.pfx":         ok(ec, 256, 1, certs.CodeUnsupportedKeyForToken),
	"keytool-two-keys.pfx":   ok(rsa, 2048, 1, certs.CodeMultipleKeys),
	"keytool-truststore.pfx": ok(rsa, 2048, 1, certs.CodeNoPrivateKey),
	// NSS pk12util (BER)
	"nss-pk12util.pfx":        ok(rsa, 2048, 3),
	"nss-pk12util-legacy.pfx": ok(rsa, 2048, 3),
	// go-pkcs12 encoders
	"go-legacyrc2.pfx":           ok(rsa, 2048, 3),
	"go-legacydes.pfx":           ok(rsa, 2048, 3),
	"go-modern2023.pfx":          ok(rsa, 2048, 3),
	"go-modern2026-pbmac1.pfx":   ok(rsa, 2048, 3),
	"go-passwordless.pfx":        ok(rsa, 2048, 3),
	"go-first-cert-not-leaf.pfx": ok(rsa, 2048, 3),
	"go-key-mismatch.pfx":        ok(ec, 256, 3, certs.CodeKeyMismatch, certs.CodeUnsupportedKeyForToken),
	// Not a .pfx, or damaged
	"leaf.crt":             fails(certs.CodeUnsupportedFormat),
	"pem-cert-renamed.pfx": fails(certs.CodeUnsupportedFormat),
	"der-cert-renamed.pfx": fails(certs.CodeUnsupportedFormat),
	"pem-key-renamed.pfx":  fails(certs.CodeUnsupportedFormat),
	"empty.pfx":            fails(certs.CodeEmptyFile),
	"random.pfx":           fails(certs.CodeCorrupt),
	"truncated.pfx":        fails(certs.CodeCorrupt),
	"bitflip-keybag.pfx":   fails(certs.CodeCorrupt),
}

// openWithAnyPassword lists files that have no password at all (nothing encrypted, no MAC): any
// password opens them, as with OpenSSL.
var openWithAnyPassword = map[string]bool{"nomac-unencrypted.pfx": true, "go-passwordless.pfx": true}

// slowWrongPassword lists files with 600000+ iterations whose wrong-password check repeats code
// paths other files cover (PBES2, PBES1 3DES, SHA-512 MAC) and would cost seconds under -race.
var slowWrongPassword = map[string]bool{
	"iter-1000000.pfx": true, "certtool-3des-sha512.pfx": true, "certtool-chain-out-of-order.pfx": true,
	"certtool-key-mismatch.pfx": true, "nss-pk12util-legacy.pfx": true,
}

func TestCorpus(t *testing.T) {
	m := manifest(t)
	if len(m) != len(corpusVerdicts) {
		t.Errorf("manifest lists %d files, corpusVerdicts %d: keep them in step", len(m), len(corpusVerdicts))
	}
	for name, want := range corpusVerdicts {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			entry, found := m[name]
			if !found {
				t.Fatalf("%s is not in manifest.txt", name)
			}
			data, err := os.ReadFile(filepath.Join("testdata/corpus", name))
			if err != nil {
				t.Fatal(err)
			}
			b, err := certs.Inspect(data, corpusPasswords[entry[0]])
			var got verdict
			if err != nil {
				var ce *certs.Error
				if !errors.As(err, &ce) {
					t.Fatalf("Inspect error %T is not *certs.Error: %v", err, err)
				}
				got.Err = ce.Code
			} else {
				got = verdict{KeyType: b.KeyType, KeyBits: b.KeyBits, Chain: len(b.Chain)}
				for _, p := range certs.Validate(b, certs.Options{Now: func() time.Time { return corpusNow }}) {
					got.Problems = append(got.Problems, p.Code)
				}
				// The thumbprint must equal OpenSSL's fingerprint of the certificate the file
				// was built from (an independent computation).
				if fp := entry[1]; fp != "-" {
					if diff := cmp.Diff(fp, b.SHA1Thumbprint); diff != "" {
						t.Errorf("SHA1Thumbprint mismatch with openssl x509 -fingerprint (-want +got):\n%s", diff)
					}
				}
				checkChainOrder(t, b)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("verdict mismatch (-want +got):\n%s", diff)
			}
			if err != nil || openWithAnyPassword[name] || slowWrongPassword[name] {
				return
			}
			_, err = certs.Inspect(data, "wrong-"+corpusPasswords[entry[0]])
			if !errors.Is(err, certs.ErrWrongPassword) {
				t.Errorf("wrong password: err = %v, want wrong_password", err)
			}
			if err != nil && strings.Contains(err.Error(), "wrong-") {
				t.Errorf("the error message contains the password: %v", err)
			}
		})
	}
}

// checkChainOrder verifies Chain[i] was issued by Chain[i+1].
func checkChainOrder(t *testing.T, b *certs.Bundle) {
	t.Helper()
	if b.Leaf == nil || b.Chain[0] != b.Leaf {
		t.Errorf("Chain does not start with Leaf")
		return
	}
	for i := 0; i+1 < len(b.Chain); i++ {
		if err := b.Chain[i].CheckSignatureFrom(b.Chain[i+1]); err != nil {
			t.Errorf("Chain[%d] (%s) is not signed by Chain[%d] (%s): %v", i, b.Chain[i].Subject, i+1, b.Chain[i+1].Subject, err)
		}
	}
}
