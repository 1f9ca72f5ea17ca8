package consent

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"
)

// Errors of signed consent state. Each failure has its own sentinel; the typed errors carry detail.
var (
	// ErrInvalidStateKey: a StateKey is unusable (secret shorter than 32 bytes, bad or duplicate ID).
	ErrInvalidStateKey = errors.New("consent: invalid state key")
	// ErrStateMalformed: the state is not a state this package issued (wrong shape or version, too
	// long, bad encoding). Start consent again.
	ErrStateMalformed = errors.New("consent: malformed consent state")
	// ErrStateUnknownKey: the state names a key ID that is not among the verification keys. Either
	// it was forged, or it was signed with a key that was rotated out too early: keep an old key for
	// verification until every state it signed has expired.
	ErrStateUnknownKey = errors.New("consent: consent state signed with an unknown key")
	// ErrStateTampered: the signature does not match; the state was altered or forged.
	ErrStateTampered = errors.New("consent: consent state signature mismatch")
	// ErrStateExpired: the state is past its expiry. Start consent again.
	ErrStateExpired = errors.New("consent: consent state expired")
	// ErrStateTenantMismatch: the callback (or the redeemed token) is for another tenant than the
	// one consent was started for. Do not record the consent.
	ErrStateTenantMismatch = errors.New("consent: callback tenant differs from the consent's tenant")
	// ErrStateFlowMismatch: an admin-consent callback carries the state of a user consent, or the
	// reverse.
	ErrStateFlowMismatch = errors.New("consent: callback flow differs from the consent method")
)

// StateExpiredError reports an expired state. It wraps ErrStateExpired.
type StateExpiredError struct {
	ExpiredAt time.Time
	Now       time.Time
}

func (e *StateExpiredError) Error() string {
	return fmt.Sprintf("%v at %s (now %s); start consent again", ErrStateExpired, e.ExpiredAt.UTC().Format(time.RFC3339), e.Now.UTC().Format(time.RFC3339))
}

func (e *StateExpiredError) Unwrap() error { return ErrStateExpired }

// StateTenantMismatchError reports a callback for another tenant. It wraps ErrStateTenantMismatch.
type StateTenantMismatchError struct {
	// Want is the tenant consent was started for; Got the tenant of the callback or token.
	Want, Got string
}

func (e *StateTenantMismatchError) Error() string {
	return fmt.Sprintf("%v: started for tenant %s, callback is for tenant %s; the consenting account must sign in to the customer's tenant", ErrStateTenantMismatch, e.Want, e.Got)
}

func (e *StateTenantMismatchError) Unwrap() error { return ErrStateTenantMismatch }

// StateKey is an HMAC-SHA256 key for consent state. The embedder supplies it (from a secret store)
// and rotates it by giving the codec a new signing key while keeping the old one among the
// verification keys until the states it signed have expired.
type StateKey struct {
	// ID names the key inside each state: 1-32 characters of A-Z a-z 0-9 _ -.
	ID string
	// Secret is at least 32 random bytes. It never appears in errors.
	Secret []byte
}

// String identifies the key without its secret.
func (k StateKey) String() string { return fmt.Sprintf("StateKey(%s)", k.ID) }

// GoString identifies the key without its secret, for %#v.
func (k StateKey) GoString() string { return k.String() }

// LogValue implements slog.LogValuer with the key ID only.
func (k StateKey) LogValue() slog.Value { return slog.StringValue(k.String()) }

func (k StateKey) validate() error {
	if n := len(k.ID); n == 0 || n > 32 {
		return fmt.Errorf("%w: key ID must be 1-32 characters", ErrInvalidStateKey)
	}
	for _, r := range k.ID {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '_' || r == '-') {
			return fmt.Errorf("%w: key ID %q may contain only A-Z a-z 0-9 _ -", ErrInvalidStateKey, k.ID)
		}
	}
	if len(k.Secret) < 32 {
		return fmt.Errorf("%w: key %q has a %d-byte secret; use at least 32 random bytes", ErrInvalidStateKey, k.ID, len(k.Secret))
	}
	return nil
}

