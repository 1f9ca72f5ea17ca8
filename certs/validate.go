package certs

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Options configure Validate. The zero value validates against the current time with the default
// expiry warning window.
type Options struct {
	// Now is the clock; nil means time.Now. Inject it in tests and when re-checking stored
	// profiles "as of" a date.
	Now func() time.Time
	// ExpiringWithin is the warning window for expiring_soon. Zero means DefaultExpiringWithin;
	// a negative value turns the warning off.
	ExpiringWithin time.Duration
	// Cert, when not nil, is the .cer/.crt uploaded to Entra ID (DER, PEM, base64 or a chain
	// file); Validate then also reports whether the .pfx is paired with it (see Pair).
	Cert []byte
	// MinRSABits is the smallest acceptable RSA modulus; zero means 2048.
	MinRSABits int
}

// DefaultExpiringWithin is the default expiring_soon window: 30 days.
const DefaultExpiringWithin = 30 * 24 * time.Hour

// Validate returns every problem of b at once, in a fixed order, each with a stable Code and a
// Severity; nil when there is none. It checks, in this order: no_certificate, no_private_key,
// multiple_keys, key_mismatch, not_yet_valid, expired, expiring_soon (warning), weak_key,
// unsupported_key_for_token, weak_signature (warning), cert_mismatch. A nil b yields one corrupt
// problem. Validate does no I/O and is safe for concurrent use.
//
// Severity policy: everything that stops Entra ID token acquisition, or makes the credential
// ambiguous, is an error; expiring_soon and weak_signature are warnings because Entra ID accepts
// such certificates (it does not check a client certificate's own signature).
func Validate(b *Bundle, opts Options) []Problem {
	return ValidateContext(context.Background(), b, opts)
}

