package certs

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	pkcs12 "software.sslmate.com/src/go-pkcs12"

	"github.com/tenantapps/tenantapps/certs/internal/pfx"
)

// KeyType names a private key algorithm.
type KeyType string

const (
	KeyRSA     KeyType = "RSA"
	KeyECDSA   KeyType = "ECDSA"
	KeyEd25519 KeyType = "Ed25519"
)

// Format describes how a .pfx was written. It is informational: it explains where a file came
// from (for example BER means NSS pk12util) and why another tool might refuse it.
type Format struct {
	Base64        bool     `json:"base64,omitempty"` // the upload was base64 text of a .pfx (as Key Vault's secret value)
	BER           bool     `json:"ber,omitempty"`    // BER rather than DER encoding (NSS pk12util, some keytool versions)
	MAC           string   `json:"mac,omitempty"`    // integrity algorithm, "" when the file has no MAC
	MACIterations int      `json:"macIterations,omitempty"`
	Encryption    []string `json:"encryption,omitempty"` // encryption schemes of keys and certificates; empty when nothing is encrypted
	Iterations    int      `json:"iterations,omitempty"` // highest encryption iteration count
}

// Bundle is what a .pfx holds, already interpreted: which certificate is the app's (the leaf),
// its chain in leaf→root order whatever the file's order, the private key, and the facts Entra ID
// and MSAL care about. Inspect fills every field; a Bundle is a plain value, safe to read
// concurrently, and holds the private key, so never log it as a whole.
type Bundle struct {
	// Leaf is the app's certificate: the one whose public key matches the private key, or, when
	// none matches or there is no key, the end-entity certificate of the file. Nil only when
	// the file holds no certificate at all.
	Leaf *x509.Certificate
	// Chain starts with Leaf and continues with its issuers as far as the file holds them.
	Chain []*x509.Certificate
	// Extra holds the file's other certificates, not on Leaf's chain.
	Extra []*x509.Certificate
	// PrivateKey is the key for Leaf (or the only key when none matches); nil for a
	// certificate-only file. *rsa.PrivateKey, *ecdsa.PrivateKey or ed25519.PrivateKey.
	PrivateKey crypto.Signer `json:"-"`
	// ExtraKeys holds further private keys; Validate reports multiple_keys when it is not empty.
	ExtraKeys []crypto.Signer `json:"-"`
	// KeyMatchesLeaf is true when PrivateKey belongs to Leaf.
	KeyMatchesLeaf bool

	KeyType KeyType // of PrivateKey, or of Leaf's public key when there is no private key
	KeyBits int     // RSA modulus size, or the curve size for ECDSA, 256 for Ed25519
	Curve   string  // "P-256", "P-384", "P-521" for ECDSA; "" otherwise

	Subject      string // RFC 2253 form, as x509.Certificate.Subject.String()
	Issuer       string
	SerialNumber string // uppercase hex
	NotBefore    time.Time
	NotAfter     time.Time
	ExtKeyUsage  []string // "clientAuth", "serverAuth", ... (OIDs for unknown ones)
	SelfSigned   bool
	FriendlyName string // the leaf's (or key's) friendlyName attribute, if any

	// SHA1Thumbprint is the uppercase hex SHA-1 of the leaf, as the Entra portal shows it.
	SHA1Thumbprint string
	// CustomKeyIdentifier is the standard base64 of the same SHA-1, as Graph's
	// keyCredential.customKeyIdentifier holds it.
	CustomKeyIdentifier string
	// SHA256Thumbprint is the leaf's SHA-256 in the JOSE x5t#S256 form: base64url without
	// padding (RFC 7515). MSAL Go writes standard base64 instead; MatchesThumbprint accepts both.
	SHA256Thumbprint string

	Format Format

	work int64 // key-derivation work spent opening the file, in work units
}

// String summarises the bundle without key material, so that fmt's %v and %+v of a *Bundle
// never print the private key.
func (b *Bundle) String() string {
	if b == nil {
		return "<nil certs.Bundle>"
	}
	return fmt.Sprintf("certs.Bundle{Subject: %q, SHA1Thumbprint: %s, KeyType: %s, KeyBits: %d, NotAfter: %s, Chain: %d, PrivateKey: %s}",
		b.Subject, b.SHA1Thumbprint, b.KeyType, b.KeyBits, b.NotAfter.UTC().Format(time.RFC3339), len(b.Chain), redacted(b.PrivateKey))
}

// GoString makes %#v as safe as %v.
func (b *Bundle) GoString() string { return b.String() }

