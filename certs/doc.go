// Package certs opens, checks and makes the certificate of a custom app profile: a PKCS#12 file
// (.pfx/.p12) with its password, which must be "paired with the .cer/.crt file uploaded to
// Microsoft Entra ID".
//
// The three steps a portal needs:
//
//	b, err := certs.InspectContext(ctx, pfx, password) // open: wrong_password / corrupt / unsupported_format / ...
//	problems := certs.Validate(b, certs.Options{})     // judge: every problem at once, stable codes
//	err = certs.PairContext(ctx, b, cer)               // paired with the uploaded .cer/.crt?
//
// Inspect reads the files customers really have: OpenSSL 1.x and 3.x (default and -legacy),
// Windows Export-PfxCertificate (TripleDES-SHA1 and AES256-SHA256), Java keytool (PKCS12 and
// legacy), NSS pk12util (BER encoded), GnuTLS certtool, Azure Key Vault (no password, base64
// text), and go-pkcs12's encoders. It reads SHA-1/224/256/384/512 and PBMAC1 integrity checks,
// PBES2 with AES or 3DES under any HMAC PRF, the legacy RC2/RC4/3DES schemes, passwords with
// any Unicode character including emoji, and files without a MAC.
//
// Two readers share the work, and each key derivation runs once. internal/pfx (with a BER→DER
// normaliser in internal/ber) first scans the file's unencrypted structure without deriving
// anything: it enforces the caps and the iteration limit and prices every derivation it can
// see. go-pkcs12 (DecodeChain) then reads the file when its whole work is known in advance and
// fits the budget: go-pkcs12 v0.7.4 has no iteration limit and no context, and it decrypts
// the first key bag in file order, which behind an encrypted item nobody can price without
// decrypting that item. That holds where the first key bag is in the clear part of the file
// (Java keytool, Azure Key Vault, password-less files). Every other file — OpenSSL, Windows and
// go-pkcs12's own encoders write the encrypted certificates first, and everything go-pkcs12
// v0.7.4 refuses: BER (NSS), SHA-224/384 MACs, PBES2 with 3DES, passwords outside UCS-2 such as
// emoji, more than two authenticated-safe items (certtool), encrypted files without a MAC, two
// keys, certificate-only files — is read by internal/pfx, which charges each derivation to the
// budget before it runs, checks the context between derivations, tells a wrong password from a
// damaged file (go-pkcs12 calls both a wrong password), gives every error message, and provides
// Format and friendlyName. go-pkcs12 writes the files NewSelfSigned makes, and the tests check
// that it agrees with internal/pfx on every corpus file both can read. Only when go-pkcs12
// fails is a file read again, by internal/pfx, within what is left of the budget, and a MAC
// go-pkcs12 found wrong is not derived again.
//
// Untrusted uploads cost milliseconds, not minutes. An Inspector bounds the total key-derivation
// work of a file (MaxWork, default DefaultMaxWork, which every real tool's file fits), and
// refuses at once what its visible structure already prices above it; it caps items, keys
// (MaxKeys), certificates (MaxCertificates) and PEM blocks (MaxPEMBlocks), refuses RSA keys
// beyond MaxRSABits or MaxRSAExponent before any arithmetic on them (in certificates, keys and
// the upload sniffer), reads PEM and DER in one linear pass, and finds the leaf and the chain in
// linear time (indexes by name and key identifier, at most 16 signature verifications per
// file). Each refusal is an *Error with its own Code (work_limit, too_many_parts,
// key_too_large) and a message that says what to do. The Context variants (InspectContext,
// ParseCertificatesContext, PairContext, ValidateContext) stop when the context ends — a portal
// whose request is abandoned stops the work — with a canceled error that also matches
// ctx.Err(); the plain functions use context.Background(). BENCHMARKS.md has the cost of a
// generated hostile corpus.
//
// Inspect never trusts the file's order: the leaf is the certificate whose public key matches
// the private key, and Bundle.Chain is ordered leaf→root. A key that matches no certificate,
// a second key, or no key at all are reported by Validate (key_mismatch, multiple_keys,
// no_private_key), not hidden.
//
// Codes are a stable vocabulary shared with the CLI (tenantapps cert inspect): see Code.
// Nothing in this package logs; no error message contains the password or key material.
// All functions are safe for concurrent use; none does network I/O.
package certs