// ValidateContext is Validate that passes ctx to the pairing check of Options.Cert (the only
// part that reads a file); a canceled pairing is reported as a canceled problem.
func ValidateContext(ctx context.Context, b *Bundle, opts Options) []Problem {
	if b == nil {
		return []Problem{{CodeCorrupt, SeverityError, "there is no certificate bundle to validate; open the .pfx with Inspect first"}}
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	t := now()
	window := opts.ExpiringWithin
	if window == 0 {
		window = DefaultExpiringWithin
	}
	minBits := opts.MinRSABits
	if minBits <= 0 {
		minBits = 2048
	}
	var ps []Problem
	add := func(c Code, s Severity, format string, args ...any) {
		ps = append(ps, Problem{Code: c, Severity: s, Message: fmt.Sprintf(format, args...)})
	}
	switch {
	case b.Leaf == nil && b.PrivateKey == nil:
		add(CodeEmptyFile, SeverityError, "the .pfx holds neither a certificate nor a private key; export it again with the app's certificate and its private key")
		return ps
	case b.Leaf == nil:
		add(CodeNoCertificate, SeverityError, "the .pfx holds a private key but no certificate; export it again including the certificate")
	}
	if b.PrivateKey == nil {
		add(CodeNoPrivateKey, SeverityError, "the .pfx holds only certificates, no private key; export it again with the private key (Windows: Export-PfxCertificate, or \"Yes, export the private key\" in the wizard; OpenSSL: openssl pkcs12 -export -inkey app.key -in app.crt)")
	}
	if len(b.ExtraKeys) > 0 {
		add(CodeMultipleKeys, SeverityError, "the .pfx holds %d private keys; it must hold exactly the app's key; export only the app's certificate and key", 1+len(b.ExtraKeys))
	}
	if b.Leaf != nil && b.PrivateKey != nil && !b.KeyMatchesLeaf {
		add(CodeKeyMismatch, SeverityError, "the private key does not belong to the certificate %s (thumbprint %s); export the certificate together with its own key", b.Subject, b.SHA1Thumbprint)
	}
	if b.Leaf != nil {
		switch {
		case t.Before(b.NotBefore):
			add(CodeNotYetValid, SeverityError, "the certificate is not valid until %s (now %s); check the clock of the machine that issued it, or wait", b.NotBefore.UTC().Format(time.RFC3339), t.UTC().Format(time.RFC3339))
		case t.After(b.NotAfter):
			add(CodeExpired, SeverityError, "the certificate expired on %s; create a new certificate, upload its .cer to the app in Entra ID and use its .pfx here", b.NotAfter.UTC().Format(time.RFC3339))
		case window > 0 && b.NotAfter.Sub(t) <= window:
			add(CodeExpiringSoon, SeverityWarning, "the certificate expires on %s, in %d days; plan its renewal (new certificate in Entra ID, new .pfx here)", b.NotAfter.UTC().Format(time.RFC3339), int(b.NotAfter.Sub(t).Hours()/24))
		}
	}
	if b.KeyType == KeyRSA && b.KeyBits < minBits {
		add(CodeWeakKey, SeverityError, "the RSA key has %d bits, below the minimum of %d; create a new certificate with a key of at least 2048 bits (3072 recommended)", b.KeyBits, minBits)
	}
	if b.PrivateKey != nil {
		if _, ok := b.PrivateKey.(*rsa.PrivateKey); !ok {
			add(CodeUnsupportedKeyForToken, SeverityError, "the key is %s, but Microsoft's MSAL libraries sign client assertions with RSA keys only, so this certificate cannot be used to acquire tokens; create an RSA certificate (2048 bits or more)", keyDescription(b))
		}
	}
	if b.Leaf != nil && weakSignature(b.Leaf.SignatureAlgorithm) {
		add(CodeWeakSignature, SeverityWarning, "the certificate is signed with %s, which is broken; Entra ID still accepts it, but issue a new certificate signed with SHA-256", b.Leaf.SignatureAlgorithm)
	}
	if opts.Cert != nil {
		if err := PairContext(ctx, b, opts.Cert); err != nil {
			if p, ok := ProblemOf(err); ok {
				ps = append(ps, p)
			}
		}
	}
	return ps
}

func keyDescription(b *Bundle) string {
	switch b.KeyType {
	case KeyECDSA:
		return "ECDSA " + b.Curve
	case "":
		return "of an unknown type"
	}
	return string(b.KeyType)
}

func weakSignature(a x509.SignatureAlgorithm) bool {
	switch a {
	case x509.MD2WithRSA, x509.MD5WithRSA, x509.SHA1WithRSA, x509.DSAWithSHA1, x509.ECDSAWithSHA1:
		return true
	}
	return false
}

// Pair checks that b is paired with the certificate uploaded to Entra ID: cer (DER or PEM, a
// single certificate or a chain file, or base64 text as Graph's keyCredential.key) must contain
// b's leaf certificate byte for byte. It returns nil when paired; an *Error with Code
// cert_mismatch naming both SHA-1 thumbprints when not (errors.Is(err, ErrCertMismatch)); and
// the ParseCertificates error when cer holds no certificate.
//
// A certificate re-issued for the same key is still a mismatch: Entra ID finds the credential by
// thumbprint, so the message says so.
func Pair(b *Bundle, cer []byte) error { return PairContext(context.Background(), b, cer) }

// PairContext is Pair that stops when ctx ends (a canceled error); see
// ParseCertificatesContext for the limits on cer.
func PairContext(ctx context.Context, b *Bundle, cer []byte) error {
	if b == nil || b.Leaf == nil {
		return &Error{Code: CodeCertMismatch, Message: "the .pfx holds no certificate to pair with the .cer/.crt"}
	}
	certs, err := ParseCertificatesContext(ctx, cer)
	if err != nil {
		return err
	}
	for _, c := range certs {
		if c.Equal(b.Leaf) {
			return nil
		}
	}
	other := certs[0]
	for _, c := range certs {
		if !c.IsCA {
			other = c
			break
		}
	}
	o := ThumbprintsOf(other)
	msg := fmt.Sprintf("the .pfx certificate (thumbprint %s) is not the certificate in the .cer/.crt (thumbprint %s, %s); upload the .cer exported from this .pfx to the app in Entra ID, or choose the .pfx that belongs to the uploaded certificate", b.SHA1Thumbprint, o.SHA1, other.Subject)
	for _, c := range certs {
		if publicKeysEqual(c.PublicKey, b.Leaf.PublicKey) {
			msg = fmt.Sprintf("the .pfx certificate (thumbprint %s) and the .cer/.crt certificate (thumbprint %s) share the same key but are different certificates; Entra ID identifies the credential by thumbprint, so upload the .cer of this exact certificate", b.SHA1Thumbprint, ThumbprintsOf(c).SHA1)
			break
		}
	}
	return &Error{Code: CodeCertMismatch, Message: msg}
}

// ParseCertificates is ParseCertificatesContext with context.Background().
func ParseCertificates(data []byte) ([]*x509.Certificate, error) {
	return ParseCertificatesContext(context.Background(), data)
}

// ParseCertificatesContext reads a .cer/.crt file: DER (one certificate or several concatenated),
// PEM with one or more CERTIFICATE blocks (a chain file; other blocks are ignored), or base64
// text of DER. It returns *Error with Code empty_file, corrupt or unsupported_format when no
// certificate is found (a .pfx given by mistake is named as such); too_many_parts beyond
// MaxCertificates certificates or MaxPEMBlocks PEM blocks; key_too_large for an RSA key beyond
// MaxRSABits; canceled when ctx ends. It reads the file in one linear pass and parses at most
// MaxCertificates certificates.
func ParseCertificatesContext(ctx context.Context, data []byte) ([]*x509.Certificate, error) {
	if err := canceled(ctx); err != nil {
		return nil, err
	}
	trimmed := trimText(data)
	if len(trimmed) == 0 {
		return nil, &Error{Code: CodeEmptyFile, Message: "the certificate file is empty; choose the .cer/.crt file uploaded to Entra ID"}
	}
	if len(data) > DefaultMaxSize {
		return nil, &Error{Code: CodeCorrupt, Message: fmt.Sprintf("the file is %d bytes, more than any certificate file (limit %d); choose the .cer/.crt file uploaded to Entra ID", len(data), DefaultMaxSize)}
	}
	if len(trimmed) > 10 && string(trimmed[:10]) == "-----BEGIN" {
		blocks, err := scanPEM(trimmed, isCertificateBlock)
		if err != nil {
			return nil, err
		}
		var out []*x509.Certificate
		var other bool
		for _, blk := range blocks {
			if !isCertificateBlock(blk.Type) {
				other = true
				continue
			}
			if len(out) == MaxCertificates {
				return nil, tooManyCerts(len(out) + 1)
			}
			c, err := parseCertificate(ctx, blk.Bytes)
			if err != nil {
				return nil, err
			}
			out = append(out, c)
		}
		if len(out) == 0 {
			if other {
				return nil, &Error{Code: CodeUnsupportedFormat, Feature: "PEM without certificate", Message: "the PEM file holds no CERTIFICATE block; choose the .cer/.crt file"}
			}
			return nil, &Error{Code: CodeCorrupt, Message: "the PEM certificate file is damaged"}
		}
		return out, nil
	}
	der := data
	if data[0] != 0x30 && isBase64Text(trimmed) {
		if raw, err := decodeBase64(trimmed); err == nil {
			der = raw
		}
	}
	if out, ok, err := parseDERCertificates(ctx, der); ok || err != nil {
		return out, err
	}
	if _, err := (Inspector{MaxIterations: 1}).InspectContext(ctx, der, ""); errors.Is(err, ErrCanceled) {
		return nil, err
	} else if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrEmptyFile) {
		return nil, &Error{Code: CodeUnsupportedFormat, Feature: "PKCS#12 given as certificate", Message: "the file looks like a .pfx, not a .cer/.crt; choose the certificate file uploaded to Entra ID (export it with: openssl pkcs12 -in app.pfx -nokeys -clcerts -out app.crt)"}
	}
	return nil, &Error{Code: CodeCorrupt, Message: "the file is not a certificate (.cer DER or .crt PEM); choose the certificate file uploaded to Entra ID"}
}

