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

// certGraph answers "did parent issue child?" for the certificates of one file in time linear
// in their number. Key identifiers decide when both certificates carry them; otherwise the
// signature does, verified at most once per pair and at most maxSignatureChecks times in all
// (after that an unverified pair counts as not issued). Candidates come from indexes by name and
// key identifier, so certificates that share one name cost no more than distinct ones. Not
// safe for concurrent use.
type certGraph struct {
	certs  []*x509.Certificate
	self   []bool // self-signed, computed once
	checks int
	memo   map[[2]int]bool
	// Parents by subject and subject key identifier ("" when absent), in file order.
	byKey map[string][]int
	// Parents by subject that need a signature to decide: all of them for a child without
	// an authority key identifier, those without a subject key identifier otherwise.
	bySubject, bySubjectNoSKI map[string][]int
	// Non-self-signed children by issuer and authority key identifier, and by issuer among
	// those a parent can only confirm by signature.
	childrenByKey                   map[string]int // count
	childrenByIssuer, childrenNoAKI map[string][]int
	confirmed                       map[int][]int // parent → children whose signature verified
	cursor                          map[string]int
}

func nameKey(name, keyID []byte) string { return string(name) + "\x00" + string(keyID) }

func newCertGraph(certs []*x509.Certificate) *certGraph {
	g := &certGraph{certs: certs, self: make([]bool, len(certs)), memo: map[[2]int]bool{},
		byKey: map[string][]int{}, bySubject: map[string][]int{}, bySubjectNoSKI: map[string][]int{},
		childrenByKey: map[string]int{}, childrenByIssuer: map[string][]int{}, childrenNoAKI: map[string][]int{},
		confirmed: map[int][]int{}, cursor: map[string]int{}}
	for i, c := range certs {
		g.bySubject[string(c.RawSubject)] = append(g.bySubject[string(c.RawSubject)], i)
		if len(c.SubjectKeyId) > 0 {
			k := nameKey(c.RawSubject, c.SubjectKeyId)
			g.byKey[k] = append(g.byKey[k], i)
		} else {
			g.bySubjectNoSKI[string(c.RawSubject)] = append(g.bySubjectNoSKI[string(c.RawSubject)], i)
		}
	}
	for i := range certs {
		g.self[i] = g.issued(i, i)
	}
	for j, c := range certs {
		if g.self[j] {
			continue
		}
		if len(c.AuthorityKeyId) > 0 {
			g.childrenByKey[nameKey(c.RawIssuer, c.AuthorityKeyId)]++
		} else {
			g.childrenNoAKI[string(c.RawIssuer)] = append(g.childrenNoAKI[string(c.RawIssuer)], j)
		}
		g.childrenByIssuer[string(c.RawIssuer)] = append(g.childrenByIssuer[string(c.RawIssuer)], j)
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
	if v && child != parent {
		g.confirmed[parent] = append(g.confirmed[parent], child)
	}
	return v
}

func (g *certGraph) selfSigned(i int) bool { return g.self[i] }

// issuesOther reports whether certificate i issued another certificate of the file that is not
// self-signed: by key identifier (a count per name and identifier), or by a signature, tried
// only while the signature budget lasts.
func (g *certGraph) issuesOther(i int) bool {
	p := g.certs[i]
	if len(p.SubjectKeyId) > 0 {
		// i itself is never among them: with its own name and identifier it is self-signed.
		if g.childrenByKey[nameKey(p.RawSubject, p.SubjectKeyId)] > 0 {
			return true
		}
	}
	for _, j := range g.confirmed[i] {
		if j != i && !g.self[j] {
			return true
		}
	}
	candidates := g.childrenNoAKI[string(p.RawSubject)] // children that need a signature
	if len(p.SubjectKeyId) == 0 {
		candidates = g.childrenByIssuer[string(p.RawSubject)]
	}
	for _, j := range candidates {
		if g.checks >= maxSignatureChecks {
			break // only pairs already verified can still count, and they are in confirmed
		}
		if j != i && g.issued(j, i) {
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

// parentOf returns the first certificate in file order, not yet used, that issued cur; -1 when
// there is none. Parents decided by key identifier come from a cursor over their list (used
// ones are skipped once); parents that need a signature are tried while the budget lasts.
func (g *certGraph) parentOf(cur int, used []bool) int {
	c := g.certs[cur]
	best := -1
	var sigCandidates []int
	if len(c.AuthorityKeyId) > 0 {
		k := nameKey(c.RawIssuer, c.AuthorityKeyId)
		list := g.byKey[k]
		at := g.cursor[k]
		for at < len(list) && used[list[at]] {
			at++
		}
		g.cursor[k] = at
		if at < len(list) {
			best = list[at]
		}
		sigCandidates = g.bySubjectNoSKI[string(c.RawIssuer)]
	} else {
		sigCandidates = g.bySubject[string(c.RawIssuer)]
	}
	for _, p := range sigCandidates {
		if best >= 0 && p > best {
			break
		}
		if g.checks >= maxSignatureChecks {
			// Only verified pairs can still count.
			for _, q := range sigCandidates {
				if (best < 0 || q < best) && !used[q] && g.memo[[2]int{cur, q}] {
					best = q
					break
				}
			}
			break
		}
		if !used[p] && g.issued(cur, p) {
			best = p
			break
		}
	}
	return best
}

// chain orders leaf's issuers (leaf→root) among the file's certificates and returns the others,
// in file order, as extra.
func (g *certGraph) chain(leaf int) (chain, extra []*x509.Certificate) {
	used := make([]bool, len(g.certs))
	used[leaf] = true
	chain = []*x509.Certificate{g.certs[leaf]}
	for cur := leaf; len(chain) < len(g.certs) && !g.self[cur]; {
		next := g.parentOf(cur, used)
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
