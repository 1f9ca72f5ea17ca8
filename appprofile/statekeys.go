package appprofile

import (
	"crypto/sha256"
	"encoding/base64"
	"slices"
	"strings"

	"github.com/tenantapps/tenantapps/consent"
)

// WithStateKeys sets the keys that sign and verify consent state, for key rotation: the first key
// signs every new state (and derives its PKCE verifier), every key verifies. Key IDs name the keys
// inside each state (1-32 characters of A-Z a-z 0-9 _ -) and must be unique; each secret is at
// least 32 random bytes. The keys are copied.
//
// To rotate: put the new key first and keep the previous ones after it until the states they
// signed have expired (WithStateTTL, 15 minutes by default), then drop them. A Manager configured
// with WithStateKey(old) migrates by adding WithStateKeys(new): the WithStateKey key (key ID
// "appprofile") then only verifies, after the WithStateKeys keys.
func WithStateKeys(keys ...consent.StateKey) Option {
	return func(o *options) {
		o.stateKeys = make([]consent.StateKey, 0, len(keys))
		for _, k := range keys {
			o.stateKeys = append(o.stateKeys, consent.StateKey{ID: k.ID, Secret: slices.Clone(k.Secret)})
		}
	}
}

// allStateKeys returns the consent-state keys, signing key first: WithStateKeys's, then
// WithStateKey's (key ID "appprofile").
func (o *options) allStateKeys() []consent.StateKey {
	keys := slices.Clone(o.stateKeys)
	if o.stateKey != nil {
		keys = append(keys, consent.StateKey{ID: stateKeyID, Secret: o.stateKey})
	}
	return keys
}

// pkceVerifier derives the PKCE verifier of a state from the key that signed it (named in the
// encoded state, which the caller has verified) and the state's nonce, so nothing has to be
// stored between BeginConsent and CompleteConsent and a key rotation does not break a consent in
// flight.
func (m *Manager) pkceVerifier(encodedState, nonce string) consent.PKCEVerifier {
	var secret []byte
	keys := m.o.allStateKeys()
	if len(keys) > 0 {
		secret = keys[0].Secret
	}
	if parts := strings.Split(encodedState, "."); len(parts) == 4 {
		for _, k := range keys {
			if k.ID == parts[1] {
				secret = k.Secret
				break
			}
		}
	}
	sum := sha256.Sum256(append(append([]byte("pkce\x00"), secret...), nonce...))
	return consent.PKCEVerifier(base64.RawURLEncoding.EncodeToString(sum[:]))
}
