package pfx

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/hmac"
	"crypto/md5"
	"crypto/pbkdf2"
	"crypto/rc4"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/asn1"
	"errors"
	"fmt"
	"hash"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/tenantapps/tenantapps/certs/internal/rc2"
)

var (
	oidPBEWithSHAAnd128BitRC4      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 1}
	oidPBEWithSHAAnd40BitRC4       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 2}
	oidPBEWithSHAAnd3KeyTripleDES  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 3}
	oidPBEWithSHAAnd2KeyTripleDES  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 4}
	oidPBEWithSHAAnd128BitRC2CBC   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 5}
	oidPBEWithSHAAnd40BitRC2CBC    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 6}
	oidPBES2                       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2                      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidPBMAC1                      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 14}
	oidHMACWithSHA1                = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 7}
	oidHMACWithSHA224              = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 8}
	oidHMACWithSHA256              = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
	oidHMACWithSHA384              = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 10}
	oidHMACWithSHA512              = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 11}
	oidAES128CBC                   = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}
	oidAES192CBC                   = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 22}
	oidAES256CBC                   = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
	oidDESEDE3CBC                  = asn1.ObjectIdentifier{1, 2, 840, 113549, 3, 7}
	oidDESCBC                      = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 7}
	oidMD5                         = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 5}
	oidSHA1                        = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidSHA256                      = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384                      = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512                      = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
	oidSHA224                      = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 4}
	oidSHA512_224                  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 5}
	oidSHA512_256                  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 6}
	oidPBEWithMD5AndDESCBC         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 3}
	oidPBEWithSHA1AndDESCBC        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 10}
	oidPBEWithMD5AndRC2CBC         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 6}
	oidPBEWithSHA1AndRC2CBC        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 11}
	oidRC2CBC                      = asn1.ObjectIdentifier{1, 2, 840, 113549, 3, 2}
	oidGOST                        = asn1.ObjectIdentifier{1, 2, 643}
	errBadPadding                  = errors.New("bad padding")
	errWrongPasswordOrDamagedBlock = errors.New("decryption produced no valid plaintext")
)

type digest struct {
	name string
	new  func() hash.Hash
}

// macDigests are the digests of the PKCS#12 (RFC 7292) MAC. go-pkcs12 v0.7.4 knows SHA-1,
// SHA-256 and SHA-512; OpenSSL -macalg and certtool --hash also write the others.
var macDigests = []struct {
	oid asn1.ObjectIdentifier
	digest
}{
	{oidSHA1, digest{"SHA-1", sha1.New}},
	{oidSHA224, digest{"SHA-224", sha256.New224}},
	{oidSHA256, digest{"SHA-256", sha256.New}},
	{oidSHA384, digest{"SHA-384", sha512.New384}},
	{oidSHA512, digest{"SHA-512", sha512.New}},
	{oidSHA512_224, digest{"SHA-512/224", sha512.New512_224}},
	{oidSHA512_256, digest{"SHA-512/256", sha512.New512_256}},
	{oidMD5, digest{"MD5", md5.New}},
}

var hmacPRFs = []struct {
	oid asn1.ObjectIdentifier
	digest
}{
	{oidHMACWithSHA1, digest{"HMAC-SHA1", sha1.New}},
	{oidHMACWithSHA224, digest{"HMAC-SHA224", sha256.New224}},
	{oidHMACWithSHA256, digest{"HMAC-SHA256", sha256.New}},
	{oidHMACWithSHA384, digest{"HMAC-SHA384", sha512.New384}},
	{oidHMACWithSHA512, digest{"HMAC-SHA512", sha512.New}},
}

func lookupPRF(oid asn1.ObjectIdentifier) (digest, bool) {
	for _, p := range hmacPRFs {
		if p.oid.Equal(oid) {
			return p.digest, true
		}
	}
	return digest{}, false
}

// algorithm is a parsed AlgorithmIdentifier: the OID and the DER of its parameters (may be empty).
type algorithm struct {
	oid    asn1.ObjectIdentifier
	params cryptobyte.String
}

func readAlgorithm(s *cryptobyte.String) (algorithm, bool) {
	var seq cryptobyte.String
	var a algorithm
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !seq.ReadASN1ObjectIdentifier(&a.oid) {
		return a, false
	}
	a.params = seq // the rest: parameters element, possibly absent
	return a, true
}

