package appprofile

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// ErrBadState is wrapped when a consent callback's state is missing, malformed, forged or expired.
var ErrBadState = errors.New("appprofile: consent state is not valid")

// ErrStateReplayed is wrapped when a consent state was already used: each is honoured once.
var ErrStateReplayed = errors.New("appprofile: consent state was already used")

// consentState is the signed, single-use state that travels through Microsoft's consent pages.
type consentState struct {
	ProfileID string        `json:"p"`
	Tenant    string        `json:"t"`
	Method    ConsentMethod `json:"m"`
	Nonce     string        `json:"n"`
	Expires   int64         `json:"e"`
	// UserID / UPN of the consenter the portal vouched for at BeginConsent (admin consent callbacks
	// do not say who consented).
	UserID string `json:"u,omitempty"`
	UPN    string `json:"un,omitempty"`
	// Scopes requested from a user consent, when the caller chose them.
	Scopes []string `json:"sc,omitempty"`
}

const maxStateLen = 4096

func signState(key []byte, st consentState) (string, error) {
	body, err := json.Marshal(st)
	if err != nil {
		return "", err
	}
	b := base64.RawURLEncoding.EncodeToString(body)
	return b + "." + base64.RawURLEncoding.EncodeToString(mac(key, b)), nil
}

func mac(key []byte, s string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte("tenantapps consent state v1\x00"))
	h.Write([]byte(s))
	return h.Sum(nil)
}

// parseState verifies the signature and expiry of a state string.
func parseState(key []byte, s string, now time.Time) (consentState, error) {
	if s == "" {
		return consentState{}, fmt.Errorf("%w: the callback carries no state; start again with BeginConsent", ErrBadState)
	}
	if len(s) > maxStateLen {
		return consentState{}, fmt.Errorf("%w: state is %d bytes long", ErrBadState, len(s))
	}
	body, sig, ok := strings.Cut(s, ".")
	if !ok {
		return consentState{}, fmt.Errorf("%w: malformed", ErrBadState)
	}
	// Compare the canonical encoding: the base64 decoder skips CR and LF, which would make one
	// state acceptable in several spellings.
	if !hmac.Equal([]byte(sig), []byte(b64(mac(key, body)))) {
		return consentState{}, fmt.Errorf("%w: signature does not match (forged, or signed with another state key)", ErrBadState)
	}
	raw, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil {
		return consentState{}, fmt.Errorf("%w: malformed body", ErrBadState)
	}
	var st consentState
	if err := json.Unmarshal(raw, &st); err != nil || st.ProfileID == "" || st.Tenant == "" || st.Nonce == "" {
		return consentState{}, fmt.Errorf("%w: incomplete body", ErrBadState)
	}
	if !now.Before(time.Unix(st.Expires, 0)) {
		return consentState{}, fmt.Errorf("%w: expired at %s; start again with BeginConsent", ErrBadState, time.Unix(st.Expires, 0).UTC().Format(time.RFC3339))
	}
	return st, nil
}

func parseQuery(raw string) (url.Values, error) {
	if len(raw) > 16<<10 {
		return nil, fmt.Errorf("query is %d bytes long", len(raw))
	}
	return url.ParseQuery(strings.TrimPrefix(raw, "?"))
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
