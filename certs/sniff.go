package certs

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"encoding/base64"
	"fmt"
	"math/big"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Limits on what one upload may hold, applied before any expensive work. They are far above real
// files and far below what would cost seconds: app certificates use RSA keys of 2,048 to 4,096
// bits (Microsoft Entra ID refuses fewer than 2,048: AADSTS700027) or the NIST curves, a chain
// has a handful of certificates, a .crt file one or a few PEM blocks.
const (
	// MaxRSABits is the largest RSA modulus accepted in a certificate or private key: four times
	// the largest key tools offer for app certificates (4,096 bits). Larger keys are refused
	// (key_too_large) before any arithmetic on them: verifying a signature with a 524,288-bit
	// key takes seconds, validating a 1,048,576-bit private key most of a minute.
	MaxRSABits = 16384
	// MaxRSAExponent is the largest RSA public exponent accepted (crypto/rsa's own limit; tools
	// write 65,537).
	MaxRSAExponent = 1<<31 - 1
	// MaxCertificates is the most certificates one .pfx or .cer/.crt file may hold.
	MaxCertificates = 64
	// MaxKeys is the most private keys one .pfx may hold.
	MaxKeys = 4
	// MaxPEMBlocks is the most PEM blocks read from one text file.
	MaxPEMBlocks = 256
)

// pemBlock is one complete PEM block: its type and, when the caller asked for that type, its
// decoded body (nil when the body is not valid base64).
type pemBlock struct {
	Type  string
	Bytes []byte
}

// scanPEM reads the PEM blocks of data in one pass over its lines, without copying the rest of
// the file per block (pem.Decode on the remainder is quadratic on a file of many small blocks).
// It tolerates CRLF line ends, leading and trailing text and RFC 1421 headers. decode says which
// block types need their body decoded. More than MaxPEMBlocks blocks is a too_many_parts error.
func scanPEM(data []byte, decode func(typ string) bool) ([]pemBlock, error) {
	var (
		blocks []pemBlock
		typ    string
		inside bool
		body   []byte
	)
	for len(data) > 0 {
		var line []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			line, data = data, nil
		}
		line = bytes.TrimSpace(line)
		switch {
		case bytes.HasPrefix(line, []byte("-----BEGIN ")) && bytes.HasSuffix(line, []byte("-----")) && len(line) >= 16:
			typ, inside, body = string(line[11:len(line)-5]), true, body[:0]
		case !inside:
		case bytes.HasPrefix(line, []byte("-----END ")) && bytes.HasSuffix(line, []byte("-----")) && len(line) >= 14:
			inside = false
			if string(line[9:len(line)-5]) != typ {
				continue
			}
			if len(blocks) == MaxPEMBlocks {
				return nil, &Error{Code: CodeTooManyParts, Feature: "PEM blocks", Message: fmt.Sprintf("the text file holds more than %d PEM blocks; a certificate file holds the certificate and perhaps its chain: choose that file", MaxPEMBlocks)}
			}
			b := pemBlock{Type: typ}
			if decode(typ) {
				raw := make([]byte, base64.StdEncoding.DecodedLen(len(body)))
				if n, err := base64.StdEncoding.Decode(raw, body); err == nil {
					b.Bytes = raw[:n]
				}
			}
			blocks = append(blocks, b)
		case bytes.IndexByte(line, ':') >= 0: // an RFC 1421 header such as Proc-Type
		default:
			body = append(body, line...)
		}
	}
	return blocks, nil
}

