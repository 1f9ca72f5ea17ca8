package certs_test

import (
	"bytes"
	cryptorsa "crypto/rsa"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	pkcs12 "software.sslmate.com/src/go-pkcs12"

	"github.com/tenantapps/tenantapps/certs"
)

// A Bundle printed, logged or marshalled never shows the private key.
func TestBundleNeverPrintsTheKey(t *testing.T) {
	b, err := certs.Inspect(readCorpus(t, "openssl3-rsa2048.pfx"), "Pa55-word")
	if err != nil {
		t.Fatal(err)
	}
	d := b.PrivateKey.(*cryptorsa.PrivateKey).D.String()
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("inspected", "bundle", b)
	j, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]string{
		"%v": fmt.Sprintf("%v", b), "%+v": fmt.Sprintf("%+v", b), "%#v": fmt.Sprintf("%#v", b),
		"slog": logged.String(), "json": string(j),
	} {
		if strings.Contains(s, d[:20]) {
			t.Errorf("%s output contains the private exponent", name)
		}
		if !strings.Contains(s, b.SHA1Thumbprint) && name != "json" {
			t.Errorf("%s output lacks the thumbprint: %s", name, s)
		}
	}
}

// TestReadsWhatGoPKCS12Refuses documents, file by file, why certs has its own decoder: go-pkcs12
// v0.7.4 refuses (or misreads) these real-tool files, certs reads them right. The go-pkcs12
// outcome is only logged, so an upgrade that fixes it does not break this test.
func TestReadsWhatGoPKCS12Refuses(t *testing.T) {
	m := manifest(t)
	for _, name := range []string{
		"nss-pk12util.pfx", "nss-pk12util-legacy.pfx", "mac-sha384.pfx", "mac-sha224.pfx", "pbes2-3des.pfx",
		"password-emoji.pfx", "password-emoji-legacy.pfx", "certtool-default-chain.pfx", "nomac-encrypted.pfx",
		"keytool-two-keys.pfx", "certs-only.pfx", "go-first-cert-not-leaf.pfx", "base64-text.pfx",
	} {
		data := readCorpus(t, name)
		pw := corpusPasswords[m[name][0]]
		_, leaf, _, gerr := pkcs12.DecodeChain(data, pw)
		b, err := certs.Inspect(data, pw)
		if err != nil {
			t.Errorf("%s: certs.Inspect: %v", name, err)
			continue
		}
		switch {
		case gerr != nil:
			t.Logf("%-28s go-pkcs12: %v", name, gerr)
		case !leaf.Equal(b.Leaf):
			t.Logf("%-28s go-pkcs12 takes %s as the leaf; certs takes %s", name, leaf.Subject, b.Leaf.Subject)
		default:
			t.Logf("%-28s go-pkcs12 reads it too", name)
		}
	}
}