// cipherSpec is a password-based encryption scheme parsed from its AlgorithmIdentifier, ready
// to decrypt with a password.
type cipherSpec struct {
	name       string
	iterations int
	// usesBMP is true for PKCS#12 PBES1 schemes, whose KDF takes the BMPString password; PBES2
	// takes the password's UTF-8 bytes.
	usesBMP bool
	// cost is the iteration work of one decryption attempt (one password encoding), in work
	// units; attemptCost adds what depends on the input sizes.
	cost    int64
	saltLen int
	blocks  int64 // KDF output blocks of one attempt
	decrypt func(password, ciphertext []byte) ([]byte, error)
}

// parseCipher turns an encryption AlgorithmIdentifier into a cipherSpec. Unknown or unsupported
// algorithms give an *Error of KindUnsupported that names the algorithm.
func parseCipher(a algorithm, lim Limits) (*cipherSpec, error) {
	switch {
	case a.oid.Equal(oidPBEWithSHAAnd3KeyTripleDES), a.oid.Equal(oidPBEWithSHAAnd2KeyTripleDES),
		a.oid.Equal(oidPBEWithSHAAnd128BitRC2CBC), a.oid.Equal(oidPBEWithSHAAnd40BitRC2CBC),
		a.oid.Equal(oidPBEWithSHAAnd128BitRC4), a.oid.Equal(oidPBEWithSHAAnd40BitRC4):
		return parsePBES1(a, lim)
	case a.oid.Equal(oidPBES2):
		return parsePBES2(a, lim)
	case a.oid.Equal(oidPBEWithMD5AndDESCBC), a.oid.Equal(oidPBEWithSHA1AndDESCBC),
		a.oid.Equal(oidPBEWithMD5AndRC2CBC), a.oid.Equal(oidPBEWithSHA1AndRC2CBC):
		return nil, unsupported("PKCS#5 v1.5 single-DES/RC2 encryption ("+a.oid.String()+")", "")
	case len(a.oid) >= 3 && a.oid[:3].Equal(oidGOST):
		return nil, unsupported("GOST encryption ("+a.oid.String()+")", "")
	}
	return nil, unsupported("encryption algorithm "+a.oid.String(), "")
}

func parsePBES1(a algorithm, lim Limits) (*cipherSpec, error) {
	var params, salt cryptobyte.String
	var iter int
	if !a.params.ReadASN1(&params, cbasn1.SEQUENCE) || !params.ReadASN1(&salt, cbasn1.OCTET_STRING) {
		return nil, corrupt("the parameters of a PKCS#12 encryption algorithm are malformed")
	}
	if params.Empty() {
		iter = 1
	} else if !params.ReadASN1Integer(&iter) {
		return nil, corrupt("the iteration count of a PKCS#12 encryption algorithm is malformed")
	}
	if err := lim.checkIterations(iter, "encryption"); err != nil {
		return nil, err
	}
	var (
		name    string
		keyLen  int
		ivLen   int
		newBlk  func(key []byte) (cipher.Block, error)
		newStrm func(key []byte) (cipher.Stream, error)
	)
	switch {
	case a.oid.Equal(oidPBEWithSHAAnd3KeyTripleDES):
		name, keyLen, ivLen, newBlk = "pbeWithSHAAnd3-KeyTripleDES-CBC", 24, 8, des.NewTripleDESCipher
	case a.oid.Equal(oidPBEWithSHAAnd2KeyTripleDES):
		name, keyLen, ivLen = "pbeWithSHAAnd2-KeyTripleDES-CBC", 16, 8
		newBlk = func(k []byte) (cipher.Block, error) {
			return des.NewTripleDESCipher(append(append([]byte{}, k...), k[:8]...))
		}
	case a.oid.Equal(oidPBEWithSHAAnd128BitRC2CBC):
		name, keyLen, ivLen = "pbeWithSHAAnd128BitRC2-CBC", 16, 8
		newBlk = func(k []byte) (cipher.Block, error) { return rc2.New(k, 128) }
	case a.oid.Equal(oidPBEWithSHAAnd40BitRC2CBC):
		name, keyLen, ivLen = "pbeWithSHAAnd40BitRC2-CBC", 5, 8
		newBlk = func(k []byte) (cipher.Block, error) { return rc2.New(k, 40) }
	case a.oid.Equal(oidPBEWithSHAAnd128BitRC4):
		name, keyLen = "pbeWithSHAAnd128BitRC4", 16
		newStrm = func(k []byte) (cipher.Stream, error) { return rc4.NewCipher(k) }
	default: // oidPBEWithSHAAnd40BitRC4
		name, keyLen = "pbeWithSHAAnd40BitRC4", 5
		newStrm = func(k []byte) (cipher.Stream, error) { return rc4.NewCipher(k) }
	}
	saltBytes := []byte(salt)
	sha1Digest := digest{"SHA-1", sha1.New}
	cost := pkcs12KDFCost(sha1Digest, iter, keyLen)
	blocks := int64((keyLen + 19) / 20)
	if newStrm == nil {
		cost += pkcs12KDFCost(sha1Digest, iter, ivLen)
		blocks++
	}
	return &cipherSpec{
		name: name, iterations: iter, usesBMP: true, cost: cost, saltLen: len(salt), blocks: blocks,
		decrypt: func(password, ct []byte) ([]byte, error) {
			key := pkcs12KDF(sha1.New, password, saltBytes, iter, idKey, keyLen)
			if newStrm != nil {
				s, err := newStrm(key)
				if err != nil {
					return nil, err
				}
				out := make([]byte, len(ct))
				s.XORKeyStream(out, ct)
				return out, nil
			}
			iv := pkcs12KDF(sha1.New, password, saltBytes, iter, idIV, ivLen)
			blk, err := newBlk(key)
			if err != nil {
				return nil, err
			}
			return cbcDecrypt(blk, iv, ct)
		},
	}, nil
}

