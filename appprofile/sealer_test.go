package appprofile

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func key(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

func TestAESGCMSealerRoundTripAndRotation(t *testing.T) {
	old, err := NewAESGCMSealer("k1", map[string][]byte{"k1": key(1)})
	if err != nil {
		t.Fatal(err)
	}
	secret := []byte("pfx-password")
	aad := []byte("profile-1/password")
	sealed, err := old.Seal(secret, aad)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed.Ciphertext, secret) || sealed.KeyID != "k1" {
		t.Fatalf("sealed = %+v: plaintext visible or wrong key ID", sealed)
	}
	rotated, err := NewAESGCMSealer("k2", map[string][]byte{"k1": key(1), "k2": key(2)})
	if err != nil {
		t.Fatal(err)
	}
	got, err := rotated.Open(sealed, aad)
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("Open after rotation = %q, %v", got, err)
	}
	resealed, err := Reseal(rotated, sealed, aad)
	if err != nil || resealed.KeyID != "k2" {
		t.Fatalf("Reseal = %+v, %v", resealed, err)
	}
	onlyNew, _ := NewAESGCMSealer("k2", map[string][]byte{"k2": key(2)})
	if got, err := onlyNew.Open(resealed, aad); err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("Open with new key only = %q, %v", got, err)
	}
	if _, err := onlyNew.Open(sealed, aad); !errors.Is(err, ErrUnseal) {
		t.Errorf("Open with dropped key: err = %v, want ErrUnseal", err)
	}
	if _, err := rotated.Open(sealed, []byte("profile-2/password")); !errors.Is(err, ErrUnseal) {
		t.Errorf("Open with other aad: err = %v, want ErrUnseal", err)
	}
	tampered := sealed
	tampered.Ciphertext = append([]byte{}, sealed.Ciphertext...)
	tampered.Ciphertext[0] ^= 1
	if _, err := rotated.Open(tampered, aad); !errors.Is(err, ErrUnseal) {
		t.Errorf("Open tampered: err = %v, want ErrUnseal", err)
	}
}

func TestNewAESGCMSealerRejects(t *testing.T) {
	tests := []struct {
		name    string
		current string
		keys    map[string][]byte
	}{
		{"short key", "k", map[string][]byte{"k": key(1)[:16]}},
		{"empty id", "", map[string][]byte{"": key(1)}},
		{"current missing", "k9", map[string][]byte{"k": key(1)}},
		{"no keys", "k", nil},
	}
	for _, tt := range tests {
		_, err := NewAESGCMSealer(tt.current, tt.keys)
		if err == nil {
			t.Errorf("%s: no error", tt.name)
			continue
		}
		if strings.Contains(err.Error(), string(key(1))) {
			t.Errorf("%s: error leaks key material", tt.name)
		}
	}
}

func FuzzSealerOpen(f *testing.F) {
	s, _ := NewAESGCMSealer("k1", map[string][]byte{"k1": key(1)})
	good, _ := s.Seal([]byte("x"), nil)
	f.Add(good.KeyID, good.Nonce, good.Ciphertext)
	f.Add("k2", []byte{}, []byte{})
	f.Fuzz(func(t *testing.T, kid string, nonce, ct []byte) {
		pt, err := s.Open(SealedSecret{KeyID: kid, Nonce: nonce, Ciphertext: ct}, nil)
		if err != nil && !errors.Is(err, ErrUnseal) {
			t.Fatalf("error %v does not wrap ErrUnseal", err)
		}
		if err == nil && (kid != "k1" || pt == nil) {
			t.Fatalf("opened forged secret")
		}
	})
}
