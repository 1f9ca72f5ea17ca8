// Package pfx decodes PKCS#12 (.pfx/.p12) files as real tools write them, for package certs.
//
// It exists because go-pkcs12 v0.7.4 (which certs uses to write files, and to read the files it
// can; see certs' package comment for the split) refuses files that customers really have: BER encoding (NSS pk12util, certtool), SHA-224/384 MACs,
// PBES2 with 3DES, passwords outside UCS-2, more than two authenticated-safe items (certtool),
// more than one key (Java key stores with two aliases), certificate-only files, and it takes the
// first certificate as the leaf. Decode returns every key and certificate with their attributes
// and leaves the judgement (which certificate is the leaf, does the key match) to certs.
//
// Scan reads the unencrypted structure without deriving any key and prices what it sees (Plan),
// so that package certs can decide who reads the file and refuse at once what costs too much.
// Decode charges every key derivation against Limits.MaxWork before it runs and checks its
// context between derivations; structural caps (MaxItems, MaxBags) bound the rest.
//
// Decode tells a wrong password from a damaged file: the MAC decides when there is one; when the
// MAC fails but the password still decrypts the contents into valid structures, the file was
// damaged; when there is no MAC, a failed decryption is reported as a wrong password with a
// message that says the two cannot be told apart. The password never appears in an error.
package pfx

import (
	"context"
	"encoding/asn1"
	"errors"
	"fmt"
	"unicode/utf16"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/tenantapps/tenantapps/certs/internal/ber"
)

// Kind classifies a decoding failure.
type Kind int

const (
	KindCorrupt       Kind = iota + 1 // damaged or not a PKCS#12 file
	KindWrongPassword                 // the password does not open the file
	KindUnsupported                   // a valid file using a feature this package cannot read
	KindWorkLimit                     // opening the file would exceed Limits.MaxWork
	KindTooMany                       // more parts (items, bags) than Limits allow
	KindCanceled                      // the context ended; Unwrap gives its error
)

// Error is the only error type Decode returns.
type Error struct {
	Kind    Kind
	Message string // never contains the password
	Feature string // for KindUnsupported: the feature, for example "MAC digest 1.2.3"
	cause   error  // for KindCanceled: the context's error
}

func (e *Error) Error() string { return e.Message }

// Unwrap gives the context's error of a KindCanceled error, so that errors.Is(err,
// context.Canceled) holds.
func (e *Error) Unwrap() error { return e.cause }

func corrupt(msg string) *Error { return &Error{Kind: KindCorrupt, Message: msg} }

func unsupported(feature, msg string) *Error {
	if msg == "" {
		msg = "the file uses " + feature + ", which this reader does not support"
	}
	return &Error{Kind: KindUnsupported, Feature: feature, Message: msg}
}

// Limits bounds the work Decode does on untrusted input.
type Limits struct {
	// MaxIterations caps every KDF iteration count (MAC and encryption). Zero means
	// DefaultMaxIterations.
	MaxIterations int
	// MaxWork caps the sum of all key derivations of one Decode, in work units (see
	// DefaultMaxWork): the MAC, every encrypted item and key, every password encoding tried.
	// Zero means DefaultMaxWork.
	MaxWork int64
	// MaxKeys stops decoding with KindTooMany at the first key beyond it, before that key is
	// decrypted; zero means no limit.
	MaxKeys int
	// MACTried tells Decode that the caller already checked the MAC with the password's
	// standard encodings and it failed (go-pkcs12 does: the BMPString, and for the empty
	// password also the empty string; for PBMAC1 the UTF-8 form), so that Decode does not
	// derive those again; it still tries OpenSSL 1.0's byte-wise form of a non-ASCII password.
	MACTried bool
}

// Structural caps, far above real files (OpenSSL and Windows write 2 authenticated-safe items,
// certtool 3; a chain has a handful of certificates, a Java trust store a few hundred).
const (
	MaxItems = 16  // authenticated-safe items (ContentInfos)
	MaxBags  = 512 // safe bags in the whole file, nested ones included
)

// DefaultMaxIterations is far above what any tool writes (OpenSSL 2048, keytool 10000-100000,
// NSS and certtool 600000) and keeps one decode of a hostile file to a few seconds.
const DefaultMaxIterations = 10_000_000