func parsePBES2(a algorithm, lim Limits) (*cipherSpec, error) {
	var params cryptobyte.String
	if !a.params.ReadASN1(&params, cbasn1.SEQUENCE) {
		return nil, corrupt("the PBES2 parameters are malformed")
	}
	kdfAlg, ok1 := readAlgorithm(&params)
	encAlg, ok2 := readAlgorithm(&params)
	if !ok1 || !ok2 {
		return nil, corrupt("the PBES2 parameters are malformed")
	}
	if !kdfAlg.oid.Equal(oidPBKDF2) {
		return nil, unsupported("PBES2 key derivation "+kdfAlg.oid.String()+" (only PBKDF2 is defined for PKCS#12)", "")
	}
	kdf, err := parsePBKDF2(kdfAlg.params, lim, "encryption")
	if err != nil {
		return nil, err
	}
	var (
		encName string
		keyLen  int
		blkSize = 16
		newBlk  func([]byte) (cipher.Block, error)
	)
	switch {
	case encAlg.oid.Equal(oidAES128CBC):
		encName, keyLen, newBlk = "AES-128-CBC", 16, aes.NewCipher
	case encAlg.oid.Equal(oidAES192CBC):
		encName, keyLen, newBlk = "AES-192-CBC", 24, aes.NewCipher
	case encAlg.oid.Equal(oidAES256CBC):
		encName, keyLen, newBlk = "AES-256-CBC", 32, aes.NewCipher
	case encAlg.oid.Equal(oidDESEDE3CBC):
		encName, keyLen, blkSize, newBlk = "DES-EDE3-CBC", 24, 8, des.NewTripleDESCipher
	case encAlg.oid.Equal(oidDESCBC):
		encName, keyLen, blkSize, newBlk = "DES-CBC", 8, 8, des.NewCipher
	case encAlg.oid.Equal(oidRC2CBC):
		return nil, unsupported("PBES2 with RC2-CBC", "")
	default:
		return nil, unsupported("PBES2 cipher "+encAlg.oid.String(), "")
	}
	var iv cryptobyte.String
	if !encAlg.params.ReadASN1(&iv, cbasn1.OCTET_STRING) {
		return nil, corrupt("the PBES2 " + encName + " parameters (IV) are malformed")
	}
	if len(iv) != blkSize {
		return nil, corrupt(fmt.Sprintf("the PBES2 %s IV is %d bytes, want %d", encName, len(iv), blkSize))
	}
	if kdf.keyLen != 0 && kdf.keyLen != keyLen {
		return nil, corrupt(fmt.Sprintf("PBKDF2 key length %d does not fit %s", kdf.keyLen, encName))
	}
	ivBytes := []byte(iv)
	return &cipherSpec{
		name:       fmt.Sprintf("PBES2 (PBKDF2-%s, %s)", kdf.prf.name, encName),
		iterations: kdf.iterations,
		cost:       pbkdf2Cost(kdf.prf, kdf.iterations, keyLen),
		saltLen:    len(kdf.salt),
		blocks:     int64((keyLen + kdf.prf.new().Size() - 1) / kdf.prf.new().Size()),
		decrypt: func(password, ct []byte) ([]byte, error) {
			key, err := pbkdf2.Key(kdf.prf.new, string(password), kdf.salt, kdf.iterations, keyLen)
			if err != nil {
				return nil, err
			}
			blk, err := newBlk(key)
			if err != nil {
				return nil, err
			}
			return cbcDecrypt(blk, ivBytes, ct)
		},
	}, nil
}