// State is what a signed consent state carries. The encoded state is signed, not encrypted: anyone
// who sees the consent URL can read these fields, so ProfileID must not be a secret.
type State struct {
	// ProfileID identifies the app profile consent is for.
	ProfileID string `json:"p"`
	// Tenant is the tenant ID (GUID, lower-case) consent was started for.
	Tenant string `json:"t"`
	// Method is the consent method.
	Method Method `json:"m"`
	// Nonce is 32 random bytes, base64url-encoded. The caller makes the state single-use by
	// consuming the nonce (see StateCodec.VerifyCallback).
	Nonce string `json:"n"`
	// ExpiresAt is when the state stops being accepted (whole seconds).
	ExpiresAt time.Time `json:"-"`
	// ConsenterID and ConsenterUPN optionally name the account the portal expects to consent (its
	// object ID and user principal name), for the consent record of an admin consent, whose
	// callback does not say who consented. They are claims of the portal, not proof: Entra ID does
	// not check them.
	ConsenterID  string `json:"u,omitempty"`
	ConsenterUPN string `json:"upn,omitempty"`
	// Scopes optionally records the scopes a user consent asked for, so the caller can request the
	// same scopes when it redeems the authorization code without storing anything. At most
	// 32 scopes of at most 256 bytes each, without white space.
	Scopes []string `json:"sc,omitempty"`
}

type stateWire struct {
	State
	ExpiresAtUnix int64 `json:"e"`
}

// CheckTenant returns a *StateTenantMismatchError when tenant (e.g. the tid of the token redeemed
// from a user-consent callback, which carries no tenant parameter) is not the state's tenant.
func (s State) CheckTenant(tenant string) error {
	got, ok := canonicalGUID(strings.TrimSpace(tenant))
	if !ok || got != s.Tenant {
		return &StateTenantMismatchError{Want: s.Tenant, Got: tenant}
	}
	return nil
}

const (
	stateVersion    = "v1"
	stateMACContext = "tenantapps/consent-state/v1\x00"
	// DefaultStateTTL is how long a state is accepted when no WithStateTTL is given.
	DefaultStateTTL = 15 * time.Minute
	maxProfileIDLen = 256
	maxStateScopes  = 32
)

// StateCodec issues and verifies signed consent state. Build it with NewStateCodec; it is immutable
// and safe for concurrent use.
type StateCodec struct {
	signing StateKey
	verify  []StateKey
	now     func() time.Time
	rand    io.Reader
	ttl     time.Duration
}

// StateOption configures a StateCodec.
type StateOption func(*StateCodec) error

// WithVerificationKeys adds keys that are accepted when verifying, besides the signing key (key
// rotation: keep the previous signing key here until its states expire).
func WithVerificationKeys(keys ...StateKey) StateOption {
	return func(c *StateCodec) error {
		for _, k := range keys {
			if err := k.validate(); err != nil {
				return err
			}
			c.verify = append(c.verify, StateKey{ID: k.ID, Secret: bytes.Clone(k.Secret)})
		}
		return nil
	}
}

// WithStateClock sets the clock (time.Now by default).
func WithStateClock(now func() time.Time) StateOption {
	return func(c *StateCodec) error {
		if now == nil {
			return errors.New("consent: WithStateClock(nil)")
		}
		c.now = now
		return nil
	}
}

// WithStateRand sets the source of nonces (crypto/rand.Reader by default).
func WithStateRand(r io.Reader) StateOption {
	return func(c *StateCodec) error {
		if r == nil {
			return errors.New("consent: WithStateRand(nil)")
		}
		c.rand = r
		return nil
	}
}

// WithStateTTL sets how long an issued state is accepted: between 1 minute and 24 hours
// (DefaultStateTTL otherwise).
func WithStateTTL(d time.Duration) StateOption {
	return func(c *StateCodec) error {
		if d < time.Minute || d > 24*time.Hour {
			return fmt.Errorf("consent: state TTL %s out of range [1m, 24h]", d)
		}
		c.ttl = d
		return nil
	}
}

// NewStateCodec returns a codec that signs with signing and verifies with signing and the keys of
// WithVerificationKeys. Key IDs must be unique. The codec copies the secrets.
func NewStateCodec(signing StateKey, opts ...StateOption) (*StateCodec, error) {
	if err := signing.validate(); err != nil {
		return nil, err
	}
	c := &StateCodec{
		signing: StateKey{ID: signing.ID, Secret: bytes.Clone(signing.Secret)},
		now:     time.Now,
		rand:    rand.Reader,
		ttl:     DefaultStateTTL,
	}
	c.verify = append(c.verify, c.signing)
	for _, o := range opts {
		if err := o(c); err != nil {
			return nil, err
		}
	}
	seen := map[string]bool{}
	for _, k := range c.verify {
		if seen[k.ID] {
			return nil, fmt.Errorf("%w: key ID %q is used twice", ErrInvalidStateKey, k.ID)
		}
		seen[k.ID] = true
	}
	return c, nil
}