func (l Limits) checkIterations(n int, purpose string) error {
	max := l.MaxIterations
	if max <= 0 {
		max = DefaultMaxIterations
	}
	if n < 1 {
		return corrupt(fmt.Sprintf("the %s iteration count %d is not positive", purpose, n))
	}
	if n > max {
		return unsupported(fmt.Sprintf("%s iteration count %d", purpose, n),
			fmt.Sprintf("the %s iteration count %d exceeds the limit of %d; re-export the file with a lower count (openssl pkcs12 -export -iter 100000)", purpose, n, max))
	}
	return nil
}

// Bag is one key or certificate with its PKCS#12 attributes.
type Bag struct {
	DER          []byte // PKCS#8 PrivateKeyInfo for keys, X.509 certificate for certificates
	LocalKeyID   []byte
	FriendlyName string
}

// Info describes how the file was written, for diagnostics.
type Info struct {
	BER           bool     // the file (or part of it) used BER rather than DER
	MAC           string   // for example "HMAC-SHA-256" or "PBMAC1 (PBKDF2-HMAC-SHA256, HMAC-SHA256)"; "" when absent
	MACIterations int      // 0 when there is no MAC
	Encryption    []string // distinct schemes used for keys and certificate bags, in file order
	Iterations    int      // highest encryption iteration count
	SkippedBags   []string // bags ignored because they are neither keys nor X.509 certificates
	Work          int64    // key-derivation work Decode spent, in work units (see DefaultMaxWork)
}

// Result is what a PKCS#12 file holds.
type Result struct {
	Keys  []Bag
	Certs []Bag
	Info  Info
}

var (
	oidData          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidSignedData    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidEnvelopedData = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 3}
	oidEncryptedData = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 6}
	oidKeyBag        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 1}
	oidShroudedBag   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 2}
	oidCertBag       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 3}
	oidCRLBag        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 4}
	oidSecretBag     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 5}
	oidSafeContents  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 6}
	oidX509Cert      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 22, 1}
	oidFriendlyName  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 20}
	oidLocalKeyID    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 21}
)

// errDecrypt marks a decryption that produced no valid plaintext with any password candidate.
var errDecrypt = errors.New("pfx: decryption failed")

const maxBagDepth = 8

type decoder struct {
	lim    Limits
	work   *meter
	bags   int  // safe bags seen, against MaxBags
	scan   bool // Scan: walk the structure, derive nothing
	sawKey bool // Scan: the first key bag has been seen
	plan   Plan
	bmp    [][]byte // BMPString password candidates, most likely first
	raw    []byte   // UTF-8 password for PBES2 / PBMAC1
	info   Info
	res    Result
	anyDec bool // some encrypted content was decrypted successfully
	// macVerified is true once the MAC proved the password; until then a plaintext that does not
	// parse is blamed on the password candidate, not on the file.
	macVerified bool
}

