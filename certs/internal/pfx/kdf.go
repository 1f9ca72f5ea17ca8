package pfx

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"hash"
	"unicode/utf16"
	"unicode/utf8"
)

// Key-derivation purposes of the PKCS#12 KDF (RFC 7292 appendix B.3).
const (
	idKey = 1
	idIV  = 2
	idMAC = 3
)

// pkcs12KDF is the PKCS#12 v1.1 key-derivation function (RFC 7292 appendix B.2) for any hash:
// u is the hash's output size and v its block size, which gives the RFC's table (SHA-1 20/64,
// SHA-256 32/64, SHA-384 48/128, SHA-512 64/128, ...). password is the BMPString encoding
// including its two-byte terminator. iterations below 1 are treated as 1.
func pkcs12KDF(newHash func() hash.Hash, password, salt []byte, iterations int, id byte, n int) []byte {
	h := newHash()
	u, v := h.Size(), h.BlockSize()
	if iterations < 1 {
		iterations = 1
	}
	d := make([]byte, v)
	for i := range d {
		d[i] = id
	}
	i := append(fill(salt, v), fill(password, v)...)
	c := (n + u - 1) / u
	out := make([]byte, 0, c*u)
	a := make([]byte, 0, u)
	b := make([]byte, v)
	for block := 0; block < c; block++ {
		h.Reset()
		h.Write(d)
		h.Write(i)
		a = h.Sum(a[:0])
		a = iterate(h, a, iterations-1)
		out = append(out, a...)
		if block == c-1 {
			break
		}
		// B = A repeated to v bytes; every v-byte block Ij of I becomes (Ij + B + 1) mod 2^(8v).
		for k := range b {
			b[k] = a[k%u]
		}
		for j := 0; j+v <= len(i); j += v {
			carry := 1
			for k := v - 1; k >= 0; k-- {
				sum := int(i[j+k]) + int(b[k]) + carry
				i[j+k] = byte(sum)
				carry = sum >> 8
			}
		}
	}
	return out[:n]
}

// iterate hashes a n more times. The common digests use the allocation-free Sum functions,
// about twice as fast as going through hash.Hash; (size, block size) identifies each digest
// this package uses uniquely.
func iterate(h hash.Hash, a []byte, n int) []byte {
	switch {
	case h.Size() == 20 && h.BlockSize() == 64: // SHA-1
		s := [20]byte(a)
		for ; n > 0; n-- {
			s = sha1.Sum(s[:])
		}
		return append(a[:0], s[:]...)
	case h.Size() == 32 && h.BlockSize() == 64: // SHA-256
		s := [32]byte(a)
		for ; n > 0; n-- {
			s = sha256.Sum256(s[:])
		}
		return append(a[:0], s[:]...)
	case h.Size() == 64 && h.BlockSize() == 128: // SHA-512
		s := [64]byte(a)
		for ; n > 0; n-- {
			s = sha512.Sum512(s[:])
		}
		return append(a[:0], s[:]...)
	}
	for ; n > 0; n-- {
		h.Reset()
		h.Write(a)
		a = h.Sum(a[:0])
	}
	return a
}

// fill repeats pattern to a multiple of v bytes (v * ceil(len(pattern)/v)); empty stays empty.
func fill(pattern []byte, v int) []byte {
	if len(pattern) == 0 {
		return nil
	}
	n := v * ((len(pattern) + v - 1) / v)
	out := make([]byte, n)
	for k := range out {
		out[k] = pattern[k%len(pattern)]
	}
	return out
}

// bmpPassword encodes a password the way PKCS#12 (and OpenSSL ≥ 1.1.0, Java, NSS, Windows) feed
// it to the PKCS#12 KDF: UTF-16 big-endian with a two-byte zero terminator. Characters outside
// UCS-2 (emoji) become surrogate pairs, as OpenSSL's OPENSSL_utf82uni writes them; go-pkcs12
// refuses such passwords. A string that is not valid UTF-8 is encoded byte by byte, like
// OpenSSL's OPENSSL_asc2uni.
func bmpPassword(password string) []byte {
	if !utf8.ValidString(password) {
		return bytewisePassword(password)
	}
	units := utf16.Encode([]rune(password))
	out := make([]byte, 0, 2*len(units)+2)
	for _, u := range units {
		out = append(out, byte(u>>8), byte(u))
	}
	return append(out, 0, 0)
}

// bytewisePassword is OpenSSL 1.0.x's encoding of a non-ASCII password: each byte of the UTF-8
// string becomes one UTF-16 unit (OPENSSL_asc2uni). OpenSSL ≥ 1.1.0 still tries it when the
// UTF-8 form fails, so files written by OpenSSL 1.0 with such passwords exist.
func bytewisePassword(password string) []byte {
	out := make([]byte, 0, 2*len(password)+2)
	for k := 0; k < len(password); k++ {
		out = append(out, 0, password[k])
	}
	return append(out, 0, 0)
}

// passwordCandidates lists the BMPString encodings worth trying for password, most likely first:
// the standard one; for the empty password also the zero-length string (both conventions exist:
// OpenSSL writes 00 00, some Windows and Java versions the empty string); for a non-ASCII
// password also OpenSSL 1.0's byte-wise form.
func passwordCandidates(password string) [][]byte {
	c := [][]byte{bmpPassword(password)}
	if password == "" {
		c = append(c, []byte{})
	}
	ascii := true
	for k := 0; k < len(password); k++ {
		if password[k] >= 0x80 {
			ascii = false
			break
		}
	}
	if !ascii && utf8.ValidString(password) {
		c = append(c, bytewisePassword(password))
	}
	return c
}