// LogValue makes log/slog record the bundle's identifying facts, never the key.
func (b *Bundle) LogValue() slog.Value {
	if b == nil {
		return slog.StringValue("<nil>")
	}
	return slog.GroupValue(
		slog.String("subject", b.Subject),
		slog.String("sha1Thumbprint", b.SHA1Thumbprint),
		slog.String("keyType", string(b.KeyType)),
		slog.Int("keyBits", b.KeyBits),
		slog.Time("notAfter", b.NotAfter),
	)
}

func redacted(k crypto.Signer) string {
	if k == nil {
		return "none"
	}
	return "[redacted]"
}

// Inspector opens .pfx files with limits for untrusted uploads. The zero value is ready to use
// and applies the defaults, which keep every real tool's files readable and bound a hostile
// upload to well under a CPU-second (see BENCHMARKS.md). An Inspector is safe for concurrent use.
type Inspector struct {
	// MaxSize is the largest accepted file in bytes; zero means DefaultMaxSize.
	MaxSize int
	// MaxIterations caps every key-derivation iteration count in the file; zero means
	// DefaultMaxIterations.
	MaxIterations int
	// MaxWork caps the sum of all key derivations one file needs — the MAC (PBMAC1 included),
	// every encrypted item and key, and every password encoding tried — in work units of about
	// one hash compression (see DefaultMaxWork); zero means DefaultMaxWork. The work is charged
	// before each derivation runs; a file that needs more gets work_limit. Lower it where one
	// request must cost less; raise it only for trusted files.
	MaxWork int64
}

const (
	// DefaultMaxSize is far above any real .pfx (a few KB; long chains stay under 64 KB).
	DefaultMaxSize = 1 << 20
	// DefaultMaxIterations is far above what tools write (OpenSSL 2048, keytool up to 100000,
	// NSS and certtool 600000). MaxWork bounds the total.
	DefaultMaxIterations = pfx.DefaultMaxIterations
	// DefaultMaxWork (8,000,000 units, well under a CPU-second on a 2-core cloud VM) opens every
	// real tool's file: OpenSSL's default file needs 10,240 units, Java keytool's 150,000 to
	// 1,050,000, NSS pk12util's up to 3,600,000, GnuTLS certtool's (600,000 iterations) 3,000,000
	// plus 1,200,000 per chain certificate, OpenSSL's with -iter 1000000 5,000,000. One unit is
	// one iteration of the PKCS#12 KDF with SHA-1 or SHA-256; a PBKDF2 iteration costs 2, the
	// SHA-384/512 family 3 per compression; every output block and password encoding counts.
	DefaultMaxWork = pfx.DefaultMaxWork
)

// Inspect opens a .pfx with password using the default Inspector. See Inspector.Inspect.
func Inspect(pfxData []byte, password string) (*Bundle, error) {
	return Inspector{}.InspectContext(context.Background(), pfxData, password)
}

// InspectContext is Inspect that stops when ctx ends. See Inspector.InspectContext.
func InspectContext(ctx context.Context, pfxData []byte, password string) (*Bundle, error) {
	return Inspector{}.InspectContext(ctx, pfxData, password)
}

// Inspect is InspectContext with context.Background(): for command-line tools and trusted
// files. A server reading uploads should call InspectContext with the request's context.
func (in Inspector) Inspect(pfxData []byte, password string) (*Bundle, error) {
	return in.InspectContext(context.Background(), pfxData, password)
}

// InspectContext opens a .pfx (.p12) with password and interprets it. It reads DER and BER files
// from OpenSSL 1.x/3.x, Windows, Java keytool, NSS pk12util, GnuTLS certtool, Azure Key Vault
// and go-pkcs12, and base64 text of such a file. An empty password opens password-less files.
//
// Errors are *Error (check with errors.Is against the sentinels): wrong_password, corrupt or
// unsupported_format for files that cannot be opened; empty_file; and the refusals of files
// that would cost too much to read, each before the costly work: work_limit (Inspector.MaxWork),
// too_many_parts (MaxCertificates, MaxKeys, and the internal item caps), key_too_large
// (MaxRSABits, MaxRSAExponent). When ctx ends, InspectContext returns a canceled error that
// also matches ctx.Err() with errors.Is; ctx is checked before every key derivation and in every
// loop over the file's parts, so an abandoned request stops within one derivation (at most
// MaxWork). A certificate or key given instead of a .pfx gets an unsupported_format error that
// says what the file is. A file that opens is returned even when it is unusable (no key, two
// keys, a key for another certificate): call Validate for those findings. InspectContext never
// panics and never puts the password in an error.
func (in Inspector) InspectContext(ctx context.Context, pfxData []byte, password string) (*Bundle, error) {
	b, _, err := in.inspect(ctx, pfxData, password)
	return b, err
}

