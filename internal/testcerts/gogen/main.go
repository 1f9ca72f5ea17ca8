// Command gogen writes the Go-encoded part of the PKCS#12 test corpus (see ../gen.sh, which runs
// it): one file per go-pkcs12 encoder, and two files that are wrong on purpose — a file whose first
// certificate is not the key's (go-pkcs12 DecodeChain then calls the wrong certificate the leaf) and
// a file whose key belongs to no certificate in it.
package main

import (
	"crypto"
	"crypto/sha1"
	"crypto/x509"
	"encoding/pem"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	pkcs12 "software.sslmate.com/src/go-pkcs12"
)

func main() {
	out := flag.String("out", "", "corpus directory")
	leafPath := flag.String("leaf", "", "leaf certificate (PEM)")
	keyPath := flag.String("key", "", "leaf private key (PEM, PKCS#8)")
	chainPath := flag.String("chain", "", "intermediate + root (PEM)")
	otherKeyPath := flag.String("otherkey", "", "a key that does not belong to the leaf (PEM, PKCS#8)")
	flag.Parse()

	leaf := readCerts(*leafPath)[0]
	chain := readCerts(*chainPath)
	key := readKey(*keyPath)
	other := readKey(*otherKeyPath)
	const pw = "Pa55-word"

	write := func(name, pwID string, data []byte, err error) {
		if err != nil {
			log.Fatalf("%s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(*out, name), data, 0o644); err != nil {
			log.Fatal(err)
		}
		f, err := os.OpenFile(filepath.Join(*out, "manifest.txt"), os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
		if err != nil {
			log.Fatal(err)
		}
		defer f.Close()
		fmt.Fprintf(f, "%s %s %X\n", name, pwID, sha1.Sum(leaf.Raw))
	}
	for _, e := range []struct {
		name string
		enc  *pkcs12.Encoder
	}{
		{"go-legacyrc2.pfx", pkcs12.LegacyRC2},
		{"go-legacydes.pfx", pkcs12.LegacyDES},
		{"go-modern2023.pfx", pkcs12.Modern2023},
		{"go-modern2026-pbmac1.pfx", pkcs12.Modern2026},
	} {
		data, err := e.enc.Encode(key, leaf, chain, pw)
		write(e.name, "std", data, err)
	}
	data, err := pkcs12.Passwordless.Encode(key, leaf, chain, "")
	write("go-passwordless.pfx", "empty", data, err)
	// First certificate bag is the intermediate CA, the leaf comes second.
	data, err = pkcs12.Modern2023.Encode(key, chain[0], []*x509.Certificate{leaf, chain[1]}, pw)
	write("go-first-cert-not-leaf.pfx", "std", data, err)
	data, err = pkcs12.Modern2023.Encode(other, leaf, chain, pw)
	write("go-key-mismatch.pfx", "std", data, err)
}

func readCerts(path string) []*x509.Certificate {
	b, err := os.ReadFile(path)
	if err != nil {
		log.Fatal(err)
	}
	var certs []*x509.Certificate
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			log.Fatal(err)
		}
		certs = append(certs, c)
	}
	return certs
}

func readKey(path string) crypto.PrivateKey {
	b, err := os.ReadFile(path)
	if err != nil {
		log.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil || !strings.Contains(blk.Type, "PRIVATE KEY") {
		log.Fatalf("%s: no PEM private key", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		log.Fatal(err)
	}
	return k
}
