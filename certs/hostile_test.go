package certs_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/tenantapps/tenantapps/certs"
)

// The hostile corpus: files built to cost a reader as much CPU and memory as possible, generated
// here (not committed) so that every shape is documented by its code. Each has the verdict it
// must get; BenchmarkHostile measures what each costs. The shapes follow the security review of
// issue #16: many encrypted items at high iteration counts, a PBMAC1 MAC with a huge iteration
// count, certificates that share one name and sign each other in a cycle, huge RSA keys in
// certificates, keys and the upload sniffer, a megabyte of empty PEM blocks, deep BER nesting.

type hostileFile struct {
	name     string
	data     []byte
	password string
	want     certs.Code // Inspect's error code; "" when the file opens (then wantProblem)
	// wantProblem is a Validate code the opened bundle must report.
	wantProblem certs.Code
	// cer is true for a .cer/.crt file, read with ParseCertificates instead of Inspect.
	cer bool
}

var (
	hostileOnce  sync.Once
	hostileFiles [2][]hostileFile
)

// hostileCorpus returns the corpus at full scale (for BenchmarkHostile, read with the default
// budget) or with the iteration counts of the files at the edge of the budget divided by
// testScale (for TestHostileCorpus, read with a budget divided alike: the same code paths at a
// tenth of the CPU).
func hostileCorpus(tb testing.TB, scaled bool) []hostileFile {
	tb.Helper()
	hostileOnce.Do(func() { hostileFiles = [2][]hostileFile{buildHostileCorpus(1), buildHostileCorpus(testScale)} })
	if scaled {
		return hostileFiles[1]
	}
	return hostileFiles[0]
}

const testScale = 10

// DER building blocks.

var (
	oidData          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidEncryptedData = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 6}
	oidKeyBag        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 1}
	oidShroudedBag   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 2}
	oidCertBag       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 3}
	oidX509Cert      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 22, 1}
	oidPBES2         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidPBMAC1        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 14}
	oidHMACSHA256    = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
	oidHMACSHA512    = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 11}
	oidAES256CBC     = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
	oidPBE3DES       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 3}
	oidSHA1          = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidRSA           = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidSHA256RSA     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
)

type builder = cryptobyte.Builder

func der(f func(b *builder)) []byte {
	var b builder
	f(&b)
	return b.BytesOrPanic()
}

func seqOf(parts ...[]byte) []byte {
	return der(func(b *builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *builder) {
			for _, p := range parts {
				b.AddBytes(p)
			}
		})
	})
}

func oidDER(o asn1.ObjectIdentifier) []byte {
	return der(func(b *builder) { b.AddASN1ObjectIdentifier(o) })
}
func intDER(v int64) []byte  { return der(func(b *builder) { b.AddASN1Int64(v) }) }
func octets(v []byte) []byte { return der(func(b *builder) { b.AddASN1OctetString(v) }) }
func explicit0(inner []byte) []byte {
	return der(func(b *builder) {
		b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *builder) { b.AddBytes(inner) })
	})
}
func implicit0(v []byte) []byte {
	return der(func(b *builder) { b.AddASN1(cbasn1.Tag(0).ContextSpecific(), func(b *builder) { b.AddBytes(v) }) })
}
func bigIntDER(v *big.Int) []byte { return der(func(b *builder) { b.AddASN1BigInt(v) }) }

// pfxFile is PFX { 3, ContentInfo(data, AuthenticatedSafe(items)), macData? }.
func pfxFile(items [][]byte, macData []byte) []byte {
	authSafe := seqOf(oidDER(oidData), explicit0(octets(seqOf(items...))))
	if macData == nil {
		return seqOf(intDER(3), authSafe)
	}
	return seqOf(intDER(3), authSafe, macData)
}

func dataItem(bags ...[]byte) []byte {
	return seqOf(oidDER(oidData), explicit0(octets(seqOf(bags...))))
}

