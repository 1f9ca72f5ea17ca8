package certs

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
)

// Types of this package that hold a private key, a .pfx or a password print a fixed
// description for every fmt verb and for log/slog (fmt prints a struct's fields for verbs that do
// not consult String, and slog's JSON handler marshals exported fields).

// (*Bundle has a field named Format, so it cannot have a Format method; its private keys are
// interfaces holding pointers, which fmt prints as addresses for every verb, and they are
// excluded from JSON.)

// String describes the generated files by size and the certificate, never the .pfx bytes.
func (g *Generated) String() string {
	if g == nil {
		return "<nil certs.Generated>"
	}
	return fmt.Sprintf("certs.Generated{PFX: %d bytes (redacted), CER: %d bytes, CRT: %d bytes, Bundle: %s}", len(g.PFX), len(g.CER), len(g.CRT), g.Bundle)
}

// GoString is String.
func (g *Generated) GoString() string { return g.String() }

// Format writes String, whatever the verb.
func (g *Generated) Format(f fmt.State, _ rune) { io.WriteString(f, g.String()) }

// LogValue implements slog.LogValuer without the .pfx.
func (g *Generated) LogValue() slog.Value { return slog.StringValue(g.String()) }

// String describes the options without the password.
func (o SelfSignedOptions) String() string {
	return fmt.Sprintf("certs.SelfSignedOptions{CommonName: %q, Password: [redacted], KeyBits: %d, Validity: %s, Iterations: %d}", o.CommonName, o.KeyBits, o.Validity, o.Iterations)
}

// GoString is String.
func (o SelfSignedOptions) GoString() string { return o.String() }

// Format writes String, whatever the verb.
func (o SelfSignedOptions) Format(f fmt.State, _ rune) { io.WriteString(f, o.String()) }

// LogValue implements slog.LogValuer without the password.
func (o SelfSignedOptions) LogValue() slog.Value { return slog.StringValue(o.String()) }

// MarshalJSON writes String as a JSON string, so that the password is never marshalled.
func (o SelfSignedOptions) MarshalJSON() ([]byte, error) { return json.Marshal(o.String()) }