type pbkdf2Params struct {
	salt       []byte
	iterations int
	keyLen     int // 0 when absent
	prf        digest
}

func parsePBKDF2(s cryptobyte.String, lim Limits, purpose string) (*pbkdf2Params, error) {
	var params, salt cryptobyte.String
	p := &pbkdf2Params{prf: digest{"HMAC-SHA1", sha1.New}}
	if !s.ReadASN1(&params, cbasn1.SEQUENCE) {
		return nil, corrupt("the PBKDF2 parameters are malformed")
	}
	if !params.PeekASN1Tag(cbasn1.OCTET_STRING) {
		return nil, unsupported("PBKDF2 with a non-octet-string salt source", "")
	}
	if !params.ReadASN1(&salt, cbasn1.OCTET_STRING) || !params.ReadASN1Integer(&p.iterations) {
		return nil, corrupt("the PBKDF2 parameters are malformed")
	}
	p.salt = []byte(salt)
	if params.PeekASN1Tag(cbasn1.INTEGER) {
		if !params.ReadASN1Integer(&p.keyLen) || p.keyLen < 1 || p.keyLen > 64 {
			return nil, corrupt("the PBKDF2 key length is malformed or out of range")
		}
	}
	if !params.Empty() {
		prfAlg, ok := readAlgorithm(&params)
		if !ok {
			return nil, corrupt("the PBKDF2 PRF is malformed")
		}
		d, ok := lookupPRF(prfAlg.oid)
		if !ok {
			return nil, unsupported("PBKDF2 PRF "+prfAlg.oid.String(), "")
		}
		p.prf = d
	}
	if err := lim.checkIterations(p.iterations, purpose); err != nil {
		return nil, err
	}
	return p, nil
}

func cbcDecrypt(blk cipher.Block, iv, ct []byte) ([]byte, error) {
	bs := blk.BlockSize()
	if len(ct) == 0 || len(ct)%bs != 0 || len(iv) != bs {
		return nil, errWrongPasswordOrDamagedBlock
	}
	out := make([]byte, len(ct))
	cipher.NewCBCDecrypter(blk, iv).CryptBlocks(out, ct)
	n := int(out[len(out)-1])
	if n == 0 || n > bs {
		return nil, errBadPadding
	}
	for _, c := range out[len(out)-n:] {
		if int(c) != n {
			return nil, errBadPadding
		}
	}
	return out[:len(out)-n], nil
}

// macSpec is a parsed MacData, ready to verify with a password.
type macSpec struct {
	name       string
	iterations int
	usesBMP    bool
	cost       int64 // iteration work of one verification with one password encoding, in work units
	saltLen    int
	digest     []byte
	compute    func(password, message []byte) ([]byte, error)
}