func encryptedItem(alg, ct []byte) []byte {
	return seqOf(oidDER(oidEncryptedData), explicit0(seqOf(intDER(0), seqOf(oidDER(oidData), alg, implicit0(ct)))))
}

func pbes2(iter int64) []byte {
	kdf := seqOf(oidDER(oidPBKDF2), seqOf(octets(make([]byte, 8)), intDER(iter), seqOf(oidDER(oidHMACSHA256))))
	return seqOf(oidDER(oidPBES2), seqOf(kdf, seqOf(oidDER(oidAES256CBC), octets(make([]byte, 16)))))
}

func pbes1(iter int64) []byte {
	return seqOf(oidDER(oidPBE3DES), seqOf(octets(make([]byte, 8)), intDER(iter)))
}

func shroudedBag(alg []byte) []byte {
	return seqOf(oidDER(oidShroudedBag), explicit0(seqOf(alg, octets(make([]byte, 32)))))
}

func certBag(certDER []byte) []byte {
	return seqOf(oidDER(oidCertBag), explicit0(seqOf(oidDER(oidX509Cert), explicit0(octets(certDER)))))
}

func keyBag(pkcs8 []byte) []byte { return seqOf(oidDER(oidKeyBag), explicit0(pkcs8)) }

func sha1MAC(iter int64) []byte {
	return seqOf(seqOf(seqOf(oidDER(oidSHA1), der(func(b *builder) { b.AddASN1NULL() })), octets(make([]byte, 20))), octets(make([]byte, 8)), intDER(iter))
}

func pbmac1(iter int64) []byte {
	kdf := seqOf(oidDER(oidPBKDF2), seqOf(octets(make([]byte, 16)), intDER(iter), intDER(64), seqOf(oidDER(oidHMACSHA512))))
	alg := seqOf(oidDER(oidPBMAC1), seqOf(kdf, seqOf(oidDER(oidHMACSHA512))))
	return seqOf(seqOf(alg, octets(make([]byte, 64))), octets(make([]byte, 8)), intDER(1))
}

// hugeRSAInts returns a modulus of bits bits and the exponent 2^31-1, as the review used.
func hugeRSAInts(bits int) (n *big.Int, e int64) {
	n = new(big.Int).Lsh(big.NewInt(1), uint(bits-1))
	n.Add(n, big.NewInt(12345))
	return n, 1<<31 - 1
}

// hugeRSACertificate is a certificate whose RSA key has bits bits. Its signature is filler: the
// cost the review found was in verifying signatures with such keys.
func hugeRSACertificate(bits int, name string) []byte {
	n, e := hugeRSAInts(bits)
	spki := seqOf(seqOf(oidDER(oidRSA), der(func(b *builder) { b.AddASN1NULL() })),
		der(func(b *builder) {
			b.AddASN1BitString(seqOf(bigIntDER(n), intDER(e)))
		}))
	rdn := func() []byte {
		return seqOf(der(func(b *builder) {
			b.AddASN1(cbasn1.SET, func(b *builder) {
				b.AddBytes(seqOf(oidDER(asn1.ObjectIdentifier{2, 5, 4, 3}), der(func(b *builder) {
					b.AddASN1(cbasn1.UTF8String, func(b *builder) { b.AddBytes([]byte(name)) })
				})))
			})
		}))
	}
	validity := seqOf(der(func(b *builder) { b.AddASN1UTCTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) }),
		der(func(b *builder) { b.AddASN1UTCTime(time.Date(2036, 1, 1, 0, 0, 0, 0, time.UTC)) }))
	alg := seqOf(oidDER(oidSHA256RSA), der(func(b *builder) { b.AddASN1NULL() }))
	tbs := seqOf(explicit0(intDER(2)), intDER(7), alg, rdn(), validity, rdn(), spki)
	sig := der(func(b *builder) { b.AddASN1BitString(bytes.Repeat([]byte{0x5a}, bits/8)) })
	return seqOf(tbs, alg, sig)
}