func isCertificateBlock(typ string) bool {
	return typ == "CERTIFICATE" || typ == "X509 CERTIFICATE" || typ == "TRUSTED CERTIFICATE"
}

// parseCertificate parses one PEM block's certificate and applies the key limits.
func parseCertificate(ctx context.Context, der []byte) (*x509.Certificate, error) {
	if err := canceled(ctx); err != nil {
		return nil, err
	}
	if der == nil {
		return nil, &Error{Code: CodeCorrupt, Message: "a PEM certificate in the file is not valid base64; choose the .cer/.crt file as exported"}
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, &Error{Code: CodeCorrupt, Message: fmt.Sprintf("a PEM certificate in the file cannot be parsed: %v", err)}
	}
	if err := checkPublicKeySize(c.PublicKey, "certificate's key"); err != nil {
		return nil, err
	}
	return c, nil
}

// parseDERCertificates reads concatenated DER certificates, one element at a time, up to
// MaxCertificates. ok is false when der is not such a sequence of certificates.
func parseDERCertificates(ctx context.Context, der []byte) (out []*x509.Certificate, ok bool, err error) {
	s := cryptobyte.String(der)
	for !s.Empty() {
		if err := canceled(ctx); err != nil {
			return nil, false, err
		}
		var elem cryptobyte.String
		if !s.ReadASN1Element(&elem, cbasn1.SEQUENCE) || derShape(elem) != "certificate" {
			return nil, false, nil
		}
		if len(out) == MaxCertificates {
			return nil, false, tooManyCerts(len(out) + 1)
		}
		c, err := x509.ParseCertificate(elem)
		if err != nil {
			return nil, false, nil
		}
		if err := checkPublicKeySize(c.PublicKey, "certificate's key"); err != nil {
			return nil, false, err
		}
		out = append(out, c)
	}
	return out, len(out) > 0, nil
}