// decoder names which reader produced a Bundle's keys and certificates.
type decoder string

const (
	byNone     decoder = ""          // Inspect failed
	byPKCS12   decoder = "go-pkcs12" // software.sslmate.com/src/go-pkcs12 DecodeChain
	byFallback decoder = "internal/pfx"
)

// inspect is Inspect that also says which reader produced the Bundle.
func (in Inspector) inspect(ctx context.Context, pfxData []byte, password string) (*Bundle, decoder, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if err := canceled(ctx); err != nil {
		return nil, byNone, err
	}
	maxSize := in.MaxSize
	if maxSize <= 0 {
		maxSize = DefaultMaxSize
	}
	if len(trimText(pfxData)) == 0 {
		return nil, byNone, &Error{Code: CodeEmptyFile, Message: fmt.Sprintf("the .pfx file is empty (%d bytes, no content); choose the .pfx exported with the certificate and its private key and upload it again", len(pfxData))}
	}
	if len(pfxData) > maxSize {
		return nil, byNone, &Error{Code: CodeCorrupt, Message: fmt.Sprintf("the file is %d bytes, more than any .pfx (limit %d); check that the right file was chosen", len(pfxData), maxSize)}
	}
	data, fromBase64, err := sniff(pfxData)
	if err != nil {
		return nil, byNone, err
	}
	lim := pfx.Limits{MaxIterations: in.MaxIterations, MaxWork: in.MaxWork, MaxKeys: MaxKeys}
	if lim.MaxWork <= 0 {
		lim.MaxWork = DefaultMaxWork
	}
	// The scan derives nothing: it reads the unencrypted structure, enforces the caps and the
	// iteration limit, and prices every derivation it can see.
	plan, err := pfx.Scan(data, lim)
	if err == nil {
		err = plan.Fits(lim) // refuse at once what needs more than the budget even with a right password
	}
	if err != nil {
		return nil, byNone, fromPFXError(err)
	}
	b, by, spent, macFailed, err := in.viaPKCS12(ctx, data, password, plan, lim.MaxWork)
	if err != nil {
		return nil, byNone, err
	}
	if b == nil {
		// go-pkcs12 cannot read the file, or its work cannot be bounded in advance: internal/pfx
		// reads it, charging every derivation before it runs (and what go-pkcs12 spent).
		lim.MaxWork = max(lim.MaxWork-spent, 1)
		lim.MACTried = macFailed // a MAC go-pkcs12 checked is not derived again
		res, err := pfx.Decode(ctx, data, password, lim)
		if err != nil {
			return nil, byNone, fromPFXError(err)
		}
		if b, err = interpret(ctx, res); err != nil {
			return nil, byNone, err
		}
		by = byFallback
		b.work = spent + res.Info.Work
		b.Format = Format{BER: res.Info.BER, MAC: res.Info.MAC, MACIterations: res.Info.MACIterations,
			Encryption: res.Info.Encryption, Iterations: res.Info.Iterations}
	}
	b.Format.Base64 = fromBase64
	if b.Leaf == nil && b.PrivateKey == nil {
		return nil, byNone, &Error{Code: CodeEmptyFile, Message: "the .pfx opens but holds neither a certificate nor a private key; export it again with the app's certificate and its private key"}
	}
	return b, by, nil
}

// fromPFXError turns an internal/pfx error into an *Error.
func fromPFXError(err error) error {
	var pe *pfx.Error
	if !errors.As(err, &pe) {
		return &Error{Code: CodeCorrupt, Message: "the .pfx cannot be read"}
	}
	switch pe.Kind {
	case pfx.KindWrongPassword:
		return &Error{Code: CodeWrongPassword, Message: pe.Message + "; check the password given with the certificate"}
	case pfx.KindUnsupported:
		return &Error{Code: CodeUnsupportedFormat, Feature: pe.Feature, Message: unsupportedAdvice(pe)}
	case pfx.KindWorkLimit:
		return &Error{Code: CodeWorkLimit, Feature: pe.Feature, Message: pe.Message}
	case pfx.KindTooMany:
		return &Error{Code: CodeTooManyParts, Feature: pe.Feature, Message: pe.Message}
	case pfx.KindCanceled:
		return canceledError(pe.Unwrap())
	}
	return &Error{Code: CodeCorrupt, Message: pe.Message}
}

