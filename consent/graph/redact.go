package graph

import (
	"fmt"
	"io"
	"log/slog"
)

// String describes the configuration without the reader's private key.
func (c Config) String() string {
	return fmt.Sprintf("graph.Config{ReaderAppID: %s, ReaderCredential: %s, AuthorityHost: %s, GraphURL: %s}", c.ReaderAppID, c.ReaderCredential, c.AuthorityHost, c.GraphURL)
}

// GoString is String.
func (c Config) GoString() string { return c.String() }

// Format writes String, whatever the verb.
func (c Config) Format(f fmt.State, _ rune) { io.WriteString(f, c.String()) }

// LogValue implements slog.LogValuer without the reader's private key.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

// String describes the driver by its configuration, never a key or a token.
func (d *Driver) String() string {
	if d == nil {
		return "<nil graph.Driver>"
	}
	return "graph.Driver{" + d.cfg.String() + "}"
}

// GoString is String.
func (d *Driver) GoString() string { return d.String() }

// Format writes String, whatever the verb.
func (d *Driver) Format(f fmt.State, _ rune) { io.WriteString(f, d.String()) }

// LogValue implements slog.LogValuer with String.
func (d *Driver) LogValue() slog.Value { return slog.StringValue(d.String()) }
