// Package certs opens, checks and makes the certificate of a custom app profile: a PKCS#12 file
// (.pfx/.p12) with its password, which must be "paired with the .cer/.crt file uploaded to
// Microsoft Entra ID".
//
// The three steps a portal needs:
//
//	b, err := certs.Inspect(pfx, password)          // open: wrong_password / corrupt / unsupported_format
//	problems := certs.Validate(b, certs.Options{})  // judge: every problem at once, stable codes
//	err = certs.Pair(b, cer)                        // paired with the uploaded .cer/.crt?
//
// Inspect reads the files customers really have: OpenSSL 1.x and 3.x (default and -legacy),
// Windows Export-PfxCertificate (TripleDES-SHA1 and AES256-SHA256), Java keytool (PKCS12 and
// legacy), NSS pk12util (BER encoded), GnuTLS certtool, Azure Key Vault (no password, base64
// text), and go-pkcs12's encoders. It reads SHA-1/224/256/384/512 and PBMAC1 integrity checks,
// PBES2 with AES or 3DES under any HMAC PRF, the legacy RC2/RC4/3DES schemes, passwords with
// any Unicode character including emoji, and files without a MAC. The decoding lives in
// internal/pfx (with a BER→DER normaliser in internal/ber), because go-pkcs12 v0.7.4 refuses
// several of these; go-pkcs12 writes the files NewSelfSigned makes.
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