// Decode reads a PKCS#12 file (DER or BER) with password. It returns *Error on failure.
//
// Every key derivation (MAC, encrypted items, shrouded keys, each password encoding tried) is
// charged against lim.MaxWork before it runs, and ctx is checked before each derivation and
// every safe bag: a file that needs more work gets KindWorkLimit, a cancelled ctx KindCanceled
// (wrapping ctx.Err()). When the MAC already proved the password wrong, the decryptions that only
// tell a damaged file from a wrong password stop at the budget and the answer is the wrong
// password. Safe for concurrent use; it never panics on any input.
func Decode(ctx context.Context, data []byte, password string, lim Limits) (*Result, error) {
	d := &decoder{lim: lim, work: newMeter(ctx, lim.MaxWork), bmp: passwordCandidates(password), raw: []byte(password)}
	content, mac, err := d.open(data)
	if err != nil {
		return nil, err
	}
	macVerified := false
	if mac != nil {
		if mac.usesBMP {
			for i, c := range d.bmp {
				if d.lim.MACTried && (i == 0 || password == "") {
					continue // the standard encodings failed already
				}
				if err := d.work.charge(mac.attemptCost(len(c), len(content)), "the MAC"); err != nil {
					return nil, err
				}
				if mac.verify(c, content) {
					d.bmp = [][]byte{d.bmp[i]} // the MAC fixes the password encoding
					macVerified = true
					d.macVerified = true
					break
				}
			}
		} else if !d.lim.MACTried {
			if err := d.work.charge(mac.attemptCost(len(d.raw), len(content)), "the MAC"); err != nil {
				return nil, err
			}
			macVerified = mac.verify(d.raw, content)
			d.macVerified = macVerified
		}
	}

	err = d.authenticatedSafe(content)
	var ke *Error
	switch {
	case macVerified && err != nil && errors.Is(err, errDecrypt):
		return nil, corrupt("the password is right (the file's integrity check passes) but part of the file cannot be decrypted; the file is damaged, export it again")
	case macVerified && err != nil:
		return nil, err
	case macVerified:
		return d.result(), nil
	case mac != nil && errors.As(err, &ke) && ke.Kind == KindWorkLimit:
		// The MAC already failed; telling damage from a wrong password is not worth more work.
		return nil, &Error{Kind: KindWrongPassword, Message: "the password is wrong (the file's integrity check does not match it), or the file was modified after export"}
	case errors.As(err, &ke) && ke.Kind == KindCanceled:
		return nil, err
	case mac != nil && err == nil && d.anyDec:
		return nil, corrupt("the password decrypts the file but its integrity check (MAC) fails: the file was modified or damaged after export; export it again")
	case mac != nil && err == nil:
		return nil, &Error{Kind: KindWrongPassword, Message: "the password is wrong (the file's integrity check does not match it), or the file was modified after export"}
	case mac != nil && errors.Is(err, errDecrypt):
		return nil, &Error{Kind: KindWrongPassword, Message: "the password is wrong: the file's integrity check does not match it"}
	case mac != nil:
		// An unencrypted part of the file does not parse (failures inside decrypted parts were
		// blamed on the password above): no password explains that, the file is damaged.
		if errors.As(err, &ke) && (ke.Kind == KindUnsupported || ke.Kind == KindTooMany) {
			return nil, err
		}
		return nil, corrupt("the file is damaged: its integrity check fails and part of its structure does not parse; export it again")
	case errors.Is(err, errDecrypt):
		return nil, &Error{Kind: KindWrongPassword, Message: "the password does not decrypt the file; note the file has no integrity check (MAC), so a wrong password and a damaged file look the same"}
	case err != nil:
		return nil, err
	}
	return d.result(), nil
}

// Plan is what Scan learns about a file without deriving any key: the cost of every derivation
// visible in its unencrypted structure. Costs are in work units (see DefaultMaxWork).
type Plan struct {
	Info      Info
	Items     int   // authenticated-safe items
	Encrypted int   // encrypted items among them
	MACCost   int64 // one MAC verification with one password encoding; 0 without a MAC
	HasMAC    bool
	ItemsCost int64 // one decryption of every encrypted item
	// KeyFirst is true when the first key bag in file order lies in an unencrypted item that no
	// encrypted item precedes, so nothing hidden inside an encrypted item comes before it.
	KeyFirst bool
	// KeyCost is the cost of decrypting that first key (0 for a plain key bag);
	// KeyCiphertext the length of its encrypted form.
	KeyCost       int64
	KeyCiphertext int
	// KeysCost is the cost of decrypting every encrypted key of the unencrypted items once.
	KeysCost int64
	// Keys and Certs are the bags of the unencrypted items (a shrouded key's DER is nil).
	Keys  []Bag
	Certs []Bag
}

// Scan walks the unencrypted structure of a PKCS#12 file and reports its Plan. It derives no
// key and verifies nothing; it enforces the structural caps and lim.MaxIterations, and returns
// the *Error Decode would for a malformed or unsupported outer structure.
func Scan(data []byte, lim Limits) (*Plan, error) {
	d := &decoder{lim: lim, work: newMeter(nil, lim.MaxWork), scan: true}
	content, mac, err := d.open(data)
	if err != nil {
		return nil, err
	}
	if mac != nil {
		d.plan.HasMAC, d.plan.MACCost = true, mac.cost
	}
	if err := d.authenticatedSafe(content); err != nil {
		return nil, err
	}
	d.plan.Info = d.info
	d.plan.Keys, d.plan.Certs = d.res.Keys, d.res.Certs
	return &d.plan, nil
}