// hugePKCS1 is an RSAPrivateKey of bits bits whose numbers are filler, as an attacker would
// write it: crypto/x509 would validate it with arithmetic proportional to its size.
func hugePKCS1(bits int) []byte {
	n, e := hugeRSAInts(bits)
	half := new(big.Int).Lsh(big.NewInt(1), uint(bits/2-1))
	return seqOf(intDER(0), bigIntDER(n), intDER(e), bigIntDER(n), bigIntDER(half), bigIntDER(half), bigIntDER(half), bigIntDER(half), bigIntDER(half))
}

func pkcs8Of(pkcs1 []byte) []byte {
	return seqOf(intDER(0), seqOf(oidDER(oidRSA), der(func(b *builder) { b.AddASN1NULL() })), octets(pkcs1))
}

// nameCycle makes n certificates that share one subject and issuer name, carry no key
// identifiers, and each sign the next one in a cycle, plus a key that matches none of them:
// the worst case for finding the leaf and the chain.
func nameCycle(n int) (certDERs [][]byte, strangerPKCS8 []byte) {
	keys := make([]*ecdsa.PrivateKey, n)
	for i := range keys {
		keys[i], _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	name := pkix.Name{CommonName: "Same Name"}
	for i := range n {
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(int64(i + 1)), Subject: name, NotBefore: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
			NotAfter: time.Date(2036, 1, 1, 0, 0, 0, 0, time.UTC), SubjectKeyId: []byte{}, AuthorityKeyId: nil}
		parent := &x509.Certificate{Subject: name, PublicKey: keys[(i+1)%n].Public()}
		c, err := x509.CreateCertificate(rand.Reader, tmpl, parent, keys[i].Public(), keys[(i+1)%n])
		if err != nil {
			panic(err)
		}
		certDERs = append(certDERs, c)
	}
	stranger, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	strangerPKCS8, _ = x509.MarshalPKCS8PrivateKey(stranger)
	return certDERs, strangerPKCS8
}

