package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestCertGraphBySignature: certificates without key identifiers are chained by their
// signatures, whatever the file order, and a certificate that only shares its issuer's name
// stays out of the chain.
func TestCertGraphBySignature(t *testing.T) {
	mk := func(cn string, serial int64, parent *x509.Certificate, parentKey, key *ecdsa.PrivateKey) *x509.Certificate {
		t.Helper()
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
		if parent == nil {
			parent, parentKey = tmpl, key
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), parentKey)
		if err != nil {
			t.Fatal(err)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.SubjectKeyId)+len(c.AuthorityKeyId) != 0 {
			t.Fatal("the test needs certificates without key identifiers")
		}
		return c
	}
	key := func() *ecdsa.PrivateKey { k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader); return k }
	rootKey, interKey, decoyKey, leafKey := key(), key(), key(), key()
	root := mk("Root", 1, nil, nil, rootKey)
	inter := mk("Inter", 2, root, rootKey, interKey)
	decoy := mk("Inter", 3, root, rootKey, decoyKey) // same name as Inter, another key
	leaf := mk("Leaf", 4, inter, interKey, leafKey)

	g := newCertGraph([]*x509.Certificate{decoy, leaf, root, inter})
	chain, extra := g.chain(1)
	names := func(cs []*x509.Certificate) (out []int64) {
		for _, c := range cs {
			out = append(out, c.SerialNumber.Int64())
		}
		return out
	}
	if diff := cmp.Diff([]int64{4, 2, 1}, names(chain)); diff != "" {
		t.Errorf("chain serials (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int64{3}, names(extra)); diff != "" {
		t.Errorf("extra serials (-want +got):\n%s", diff)
	}
	if !g.selfSigned(2) || g.selfSigned(1) {
		t.Errorf("selfSigned: root %v, leaf %v", g.selfSigned(2), g.selfSigned(1))
	}
	// The decoy issued nothing; Inter issued the leaf; Root issued both Inter certificates.
	got := []bool{g.issuesOther(0), g.issuesOther(1), g.issuesOther(2), g.issuesOther(3)}
	if diff := cmp.Diff([]bool{false, false, true, true}, got); diff != "" {
		t.Errorf("issuesOther (-want +got):\n%s", diff)
	}
	if g.checks > maxSignatureChecks {
		t.Errorf("%d signature checks", g.checks)
	}
}