// open parses the PFX envelope and the MAC parameters and returns the authenticated safe's
// content.
func (d *decoder) open(data []byte) ([]byte, *macSpec, error) {
	der, binfo, err := ber.ToDER(data)
	if err != nil {
		if errors.Is(err, ber.ErrTruncated) {
			return nil, nil, corrupt("the file is truncated (it ends in the middle of its structure); upload the complete .pfx again")
		}
		return nil, nil, corrupt("the file is not a PKCS#12 (.pfx) structure: " + err.Error())
	}
	d.info.BER = binfo.Changed

	s := cryptobyte.String(der)
	var pfx, authSafe cryptobyte.String
	var version int
	if !s.ReadASN1(&pfx, cbasn1.SEQUENCE) || !pfx.ReadASN1Integer(&version) || !pfx.ReadASN1(&authSafe, cbasn1.SEQUENCE) {
		return nil, nil, corrupt("the file is not a PKCS#12 (.pfx) structure")
	}
	if version != 3 {
		return nil, nil, unsupported(fmt.Sprintf("PKCS#12 version %d", version), fmt.Sprintf("the file declares PKCS#12 version %d; only version 3 exists in practice, so the file is probably not a .pfx", version))
	}
	var ctype asn1.ObjectIdentifier
	if !authSafe.ReadASN1ObjectIdentifier(&ctype) {
		return nil, nil, corrupt("the PKCS#12 content type is malformed")
	}
	if ctype.Equal(oidSignedData) {
		return nil, nil, unsupported("public-key integrity mode (signedData)", "the file is protected with a certificate (public-key integrity mode), not a password; re-export it with a password (Windows: Export-PfxCertificate -Password; OpenSSL: openssl pkcs12 -export)")
	}
	if !ctype.Equal(oidData) {
		return nil, nil, unsupported("PKCS#12 content type "+ctype.String(), "")
	}
	content, err := explicitOctets(authSafe)
	if err != nil {
		return nil, nil, err
	}
	var mac *macSpec
	if !pfx.Empty() {
		mac, err = parseMAC(pfx, d.lim)
		if err != nil {
			return nil, nil, err
		}
		d.info.MAC, d.info.MACIterations = mac.name, mac.iterations
	}
	return content, mac, nil
}

func (d *decoder) result() *Result {
	d.res.Info = d.info
	d.res.Info.Work = d.work.spent
	return &d.res
}

// explicitOctets reads `[0] EXPLICIT OCTET STRING` (the content of a data ContentInfo).
func explicitOctets(s cryptobyte.String) ([]byte, error) {
	var wrapped cryptobyte.String
	if !s.ReadASN1(&wrapped, cbasn1.Tag(0).ContextSpecific().Constructed()) {
		return nil, corrupt("a PKCS#7 data item has no content")
	}
	var elem cryptobyte.String
	var tag cbasn1.Tag
	if !wrapped.ReadAnyASN1Element(&elem, &tag) || tag != cbasn1.OCTET_STRING {
		return nil, corrupt("a PKCS#7 data item does not hold an OCTET STRING")
	}
	v, err := ber.Flatten(elem)
	if err != nil {
		return nil, corrupt("a PKCS#7 data item is malformed")
	}
	return v, nil
}

func (d *decoder) authenticatedSafe(content []byte) error {
	der, info, err := ber.ToDER(content)
	if err != nil {
		return corrupt("the authenticated safe is malformed")
	}
	d.info.BER = d.info.BER || info.Changed
	s := cryptobyte.String(der)
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !s.Empty() {
		return corrupt("the authenticated safe is malformed")
	}
	var firstErr error
	for !seq.Empty() {
		if d.plan.Items++; d.plan.Items > MaxItems {
			return tooMany(fmt.Sprintf("the file has more than %d parts (authenticated-safe items); real tools write two or three", MaxItems))
		}
		if err := d.work.alive(); err != nil {
			return err
		}
		var ci cryptobyte.String
		var ctype asn1.ObjectIdentifier
		if !seq.ReadASN1(&ci, cbasn1.SEQUENCE) || !ci.ReadASN1ObjectIdentifier(&ctype) {
			return corrupt("an authenticated safe item is malformed")
		}
		var err error
		switch {
		case ctype.Equal(oidData):
			var v []byte
			if v, err = explicitOctets(ci); err == nil {
				err = d.safeContents(v, 0)
			}
		case ctype.Equal(oidEncryptedData):
			err = d.encryptedData(ci)
		case ctype.Equal(oidEnvelopedData):
			err = unsupported("public-key privacy mode (envelopedData)", "part of the file is encrypted to a certificate (public-key privacy mode), not with a password; re-export it with password encryption (openssl pkcs12 -export)")
		default:
			err = unsupported("PKCS#7 content type "+ctype.String(), "")
		}
		if err != nil {
			// Keep going after a failed decryption so a damaged file can still prove the
			// password right through another part; any other error stops at once.
			if !errors.Is(err, errDecrypt) {
				return err
			}
			if firstErr == nil {
				firstErr = err
			}
		}
	}
	return firstErr
}