func buildHostileCorpus(scale int64) []hostileFile {
	var fs []hostileFile
	add := func(f hostileFile) { fs = append(fs, f) }

	// 1. Key-derivation work.
	add(hostileFile{name: "one-item-10M-iterations", data: pfxFile([][]byte{encryptedItem(pbes2(10_000_000), make([]byte, 32))}, nil), password: "s3cret-pw", want: certs.CodeWorkLimit})
	add(hostileFile{name: "one-item-over-iteration-cap", data: pfxFile([][]byte{encryptedItem(pbes2(1<<31-1), make([]byte, 32))}, nil), password: "s3cret-pw", want: certs.CodeUnsupportedFormat})
	var items [][]byte
	for range 16 {
		items = append(items, encryptedItem(pbes1(1_000_000), make([]byte, 32)))
	}
	add(hostileFile{name: "16-items-1M-iterations-3DES", data: pfxFile(items, nil), password: "pä€w", want: certs.CodeWorkLimit})
	items = nil
	for range 6000 {
		items = append(items, encryptedItem(pbes2(2048), make([]byte, 32)))
	}
	add(hostileFile{name: "6000-items-2048-iterations", data: pfxFile(items, nil), password: "s3cret-pw", want: certs.CodeTooManyParts})
	var bags [][]byte
	for range 500 {
		bags = append(bags, shroudedBag(pbes2(100_000)))
	}
	add(hostileFile{name: "500-keys-100k-iterations", data: pfxFile([][]byte{dataItem(bags...)}, nil), password: "s3cret-pw", want: certs.CodeTooManyParts})
	// Keys hidden in an encrypted item are priced only once it is decrypted: this item decrypts
	// with the password "s3cret-pw" (built with the real cipher below), then holds 500 costly keys.
	add(hostileFile{name: "hidden-keys-behind-encrypted-item", data: pfxFile([][]byte{encryptedItemWith("s3cret-pw", seqOf(bags...))}, nil), password: "s3cret-pw", want: certs.CodeWorkLimit})
	// Just under the budget: 4 items (MaxKeys), each with a key of 950,000 PBKDF2 iterations
	// (1,900,000 units) that fails to decrypt (the reader tries every item, so that a damaged
	// file can still prove the password right): the most work a file can make Inspect do; it
	// ends as wrong_password.
	items = nil
	for range 4 {
		items = append(items, dataItem(shroudedBag(pbes2(950_000/scale))))
	}
	add(hostileFile{name: "just-under-budget-4-keys", data: pfxFile(items, nil), password: "s3cret-pw", want: certs.CodeWrongPassword})
	add(hostileFile{name: "pbmac1-10M-iterations", data: pfxFile([][]byte{dataItem()}, pbmac1(10_000_000)), password: "s3cret-pw", want: certs.CodeWorkLimit})
	add(hostileFile{name: "pbmac1-1M-iterations-sha512", data: pfxFile([][]byte{dataItem()}, pbmac1(1_000_000/scale)), password: "s3cret-pw", want: certs.CodeWrongPassword})
	add(hostileFile{name: "mac-10M-then-items", data: pfxFile([][]byte{encryptedItem(pbes1(2048), make([]byte, 32)), encryptedItem(pbes1(2048), make([]byte, 32))}, sha1MAC(10_000_000)), password: "pä€w", want: certs.CodeWorkLimit})
	// A key in the clear part first and no MAC (the shape go-pkcs12 reads with an empty
	// password) at the most go-pkcs12 may be given; then internal/pfx has too little left.
	add(hostileFile{name: "keyfirst-3DES-key-880k-iterations-go-pkcs12", data: pfxFile([][]byte{dataItem(shroudedBag(pbes1(880_000 / scale)))}, nil), password: "", want: certs.CodeWorkLimit})
	// The same shape just under the budget for internal/pfx (too costly for go-pkcs12).
	add(hostileFile{name: "keyfirst-3DES-key-2.6M-iterations", data: pfxFile([][]byte{dataItem(shroudedBag(pbes1(2_600_000 / scale)))}, sha1MAC(1)), password: "s3cret-pw", want: certs.CodeWrongPassword})

	// 2. Certificates sharing one name, no key identifiers, signing each other in a cycle.
	cycle, stranger := nameCycle(64)
	bags = [][]byte{keyBag(stranger)}
	for _, c := range cycle {
		bags = append(bags, certBag(c))
	}
	add(hostileFile{name: "name-cycle-64-certificates", data: pfxFile([][]byte{dataItem(bags...)}, nil), wantProblem: certs.CodeKeyMismatch})
	cycle400, _ := nameCycle(400)
	bags = [][]byte{keyBag(stranger)}
	for _, c := range cycle400 {
		bags = append(bags, certBag(c))
	}
	add(hostileFile{name: "name-cycle-400-certificates", data: pfxFile([][]byte{dataItem(bags...)}, nil), want: certs.CodeTooManyParts})
	var cyclePEM []byte
	for _, c := range cycle {
		cyclePEM = append(cyclePEM, "-----BEGIN CERTIFICATE-----\n"+base64.StdEncoding.EncodeToString(c)+"\n-----END CERTIFICATE-----\n"...)
	}
	add(hostileFile{name: "name-cycle-64.crt", data: cyclePEM, cer: true})

	// A long password (64 KB, what the CLI reads from stdin at most) and 500 keys it decrypts:
	// every derivation hashes the password, whatever its iteration count.
	long := strings.Repeat("p", 64<<10)
	bags = nil
	for range 500 / scale {
		bags = append(bags, seqOf(oidDER(oidShroudedBag), explicit0(seqOf(pbes2(1), octets(aesCBCWithPBKDF2Iter(long, 1, stranger))))))
	}
	add(hostileFile{name: "64KB-password-500-keys", data: pfxFile([][]byte{dataItem(bags...)}, nil), password: long, want: certs.CodeTooManyParts})

	// 3. Huge RSA public keys.
	huge := hugeRSACertificate(524_288, "Huge")
	add(hostileFile{name: "rsa-524288-bit-certificate-in-pfx", data: pfxFile([][]byte{dataItem(keyBag(stranger), certBag(huge), certBag(hugeRSACertificate(524_288, "Huge2")))}, nil), want: certs.CodeKeyTooLarge})
	// At the size limit, sharing one name, without key identifiers: every pair needs a
	// signature check with a 16,384-bit key and the exponent 2^31-1.
	bags = [][]byte{keyBag(stranger)}
	for range 64 / scale {
		bags = append(bags, certBag(hugeRSACertificate(16384, "Huge")))
	}
	add(hostileFile{name: "rsa-16384-bit-64-certificates-one-name", data: pfxFile([][]byte{dataItem(bags...)}, nil), wantProblem: certs.CodeKeyMismatch})
	add(hostileFile{name: "rsa-4160000-bit.cer", data: hugeRSACertificate(4_160_000, "Huger"), cer: true, want: certs.CodeKeyTooLarge})
	add(hostileFile{name: "rsa-4160000-bit-renamed.pfx", data: hugeRSACertificate(4_160_000, "Huger"), want: certs.CodeUnsupportedFormat})

	// 4. Huge fake PKCS#1 private keys: the sniffer, PEM, and inside a .pfx.
	fake := hugePKCS1(1_048_576)
	add(hostileFile{name: "pkcs1-1048576-bit-fake.der", data: fake, want: certs.CodeUnsupportedFormat})
	add(hostileFile{name: "pkcs1-1048576-bit-fake-base64", data: []byte(base64.StdEncoding.EncodeToString(hugePKCS1(524_288))), want: certs.CodeUnsupportedFormat})
	add(hostileFile{name: "pkcs8-262144-bit-fake-in-pfx", data: pfxFile([][]byte{dataItem(keyBag(pkcs8Of(hugePKCS1(262_144))), certBag(cycle[0]))}, nil), want: certs.CodeKeyTooLarge})

	// 5. PEM: a megabyte of empty blocks, of BEGIN lines without END, of CRLF.
	empty := bytes.Repeat([]byte("-----BEGIN X-----\n-----END X-----\n"), 30_840)
	add(hostileFile{name: "pem-30840-empty-blocks", data: empty, want: certs.CodeTooManyParts})
	add(hostileFile{name: "pem-30840-empty-blocks.crt", data: empty, cer: true, want: certs.CodeTooManyParts})
	add(hostileFile{name: "pem-begin-without-end", data: bytes.Repeat([]byte("-----BEGIN CERTIFICATE-----\r\n"), 35_000), want: certs.CodeCorrupt})
	add(hostileFile{name: "pem-begin-without-end.crt", data: bytes.Repeat([]byte("-----BEGIN CERTIFICATE-----\r\n"), 35_000), cer: true, want: certs.CodeCorrupt})

	// 6. BER: deep nesting and many indefinite-length elements.
	deep := append(bytes.Repeat([]byte{0x30, 0x80}, 500_000), bytes.Repeat([]byte{0, 0}, 2)...)
	add(hostileFile{name: "ber-500000-deep", data: deep[:1<<20], want: certs.CodeCorrupt})
	wide := []byte{0x30, 0x80, 0x02, 0x01, 0x03, 0x30, 0x80}
	wide = append(wide, bytes.Repeat([]byte{0x04, 0x80, 0x04, 0x00, 0x00, 0x00}, 170_000)...)
	wide = append(wide, 0, 0, 0, 0)
	add(hostileFile{name: "ber-170000-indefinite-strings", data: wide, want: certs.CodeCorrupt})

	// 7. Counts: bags, keys.
	bags = nil
	for range 9 {
		bags = append(bags, keyBag(stranger))
	}
	add(hostileFile{name: "9-plain-keys", data: pfxFile([][]byte{dataItem(bags...)}, nil), want: certs.CodeTooManyParts})
	bags = nil
	for range 5000 {
		bags = append(bags, certBag([]byte{0x30, 0x00}))
	}
	add(hostileFile{name: "5000-bags", data: pfxFile([][]byte{dataItem(bags...)}, nil), want: certs.CodeTooManyParts})
	add(hostileFile{name: "empty-pfx-container", data: pfxFile([][]byte{dataItem()}, nil), want: certs.CodeEmptyFile})
	return fs
}

