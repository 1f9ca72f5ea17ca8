package pfx

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPKCS12KDF(t *testing.T) {
	tests := []struct {
		name     string
		password []byte
		salt     string
		iter     int
		id       byte
		n        int
		want     string
	}{
		// Vectors from go-pkcs12's pbkdf_test.go (SHA-1, long key, and an I_j with a leading zero byte).
		{"sha1 long key", bmpPassword("sesame"), "ffffffffffffffff", 2048, idKey, 24, "7cd9fd3e2b3be7691a44e3bef0f9ea0fb9b897d4e325d9d1"},
		{"sha1 leading zero", []byte{0, 0}, "f37e05b518324b4b", 2048, idKey, 24, "00f759ff47d14dd03665d5943cb3c4a39a2555c02aed66e1"},
	}
	for _, tt := range tests {
		salt, _ := hex.DecodeString(tt.salt)
		got := hex.EncodeToString(pkcs12KDF(sha1.New, tt.password, salt, tt.iter, tt.id, tt.n))
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: pkcs12KDF mismatch (-want +got):\n%s", tt.name, diff)
		}
	}
	// Output length follows n, and a longer output extends a shorter one.
	short := pkcs12KDF(sha512.New384, []byte{0, 'a', 0, 0}, []byte("salt"), 3, idMAC, 48)
	long := pkcs12KDF(sha512.New384, []byte{0, 'a', 0, 0}, []byte("salt"), 3, idMAC, 100)
	if len(short) != 48 || len(long) != 100 || string(long[:48]) != string(short) {
		t.Errorf("SHA-384 KDF lengths or prefix wrong: %d %d", len(short), len(long))
	}
	if a, b := pkcs12KDF(sha256.New, nil, nil, 0, idKey, 32), pkcs12KDF(sha256.New, nil, nil, 1, idKey, 32); string(a) != string(b) {
		t.Errorf("iterations 0 should behave as 1")
	}
}

func TestPasswordEncodings(t *testing.T) {
	tests := []struct {
		password string
		want     []string
	}{
		{"", []string{"0000", ""}},
		{"ab", []string{"006100620000"}},
		{"ä€", []string{"00e420ac0000", "00c300a400e2008200ac0000"}},
		{"🔑", []string{"d83ddd110000", "00f0009f00940091" + "0000"}},
		{"\xff", []string{"00ff0000"}}, // invalid UTF-8: byte-wise, as OpenSSL asc2uni
	}
	for _, tt := range tests {
		var got []string
		for _, c := range passwordCandidates(tt.password) {
			got = append(got, hex.EncodeToString(c))
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("passwordCandidates(%q) mismatch (-want +got):\n%s", tt.password, diff)
		}
	}
}
