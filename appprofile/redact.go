package appprofile

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sort"
)

// The types of this package that hold or reach a secret — the Manager (its consent-state key,
// which can forge consent states and derive PKCE verifiers, and its sealer), the AES-GCM sealer
// (its keys) and CustomAppInput (a .pfx and its password) — print a fixed description for every
// fmt verb and for log/slog; see TestSecretsNeverFormat.

// String describes the Manager by its parts' types and whether it has a sealer and a state key,
// never their contents.
func (m *Manager) String() string {
	if m == nil {
		return "<nil appprofile.Manager>"
	}
	return fmt.Sprintf("appprofile.Manager{store: %T, driver: %T, sealer: %s, state key: %s, catalog: %s}",
		m.store, m.driver, describeSealer(m.o.sealer), m.codec, catalogVersion(m.o.catalog))
}

// GoString is String.
func (m *Manager) GoString() string { return m.String() }

// Format writes String, whatever the verb.
func (m *Manager) Format(f fmt.State, _ rune) { io.WriteString(f, m.String()) }

// LogValue implements slog.LogValuer with String.
func (m *Manager) LogValue() slog.Value { return slog.StringValue(m.String()) }

func describeSealer(s Sealer) string {
	switch s := s.(type) {
	case nil:
		return "none"
	case fmt.Stringer:
		return s.String()
	default:
		return fmt.Sprintf("%T", s)
	}
}

func catalogVersion(c Catalog) string {
	if c == nil {
		return "none"
	}
	return c.Version()
}

// String names the sealer's key IDs and the current one, never a key.
func (s *AESGCMSealer) String() string {
	if s == nil {
		return "<nil appprofile.AESGCMSealer>"
	}
	ids := make([]string, 0, len(s.aeads))
	for id := range s.aeads {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return fmt.Sprintf("appprofile.AESGCMSealer{current key %q, keys %q}", s.current, ids)
}

// GoString is String.
func (s *AESGCMSealer) GoString() string { return s.String() }

// Format writes String, whatever the verb.
func (s *AESGCMSealer) Format(f fmt.State, _ rune) { io.WriteString(f, s.String()) }

// LogValue implements slog.LogValuer with String.
func (s *AESGCMSealer) LogValue() slog.Value { return slog.StringValue(s.String()) }

// Format writes String (no .pfx, no password), whatever the verb.
func (c CustomAppInput) Format(f fmt.State, _ rune) { io.WriteString(f, c.String()) }

// LogValue implements slog.LogValuer without the .pfx or the password (a JSON handler would
// otherwise marshal both).
func (c CustomAppInput) LogValue() slog.Value { return slog.StringValue(c.String()) }

// MarshalJSON writes String as a JSON string: a CreateRequest or ReauthorizeRequest logged or
// marshalled as a whole must not carry the .pfx or its password.
func (c CustomAppInput) MarshalJSON() ([]byte, error) { return json.Marshal(c.String()) }
