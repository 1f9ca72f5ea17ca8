package demo

import (
	"fmt"
	"io"
	"log/slog"
)

// String describes the custom app without its .pfx or password.
func (c CustomApp) String() string {
	return fmt.Sprintf("custom app %s (.pfx %d bytes, password hidden, certificate valid until %s)", c.AppID, len(c.PFX), c.NotAfter.UTC().Format("2006-01-02"))
}

// GoString is String.
func (c CustomApp) GoString() string { return c.String() }

// Format writes String, whatever the verb.
func (c CustomApp) Format(f fmt.State, _ rune) { io.WriteString(f, c.String()) }

// LogValue implements slog.LogValuer without the secrets.
func (c CustomApp) LogValue() slog.Value { return slog.StringValue(c.String()) }
