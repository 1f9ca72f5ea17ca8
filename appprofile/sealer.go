package appprofile

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"sort"
)

// Sealer encrypts secrets (a .pfx, its password, a delegated token cache) before they reach the
// Store, and decrypts them when the Manager needs them. aad binds a ciphertext to its context (the
// profile ID and the field), so that a sealed value cannot be moved to another profile.
//
// Implementations must be safe for concurrent use. Errors must not contain the plaintext.
type Sealer interface {
	Seal(plaintext, aad []byte) (SealedSecret, error)
	Open(s SealedSecret, aad []byte) ([]byte, error)
}

// ErrUnseal is returned (wrapped) when a sealed secret cannot be opened: unknown key ID, or the
// ciphertext was tampered with or moved.
var ErrUnseal = errors.New("appprofile: cannot open sealed secret")

// AESGCMSealer seals with AES-256-GCM under one of several keys named by key IDs: it seals with the
// current key and opens with whichever key a secret names, so keys can rotate (add a new key, make
// it current, re-seal at leisure with Reseal, then drop the old one).
type AESGCMSealer struct {
	current string
	aeads   map[string]cipher.AEAD
	rand    io.Reader
}

var _ Sealer = (*AESGCMSealer)(nil)

// SealerOption configures NewAESGCMSealer.
type SealerOption func(*AESGCMSealer)

// WithSealerRand sets the source of nonces (crypto/rand by default); for tests.
func WithSealerRand(r io.Reader) SealerOption { return func(s *AESGCMSealer) { s.rand = r } }

// NewAESGCMSealer returns a sealer over keys (key ID → 32-byte AES-256 key) that seals with
// currentKeyID. It copies the keys. It fails when a key is not 32 bytes, a key ID is empty or
// currentKeyID is not among the keys; the error never includes key material.
func NewAESGCMSealer(currentKeyID string, keys map[string][]byte, opts ...SealerOption) (*AESGCMSealer, error) {
	s := &AESGCMSealer{current: currentKeyID, aeads: map[string]cipher.AEAD{}, rand: rand.Reader}
	ids := make([]string, 0, len(keys))
	for id := range keys {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		k := keys[id]
		if id == "" {
			return nil, errors.New("appprofile: sealer key ID must not be empty")
		}
		if len(k) != 32 {
			return nil, fmt.Errorf("appprofile: sealer key %q is %d bytes; AES-256 needs exactly 32 (generate one with crypto/rand)", id, len(k))
		}
		block, err := aes.NewCipher(k)
		if err != nil {
			return nil, fmt.Errorf("appprofile: sealer key %q: %w", id, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("appprofile: sealer key %q: %w", id, err)
		}
		s.aeads[id] = aead
	}
	if _, ok := s.aeads[currentKeyID]; !ok {
		return nil, fmt.Errorf("appprofile: current sealer key %q is not among the %d keys given", currentKeyID, len(keys))
	}
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

// CurrentKeyID returns the ID of the key new secrets are sealed with.
func (s *AESGCMSealer) CurrentKeyID() string { return s.current }

// Seal encrypts plaintext under the current key with a fresh random nonce.
func (s *AESGCMSealer) Seal(plaintext, aad []byte) (SealedSecret, error) {
	aead := s.aeads[s.current]
	nonce := make([]byte, aead.NonceSize())
	if _, err := io.ReadFull(s.rand, nonce); err != nil {
		return SealedSecret{}, fmt.Errorf("appprofile: sealing: reading nonce: %w", err)
	}
	return SealedSecret{KeyID: s.current, Nonce: nonce, Ciphertext: aead.Seal(nil, nonce, plaintext, aad)}, nil
}

// Open decrypts a sealed secret with the key it names. Errors wrap ErrUnseal.
func (s *AESGCMSealer) Open(sec SealedSecret, aad []byte) ([]byte, error) {
	aead, ok := s.aeads[sec.KeyID]
	if !ok {
		return nil, fmt.Errorf("%w: key %q is not configured; add it to the sealer's keys", ErrUnseal, sec.KeyID)
	}
	if len(sec.Nonce) != aead.NonceSize() {
		return nil, fmt.Errorf("%w: nonce is %d bytes, want %d", ErrUnseal, len(sec.Nonce), aead.NonceSize())
	}
	pt, err := aead.Open(nil, sec.Nonce, sec.Ciphertext, aad)
	if err != nil {
		return nil, fmt.Errorf("%w: authentication failed (wrong key, tampered, or sealed for another profile)", ErrUnseal)
	}
	return pt, nil
}

// Reseal re-encrypts a secret under the sealer's current key (key rotation). A secret already
// sealed with the current key is returned as is.
func Reseal(s Sealer, sec SealedSecret, aad []byte) (SealedSecret, error) {
	if a, ok := s.(*AESGCMSealer); ok && sec.KeyID == a.current {
		return sec, nil
	}
	pt, err := s.Open(sec, aad)
	if err != nil {
		return SealedSecret{}, err
	}
	defer clear(pt)
	return s.Seal(pt, aad)
}
