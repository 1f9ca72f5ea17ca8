package certs

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
)

// maxSignatureChecks bounds the signature verifications one file may cause while the leaf and
// the chain are found. A real chain needs a few (most certificates carry key identifiers, which
// decide without a signature); certificates that share one name, carry no key identifiers and
// sign each other in a cycle would otherwise need one per pair.
const maxSignatureChecks = 16

// certGraph answers "did parent issue child?" for the certificates of one file with bounded
// work: candidates come from indexes by name, key identifiers decide when both are present, each
// pair's signature is verified at most once, and at most maxSignatureChecks times in all (after
// that an unverified pair counts as not issued). Not safe for concurrent use.
type certGraph struct {
	certs     []*x509.Certificate
	bySubject map[string][]int // RawSubject → indexes, in file order
	byIssuer  map[string][]int // RawIssuer → indexes, in file order
	memo      map[[2]int]bool
	checks    int
}

func newCertGraph(certs []*x509.Certificate) *certGraph {
	g := &certGraph{certs: certs, bySubject: map[string][]int{}, byIssuer: map[string][]int{}, memo: map[[2]int]bool{}}
	for i, c := range certs {
		g.bySubject[string(c.RawSubject)] = append(g.bySubject[string(c.RawSubject)], i)
		g.byIssuer[string(c.RawIssuer)] = append(g.byIssuer[string(c.RawIssuer)], i)
	}
	return g
}

// issued reports whether parent issued child: names match, key identifiers (when both are
// present) match, and otherwise the signature verifies. A SHA-1 or MD5 signature, which Go
// refuses to verify, counts on names alone; Validate flags it as weak_signature.
func (g *certGraph) issued(child, parent int) bool {
	c, p := g.certs[child], g.certs[parent]
	if !bytes.Equal(c.RawIssuer, p.RawSubject) {
		return false
	}
	if len(c.AuthorityKeyId) > 0 && len(p.SubjectKeyId) > 0 {
		return bytes.Equal(c.AuthorityKeyId, p.SubjectKeyId)
	}
	k := [2]int{child, parent}
	if v, ok := g.memo[k]; ok {
		return v
	}
	if g.checks >= maxSignatureChecks {
		return false
	}
	g.checks++
	err := p.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature)
	var insecure x509.InsecureAlgorithmError
	v := err == nil || errors.As(err, &insecure)
	g.memo[k] = v
	return v
}

func (g *certGraph) selfSigned(i int) bool { return g.issued(i, i) }

// issuesOther reports whether certificate i issued another certificate of the file that is not
// self-signed.
func (g *certGraph) issuesOther(i int) bool {
	for _, j := range g.byIssuer[string(g.certs[i].RawSubject)] {
		if j != i && !g.selfSigned(j) && g.issued(j, i) {
			return true
		}
	}
	return false
}

// endEntity picks the certificate that issued none of the others and is not a CA; failing that,
// the first one that issued none; failing that, the first one.
func (g *certGraph) endEntity(ctx context.Context) (int, error) {
	for i, c := range g.certs {
		if err := canceled(ctx); err != nil {
			return 0, err
		}
		if !c.IsCA && !g.issuesOther(i) {
			return i, nil
		}
	}
	for i := range g.certs {
		if !g.issuesOther(i) {
			return i, nil
		}
	}
	return 0, nil
}

// chain orders leaf's issuers (leaf→root) among the file's certificates and returns the others,
// in file order, as extra.
func (g *certGraph) chain(leaf int) (chain, extra []*x509.Certificate) {
	used := make([]bool, len(g.certs))
	used[leaf] = true
	chain = []*x509.Certificate{g.certs[leaf]}
	for cur := leaf; len(chain) < len(g.certs) && !g.selfSigned(cur); {
		next := -1
		for _, j := range g.bySubject[string(g.certs[cur].RawIssuer)] {
			if !used[j] && g.issued(cur, j) {
				next = j
				break
			}
		}
		if next < 0 {
			break
		}
		used[next] = true
		cur = next
		chain = append(chain, g.certs[cur])
	}
	for i, c := range g.certs {
		if !used[i] {
			extra = append(extra, c)
		}
	}
	return chain, extra
}