// Issue signs a state for a consent that starts now. The caller sets ProfileID, Tenant, Method and
// optionally ConsenterID / ConsenterUPN; Issue sets a fresh Nonce and ExpiresAt = now + TTL
// (whatever the caller put there). Tenant must be a tenant ID (GUID): a callback reports the
// tenant ID, so a domain name could not be compared with it. It returns the encoded state for the
// consent URL and the State itself; nothing needs to be stored, the encoded state carries it all.
func (c *StateCodec) Issue(s State) (string, State, error) {
	nonce := make([]byte, 32)
	if _, err := io.ReadFull(c.rand, nonce); err != nil {
		return "", State{}, fmt.Errorf("consent: reading random nonce: %w", err)
	}
	s.Nonce = base64.RawURLEncoding.EncodeToString(nonce)
	s.ExpiresAt = c.now().Add(c.ttl).Truncate(time.Second)
	if t, ok := canonicalGUID(s.Tenant); ok {
		s.Tenant = t
	}
	enc, err := c.Seal(s)
	if err != nil {
		return "", State{}, err
	}
	return enc, s, nil
}

func (s State) validate() error {
	switch {
	case s.ProfileID == "" || len(s.ProfileID) > maxProfileIDLen || !utf8.ValidString(s.ProfileID):
		return fmt.Errorf("consent: state profile ID must be 1-%d bytes of UTF-8", maxProfileIDLen)
	case !s.Method.Valid():
		return fmt.Errorf("%w %q", ErrUnknownMethod, string(s.Method))
	case len(s.Nonce) < 22 || len(s.Nonce) > 128:
		return errors.New("consent: state nonce must be 22-128 characters (at least 16 random bytes)")
	case s.ExpiresAt.IsZero():
		return errors.New("consent: state has no expiry")
	case len(s.ConsenterID) > maxProfileIDLen || len(s.ConsenterUPN) > maxProfileIDLen || !utf8.ValidString(s.ConsenterID) || !utf8.ValidString(s.ConsenterUPN):
		return fmt.Errorf("consent: state consenter ID and UPN must be at most %d bytes of UTF-8", maxProfileIDLen)
	}
	if len(s.Scopes) > maxStateScopes {
		return fmt.Errorf("consent: state carries %d scopes, more than %d", len(s.Scopes), maxStateScopes)
	}
	for _, sc := range s.Scopes {
		if sc == "" || len(sc) > maxProfileIDLen || !utf8.ValidString(sc) || strings.ContainsAny(sc, " \t\r\n") {
			return fmt.Errorf("consent: state scopes must be 1-%d bytes of UTF-8 without white space", maxProfileIDLen)
		}
	}
	if t, ok := canonicalGUID(s.Tenant); !ok || t != s.Tenant {
		return fmt.Errorf("consent: state tenant %q must be a lower-case tenant ID (GUID)", s.Tenant)
	}
	return nil
}

// Seal signs a State with the signing key. Issue is the usual way; Seal is for callers that make
// their own nonce.
func (c *StateCodec) Seal(s State) (string, error) {
	if err := s.validate(); err != nil {
		return "", err
	}
	payload, err := json.Marshal(stateWire{State: s, ExpiresAtUnix: s.ExpiresAt.Unix()})
	if err != nil {
		return "", fmt.Errorf("consent: encoding state: %w", err)
	}
	body := stateVersion + "." + c.signing.ID + "." + base64.RawURLEncoding.EncodeToString(payload)
	return body + "." + base64.RawURLEncoding.EncodeToString(mac(c.signing.Secret, body)), nil
}

func mac(secret []byte, body string) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(stateMACContext))
	h.Write([]byte(body))
	return h.Sum(nil)
}

