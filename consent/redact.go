package consent

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
)

// Every type of this package that holds a secret (a key, an authorization code, a PKCE verifier,
// a token cache, a private key) prints through its String method for every fmt verb — %v, %+v,
// %#v, %s, %q, %x, %d... — because fmt otherwise prints a struct's fields for verbs that do not
// consult String (%d of a StateKey would print its secret bytes). LogValue does the same for
// log/slog, whose JSON handler would otherwise marshal the exported fields.

// Format writes the key ID only, whatever the verb.
func (k StateKey) Format(f fmt.State, _ rune) { io.WriteString(f, k.String()) }

// Format writes the redacted verifier, whatever the verb.
func (v PKCEVerifier) Format(f fmt.State, _ rune) { io.WriteString(f, v.String()) }

// Format writes String (no authorization code), whatever the verb.
func (c Callback) Format(f fmt.State, _ rune) { io.WriteString(f, c.String()) }

// Format writes String (no code, no verifier), whatever the verb.
func (r CodeRedemption) Format(f fmt.State, _ rune) { io.WriteString(f, r.String()) }

// Format writes String (no token cache), whatever the verb.
func (r Redeemed) Format(f fmt.State, _ rune) { io.WriteString(f, r.String()) }

// Format writes String (no token cache), whatever the verb.
func (r DelegatedRefresh) Format(f fmt.State, _ rune) { io.WriteString(f, r.String()) }

// Format writes String (no token cache), whatever the verb.
func (p DelegatedProof) Format(f fmt.State, _ rune) { io.WriteString(f, p.String()) }

// Format writes String (no private key), whatever the verb.
func (c CertificateCredential) Format(f fmt.State, _ rune) { io.WriteString(f, c.String()) }

// MarshalJSON writes String as a JSON string: a credential marshalled as part of a larger value
// (a driver configuration handed to a JSON logger) must not spell out its private key, which
// encoding/json would otherwise do for an *rsa.PrivateKey.
func (c CertificateCredential) MarshalJSON() ([]byte, error) { return json.Marshal(c.String()) }

// String names the codec's key IDs and TTL, never a secret.
func (c *StateCodec) String() string {
	if c == nil {
		return "<nil consent.StateCodec>"
	}
	ids := make([]string, 0, len(c.verify))
	for _, k := range c.verify {
		ids = append(ids, k.ID)
	}
	return fmt.Sprintf("consent.StateCodec{signs with %q, verifies %q, ttl %s}", c.signing.ID, ids, c.ttl)
}

// GoString is String.
func (c *StateCodec) GoString() string { return c.String() }

// Format writes String, whatever the verb.
func (c *StateCodec) Format(f fmt.State, _ rune) { io.WriteString(f, c.String()) }

// LogValue implements slog.LogValuer with String.
func (c *StateCodec) LogValue() slog.Value { return slog.StringValue(c.String()) }
