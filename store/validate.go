package store

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Limits every store enforces, so a record valid for one store is valid for all of them.
const (
	MaxIDLen       = 256      // bytes in Record.ID
	MaxFieldLen    = 1024     // bytes in each other text field, including each service and UniqueKey
	MaxServices    = 256      // elements in Record.Services
	MaxPayloadSize = 16 << 20 // bytes in Record.Payload (16 MiB)
	MaxNonceLen    = 512      // bytes in a nonce
	DefaultLimit   = 100      // Page.Limit when zero
	MaxLimit       = 1000     // Page.Limit ceiling
)

// Validate reports whether r may be stored: a [*ValidationError] naming the first offending
// field, or nil. Version and timestamps are not checked (Create ignores them; Update checks the
// version itself). The error never contains the payload.
func (r *Record) Validate() error {
	if err := ValidateID(r.ID); err != nil {
		return err
	}
	for _, f := range []struct{ name, value string }{
		{"Customer", r.Customer}, {"Tenant", r.Tenant}, {"AppType", r.AppType},
		{"Mode", r.Mode}, {"Status", r.Status}, {"UniqueKey", r.UniqueKey},
	} {
		if err := validateText(f.name, f.value, MaxFieldLen); err != nil {
			return err
		}
	}
	if len(r.Services) > MaxServices {
		return &ValidationError{Field: "Services", Problem: fmt.Sprintf("%d elements; at most %d are allowed", len(r.Services), MaxServices)}
	}
	seen := make(map[string]struct{}, len(r.Services))
	for i, s := range r.Services {
		name := fmt.Sprintf("Services[%d]", i)
		if s == "" {
			return &ValidationError{Field: name, Problem: "empty; leave empty services out"}
		}
		if err := validateText(name, s, MaxFieldLen); err != nil {
			return err
		}
		if _, dup := seen[s]; dup {
			return &ValidationError{Field: name, Problem: fmt.Sprintf("duplicate service %q; list each service once", s)}
		}
		seen[s] = struct{}{}
	}
	if len(r.Payload) > MaxPayloadSize {
		return &ValidationError{Field: "Payload", Problem: fmt.Sprintf("%d bytes; at most %d are allowed", len(r.Payload), MaxPayloadSize)}
	}
	return nil
}

// ValidateID reports whether id is a usable record ID: 1 to [MaxIDLen] bytes of valid UTF-8
// without control characters.
func ValidateID(id string) error {
	if id == "" {
		return &ValidationError{Field: "ID", Problem: "empty; the caller assigns every record an ID"}
	}
	if err := validateText("ID", id, MaxIDLen); err != nil {
		return err
	}
	if i := strings.IndexFunc(id, func(r rune) bool { return r < 0x20 || r == 0x7f }); i >= 0 {
		return &ValidationError{Field: "ID", Problem: fmt.Sprintf("control character at byte %d; IDs are printable text", i)}
	}
	return nil
}

// ValidateVersion reports whether v is a version a caller can have read (at least 1).
func ValidateVersion(v int64) error {
	if v < 1 {
		return &ValidationError{Field: "Version", Problem: fmt.Sprintf("%d; pass the version of the record you read (versions start at 1)", v)}
	}
	return nil
}

// ValidateNonce reports whether nonce is acceptable to [NonceStore.ConsumeNonce]. The error
// never contains the nonce.
func ValidateNonce(nonce string) error {
	if nonce == "" {
		return &ValidationError{Field: "nonce", Problem: "empty"}
	}
	if len(nonce) > MaxNonceLen {
		return &ValidationError{Field: "nonce", Problem: fmt.Sprintf("%d bytes; at most %d are allowed", len(nonce), MaxNonceLen)}
	}
	if !utf8.ValidString(nonce) || strings.IndexByte(nonce, 0) >= 0 {
		return &ValidationError{Field: "nonce", Problem: "not valid UTF-8 text without NUL bytes"}
	}
	return nil
}

// Validate reports whether f can be used as a filter (text fields within limits, valid UTF-8).
func (f Filter) Validate() error {
	for _, fl := range []struct{ name, value string }{
		{"Filter.Customer", f.Customer}, {"Filter.Tenant", f.Tenant}, {"Filter.Service", f.Service},
		{"Filter.AppType", f.AppType}, {"Filter.Mode", f.Mode}, {"Filter.Status", f.Status},
	} {
		if err := validateText(fl.name, fl.value, MaxFieldLen); err != nil {
			return err
		}
	}
	return nil
}

// Normalize checks f and p and returns the effective limit and the ID after which the page
// starts ("" for the first page). Store implementations call it at the start of List.
func (p Page) Normalize(f Filter) (limit int, afterID string, err error) {
	if err := f.Validate(); err != nil {
		return 0, "", err
	}
	switch {
	case p.Limit < 0:
		return 0, "", &ValidationError{Field: "Page.Limit", Problem: fmt.Sprintf("%d; use 0 for the default or a positive number", p.Limit)}
	case p.Limit == 0:
		limit = DefaultLimit
	case p.Limit > MaxLimit:
		limit = MaxLimit
	default:
		limit = p.Limit
	}
	if p.Cursor == "" {
		return limit, "", nil
	}
	afterID, err = DecodeCursor(f, p.Cursor)
	if err != nil {
		return 0, "", err
	}
	return limit, afterID, nil
}

func validateText(field, s string, max int) error {
	if len(s) > max {
		return &ValidationError{Field: field, Problem: fmt.Sprintf("%d bytes; at most %d are allowed", len(s), max)}
	}
	if !utf8.ValidString(s) {
		return &ValidationError{Field: field, Problem: "not valid UTF-8"}
	}
	if strings.IndexByte(s, 0) >= 0 {
		return &ValidationError{Field: field, Problem: "contains a NUL byte"}
	}
	return nil
}
