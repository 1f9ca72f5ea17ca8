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
// any Unicode character including emoji, and files without a MAC.
//
// Two readers share the work. go-pkcs12 (DecodeChain) supplies the keys and certificates of
// every file it reads — most OpenSSL, Windows, keytool, Key Vault and go-pkcs12 files — and
// writes the files NewSelfSigned makes. internal/pfx (with a BER→DER normaliser in internal/ber)
// supplies them for what go-pkcs12 v0.7.4 refuses or cannot represent: BER (NSS), SHA-224/384
// MACs, PBES2 with 3DES, passwords outside UCS-2 such as emoji, more than two
// authenticated-safe items (certtool), encrypted files without a MAC, two keys, and
// certificate-only files. internal/pfx also reads every file first, and that pass is not
// optional: it enforces Inspector.MaxIterations before go-pkcs12 (which has no limit) runs any
// key derivation, it tells a wrong password from a damaged file (go-pkcs12 calls both a wrong
// password) and gives every error message, and it provides Format and friendlyName, which
// go-pkcs12 does not return. A file go-pkcs12 opens is therefore decrypted twice.
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