// derShape names what a DER object is by its outer structure alone, without parsing keys or
// certificates (crypto/x509 validates an RSA private key with arithmetic proportional to its
// size, so a huge fake key must be recognised without it): "certificate", "pkcs8", "pkcs1",
// "pkcs7", or "" for anything else (possibly a .pfx).
func derShape(data []byte) string {
	s := cryptobyte.String(data)
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !s.Empty() {
		return ""
	}
	switch {
	case seq.PeekASN1Tag(cbasn1.SEQUENCE):
		// Certificate ::= SEQUENCE { tbsCertificate SEQUENCE, signatureAlgorithm SEQUENCE, signature BIT STRING }
		var tbs, alg, sig cryptobyte.String
		if seq.ReadASN1(&tbs, cbasn1.SEQUENCE) && seq.ReadASN1(&alg, cbasn1.SEQUENCE) && seq.ReadASN1(&sig, cbasn1.BIT_STRING) && seq.Empty() {
			return "certificate"
		}
	case seq.PeekASN1Tag(cbasn1.OBJECT_IDENTIFIER):
		var oid cryptobyte.String
		if seq.ReadASN1(&oid, cbasn1.OBJECT_IDENTIFIER) && bytes.Equal(oid, []byte{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02}) {
			return "pkcs7"
		}
	case seq.PeekASN1Tag(cbasn1.INTEGER):
		var version int64
		if !seq.ReadASN1Integer(&version) || (version != 0 && version != 1) {
			return "" // a .pfx has version 3
		}
		if seq.PeekASN1Tag(cbasn1.SEQUENCE) {
			// PrivateKeyInfo ::= SEQUENCE { version, AlgorithmIdentifier, privateKey OCTET STRING, ... }
			var alg, key cryptobyte.String
			if seq.ReadASN1(&alg, cbasn1.SEQUENCE) && seq.ReadASN1(&key, cbasn1.OCTET_STRING) {
				return "pkcs8"
			}
			return ""
		}
		// RSAPrivateKey ::= SEQUENCE { version, n, e, d, p, q, dp, dq, qinv, ... }
		for range 8 {
			var v cryptobyte.String
			if !seq.ReadASN1(&v, cbasn1.INTEGER) {
				return ""
			}
		}
		return "pkcs1"
	}
	return ""
}

var oidRSAEncryption = []byte{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01}

// checkPKCS8Size refuses a PKCS#8 RSA private key whose modulus or exponent is beyond
// MaxRSABits / MaxRSAExponent, reading only the sizes of its integers, so that crypto/x509 never
// validates a huge key. Other algorithms and malformed input pass (x509 reports those).
func checkPKCS8Size(der []byte) error {
	s := cryptobyte.String(der)
	var pki, alg, key cryptobyte.String
	var version int64
	var oid cryptobyte.String
	if !s.ReadASN1(&pki, cbasn1.SEQUENCE) || !pki.ReadASN1Integer(&version) || !pki.ReadASN1(&alg, cbasn1.SEQUENCE) ||
		!alg.ReadASN1(&oid, cbasn1.OBJECT_IDENTIFIER) || !pki.ReadASN1(&key, cbasn1.OCTET_STRING) {
		return nil
	}
	if !bytes.Equal(oid, oidRSAEncryption) {
		return nil
	}
	return checkPKCS1Size(key, "private key")
}

// checkPKCS1Size is checkPKCS8Size for an RSAPrivateKey.
func checkPKCS1Size(der []byte, what string) error {
	s := cryptobyte.String(der)
	var seq, version, n, e cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !seq.ReadASN1(&version, cbasn1.INTEGER) ||
		!seq.ReadASN1(&n, cbasn1.INTEGER) || !seq.ReadASN1(&e, cbasn1.INTEGER) {
		return nil
	}
	return checkRSASize(integerBits(n), new(big.Int).SetBytes(e), what)
}

// integerBits is the bit length of a DER INTEGER's content, read as unsigned.
func integerBits(v []byte) int {
	for len(v) > 0 && v[0] == 0 {
		v = v[1:]
	}
	if len(v) == 0 {
		return 0
	}
	return (len(v)-1)*8 + new(big.Int).SetBytes(v[:1]).BitLen()
}

func checkRSASize(bits int, e *big.Int, what string) error {
	switch {
	case bits > MaxRSABits:
		return &Error{Code: CodeKeyTooLarge, Feature: fmt.Sprintf("RSA %d-bit %s", bits, what),
			Message: fmt.Sprintf("the file's %s is an RSA key of %d bits, far beyond the 2,048 to 4,096 bits app certificates use (more than %d bits is refused without examining it); create a new certificate with a 2,048, 3,072 or 4,096-bit key", what, bits, MaxRSABits)}
	case e.Sign() <= 0 || e.Cmp(big.NewInt(MaxRSAExponent)) > 0:
		return &Error{Code: CodeKeyTooLarge, Feature: "RSA public exponent of " + fmt.Sprint(e.BitLen()) + " bits",
			Message: fmt.Sprintf("the file's %s has an RSA public exponent of %d bits, which no tool writes (65,537 is standard); create a new certificate with a standard tool", what, e.BitLen())}
	}
	return nil
}

// checkPublicKeySize applies the RSA limits to a parsed public key (parsing a certificate does
// no arithmetic on its key; verifying a signature with it does).
func checkPublicKeySize(pub crypto.PublicKey, what string) error {
	if k, ok := pub.(*rsa.PublicKey); ok {
		return checkRSASize(k.N.BitLen(), big.NewInt(int64(k.E)), what)
	}
	return nil
}