// goPKCS12Weight is how much go-pkcs12 v0.7.4's work is charged relative to internal/pfx's: its
// KDFs allocate on every iteration, and BenchmarkHostile measured about 1.2 times internal/pfx's
// CPU per unit (102 vs 86 ns); 2 keeps a margin.
const goPKCS12Weight = 2

// viaPKCS12 lets go-pkcs12 read the file when its whole work is known in advance. go-pkcs12 has
// no iteration limit and no context, and DecodeChain derives (after the MAC, and the two
// encrypted items it accepts at most) the first key bag in file order — which, behind an
// encrypted item, nobody can price without decrypting that item. So go-pkcs12 runs only when
// the scan saw that first key in the clear part of the file (Java keytool, Key Vault and
// password-less files; OpenSSL, Windows and go-pkcs12's encoders put the encrypted certificates
// first, so internal/pfx reads those) and its work, priced at goPKCS12Weight, fits the budget.
// Then each derivation happens once: internal/pfx derives nothing for such a file.
//
// b is nil when go-pkcs12 did not produce the Bundle; spent is the work it was charged;
// macFailed is true when go-pkcs12 found the MAC wrong (then it derived nothing else).
func (in Inspector) viaPKCS12(ctx context.Context, data []byte, password string, plan *pfx.Plan, budget int64) (b *Bundle, by decoder, spent int64, macFailed bool, err error) {
	if !plan.KeyFirst || plan.Info.BER || plan.Items > 2 || len(plan.Keys) != 1 || (!plan.HasMAC && password != "") {
		return nil, byNone, 0, false, nil
	}
	if plan.Keys[0].DER != nil {
		if checkPKCS8Size(plan.Keys[0].DER) != nil {
			return nil, byNone, 0, false, nil
		}
	} else if plan.KeyCiphertext > maxEncryptedKey {
		return nil, byNone, 0, false, nil // a key too large to parse safely; internal/pfx refuses it
	}
	var macCost int64
	if plan.HasMAC {
		macCost = plan.MACCost
		if password == "" {
			macCost *= 2 // go-pkcs12 tries both encodings of the empty password
		}
	}
	cost := (macCost + plan.ItemsCost + plan.KeyCost) * goPKCS12Weight
	if cost > budget {
		return nil, byNone, 0, false, nil
	}
	if err := canceled(ctx); err != nil {
		return nil, byNone, 0, false, err
	}
	key, leaf, cas, err := pkcs12.DecodeChain(data, password)
	if errors.Is(err, pkcs12.ErrIncorrectPassword) {
		return nil, byNone, macCost * goPKCS12Weight, true, nil // the MAC failed: nothing else was derived
	}
	if err != nil {
		return nil, byNone, cost, false, nil
	}
	if err := canceled(ctx); err != nil {
		return nil, byNone, cost, false, err
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, byNone, cost, false, nil
	}
	all := append([]*x509.Certificate{leaf}, cas...)
	if len(all) > MaxCertificates {
		return nil, byNone, cost, false, tooManyCerts(len(all))
	}
	if err := checkPublicKeySize(signer.Public(), "private key"); err != nil {
		return nil, byNone, cost, false, err
	}
	byDER := map[string]pfx.Bag{}
	for _, cb := range plan.Certs {
		byDER[string(cb.DER)] = cb
	}
	var certs []parsedCert
	for _, c := range all {
		if err := checkPublicKeySize(c.PublicKey, "certificate's key"); err != nil {
			return nil, byNone, cost, false, err
		}
		bag, found := byDER[string(c.Raw)]
		if !found {
			bag = pfx.Bag{DER: c.Raw} // inside an encrypted item: no attributes known
		}
		certs = append(certs, parsedCert{c, bag})
	}
	b, err = interpretParsed(ctx, []parsedKey{{signer, plan.Keys[0]}}, certs)
	if err != nil {
		return nil, byNone, cost, false, err
	}
	b.Format = Format{BER: plan.Info.BER, MAC: plan.Info.MAC, MACIterations: plan.Info.MACIterations,
		Encryption: plan.Info.Encryption, Iterations: plan.Info.Iterations}
	b.work = cost
	return b, byPKCS12, cost, false, nil
}

// maxEncryptedKey is the largest encrypted key bag go-pkcs12 is given: a PKCS#8 RSA key of
// MaxRSABits is about 9.3 KB. go-pkcs12 parses the key it decrypts before this package can look
// at its size.
const maxEncryptedKey = 10 << 10