// encryptedData reads EncryptedData { version, EncryptedContentInfo { contentType, alg, [0] IMPLICIT OCTET STRING } }.
func (d *decoder) encryptedData(ci cryptobyte.String) error {
	var wrapped, ed, eci cryptobyte.String
	var version int
	var ctype asn1.ObjectIdentifier
	if !ci.ReadASN1(&wrapped, cbasn1.Tag(0).ContextSpecific().Constructed()) ||
		!wrapped.ReadASN1(&ed, cbasn1.SEQUENCE) || !ed.ReadASN1Integer(&version) ||
		!ed.ReadASN1(&eci, cbasn1.SEQUENCE) || !eci.ReadASN1ObjectIdentifier(&ctype) {
		return corrupt("an encrypted part of the file is malformed")
	}
	alg, ok := readAlgorithm(&eci)
	if !ok {
		return corrupt("an encrypted part of the file has a malformed algorithm")
	}
	var elem cryptobyte.String
	var tag cbasn1.Tag
	if !eci.ReadAnyASN1Element(&elem, &tag) || (tag != cbasn1.Tag(0).ContextSpecific() && tag != cbasn1.Tag(0).ContextSpecific().Constructed()) {
		return corrupt("an encrypted part of the file has no content")
	}
	ct, err := ber.Flatten(elem)
	if err != nil {
		return corrupt("an encrypted part of the file is malformed")
	}
	spec, err := parseCipher(alg, d.lim)
	if err != nil {
		return err
	}
	d.plan.Encrypted++
	if d.scan {
		d.noteCipher(spec)
		d.plan.ItemsCost += spec.cost
		return nil
	}
	return d.decrypt(spec, ct, func(plain []byte) error {
		// A wrong password yields garbage that fails here; a right one yields SafeContents.
		der, _, err := ber.ToDER(plain)
		if err != nil {
			return errDecrypt
		}
		s := cryptobyte.String(der)
		var seq cryptobyte.String
		if !s.ReadASN1(&seq, cbasn1.SEQUENCE) {
			return errDecrypt
		}
		return d.safeContents(plain, 0)
	})
}

// decrypt tries each password candidate until use accepts the plaintext. use returns errDecrypt
// to reject a plaintext (try the next candidate); any other error stops.
func (d *decoder) decrypt(spec *cipherSpec, ct []byte, use func(plain []byte) error) error {
	d.noteCipher(spec)
	cands := d.bmp
	if !spec.usesBMP {
		cands = [][]byte{d.raw}
	}
	for _, pw := range cands {
		if err := d.work.charge(spec.attemptCost(len(pw), len(ct)), spec.name+" decryption"); err != nil {
			return err
		}
		plain, err := spec.decrypt(pw, ct)
		if err != nil {
			continue
		}
		if err := use(plain); err != nil {
			var e *Error
			if errors.Is(err, errDecrypt) || (!d.macVerified && errors.As(err, &e) && e.Kind == KindCorrupt) {
				continue
			}
			return err
		}
		d.anyDec = true
		return nil
	}
	return errDecrypt
}

func (d *decoder) noteCipher(spec *cipherSpec) {
	if spec.iterations > d.info.Iterations {
		d.info.Iterations = spec.iterations
	}
	for _, n := range d.info.Encryption {
		if n == spec.name {
			return
		}
	}
	d.info.Encryption = append(d.info.Encryption, spec.name)
}

