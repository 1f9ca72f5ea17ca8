package main

import (
	"bytes"
	"encoding/base64"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// TestHelpListsEveryEnvVar runs each command with an environment that records what it reads and
// checks that its --help names every variable read. profiles verify reads the Graph driver's
// variables only once the store is open, so they are checked against envconfig's full list.
func TestHelpListsEveryEnvVar(t *testing.T) {
	db := filepath.Join(t.TempDir(), "none.db")
	key := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32))
	tests := []struct {
		cmd, args []string
		extra     []string // read on paths this run does not take
	}{
		{cmd: []string{"catalog"}},
		{cmd: []string{"consent-methods"}, args: []string{"--app-type", "Cloud Backup Express"}},
		{cmd: []string{"consent-check"}, args: []string{"--app-type", "Cloud Backup Express"}},
		{cmd: []string{"consent-url"}, args: []string{"--tenant", cliTenant, "--client-id", cliClient, "--redirect-uri", cliRedirect}},
		{cmd: []string{"profiles", "list"}},
		{cmd: []string{"profiles", "show"}, args: []string{"x"}},
		{cmd: []string{"profiles", "verify"}, args: []string{"--db", db}, extra: []string{envReaderAppID, envReaderPFX, envReaderPassword, envAuthorityHost, envGraphURL, envGraphScope, envExtraRootCAFile, envStoreDSN}},
	}
	for _, tt := range tests {
		var mu sync.Mutex
		read := slices.Clone(tt.extra)
		var stdout, stderr bytes.Buffer
		env := &cliEnv{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, getenv: func(k string) string {
			mu.Lock()
			defer mu.Unlock()
			read = append(read, k)
			if k == envStateKey {
				return key
			}
			return ""
		}}
		run(env, append(slices.Clone(tt.cmd), tt.args...))
		_, _, help := runCLI(t, append(slices.Clone(tt.cmd), "--help")...)
		for _, v := range read {
			if !strings.Contains(help, "$"+v) {
				t.Errorf("%v reads $%s but its --help does not name it:\n%s", tt.cmd, v, help)
			}
		}
	}
}
