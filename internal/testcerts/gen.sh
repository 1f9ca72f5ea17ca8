#!/usr/bin/env bash
# gen.sh regenerates the PKCS#12 test corpus in certs/testdata/corpus with the real tools that
# customers use to export a .pfx: OpenSSL 3, Java keytool, NSS pk12util, GnuTLS certtool and Go's
# go-pkcs12 encoder. Every command that makes a committed file is written out below, so a reviewer
# can see exactly which tool and options produced which file.
#
# Debian: apt-get install -y openssl default-jre-headless libnss3-tools gnutls-bin
# Run from the repository root:   internal/testcerts/gen.sh
#
# Output: certs/testdata/corpus/*.pfx (and a few .cer/.crt/.pem), plus manifest.txt with one line
# per file: NAME PASSWORD-ID SHA1-OF-LEAF-BY-OPENSSL. The Go table test in certs/corpus_test.go
# holds the expected verdicts and checks thumbprints against this independent OpenSSL fingerprint.
#
# Passwords (PASSWORD-ID in the manifest):
#   std   = Pa55-word
#   empty = (empty string)
#   bmp   = pä€w-Ünïcødé          non-ASCII, inside UCS-2
#   emoji = p🔑ss😀                 outside UCS-2 (UTF-16 surrogate pairs)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=$ROOT/certs/testdata/corpus
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$OUT"
rm -f "$OUT"/*
cd "$WORK"

export STD='Pa55-word'
export BMP='pä€w-Ünïcødé'
export EMOJI='p🔑ss😀'
export EMPTY=''

manifest() { # manifest NAME PWID CERT.pem  — records OpenSSL's own SHA-1 fingerprint of the leaf
	local fp=-
	if [ -n "${3:-}" ]; then
		fp=$(openssl x509 -in "$3" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g')
	fi
	echo "$1 $2 $fp" >>"$OUT/manifest.txt"
}

ext_leaf() { printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n' >leaf.ext; }
ext_ca() { printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n' >ca.ext; }
ext_leaf
ext_ca

# --- A CA hierarchy: root -> intermediate -> leaf (RSA 2048, clientAuth) ---------------------------
openssl req -x509 -newkey rsa:2048 -nodes -keyout root.key -out root.pem -days 3650 -subj '/CN=Tenantapps Test Root CA' \
	-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
openssl req -new -newkey rsa:2048 -nodes -keyout int.key -out int.csr -subj '/CN=Tenantapps Test Intermediate CA'
openssl x509 -req -in int.csr -CA root.pem -CAkey root.key -CAcreateserial -days 3650 -extfile ca.ext -out int.pem
openssl req -new -newkey rsa:2048 -nodes -keyout leaf.key -out leaf.csr -subj '/CN=contoso-backup-app/O=Contoso'
openssl x509 -req -in leaf.csr -CA int.pem -CAkey int.key -CAcreateserial -days 730 -sha256 -extfile leaf.ext -out leaf.pem
cat int.pem root.pem >chain.pem

# --- Self-signed leaves, one per key type (OpenSSL) ---------------------------------------------------
selfsigned() { # selfsigned NAME KEYALG [extra req args...]
	local name=$1 alg=$2
	shift 2
	openssl req -x509 -newkey "$alg" -nodes -keyout "$name.key" -out "$name.pem" -days 730 -subj "/CN=$name" \
		-addext extendedKeyUsage=clientAuth "$@"
}
selfsigned rsa1024 rsa:1024
selfsigned rsa2048 rsa:2048
selfsigned rsa3072 rsa:3072
selfsigned rsa4096 rsa:4096
selfsigned p256 ec -pkeyopt ec_paramgen_curve:P-256
selfsigned p384 ec -pkeyopt ec_paramgen_curve:P-384
selfsigned ed25519 ed25519
selfsigned sha1signed rsa:2048 -sha1

# --- OpenSSL 3 exports -------------------------------------------------------------------------------
# Default (PBES2 PBKDF2-HMAC-SHA256 AES-256-CBC, HMAC-SHA256 MAC, 2048 iterations) with the chain.
openssl pkcs12 -export -inkey leaf.key -in leaf.pem -certfile chain.pem -name contoso -passout env:STD -out openssl3-default-chain.pfx
manifest openssl3-default-chain.pfx std leaf.pem
# -legacy (RC2-40 certificates, 3DES key, SHA-1 MAC) — what OpenSSL 1.x wrote by default.
openssl pkcs12 -export -legacy -inkey leaf.key -in leaf.pem -certfile chain.pem -passout env:STD -out openssl3-legacy-chain.pfx
manifest openssl3-legacy-chain.pfx std leaf.pem
# Windows Export-PfxCertificate -CryptoAlgorithmOption TripleDES_SHA1 layout (PBE-SHA1-3DES both, SHA-1 MAC).
openssl pkcs12 -export -keypbe PBE-SHA1-3DES -certpbe PBE-SHA1-3DES -macalg sha1 -inkey leaf.key -in leaf.pem -passout env:STD -out windows-tripledes-sha1.pfx
manifest windows-tripledes-sha1.pfx std leaf.pem
# Every key type, OpenSSL 3 default encryption.
for k in rsa1024 rsa2048 rsa3072 rsa4096 p256 p384 ed25519 sha1signed; do
	openssl pkcs12 -export -inkey $k.key -in $k.pem -passout env:STD -out openssl3-$k.pfx
	manifest openssl3-$k.pfx std $k.pem
done
# Iteration counts: 1 (MAC and encryption), 2048 (default), 100000 (benchmark), 1000000.
openssl pkcs12 -export -iter 1 -nomaciter -inkey rsa2048.key -in rsa2048.pem -passout env:STD -out iter-1.pfx
manifest iter-1.pfx std rsa2048.pem
openssl pkcs12 -export -iter 2048 -inkey rsa2048.key -in rsa2048.pem -passout env:STD -out iter-2048.pfx
manifest iter-2048.pfx std rsa2048.pem
openssl pkcs12 -export -iter 100000 -inkey rsa2048.key -in rsa2048.pem -passout env:STD -out iter-100000.pfx
manifest iter-100000.pfx std rsa2048.pem
openssl pkcs12 -export -iter 1000000 -inkey rsa2048.key -in rsa2048.pem -passout env:STD -out iter-1000000.pfx
manifest iter-1000000.pfx std rsa2048.pem
# Passwords: empty, non-ASCII (BMP), emoji (outside UCS-2).
openssl pkcs12 -export -inkey rsa2048.key -in rsa2048.pem -passout pass: -out password-empty.pfx
manifest password-empty.pfx empty rsa2048.pem
openssl pkcs12 -export -inkey rsa2048.key -in rsa2048.pem -passout env:BMP -out password-bmp.pfx
manifest password-bmp.pfx bmp rsa2048.pem
openssl pkcs12 -export -legacy -inkey rsa2048.key -in rsa2048.pem -passout env:BMP -out password-bmp-legacy.pfx
manifest password-bmp-legacy.pfx bmp rsa2048.pem
openssl pkcs12 -export -inkey rsa2048.key -in rsa2048.pem -passout env:EMOJI -out password-emoji.pfx
manifest password-emoji.pfx emoji rsa2048.pem
openssl pkcs12 -export -legacy -inkey rsa2048.key -in rsa2048.pem -passout env:EMOJI -out password-emoji-legacy.pfx
manifest password-emoji-legacy.pfx emoji rsa2048.pem
# Azure Key Vault style: no password, nothing encrypted (MAC with the empty password), and without a MAC.
openssl pkcs12 -export -keypbe NONE -certpbe NONE -inkey rsa2048.key -in rsa2048.pem -passout pass: -out keyvault-nopassword.pfx
manifest keyvault-nopassword.pfx empty rsa2048.pem
openssl pkcs12 -export -keypbe NONE -certpbe NONE -nomac -inkey rsa2048.key -in rsa2048.pem -passout pass: -out nomac-unencrypted.pfx
manifest nomac-unencrypted.pfx empty rsa2048.pem
# Unusual formats go-pkcs12 v0.7.4 rejects: SHA-384 / SHA-224 MAC, PBES2 with 3DES, no MAC but encrypted.
openssl pkcs12 -export -macalg sha384 -inkey rsa2048.key -in rsa2048.pem -passout env:STD -out mac-sha384.pfx
manifest mac-sha384.pfx std rsa2048.pem
openssl pkcs12 -export -macalg sha512 -inkey rsa2048.key -in rsa2048.pem -passout env:STD -out mac-sha512.pfx
manifest mac-sha512.pfx std rsa2048.pem
openssl pkcs12 -export -macalg sha224 -inkey rsa2048.key -in rsa2048.pem -passout env:STD -out mac-sha224.pfx
manifest mac-sha224.pfx std rsa2048.pem
openssl pkcs12 -export -keypbe des-ede3-cbc -certpbe des-ede3-cbc -inkey rsa2048.key -in rsa2048.pem -passout env:STD -out pbes2-3des.pfx
manifest pbes2-3des.pfx std rsa2048.pem
openssl pkcs12 -export -keypbe aes-128-cbc -certpbe aes-128-cbc -inkey rsa2048.key -in rsa2048.pem -passout env:STD -out pbes2-aes128.pfx
manifest pbes2-aes128.pfx std rsa2048.pem
openssl pkcs12 -export -nomac -inkey rsa2048.key -in rsa2048.pem -passout env:STD -out nomac-encrypted.pfx
manifest nomac-encrypted.pfx std rsa2048.pem
# Certificates only (no key), and the chain given to OpenSSL out of order (OpenSSL still puts the
# key's certificate first; see certtool and Go below for a file whose first certificate is not the leaf).
openssl pkcs12 -export -nokeys -in leaf.pem -certfile chain.pem -passout env:STD -out certs-only.pfx
manifest certs-only.pfx std leaf.pem
cat root.pem leaf.pem int.pem >chain-shuffled.pem
openssl pkcs12 -export -inkey leaf.key -in chain-shuffled.pem -passout env:STD -out openssl3-chain-input-shuffled.pfx
manifest openssl3-chain-input-shuffled.pfx std leaf.pem

# --- Expired and not-yet-valid (certtool templates can set any dates) ---------------------------------
printf 'cn = "expired-app"\nactivation_date = "2020-01-01 00:00:00"\nexpiration_date = "2021-01-01 00:00:00"\ntls_www_client\nsigning_key\n' >expired.tmpl
printf 'cn = "future-app"\nactivation_date = "2090-01-01 00:00:00"\nexpiration_date = "2092-01-01 00:00:00"\ntls_www_client\nsigning_key\n' >future.tmpl
certtool --generate-privkey --key-type rsa --bits 2048 --outfile dated.key 2>/dev/null
certtool --generate-self-signed --load-privkey dated.key --template expired.tmpl --outfile expired.pem 2>/dev/null
certtool --generate-self-signed --load-privkey dated.key --template future.tmpl --outfile future.pem 2>/dev/null
openssl pkcs12 -export -inkey dated.key -in expired.pem -passout env:STD -out expired.pfx
manifest expired.pfx std expired.pem
openssl pkcs12 -export -inkey dated.key -in future.pem -passout env:STD -out not-yet-valid.pfx
manifest not-yet-valid.pfx std future.pem

# --- GnuTLS certtool ---------------------------------------------------------------------------------
certtool --load-privkey leaf.key --load-certificate leaf.pem --load-ca-certificate chain.pem --to-p12 --outder \
	--p12-name contoso --password "$STD" --outfile certtool-default-chain.pfx 2>/dev/null
manifest certtool-default-chain.pfx std leaf.pem
certtool --load-privkey rsa2048.key --load-certificate rsa2048.pem --to-p12 --outder --hash SHA512 --pkcs-cipher 3des-pkcs12 \
	--p12-name app --password "$STD" --outfile certtool-3des-sha512.pfx 2>/dev/null
manifest certtool-3des-sha512.pfx std rsa2048.pem
# Chain file in the wrong order: certtool writes the certificates in the order given.
cat root.pem leaf.pem int.pem >shuffled-for-certtool.pem
certtool --load-privkey leaf.key --load-certificate shuffled-for-certtool.pem --to-p12 --outder \
	--p12-name contoso --password "$STD" --outfile certtool-chain-out-of-order.pfx 2>/dev/null
manifest certtool-chain-out-of-order.pfx std leaf.pem
# Key that does not belong to the certificate (certtool does not check).
certtool --load-privkey p256.key --load-certificate rsa2048.pem --to-p12 --outder \
	--p12-name app --password "$STD" --outfile certtool-key-mismatch.pfx 2>/dev/null
manifest certtool-key-mismatch.pfx std rsa2048.pem

# --- Java keytool (PKCS12 store type) -------------------------------------------------------------------
keytool -genkeypair -keyalg RSA -keysize 2048 -sigalg SHA256withRSA -storetype PKCS12 -keystore keytool-default.pfx \
	-storepass "$STD" -alias app -dname 'CN=keytool-app' -validity 730 -ext eku=clientAuth 2>/dev/null
keytool -exportcert -rfc -keystore keytool-default.pfx -storepass "$STD" -alias app -file keytool-default.pem 2>/dev/null
manifest keytool-default.pfx std keytool-default.pem
keytool -J-Dkeystore.pkcs12.legacy -genkeypair -keyalg RSA -keysize 2048 -sigalg SHA256withRSA -storetype PKCS12 -keystore keytool-legacy.pfx \
	-storepass "$STD" -alias app -dname 'CN=keytool-legacy-app' -validity 730 2>/dev/null
keytool -J-Dkeystore.pkcs12.legacy -exportcert -rfc -keystore keytool-legacy.pfx -storepass "$STD" -alias app -file keytool-legacy.pem 2>/dev/null
manifest keytool-legacy.pfx std keytool-legacy.pem
keytool -J-Dkeystore.pkcs12.keyProtectionAlgorithm=PBEWithHmacSHA512AndAES_256 -J-Dkeystore.pkcs12.macAlgorithm=HmacPBESHA512 \
	-genkeypair -keyalg RSA -keysize 3072 -storetype PKCS12 -keystore keytool-sha512.pfx \
	-storepass "$STD" -alias app -dname 'CN=keytool-sha512-app' -validity 730 2>/dev/null
keytool -exportcert -rfc -keystore keytool-sha512.pfx -storepass "$STD" -alias app -file keytool-sha512.pem 2>/dev/null
manifest keytool-sha512.pfx std keytool-sha512.pem
keytool -genkeypair -keyalg EC -groupname secp256r1 -storetype PKCS12 -keystore keytool-ec.pfx \
	-storepass "$STD" -alias app -dname 'CN=keytool-ec-app' -validity 730 2>/dev/null
keytool -exportcert -rfc -keystore keytool-ec.pfx -storepass "$STD" -alias app -file keytool-ec.pem 2>/dev/null
manifest keytool-ec.pfx std keytool-ec.pem
# Two private keys in one store (two aliases).
keytool -genkeypair -keyalg RSA -keysize 2048 -storetype PKCS12 -keystore keytool-two-keys.pfx -storepass "$STD" -alias first -dname 'CN=first' 2>/dev/null
keytool -genkeypair -keyalg RSA -keysize 2048 -storetype PKCS12 -keystore keytool-two-keys.pfx -storepass "$STD" -alias second -dname 'CN=second' 2>/dev/null
manifest keytool-two-keys.pfx std
# A trust store: certificates only, with Java's trusted-certificate attribute.
keytool -importcert -noprompt -storetype PKCS12 -keystore keytool-truststore.pfx -storepass "$STD" -alias root -file root.pem 2>/dev/null
manifest keytool-truststore.pfx std root.pem

# --- NSS pk12util (BER, indefinite lengths) ---------------------------------------------------------
mkdir nssdb
certutil -N -d sql:nssdb --empty-password
pk12util -i openssl3-default-chain.pfx -d sql:nssdb -W "$STD" >/dev/null
pk12util -o nss-pk12util.pfx -n contoso -d sql:nssdb -W "$STD" >/dev/null
manifest nss-pk12util.pfx std leaf.pem
pk12util -o nss-pk12util-legacy.pfx -n contoso -d sql:nssdb -W "$STD" -c "PKCS #12 V2 PBE With SHA-1 And 3KEY Triple DES-CBC" -C "PKCS #12 V2 PBE With SHA-1 And 40 Bit RC2 CBC" >/dev/null
manifest nss-pk12util-legacy.pfx std leaf.pem

# --- Go (software.sslmate.com/src/go-pkcs12 encoders: LegacyRC2, LegacyDES, Modern2023, Modern2026/PBMAC1,
# Passwordless; and files whose first certificate is not the key's) ---------------------------------
(cd "$ROOT" && go run ./internal/testcerts/gogen -out "$OUT" -leaf "$WORK/leaf.pem" -key "$WORK/leaf.key" -chain "$WORK/chain.pem" \
	-otherkey "$WORK/p256.key")

# --- Not a .pfx, or damaged --------------------------------------------------------------------------
cp leaf.pem "$OUT/leaf.crt"                                           # PEM certificate (for Pair)
openssl x509 -in leaf.pem -outform DER -out "$OUT/leaf.cer"           # DER certificate (for Pair)
cat leaf.pem chain.pem >"$OUT/leaf-chain.crt"                         # PEM chain file (for Pair)
cp rsa2048.pem "$OUT/other.crt"                                       # a different certificate (for Pair)
manifest leaf.crt - leaf.pem
cp leaf.pem "$OUT/pem-cert-renamed.pfx"; manifest pem-cert-renamed.pfx std leaf.pem
cp "$OUT/leaf.cer" "$OUT/der-cert-renamed.pfx"; manifest der-cert-renamed.pfx std leaf.pem
cp leaf.key "$OUT/pem-key-renamed.pfx"; manifest pem-key-renamed.pfx std
: >"$OUT/empty.pfx"; manifest empty.pfx std
head -c 2500 /dev/urandom >"$OUT/random.pfx"; manifest random.pfx std
f=openssl3-default-chain.pfx
head -c $(($(stat -c %s $f) / 2)) $f >"$OUT/truncated.pfx"; manifest truncated.pfx std
# One byte changed inside the encrypted key bag (the MAC then fails although the password is right).
cp $f "$OUT/bitflip-keybag.pfx"
python3 - "$OUT/bitflip-keybag.pfx" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, 'rb').read())
b[len(b) - 200] ^= 0x01
open(p, 'wb').write(bytes(b))
PY
manifest bitflip-keybag.pfx std leaf.pem
base64 -w0 openssl3-rsa2048.pfx >"$OUT/base64-text.pfx"; manifest base64-text.pfx std rsa2048.pem

cp $f "$OUT/$f" 2>/dev/null || true
for f in *.pfx; do [ -e "$OUT/$f" ] || cp "$f" "$OUT/$f"; done
sort -o "$OUT/manifest.txt" "$OUT/manifest.txt"
ls -la "$OUT" | wc -l