func (d *decoder) safeContents(b []byte, depth int) error {
	if depth > maxBagDepth {
		return corrupt("safe contents are nested too deeply")
	}
	der, info, err := ber.ToDER(b)
	if err != nil {
		return corrupt("the safe contents are malformed")
	}
	d.info.BER = d.info.BER || info.Changed
	s := cryptobyte.String(der)
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return corrupt("the safe contents are malformed")
	}
	if !d.scan {
		if err := d.priceKeys(seq); err != nil {
			return err
		}
	}
	for !seq.Empty() {
		if d.bags++; d.bags > MaxBags {
			return tooMany(fmt.Sprintf("the file holds more than %d items (keys, certificates and other bags); a .pfx for an app holds one key and its chain", MaxBags))
		}
		if err := d.work.alive(); err != nil {
			return err
		}
		var bag, value cryptobyte.String
		var bagID asn1.ObjectIdentifier
		if !seq.ReadASN1(&bag, cbasn1.SEQUENCE) || !bag.ReadASN1ObjectIdentifier(&bagID) ||
			!bag.ReadASN1(&value, cbasn1.Tag(0).ContextSpecific().Constructed()) {
			return corrupt("a safe bag is malformed")
		}
		localKeyID, friendlyName, err := readAttributes(bag)
		if err != nil {
			return err
		}
		switch {
		case bagID.Equal(oidKeyBag):
			var elem cryptobyte.String
			if !value.ReadASN1Element(&elem, cbasn1.SEQUENCE) {
				return corrupt("a key bag is malformed")
			}
			d.noteKey(0, 0)
			if err := d.keyRoom(); err != nil {
				return err
			}
			d.res.Keys = append(d.res.Keys, Bag{DER: []byte(elem), LocalKeyID: localKeyID, FriendlyName: friendlyName})
		case bagID.Equal(oidShroudedBag):
			var epki, ct cryptobyte.String
			if !value.ReadASN1(&epki, cbasn1.SEQUENCE) {
				return corrupt("an encrypted key bag is malformed")
			}
			alg, ok := readAlgorithm(&epki)
			if !ok || !epki.ReadASN1(&ct, cbasn1.OCTET_STRING) {
				return corrupt("an encrypted key bag is malformed")
			}
			spec, err := parseCipher(alg, d.lim)
			if err != nil {
				return err
			}
			if err := d.keyRoom(); err != nil {
				return err
			}
			if d.scan {
				d.noteCipher(spec)
				d.plan.KeysCost += spec.cost
				d.noteKey(spec.cost, len(ct))
				d.res.Keys = append(d.res.Keys, Bag{LocalKeyID: localKeyID, FriendlyName: friendlyName})
				continue
			}
			err = d.decrypt(spec, ct, func(plain []byte) error {
				der, _, err := ber.ToDER(plain)
				if err != nil {
					return errDecrypt
				}
				// PrivateKeyInfo: SEQUENCE { INTEGER version, AlgorithmIdentifier, OCTET STRING, ... }
				ks := cryptobyte.String(der)
				var pki cryptobyte.String
				var v int
				if !ks.ReadASN1(&pki, cbasn1.SEQUENCE) || !pki.ReadASN1Integer(&v) || !pki.PeekASN1Tag(cbasn1.SEQUENCE) {
					return errDecrypt
				}
				d.res.Keys = append(d.res.Keys, Bag{DER: der, LocalKeyID: localKeyID, FriendlyName: friendlyName})
				return nil
			})
			if err != nil {
				return err
			}
		case bagID.Equal(oidCertBag):
			var cb, certValue cryptobyte.String
			var certID asn1.ObjectIdentifier
			if !value.ReadASN1(&cb, cbasn1.SEQUENCE) || !cb.ReadASN1ObjectIdentifier(&certID) ||
				!cb.ReadASN1(&certValue, cbasn1.Tag(0).ContextSpecific().Constructed()) {
				return corrupt("a certificate bag is malformed")
			}
			if !certID.Equal(oidX509Cert) {
				d.info.SkippedBags = append(d.info.SkippedBags, "certificate of type "+certID.String())
				continue
			}
			var elem cryptobyte.String
			var tag cbasn1.Tag
			if !certValue.ReadAnyASN1Element(&elem, &tag) || tag != cbasn1.OCTET_STRING {
				return corrupt("a certificate bag is malformed")
			}
			certDER, err := ber.Flatten(elem)
			if err != nil {
				return corrupt("a certificate bag is malformed")
			}
			d.res.Certs = append(d.res.Certs, Bag{DER: certDER, LocalKeyID: localKeyID, FriendlyName: friendlyName})
		case bagID.Equal(oidSafeContents):
			var inner cryptobyte.String
			if !value.ReadASN1Element(&inner, cbasn1.SEQUENCE) {
				return corrupt("a nested safe contents bag is malformed")
			}
			if err := d.safeContents(inner, depth+1); err != nil {
				return err
			}
		case bagID.Equal(oidCRLBag):
			d.info.SkippedBags = append(d.info.SkippedBags, "CRL")
		case bagID.Equal(oidSecretBag):
			d.info.SkippedBags = append(d.info.SkippedBags, "secret")
		default:
			d.info.SkippedBags = append(d.info.SkippedBags, "bag of type "+bagID.String())
		}
	}
	return nil
}