func tooManyCerts(n int) error {
	return &Error{Code: CodeTooManyParts, Feature: fmt.Sprintf("%d certificates", n), Message: fmt.Sprintf("the file holds %d certificates, more than %d; a .pfx for an app holds its certificate and its chain: export only those", n, MaxCertificates)}
}

// reexport is the advice for files this package cannot read.
const reexport = "re-export it with OpenSSL (openssl pkcs12 -in old.pfx -out all.pem -nodes, then openssl pkcs12 -export -in all.pem -out app.pfx) or on Windows with Export-PfxCertificate -CryptoAlgorithmOption AES256_SHA256"

func unsupportedAdvice(pe *pfx.Error) string {
	if strings.Contains(pe.Message, "re-export") || strings.Contains(pe.Message, "openssl") {
		return pe.Message
	}
	return pe.Message + "; " + reexport
}

// sniff recognises what the upload really is before PKCS#12 decoding, so that a certificate, a
// key or an archive gets a message naming it instead of "corrupt". It reads the file once
// (linear in its size) and does no arithmetic on any key it finds.
func sniff(data []byte) ([]byte, bool, error) {
	trimmed := trimText(data)
	if bytes.HasPrefix(trimmed, []byte("-----BEGIN")) {
		return nil, false, describePEM(trimmed)
	}
	if bytes.HasPrefix(data, []byte("PK\x03\x04")) {
		return nil, false, &Error{Code: CodeUnsupportedFormat, Feature: "ZIP archive", Message: "the file is a ZIP archive, not a .pfx; extract the .pfx from it and upload that"}
	}
	if len(trimmed) >= 64 && isBase64Text(trimmed) {
		if raw, err := decodeBase64(trimmed); err == nil && len(raw) > 0 && raw[0] == 0x30 {
			if err := describeDER(raw); err != nil {
				return nil, false, err
			}
			return raw, true, nil
		}
	}
	if data[0] != 0x30 {
		return nil, false, &Error{Code: CodeCorrupt, Message: "the file is not a .pfx (PKCS#12) file: it does not start like one; it may be damaged or a different kind of file"}
	}
	if err := describeDER(data); err != nil {
		return nil, false, err
	}
	return data, false, nil
}

// trimText drops a UTF-8 byte-order mark and surrounding white space.
func trimText(data []byte) []byte {
	return bytes.TrimSpace(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))
}

// decodeBase64 decodes base64 text in any alphabet, padded or not, ignoring line breaks.
func decodeBase64(text []byte) ([]byte, error) {
	compact := bytes.Map(func(r rune) rune {
		if r == '\r' || r == '\n' || r == ' ' || r == '\t' {
			return -1
		}
		return r
	}, text)
	var err error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		var raw []byte
		if raw, err = enc.DecodeString(string(compact)); err == nil {
			return raw, nil
		}
	}
	return nil, err
}

func isBase64Text(b []byte) bool {
	for _, c := range b {
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '+', c == '/', c == '=', c == '-', c == '_', c == '\r', c == '\n', c == ' ', c == '\t':
		default:
			return false
		}
	}
	return true
}

const makePFX = "build one from the certificate and its key with: openssl pkcs12 -export -inkey app.key -in app.crt -out app.pfx"

func describePEM(data []byte) error {
	blocks, err := scanPEM(data, func(string) bool { return false })
	if err != nil {
		return err
	}
	hasCert, hasKey := false, false
	for _, b := range blocks {
		switch t := b.Type; {
		case t == "CERTIFICATE" || t == "X509 CERTIFICATE" || t == "TRUSTED CERTIFICATE":
			hasCert = true
		case strings.HasSuffix(t, "PRIVATE KEY"):
			hasKey = true
		}
	}
	switch {
	case hasCert && hasKey:
		return &Error{Code: CodeUnsupportedFormat, Feature: "PEM certificate and key", Message: "the file is PEM text holding a certificate and a private key, not a .pfx; convert it with: openssl pkcs12 -export -in file.pem -out app.pfx"}
	case hasCert:
		return &Error{Code: CodeUnsupportedFormat, Feature: "PEM certificate", Message: "the file is a PEM certificate (.crt/.cer), not a .pfx: it holds no private key. This is the file to upload to Entra ID; here choose the .pfx exported with the private key, or " + makePFX}
	case hasKey:
		return &Error{Code: CodeUnsupportedFormat, Feature: "PEM private key", Message: "the file is a PEM private key, not a .pfx: it holds no certificate; " + makePFX}
	case len(blocks) > 0:
		return &Error{Code: CodeUnsupportedFormat, Feature: "PEM " + blocks[0].Type, Message: fmt.Sprintf("the file is PEM text of type %q, not a .pfx", blocks[0].Type)}
	}
	return &Error{Code: CodeCorrupt, Message: "the file starts like PEM text but is damaged; it is not a .pfx either"}
}

