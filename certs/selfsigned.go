package certs

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"strings"
	"time"

	pkcs12 "software.sslmate.com/src/go-pkcs12"
)

// SelfSignedOptions configure NewSelfSigned. CommonName and Password are required.
type SelfSignedOptions struct {
	// CommonName is the certificate's subject CN, for example the app's display name.
	CommonName string
	// Password protects the .pfx; it must not be empty (a password-less .pfx leaks the key to
	// anyone who copies the file).
	Password string
	// KeyBits is the RSA modulus size: 0 means 3072; below 2048 or above 8192 is an error.
	KeyBits int
	// Validity is the certificate lifetime from now: 0 means DefaultValidity.
	Validity time.Duration
	// Backdate moves NotBefore into the past to absorb clock skew between this machine and
	// Entra ID: 0 means DefaultBackdate; negative means none.
	Backdate time.Duration
	// Iterations is the PBKDF2 and MAC iteration count of the .pfx: 0 means 10000.
	Iterations int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Rand supplies the serial number and the .pfx salts and IVs; nil means crypto/rand.
	// (Since Go 1.26 RSA key generation always uses the system's secure source.)
	Rand io.Reader
}

const (
	DefaultKeyBits  = 3072
	DefaultValidity = 2 * 365 * 24 * time.Hour
	DefaultBackdate = 5 * time.Minute
)

// Generated is a new self-signed app certificate in the three files a customer needs.
type Generated struct {
	PFX []byte // PKCS#12: PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC), HMAC-SHA256 MAC; for the app profile
	CER []byte // DER certificate; upload to the app registration in Entra ID
	CRT []byte // the same certificate as PEM
	// Bundle is PFX opened again with Inspect, so what is returned is what a reader will see.
	Bundle *Bundle
}

// NewSelfSigned creates an RSA key and a self-signed certificate for client authentication
// (SHA-256 signature, clientAuth EKU, digitalSignature key usage) and returns it as .pfx, .cer and
// .crt. The .pfx uses modern encryption readable by OpenSSL ≥ 1.1.1, Java ≥ 12 and Windows
// Server 2019 / Windows 10 1709 and later. Invalid options give an error wrapping
// ErrInvalidOptions that names the option (never the password). Safe for concurrent use; it
// takes about as long as generating the RSA key (tens of milliseconds to a few seconds for
// 3072 bits).
func NewSelfSigned(opts SelfSignedOptions) (*Generated, error) {
	if strings.TrimSpace(opts.CommonName) == "" {
		return nil, fmt.Errorf("%w: CommonName is required", ErrInvalidOptions)
	}
	if opts.Password == "" {
		return nil, fmt.Errorf("%w: a password is required to protect the .pfx", ErrInvalidOptions)
	}
	for _, r := range opts.Password {
		if r > 0xFFFF {
			return nil, fmt.Errorf("%w: the password has a character outside UCS-2 (such as an emoji), which Windows and older tools cannot use for a .pfx; choose another password", ErrInvalidOptions)
		}
	}
	bits := opts.KeyBits
	if bits == 0 {
		bits = DefaultKeyBits
	}
	if bits < 2048 || bits > 8192 {
		return nil, fmt.Errorf("%w: KeyBits %d is outside 2048..8192", ErrInvalidOptions, bits)
	}
	validity := opts.Validity
	if validity == 0 {
		validity = DefaultValidity
	}
	if validity < 0 {
		return nil, fmt.Errorf("%w: Validity must be positive", ErrInvalidOptions)
	}
	backdate := opts.Backdate
	if backdate == 0 {
		backdate = DefaultBackdate
	}
	if backdate < 0 {
		backdate = 0
	}
	iter := opts.Iterations
	if iter == 0 {
		iter = 10000
	}
	if iter < 1000 || iter > DefaultMaxIterations {
		return nil, fmt.Errorf("%w: Iterations %d is outside 1000..%d", ErrInvalidOptions, iter, DefaultMaxIterations)
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	rnd := opts.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	t := now().UTC().Truncate(time.Second)

	key, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		return nil, fmt.Errorf("certs: generating the RSA key: %w", err)
	}
	serial, err := rand.Int(rnd, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("certs: generating the serial number: %w", err)
	}
	serial.Add(serial, big.NewInt(1)) // never zero
	pubDER, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("certs: encoding the public key: %w", err)
	}
	ski := sha1.Sum(pubDER)
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: opts.CommonName},
		NotBefore:             t.Add(-backdate),
		NotAfter:              t.Add(validity),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		SubjectKeyId:          ski[:],
		SignatureAlgorithm:    x509.SHA256WithRSA,
	}
	der, err := x509.CreateCertificate(rnd, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("certs: creating the certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("certs: reading back the certificate: %w", err)
	}
	pfxData, err := pkcs12.Modern2023.WithIterations(iter).WithRand(rnd).Encode(key, cert, nil, opts.Password)
	if err != nil {
		return nil, fmt.Errorf("certs: encoding the .pfx: %w", err)
	}
	b, err := Inspect(pfxData, opts.Password)
	if err != nil {
		return nil, fmt.Errorf("certs: the new .pfx does not read back: %w", err)
	}
	return &Generated{
		PFX:    pfxData,
		CER:    der,
		CRT:    pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		Bundle: b,
	}, nil
}