// encryptedItemWith encrypts plain as a PBES2 (PBKDF2-HMAC-SHA256 2048, AES-256-CBC) item.
func encryptedItemWith(password string, plain []byte) []byte {
	return encryptedItem(pbes2(2048), aesCBCWithPBKDF2(password, plain))
}

// verdictOf opens f as the CLI does and returns its code: the Inspect (or ParseCertificates)
// error's, else "" and the Validate codes.
func verdictOf(ctx context.Context, in certs.Inspector, f hostileFile) (certs.Code, []certs.Code, error) {
	if f.cer {
		_, err := certs.ParseCertificatesContext(ctx, f.data)
		return codeOf(err), nil, err
	}
	b, err := in.InspectContext(ctx, f.data, f.password)
	if err != nil {
		return codeOf(err), nil, err
	}
	var problems []certs.Code
	for _, p := range certs.Validate(b, certs.Options{Now: func() time.Time { return corpusNow }}) {
		problems = append(problems, p.Code)
	}
	return "", problems, nil
}

func codeOf(err error) certs.Code {
	var ce *certs.Error
	if errors.As(err, &ce) {
		return ce.Code
	}
	if err != nil {
		return "not *certs.Error"
	}
	return ""
}

// TestHostileCorpus: every hostile file gets its typed verdict, with a message that says what to
// do and never the password.
func TestHostileCorpus(t *testing.T) {
	in := certs.Inspector{MaxWork: certs.DefaultMaxWork / testScale}
	for _, f := range hostileCorpus(t, true) {
		t.Run(f.name, func(t *testing.T) {
			code, problems, err := verdictOf(context.Background(), in, f)
			if code != f.want {
				t.Fatalf("code = %q, want %q (%v)", code, f.want, err)
			}
			if f.wantProblem != "" && !containsCode(problems, f.wantProblem) {
				t.Errorf("Validate = %v, want %s among them", problems, f.wantProblem)
			}
			if err != nil && f.password != "" && strings.Contains(err.Error(), f.password) {
				t.Errorf("the message contains the password: %v", err)
			}
			if err != nil && len(err.Error()) < 40 {
				t.Errorf("the message %q is too short to say what to do", err)
			}
		})
	}
}