// Open verifies an encoded state and returns what it carries. Errors: ErrStateMalformed,
// ErrStateUnknownKey, ErrStateTampered, or a *StateExpiredError (wrapping ErrStateExpired; the
// State is returned with it). The signature is checked in constant time before the payload is
// decoded.
func (c *StateCodec) Open(encoded string) (State, error) {
	if len(encoded) > maxStateLen {
		return State{}, fmt.Errorf("%w: %d bytes", ErrStateMalformed, len(encoded))
	}
	parts := strings.Split(encoded, ".")
	if len(parts) != 4 || parts[0] != stateVersion {
		return State{}, fmt.Errorf("%w: not a %s state; start consent again", ErrStateMalformed, stateVersion)
	}
	var key *StateKey
	for i := range c.verify {
		if c.verify[i].ID == parts[1] {
			key = &c.verify[i]
			break
		}
	}
	if key == nil {
		kid := parts[1]
		if len(kid) > 32 || !utf8.ValidString(kid) {
			kid = kid[:min(len(kid), 32)] + "…"
		}
		return State{}, fmt.Errorf("%w %q; if keys were rotated, keep the previous key among the verification keys until its states expire, otherwise start consent again", ErrStateUnknownKey, kid)
	}
	tampered := fmt.Errorf("%w; do not act on this callback, start consent again", ErrStateTampered)
	// Compare the canonical encoding of the signature: the base64 decoder skips CR and LF and
	// ignores the unused bits of the last character, which would make one state acceptable in
	// several spellings.
	body := encoded[:len(encoded)-len(parts[3])-1]
	if !hmac.Equal([]byte(parts[3]), []byte(base64.RawURLEncoding.EncodeToString(mac(key.Secret, body)))) {
		return State{}, tampered
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return State{}, fmt.Errorf("%w: payload encoding", ErrStateMalformed)
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	var w stateWire
	if err := dec.Decode(&w); err != nil {
		return State{}, fmt.Errorf("%w: payload", ErrStateMalformed)
	}
	s := w.State
	s.ExpiresAt = time.Unix(w.ExpiresAtUnix, 0).UTC()
	if err := s.validate(); err != nil {
		return State{}, fmt.Errorf("%w: %v", ErrStateMalformed, err)
	}
	if now := c.now(); !now.Before(s.ExpiresAt) {
		return s, &StateExpiredError{ExpiredAt: s.ExpiresAt, Now: now}
	}
	return s, nil
}

// VerifyCallback opens the callback's state and checks it against the callback: the tenant of an
// admin-consent callback must be the state's tenant (*StateTenantMismatchError otherwise) and the
// flow must match the state's method (ErrStateFlowMismatch). A user-consent callback has no tenant
// parameter; after redeeming its code, check the token's tenant with State.CheckTenant.
//
// On ErrStateExpired, ErrStateTenantMismatch and ErrStateFlowMismatch the State is returned with
// the error, so the caller can still consume its nonce and record the failed attempt. An error
// callback without state returns its *AADSTSError (nothing to verify or consume).
//
// Single use: VerifyCallback cannot know whether a state was used before. The caller must consume
// the nonce atomically before acting on the callback, keeping it at least until the state's expiry,
// and reject the callback when the nonce was already consumed — with the store of this module:
//
//	st, err := codec.VerifyCallback(cb)
//	if err != nil { return err }
//	if err := store.ConsumeNonce(ctx, st.Nonce, st.ExpiresAt); err != nil {
//		return err // replayed callback: the nonce was already used
//	}
//
// A state whose nonce is consumed and whose expiry has passed is rejected by Open anyway, so the
// record of consumed nonces can be pruned after expiry.
func (c *StateCodec) VerifyCallback(cb Callback) (State, error) {
	if cb.State == "" {
		if cb.Error != "" || cb.ErrorDescription != "" {
			// A stateless error callback (entra-docs docs/identity-platform/v2-admin-consent.md
			// shows one) is the declined or failed consent it reports, not a forged state.
			return State{}, cb.aadstsError()
		}
		return State{}, fmt.Errorf("%w: the callback has no state", ErrStateMalformed)
	}
	s, err := c.Open(cb.State)
	if err != nil {
		return s, err
	}
	switch {
	case cb.Flow == AdminConsentFlow && s.Method != AdminConsent,
		cb.Flow == AuthorizationCodeFlow && s.Method != UserConsent:
		return s, fmt.Errorf("%w: %s callback for a %s state", ErrStateFlowMismatch, cb.Flow, s.Method)
	}
	if cb.Tenant != "" {
		if err := s.CheckTenant(cb.Tenant); err != nil {
			return s, err
		}
	}
	return s, nil
}