// priceKeys refuses a SafeContents whose encrypted keys, each decrypted once, would exceed what
// is left of the budget, before the first of them is derived.
func (d *decoder) priceKeys(seq cryptobyte.String) error {
	var total int64
	for n := 0; !seq.Empty() && n <= MaxBags; n++ {
		var bag, value, epki cryptobyte.String
		var bagID asn1.ObjectIdentifier
		if !seq.ReadASN1(&bag, cbasn1.SEQUENCE) || !bag.ReadASN1ObjectIdentifier(&bagID) ||
			!bag.ReadASN1(&value, cbasn1.Tag(0).ContextSpecific().Constructed()) {
			return nil // the main loop reports it
		}
		if !bagID.Equal(oidShroudedBag) || !value.ReadASN1(&epki, cbasn1.SEQUENCE) {
			continue
		}
		if alg, ok := readAlgorithm(&epki); ok {
			if spec, err := parseCipher(alg, d.lim); err == nil {
				total += spec.cost
			}
		}
	}
	return d.work.fits(total, "decrypting the file's keys")
}

// noteKey records, while scanning, the first key bag in file order.
func (d *decoder) noteKey(cost int64, ciphertext int) {
	if !d.scan || d.sawKey {
		return
	}
	d.sawKey = true
	d.plan.KeyFirst = d.plan.Encrypted == 0
	d.plan.KeyCost, d.plan.KeyCiphertext = cost, ciphertext
}

// keyRoom refuses a key bag beyond Limits.MaxKeys.
func (d *decoder) keyRoom() error {
	if d.lim.MaxKeys > 0 && len(d.res.Keys) >= d.lim.MaxKeys {
		return &Error{Kind: KindTooMany, Feature: "private keys", Message: fmt.Sprintf("the file holds more than %d private keys; export only the app's certificate and its key", d.lim.MaxKeys)}
	}
	return nil
}

func tooMany(msg string) *Error {
	return &Error{Kind: KindTooMany, Feature: "too many parts", Message: msg + "; export only the app's certificate, its chain and its key"}
}

// readAttributes reads the optional SET OF Attribute after a bag value.
func readAttributes(s cryptobyte.String) (localKeyID []byte, friendlyName string, err error) {
	if s.Empty() {
		return nil, "", nil
	}
	var set cryptobyte.String
	if !s.ReadASN1(&set, cbasn1.SET) {
		return nil, "", corrupt("bag attributes are malformed")
	}
	for !set.Empty() {
		var attr, values cryptobyte.String
		var oid asn1.ObjectIdentifier
		if !set.ReadASN1(&attr, cbasn1.SEQUENCE) || !attr.ReadASN1ObjectIdentifier(&oid) || !attr.ReadASN1(&values, cbasn1.SET) {
			return nil, "", corrupt("a bag attribute is malformed")
		}
		switch {
		case oid.Equal(oidLocalKeyID):
			var v cryptobyte.String
			if values.ReadASN1(&v, cbasn1.OCTET_STRING) {
				localKeyID = []byte(v)
			}
		case oid.Equal(oidFriendlyName):
			var v cryptobyte.String
			if values.ReadASN1(&v, cbasn1.Tag(30)) { // BMPString
				friendlyName = decodeBMP(v)
			}
		}
	}
	return localKeyID, friendlyName, nil
}

func decodeBMP(b []byte) string {
	units := make([]uint16, 0, len(b)/2)
	for k := 0; k+1 < len(b); k += 2 {
		units = append(units, uint16(b[k])<<8|uint16(b[k+1]))
	}
	for len(units) > 0 && units[len(units)-1] == 0 {
		units = units[:len(units)-1]
	}
	return string(utf16.Decode(units))
}
