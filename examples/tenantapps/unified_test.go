package main

import (
	"sort"
	"strings"
	"testing"
)

// TestEveryCommandIsUnified checks the conventions every subcommand shares: --help prints its
// usage on stderr and exits 0; --format yaml is a usage error (exit 2) that says so on stderr and
// prints nothing on stdout; an unknown flag is a usage error.
func TestEveryCommandIsUnified(t *testing.T) {
	// Subcommands that group others are checked through one of theirs.
	invocations := map[string][]string{
		"cert":     {"cert", "inspect"},
		"profiles": {"profiles", "list"},
	}
	var names []string
	for name := range commands() {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		base := invocations[name]
		if base == nil {
			base = []string{name}
		}
		t.Run(name, func(t *testing.T) {
			for _, tc := range []struct {
				args    []string
				code    int
				wantErr string
			}{
				{append(append([]string{}, base...), "--help"), exitOK, "usage"},
				{append(append([]string{}, base...), "--format", "yaml"), exitUsage, ""},
				{append(append([]string{}, base...), "--no-such-flag"), exitUsage, "no-such-flag"},
			} {
				code, stdout, stderr := runCLI(t, tc.args...)
				if code != tc.code {
					t.Errorf("%q: exit %d, want %d (stderr %q)", tc.args, code, tc.code, stderr)
				}
				if stderr == "" || !strings.Contains(strings.ToLower(stderr), tc.wantErr) {
					t.Errorf("%q: stderr %q, want it to mention %q", tc.args, stderr, tc.wantErr)
				}
				if tc.code != exitOK && stdout != "" {
					t.Errorf("%q: a usage error printed to stdout: %q", tc.args, stdout)
				}
			}
		})
	}
}