// describeDER returns an error when DER data is a certificate, a key or a PKCS#7 bundle rather
// than a .pfx; nil when it may be a .pfx. It looks at the structure only (derShape).
func describeDER(data []byte) error {
	switch derShape(data) {
	case "certificate":
		return &Error{Code: CodeUnsupportedFormat, Feature: "DER certificate", Message: "the file is a DER certificate (.cer), not a .pfx: it holds no private key. This is the file to upload to Entra ID; here choose the .pfx exported with the private key, or " + makePFX}
	case "pkcs8":
		return &Error{Code: CodeUnsupportedFormat, Feature: "DER private key", Message: "the file is a DER (PKCS#8) private key, not a .pfx: it holds no certificate; " + makePFX}
	case "pkcs1":
		return &Error{Code: CodeUnsupportedFormat, Feature: "DER private key", Message: "the file is a DER (PKCS#1) RSA private key, not a .pfx: it holds no certificate; " + makePFX}
	case "pkcs7":
		return &Error{Code: CodeUnsupportedFormat, Feature: "PKCS#7 certificate bundle", Message: "the file is a PKCS#7 certificate bundle (.p7b), not a .pfx: it holds no private key; export the certificate with its private key as .pfx"}
	}
	return nil
}

type parsedKey struct {
	signer crypto.Signer
	bag    pfx.Bag
}

type parsedCert struct {
	cert *x509.Certificate
	bag  pfx.Bag
}

// interpret parses the keys and certificates internal/pfx decoded, refusing oversized keys
// before crypto/x509 does arithmetic on them.
func interpret(ctx context.Context, res *pfx.Result) (*Bundle, error) {
	if len(res.Keys) > MaxKeys {
		return nil, &Error{Code: CodeTooManyParts, Feature: fmt.Sprintf("%d private keys", len(res.Keys)), Message: fmt.Sprintf("the file holds %d private keys, more than %d; export only the app's certificate and its key", len(res.Keys), MaxKeys)}
	}
	if len(res.Certs) > MaxCertificates {
		return nil, tooManyCerts(len(res.Certs))
	}
	var keys []parsedKey
	for _, kb := range res.Keys {
		if err := canceled(ctx); err != nil {
			return nil, err
		}
		if err := checkPKCS8Size(kb.DER); err != nil {
			return nil, err
		}
		k, err := x509.ParsePKCS8PrivateKey(kb.DER)
		if err != nil {
			return nil, &Error{Code: CodeUnsupportedFormat, Feature: "private key " + pkcs8Algorithm(kb.DER), Message: fmt.Sprintf("the file's private key (algorithm %s) cannot be read: %v; export the key as RSA 2048 or larger", pkcs8Algorithm(kb.DER), err)}
		}
		s, ok := k.(crypto.Signer)
		if !ok {
			return nil, &Error{Code: CodeUnsupportedFormat, Feature: fmt.Sprintf("private key %T", k), Message: fmt.Sprintf("the file's private key (%T) cannot sign; an app certificate needs an RSA key", k)}
		}
		keys = append(keys, parsedKey{s, kb})
	}
	var certs []parsedCert
	for _, cb := range res.Certs {
		if err := canceled(ctx); err != nil {
			return nil, err
		}
		c, err := x509.ParseCertificate(cb.DER)
		if err != nil {
			return nil, &Error{Code: CodeUnsupportedFormat, Feature: "unparsable certificate", Message: fmt.Sprintf("a certificate in the file cannot be parsed (%v); re-issue it with a standard tool", err)}
		}
		if err := checkPublicKeySize(c.PublicKey, "certificate's key"); err != nil {
			return nil, err
		}
		certs = append(certs, parsedCert{c, cb})
	}
	return interpretParsed(ctx, keys, certs)
}

// publicKeyID is a canonical encoding of a public key, for matching keys to certificates in one
// map lookup; "" for a key x509 cannot encode.
func publicKeyID(pub crypto.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return ""
	}
	return string(der)
}