// parseMAC reads PKCS#12 MacData: SEQUENCE { DigestInfo, macSalt OCTET STRING, iterations INTEGER DEFAULT 1 }.
func parseMAC(s cryptobyte.String, lim Limits) (*macSpec, error) {
	var md, di, dig, salt cryptobyte.String
	if !s.ReadASN1(&md, cbasn1.SEQUENCE) || !md.ReadASN1(&di, cbasn1.SEQUENCE) {
		return nil, corrupt("the MAC (integrity check) structure is malformed")
	}
	alg, ok := readAlgorithm(&di)
	if !ok || !di.ReadASN1(&dig, cbasn1.OCTET_STRING) || !md.ReadASN1(&salt, cbasn1.OCTET_STRING) {
		return nil, corrupt("the MAC (integrity check) structure is malformed")
	}
	iter := 1
	if !md.Empty() && !md.ReadASN1Integer(&iter) {
		return nil, corrupt("the MAC iteration count is malformed")
	}
	m := &macSpec{digest: []byte(dig), iterations: iter}
	if alg.oid.Equal(oidPBMAC1) {
		var params cryptobyte.String
		if !alg.params.ReadASN1(&params, cbasn1.SEQUENCE) {
			return nil, corrupt("the PBMAC1 parameters are malformed")
		}
		kdfAlg, ok1 := readAlgorithm(&params)
		macAlg, ok2 := readAlgorithm(&params)
		if !ok1 || !ok2 {
			return nil, corrupt("the PBMAC1 parameters are malformed")
		}
		if !kdfAlg.oid.Equal(oidPBKDF2) {
			return nil, unsupported("PBMAC1 key derivation "+kdfAlg.oid.String(), "")
		}
		kdf, err := parsePBKDF2(kdfAlg.params, lim, "MAC")
		if err != nil {
			return nil, err
		}
		h, ok := lookupPRF(macAlg.oid)
		if !ok {
			return nil, unsupported("PBMAC1 MAC "+macAlg.oid.String(), "")
		}
		// RFC 9579 requires an explicit key length; below 20 octets a MAC can be forged
		// (OpenSSL CVE-2026-34181), so refuse rather than accept a weak check.
		if kdf.keyLen < 20 {
			return nil, unsupported("PBMAC1 with a missing or too short key length", "")
		}
		m.name = fmt.Sprintf("PBMAC1 (PBKDF2-%s, %s)", kdf.prf.name, h.name)
		m.iterations = kdf.iterations
		m.cost = pbkdf2Cost(kdf.prf, kdf.iterations, kdf.keyLen)
		m.saltLen = len(kdf.salt)
		m.compute = func(password, message []byte) ([]byte, error) {
			key, err := pbkdf2.Key(kdf.prf.new, string(password), kdf.salt, kdf.iterations, kdf.keyLen)
			if err != nil {
				return nil, err
			}
			mac := hmac.New(h.new, key)
			mac.Write(message)
			return mac.Sum(nil), nil
		}
		return m, nil
	}
	for _, d := range macDigests {
		if d.oid.Equal(alg.oid) {
			if err := lim.checkIterations(iter, "MAC"); err != nil {
				return nil, err
			}
			m.name, m.usesBMP = "HMAC-"+d.name, true
			m.cost = pkcs12KDFCost(d.digest, iter, d.new().Size())
			m.saltLen = len(salt)
			newHash := d.new
			saltBytes := []byte(salt)
			m.compute = func(password, message []byte) ([]byte, error) {
				key := pkcs12KDF(newHash, password, saltBytes, iter, idMAC, newHash().Size())
				mac := hmac.New(newHash, key)
				mac.Write(message)
				return mac.Sum(nil), nil
			}
			return m, nil
		}
	}
	return nil, unsupported("MAC digest "+alg.oid.String(), "")
}

func (m *macSpec) verify(password, message []byte) bool {
	got, err := m.compute(password, message)
	return err == nil && hmac.Equal(got, m.digest)
}

// Input-size costs, in work units. Beyond its iterations a derivation hashes its salt and
// password for every output block (the PKCS#12 KDF also adds them to a running value byte by
// byte), decryption runs over the ciphertext, and a MAC over the whole authenticated safe; on a
// file of a megabyte, with a long password, these are no longer negligible. One unit per 32
// bytes hashed or added, and per 4 bytes decrypted (3DES and RC2 are slow), is conservative.

// attemptCost is the work of one decryption attempt with a password of pwLen bytes.
func (c *cipherSpec) attemptCost(pwLen, ctLen int) int64 {
	return c.cost + c.blocks*int64(2*(c.saltLen+pwLen+64))/32 + int64(ctLen)/4
}

// attemptCost is the work of one MAC verification with a password of pwLen bytes over a
// message of msgLen bytes.
func (m *macSpec) attemptCost(pwLen, msgLen int) int64 {
	return m.cost + int64(2*(m.saltLen+pwLen+64))/32 + int64(msgLen)/16
}