func containsCode(cs []certs.Code, c certs.Code) bool {
	for _, x := range cs {
		if x == c {
			return true
		}
	}
	return false
}

// TestInspectStopsWhenTheContextEnds: a cancelled context stops Inspect before the next key
// derivation, with a canceled error that also matches context.Canceled.
func TestInspectStopsWhenTheContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, name := range []string{"iter-1000000.pfx", "nss-pk12util.pfx", "keytool-default.pfx", "leaf-chain.crt"} {
		data := readCorpus(t, name)
		var err error
		if strings.HasSuffix(name, ".crt") {
			_, err = certs.ParseCertificatesContext(ctx, data)
		} else {
			_, err = certs.InspectContext(ctx, data, "Pa55-word")
		}
		if !errors.Is(err, certs.ErrCanceled) || !errors.Is(err, context.Canceled) {
			t.Errorf("%s: err = %v, want canceled matching context.Canceled", name, err)
		}
	}
	// A deadline that passes during the work: the answer is canceled, not a verdict on the file.
	ctx, cancel = context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	<-ctx.Done()
	if _, err := certs.InspectContext(ctx, readCorpus(t, "iter-100000.pfx"), "Pa55-word"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("expired deadline: err = %v, want DeadlineExceeded", err)
	}
}

// BenchmarkHostile measures each hostile file as `tenantapps cert inspect` reads it (Inspect or
// ParseCertificates, then Validate), reporting the process CPU time per file (cpu-ms/op, from
// getrusage) next to the wall time. BENCHMARKS.md records the numbers.
func BenchmarkHostile(b *testing.B) {
	for _, f := range hostileCorpus(b, false) {
		b.Run(f.name, func(b *testing.B) {
			b.ReportAllocs()
			start := cpuTime()
			for b.Loop() {
				if code, _, _ := verdictOf(context.Background(), certs.Inspector{}, f); code != f.want {
					b.Fatalf("code = %q, want %q", code, f.want)
				}
			}
			b.ReportMetric(float64((cpuTime()-start).Microseconds())/1000/float64(b.N), "cpu-ms/op")
		})
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func aesCBCWithPBKDF2(password string, plain []byte) []byte {
	return aesCBCWithPBKDF2Iter(password, 2048, plain)
}

func aesCBCWithPBKDF2Iter(password string, iter int, plain []byte) []byte {
	key, err := pbkdf2.Key(sha256.New, password, make([]byte, 8), iter, 32)
	if err != nil {
		panic(err)
	}
	blk, _ := aes.NewCipher(key)
	pad := 16 - len(plain)%16
	plain = append(append([]byte{}, plain...), bytes.Repeat([]byte{byte(pad)}, pad)...)
	out := make([]byte, len(plain))
	cipher.NewCBCEncrypter(blk, make([]byte, 16)).CryptBlocks(out, plain)
	return out
}

// countdownCtx is a context whose Err turns to context.Canceled after n calls: a request that
// ends in the middle of the work, deterministically.
type countdownCtx struct {
	context.Context
	n int
}

func (c *countdownCtx) Err() error {
	if c.n--; c.n < 0 {
		return context.Canceled
	}
	return nil
}

// TestInspectStopsBetweenDerivations: a context that ends while a file is being read stops the
// work before the next key derivation; the answer is canceled, not a verdict on the file.
func TestInspectStopsBetweenDerivations(t *testing.T) {
	for _, name := range []string{"nss-pk12util.pfx", "keytool-default.pfx", "openssl3-default-chain.pfx"} {
		for n := range 3 { // go-pkcs12's read is checked before and after (it is bounded in advance)
			ctx := &countdownCtx{Context: context.Background(), n: n}
			_, err := certs.InspectContext(ctx, readCorpus(t, name), "Pa55-word")
			if !errors.Is(err, certs.ErrCanceled) || !errors.Is(err, context.Canceled) {
				t.Errorf("%s, canceled after %d checks: err = %v, want canceled", name, n, err)
			}
		}
	}
}

// TestWriteHostileCorpus writes the full-scale hostile corpus to the directory named by
// TENANTAPPS_HOSTILE_DIR, with index.txt (file, kind, expected code, quoted password), to measure `tenantapps cert
// inspect` on it (BENCHMARKS.md); skipped when the variable is unset.
func TestWriteHostileCorpus(t *testing.T) {
	dir := os.Getenv("TENANTAPPS_HOSTILE_DIR")
	if dir == "" {
		t.Skip("TENANTAPPS_HOSTILE_DIR is not set")
	}
	var index strings.Builder
	for _, f := range hostileCorpus(t, false) {
		name := f.name
		if !strings.Contains(name, ".") {
			name += ".pfx"
		}
		if err := os.WriteFile(filepath.Join(dir, name), f.data, 0o600); err != nil {
			t.Fatal(err)
		}
		kind := "pfx"
		if f.cer {
			kind = "cert"
		}
		fmt.Fprintf(&index, "%s %s %s %q\n", name, kind, f.want, f.password)
	}
	if err := os.WriteFile(filepath.Join(dir, "index.txt"), []byte(index.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}