// interpretParsed picks the leaf by the key, never by the file's order, and orders the chain.
// Matching keys to certificates is one map lookup per key; the issuer search is bounded by
// certGraph.
func interpretParsed(ctx context.Context, keys []parsedKey, certs []parsedCert) (*Bundle, error) {
	b := &Bundle{}
	leaf := -1
	byKey := map[string][]int{}
	for ci, c := range certs {
		if id := publicKeyID(c.cert.PublicKey); id != "" {
			byKey[id] = append(byKey[id], ci)
		}
	}
	// Prefer a key with a certificate of its own; among certificates for that key prefer the
	// one with the same localKeyId, then the latest NotAfter.
	keyIdx := -1
	for ki, k := range keys {
		id := publicKeyID(k.signer.Public())
		if id == "" {
			continue
		}
		for _, ci := range byKey[id] {
			if leaf == -1 || better(certs[ci], certs[leaf], k.bag.LocalKeyID) {
				keyIdx, leaf = ki, ci
			}
		}
		if keyIdx != -1 {
			break
		}
	}
	if keyIdx >= 0 {
		b.KeyMatchesLeaf = true
	} else if len(keys) > 0 {
		keyIdx = 0
		// No certificate for the key: the certificate the file links to it by localKeyId,
		// else the end-entity certificate.
		for ci, c := range certs {
			if len(keys[0].bag.LocalKeyID) > 0 && bytes.Equal(c.bag.LocalKeyID, keys[0].bag.LocalKeyID) {
				leaf = ci
				break
			}
		}
	}
	all := make([]*x509.Certificate, len(certs))
	for i, c := range certs {
		all[i] = c.cert
	}
	g := newCertGraph(all)
	if leaf < 0 && len(certs) > 0 {
		var err error
		if leaf, err = g.endEntity(ctx); err != nil {
			return nil, err
		}
	}
	if keyIdx >= 0 {
		b.PrivateKey = keys[keyIdx].signer
		b.FriendlyName = keys[keyIdx].bag.FriendlyName
		for ki, k := range keys {
			if ki != keyIdx {
				b.ExtraKeys = append(b.ExtraKeys, k.signer)
			}
		}
	}
	if leaf >= 0 {
		b.Leaf = certs[leaf].cert
		if b.FriendlyName == "" {
			b.FriendlyName = certs[leaf].bag.FriendlyName
		}
		b.Chain, b.Extra = g.chain(leaf)
		fillLeafFacts(b, g.selfSigned(leaf))
	}
	var pub crypto.PublicKey
	if b.PrivateKey != nil {
		pub = b.PrivateKey.Public()
	} else if b.Leaf != nil {
		pub = b.Leaf.PublicKey
	}
	b.KeyType, b.KeyBits, b.Curve = describeKey(pub)
	return b, nil
}

func better(a, b parsedCert, keyID []byte) bool {
	am := len(keyID) > 0 && bytes.Equal(a.bag.LocalKeyID, keyID)
	bm := len(keyID) > 0 && bytes.Equal(b.bag.LocalKeyID, keyID)
	if am != bm {
		return am
	}
	return a.cert.NotAfter.After(b.cert.NotAfter)
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	ea, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && ea.Equal(b)
}

func describeKey(pub crypto.PublicKey) (KeyType, int, string) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return KeyRSA, k.N.BitLen(), ""
	case *ecdsa.PublicKey:
		return KeyECDSA, k.Curve.Params().BitSize, k.Curve.Params().Name
	case ed25519.PublicKey:
		return KeyEd25519, 256, ""
	case nil:
		return "", 0, ""
	}
	return KeyType(fmt.Sprintf("%T", pub)), 0, ""
}

var ekuNames = map[x509.ExtKeyUsage]string{
	x509.ExtKeyUsageAny: "any", x509.ExtKeyUsageServerAuth: "serverAuth", x509.ExtKeyUsageClientAuth: "clientAuth",
	x509.ExtKeyUsageCodeSigning: "codeSigning", x509.ExtKeyUsageEmailProtection: "emailProtection",
	x509.ExtKeyUsageTimeStamping: "timeStamping", x509.ExtKeyUsageOCSPSigning: "OCSPSigning",
	x509.ExtKeyUsageIPSECEndSystem: "ipsecEndSystem", x509.ExtKeyUsageIPSECTunnel: "ipsecTunnel", x509.ExtKeyUsageIPSECUser: "ipsecUser",
	x509.ExtKeyUsageMicrosoftServerGatedCrypto: "msSGC", x509.ExtKeyUsageNetscapeServerGatedCrypto: "nsSGC",
	x509.ExtKeyUsageMicrosoftCommercialCodeSigning: "msCodeCom", x509.ExtKeyUsageMicrosoftKernelCodeSigning: "msKernelCode",
}

func fillLeafFacts(b *Bundle, selfSigned bool) {
	c := b.Leaf
	b.Subject = c.Subject.String()
	b.Issuer = c.Issuer.String()
	b.SerialNumber = strings.ToUpper(c.SerialNumber.Text(16))
	b.NotBefore, b.NotAfter = c.NotBefore, c.NotAfter
	for _, u := range c.ExtKeyUsage {
		if n, ok := ekuNames[u]; ok {
			b.ExtKeyUsage = append(b.ExtKeyUsage, n)
		}
	}
	for _, oid := range c.UnknownExtKeyUsage {
		b.ExtKeyUsage = append(b.ExtKeyUsage, oid.String())
	}
	b.SelfSigned = selfSigned
	t := ThumbprintsOf(c)
	b.SHA1Thumbprint, b.CustomKeyIdentifier, b.SHA256Thumbprint = t.SHA1, t.CustomKeyIdentifier, t.SHA256
}

// Thumbprints are a certificate's fingerprints in the forms Entra ID and JOSE use.
type Thumbprints struct {
	SHA1                string // uppercase hex, the portal's "Thumbprint"
	CustomKeyIdentifier string // standard base64 of the SHA-1, Graph keyCredential.customKeyIdentifier
	SHA256              string // base64url without padding, the x5t#S256 JOSE header (RFC 7515)
}

// ThumbprintsOf computes c's thumbprints. c must not be nil.
func ThumbprintsOf(c *x509.Certificate) Thumbprints {
	s1 := sha1.Sum(c.Raw)
	s256 := sha256.Sum256(c.Raw)
	return Thumbprints{
		SHA1:                strings.ToUpper(hex.EncodeToString(s1[:])),
		CustomKeyIdentifier: base64.StdEncoding.EncodeToString(s1[:]),
		SHA256:              base64.RawURLEncoding.EncodeToString(s256[:]),
	}
}

// MatchesThumbprint reports whether s names the bundle's leaf certificate: SHA-1 or SHA-256 as
// hex (any case, colons or spaces allowed) or as base64 in the standard or URL alphabet, padded
// or not (x5t, x5t#S256, customKeyIdentifier, and MSAL Go's standard-base64 x5t#S256 all match).
func (b *Bundle) MatchesThumbprint(s string) bool {
	if b == nil || b.Leaf == nil {
		return false
	}
	return certMatchesThumbprint(b.Leaf, s)
}

func certMatchesThumbprint(c *x509.Certificate, s string) bool {
	s1 := sha1.Sum(c.Raw)
	s256 := sha256.Sum256(c.Raw)
	var cands [][]byte
	h := strings.NewReplacer(":", "", " ", "", "-", "").Replace(strings.TrimSpace(s))
	if raw, err := hex.DecodeString(h); err == nil {
		cands = append(cands, raw)
	}
	t := strings.TrimRight(strings.TrimSpace(s), "=")
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		if raw, err := enc.DecodeString(t); err == nil {
			cands = append(cands, raw)
		}
	}
	for _, c := range cands {
		if bytes.Equal(c, s1[:]) || bytes.Equal(c, s256[:]) {
			return true
		}
	}
	return false
}

// pkcs8Algorithm returns the algorithm OID of a PKCS#8 PrivateKeyInfo, for messages.
func pkcs8Algorithm(der []byte) string {
	var pki struct {
		Version int
		Algo    struct {
			Algorithm asn1.ObjectIdentifier
			Params    asn1.RawValue `asn1:"optional"`
		}
		Key []byte
	}
	if _, err := asn1.Unmarshal(der, &pki); err != nil {
		return "unknown"
	}
	if n, ok := keyAlgNames[pki.Algo.Algorithm.String()]; ok {
		return n
	}
	return pki.Algo.Algorithm.String()
}

var keyAlgNames = map[string]string{
	"1.2.840.113549.1.1.1":  "RSA",
	"1.2.840.113549.1.1.10": "RSASSA-PSS",
	"1.2.840.10045.2.1":     "EC",
	"1.3.101.112":           "Ed25519",
	"1.3.101.113":           "Ed448",
	"1.3.101.110":           "X25519",
	"1.2.840.10040.4.1":     "DSA",
}
